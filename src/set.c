/* set.c: the set container (see set.h).
 *
 * Three forms behind one handle. Every operation dispatches on `enc`; the
 * conversions run inside set_add*(), so the commands never see a form
 * change except through the handle they store back.
 *
 * The intset is Redis's: a sorted array of equally wide integers, binary
 * searched, reallocated to its exact size on every change (sets this small
 * are cheaper to memmove than to over-allocate). A value that needs more
 * width upgrades the whole array; removing it never downgrades, as in
 * Redis, so a set's width only grows.
 *
 * Random draws of several distinct members (SRANDMEMBER count, SPOP count's
 * helpers) avoid Redis's temporary dictionary: when the draw is a large
 * share of the set, one pass selects members with the right probability
 * (Knuth's selection sampling); otherwise members are drawn at random and
 * repeats are skipped with a small open-addressed table of positions or
 * nodes. The result is then shuffled so the reply order is random too. */
#include "ember/set.h"

#include "ember/mem.h"

#include <stdlib.h>
#include <string.h>

/* ---- Intset ---- */

struct intset {
    uint32_t width; /* bytes per element: 2, 4 or 8 */
    uint32_t count;
    uint8_t data[];
};

#define INTSET_HDR sizeof(struct intset)

static uint32_t width_for(long long v)
{
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

static long long is_get_w(const struct intset *is, size_t i, uint32_t width)
{
    const uint8_t *p = is->data + i * width;
    if (width == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (width == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static long long is_get(const struct intset *is, size_t i)
{
    return is_get_w(is, i, is->width);
}

static void is_set_w(struct intset *is, size_t i, long long v, uint32_t width)
{
    uint8_t *p = is->data + i * width;
    if (width == 2) {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
    } else if (width == 4) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        int64_t x = v;
        memcpy(p, &x, 8);
    }
}

static struct intset *is_create(void)
{
    struct intset *is = em_malloc(INTSET_HDR);
    is->width = 2;
    is->count = 0;
    return is;
}

static size_t is_bytes(const struct intset *is)
{
    return INTSET_HDR + (size_t)is->count * is->width;
}

/* Binary search: true if found; *pos is where `v` is or would go. */
static bool is_search(const struct intset *is, long long v, size_t *pos)
{
    if (width_for(v) > is->width) {
        /* Wider than every member: below all of them or above. */
        *pos = v < 0 ? 0 : is->count;
        return false;
    }
    size_t lo = 0, hi = is->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        long long cur = is_get(is, mid);
        if (cur == v) {
            *pos = mid;
            return true;
        }
        if (cur < v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *pos = lo;
    return false;
}

static bool is_contains(const struct intset *is, long long v)
{
    size_t pos;
    return is_search(is, v, &pos);
}

/* Re-encodes every element at a wider width and adds `v`, which does not
 * fit the old width and so goes first (negative) or last (positive). */
static struct intset *is_upgrade_and_add(struct intset *is, long long v)
{
    uint32_t old = is->width, width = width_for(v);
    size_t n = is->count;
    is = em_realloc(is, INTSET_HDR + (n + 1) * width);
    size_t shift = v < 0 ? 1 : 0;
    /* From the end, so no element is overwritten before it is read. */
    for (size_t i = n; i-- > 0;)
        is_set_w(is, i + shift, is_get_w(is, i, old), width);
    is_set_w(is, v < 0 ? 0 : n, v, width);
    is->width = width;
    is->count = (uint32_t)(n + 1);
    return is;
}

/* Adds `v`; *added says whether it was new. Returns the (moved) intset. */
static struct intset *is_add(struct intset *is, long long v, bool *added)
{
    *added = false;
    if (width_for(v) > is->width) {
        *added = true;
        return is_upgrade_and_add(is, v);
    }
    size_t pos;
    if (is_search(is, v, &pos)) return is;
    is = em_realloc(is, is_bytes(is) + is->width);
    uint8_t *at = is->data + pos * is->width;
    memmove(at + is->width, at, (is->count - pos) * is->width);
    is_set_w(is, pos, v, is->width);
    is->count++;
    *added = true;
    return is;
}

static struct intset *is_delete_at(struct intset *is, size_t pos)
{
    uint8_t *at = is->data + pos * is->width;
    memmove(at, at + is->width, (is->count - pos - 1) * is->width);
    is->count--;
    return em_realloc(is, is_bytes(is));
}

static struct intset *is_remove(struct intset *is, long long v, bool *removed)
{
    size_t pos;
    *removed = is_search(is, v, &pos);
    return *removed ? is_delete_at(is, pos) : is;
}

/* Longest text of any member (the extremes are the first and last). */
static size_t is_max_text_len(const struct intset *is)
{
    if (is->count == 0) return 0;
    char buf[UTIL_LL_STR_SIZE];
    size_t a = (size_t)ll_to_str(buf, sizeof(buf), is_get(is, 0));
    size_t b = (size_t)ll_to_str(buf, sizeof(buf), is_get(is, is->count - 1));
    return a > b ? a : b;
}

/* ---- Table nodes ---- */

static struct dict_node *node_create(const char *p, size_t len)
{
    struct dict_node *n = em_malloc(DICT_NODE_HDR + dict_key_size(len));
    n->next = NULL;
    n->meta = 0;
    /* dict_node_set_key copies with memcpy: give it a valid pointer even
     * for the empty member. */
    dict_node_set_key(n, len > 0 ? p : "", len);
    return n;
}

static void node_destroy(struct dict_node *n, void *ctx)
{
    (void)ctx;
    em_free(n);
}

static const struct dict_type set_dict_type = {node_destroy, NULL};

static struct dict *table_create(void)
{
    struct dict *d = em_malloc(sizeof(*d));
    dict_init(d, &set_dict_type);
    return d;
}

static void table_destroy(struct dict *d)
{
    dict_deinit(d, NULL);
    em_free(d);
}

static bool table_add(struct dict *d, const char *p, size_t len)
{
    uint64_t h = dict_hash(p, len);
    if (dict_find(d, h, p, len, NULL) != NULL) return false;
    dict_insert(d, h, node_create(p, len));
    return true;
}

static bool table_contains(struct dict *d, const char *p, size_t len)
{
    return dict_find(d, dict_hash(p, len), p, len, NULL) != NULL;
}

static bool table_remove(struct dict *d, const char *p, size_t len)
{
    struct dict_pos pos;
    struct dict_node *n = dict_find(d, dict_hash(p, len), p, len, &pos);
    if (n == NULL) return false;
    em_free(dict_unlink(d, &pos));
    /* Redis resizes on delete when the table is under 10% full; a sparse
     * table would also make random draws probe many empty buckets. */
    dict_maybe_shrink(d);
    return true;
}

static struct lp_value node_value(const struct dict_node *n)
{
    struct slice k = dict_node_key(n);
    return (struct lp_value){k.ptr, k.len, 0};
}

/* ---- Members as text or integers ---- */

/* The member as text; integers are formatted into `buf`. */
static struct slice value_text(const struct lp_value *v, char *buf)
{
    return lp_value_slice(v, buf);
}

/* True and *out if the member is an integer an intset can hold. */
static bool value_int(const struct lp_value *v, long long *out)
{
    if (v->str == NULL) {
        *out = v->ll;
        return true;
    }
    return v->len <= 20 && str_to_ll(v->str, v->len, out);
}

static size_t value_len(const struct lp_value *v)
{
    if (v->str != NULL) return v->len;
    char buf[UTIL_LL_STR_SIZE];
    return (size_t)ll_to_str(buf, sizeof(buf), v->ll);
}

static void needle_for(struct lp_needle *n, const struct lp_value *v)
{
    if (v->str == NULL) {
        n->s = (struct slice){NULL, 0};
        n->is_int = true;
        n->ll = v->ll;
    } else {
        lp_needle_init(n, (struct slice){v->str, v->len});
    }
}

static uint8_t *lp_find_value(const struct listpack *lp, const struct lp_value *v)
{
    struct lp_needle n;
    needle_for(&n, v);
    for (uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
        if (lp_match(p, &n)) return p;
    }
    return NULL;
}

static struct listpack *lp_append_value(struct listpack *lp, const struct lp_value *v)
{
    if (v->str == NULL) return lp_insert_ll(lp, lp_end(lp), v->ll, NULL);
    return lp_append(lp, (struct slice){v->str, v->len});
}

/* ---- Life cycle ---- */

void set_init(struct set *s)
{
    s->ptr = is_create();
    s->enc = OBJ_ENC_INTSET;
}

void set_init_for(struct set *s, struct slice first, const struct set_limits *lim)
{
    if (first.len <= 20 && str_to_ll(first.ptr, first.len, NULL)) {
        set_init(s);
    } else if (first.len <= lim->max_listpack_value && lim->max_listpack_entries > 0) {
        s->ptr = lp_create();
        s->enc = OBJ_ENC_LISTPACK;
    } else {
        s->ptr = table_create();
        s->enc = OBJ_ENC_HT;
    }
}

void set_deinit(struct set *s)
{
    if (s->ptr == NULL) return;
    switch (s->enc) {
    case OBJ_ENC_INTSET:
        em_free(s->ptr);
        break;
    case OBJ_ENC_LISTPACK:
        lp_destroy(s->ptr);
        break;
    default:
        table_destroy(s->ptr);
        break;
    }
    s->ptr = NULL;
}

void set_dup(struct set *dst, const struct set *src)
{
    dst->enc = src->enc;
    if (src->enc == OBJ_ENC_INTSET) {
        size_t bytes = is_bytes(src->ptr);
        dst->ptr = em_malloc(bytes);
        memcpy(dst->ptr, src->ptr, bytes);
        return;
    }
    if (src->enc == OBJ_ENC_LISTPACK) {
        dst->ptr = lp_dup(src->ptr);
        return;
    }
    struct dict *d = table_create();
    struct dict_iter it;
    dict_iter_init(&it, src->ptr);
    for (struct dict_node *n; (n = dict_iter_next(&it)) != NULL;) {
        struct slice k = dict_node_key(n);
        dict_insert(d, dict_hash(k.ptr, k.len), node_create(k.ptr, k.len));
    }
    dict_iter_deinit(&it);
    dst->ptr = d;
}

size_t set_memory(const struct set *s)
{
    if (s->enc != OBJ_ENC_HT) return mem_usable_size(s->ptr);
    struct dict *d = s->ptr;
    size_t bytes = mem_usable_size(d) + dict_overhead(d);
    struct dict_iter it;
    dict_iter_init(&it, d);
    for (struct dict_node *n; (n = dict_iter_next(&it)) != NULL;)
        bytes += mem_usable_size(n);
    dict_iter_deinit(&it);
    return bytes;
}

/* ---- The keyspace entry: reported encoding and the listpack tag ---- */

#define LISTPACK_TAG ((uintptr_t)1)

static struct set decode(void *ptr, enum obj_enc reported)
{
    uintptr_t bits = (uintptr_t)ptr;
    if (reported == OBJ_ENC_INTSET) return (struct set){ptr, OBJ_ENC_INTSET};
    if (bits & LISTPACK_TAG) return (struct set){(void *)(bits & ~LISTPACK_TAG), OBJ_ENC_LISTPACK};
    return (struct set){ptr, OBJ_ENC_HT};
}

static void *encode(const struct set *s)
{
    if (s->enc != OBJ_ENC_LISTPACK) return s->ptr;
    return (void *)((uintptr_t)s->ptr | LISTPACK_TAG);
}

enum obj_enc set_reported_enc(const struct set *s)
{
    return s->enc == OBJ_ENC_INTSET ? OBJ_ENC_INTSET : OBJ_ENC_HT;
}

struct set set_of_obj(const struct dict_node *o)
{
    return decode(obj_ptr(o), obj_enc(o));
}

void set_store_obj(struct dict_node *o, const struct set *s)
{
    obj_set_ptr(o, encode(s));
    obj_set_enc(o, set_reported_enc(s));
}

struct dict_node *set_create_obj(struct slice key, const struct set *s)
{
    return obj_create_ptr(key, OBJ_SET, set_reported_enc(s), encode(s), -1);
}

void set_free_container(void *ptr, enum obj_enc enc)
{
    struct set s = decode(ptr, enc);
    set_deinit(&s);
}

size_t set_container_size(const void *ptr, enum obj_enc enc)
{
    struct set s = decode((void *)ptr, enc);
    return set_memory(&s);
}

void *set_dup_container(const void *ptr, enum obj_enc enc)
{
    struct set s = decode((void *)ptr, enc), copy;
    set_dup(&copy, &s);
    return encode(&copy);
}

/* ---- Reading ---- */

size_t set_size(const struct set *s)
{
    switch (s->enc) {
    case OBJ_ENC_INTSET:
        return ((const struct intset *)s->ptr)->count;
    case OBJ_ENC_LISTPACK:
        return lp_count(s->ptr);
    default:
        return dict_size(s->ptr);
    }
}

bool set_contains_value(struct set *s, const struct lp_value *v)
{
    long long ll;
    char buf[UTIL_LL_STR_SIZE];
    switch (s->enc) {
    case OBJ_ENC_INTSET:
        return value_int(v, &ll) && is_contains(s->ptr, ll);
    case OBJ_ENC_LISTPACK:
        return lp_find_value(s->ptr, v) != NULL;
    default: {
        struct slice t = value_text(v, buf);
        return table_contains(s->ptr, t.ptr, t.len);
    }
    }
}

bool set_contains(struct set *s, struct slice m)
{
    struct lp_value v = {m.ptr, m.len, 0};
    return set_contains_value(s, &v);
}

/* ---- Conversions ---- */

static void intset_to_table(struct set *s)
{
    struct intset *is = s->ptr;
    struct dict *d = table_create();
    char buf[UTIL_LL_STR_SIZE];
    for (size_t i = 0; i < is->count; i++) {
        int len = ll_to_str(buf, sizeof(buf), is_get(is, i));
        dict_insert(d, dict_hash(buf, (size_t)len), node_create(buf, (size_t)len));
    }
    em_free(is);
    s->ptr = d;
    s->enc = OBJ_ENC_HT;
}

static void intset_to_listpack(struct set *s)
{
    struct intset *is = s->ptr;
    struct listpack *lp = lp_create();
    for (size_t i = 0; i < is->count; i++)
        lp = lp_insert_ll(lp, lp_end(lp), is_get(is, i), NULL);
    em_free(is);
    s->ptr = lp;
    s->enc = OBJ_ENC_LISTPACK;
}

static void listpack_to_table(struct set *s)
{
    struct listpack *lp = s->ptr;
    struct dict *d = table_create();
    char buf[UTIL_LL_STR_SIZE];
    for (uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
        struct lp_value v = lp_get(p);
        struct slice t = value_text(&v, buf);
        dict_insert(d, dict_hash(t.ptr, t.len), node_create(t.ptr, t.len));
    }
    lp_destroy(lp);
    s->ptr = d;
    s->enc = OBJ_ENC_HT;
}

void set_convert_to_table(struct set *s)
{
    if (s->enc == OBJ_ENC_INTSET) {
        intset_to_table(s);
    } else if (s->enc == OBJ_ENC_LISTPACK) {
        listpack_to_table(s);
    }
}

/* An intset must take a member it cannot hold (a string, or one too many):
 * it becomes a listpack if `size` members whose longest is `maxlen` bytes
 * fit one, else a table. */
static void intset_outgrown(struct set *s, size_t size, size_t maxlen, const struct set_limits *lim)
{
    size_t intlen = is_max_text_len(s->ptr);
    if (intlen > maxlen) maxlen = intlen;
    if (size <= lim->max_listpack_entries && maxlen <= lim->max_listpack_value) {
        intset_to_listpack(s);
    } else {
        intset_to_table(s);
    }
}

/* ---- Changing ---- */

static bool intset_add(struct set *s, const struct lp_value *v, const struct set_limits *lim)
{
    long long ll;
    struct intset *is = s->ptr;
    if (value_int(v, &ll)) {
        if (is_contains(is, ll)) return false;
        if ((size_t)is->count + 1 <= lim->max_intset_entries) {
            bool added;
            s->ptr = is_add(is, ll, &added);
            return added;
        }
        intset_outgrown(s, (size_t)is->count + 1, value_len(v), lim);
    } else {
        /* A string is never in an intset: the add will succeed. */
        intset_outgrown(s, (size_t)is->count + 1, v->len, lim);
    }
    return set_add_value(s, v, lim);
}

static bool listpack_add(struct set *s, const struct lp_value *v, const struct set_limits *lim)
{
    struct listpack *lp = s->ptr;
    if (lp_find_value(lp, v) != NULL) return false;
    if ((size_t)lp_count(lp) + 1 > lim->max_listpack_entries ||
        value_len(v) > lim->max_listpack_value) {
        listpack_to_table(s);
        return set_add_value(s, v, lim);
    }
    s->ptr = lp_append_value(lp, v);
    return true;
}

bool set_add_value(struct set *s, const struct lp_value *v, const struct set_limits *lim)
{
    switch (s->enc) {
    case OBJ_ENC_INTSET:
        return intset_add(s, v, lim);
    case OBJ_ENC_LISTPACK:
        return listpack_add(s, v, lim);
    default: {
        char buf[UTIL_LL_STR_SIZE];
        struct slice t = value_text(v, buf);
        return table_add(s->ptr, t.ptr, t.len);
    }
    }
}

bool set_add(struct set *s, struct slice m, const struct set_limits *lim)
{
    struct lp_value v = {m.ptr, m.len, 0};
    return set_add_value(s, &v, lim);
}

bool set_remove(struct set *s, struct slice m)
{
    switch (s->enc) {
    case OBJ_ENC_INTSET: {
        long long ll;
        bool removed = false;
        if (m.len <= 20 && str_to_ll(m.ptr, m.len, &ll)) s->ptr = is_remove(s->ptr, ll, &removed);
        return removed;
    }
    case OBJ_ENC_LISTPACK: {
        struct listpack *lp = s->ptr;
        uint8_t *p = lp_find(lp, lp_first(lp), m, 0);
        if (p == NULL) return false;
        s->ptr = lp_delete(lp, &p);
        return true;
    }
    default:
        return table_remove(s->ptr, m.ptr, m.len);
    }
}

/* ---- Walking ---- */

void set_iter_init(struct set_iter *it, struct set *s)
{
    it->s = s;
    it->index = 0;
    it->p = NULL;
    if (s->enc == OBJ_ENC_LISTPACK) it->p = lp_first(s->ptr);
    if (s->enc == OBJ_ENC_HT) dict_iter_init(&it->di, s->ptr);
}

bool set_iter_next(struct set_iter *it, struct lp_value *v)
{
    switch (it->s->enc) {
    case OBJ_ENC_INTSET: {
        const struct intset *is = it->s->ptr;
        if (it->index >= is->count) return false;
        *v = (struct lp_value){NULL, 0, is_get(is, it->index++)};
        return true;
    }
    case OBJ_ENC_LISTPACK:
        if (it->p == NULL) return false;
        *v = lp_get(it->p);
        it->p = lp_next(it->s->ptr, it->p);
        return true;
    default: {
        struct dict_node *n = dict_iter_next(&it->di);
        if (n == NULL) return false;
        *v = node_value(n);
        return true;
    }
    }
}

void set_iter_deinit(struct set_iter *it)
{
    if (it->s->enc == OBJ_ENC_HT) dict_iter_deinit(&it->di);
}

struct scan_ctx {
    set_visit_fn *fn;
    void *arg;
};

static void scan_node(struct dict_node *n, void *arg)
{
    struct scan_ctx *ctx = arg;
    struct lp_value v = node_value(n);
    ctx->fn(&v, ctx->arg);
}

unsigned long long set_scan(struct set *s, unsigned long long cursor, set_visit_fn *fn, void *arg)
{
    if (s->enc == OBJ_ENC_HT) {
        struct scan_ctx ctx = {fn, arg};
        return dict_scan(s->ptr, cursor, scan_node, &ctx);
    }
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &v))
        fn(&v, arg);
    set_iter_deinit(&it);
    return 0;
}

/* ---- Random members ---- */

/* The member at position `i` of an intset or listpack. */
static struct lp_value packed_at(const struct set *s, size_t i)
{
    if (s->enc == OBJ_ENC_INTSET) return (struct lp_value){NULL, 0, is_get(s->ptr, i)};
    return lp_get(lp_seek(s->ptr, (long long)i));
}

void set_random(struct set *s, struct rng *r, struct lp_value *v)
{
    if (s->enc == OBJ_ENC_HT) {
        *v = node_value(dict_random(s->ptr, r));
        return;
    }
    *v = packed_at(s, (size_t)rng_below(r, set_size(s)));
}

void set_random_repeat(struct set *s, struct rng *r, size_t count, set_visit_fn *fn, void *arg)
{
    size_t n = set_size(s);
    if (s->enc != OBJ_ENC_LISTPACK || count < 4) {
        struct lp_value v;
        while (count-- > 0) {
            set_random(s, r, &v);
            fn(&v, arg);
        }
        return;
    }
    /* A listpack is walked to reach a position: index its entries once. */
    const uint8_t **pos = em_malloc(n * sizeof(*pos));
    const struct listpack *lp = s->ptr;
    size_t i = 0;
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p))
        pos[i++] = p;
    while (count-- > 0) {
        struct lp_value v = lp_get(pos[rng_below(r, n)]);
        fn(&v, arg);
    }
    em_free(pos);
}

