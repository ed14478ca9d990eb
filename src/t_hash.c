/* t_hash.c: hash commands (HSET, HGET, HGETALL, HINCRBY, HRANDFIELD, HSCAN, ...).
 *
 * The container is hash.c's: a keyspace entry holds its handle (obj_ptr()
 * and the encoding in obj_enc()), and every handler that changes the hash
 * writes the handle back, since a change may move the listpack or turn it
 * into a table. Replies, errors and their order follow Redis 7.0.15's
 * t_hash.c: arguments are checked before the key is looked up where Redis
 * does so (HINCRBY's increment, HSCAN's cursor, HRANDFIELD's count), and a
 * hash emptied by HDEL is deleted.
 *
 * Reads count keyspace hits and misses (Redis's lookupKeyRead); writes call
 * db_touch(), publish the keyspace event and add to server.dirty. */
#include "ember/hash.h"

#include "ember/aof.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* Redis's HRANDFIELD_RANDOM_SAMPLE_LIMIT: random picks are drawn in batches
 * of this many, so a large negative count needs no large buffer. */
#define HRANDFIELD_BATCH 1000

/* Whether the container functions are registered with object.c. */
static bool registered;

void t_hash_setup(void)
{
    obj_register_free(OBJ_HASH, hash_free_container);
    obj_register_size(OBJ_HASH, hash_container_size);
    obj_register_dup(OBJ_HASH, hash_dup_container);
    registered = true;
}

/* ---- Helpers ---- */

static struct hash_limits limits(void)
{
    int entries = server.cfg.hash_max_listpack_entries;
    int value = server.cfg.hash_max_listpack_value;
    return (struct hash_limits){entries < 0 ? 0 : (size_t)entries, value < 0 ? 0 : (size_t)value};
}

static struct hash hash_of(const struct dict_node *o)
{
    return (struct hash){obj_ptr(o), obj_enc(o)};
}

/* Puts the (possibly moved or converted) container back into its entry. */
static void hash_store(struct dict_node *o, const struct hash *h)
{
    obj_set_ptr(o, h->ptr);
    obj_set_enc(o, h->enc);
}

/* Looks argv[1] up for reading and counts the hit or miss. Returns false
 * after replying WRONGTYPE; *out is NULL when the key is missing. */
static bool lookup_read(struct client *c, struct dict_node **out)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    db_count_lookup(c->db, o != NULL);
    if (o != NULL && obj_type(o) != OBJ_HASH) {
        reply_wrongtype(c);
        return false;
    }
    *out = o;
    return true;
}

/* A hash about to be written: the entry at argv[1] (`o`), or, when the key
 * is missing, a new empty hash that target_commit() inserts (Redis's
 * hashTypeLookupWriteOrCreate, without adding the key before it holds
 * anything). */
struct target {
    struct db_ref ref;
    struct dict_node *o;
    struct hash h;
};

static bool target_or_reply(struct client *c, struct target *t)
{
    t->o = db_find(c->db, c->argv[1], &t->ref);
    if (t->o == NULL) {
        hash_init(&t->h);
        return true;
    }
    if (obj_type(t->o) != OBJ_HASH) {
        reply_wrongtype(c);
        return false;
    }
    t->h = hash_of(t->o);
    return true;
}

static void target_commit(struct client *c, struct target *t)
{
    if (t->o == NULL) {
        /* Every hash starts here: registering on first use keeps hashes
         * freed even before server_init() calls t_hash_setup(). */
        if (!registered) t_hash_setup();
        db_insert(c->db, &t->ref, obj_create_ptr(c->argv[1], OBJ_HASH, t->h.enc, t->h.ptr, -1));
    } else {
        hash_store(t->o, &t->h);
    }
}

/* Leaves the keyspace as it was (an error after target_or_reply). */
static void target_abort(struct target *t)
{
    if (t->o == NULL) {
        hash_deinit(&t->h);
    } else {
        hash_store(t->o, &t->h);
    }
}

