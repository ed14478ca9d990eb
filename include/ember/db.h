/* db.h: the keyspace: numbered databases of entries with optional deadlines.
 *
 * db.c knows entries (object.h) and the hash table (dict.h), never clients or
 * RESP, so it is tested alone. Every lookup applies lazy expiry first: an
 * entry whose deadline has passed is deleted on the spot and reported
 * missing, so no command ever observes an expired key. Keys that carry a
 * deadline are marked in the table (dict.h), which is what the active expire
 * cycle samples.
 *
 * Changes are reported through the keyspace's hooks, so WATCH, keyspace
 * notifications and (later) the write log hang off one place. */
#ifndef EMBER_DB_H
#define EMBER_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "ember/dict.h"
#include "ember/object.h"
#include "ember/util.h"

struct keyspace;

struct db {
    struct dict dict;
    size_t volatile_count; /* keys with a deadline */
    size_t expire_cursor;  /* active expiry's place in the marked walk */
    long long avg_ttl;     /* running estimate for INFO keyspace */
    int id;
    struct keyspace *ks;
};

struct keyspace_stats {
    long long expired_keys;
    long long expired_stale_perc_x100; /* last cycle's stale share, in 1/100 % */
    long long expired_time_cap_reached_count;
    long long keyspace_hits;
    long long keyspace_misses;
    long long evicted_keys;
};

/* Called after a key was changed or deleted (WATCH invalidation). */
typedef void keyspace_touch_fn(struct db *db, struct slice key, void *ctx);
/* Called before a db is emptied (FLUSHDB, FLUSHALL, SWAPDB). */
typedef void keyspace_flush_fn(struct db *db, void *ctx);
/* Called when a list or sorted set appears at a key (blocked clients). */
typedef void keyspace_ready_fn(struct db *db, struct slice key, void *ctx);
/* Called when a key is deleted because its deadline passed. */
typedef void keyspace_expired_fn(struct db *db, struct slice key, void *ctx);

/* A key whose hash is already known: the client loop hashes the key of a
 * pipelined command ahead of time (to prefetch its bucket) and leaves the
 * result here while that command runs, so db_find() does not hash it
 * again. Matched by address and length, so it applies only to the very
 * bytes that were hashed; cleared after the command. */
struct key_hint {
    const char *ptr;
    size_t len;
    uint64_t hash;
};

struct keyspace {
    struct db *dbs;
    int count;
    struct keyspace_stats stats;
    struct rng rng;
    keyspace_touch_fn *on_touch;
    keyspace_expired_fn *on_expired;
    keyspace_ready_fn *on_ready;
    keyspace_flush_fn *on_flush;
    void *hook_ctx;
    uint32_t lru_clock; /* seconds, 24 bits, refreshed by the cron */
    struct key_hint hint;
    /* Eviction (evict.c keeps these in step with the configuration): under an
     * LFU policy each entry's 24-bit lru field holds Redis's LFU layout,
     * last-decrement minutes (16 bits) and a logarithmic counter (8 bits),
     * instead of the LRU clock. */
    bool lfu;
    int lfu_log_factor;
    int lfu_decay_time; /* minutes per counter decrement, 0 = never */
};

void keyspace_init(struct keyspace *ks, int count, uint64_t seed);

/* Look-ahead prefetches for a key of hash h that a coming command will look
 * up (dict_prefetch_bucket/node): hints only, never wrong. */
DICT_PREFETCH_INLINE void db_prefetch_bucket(const struct db *db, uint64_t h)
{
    dict_prefetch_bucket(&db->dict, h);
}

DICT_PREFETCH_INLINE void db_prefetch_node(const struct db *db, uint64_t h)
{
    dict_prefetch_node(&db->dict, h);
}
void keyspace_deinit(struct keyspace *ks);

/* Where a lookup found (or would insert) a key. Valid until the next call
 * that changes the same db. */
struct db_ref {
    struct dict_pos pos;
    uint64_t hash;
    bool had_ttl;
};

