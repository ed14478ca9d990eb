/* evict.c: maxmemory enforcement and the eviction policies (see evict.h).
 *
 * The limit is checked before every command (dispatch calls
 * evict_before_command() while maxmemory is set), so the figure it compares
 * must be cheap: jemalloc keeps per-thread cumulative counters of bytes
 * allocated and freed, and ember allocates only on the main thread, so their
 * difference is the process's live heap, read through two pointers fetched
 * once.
 *
 * When memory is over the limit, keys go one at a time, best candidate
 * first, as Redis's performEvictions does:
 *  - lru/lfu/ttl policies sample `maxmemory-samples` keys in every db (for
 *    volatile-* only keys with a deadline: the marked buckets of the table,
 *    walked from a random place), score them, and keep the best 16 seen so
 *    far in a pool that survives between calls, so every eviction profits
 *    from earlier samples. The best candidate that still exists (and has not
 *    been touched since it was sampled) is deleted.
 *  - random policies pick one random key, visiting the dbs in turn.
 * The loop stops once the deletions freed what was over, or after about
 * EVICT_TIME_LIMIT_US (checked every 16 keys), so one command never stalls
 * for long; the next command, or the cron (evict_cron), carries on. A
 * command that may grow memory is refused with -OOM only if nothing could
 * be evicted.
 *
 * (This file includes jemalloc's header for the two counters; mem.c is
 * otherwise its only includer. A mem_used() there would be the tidier
 * home.)
 *
 * A table that is due to double is held back (its dict's resize_allowed)
 * when the new bucket array alone would cross the limit, as Redis's
 * dictExpandAllowed does: the chains grow longer instead, up to the load
 * factor at which dict.c grows anyway. */
#include "ember/evict.h"

#include "ember/aof.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <limits.h>
#include <string.h>

#ifdef EMBER_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define EVICT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVICT_ASAN 1
#endif
#endif
#ifdef EVICT_ASAN
/* From the sanitizer runtime (<sanitizer/allocator_interface.h>, which GCC
 * does not install): bytes in live allocations, kept up to date. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define EVICT_TIME_LIMIT_US 500 /* Redis's default (maxmemory-eviction-tenacity 10) */
#define EVICT_MAX_ROUNDS    16  /* pool refills per key before giving up */

enum evict_result { EVICT_OK, EVICT_RUNNING, EVICT_FAIL };

/* The server's eviction state: the pool, and the policy it was filled under
 * (scores of different policies do not compare). */
static struct {
    bool ready;
    int policy;
    long long maxmemory; /* as last applied, to warn only when it changes */
    bool oom;            /* over the limit after the last command's eviction */
    struct evict_pool pool;
#ifdef EMBER_JEMALLOC
    const uint64_t *allocated;
    const uint64_t *deallocated;
#endif
} st;

/* ---- Accounting ---- */

size_t evict_used_memory(void)
{
#ifdef EMBER_JEMALLOC
    if (st.allocated == NULL) {
        uint64_t *a = NULL, *d = NULL;
        size_t sz = sizeof(a);
        if (mallctl("thread.allocatedp", &a, &sz, NULL, 0) != 0 ||
            mallctl("thread.deallocatedp", &d, &sz, NULL, 0) != 0 || a == NULL || d == NULL) {
            struct mem_stats ms;
            mem_stats_read(&ms);
            return ms.allocated;
        }
        st.allocated = a;
        st.deallocated = d;
    }
    uint64_t a = *st.allocated, d = *st.deallocated;
    return a > d ? (size_t)(a - d) : 0;
#elif defined(EVICT_ASAN)
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mem_stats ms;
    mem_stats_read(&ms);
    return ms.allocated;
#endif
}

/* ---- LFU arithmetic ---- */

