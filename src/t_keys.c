/* t_keys.c: generic key commands (Redis's "generic" and keyspace "server"
 * groups): DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX TOUCH
 * DBSIZE FLUSHDB FLUSHALL COPY MOVE SWAPDB OBJECT.
 *
 * These commands work on entries as wholes, whatever their type, through
 * db.h. Lookups follow Redis's flavours (src/db.c lookupKey*):
 *  - write lookups (DEL, RENAME, MOVE) expire the key but count no stats;
 *  - read lookups (TOUCH, COPY's source) count a hit or miss and refresh the
 *    key's LRU clock;
 *  - "no touch" lookups (EXISTS, TYPE, OBJECT) count a hit or miss but leave
 *    the LRU clock alone, so OBJECT IDLETIME is not reset by looking.
 * Every path that could show a key applies lazy expiry first: KEYS and SCAN
 * skip (and SCAN deletes) expired keys, RANDOMKEY never returns one.
 *
 * A key lives inside its entry (object.h: one block holds key, deadline and
 * value), so RENAME and COPY build a new entry around the new key; a
 * container's value is a pointer, which RENAME and MOVE hand over as is. */
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/evict.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

/* ---- Helpers ---- */

static bool slice_eq(struct slice a, struct slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): expires the key if its
 * deadline passed and counts a hit or miss, but does not refresh the LRU
 * clock (db_find would). A miss costs a second lookup, which deletes the key
 * if it was only expired. TODO(lead): a db_find variant without the LRU
 * refresh would save it; expire.c has the same helper. */
static struct dict_node *lookup_notouch(struct db *db, struct slice key)
{
    struct dict_node *o = db_peek(db, key);
    if (o == NULL) {
        struct db_ref ref;
        db_find(db, key, &ref);
    }
    db_count_lookup(db, o != NULL);
    return o;
}

/* Redis's getIntFromObjectOrReply(c, o, &v, NULL): a 32-bit integer. */
static bool arg_int_or_reply(struct client *c, int i, int *out)
{
    long long v;
    if (!arg_ll_or_reply(c, i, &v)) return false;
    if (v < INT_MIN || v > INT_MAX) {
        reply_error_fmt(c, "ERR value is out of range, value must between %d and %d", INT_MIN,
                        INT_MAX);
        return false;
    }
    *out = (int)v;
    return true;
}

/* The db numbered argv[i] (MOVE, COPY ... DB), or NULL after replying. */
static struct db *arg_db_or_reply(struct client *c, int i)
{
    int id;
    if (!arg_int_or_reply(c, i, &id)) return NULL;
    if (id < 0 || id >= server.ks.count) {
        reply_error(c, "ERR DB index is out of range");
        return NULL;
    }
    return &server.ks.dbs[id];
}

/* A new string entry under `key` holding the value of string entry `o`, in
 * the same encoding (Redis's dupStringObject), with deadline `expire` and
 * at least `spare` bytes of room for a RAW string to grow. */
static struct dict_node *string_copy(const struct dict_node *o, struct slice key, long long expire,
                                     size_t spare)
{
    long long v;
    char buf[UTIL_LL_STR_SIZE];
    struct slice val = obj_string(o, buf);
    switch (obj_enc(o)) {
    case OBJ_ENC_INT:
        obj_string_ll(o, &v);
        return obj_create_int(key, v, expire);
    case OBJ_ENC_EMBSTR:
        /* An embstr may hold integer text (INCRBYFLOAT's "3"), which
         * obj_create_string would turn into an int: build it as t_string.c
         * does. */
        if (!str_to_ll(val.ptr, val.len, &v)) return obj_create_string(key, val, expire);
        struct dict_node *n = obj_create_raw(key, val, 0, expire);
        obj_set_enc(n, OBJ_ENC_EMBSTR);
        return n;
    default:
        return obj_create_raw(key, val, spare, expire);
    }
}

/* Rebuilds entry `o` (already out of the dict) under a new key, keeping its
 * type, encoding, value, deadline and LRU field; frees the old block but not
 * the container it points to, which the new entry now owns. TODO(lead): this
 * belongs in object.c as obj_with_key(), next to obj_with_expire(). */