/* Fisher-Yates over the chosen members, then the calls. */
static void shuffle_and_visit(struct lp_value *v, size_t n, struct rng *r, set_visit_fn *fn,
                              void *arg)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        struct lp_value t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        fn(&v[i], arg);
}

/* Selection sampling (Knuth, TAOCP 3.4.2, algorithm S): one pass, each
 * member taken with probability (still needed) / (still unseen). */
static size_t select_pass(struct set *s, struct rng *r, size_t count, struct lp_value *out)
{
    size_t left = set_size(s), taken = 0;
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, s);
    while (taken < count && set_iter_next(&it, &v)) {
        if (rng_below(r, left) < count - taken) out[taken++] = v;
        left--;
    }
    set_iter_deinit(&it);
    return taken;
}

/* Open-addressed set of 64-bit keys (positions or node addresses), for
 * skipping repeated draws. */
struct seen {
    uint64_t *slot; /* key + 1; 0 is empty */
    size_t mask;
};

static void seen_init(struct seen *t, size_t count)
{
    size_t size = 16;
    while (size < count * 2)
        size <<= 1;
    t->slot = em_calloc(size, sizeof(*t->slot));
    t->mask = size - 1;
}

/* Adds `key`; false if it was already there. */
static bool seen_add(struct seen *t, uint64_t key)
{
    uint64_t k = key + 1;
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17) & t->mask;
    while (t->slot[i] != 0) {
        if (t->slot[i] == k) return false;
        i = (i + 1) & t->mask;
    }
    t->slot[i] = k;
    return true;
}

