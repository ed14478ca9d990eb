/* list.c: the list container (see list.h for the two forms).
 *
 * The opaque `struct list *` is a tagged pointer: a bare listpack as is, or
 * a struct quicklist with the low bit set (both come from em_malloc, so the
 * bit is free). A small list therefore costs exactly its listpack.
 *
 * Quicklist invariants, checked by list_validate():
 *  - no node is empty, and node->count mirrors its listpack's count;
 *  - q->count is the sum of the node counts, q->nodes their number;
 *  - a node stays within `fill` when elements are added to it, except that
 *    an element too big for any node gets one of its own, and LSET may grow
 *    a node past the limit (as in Redis 7.0).
 * Inserting into a full node splits it; deleting tries to merge neighbours
 * that fit together, so LINSERT/LREM/LTRIM churn does not leave a trail of
 * tiny nodes. */
#include "ember/list.h"

#include "ember/mem.h"

#include <stdint.h>
#include <string.h>

struct ql_node {
    struct ql_node *prev;
    struct ql_node *next;
    struct listpack *lp;
    uint32_t count; /* lp->count, so walks skip nodes without loading their listpacks */
};

struct quicklist {
    struct ql_node *head;
    struct ql_node *tail;
    size_t count; /* elements */
    size_t nodes;
};

#define QL_TAG ((uintptr_t)1)

static bool is_ql(const struct list *l)
{
    return ((uintptr_t)l & QL_TAG) != 0;
}

static struct quicklist *ql_of(const struct list *l)
{
    return (struct quicklist *)((uintptr_t)l & ~QL_TAG);
}

static struct listpack *lp_of(const struct list *l)
{
    return (struct listpack *)l;
}

static struct list *from_ql(struct quicklist *q)
{
    return (struct list *)((uintptr_t)q | QL_TAG);
}

static struct list *from_lp(struct listpack *lp)
{
    return (struct list *)lp;
}

/* ---- Limits: Redis 7.0's _quicklistNodeAllowInsert ---- */

#define SIZE_SAFETY_LIMIT 8192
static const size_t fill_bytes[] = {4096, 8192, 16384, 32768, 65536};

static int clamp_fill(int fill)
{
    if (fill < LIST_FILL_MIN) return LIST_FILL_MIN;
    if (fill > LIST_FILL_MAX) return LIST_FILL_MAX;
    return fill;
}

/* Whether a listpack of `bytes` bytes and `count` entries is within fill. */
static bool within(size_t bytes, size_t count, int fill)
{
    fill = clamp_fill(fill);
    if (fill < 0) return bytes <= fill_bytes[-fill - 1];
    return bytes <= SIZE_SAFETY_LIMIT && count <= (size_t)fill;
}

/* Whether `lp` may take one more entry of `size` bytes. An empty listpack
 * always may: an element bigger than the limit still needs a home. */
static bool accepts(const struct listpack *lp, size_t size, int fill)
{
    return lp_count(lp) == 0 || within(lp_bytes(lp) + size, lp_count(lp) + 1, fill);
}

/* At most half full: a lone node this small goes back to a bare listpack
 * (half, not full, so a list at the limit does not flip form on every
 * push and pop). */
static bool half_full(const struct listpack *lp, int fill)
{
    fill = clamp_fill(fill);
    if (fill < 0) return lp_bytes(lp) <= fill_bytes[-fill - 1] / 2;
    return lp_bytes(lp) <= SIZE_SAFETY_LIMIT / 2 && lp_count(lp) <= (size_t)fill / 2;
}

/* ---- Nodes ---- */

static struct ql_node *node_create(struct listpack *lp)
{
    struct ql_node *n = em_malloc(sizeof(*n));
    n->prev = n->next = NULL;
    n->lp = lp;
    n->count = lp_count(lp);
    return n;
}

static void node_sync(struct ql_node *n)
{
    n->count = lp_count(n->lp);
}

/* Links `n` after `at` (NULL: as the new head). */
static void ql_link(struct quicklist *q, struct ql_node *at, struct ql_node *n)
{
    n->prev = at;
    n->next = at != NULL ? at->next : q->head;
    if (n->next != NULL) {
        n->next->prev = n;
    } else {
        q->tail = n;
    }
    if (at != NULL) {
        at->next = n;
    } else {
        q->head = n;
    }
    q->nodes++;
}

