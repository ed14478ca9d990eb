/* dict.c: chained hash table with incremental rehashing (see dict.h).
 *
 * Two tables exist only while a resize is in progress: lookups check both,
 * inserts go to the new one, and every operation moves one bucket across
 * (Redis's _dictRehashStep), so a resize of a million keys is spread over
 * many commands instead of stalling one. The table grows when it holds as
 * many nodes as buckets and shrinks (from the cron) below 1/8 full.
 *
 * Scan uses Redis's reverse-binary cursor: the cursor's bits are incremented
 * from the most significant end, so when the table doubles or halves, the
 * buckets already visited map to buckets that stay "behind" the cursor and
 * nothing present for the whole walk is missed. */
#include "ember/dict.h"

#include "ember/mem.h"

#define DICT_INITIAL_SIZE 4
#define DICT_EMPTY_VISITS 10

static bool node_key_eq(const struct dict_node *n, const char *key, size_t len)
{
    struct slice k = dict_node_key(n);
    return k.len == len && memcmp(k.ptr, key, len) == 0;
}

static uint64_t node_hash(const struct dict_node *n)
{
    struct slice k = dict_node_key(n);
    return dict_hash(k.ptr, k.len);
}

static void table_reset(struct dict_table *t)
{
    t->buckets = NULL;
    t->marks = NULL;
    t->size = 0;
    t->used = 0;
}

static void table_alloc(const struct dict *d, struct dict_table *t, size_t size)
{
    t->buckets = em_calloc(size, sizeof(*t->buckets));
    t->marks = NULL;
    if (d->type->is_marked != NULL) t->marks = em_calloc((size + 63) / 64, sizeof(uint64_t));
    t->size = size;
    t->used = 0;
}

static void table_release(struct dict_table *t)
{
    em_free(t->buckets);
    em_free(t->marks);
    table_reset(t);
}

static inline void mark_set(struct dict_table *t, size_t idx)
{
    if (t->marks != NULL) t->marks[idx >> 6] |= 1ULL << (idx & 63);
}

void dict_init(struct dict *d, const struct dict_type *type)
{
    d->type = type;
    table_reset(&d->t[0]);
    table_reset(&d->t[1]);
    d->rehash_idx = -1;
    d->pause_rehash = 0;
    d->resize_allowed = true;
}

void dict_deinit(struct dict *d, void *ctx)
{
    for (int t = 0; t < 2; t++) {
        struct dict_table *tab = &d->t[t];
        for (size_t i = 0; i < tab->size && tab->used > 0; i++) {
            struct dict_node *n = tab->buckets[i];
            while (n != NULL) {
                struct dict_node *next = n->next;
                if (d->type->destroy != NULL) d->type->destroy(n, ctx);
                tab->used--;
                n = next;
            }
        }
        table_release(tab);
    }
    d->rehash_idx = -1;
}

void dict_clear(struct dict *d, void *ctx)
{
    const struct dict_type *type = d->type;
    dict_deinit(d, ctx);
    dict_init(d, type);
}

/* ---- Resizing ---- */

static size_t next_power(size_t n)
{
    size_t s = DICT_INITIAL_SIZE;
    while (s < n)
        s <<= 1;
    return s;
}

static void resize_to(struct dict *d, size_t size)
{
    if (dict_is_rehashing(d)) return;
    size = next_power(size);
    if (size == d->t[0].size) return;
    if (d->t[0].size == 0) {
        table_alloc(d, &d->t[0], size);
        return;
    }
    table_alloc(d, &d->t[1], size);
    d->rehash_idx = 0;
}

static void move_bucket(struct dict *d, size_t idx)
{
    struct dict_table *from = &d->t[0], *to = &d->t[1];
    struct dict_node *n = from->buckets[idx];
    size_t mask = to->size - 1;
    while (n != NULL) {
        struct dict_node *next = n->next;
        size_t dst = node_hash(n) & mask;
        n->next = to->buckets[dst];
        to->buckets[dst] = n;
        if (d->type->is_marked != NULL && d->type->is_marked(n)) mark_set(to, dst);
        from->used--;
        to->used++;
        n = next;
    }
    from->buckets[idx] = NULL;
}

bool dict_rehash(struct dict *d, int n)
{
    if (!dict_is_rehashing(d)) return false;
    int empty_visits = n * DICT_EMPTY_VISITS;
    struct dict_table *from = &d->t[0];
    while (n-- > 0 && from->used != 0) {
        while (from->buckets[d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty_visits == 0) return true;
        }
        move_bucket(d, (size_t)d->rehash_idx);
        d->rehash_idx++;
    }
    if (from->used == 0) {
        table_release(&d->t[0]);
        d->t[0] = d->t[1];
        table_reset(&d->t[1]);
        d->rehash_idx = -1;
        return false;
    }
    return true;
}

void dict_rehash_us(struct dict *d, long long us)
{
    long long start = clock_mono_us();
    while (dict_rehash(d, 100)) {
        if (clock_mono_us() - start > us) break;
    }
}

static inline void rehash_step(struct dict *d)
{
    if (d->pause_rehash == 0 && dict_is_rehashing(d)) dict_rehash(d, 1);
}