/* After a change of argv[1]: WATCH, the keyspace event, the dirty count. */
static void after_write(struct client *c, const char *event, long long dirty)
{
    db_touch(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_HASH, event, c->argv[1], c->db->id);
    server.dirty += dirty;
}

/* ---- Setting ---- */

/* HSET key field value [field value ...] (replies the number of new fields)
 * and HMSET, its older name (replies OK). */
static void hset_generic(struct client *c, bool hmset)
{
    if (c->argc % 2 == 1) {
        reply_arity_error(c);
        return;
    }
    struct target t;
    if (!target_or_reply(c, &t)) return;
    struct hash_limits lim = limits();
    hash_prepare_write(&t.h, c->argv + 2, (size_t)c->argc - 2, &lim);
    long long created = 0;
    for (int i = 2; i < c->argc; i += 2) {
        if (hash_set(&t.h, c->argv[i], c->argv[i + 1], &lim)) created++;
    }
    if (created > 0) hash_compact(&t.h);
    target_commit(c, &t);
    if (hmset) {
        reply_ok(c);
    } else {
        reply_int(c, created);
    }
    after_write(c, "hset", (c->argc - 2) / 2);
}

static void cmd_hset(struct client *c)
{
    hset_generic(c, false);
}

static void cmd_hmset(struct client *c)
{
    hset_generic(c, true);
}

/* HSETNX key field value: sets the field only if it does not exist. */
static void cmd_hsetnx(struct client *c)
{
    struct target t;
    if (!target_or_reply(c, &t)) return;
    if (hash_find(&t.h, c->argv[2], NULL)) {
        target_abort(&t);
        reply_int(c, 0);
        return;
    }
    struct hash_limits lim = limits();
    hash_prepare_write(&t.h, c->argv + 2, 2, &lim);
    hash_set(&t.h, c->argv[2], c->argv[3], &lim);
    hash_compact(&t.h);
    target_commit(c, &t);
    reply_int(c, 1);
    after_write(c, "hset", 1);
}

/* HINCRBY key field increment: the field's value as a 64-bit integer (0 if
 * absent) plus the increment. */