uint32_t evict_lfu_decayed(uint32_t lru, uint32_t now_min, int decay_time)
{
    uint32_t ldt = (lru >> 8) & 0xFFFFu, counter = lru & 0xFFu;
    if (decay_time <= 0) return counter;
    uint32_t elapsed = now_min >= ldt ? now_min - ldt : 0xFFFFu - ldt + now_min;
    uint32_t periods = elapsed / (uint32_t)decay_time;
    return periods > counter ? 0 : counter - periods;
}

uint32_t evict_lfu_log_incr(uint32_t counter, int log_factor, double r)
{
    if (counter >= 255) return 255;
    double base = counter > EVICT_LFU_INIT_VAL ? (double)(counter - EVICT_LFU_INIT_VAL) : 0.0;
    return r < 1.0 / (base * log_factor + 1.0) ? counter + 1 : counter;
}

long long evict_lfu_freq(const struct dict_node *o)
{
    return evict_lfu_decayed(obj_lru(o), evict_lfu_minutes(clock_ms()), server.cfg.lfu_decay_time);
}

static unsigned long long idle_seconds(uint32_t clock, uint32_t lru)
{
    return clock >= lru ? clock - lru : clock + (OBJ_LRU_MAX - lru);
}

long long evict_idle_seconds(const struct dict_node *o)
{
    return (long long)idle_seconds(server.ks.lru_clock, obj_lru(o));
}

/* ---- Candidate pool ---- */

void evict_pool_init(struct evict_pool *p)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < EVICT_POOL_SIZE; i++)
        p->e[i].cached = p->bufs[i];
}

static void entry_release(struct evict_pool_entry *e)
{
    if (e->key != NULL && e->key != e->cached) em_free(e->key);
    e->key = NULL;
    e->klen = 0;
    e->used = false;
}

void evict_pool_clear(struct evict_pool *p)
{
    for (int i = 0; i < EVICT_POOL_SIZE; i++)
        entry_release(&p->e[i]);
}

void evict_pool_remove(struct evict_pool *p, int i)
{
    entry_release(&p->e[i]);
    /* Keep the used entries packed at the front; the freed buffer moves to
     * the end with its (now unused) slot. */
    char *cached = p->e[i].cached;
    memmove(&p->e[i], &p->e[i + 1], sizeof(p->e[0]) * (size_t)(EVICT_POOL_SIZE - i - 1));
    struct evict_pool_entry *last = &p->e[EVICT_POOL_SIZE - 1];
    last->cached = cached;
    last->key = NULL;
    last->klen = 0;
    last->used = false;
}

/* A key sampled again is normally the same entry: compare addresses first,
 * and the bytes only then (the address may have been reused by another
 * key). A key that moved is not found: a duplicate, which is harmless
 * (Redis's pool allows them). */
static int pool_find(const struct evict_pool *p, int dbid, struct slice key, const void *node)
{
    if (node == NULL) return -1;
    for (int i = 0; i < EVICT_POOL_SIZE && p->e[i].used; i++) {
        const struct evict_pool_entry *e = &p->e[i];
        if (e->node == node && e->dbid == dbid && e->klen == key.len &&
            memcmp(e->key, key.ptr, key.len) == 0) {
            return i;
        }
    }
    return -1;
}