static struct dict_node *entry_with_key(struct dict_node *o, struct slice key)
{
    struct dict_node *n;
    if (obj_type(o) == OBJ_STRING) {
        size_t spare = obj_enc(o) == OBJ_ENC_RAW ? obj_string_room(o) : 0;
        n = string_copy(o, key, obj_expire(o), spare);
    } else {
        n = obj_create_ptr(key, obj_type(o), obj_enc(o), obj_ptr(o), obj_expire(o));
    }
    obj_set_lru(n, obj_lru(o));
    em_free(o); /* not obj_destroy: the container moved to n */
    return n;
}

/* A deep copy of `o` under `key` with deadline `expire` (COPY), or NULL if
 * the type cannot be copied yet. */
static struct dict_node *entry_duplicate(const struct dict_node *o, struct slice key,
                                         long long expire)
{
    if (obj_type(o) == OBJ_STRING) return string_copy(o, key, expire, 0);
    void *copy = obj_dup_container(o); /* each type registers its copier */
    if (copy == NULL) return NULL;
    return obj_create_ptr(key, obj_type(o), obj_enc(o), copy, expire);
}

/* ---- DEL, UNLINK, EXISTS, TYPE, TOUCH ---- */

/* DEL key [key ...], UNLINK key [key ...]: replies how many existed. UNLINK
 * frees in the foreground too: ember has no lazy-free thread. */
static void cmd_del(struct client *c)
{
    long long deleted = 0;
    for (int i = 1; i < c->argc; i++) {
        if (!db_delete(c->db, c->argv[i])) continue;
        db_touch(c->db, c->argv[i]);
        notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[i], c->db->id);
        server.dirty++;
        deleted++;
    }
    reply_int(c, deleted);
}

/* EXISTS key [key ...]: a key named twice counts twice. */
static void cmd_exists(struct client *c)
{
    long long count = 0;
    for (int i = 1; i < c->argc; i++) {
        if (lookup_notouch(c->db, c->argv[i]) != NULL) count++;
    }
    reply_int(c, count);
}

/* TYPE key */
static void cmd_type(struct client *c)
{
    struct dict_node *o = lookup_notouch(c->db, c->argv[1]);
    reply_status(c, o == NULL ? "none" : obj_type_name(obj_type(o)));
}

/* TOUCH key [key ...]: refreshes the LRU clock of each existing key and
 * replies how many existed. */
static void cmd_touch(struct client *c)
{
    long long count = 0;
    for (int i = 1; i < c->argc; i++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, c->argv[i], &ref);
        db_count_lookup(c->db, o != NULL);
        if (o != NULL) count++;
    }
    reply_int(c, count);
}

/* ---- KEYS, SCAN, RANDOMKEY, DBSIZE ---- */

/* KEYS pattern: every live key matching, in table order. Expired keys are
 * skipped, not deleted: the walk must not change the table. */
static void cmd_keys(struct client *c)
{
    struct slice pat = c->argv[1];
    bool all = pat.len == 1 && pat.ptr[0] == '*';
    long long now = clock_ms();
    long long count = 0;
    void *len = reply_defer_len(c);
    struct dict_iter it;
    dict_iter_init(&it, &c->db->dict);
    for (struct dict_node *o; (o = dict_iter_next(&it)) != NULL;) {
        struct slice key = dict_node_key(o);
        if (!all && !glob_match(pat.ptr, pat.len, key.ptr, key.len, false)) continue;
        if (db_is_expired(o, now)) continue;
        reply_bulk_slice(c, key);
        count++;
    }
    dict_iter_deinit(&it);
    reply_set_array_len(c, len, count);
}

struct scan_opts {
    long long count;
    struct slice pat;  /* .ptr NULL: match everything */
    struct slice type; /* .ptr NULL: any type */
};

