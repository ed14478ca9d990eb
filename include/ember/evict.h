/* evict.h: maxmemory and the eviction policies (issue 8).
 *
 * Dispatch calls evict_before_command() before every command while
 * maxmemory is set: it evicts keys by the configured policy until used
 * memory is under the limit (with bounded work per call), and refuses
 * commands flagged CMD_DENYOOM with Redis's OOM error when it cannot.
 *
 * Policies are Redis's, approximated the same way: nothing is kept per key
 * but the 24-bit `lru` field of the entry (object.h), which db.c stamps on
 * every access with the LRU clock (seconds) or, under an LFU policy, updates
 * as Redis's LFU counter:
 *
 *   lru field under LFU:  +---------------------------+-------------+
 *                         | minutes of last decrement | log counter |
 *                         | 16 bits (mod 2^16)        | 8 bits      |
 *                         +---------------------------+-------------+
 *
 * Eviction samples `maxmemory-samples` keys per db (for volatile-* only keys
 * with a deadline), scores them ("higher = evict first": idle seconds,
 * 255 - decayed counter, or the nearness of the deadline), keeps the best 16
 * candidates seen so far in a pool that survives between calls, and deletes
 * the best one that still exists; repeat while over the limit. */
#ifndef EMBER_EVICT_H
#define EMBER_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct command;
struct dict_node;
struct keyspace;

/* ---- Dispatch hook ---- */

/* Evicts as the policy says while used memory is over maxmemory (at most
 * about 500 us of work, then the command runs anyway, as
 * Redis's performEvictions does). Returns false after replying -OOM when
 * memory is still over the limit and the command may grow it: flagged
 * CMD_DENYOOM, or queued inside MULTI. Also records the memory peak (Redis
 * does so after each command, before the next eviction). */
bool evict_before_command(struct client *c, const struct command *cmd);

/* Whether memory was still over the limit after the last
 * evict_before_command() (Redis's server.pre_command_oom_state): scripts
 * check it before running a write that may grow memory. */
bool evict_pre_command_oom(void);

/* Bytes in use by the allocator, cheap enough to read per command: the main
 * thread's jemalloc counters (allocated - deallocated) through pointers
 * fetched once; the Asan build asks the sanitizer's allocator. This is the
 * figure eviction compares with maxmemory (INFO's used_memory). */
size_t evict_used_memory(void);

/* Copies the policy settings the keyspace needs (LFU or not, lfu-log-factor,
 * lfu-decay-time) from server.cfg into server.ks, and lets the tables grow
 * freely again when maxmemory is 0. Call after the configuration is loaded
 * and after CONFIG SET of maxmemory, maxmemory-policy or lfu-*. */
void evict_apply_config(void);

/* From the cron: goes on evicting while memory is over the limit, so a
 * slice cut short by the time limit, or a limit lowered while no command
 * arrives, is finished without traffic (Redis's eviction time proc). Works
 * for at most a quarter of a cron tick (as the slow expire cycle); returns
 * true if memory is still over the limit and eviction could go on (a
 * caller may then run it again soon, e.g. once per loop iteration, as
 * Redis's zero-delay timer does, for shorter slices). */
bool evict_cron(void);

/* Frees what the candidate pool holds (copies of long keys). */
void evict_teardown(void);

/* ---- LFU arithmetic (Redis's, on the layout above) ---- */

#define EVICT_LFU_INIT_VAL 5 /* new keys' counter, so they are not evicted at once */

/* Minutes of the LFU clock (mod 2^16) at `now_ms`. */
static inline uint32_t evict_lfu_minutes(long long now_ms)
{
    return (uint32_t)(now_ms / 60000) & 0xFFFFu;
}

/* The lru field a new key gets under LFU at `now_ms`. */
static inline uint32_t evict_lfu_init(long long now_ms)
{
    return evict_lfu_minutes(now_ms) << 8 | EVICT_LFU_INIT_VAL;
}

/* The counter in `lru` after the decay it is due at `now_min` (one per
 * `decay_time` minutes since its last update; 0 = no decay), without
 * changing anything: Redis's LFUDecrAndReturn. */
uint32_t evict_lfu_decayed(uint32_t lru, uint32_t now_min, int decay_time);

/* The counter after one hit, given a uniform random r in [0, 1): +1 with
 * probability 1 / ((counter - 5) * log_factor + 1), never past 255
 * (Redis's LFULogIncr). */
uint32_t evict_lfu_log_incr(uint32_t counter, int log_factor, double r);

/* OBJECT FREQ: the entry's decayed LFU counter at the cached clock, with
 * server.cfg's lfu-decay-time (meaningful only under an LFU policy). */
long long evict_lfu_freq(const struct dict_node *o);

/* OBJECT IDLETIME: seconds since the entry's last access, from the LRU
 * clock (meaningful only under a non-LFU policy). */
long long evict_idle_seconds(const struct dict_node *o);

/* ---- Candidate pool (Redis's evictionPoolEntry) ---- */

#define EVICT_POOL_SIZE       16
#define EVICT_POOL_CACHED_KEY 255 /* keys up to this long are copied without allocating */

struct evict_pool_entry {
    unsigned long long score; /* higher = better candidate */
    int dbid;
    bool used;
    size_t klen;
    char *key;        /* `cached`, or em_malloc'd for a longer key */
    const void *node; /* the entry when sampled: a cheap first test for repeats */
    char *cached;     /* one of the pool's buffers; moves with the entry */
};

/* The used entries come first, sorted by score, ascending. */
struct evict_pool {
    struct evict_pool_entry e[EVICT_POOL_SIZE];
    char bufs[EVICT_POOL_SIZE][EVICT_POOL_CACHED_KEY];
    int next_db; /* random policies: the db the last victim came from */
};

void evict_pool_init(struct evict_pool *p);
/* Drops every candidate (frees long-key copies). */
void evict_pool_clear(struct evict_pool *p);
/* Offers a candidate: it takes a slot if the pool has room or if it scores
 * higher than the worst candidate, which then drops out (Redis's insertion:
 * equal scores go before the ones already there). Copies the key. `node`
 * (the entry's address, or NULL) only speeds up spotting a key sampled
 * again, which replaces its older entry. */
void evict_pool_insert(struct evict_pool *p, unsigned long long score, int dbid, struct slice key,
                       const void *node);
/* Index of the best candidate, or -1 when the pool is empty. */
int evict_pool_best(const struct evict_pool *p);
/* Removes the candidate at index i (keeping the order). */
void evict_pool_remove(struct evict_pool *p, int i);

/* ---- Selection and deletion (server-independent, for tests) ---- */

/* How candidates are scored under `policy` (enum maxmemory_policy) for
 * entry `o` in keyspace `ks` at the cached clock; higher = evict first. */
unsigned long long evict_score(const struct keyspace *ks, int policy, const struct dict_node *o);

/* Evicts one key from `ks` under `policy` (not noeviction), sampling
 * `samples` keys per db into `pool`: tells the touch hook and keyspace
 * notifications ("evicted"), counts stats.evicted_keys, deletes the key.
 * Returns false when there is no key the policy may evict. *freed gets the
 * bytes the deletion released (by evict_used_memory()). */
bool evict_one(struct keyspace *ks, struct evict_pool *pool, int policy, int samples,
               size_t *freed);

#endif
