/* db.c: the keyspace (see db.h), lazy expiry and the active expire cycle.
 *
 * Deadlines live in the entries themselves. A key is expired when the
 * cached clock is past its deadline (Redis's keyIsExpired: now > when), and
 * it is deleted:
 *  - lazily, by db_find() and friends, the moment anyone looks at it;
 *  - actively, by db_expire_cycle() from the cron, which walks only the
 *    buckets marked as holding keys with a deadline, deletes the expired
 *    ones, and keeps going in a db while the stale share of its sample is
 *    high and the time budget lasts. Keys nobody reads are reclaimed without
 *    a walk over the whole keyspace. */
#include "ember/db.h"

#include "ember/evict.h" /* the LFU arithmetic (inline) */
#include "ember/mem.h"

static void destroy_entry(struct dict_node *n, void *ctx)
{
    (void)ctx;
    obj_destroy(n);
}

static bool entry_has_ttl(const struct dict_node *n)
{
    return obj_has_ttl(n);
}

static const struct dict_type keyspace_dict_type = {
    .destroy = destroy_entry,
    .is_marked = entry_has_ttl,
};

void keyspace_init(struct keyspace *ks, int count, uint64_t seed)
{
    memset(ks, 0, sizeof(*ks));
    ks->dbs = em_calloc((size_t)count, sizeof(*ks->dbs));
    ks->count = count;
    rng_seed(&ks->rng, seed);
    for (int i = 0; i < count; i++) {
        struct db *db = &ks->dbs[i];
        dict_init(&db->dict, &keyspace_dict_type);
        db->id = i;
        db->ks = ks;
    }
}

void keyspace_deinit(struct keyspace *ks)
{
    for (int i = 0; i < ks->count; i++)
        dict_deinit(&ks->dbs[i].dict, NULL);
    em_free(ks->dbs);
    ks->dbs = NULL;
    ks->count = 0;
}

void db_touch(struct db *db, struct slice key)
{
    if (db->ks->on_touch != NULL) db->ks->on_touch(db, key, db->ks->hook_ctx);
}

/* Records an access for eviction: the LRU clock (or, under an LFU policy,
 * the LFU counter) in the entry's 24-bit field. Owned by the eviction
 * work (issue 8; evict.h has the same LFU arithmetic for reading it back).
 *
 * LFU is Redis's updateLFU: the counter first loses one per lfu_decay_time
 * minutes since its last update (the high 16 bits, minutes mod 2^16), then
 * grows by one with probability 1 / ((counter - 5) * lfu_log_factor + 1),
 * 5 being the value new keys start at, so it counts hits logarithmically
 * up to 255. */
static inline void note_access(struct db *db, struct dict_node *o)
{
    struct keyspace *ks = db->ks;
    if (!ks->lfu) {
        obj_set_lru(o, ks->lru_clock);
        return;
    }
    uint32_t now = (uint32_t)(clock_ms() / 60000) & 0xFFFFu;
    uint32_t ldt = obj_lru(o) >> 8, counter = obj_lru(o) & 0xFFu;
    uint32_t elapsed = now >= ldt ? now - ldt : 0xFFFFu - ldt + now;
    if (ks->lfu_decay_time > 0) {
        uint32_t periods = elapsed / (uint32_t)ks->lfu_decay_time;
        counter = periods > counter ? 0 : counter - periods;
    }
    if (counter < 255) {
        double base = counter > 5 ? (double)(counter - 5) : 0.0;
        double r = (double)(rng_next(&ks->rng) >> 11) * 0x1.0p-53; /* [0, 1) */
        if (r < 1.0 / (base * ks->lfu_log_factor + 1.0)) counter++;
    }
    obj_set_lru(o, now << 8 | counter);
}

/* The access stamp a new entry starts with: the LRU clock, or under LFU
 * the current minute and Redis's LFU_INIT_VAL, so a new key is not the
 * first one evicted. */
static inline uint32_t first_access(const struct keyspace *ks)
{
    return ks->lfu ? evict_lfu_init(clock_ms()) : ks->lru_clock;
}

/* Deletes an expired entry and tells the hooks. */
static void expire_at(struct db *db, struct dict_pos *pos)
{
    struct dict_node *o = dict_unlink(&db->dict, pos);
    db->volatile_count--;
    db->ks->stats.expired_keys++;
    struct slice key = dict_node_key(o);
    if (db->ks->on_expired != NULL) db->ks->on_expired(db, key, db->ks->hook_ctx);
    db_touch(db, key);
    obj_destroy(o);
}

/* The key's hash, from the look-ahead hint when it is for these bytes. */
static inline uint64_t key_hash(const struct keyspace *ks, struct slice key)
{
    if (key.ptr == ks->hint.ptr && key.len == ks->hint.len && key.ptr != NULL) {
        return ks->hint.hash;
    }
    return dict_hash(key.ptr, key.len);
}