/* Unlinks `n` and frees the node (not its listpack). */
static void ql_unlink(struct quicklist *q, struct ql_node *n)
{
    if (n->prev != NULL) {
        n->prev->next = n->next;
    } else {
        q->head = n->next;
    }
    if (n->next != NULL) {
        n->next->prev = n->prev;
    } else {
        q->tail = n->prev;
    }
    q->nodes--;
    em_free(n);
}

static void node_remove(struct quicklist *q, struct ql_node *n)
{
    lp_destroy(n->lp);
    ql_unlink(q, n);
}

/* Merges n->next into n if the two fit in one node; returns whether. */
static bool try_merge_next(struct quicklist *q, struct ql_node *n, int fill)
{
    struct ql_node *b = n != NULL ? n->next : NULL;
    if (b == NULL) return false;
    if (!within(lp_bytes(n->lp) + lp_bytes(b->lp) - LP_HDR_SIZE, n->count + b->count, fill)) {
        return false;
    }
    n->lp = lp_merge(n->lp, b->lp);
    node_sync(n);
    ql_unlink(q, b);
    return true;
}

/* Merges `n` with whichever neighbours fit. */
static void merge_around(struct quicklist *q, struct ql_node *n, int fill)
{
    if (n == NULL) return;
    struct ql_node *prev = n->prev;
    if (prev != NULL && try_merge_next(q, prev, fill)) n = prev; /* n was freed */
    try_merge_next(q, n, fill);
}

/* Inserts `v` at offset `off` (0..count) of the node's listpack. */
static void node_insert(struct ql_node *n, size_t off, struct slice v)
{
    uint8_t *at = off == n->count ? lp_end(n->lp) : lp_seek(n->lp, (long long)off);
    n->lp = lp_insert(n->lp, at, v, NULL);
    node_sync(n);
}

/* ---- Switching forms ---- */

static struct quicklist *wrap(struct listpack *lp)
{
    struct quicklist *q = em_malloc(sizeof(*q));
    q->head = q->tail = NULL;
    q->count = lp_count(lp);
    q->nodes = 0;
    ql_link(q, NULL, node_create(lp));
    return q;
}

/* The list form after a removal: an empty or small lone node goes back to a
 * bare listpack. */
static struct list *settle(struct quicklist *q, int fill)
{
    if (q->nodes > 1) return from_ql(q);
    struct listpack *lp;
    if (q->head == NULL) { /* nodes == 0 */
        lp = lp_create();
    } else if (half_full(q->head->lp, fill)) {
        lp = q->head->lp;
        ql_unlink(q, q->head);
    } else {
        return from_ql(q);
    }
    em_free(q);
    return from_lp(lp);
}

/* ---- Basics ---- */

struct list *list_create(void)
{
    return from_lp(lp_create());
}

void list_destroy(struct list *l)
{
    if (l == NULL) return;
    if (!is_ql(l)) {
        lp_destroy(lp_of(l));
        return;
    }
    struct quicklist *q = ql_of(l);
    while (q->head != NULL)
        node_remove(q, q->head);
    em_free(q);
}

struct list *list_dup(const struct list *l)
{
    if (!is_ql(l)) return from_lp(lp_dup(lp_of(l)));
    const struct quicklist *q = ql_of(l);
    struct quicklist *copy = em_malloc(sizeof(*copy));
    copy->head = copy->tail = NULL;
    copy->count = q->count;
    copy->nodes = 0;
    for (const struct ql_node *n = q->head; n != NULL; n = n->next) {
        ql_link(copy, copy->tail, node_create(lp_dup(n->lp)));
    }
    return from_ql(copy);
}

size_t list_len(const struct list *l)
{
    return is_ql(l) ? ql_of(l)->count : lp_count(lp_of(l));
}

bool list_is_packed(const struct list *l)
{
    return !is_ql(l);
}

size_t list_node_count(const struct list *l)
{
    return is_ql(l) ? ql_of(l)->nodes : 1;
}