/* Draws until `count` distinct members are found (count is at most a third
 * of the set, so few draws repeat). */
static void draw_distinct(struct set *s, struct rng *r, size_t count, struct lp_value *out)
{
    struct seen t;
    seen_init(&t, count);
    size_t taken = 0;
    while (taken < count) {
        uint64_t key;
        if (s->enc == OBJ_ENC_HT) {
            struct dict_node *n = dict_random(s->ptr, r);
            key = (uint64_t)(uintptr_t)n;
            if (seen_add(&t, key)) out[taken++] = node_value(n);
        } else {
            key = rng_below(r, set_size(s));
            if (seen_add(&t, key)) out[taken++] = packed_at(s, (size_t)key);
        }
    }
    em_free(t.slot);
}

void set_random_distinct(struct set *s, struct rng *r, size_t count, set_visit_fn *fn, void *arg)
{
    if (count == 0) return;
    struct lp_value *out = em_malloc(count * sizeof(*out));
    size_t n = set_size(s);
    /* A listpack is walked anyway, so one pass costs as much as one draw. */
    if (s->enc == OBJ_ENC_LISTPACK || count * 3 > n) {
        size_t taken = select_pass(s, r, count, out);
        (void)taken;
    } else {
        draw_distinct(s, r, count, out);
    }
    shuffle_and_visit(out, count, r, fn, arg);
    em_free(out);
}