void evict_pool_insert(struct evict_pool *p, unsigned long long score, int dbid, struct slice key,
                       const void *node)
{
    /* A key sampled again replaces its older entry (Redis keeps both). */
    int dup = pool_find(p, dbid, key, node);
    if (dup >= 0) evict_pool_remove(p, dup);

    /* From here on Redis's evictionPoolPopulate: find the first free slot
     * or the first candidate scoring no less than this one. */
    int k = 0;
    while (k < EVICT_POOL_SIZE && p->e[k].used && p->e[k].score < score)
        k++;
    struct evict_pool_entry *last = &p->e[EVICT_POOL_SIZE - 1];
    if (k == 0 && last->used) return; /* worse than everything in a full pool */
    if (k < EVICT_POOL_SIZE && !p->e[k].used) {
        /* A free slot: nothing to move. */
    } else if (!last->used) {
        /* Room on the right: shift k.. one step right. */
        char *cached = last->cached;
        memmove(&p->e[k + 1], &p->e[k], sizeof(p->e[0]) * (size_t)(EVICT_POOL_SIZE - k - 1));
        p->e[k].cached = cached;
    } else {
        /* Full: drop the worst (slot 0) and shift the ones below k left. */
        k--;
        entry_release(&p->e[0]);
        char *cached = p->e[0].cached;
        memmove(&p->e[0], &p->e[1], sizeof(p->e[0]) * (size_t)k);
        p->e[k].cached = cached;
    }
    struct evict_pool_entry *e = &p->e[k];
    e->key = key.len <= EVICT_POOL_CACHED_KEY ? e->cached : em_malloc(key.len);
    memcpy(e->key, key.ptr, key.len);
    e->klen = key.len;
    e->node = node;
    e->score = score;
    e->dbid = dbid;
    e->used = true;
}

int evict_pool_best(const struct evict_pool *p)
{
    for (int i = EVICT_POOL_SIZE - 1; i >= 0; i--) {
        if (p->e[i].used) return i;
    }
    return -1;
}

/* ---- Selection ---- */

static bool policy_is_allkeys(int policy)
{
    return policy == MAXMEMORY_ALLKEYS_LRU || policy == MAXMEMORY_ALLKEYS_LFU ||
           policy == MAXMEMORY_ALLKEYS_RANDOM;
}

static bool policy_is_random(int policy)
{
    return policy == MAXMEMORY_ALLKEYS_RANDOM || policy == MAXMEMORY_VOLATILE_RANDOM;
}

unsigned long long evict_score(const struct keyspace *ks, int policy, const struct dict_node *o)
{
    switch (policy) {
    case MAXMEMORY_ALLKEYS_LRU:
    case MAXMEMORY_VOLATILE_LRU:
        return idle_seconds(ks->lru_clock, obj_lru(o));
    case MAXMEMORY_ALLKEYS_LFU:
    case MAXMEMORY_VOLATILE_LFU:
        /* Rarely used keys first: invert the counter. */
        return 255 -
               evict_lfu_decayed(obj_lru(o), evict_lfu_minutes(clock_ms()), ks->lfu_decay_time);
    case MAXMEMORY_VOLATILE_TTL:
        /* The sooner the deadline, the better. */
        return ULLONG_MAX - (unsigned long long)obj_expire(o);
    default:
        return 0;
    }
}

/* Where a victim is: its db, entry and position for db_delete_at(). */
struct victim {
    struct db *db;
    struct dict_node *o;
    struct db_ref ref;
};

/* A plain table lookup: no lazy expiry, no access stamp (the victim's
 * score must be read as it is). */
static struct dict_node *locate(struct db *db, struct slice key, struct db_ref *ref)
{
    ref->hash = dict_hash(key.ptr, key.len);
    struct dict_node *o = dict_find(&db->dict, ref->hash, key.ptr, key.len, &ref->pos);
    if (o != NULL) ref->had_ttl = obj_has_ttl(o);
    return o;
}

struct marked_sample {
    struct evict_pool *pool; /* NULL: just remember the first node */
    const struct keyspace *ks;
    int policy;
    int dbid;
    int want;
    int got;
    struct dict_node *first;
};

static void sample_marked(struct dict *d, struct dict_node *n, struct dict_pos *pos, void *arg)
{
    (void)d;
    (void)pos;
    struct marked_sample *s = arg;
    if (s->got++ >= s->want) return;
    if (s->first == NULL) s->first = n;
    if (s->pool != NULL) {
        evict_pool_insert(s->pool, evict_score(s->ks, s->policy, n), s->dbid, dict_node_key(n), n);
    }
}

/* Visits up to `want` keys with a deadline in `db`, from a random bucket on
 * (consecutive marked buckets, as Redis's dictGetSomeKeys walks). */