size_t list_memory(const struct list *l)
{
    if (!is_ql(l)) return mem_usable_size(lp_of(l));
    const struct quicklist *q = ql_of(l);
    size_t bytes = mem_usable_size(q);
    for (const struct ql_node *n = q->head; n != NULL; n = n->next) {
        bytes += mem_usable_size(n) + mem_usable_size(n->lp);
    }
    return bytes;
}

/* Turns a possibly negative index into 0..len-1; false if out of range. */
static bool norm_index(long long index, size_t len, size_t *out)
{
    if (index < 0) index += (long long)len;
    if (index < 0 || (unsigned long long)index >= len) return false;
    *out = (size_t)index;
    return true;
}

/* The node holding element `index` (< q->count) and its offset there,
 * walking from the nearer end by the cached counts. */
static struct ql_node *ql_locate(const struct quicklist *q, size_t index, size_t *off)
{
    struct ql_node *n;
    if (index < q->count / 2) {
        n = q->head;
        while (index >= n->count) {
            index -= n->count;
            n = n->next;
        }
    } else {
        size_t back = q->count - 1 - index;
        n = q->tail;
        while (back >= n->count) {
            back -= n->count;
            n = n->prev;
        }
        index = n->count - 1 - back;
    }
    *off = index;
    return n;
}

/* ---- Reading ---- */

bool list_index(const struct list *l, long long index, struct lp_value *out)
{
    size_t i;
    if (!norm_index(index, list_len(l), &i)) return false;
    const uint8_t *p;
    if (!is_ql(l)) {
        p = lp_seek(lp_of(l), (long long)i);
    } else {
        size_t off;
        const struct ql_node *n = ql_locate(ql_of(l), i, &off);
        p = lp_seek(n->lp, (long long)off);
    }
    *out = lp_get(p);
    return true;
}

void list_iter_init(struct list_iter *it, const struct list *l, long long index, bool forward)
{
    it->node = NULL;
    it->lp = NULL;
    it->p = NULL;
    it->forward = forward;
    size_t i;
    if (!norm_index(index, list_len(l), &i)) return;
    if (!is_ql(l)) {
        it->lp = lp_of(l);
        it->p = lp_seek(it->lp, (long long)i);
        return;
    }
    size_t off;
    const struct ql_node *n = ql_locate(ql_of(l), i, &off);
    it->node = n;
    it->lp = n->lp;
    it->p = lp_seek(n->lp, (long long)off);
}

bool list_iter_next(struct list_iter *it, struct lp_value *out)
{
    if (it->p == NULL) return false;
    *out = lp_get(it->p);
    it->p = it->forward ? lp_next(it->lp, it->p) : lp_prev(it->lp, it->p);
    if (it->p == NULL && it->node != NULL) {
        const struct ql_node *n = it->node;
        n = it->forward ? n->next : n->prev;
        it->node = n;
        if (n != NULL) {
            it->lp = n->lp;
            it->p = it->forward ? lp_first(n->lp) : lp_last(n->lp);
        }
    }
    return true;
}

/* ---- Push and pop ---- */

void list_push(struct list **l, struct slice v, enum list_end end, int fill)
{
    size_t size = lp_entry_size(v);
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        if (accepts(lp, size, fill)) {
            *l = from_lp(end == LIST_HEAD ? lp_prepend(lp, v) : lp_append(lp, v));
            return;
        }
        *l = from_ql(wrap(lp));
    }
    struct quicklist *q = ql_of(*l);
    struct ql_node *n = end == LIST_HEAD ? q->head : q->tail;
    if (accepts(n->lp, size, fill)) {
        n->lp = end == LIST_HEAD ? lp_prepend(n->lp, v) : lp_append(n->lp, v);
        node_sync(n);
    } else {
        ql_link(q, end == LIST_HEAD ? NULL : q->tail, node_create(lp_append(lp_create(), v)));
    }
    q->count++;
}