static void cmd_hincrby(struct client *c)
{
    long long incr;
    if (!arg_ll_or_reply(c, 3, &incr)) return;
    struct target t;
    if (!target_or_reply(c, &t)) return;
    long long value = 0;
    struct slice cur;
    char buf[UTIL_LL_STR_SIZE];
    if (hash_get(&t.h, c->argv[2], &cur, buf) && !str_to_ll(cur.ptr, cur.len, &value)) {
        target_abort(&t);
        reply_error(c, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        target_abort(&t);
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    int len = ll_to_str(buf, sizeof(buf), value);
    struct hash_limits lim = limits();
    if (hash_set(&t.h, c->argv[2], (struct slice){buf, (size_t)len}, &lim)) hash_compact(&t.h);
    target_commit(c, &t);
    reply_int(c, value);
    after_write(c, "hincrby", 1);
}

/* HINCRBYFLOAT key field increment: in long double, formatted as Redis's
 * ld2string (LD_STR_HUMAN) does; the result must be finite. */
static void cmd_hincrbyfloat(struct client *c)
{
    long double incr, value = 0;
    if (!str_to_ld(c->argv[3].ptr, c->argv[3].len, &incr)) {
        reply_not_float(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    struct target t;
    if (!target_or_reply(c, &t)) return;
    struct slice cur;
    char numbuf[UTIL_LL_STR_SIZE];
    if (hash_get(&t.h, c->argv[2], &cur, numbuf) && !str_to_ld(cur.ptr, cur.len, &value)) {
        target_abort(&t);
        reply_error(c, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        target_abort(&t);
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[UTIL_LD_STR_SIZE];
    int len = ld_to_str(buf, sizeof(buf), value);
    struct hash_limits lim = limits();
    if (hash_set(&t.h, c->argv[2], (struct slice){buf, (size_t)len}, &lim)) hash_compact(&t.h);
    target_commit(c, &t);
    reply_bulk(c, buf, (size_t)len);
    after_write(c, "hincrbyfloat", 1);
    /* Logged as the result (HSET), as Redis does: float text must not replay. */
    propagate_rewrite(
        c, 4, (struct slice[]){SLICE_LIT("HSET"), c->argv[1], c->argv[2], {buf, (size_t)len}});
}

/* HDEL key field [field ...]: replies how many existed; the key goes when
 * its last field does. */
static void cmd_hdel(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (obj_type(o) != OBJ_HASH) {
        reply_wrongtype(c);
        return;
    }
    struct hash h = hash_of(o);
    long long deleted = 0;
    bool emptied = false;
    for (int i = 2; i < c->argc && !emptied; i++) {
        if (hash_delete(&h, c->argv[i])) {
            deleted++;
            emptied = hash_len(&h) == 0;
        }
    }
    if (deleted > 0 && !emptied) hash_compact(&h);
    hash_store(o, &h);
    if (deleted > 0) {
        if (emptied) db_delete_at(c->db, &ref);
        db_touch(c->db, c->argv[1]);
        notify_keyspace_event(NOTIFY_HASH, "hdel", c->argv[1], c->db->id);
        if (emptied) notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
        server.dirty += deleted;
    }
    reply_int(c, deleted);
}

/* ---- Reading ---- */

/* The value of `field` in hash entry o (NULL: a missing key); false if
 * absent. Integers are formatted into buf (UTIL_LL_STR_SIZE). */
static bool entry_get(const struct dict_node *o, struct slice field, struct slice *v, char *buf)
{
    if (o == NULL) return false;
    struct hash h = hash_of(o);
    return hash_get(&h, field, v, buf);
}

/* HGET key field */
static void cmd_hget(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    struct slice v;
    char buf[UTIL_LL_STR_SIZE];
    if (!entry_get(o, c->argv[2], &v, buf)) {
        reply_null(c);
        return;
    }
    reply_bulk_slice(c, v);
}

/* HMGET key field [field ...]: a nil for each absent field. */
static void cmd_hmget(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        struct slice v;
        char buf[UTIL_LL_STR_SIZE];
        if (entry_get(o, c->argv[i], &v, buf)) {
            reply_bulk_slice(c, v);
        } else {
            reply_null(c);
        }
    }
}

/* HLEN key */
static void cmd_hlen(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    struct hash h = hash_of(o);
    reply_int(c, (long long)hash_len(&h));
}

/* HSTRLEN key field: the value's length, 0 if absent. */
static void cmd_hstrlen(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    struct slice v = {NULL, 0};
    char buf[UTIL_LL_STR_SIZE];
    entry_get(o, c->argv[2], &v, buf);
    reply_int(c, (long long)v.len);
}

/* HEXISTS key field */
static void cmd_hexists(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    struct slice v;
    char buf[UTIL_LL_STR_SIZE];
    reply_int(c, entry_get(o, c->argv[2], &v, buf));
}

enum getall_what { GETALL_FIELDS = 1, GETALL_VALUES = 2, GETALL_BOTH = 3 };

/* HGETALL (a map in RESP3), HKEYS and HVALS (arrays). */
static void getall_generic(struct client *c, enum getall_what what)
{
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    long long len = 0;
    struct hash h;
    if (o != NULL) {
        h = hash_of(o);
        len = (long long)hash_len(&h);
    }
    if (what == GETALL_BOTH) {
        reply_map_len(c, len);
    } else {
        reply_array_len(c, len);
    }
    if (o == NULL) return;
    struct hash_iter it;
    struct slice f, v;
    hash_iter_init(&it, &h);
    while (hash_iter_next(&it, &f, &v)) {
        if (what & GETALL_FIELDS) reply_bulk_slice(c, f);
        if (what & GETALL_VALUES) reply_bulk_slice(c, v);
    }
    hash_iter_deinit(&it);
}

static void cmd_hgetall(struct client *c)
{
    getall_generic(c, GETALL_BOTH);
}

static void cmd_hkeys(struct client *c)
{
    getall_generic(c, GETALL_FIELDS);
}

static void cmd_hvals(struct client *c)
{
    getall_generic(c, GETALL_VALUES);
}

/* ---- HRANDFIELD ---- */

/* One picked pair: the field, or with WITHVALUES field and value (a nested
 * pair in RESP3, flat in RESP2). */
static void reply_pick(struct client *c, const struct hash *h, struct hash_pos pos, bool withvalues)
{
    char fbuf[UTIL_LL_STR_SIZE], vbuf[UTIL_LL_STR_SIZE];
    if (withvalues && c->resp > 2) reply_array_len(c, 2);
    reply_bulk_slice(c, hash_pos_field(h, pos, fbuf));
    if (withvalues) reply_bulk_slice(c, hash_pos_value(h, pos, vbuf));
}

static void reply_picks_len(struct client *c, long long n, bool withvalues)
{
    reply_array_len(c, withvalues && c->resp == 2 ? n * 2 : n);
}

/* HRANDFIELD key count [WITHVALUES], Redis's hrandfieldWithCountCommand:
 * a negative count draws with repetition; a positive one returns distinct
 * fields, the whole hash when it asks for as many or more. */
static void hrandfield_count(struct client *c, long long count, bool withvalues)
{
    bool distinct = count >= 0;
    unsigned long long n = distinct ? (unsigned long long)count : (unsigned long long)-count;
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    if (o == NULL || n == 0) {
        reply_empty_array(c);
        return;
    }
    struct hash h = hash_of(o);
    size_t size = hash_len(&h);
    struct rng *rng = &server.ks.rng;

    if (!distinct || n == 1) {
        reply_picks_len(c, (long long)n, withvalues);
        struct hash_pos picks[HRANDFIELD_BATCH];
        while (n > 0) {
            size_t batch = n > HRANDFIELD_BATCH ? HRANDFIELD_BATCH : (size_t)n;
            hash_random_pairs(&h, rng, batch, picks);
            for (size_t i = 0; i < batch; i++)
                reply_pick(c, &h, picks[i], withvalues);
            n -= batch;
        }
        return;
    }
    if (n >= size) {
        reply_picks_len(c, (long long)size, withvalues);
        struct hash_iter it;
        struct hash_pos pos;
        hash_iter_init(&it, &h);
        while (hash_iter_next_pos(&it, &pos))
            reply_pick(c, &h, pos, withvalues);
        hash_iter_deinit(&it);
        return;
    }
    reply_picks_len(c, (long long)n, withvalues);
    struct hash_pos *picks = em_malloc((size_t)n * sizeof(*picks));
    hash_random_unique(&h, rng, (size_t)n, picks);
    for (size_t i = 0; i < n; i++)
        reply_pick(c, &h, picks[i], withvalues);
    em_free(picks);
}

/* HRANDFIELD key [count [WITHVALUES]] */
static void cmd_hrandfield(struct client *c)
{
    if (c->argc >= 3) {
        long long count;
        if (!arg_ll_or_reply(c, 2, &count)) return;
        if (count < -LLONG_MAX) {
            reply_error(c, "ERR value is out of range, value must between -9223372036854775807 "
                           "and 9223372036854775807");
            return;
        }
        bool withvalues = c->argc == 4;
        if (c->argc > 4 || (withvalues && !arg_is(c, 3, "withvalues"))) {
            reply_syntax_error(c);
            return;
        }
        /* Redis 7.0.15 bounds the count so that count * 2 cannot overflow. */
        if (withvalues && (count < -LLONG_MAX / 2 || count > LLONG_MAX / 2)) {
            reply_error(c, "ERR value is out of range");
            return;
        }
        hrandfield_count(c, count, withvalues);
        return;
    }
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct hash h = hash_of(o);
    struct hash_pos pos;
    char buf[UTIL_LL_STR_SIZE];
    hash_random_pairs(&h, &server.ks.rng, 1, &pos);
    reply_bulk_slice(c, hash_pos_field(&h, pos, buf));
}

/* ---- HSCAN ---- */

struct hscan_opts {
    long long count;
    struct slice pat; /* .ptr NULL: every field */
};

/* HSCAN's options from argv[3] on; false after replying the error. */
static bool parse_hscan_opts(struct client *c, struct hscan_opts *o)
{
    o->count = 10;
    o->pat = (struct slice){NULL, 0};
    for (int i = 3; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (arg_is(c, i, "count") && has_value) {
            if (!arg_ll_or_reply(c, i + 1, &o->count)) return false;
            if (o->count < 1) {
                reply_syntax_error(c);
                return false;
            }
        } else if (arg_is(c, i, "match") && has_value) {
            struct slice p = c->argv[i + 1];
            /* "*" matches everything: as if no pattern were given. */
            o->pat = p.len == 1 && p.ptr[0] == '*' ? (struct slice){NULL, 0} : p;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

static bool field_matches(const struct hscan_opts *o, struct slice field)
{
    return o->pat.ptr == NULL || glob_match(o->pat.ptr, o->pat.len, field.ptr, field.len, false);
}

/* What one HSCAN call over a table collected: the matching pairs, copied
 * (bytes in `buf`, lengths in `lens`), and how many pairs it visited. */
struct hscan_batch {
    const struct hscan_opts *opts;
    char *buf;
    size_t len, cap;
    size_t *lens;
    size_t nlens, lens_cap;
    unsigned long long visited;
};

static void batch_push(struct hscan_batch *b, struct slice s)
{
    if (b->len + s.len > b->cap) {
        b->cap = (b->len + s.len) * 2 + 64;
        b->buf = em_realloc(b->buf, b->cap);
    }
    if (s.len > 0) memcpy(b->buf + b->len, s.ptr, s.len);
    b->len += s.len;
    if (b->nlens == b->lens_cap) {
        b->lens_cap = b->lens_cap < 16 ? 16 : b->lens_cap * 2;
        b->lens = em_realloc(b->lens, b->lens_cap * sizeof(*b->lens));
    }
    b->lens[b->nlens++] = s.len;
}

static void hscan_collect(struct slice field, struct slice value, void *arg)
{
    struct hscan_batch *b = arg;
    b->visited++;
    if (!field_matches(b->opts, field)) return;
    batch_push(b, field);
    batch_push(b, value);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count]: a listpack hash comes
 * whole in one call with cursor 0, as in Redis; a table is walked from the
 * cursor until about COUNT elements (fields and values, as Redis counts
 * them) were visited, or 10 * COUNT buckets. MATCH filters fields after the
 * walk, so a call may return fewer than COUNT, even none. */
static void cmd_hscan(struct client *c)
{
    unsigned long long cursor;
    if (!scan_cursor_parse(c->argv[2], &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    struct dict_node *o;
    if (!lookup_read(c, &o)) return;
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    struct hscan_opts opts;
    if (!parse_hscan_opts(c, &opts)) return;
    struct hash h = hash_of(o);

    if (h.enc == OBJ_ENC_LISTPACK) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        void *len = reply_defer_len(c);
        long long n = 0;
        struct hash_iter it;
        struct slice f, v;
        hash_iter_init(&it, &h);
        while (hash_iter_next(&it, &f, &v)) {
            if (!field_matches(&opts, f)) continue;
            reply_bulk_slice(c, f);
            reply_bulk_slice(c, v);
            n += 2;
        }
        hash_iter_deinit(&it);
        reply_set_array_len(c, len, n);
        return;
    }

    struct hscan_batch b = {.opts = &opts};
    long long visits = opts.count > LLONG_MAX / 10 ? LLONG_MAX : opts.count * 10;
    do {
        cursor = hash_scan(&h, cursor, hscan_collect, &b);
    } while (cursor != 0 && visits-- != 0 && b.visited < (unsigned long long)opts.count);

    char buf[UTIL_LL_STR_SIZE];
    reply_array_len(c, 2);
    reply_bulk(c, buf, (size_t)ull_to_str(buf, sizeof(buf), cursor));
    reply_array_len(c, (long long)b.nlens);
    size_t off = 0;
    for (size_t i = 0; i < b.nlens; i++) {
        reply_bulk(c, b.buf + off, b.lens[i]);
        off += b.lens[i];
    }
    em_free(b.buf);
    em_free(b.lens);
}

/* ---- The table ---- */

#define HASH_CMD(n, p, a, f, sum_, since_, cx_)                                                    \
    {                                                                                              \
        .name = (n), .proc = (p), .arity = (a), .flags = (f), .first_key = 1, .last_key = 1,       \
        .key_step = 1, .group = "hash", .summary = (sum_), .since = (since_), .complexity = (cx_)  \
    }

#define CX_ALL "O(N) where N is the size of the hash."

/* clang-format off */
struct command hash_commands[] = {
    HASH_CMD("hset", cmd_hset, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             "Set the string value of a hash field", "2.0.0",
             "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the "
             "command is called with multiple field/value pairs."),
    HASH_CMD("hsetnx", cmd_hsetnx, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             "Set the value of a hash field, only if the field does not exist", "2.0.0", "O(1)"),
    HASH_CMD("hmset", cmd_hmset, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             "Set multiple hash fields to multiple values", "2.0.0",
             "O(N) where N is the number of fields being set."),
    HASH_CMD("hget", cmd_hget, 3, CMD_READONLY | CMD_FAST,
             "Get the value of a hash field", "2.0.0", "O(1)"),
    HASH_CMD("hmget", cmd_hmget, -3, CMD_READONLY | CMD_FAST,
             "Get the values of all the given hash fields", "2.0.0",
             "O(N) where N is the number of fields being requested."),
    HASH_CMD("hgetall", cmd_hgetall, 2, CMD_READONLY,
             "Get all the fields and values in a hash", "2.0.0", CX_ALL),
    HASH_CMD("hkeys", cmd_hkeys, 2, CMD_READONLY,
             "Get all the fields in a hash", "2.0.0", CX_ALL),
    HASH_CMD("hvals", cmd_hvals, 2, CMD_READONLY,
             "Get all the values in a hash", "2.0.0", CX_ALL),
    HASH_CMD("hdel", cmd_hdel, -3, CMD_WRITE | CMD_FAST,
             "Delete one or more hash fields", "2.0.0",
             "O(N) where N is the number of fields to be removed."),
    HASH_CMD("hexists", cmd_hexists, 3, CMD_READONLY | CMD_FAST,
             "Determine if a hash field exists", "2.0.0", "O(1)"),
    HASH_CMD("hlen", cmd_hlen, 2, CMD_READONLY | CMD_FAST,
             "Get the number of fields in a hash", "2.0.0", "O(1)"),
    HASH_CMD("hstrlen", cmd_hstrlen, 3, CMD_READONLY | CMD_FAST,
             "Get the length of the value of a hash field", "3.2.0", "O(1)"),
    HASH_CMD("hincrby", cmd_hincrby, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             "Increment the integer value of a hash field by the given number", "2.0.0", "O(1)"),
    HASH_CMD("hincrbyfloat", cmd_hincrbyfloat, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             "Increment the float value of a hash field by the given amount", "2.6.0", "O(1)"),
    HASH_CMD("hrandfield", cmd_hrandfield, -2, CMD_READONLY,
             "Get one or multiple random fields from a hash", "6.2.0",
             "O(N) where N is the number of fields returned"),
    HASH_CMD("hscan", cmd_hscan, -3, CMD_READONLY,
             "Incrementally iterate hash fields and associated values", "2.8.0",
             "O(1) for every call. O(N) for a complete iteration, including enough command calls "
             "for the cursor to return back to 0. N is the number of elements inside the "
             "collection.."),
    COMMAND_TABLE_END,
};
/* clang-format on */