void dict_expand(struct dict *d, size_t n)
{
    if (!dict_is_rehashing(d) && n > d->t[0].size) resize_to(d, n);
}

void dict_maybe_shrink(struct dict *d)
{
    if (!d->resize_allowed || dict_is_rehashing(d)) return;
    size_t size = d->t[0].size, used = d->t[0].used;
    if (size > DICT_INITIAL_SIZE && used * 8 < size) resize_to(d, used < 4 ? 4 : used);
}

/* ---- Lookup, insert, delete ---- */

struct dict_node *dict_find(struct dict *d, uint64_t h, const char *key, size_t len,
                            struct dict_pos *pos)
{
    if (dict_size(d) == 0) return NULL;
    rehash_step(d);
    for (int t = 0; t < 2; t++) {
        struct dict_table *tab = &d->t[t];
        if (tab->size == 0) break;
        struct dict_node **ref = &tab->buckets[h & (tab->size - 1)];
        for (struct dict_node *n = *ref; n != NULL; ref = &n->next, n = n->next) {
            if (node_key_eq(n, key, len)) {
                if (pos != NULL) {
                    pos->ref = ref;
                    pos->table = t;
                }
                return n;
            }
        }
        if (!dict_is_rehashing(d)) break;
    }
    return NULL;
}

void dict_insert(struct dict *d, uint64_t h, struct dict_node *n)
{
    rehash_step(d);
    if (!dict_is_rehashing(d)) {
        if (d->t[0].size == 0) {
            resize_to(d, DICT_INITIAL_SIZE);
        } else if (d->t[0].used >= d->t[0].size &&
                   (d->resize_allowed || d->t[0].used >= d->t[0].size * 4)) {
            resize_to(d, d->t[0].used * 2);
        }
    }
    struct dict_table *tab = dict_is_rehashing(d) ? &d->t[1] : &d->t[0];
    size_t idx = h & (tab->size - 1);
    n->next = tab->buckets[idx];
    tab->buckets[idx] = n;
    tab->used++;
    if (d->type->is_marked != NULL && d->type->is_marked(n)) mark_set(tab, idx);
}

struct dict_node *dict_unlink(struct dict *d, const struct dict_pos *pos)
{
    struct dict_node *n = *pos->ref;
    *pos->ref = n->next;
    n->next = NULL;
    d->t[pos->table].used--;
    return n;
}

void dict_replace(struct dict *d, const struct dict_pos *pos, struct dict_node *n)
{
    struct dict_node *old = *pos->ref;
    if (old != n) {
        n->next = old->next;
        *pos->ref = n;
    }
    if (d->type->is_marked != NULL && d->type->is_marked(n)) {
        struct dict_table *tab = &d->t[pos->table];
        mark_set(tab, node_hash(n) & (tab->size - 1));
    }
}

void dict_mark(struct dict *d, uint64_t h, const struct dict_node *n)
{
    (void)n;
    /* A key lives in the new table once its bucket has moved; marking the
     * bucket in both is harmless (marks are hints, cleared when stale). */
    for (int t = 0; t < 2; t++) {
        struct dict_table *tab = &d->t[t];
        if (tab->size != 0) mark_set(tab, h & (tab->size - 1));
    }
}

/* ---- Scan ---- */

static unsigned long long reverse_bits(unsigned long long v)
{
    unsigned long long r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (v & 1);
        v >>= 1;
    }
    return r;
}

static void scan_bucket(struct dict_table *t, size_t idx, dict_scan_fn *fn, void *arg)
{
    struct dict_node *n = t->buckets[idx];
    while (n != NULL) {
        struct dict_node *next = n->next;
        fn(n, arg);
        n = next;
    }
}

unsigned long long dict_scan(struct dict *d, unsigned long long v, dict_scan_fn *fn, void *arg)
{
    if (dict_size(d) == 0) return 0;
    d->pause_rehash++;
    struct dict_table *small = &d->t[0], *big = &d->t[1];
    unsigned long long m0;
    if (!dict_is_rehashing(d)) {
        m0 = small->size - 1;
        scan_bucket(small, v & m0, fn, arg);
    } else {
        if (small->size > big->size) {
            struct dict_table *tmp = small;
            small = big;
            big = tmp;
        }
        m0 = small->size - 1;
        unsigned long long m1 = big->size - 1;
        scan_bucket(small, v & m0, fn, arg);
        /* Every bucket of the bigger table that expands the small one's. */
        unsigned long long u = v & m0;
        do {
            scan_bucket(big, u & m1, fn, arg);
            u |= ~m1;
            u = reverse_bits(u);
            u++;
            u = reverse_bits(u);
        } while (u & (m0 ^ m1));
    }
    d->pause_rehash--;
    /* Increment the reversed cursor over the small mask's bits only. */
    v |= ~m0;
    v = reverse_bits(v);
    v++;
    v = reverse_bits(v);
    return v;
}

/* ---- Random and marked walks ---- */

