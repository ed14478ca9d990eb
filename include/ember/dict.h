/* dict.h: a chained hash table of intrusive nodes, with incremental rehashing
 * and a stateless scan cursor.
 *
 * The table owns no memory per entry: every entry is one allocation made by
 * the user that begins with a struct dict_node header and carries its key
 * inline, so the keyspace pays for one bucket pointer and one node per key.
 *
 *   struct dict_node (one allocation, sized by the user)
 *   +--------+--------+-----------+-------------+------------------------+
 *   | next   | meta   | klen 1|5  | key bytes   | user payload ...       |
 *   | 8 B    | 4 B    | bytes     | klen bytes  | (dict_node_payload())  |
 *   +--------+--------+-----------+-------------+------------------------+
 *
 * klen is one byte for keys shorter than 255 bytes; longer keys store 0xFF
 * and a 4-byte little-endian length. `meta` belongs to the user.
 *
 * Growing or shrinking allocates the new bucket array and then moves one
 * bucket per operation (plus time-boxed steps from the cron), so no single
 * command pays for a whole resize. Hashes are SipHash with a random seed.
 *
 * Marks: a dict whose type has `is_marked` keeps one bit per bucket that is
 * set while the bucket may hold a marked node (the keyspace marks keys that
 * carry a TTL). dict_next_marked() walks only those buckets, so the active
 * expire cycle samples keys with a deadline without visiting the others, at a
 * cost of one bit per bucket and nothing per node. */
#ifndef EMBER_DICT_H
#define EMBER_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ember/util.h"

struct dict_node {
    struct dict_node *next;
    uint32_t meta;
    uint8_t key[]; /* encoded length, then the key bytes, then the payload */
};

#define DICT_NODE_HDR      offsetof(struct dict_node, key)
#define DICT_KEYLEN_MAX_1B 254u

/* Bytes the encoded key takes: its length prefix plus the bytes. */
static inline size_t dict_key_size(size_t klen)
{
    return (klen <= DICT_KEYLEN_MAX_1B ? 1 : 5) + klen;
}

/* Writes the encoded key into a node; returns a pointer past it (the payload). */
static inline uint8_t *dict_node_set_key(struct dict_node *n, const char *key, size_t klen)
{
    uint8_t *p = n->key;
    if (klen <= DICT_KEYLEN_MAX_1B) {
        *p++ = (uint8_t)klen;
    } else {
        uint32_t l = (uint32_t)klen;
        *p++ = 0xFF;
        memcpy(p, &l, 4);
        p += 4;
    }
    memcpy(p, key, klen);
    return p + klen;
}

/* The node's key, borrowed for the node's lifetime. */
static inline struct slice dict_node_key(const struct dict_node *n)
{
    const uint8_t *p = n->key;
    if (p[0] != 0xFF) return (struct slice){(const char *)p + 1, p[0]};
    uint32_t l;
    memcpy(&l, p + 1, 4);
    return (struct slice){(const char *)p + 5, l};
}

/* The first byte after the key. */
static inline uint8_t *dict_node_payload(const struct dict_node *n)
{
    struct slice k = dict_node_key(n);
    return (uint8_t *)k.ptr + k.len;
}

struct dict_type {
    /* Frees a node when the dict is cleared or destroyed; may be NULL. */
    void (*destroy)(struct dict_node *n, void *ctx);
    /* Marked nodes (see above); NULL for dicts without marks. */
    bool (*is_marked)(const struct dict_node *n);
};

struct dict_table {
    struct dict_node **buckets;
    uint64_t *marks; /* one bit per bucket, or NULL */
    size_t size;     /* a power of two, or 0 */
    size_t used;
};

struct dict {
    const struct dict_type *type;
    struct dict_table t[2]; /* t[1] is in use only while rehashing */
    long long rehash_idx;   /* next bucket of t[0] to move, -1 when not rehashing */
    int pause_rehash;       /* > 0: no rehash steps (a caller is walking) */
    bool resize_allowed;
};

void dict_init(struct dict *d, const struct dict_type *type);
/* Destroys every node (through type->destroy) and the tables. */
void dict_deinit(struct dict *d, void *ctx);
/* dict_deinit() then dict_init() with the same type. */
void dict_clear(struct dict *d, void *ctx);

static inline size_t dict_size(const struct dict *d)
{
    return d->t[0].used + d->t[1].used;
}

static inline bool dict_is_rehashing(const struct dict *d)
{
    return d->rehash_idx != -1;
}

/* The key hash every dict uses. */
static inline uint64_t dict_hash(const char *key, size_t len)
{
    return hash_bytes(key, len);
}

/* Where a node lives: the link that points at it. Valid until the next call
 * that may change the dict (any call below except dict_size/dict_is_*). */
struct dict_pos {
    struct dict_node **ref;
    int table;
};