struct dict_node *db_find(struct db *db, struct slice key, struct db_ref *ref)
{
    ref->hash = key_hash(db->ks, key);
    struct dict_node *o = dict_find(&db->dict, ref->hash, key.ptr, key.len, &ref->pos);
    if (o == NULL) return NULL;
    if (obj_has_ttl(o)) {
        if (db_is_expired(o, clock_ms())) {
            expire_at(db, &ref->pos);
            return NULL;
        }
        ref->had_ttl = true;
    } else {
        ref->had_ttl = false;
    }
    note_access(db, o);
    return o;
}

struct dict_node *db_peek(struct db *db, struct slice key)
{
    uint64_t h = key_hash(db->ks, key);
    struct dict_node *o = dict_find(&db->dict, h, key.ptr, key.len, NULL);
    if (o != NULL && db_is_expired(o, clock_ms())) return NULL;
    return o;
}

void db_count_lookup(struct db *db, bool hit)
{
    if (hit) {
        db->ks->stats.keyspace_hits++;
    } else {
        db->ks->stats.keyspace_misses++;
    }
}

/* Blocked clients wait for lists and sorted sets to appear. */
static void signal_if_blockable(struct db *db, const struct dict_node *o)
{
    enum obj_type t = obj_type(o);
    if ((t == OBJ_LIST || t == OBJ_ZSET) && db->ks->on_ready != NULL) {
        db->ks->on_ready(db, dict_node_key(o), db->ks->hook_ctx);
    }
}

void db_insert(struct db *db, const struct db_ref *ref, struct dict_node *o)
{
    obj_set_lru(o, first_access(db->ks));
    dict_insert(&db->dict, ref->hash, o);
    if (obj_has_ttl(o)) db->volatile_count++;
    signal_if_blockable(db, o);
}

void db_replace(struct db *db, const struct db_ref *ref, struct dict_node *o)
{
    dict_replace(&db->dict, &ref->pos, o);
    bool has = obj_has_ttl(o);
    if (has && !ref->had_ttl) db->volatile_count++;
    if (!has && ref->had_ttl) db->volatile_count--;
    signal_if_blockable(db, o);
}

struct dict_node *db_take(struct db *db, const struct db_ref *ref)
{
    struct dict_node *o = dict_unlink(&db->dict, &ref->pos);
    if (obj_has_ttl(o)) db->volatile_count--;
    return o;
}

void db_delete_at(struct db *db, const struct db_ref *ref)
{
    obj_destroy(db_take(db, ref));
}

bool db_delete(struct db *db, struct slice key)
{
    struct db_ref ref;
    if (db_find(db, key, &ref) == NULL) return false;
    db_delete_at(db, &ref);
    return true;
}

void db_replace_entry(struct db *db, const struct db_ref *ref, struct dict_node *old,
                      struct dict_node *n)
{
    obj_set_lru(n, obj_lru(old));
    db_replace(db, ref, n);
    obj_destroy(old);
}

/* sdsMakeRoomFor's limit on doubling. */
#define STRING_MAX_PREALLOC (1024 * 1024)

struct dict_node *db_string_make_room(struct db *db, const struct db_ref *ref, struct dict_node *o,
                                      size_t newlen)
{
    char buf[UTIL_LL_STR_SIZE];
    struct slice cur = obj_string(o, buf);
    /* Only entries built by obj_create_raw() keep their bytes where
     * obj_string_mut() points (a long SET value is RAW with a short
     * length prefix). */
    bool writable = obj_enc(o) == OBJ_ENC_RAW && cur.ptr == obj_string_mut(o);
    if (writable && newlen <= cur.len + obj_string_room(o)) return o;

    size_t spare = 0;
    if (newlen > cur.len) {
        size_t target = newlen < STRING_MAX_PREALLOC ? newlen * 2 : newlen + STRING_MAX_PREALLOC;
        spare = target - cur.len;
    }
    struct dict_node *n = obj_create_raw(dict_node_key(o), cur, spare, obj_expire(o));
    db_replace_entry(db, ref, o, n);
    return n;
}

void db_set(struct db *db, struct dict_node *o)
{
    struct slice key = dict_node_key(o);
    struct db_ref ref;
    struct dict_node *old = db_find(db, key, &ref);
    if (old == NULL) {
        db_insert(db, &ref, o);
        return;
    }
    /* An overwrite keeps the key's LFU history, as Redis's dbSetValue. */
    obj_set_lru(o, db->ks->lfu ? obj_lru(old) : db->ks->lru_clock);
    db_replace(db, &ref, o);
    obj_destroy(old);
}