struct dict_node *dict_random(struct dict *d, struct rng *r)
{
    if (dict_size(d) == 0) return NULL;
    rehash_step(d);
    struct dict_node *head = NULL;
    if (dict_is_rehashing(d)) {
        /* Buckets below rehash_idx in t[0] are empty. */
        size_t span = d->t[0].size + d->t[1].size - (size_t)d->rehash_idx;
        do {
            size_t i = (size_t)d->rehash_idx + rng_below(r, span);
            head = i >= d->t[0].size ? d->t[1].buckets[i - d->t[0].size] : d->t[0].buckets[i];
        } while (head == NULL);
    } else {
        do {
            head = d->t[0].buckets[rng_below(r, d->t[0].size)];
        } while (head == NULL);
    }
    /* head is not NULL: the loops above stop only at a non-empty bucket
     * (clang-analyzer cannot see that dict_size() > 0 guarantees one). */
    // NOLINTBEGIN(clang-analyzer-core.NullDereference)
    size_t len = 0;
    for (struct dict_node *n = head; n != NULL; n = n->next)
        len++;
    size_t pick = rng_below(r, len);
    while (pick--)
        head = head->next;
    // NOLINTEND(clang-analyzer-core.NullDereference)
    return head;
}

/* Calls fn on the marked nodes of one bucket and clears the bucket's mark
 * if none remains. Returns how many marked nodes it met. */
static int visit_marked_bucket(struct dict *d, int t, size_t idx, dict_marked_fn *fn, void *arg)
{
    struct dict_table *tab = &d->t[t];
    int found = 0;
    struct dict_pos pos = {&tab->buckets[idx], t};
    while (*pos.ref != NULL) {
        struct dict_node *n = *pos.ref;
        if (d->type->is_marked(n)) {
            found++;
            fn(d, n, &pos, arg);
            if (*pos.ref == n) pos.ref = &n->next; /* fn kept it */
        } else {
            pos.ref = &n->next;
        }
    }
    bool still = false;
    for (struct dict_node *n = tab->buckets[idx]; n != NULL && !still; n = n->next) {
        still = d->type->is_marked(n);
    }
    if (!still) tab->marks[idx >> 6] &= ~(1ULL << (idx & 63));
    return found;
}

/* The walk runs over a virtual sequence of buckets: the old table's (from
 * rehash_idx on, the part not moved yet) followed by the new table's while
 * rehashing, else the one table's. Marks are skipped 64 at a time. */
int dict_next_marked(struct dict *d, size_t *cursor, dict_marked_fn *fn, void *arg)
{
    if (d->type->is_marked == NULL) return -1;
    bool rehashing = dict_is_rehashing(d);
    size_t size0 = d->t[0].size;
    size_t total = size0 + (rehashing ? d->t[1].size : 0);
    if (total == 0) return -1;
    size_t v = *cursor % total;
    for (size_t visited = 0; visited < total;) {
        int t = v < size0 ? 0 : 1;
        size_t idx = t == 0 ? v : v - size0;
        struct dict_table *tab = &d->t[t];
        if (t == 0 && rehashing && idx < (size_t)d->rehash_idx) {
            size_t skip = (size_t)d->rehash_idx - idx; /* moved already: empty */
            visited += skip;
            v += skip;
            continue;
        }
        uint64_t bits = tab->marks[idx >> 6] & (~0ULL << (idx & 63));
        size_t word_end = (idx | 63) + 1;
        if (word_end > tab->size) word_end = tab->size;
        if (bits == 0 || (idx & ~(size_t)63) + (size_t)__builtin_ctzll(bits) >= word_end) {
            size_t step = word_end - idx;
            visited += step;
            v += step;
            if (v >= total) v = 0;
            continue;
        }
        size_t hit = (idx & ~(size_t)63) + (size_t)__builtin_ctzll(bits);
        visited += hit - idx + 1;
        v += hit - idx + 1;
        if (v >= total) v = 0;
        int found = visit_marked_bucket(d, t, hit, fn, arg);
        if (found > 0) {
            *cursor = v;
            return found;
        }
    }
    *cursor = v;
    return -1;
}

/* ---- Iteration ---- */

void dict_iter_init(struct dict_iter *it, struct dict *d)
{
    it->d = d;
    it->table = 0;
    it->index = 0;
    it->next = NULL;
    d->pause_rehash++;
}

struct dict_node *dict_iter_next(struct dict_iter *it)
{
    while (it->next == NULL) {
        struct dict_table *tab = &it->d->t[it->table];
        if (it->index >= tab->size) {
            if (it->table == 1 || !dict_is_rehashing(it->d)) return NULL;
            it->table = 1;
            it->index = 0;
            continue;
        }
        it->next = tab->buckets[it->index++];
    }
    struct dict_node *n = it->next;
    it->next = n->next;
    return n;
}

void dict_iter_deinit(struct dict_iter *it)
{
    it->d->pause_rehash--;
}

size_t dict_overhead(const struct dict *d)
{
    size_t bytes = 0;
    for (int t = 0; t < 2; t++) {
        bytes += d->t[t].size * sizeof(struct dict_node *);
        if (d->t[t].marks != NULL) bytes += (d->t[t].size + 63) / 64 * 8;
    }
    return bytes;
}