static void walk_marked(struct keyspace *ks, struct db *db, struct marked_sample *s)
{
    size_t cursor = (size_t)rng_next(&ks->rng);
    for (int calls = 0; s->got < s->want && calls < s->want; calls++) {
        if (dict_next_marked(&db->dict, &cursor, sample_marked, s) < 0) break;
    }
}

/* Up to `count` nodes of `d` from consecutive buckets starting at a random
 * one, jumping elsewhere after a run of empty buckets: Redis's
 * dictGetSomeKeys. Much cheaper than `count` dict_random() calls (one random
 * probe, then neighbouring buckets that share cache lines), and no node
 * comes twice. Reads the tables directly: a sampler of this kind belongs in
 * dict.c (see the report of issue 8). */
static int sample_some(struct dict *d, struct rng *r, struct dict_node **out, int count)
{
    if ((size_t)count > dict_size(d)) count = (int)dict_size(d);
    for (int j = 0; j < count && dict_is_rehashing(d); j++)
        dict_rehash(d, 1);
    int tables = dict_is_rehashing(d) ? 2 : 1;
    size_t mask = d->t[0].size - 1;
    if (tables == 2 && d->t[1].size - 1 > mask) mask = d->t[1].size - 1;
    size_t i = (size_t)rng_next(r) & mask;
    int stored = 0, empty_run = 0;
    for (long steps = (long)count * 10; stored < count && steps > 0; steps--) {
        for (int t = 0; t < tables; t++) {
            /* Buckets of the old table below rehash_idx are empty. */
            if (tables == 2 && t == 0 && i < (size_t)d->rehash_idx) {
                if (i >= d->t[1].size) {
                    i = (size_t)d->rehash_idx;
                } else {
                    continue;
                }
            }
            if (i >= d->t[t].size) continue;
            struct dict_node *n = d->t[t].buckets[i];
            if (n == NULL) {
                if (++empty_run >= 5 && empty_run > count) {
                    i = (size_t)rng_next(r) & mask;
                    empty_run = 0;
                }
                continue;
            }
            empty_run = 0;
            for (; n != NULL; n = n->next) {
                out[stored++] = n;
                if (stored == count) return stored;
            }
        }
        i = (i + 1) & mask;
    }
    return stored;
}

#define SAMPLE_BATCH 64

static void pool_populate(struct keyspace *ks, struct evict_pool *pool, int policy, int samples,
                          struct db *db)
{
    if (policy_is_allkeys(policy)) {
        struct dict_node *nodes[SAMPLE_BATCH];
        while (samples > 0) {
            int want = samples < SAMPLE_BATCH ? samples : SAMPLE_BATCH;
            int got = sample_some(&db->dict, &ks->rng, nodes, want);
            for (int i = 0; i < got; i++) {
                evict_pool_insert(pool, evict_score(ks, policy, nodes[i]), db->id,
                                  dict_node_key(nodes[i]), nodes[i]);
            }
            if (got < want) break;
            samples -= got;
        }
        return;
    }
    struct marked_sample s = {
        .pool = pool, .ks = ks, .policy = policy, .dbid = db->id, .want = samples};
    walk_marked(ks, db, &s);
}

static size_t candidates(const struct db *db, int policy)
{
    return policy_is_allkeys(policy) ? db_size(db) : db->volatile_count;
}

/* Pops pool candidates, best first, until one still exists as sampled;
 * refills the pool from every db when it runs dry. */