void list_pop(struct list **l, enum list_end end, int fill)
{
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        uint8_t *p = end == LIST_HEAD ? lp_first(lp) : lp_last(lp);
        *l = from_lp(lp_delete(lp, &p));
        return;
    }
    struct quicklist *q = ql_of(*l);
    struct ql_node *n = end == LIST_HEAD ? q->head : q->tail;
    uint8_t *p = end == LIST_HEAD ? lp_first(n->lp) : lp_last(n->lp);
    n->lp = lp_delete(n->lp, &p);
    node_sync(n);
    q->count--;
    if (n->count == 0) node_remove(q, n);
    *l = settle(q, fill);
}

/* ---- Changes in the middle ---- */

void list_delete_range(struct list **l, size_t start, size_t n, int fill)
{
    size_t len = list_len(*l);
    if (start >= len || n == 0) return;
    if (n > len - start) n = len - start;
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        *l = from_lp(lp_delete_range(lp, lp_seek(lp, (long long)start), n));
        return;
    }
    struct quicklist *q = ql_of(*l);
    size_t off;
    struct ql_node *node = ql_locate(q, start, &off);
    struct ql_node *seam = NULL; /* where kept parts meet: try merging there */
    q->count -= n;
    while (n > 0) {
        struct ql_node *next = node->next;
        size_t k = node->count - off < n ? node->count - off : n;
        if (k == node->count) {
            seam = node->prev;
            node_remove(q, node);
        } else {
            node->lp = lp_delete_range(node->lp, lp_seek(node->lp, (long long)off), k);
            node_sync(node);
            seam = node;
        }
        n -= k;
        node = next;
        off = 0;
    }
    merge_around(q, seam != NULL ? seam : q->head, fill);
    *l = settle(q, fill);
}

bool list_set(struct list **l, long long index, struct slice v, int fill)
{
    (void)fill; /* LSET replaces in place, limit or not, as Redis 7.0 does */
    size_t i;
    if (!norm_index(index, list_len(*l), &i)) return false;
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        uint8_t *p = lp_seek(lp, (long long)i);
        *l = from_lp(lp_replace(lp, &p, v));
        return true;
    }
    size_t off;
    struct ql_node *n = ql_locate(ql_of(*l), i, &off);
    uint8_t *p = lp_seek(n->lp, (long long)off);
    n->lp = lp_replace(n->lp, &p, v);
    return true;
}

/* Inserts `v` at offset `off` (0..count) of node `n`: into the node if it
 * has room, else into the neighbour it borders, else into a new node,
 * splitting `n` when the spot is in its middle. */
static void ql_insert(struct quicklist *q, struct ql_node *n, size_t off, struct slice v, int fill)
{
    size_t size = lp_entry_size(v);
    q->count++;
    if (accepts(n->lp, size, fill)) {
        node_insert(n, off, v);
        return;
    }
    if (off == 0 && n->prev != NULL && accepts(n->prev->lp, size, fill)) {
        node_insert(n->prev, n->prev->count, v);
        return;
    }
    if (off == n->count && n->next != NULL && accepts(n->next->lp, size, fill)) {
        node_insert(n->next, 0, v);
        return;
    }
    if (off > 0 && off < n->count) {
        struct listpack *right = lp_split(&n->lp, lp_seek(n->lp, (long long)off));
        node_sync(n);
        ql_link(q, n, node_create(right));
        if (accepts(n->lp, size, fill)) {
            node_insert(n, n->count, v);
            return;
        }
        if (accepts(n->next->lp, size, fill)) {
            node_insert(n->next, 0, v);
            return;
        }
    }
    struct ql_node *nn = node_create(lp_append(lp_create(), v));
    ql_link(q, off == 0 ? n->prev : n, nn);
}

void list_insert_at(struct list **l, size_t index, struct slice v, int fill)
{
    size_t len = list_len(*l);
    if (index >= len) {
        list_push(l, v, LIST_TAIL, fill);
        return;
    }
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        if (accepts(lp, lp_entry_size(v), fill)) {
            *l = from_lp(lp_insert(lp, lp_seek(lp, (long long)index), v, NULL));
            return;
        }
        *l = from_ql(wrap(lp));
    }
    size_t off;
    struct quicklist *q = ql_of(*l);
    struct ql_node *n = ql_locate(q, index, &off);
    ql_insert(q, n, off, v, fill);
}