void set_pop_random(struct set *s, struct rng *r, set_visit_fn *fn, void *arg)
{
    if (s->enc == OBJ_ENC_INTSET) {
        struct intset *is = s->ptr;
        size_t i = (size_t)rng_below(r, is->count);
        struct lp_value v = {NULL, 0, is_get(is, i)};
        fn(&v, arg);
        s->ptr = is_delete_at(is, i);
        return;
    }
    if (s->enc == OBJ_ENC_LISTPACK) {
        struct listpack *lp = s->ptr;
        uint8_t *p = lp_seek(lp, (long long)rng_below(r, lp_count(lp)));
        struct lp_value v = lp_get(p);
        fn(&v, arg);
        s->ptr = lp_delete(lp, &p);
        return;
    }
    struct dict *d = s->ptr;
    struct dict_node *n = dict_random(d, r);
    struct lp_value v = node_value(n);
    fn(&v, arg);
    table_remove(d, v.str, v.len);
}

/* ---- Debugging ---- */

static bool intset_valid(const struct intset *is)
{
    if (is->width != 2 && is->width != 4 && is->width != 8) return false;
    for (size_t i = 0; i < is->count; i++) {
        long long v = is_get(is, i);
        if (i > 0 && is_get(is, i - 1) >= v) return false;
    }
    return mem_usable_size(is) >= is_bytes(is);
}

static bool listpack_valid(const struct listpack *lp)
{
    if (!lp_validate(lp)) return false;
    for (uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
        struct lp_value v = lp_get(p);
        struct lp_needle n;
        needle_for(&n, &v);
        for (uint8_t *q = lp_next(lp, p); q != NULL; q = lp_next(lp, q)) {
            if (lp_match(q, &n)) return false;
        }
    }
    return true;
}

bool set_validate(const struct set *s)
{
    switch (s->enc) {
    case OBJ_ENC_INTSET:
        return intset_valid(s->ptr);
    case OBJ_ENC_LISTPACK:
        return listpack_valid(s->ptr);
    case OBJ_ENC_HT: {
        size_t n = 0;
        struct dict_iter it;
        dict_iter_init(&it, s->ptr);
        while (dict_iter_next(&it) != NULL)
            n++;
        dict_iter_deinit(&it);
        return n == dict_size(s->ptr);
    }
    default:
        return false;
    }
}