static bool pick_from_pool(struct keyspace *ks, struct evict_pool *pool, int policy, int samples,
                           struct victim *v)
{
    bool allkeys = policy_is_allkeys(policy);
    for (int round = 0; round < EVICT_MAX_ROUNDS; round++) {
        size_t total = 0;
        for (int i = 0; i < ks->count; i++) {
            struct db *db = &ks->dbs[i];
            size_t n = candidates(db, policy);
            if (n > 0) pool_populate(ks, pool, policy, samples, db);
            total += n;
        }
        if (total == 0) return false;
        for (int k = evict_pool_best(pool); k >= 0; k = evict_pool_best(pool)) {
            struct evict_pool_entry *e = &pool->e[k];
            struct slice key = {e->key, e->klen};
            v->db = &ks->dbs[e->dbid];
            v->o = locate(v->db, key, &v->ref);
            if (v->o == NULL || (!allkeys && !obj_has_ttl(v->o))) {
                evict_pool_remove(pool, k); /* a ghost: gone since sampled */
                continue;
            }
            unsigned long long score = evict_score(ks, policy, v->o);
            if (score < e->score) {
                /* Used since it was sampled: file it again at its worth. */
                int dbid = e->dbid;
                evict_pool_remove(pool, k);
                evict_pool_insert(pool, score, dbid, dict_node_key(v->o), v->o);
                continue;
            }
            evict_pool_remove(pool, k);
            return true;
        }
    }
    return false;
}

/* One random key, trying the dbs in turn from the one after the last
 * victim's (Redis's next_db). */
static bool pick_random(struct keyspace *ks, struct evict_pool *pool, int policy, struct victim *v)
{
    for (int i = 0; i < ks->count; i++) {
        pool->next_db = (pool->next_db + 1) % ks->count;
        struct db *db = &ks->dbs[pool->next_db];
        if (candidates(db, policy) == 0) continue;
        struct dict_node *o;
        if (policy == MAXMEMORY_ALLKEYS_RANDOM) {
            o = dict_random(&db->dict, &ks->rng);
        } else {
            struct marked_sample s = {.want = 1};
            walk_marked(ks, db, &s);
            o = s.first;
        }
        if (o == NULL) continue;
        v->db = db;
        v->o = locate(db, dict_node_key(o), &v->ref);
        if (v->o != NULL) return true;
    }
    return false;
}

bool evict_one(struct keyspace *ks, struct evict_pool *pool, int policy, int samples, size_t *freed)
{
    struct victim v;
    *freed = 0;
    if (policy == MAXMEMORY_NOEVICTION) return false;
    bool found = policy_is_random(policy) ? pick_random(ks, pool, policy, &v)
                                          : pick_from_pool(ks, pool, policy, samples, &v);
    if (!found) return false;
    /* The hooks run while the key is still there (it lives in the entry);
     * nothing they do changes the table. Redis runs them right after the
     * deletion, which no client can tell apart. Only the deletion counts
     * as freed: a notification fills subscribers' buffers. */
    struct slice key = dict_node_key(v.o);
    ks->stats.evicted_keys++;
    db_touch(v.db, key);
    notify_keyspace_event(NOTIFY_EVICTED, "evicted", key, v.db->id);
    propagate_deleted(v.db, key); /* the AOF (and later replicas) see a DEL */
    size_t before = evict_used_memory();
    db_delete_at(v.db, &v.ref);
    size_t after = evict_used_memory();
    *freed = before > after ? before - after : 0;
    return true;
}

/* ---- The server's side ---- */

static void ensure_ready(void)
{
    if (st.ready) return;
    evict_pool_init(&st.pool);
    st.policy = server.cfg.maxmemory_policy;
    st.ready = true;
}

/* The settings the keyspace reads on every access, and a fresh pool when
 * the policy changed. */
static void sync_config(void)
{
    ensure_ready();
    int p = server.cfg.maxmemory_policy;
    server.ks.lfu = p == MAXMEMORY_ALLKEYS_LFU || p == MAXMEMORY_VOLATILE_LFU;
    server.ks.lfu_log_factor = server.cfg.lfu_log_factor;
    server.ks.lfu_decay_time = server.cfg.lfu_decay_time;
    if (p != st.policy) {
        evict_pool_clear(&st.pool);
        st.policy = p;
    }
}