/* Looks `key` up, expiring it first if its deadline passed. Returns the entry
 * (borrowed; valid until the db changes) or NULL. `ref` is always filled:
 * with the position if found, with the hash for db_insert() if not. */
struct dict_node *db_find(struct db *db, struct slice key, struct db_ref *ref);

/* Like db_find but without the lazy-expiry side effect or the stats: used by
 * commands that only peek (SCAN's type filter, INFO). Expired keys are
 * reported missing all the same. */
struct dict_node *db_peek(struct db *db, struct slice key);

/* Counts a hit or a miss in INFO's keyspace_hits/misses. */
void db_count_lookup(struct db *db, bool hit);

/* Inserts `o` (its key absent, `ref` from the db_find that said so). Takes
 * ownership. */
void db_insert(struct db *db, const struct db_ref *ref, struct dict_node *o);
/* Puts `o` where the entry found at `ref` is. The old entry must still be
 * alive (its chain link is read): free it after this call. */
void db_replace(struct db *db, const struct db_ref *ref, struct dict_node *o);
/* Deletes the entry found at `ref`. */
void db_delete_at(struct db *db, const struct db_ref *ref);
/* Deletes `key` if present; returns whether it was. */
bool db_delete(struct db *db, struct slice key);
/* Removes the entry found at `ref` and returns it (RENAME, MOVE). */
struct dict_node *db_take(struct db *db, const struct db_ref *ref);

/* Inserts or overwrites `key` with `o` (SET): the old value is freed. */
void db_set(struct db *db, struct dict_node *o);
/* Puts `n` where `old` was (found at `ref`), with old's lru, and frees
 * `old`. */
void db_replace_entry(struct db *db, const struct db_ref *ref, struct dict_node *old,
                      struct dict_node *n);
/* Returns the string entry `o` (found at `ref`) as a RAW string whose bytes
 * obj_string_mut() can write in place up to `newlen`; the bytes past the
 * current length are unspecified. As Redis's dbUnshareStringValue and
 * sdsMakeRoomFor do: an encoded value is copied out exactly, and a string
 * that must grow gets room for twice its new length (or 1 MB more). Keeps
 * the deadline; may move the entry (APPEND, SETRANGE, SETBIT, BITFIELD). */
struct dict_node *db_string_make_room(struct db *db, const struct db_ref *ref, struct dict_node *o,
                                      size_t newlen);

/* Sets (ms >= 0) or removes (ms < 0) the deadline of the entry at `ref`;
 * returns the entry, which may have moved. */
struct dict_node *db_set_expire(struct db *db, const struct db_ref *ref, struct dict_node *o,
                                long long when);

/* Reports a change of `key` through the touch hook (callers of db_insert
 * etc. do this once per command, after the change). */
void db_touch(struct db *db, struct slice key);

/* True if the entry's deadline has passed at the cached clock. */
static inline bool db_is_expired(const struct dict_node *o, long long now)
{
    return obj_has_ttl(o) && obj_expire(o) < now;
}

/* Deletes every key; returns how many there were. */
size_t db_flush(struct db *db);

static inline size_t db_size(const struct db *db)
{
    return dict_size(&db->dict);
}

/* A random key that is not expired, or NULL when the db is empty. Expired
 * keys met on the way are deleted. */
struct dict_node *db_random(struct db *db);

/* ---- Active expiry ---- */

struct expire_cycle_stats {
    long long sampled;
    long long expired;
    bool time_cap_reached;
};

/* One active-expiry pass over all dbs (Redis's activeExpireCycle, slow
 * kind): samples marked buckets, deletes expired keys, and repeats in a db
 * while more than `stale_pct` % of the sample was expired and the time
 * budget (`budget_us`) lasts. `effort` 1..10 scales the sample size. */
void db_expire_cycle(struct keyspace *ks, int effort, long long budget_us,
                     struct expire_cycle_stats *out);

#endif