/* SCAN's options from argv[2] on; false after replying the error. */
static bool parse_scan_opts(struct client *c, struct scan_opts *o)
{
    o->count = 10;
    o->pat = (struct slice){NULL, 0};
    o->type = (struct slice){NULL, 0};
    for (int i = 2; i < c->argc; i += 2) {
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
        } else if (arg_is(c, i, "type") && has_value) {
            o->type = c->argv[i + 1];
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* The entries one SCAN call collected, before filtering. */
struct scan_batch {
    struct dict_node **v;
    size_t len, cap;
};

static void scan_collect(struct dict_node *n, void *arg)
{
    struct scan_batch *b = arg;
    if (b->len == b->cap) {
        b->cap = b->cap < 16 ? 16 : b->cap * 2;
        b->v = em_realloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->len++] = n;
}

/* Whether SCAN reports entry `o`; deletes it if its deadline passed (as
 * Redis's scanGenericCommand does). `o` is invalid if this returns false. */
static bool scan_keep(struct db *db, struct dict_node *o, const struct scan_opts *opts,
                      long long now)
{
    struct slice key = dict_node_key(o);
    if (opts->pat.ptr != NULL &&
        !glob_match(opts->pat.ptr, opts->pat.len, key.ptr, key.len, false)) {
        return false;
    }
    if (db_is_expired(o, now)) {
        struct db_ref ref;
        db_find(db, key, &ref); /* deletes it; `key` dies with it */
        if (opts->type.ptr != NULL) db_count_lookup(db, false);
        return false;
    }
    if (opts->type.ptr == NULL) return true;
    /* Redis looks the key up for its type, which counts a keyspace hit. */
    db_count_lookup(db, true);
    return slice_eq_nocase(opts->type, obj_type_name(obj_type(o)));
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: walks buckets from
 * the cursor until about COUNT keys were collected (at most 10*COUNT bucket
 * visits, so a sparse table cannot stall the server), then filters. Within
 * one call nothing changes the table between bucket visits, so each entry is
 * collected once and the pointers stay valid until filtering deletes the
 * expired ones. */
static void cmd_scan(struct client *c)
{
    unsigned long long cursor;
    if (!scan_cursor_parse(c->argv[1], &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    struct scan_opts opts;
    if (!parse_scan_opts(c, &opts)) return;

    struct db *db = c->db;
    struct scan_batch batch = {NULL, 0, 0};
    long long visits = opts.count > LLONG_MAX / 10 ? LLONG_MAX : opts.count * 10;
    do {
        cursor = dict_scan(&db->dict, cursor, scan_collect, &batch);
    } while (cursor != 0 && visits-- != 0 && batch.len < (unsigned long long)opts.count);

    long long now = clock_ms();
    size_t kept = 0;
    for (size_t i = 0; i < batch.len; i++) {
        if (scan_keep(db, batch.v[i], &opts, now)) batch.v[kept++] = batch.v[i];
    }
    char buf[UTIL_LL_STR_SIZE];
    reply_array_len(c, 2);
    reply_bulk(c, buf, (size_t)ull_to_str(buf, sizeof(buf), cursor));
    reply_array_len(c, (long long)kept);
    for (size_t i = 0; i < kept; i++) {
        reply_bulk_slice(c, dict_node_key(batch.v[i]));
    }
    em_free(batch.v);
}

/* RANDOMKEY */
static void cmd_randomkey(struct client *c)
{
    struct dict_node *o = db_random(c->db);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    reply_bulk_slice(c, dict_node_key(o));
}

/* DBSIZE: counts keys whose deadline passed but that were not reclaimed yet,
 * as Redis does. */
static void cmd_dbsize(struct client *c)
{
    reply_int(c, (long long)db_size(c->db));
}

/* ---- FLUSHDB, FLUSHALL, SWAPDB ---- */

/* [ASYNC|SYNC]: both free in the foreground (no lazy-free thread). */
static bool parse_flush_or_reply(struct client *c)
{
    if (c->argc == 1 || (c->argc == 2 && (arg_is(c, 1, "sync") || arg_is(c, 1, "async")))) {
        return true;
    }
    reply_syntax_error(c);
    return false;
}

/* FLUSHDB [ASYNC|SYNC]. db_flush() tells WATCH through the flush hook.
 * TODO(lead): an empty FLUSHDB leaves server.dirty alone, yet Redis
 * propagates it (forceCommandPropagation): the write log needs a way to
 * force it. */
static void cmd_flushdb(struct client *c)
{
    if (!parse_flush_or_reply(c)) return;
    server.dirty += (long long)db_flush(c->db);
    reply_ok(c);
}

/* FLUSHALL [ASYNC|SYNC]: every db; one change per key, as Redis 7.0.15
 * counts (same TODO as FLUSHDB). */
static void cmd_flushall(struct client *c)
{
    if (!parse_flush_or_reply(c)) return;
    long long removed = 0;
    for (int i = 0; i < server.ks.count; i++) {
        removed += (long long)db_flush(&server.ks.dbs[i]);
    }
    server.dirty += removed;
    reply_ok(c);
}

/* Tells WATCH that db's contents are about to change, or just changed,
 * wholesale (keyspace.on_flush; the hook checks which watched keys exist). */
static void signal_db_changed(struct db *db)
{
    if (db->ks->on_flush != NULL) db->ks->on_flush(db, db->ks->hook_ctx);
}

/* SWAPDB index1 index2: exchanges the contents of two dbs; clients keep
 * their db number and so see the other data. A watched key is invalidated
 * if it exists on either side of the swap (Redis's touchAllWatchedKeysInDb),
 * hence the hook before and after. TODO(lead): the swap belongs in db.c as
 * db_swap(); and clients blocked on a key that the swap brings in must be
 * woken (Redis's scanDatabaseForReadyKeys), which needs the blocking
 * module's list of blocked keys per db. */
static void cmd_swapdb(struct client *c)
{
    long long id1, id2;
    if (!arg_ll_range_or_reply(c, 1, INT_MIN, INT_MAX, &id1, "ERR invalid first DB index") ||
        !arg_ll_range_or_reply(c, 2, INT_MIN, INT_MAX, &id2, "ERR invalid second DB index")) {
        return;
    }
    if (id1 < 0 || id1 >= server.ks.count || id2 < 0 || id2 >= server.ks.count) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    struct db *a = &server.ks.dbs[id1], *b = &server.ks.dbs[id2];
    signal_db_changed(a);
    signal_db_changed(b);
    struct db tmp = *a;
    *a = *b;
    *b = tmp;
    /* The numbers and the keyspace stay with the slot, not the data. */
    b->id = a->id;
    a->id = (int)id1;
    b->ks = a->ks = &server.ks;
    signal_db_changed(a);
    signal_db_changed(b);
    server.dirty++;
    reply_ok(c);
}

/* ---- RENAME, RENAMENX, MOVE, COPY ---- */

/* RENAME key newkey, RENAMENX key newkey: the value, deadline and LRU field
 * travel to the new name; an existing destination is deleted first (freeing
 * its value) unless NX, which then replies 0. */
static void rename_generic(struct client *c, bool nx)
{
    struct slice src = c->argv[1], dst = c->argv[2];
    struct db *db = c->db;
    struct db_ref sref, dref;
    if (db_find(db, src, &sref) == NULL) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (slice_eq(src, dst)) {
        if (nx) {
            reply_int(c, 0);
        } else {
            reply_ok(c);
        }
        return;
    }
    if (db_find(db, dst, &dref) != NULL) {
        if (nx) {
            reply_int(c, 0);
            return;
        }
        db_delete_at(db, &dref);
    }
    /* The lookup of dst may have moved buckets, so sref is stale: find src
     * again (it cannot miss: the clock has not moved). dref's hash stays
     * valid for the insert. */
    db_find(db, src, &sref);
    db_insert(db, &dref, entry_with_key(db_take(db, &sref), dst));
    db_touch(db, src);
    db_touch(db, dst);
    notify_keyspace_event(NOTIFY_GENERIC, "rename_from", src, db->id);
    notify_keyspace_event(NOTIFY_GENERIC, "rename_to", dst, db->id);
    server.dirty++;
    if (nx) {
        reply_int(c, 1);
    } else {
        reply_ok(c);
    }
}

static void cmd_rename(struct client *c)
{
    rename_generic(c, false);
}

static void cmd_renamenx(struct client *c)
{
    rename_generic(c, true);
}

/* MOVE key db: moves the entry, deadline included, unless the target db
 * already has the key (replies 0). */
static void cmd_move(struct client *c)
{
    struct db *src = c->db, *dst = arg_db_or_reply(c, 2);
    if (dst == NULL) return;
    if (dst == src) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    struct db_ref sref, dref;
    if (db_find(src, c->argv[1], &sref) == NULL || db_find(dst, c->argv[1], &dref) != NULL) {
        reply_int(c, 0);
        return;
    }
    db_insert(dst, &dref, db_take(src, &sref));
    db_touch(src, c->argv[1]);
    db_touch(dst, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "move_from", c->argv[1], src->id);
    notify_keyspace_event(NOTIFY_GENERIC, "move_to", c->argv[1], dst->id);
    server.dirty++;
    reply_int(c, 1);
}

/* COPY source destination [DB destination-db] [REPLACE] */
static void cmd_copy(struct client *c)
{
    struct db *src = c->db, *dst = c->db;
    bool replace = false;
    for (int i = 3; i < c->argc; i++) {
        if (arg_is(c, i, "replace")) {
            replace = true;
        } else if (arg_is(c, i, "db") && i + 1 < c->argc) {
            if ((dst = arg_db_or_reply(c, ++i)) == NULL) return;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    struct slice key = c->argv[1], newkey = c->argv[2];
    if (src == dst && slice_eq(key, newkey)) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    struct db_ref sref, dref;
    struct dict_node *o = db_find(src, key, &sref);
    db_count_lookup(src, o != NULL);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    /* This lookup may move buckets of src (same db) but never frees `o`. */
    struct dict_node *old = db_find(dst, newkey, &dref);
    if (old != NULL && !replace) {
        reply_int(c, 0);
        return;
    }
    struct dict_node *copy = entry_duplicate(o, newkey, obj_expire(o));
    if (copy == NULL) {
        reply_error(c, "ERR COPY is not supported for this type yet");
        return;
    }
    if (old != NULL) db_delete_at(dst, &dref);
    db_insert(dst, &dref, copy);
    db_touch(dst, newkey);
    notify_keyspace_event(NOTIFY_GENERIC, "copy_to", newkey, dst->id);
    server.dirty++;
    reply_int(c, 1);
}

/* ---- OBJECT ---- */

#define OBJ_SHARED_INTEGERS 10000 /* Redis shares the integers 0..9999 */

static bool policy_is_lfu(void)
{
    int p = server.cfg.maxmemory_policy;
    return p == MAXMEMORY_ALLKEYS_LFU || p == MAXMEMORY_VOLATILE_LFU;
}

/* Looks argv[2] up for OBJECT; replies the null bulk if missing. */
static struct dict_node *object_lookup_or_reply(struct client *c)
{
    struct dict_node *o = lookup_notouch(c->db, c->argv[2]);
    if (o == NULL) reply_null(c);
    return o;
}

/* OBJECT ENCODING key */
static void cmd_object_encoding(struct client *c)
{
    struct dict_node *o = object_lookup_or_reply(c);
    if (o != NULL) reply_bulk_cstr(c, obj_enc_name(obj_enc(o)));
}

/* OBJECT REFCOUNT key: ember never shares values, but Redis shares the
 * integer strings 0..9999 (refcount INT_MAX) unless an LRU/LFU maxmemory
 * policy needs per-key access times; clients see that, so we say the same. */
static void cmd_object_refcount(struct client *c)
{
    struct dict_node *o = object_lookup_or_reply(c);
    if (o == NULL) return;
    int p = server.cfg.maxmemory_policy;
    bool share = server.cfg.maxmemory == 0 ||
                 !(p == MAXMEMORY_ALLKEYS_LRU || p == MAXMEMORY_VOLATILE_LRU || policy_is_lfu());
    long long v;
    bool shared = share && obj_type(o) == OBJ_STRING && obj_enc(o) == OBJ_ENC_INT &&
                  obj_string_ll(o, &v) && v >= 0 && v < OBJ_SHARED_INTEGERS;
    reply_int(c, shared ? INT_MAX : 1);
}

/* OBJECT IDLETIME key: seconds since the key was last accessed, from the
 * 24-bit LRU clock (seconds, wrapping), as Redis's estimateObjectIdleTime. */
static void cmd_object_idletime(struct client *c)
{
    struct dict_node *o = object_lookup_or_reply(c);
    if (o == NULL) return;
    if (policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                       "note that when switching between policies at runtime LRU and LFU data "
                       "will take some time to adjust.");
        return;
    }
    reply_int(c, evict_idle_seconds(o));
}

/* OBJECT FREQ key: the LFU counter, decayed by the minutes elapsed since its
 * last update (Redis's LFUDecrAndReturn). */
static void cmd_object_freq(struct client *c)
{
    struct dict_node *o = object_lookup_or_reply(c);
    if (o == NULL) return;
    if (!policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not "
                       "tracked. Please note that when switching between policies at runtime "
                       "LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, evict_lfu_freq(o));
}

/* OBJECT HELP */
static void cmd_object_help(struct client *c)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        reply_status(c, lines[i]);
    }
}

/* clang-format off */
static struct command object_subcommands[] = {
    {.name = "help", .proc = cmd_object_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "generic", .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "encoding", .proc = cmd_object_encoding, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Inspect the internal encoding of a Redis object", .since = "2.2.3",
     .complexity = "O(1)"},
    {.name = "freq", .proc = cmd_object_freq, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Get the logarithmic access frequency counter of a Redis object",
     .since = "4.0.0", .complexity = "O(1)"},
    {.name = "idletime", .proc = cmd_object_idletime, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Get the time since a Redis object was last accessed", .since = "2.2.3",
     .complexity = "O(1)"},
    {.name = "refcount", .proc = cmd_object_refcount, .arity = 3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Get the number of references to the value of the key", .since = "2.2.3",
     .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

struct command keys_commands[] = {
    {.name = "del", .proc = cmd_del, .arity = -2, .flags = CMD_WRITE,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic",
     .summary = "Delete a key", .since = "1.0.0",
     .complexity = "O(N) where N is the number of keys that will be removed. When a key to "
                   "remove holds a value other than a string, the individual complexity for "
                   "this key is O(M) where M is the number of elements in the list, set, "
                   "sorted set or hash. Removing a single key that holds a string value is "
                   "O(1)."},
    {.name = "unlink", .proc = cmd_del, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic",
     .summary = "Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                "but non blocking.", .since = "4.0.0",
     .complexity = "O(1) for each key removed regardless of its size. Then the command does "
                   "O(N) work in a different thread in order to reclaim memory, where N is the "
                   "number of allocations the deleted objects where composed of."},
    {.name = "exists", .proc = cmd_exists, .arity = -2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic",
     .summary = "Determine if a key exists", .since = "1.0.0",
     .complexity = "O(N) where N is the number of keys to check."},
    {.name = "type", .proc = cmd_type, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Determine the type stored at key", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "keys", .proc = cmd_keys, .arity = 2, .flags = CMD_READONLY,
     .group = "generic", .summary = "Find all keys matching the given pattern", .since = "1.0.0",
     .complexity = "O(N) with N being the number of keys in the database, under the assumption "
                   "that the key names in the database and the given pattern have limited "
                   "length."},
    {.name = "scan", .proc = cmd_scan, .arity = -2, .flags = CMD_READONLY,
     .group = "generic", .summary = "Incrementally iterate the keys space", .since = "2.8.0",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough "
                   "command calls for the cursor to return back to 0. N is the number of "
                   "elements inside the collection."},
    {.name = "randomkey", .proc = cmd_randomkey, .arity = 1, .flags = CMD_READONLY,
     .group = "generic", .summary = "Return a random key from the keyspace", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "rename", .proc = cmd_rename, .arity = 3, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Rename a key", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "renamenx", .proc = cmd_renamenx, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Rename a key, only if the new key does not exist", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "touch", .proc = cmd_touch, .arity = -2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "generic",
     .summary = "Alters the last access time of a key(s). Returns the number of existing keys "
                "specified.", .since = "3.2.1",
     .complexity = "O(N) where N is the number of keys that will be touched."},
    {.name = "dbsize", .proc = cmd_dbsize, .arity = 1, .flags = CMD_READONLY | CMD_FAST,
     .group = "server", .summary = "Return the number of keys in the selected database",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "flushdb", .proc = cmd_flushdb, .arity = -1, .flags = CMD_WRITE,
     .group = "server", .summary = "Remove all keys from the current database", .since = "1.0.0",
     .complexity = "O(N) where N is the number of keys in the selected database"},
    {.name = "flushall", .proc = cmd_flushall, .arity = -1, .flags = CMD_WRITE,
     .group = "server", .summary = "Remove all keys from all databases", .since = "1.0.0",
     .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "copy", .proc = cmd_copy, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "generic",
     .summary = "Copy a key", .since = "6.2.0",
     .complexity = "O(N) worst case for collections, where N is the number of nested items. "
                   "O(1) for string values."},
    {.name = "move", .proc = cmd_move, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Move a key to another database", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "swapdb", .proc = cmd_swapdb, .arity = 3, .flags = CMD_WRITE | CMD_FAST,
     .group = "server", .summary = "Swaps two Redis databases", .since = "4.0.0",
     .complexity = "O(N) where N is the count of clients watching or blocking on keys from "
                   "both databases."},
    {.name = "object", .proc = NULL, .arity = -2, .flags = 0,
     .group = "generic", .summary = "A container for object introspection commands",
     .since = "2.2.3", .complexity = "Depends on subcommand.",
     .subcommands = object_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