/* Redis's performEvictions, for memory `used` over the limit. */
static enum evict_result perform_evictions(size_t used, size_t limit, long long budget_us)
{
    int policy = server.cfg.maxmemory_policy;
    if (policy == MAXMEMORY_NOEVICTION) return EVICT_FAIL;
    size_t tofree = used - limit, freed = 0;
    long long start = clock_mono_us();
    for (long long n = 1; freed < tofree; n++) {
        size_t f;
        if (!evict_one(&server.ks, &st.pool, policy, server.cfg.maxmemory_samples, &f)) {
            return EVICT_FAIL;
        }
        freed += f;
        if ((n & 15) == 0 && clock_mono_us() - start > budget_us) return EVICT_RUNNING;
    }
    return EVICT_OK;
}

/* Redis's dictExpandAllowed: hold back a table that is due to double when
 * its new bucket array (and marks) would take memory past the limit. */
static void limit_table_growth(struct dict *d, size_t used, size_t limit)
{
    bool allowed = true;
    if (!dict_is_rehashing(d) && d->t[0].size > 0 && d->t[0].used >= d->t[0].size) {
        size_t buckets = d->t[0].size * 2;
        size_t more = buckets * sizeof(struct dict_node *) + buckets / 8;
        allowed = used + more <= limit;
    }
    d->resize_allowed = allowed;
}

void evict_apply_config(void)
{
    sync_config();
    if (server.cfg.maxmemory == 0) {
        st.maxmemory = 0;
        for (int i = 0; i < server.ks.count; i++)
            server.ks.dbs[i].dict.resize_allowed = true;
        return;
    }
    size_t used = evict_used_memory(), limit = (size_t)server.cfg.maxmemory;
    bool changed = server.cfg.maxmemory != st.maxmemory;
    st.maxmemory = server.cfg.maxmemory;
    if (used <= limit) return;
    /* As Redis's updateMaxmemory: say so, and start evicting now. */
    if (changed) {
        log_warn("WARNING: the new maxmemory value set via CONFIG SET (%zu) is smaller than the "
                 "current memory usage (%zu). This will result in key eviction and/or the "
                 "inability to accept new write commands depending on the maxmemory-policy.",
                 limit, used);
    }
    perform_evictions(used, limit, EVICT_TIME_LIMIT_US);
}

bool evict_cron(void)
{
    if (server.cfg.maxmemory == 0) return false;
    sync_config();
    size_t used = evict_used_memory(), limit = (size_t)server.cfg.maxmemory;
    if (used <= limit) return false;
    /* A quarter of a tick, as the slow expire cycle takes. */
    long long budget = 1000000 / (server.cfg.hz > 0 ? server.cfg.hz : 10) / 4;
    return perform_evictions(used, limit, budget) == EVICT_RUNNING;
}

bool evict_pre_command_oom(void)
{
    return server.cfg.maxmemory > 0 && st.oom;
}

/* MULTI queues every command but these while memory is short. */
static bool ends_transaction(const struct command *cmd)
{
    return strcmp(cmd->name, "exec") == 0 || strcmp(cmd->name, "discard") == 0 ||
           strcmp(cmd->name, "quit") == 0 || strcmp(cmd->name, "reset") == 0;
}

bool evict_before_command(struct client *c, const struct command *cmd)
{
    sync_config(); /* CONFIG SET takes effect at the next command */
    size_t used = evict_used_memory(), limit = (size_t)server.cfg.maxmemory;
    if (used > server.peak_memory) server.peak_memory = used;
    bool oom = false;
    if (used > limit) {
        oom = perform_evictions(used, limit, EVICT_TIME_LIMIT_US) == EVICT_FAIL;
        used = evict_used_memory();
    }
    limit_table_growth(&c->db->dict, used, limit);
    st.oom = oom;
    if (!oom) return true;
    bool grows =
        (cmd->flags & CMD_DENYOOM) || ((c->flags & CLIENT_MULTI) && !ends_transaction(cmd));
    if (!grows) return true;
    reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
    return false;
}

void evict_teardown(void)
{
    if (st.ready) evict_pool_clear(&st.pool);
}