/* Looks up `key` (hash h). Returns the node or NULL; with `pos`, also where it
 * is, for dict_unlink()/dict_replace(). Performs one rehash step first. */
struct dict_node *dict_find(struct dict *d, uint64_t h, const char *key, size_t len,
                            struct dict_pos *pos);

/* Prefetch hints for a lookup of hash h that will come soon: the first
 * starts loading the bucket slot; the second, issued later, reads that slot
 * (in cache by then) and starts loading the first node of the chain. A
 * pipelined batch issues them for the commands ahead of the one running, so
 * the two cache misses of a lookup overlap with other work. */
/* always_inline: a function whose only effect is a prefetch looks "const"
 * to GCC's IPA analysis, and a call to it whose result is unused is then
 * deleted, prefetch and all; inlined early, the prefetch survives. */
#define DICT_PREFETCH_INLINE static inline __attribute__((always_inline))

DICT_PREFETCH_INLINE void dict_prefetch_bucket(const struct dict *d, uint64_t h)
{
    /* While rehashing, t[1] is allocated. */
    if (d->t[0].size == 0) return;
    __builtin_prefetch(&d->t[0].buckets[h & (d->t[0].size - 1)]);
    if (dict_is_rehashing(d)) __builtin_prefetch(&d->t[1].buckets[h & (d->t[1].size - 1)]);
}

DICT_PREFETCH_INLINE void dict_prefetch_node(const struct dict *d, uint64_t h)
{
    if (d->t[0].size == 0) return;
    __builtin_prefetch(d->t[0].buckets[h & (d->t[0].size - 1)]);
    if (dict_is_rehashing(d)) __builtin_prefetch(d->t[1].buckets[h & (d->t[1].size - 1)]);
}

/* Inserts a node whose key is not in the dict (the caller checked). Takes
 * ownership of `n`. May start a resize. */
void dict_insert(struct dict *d, uint64_t h, struct dict_node *n);

/* Removes the node at `pos` (from dict_find with no change in between) and
 * returns it; the caller owns it now. */
struct dict_node *dict_unlink(struct dict *d, const struct dict_pos *pos);

/* Puts `n` where the node at `pos` was (same key; the user reallocated it).
 * Re-marks the bucket if the new node is marked. */
void dict_replace(struct dict *d, const struct dict_pos *pos, struct dict_node *n);

/* Sets the mark of the bucket holding `n` (a node in `d`, hash h). */
void dict_mark(struct dict *d, uint64_t h, const struct dict_node *n);

/* Moves up to `n` buckets from the old table (visiting at most 10n empty
 * ones). Returns true while more rehashing remains. */
bool dict_rehash(struct dict *d, int n);
/* Rehashes in steps of 100 buckets for about `us` microseconds. */
void dict_rehash_us(struct dict *d, long long us);
/* Shrinks the table when it is less than 1/8 full (called from the cron). */
void dict_maybe_shrink(struct dict *d);
/* Grows the table for n entries at once, so loading n keys does not
 * double it step by step (Redis's dictExpand); nothing while rehashing or
 * when it is big enough already. */
void dict_expand(struct dict *d, size_t n);

/* Scan (Redis's reverse-binary cursor): calls fn for every node in the
 * buckets the cursor covers and returns the next cursor, 0 when the walk is
 * complete. A node present for the whole walk is reported at least once,
 * even if the table is resized in between; some may be reported twice. */
typedef void dict_scan_fn(struct dict_node *n, void *arg);
unsigned long long dict_scan(struct dict *d, unsigned long long cursor, dict_scan_fn *fn,
                             void *arg);

/* A node chosen at random (roughly uniform), or NULL if empty. */
struct dict_node *dict_random(struct dict *d, struct rng *r);

/* Marked-bucket walk: starting at bucket *cursor of the main table (wrapping
 * around), finds the next bucket whose mark is set, clears marks of buckets
 * found to hold no marked node, and calls fn on each marked node of the
 * first marked bucket found. *cursor advances past that bucket; returns the
 * number of nodes passed to fn, or -1 when no bucket in the table is marked.
 * `fn` may unlink and destroy the node it gets (use the passed position). */
typedef void dict_marked_fn(struct dict *d, struct dict_node *n, struct dict_pos *pos, void *arg);
int dict_next_marked(struct dict *d, size_t *cursor, dict_marked_fn *fn, void *arg);

/* Iteration for whole-dict walks that do not change the dict (KEYS, INFO):
 * rehashing is paused between dict_iter_init and dict_iter_deinit. */
struct dict_iter {
    struct dict *d;
    int table;
    size_t index;
    struct dict_node *next;
};
void dict_iter_init(struct dict_iter *it, struct dict *d);
struct dict_node *dict_iter_next(struct dict_iter *it);
void dict_iter_deinit(struct dict_iter *it);

/* Bytes used by the bucket arrays and marks (for MEMORY/INFO). */
size_t dict_overhead(const struct dict *d);

#endif