struct dict_node *db_set_expire(struct db *db, const struct db_ref *ref, struct dict_node *o,
                                long long when)
{
    /* obj_with_expire may free `o`: relink the new block before anything
     * reads the chain again. */
    struct dict_node *next = o->next;
    struct dict_node *n = obj_with_expire(o, when);
    if (n != o) {
        n->next = next;
        *ref->pos.ref = n;
    }
    db_replace(db, ref, n);
    return n;
}

size_t db_flush(struct db *db)
{
    size_t n = db_size(db);
    if (db->ks->on_flush != NULL) db->ks->on_flush(db, db->ks->hook_ctx);
    dict_clear(&db->dict, NULL);
    db->volatile_count = 0;
    db->expire_cursor = 0;
    db->avg_ttl = 0;
    return n;
}

struct dict_node *db_random(struct db *db)
{
    long long now = clock_ms();
    /* If every key is expired we could loop for long: give up after a
     * bounded number of tries and report one anyway, as Redis does, but
     * only after deleting the expired keys we met. */
    for (int tries = 0; tries < 100 && db_size(db) > 0; tries++) {
        struct dict_node *o = dict_random(&db->dict, &db->ks->rng);
        if (!db_is_expired(o, now)) return o;
        struct db_ref ref;
        db_find(db, dict_node_key(o), &ref); /* expires it */
    }
    return NULL;
}

/* ---- Active expiry ---- */

#define EXPIRE_KEYS_PER_LOOP 20 /* keys sampled per round at effort 1 */
#define EXPIRE_STALE_PCT     10 /* keep going while more than this was stale */

struct cycle_ctx {
    struct db *db;
    long long now;
    long long sampled;
    long long expired;
    long long ttl_sum;
    long long ttl_samples;
};

static void cycle_visit(struct dict *d, struct dict_node *n, struct dict_pos *pos, void *arg)
{
    (void)d;
    struct cycle_ctx *c = arg;
    c->sampled++;
    long long when = obj_expire(n);
    if (when < c->now) {
        expire_at(c->db, pos);
        c->expired++;
    } else {
        c->ttl_sum += when - c->now;
        c->ttl_samples++;
    }
}

void db_expire_cycle(struct keyspace *ks, int effort, long long budget_us,
                     struct expire_cycle_stats *out)
{
    if (effort < 1) effort = 1;
    if (effort > 10) effort = 10;
    long long per_loop = EXPIRE_KEYS_PER_LOOP + EXPIRE_KEYS_PER_LOOP / 4 * (effort - 1);
    long long stale_pct = EXPIRE_STALE_PCT - (effort - 1);
    long long start = clock_mono_us();
    memset(out, 0, sizeof(*out));

    for (int i = 0; i < ks->count; i++) {
        struct db *db = &ks->dbs[i];
        struct cycle_ctx c = {.db = db, .now = clock_ms()};
        for (int rounds = 0; db->volatile_count > 0; rounds++) {
            long long before_sampled = c.sampled, before_expired = c.expired;
            /* Redis samples min(keys per loop, volatile keys): never the
             * same key twice in one round. */
            long long want =
                (long long)db->volatile_count < per_loop ? (long long)db->volatile_count : per_loop;
            while (c.sampled - before_sampled < want && db->volatile_count > 0) {
                if (dict_next_marked(&db->dict, &db->expire_cursor, cycle_visit, &c) < 0) break;
            }
            long long s = c.sampled - before_sampled, e = c.expired - before_expired;
            if (s == 0) break;
            /* Check the clock every 16 rounds, as Redis does, so the check
             * itself does not cost more than the work. */
            if ((rounds & 15) == 15 && clock_mono_us() - start > budget_us) {
                out->time_cap_reached = true;
                break;
            }
            if (e * 100 <= s * stale_pct) break;
        }
        if (c.ttl_samples > 0) {
            long long avg = c.ttl_sum / c.ttl_samples;
            /* Redis smooths with a 2% weight for the new sample. */
            db->avg_ttl = db->avg_ttl == 0 ? avg : (db->avg_ttl / 50) * 49 + avg / 50;
        }
        if (db->volatile_count == 0) db->avg_ttl = 0;
        out->sampled += c.sampled;
        out->expired += c.expired;
        if (out->time_cap_reached) break;
    }
    if (out->time_cap_reached) ks->stats.expired_time_cap_reached_count++;
    if (out->sampled > 0) {
        long long pct = out->expired * 10000 / out->sampled;
        /* Redis's expired_stale_perc is an exponential average too. */
        ks->stats.expired_stale_perc_x100 =
            (pct * 5 + ks->stats.expired_stale_perc_x100 * 95) / 100;
    }
}