long long list_insert_pivot(struct list **l, struct slice pivot, struct slice v, bool after,
                            int fill)
{
    struct lp_needle needle;
    lp_needle_init(&needle, pivot);
    size_t index = 0;
    struct list_iter it;
    list_iter_init(&it, *l, 0, true);
    for (;;) {
        const uint8_t *p = it.p;
        struct lp_value unused;
        if (!list_iter_next(&it, &unused)) return -1;
        if (lp_match(p, &needle)) break;
        index++;
    }
    list_insert_at(l, index + (after ? 1 : 0), v, fill);
    return (long long)list_len(*l);
}

/* Merges neighbours that fit together, over the first `steps` nodes from
 * one end (where a removal walked). */
static void compact(struct quicklist *q, bool from_head, size_t steps, int fill)
{
    struct ql_node *n = from_head ? q->head : q->tail;
    size_t i = 0;
    while (n != NULL && i < steps) {
        if (from_head) {
            if (!try_merge_next(q, n, fill)) {
                n = n->next;
                i++;
            }
            continue;
        }
        struct ql_node *p = n->prev;
        if (p == NULL || !try_merge_next(q, p, fill)) i++;
        n = p; /* after a merge, p holds n's elements: try p with its prev */
    }
}

/* Deletes entries matching `n` from *lpp, walking forwards or backwards,
 * at most `limit` of them; returns how many. */
static size_t lp_remove_matches(struct listpack **lpp, const struct lp_needle *n, bool forward,
                                size_t limit)
{
    struct listpack *lp = *lpp;
    size_t removed = 0;
    uint8_t *p = forward ? lp_first(lp) : lp_last(lp);
    while (p != NULL && removed < limit) {
        if (forward) {
            if (lp_match(p, n)) {
                lp = lp_delete(lp, &p);
                removed++;
            } else {
                p = lp_next(lp, p);
            }
            continue;
        }
        uint8_t *prev = lp_prev(lp, p);
        if (lp_match(p, n)) {
            /* The delete may move the block; the previous entry keeps its
             * offset, as it sits before the hole. */
            size_t prev_off = prev != NULL ? (size_t)(prev - (uint8_t *)lp) : 0;
            lp = lp_delete(lp, &p);
            prev = prev != NULL ? (uint8_t *)lp + prev_off : NULL;
            removed++;
        }
        p = prev;
    }
    *lpp = lp;
    return removed;
}

size_t list_remove(struct list **l, struct slice v, long long count, int fill)
{
    struct lp_needle needle;
    lp_needle_init(&needle, v);
    bool forward = count >= 0;
    size_t limit = count == 0 ? SIZE_MAX : forward ? (size_t)count : (size_t)0 - (size_t)count;
    if (!is_ql(*l)) {
        struct listpack *lp = lp_of(*l);
        size_t removed = lp_remove_matches(&lp, &needle, forward, limit);
        *l = from_lp(lp);
        return removed;
    }
    struct quicklist *q = ql_of(*l);
    size_t removed = 0, visited = 0;
    struct ql_node *n = forward ? q->head : q->tail;
    while (n != NULL && removed < limit) {
        struct ql_node *next = forward ? n->next : n->prev;
        size_t k = lp_remove_matches(&n->lp, &needle, forward, limit - removed);
        if (k > 0) {
            node_sync(n);
            removed += k;
            if (n->count == 0) node_remove(q, n);
        }
        visited++;
        n = next;
    }
    q->count -= removed;
    if (removed > 0) compact(q, forward, visited + 1, fill);
    *l = settle(q, fill);
    return removed;
}

/* ---- Checks ---- */

bool list_validate(const struct list *l)
{
    if (!is_ql(l)) return lp_validate(lp_of(l));
    const struct quicklist *q = ql_of(l);
    size_t count = 0, nodes = 0;
    const struct ql_node *prev = NULL;
    for (const struct ql_node *n = q->head; n != NULL; n = n->next) {
        if (n->prev != prev || n->count == 0 || n->count != lp_count(n->lp)) return false;
        if (!lp_validate(n->lp)) return false;
        count += n->count;
        nodes++;
        prev = n;
    }
    return prev == q->tail && count == q->count && nodes == q->nodes && nodes > 0;
}
