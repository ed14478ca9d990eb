/* t_string.c: string commands (GET, SET and friends, counters, ranges, LCS).
 *
 * Values live inside the keyspace entry (object.h): integers as int64, other
 * strings inline after the key. Three encodings show through OBJECT ENCODING
 * and follow Redis's rules:
 *  - SET, MSET, GETSET, APPEND on a missing key store what SET would: "int"
 *    for integers of at most 20 characters, "embstr" up to 44 bytes, "raw";
 *  - APPEND and SETRANGE leave the value "raw", written in place. Like Redis's
 *    sds, a string that must grow reserves as much room again (at most 1 MB
 *    more), so a run of APPENDs reallocates O(log n) times;
 *  - INCR and friends keep (or give) "int" and update it in place.
 *
 * Reads count keyspace hits and misses the way Redis's lookupKeyRead does;
 * every change calls db_touch() and adds to server.dirty. */
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

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* sds's SDS_MAX_PREALLOC: growth reserves at most this much extra. */

/* ---- Helpers ---- */

/* Looks `key` up for reading and counts the hit or miss. Returns false after
 * replying WRONGTYPE if it holds another type; *out is NULL when missing. */
/* Keyspace notifications for one changed key (pubsub.h). */
static void notify_string(struct client *c, const char *event, struct slice key)
{
    notify_keyspace_event(NOTIFY_STRING, event, key, c->db->id);
}

static void notify_generic(struct client *c, const char *event, struct slice key)
{
    notify_keyspace_event(NOTIFY_GENERIC, event, key, c->db->id);
}

static bool lookup_read_string(struct client *c, struct slice key, struct db_ref *ref,
                               struct dict_node **out)
{
    struct dict_node *o = db_find(c->db, key, ref);
    db_count_lookup(c->db, o != NULL);
    if (o != NULL && obj_type(o) != OBJ_STRING) {
        reply_wrongtype(c);
        return false;
    }
    *out = o;
    return true;
}

static void reply_string_value(struct client *c, const struct dict_node *o)
{
    char buf[UTIL_LL_STR_SIZE];
    reply_bulk_slice(c, obj_string(o, buf));
}

/* Redis's checkStringLength: a string of `size` + `append` bytes must fit in
 * proto-max-bulk-len (and in the entry's 32-bit length). */
static bool length_ok_or_reply(struct client *c, unsigned long long size, unsigned long long append)
{
    unsigned long long total = size + append;
    if (total < size || total > (unsigned long long)server.cfg.proto_max_bulk_len ||
        total > UINT32_MAX) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    return true;
}

/* A string entry as Redis's createStringObject makes it: "embstr" or "raw",
 * never "int" (INCRBYFLOAT's results, even integral ones). */
static struct dict_node *create_plain_string(struct slice key, struct slice val, long long expire)
{
    long long ignored;
    if (!str_to_ll(val.ptr, val.len, &ignored)) return obj_create_string(key, val, expire);
    /* Integer text is at most 20 bytes: embstr-sized. */
    struct dict_node *o = obj_create_raw(key, val, 0, expire);
    obj_set_enc(o, OBJ_ENC_EMBSTR);
    return o;
}

/* ---- GET and its variants ---- */

/* GET key */
static void cmd_get(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &ref, &o)) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    reply_string_value(c, o);
}

/* GETDEL key: GET, then delete the key. */
static void cmd_getdel(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &ref, &o)) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    reply_string_value(c, o);
    db_delete_at(c->db, &ref);
    db_touch(c->db, c->argv[1]);
    notify_generic(c, "del", c->argv[1]);
    server.dirty++;
    propagate_del(c, c->argv[1]);
}

/* GETSET key value: SET (dropping any TTL) that replies the old value. */
static void cmd_getset(struct client *c)
{
    struct db_ref ref;
    struct dict_node *old;
    if (!lookup_read_string(c, c->argv[1], &ref, &old)) return;
    struct dict_node *o = obj_create_string(c->argv[1], c->argv[2], -1);
    if (old == NULL) {
        reply_null(c);
        db_insert(c->db, &ref, o);
    } else {
        reply_string_value(c, old);
        db_replace_entry(c->db, &ref, old, o);
    }
    db_touch(c->db, c->argv[1]);
    notify_string(c, "set", c->argv[1]);
    server.dirty++;
}

/* MGET key [key ...]: nil for keys missing or of another type. */
static void cmd_mget(struct client *c)
{
    reply_array_len(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, c->argv[j], &ref);
        db_count_lookup(c->db, o != NULL);
        if (o == NULL || obj_type(o) != OBJ_STRING) {
            reply_null(c);
        } else {
            reply_string_value(c, o);
        }
    }
}

/* STRLEN key */
static void cmd_strlen(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &ref, &o)) return;
    reply_int(c, o == NULL ? 0 : (long long)obj_strlen(o));
}

/* GETRANGE key start end (and SUBSTR): inclusive, negative indexes count
 * from the end, out-of-range ones are clamped. */
static void cmd_getrange(struct client *c)
{
    long long start, end;
    if (!arg_ll_or_reply(c, 2, &start) || !arg_ll_or_reply(c, 3, &end)) return;
    struct db_ref ref;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &ref, &o)) return;
    if (o == NULL) {
        reply_bulk(c, "", 0);
        return;
    }
    char buf[UTIL_LL_STR_SIZE];
    struct slice s = obj_string(o, buf);
    long long len = (long long)s.len;

    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    /* start + len cannot overflow: len is far below LLONG_MAX. */
    if (start < 0) start = len + start;
    if (end < 0) end = len + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (start > end || len == 0) {
        reply_bulk(c, "", 0);
        return;
    }
    reply_bulk(c, s.ptr + start, (size_t)(end - start + 1));
}

/* ---- SET, GETEX and their option parser ---- */

enum set_flag {
    SET_NX = 1 << 0,
    SET_XX = 1 << 1,
    SET_GET = 1 << 2,
    SET_KEEPTTL = 1 << 3,
    SET_PERSIST = 1 << 4,
    SET_EX = 1 << 5,
    SET_PX = 1 << 6,
    SET_EXAT = 1 << 7,
    SET_PXAT = 1 << 8,
};
#define SET_ANY_TTL       (SET_EX | SET_PX | SET_EXAT | SET_PXAT)
#define SET_OPTIONS_SET   (SET_NX | SET_XX | SET_GET | SET_KEEPTTL | SET_ANY_TTL)
#define SET_OPTIONS_GETEX (SET_PERSIST | SET_ANY_TTL)

/* The options Redis's parseExtendedStringArgumentsOrReply knows, with those
 * each one excludes. Repeating an option is allowed ("EX 1 EX 2"). */
static const struct set_option {
    const char *name;
    unsigned flag;
    unsigned conflicts;
    bool takes_arg;
} set_options[] = {
    {"nx", SET_NX, SET_XX, false},
    {"xx", SET_XX, SET_NX, false},
    {"get", SET_GET, 0, false},
    {"keepttl", SET_KEEPTTL, SET_PERSIST | SET_ANY_TTL, false},
    {"persist", SET_PERSIST, SET_KEEPTTL | SET_ANY_TTL, false},
    {"ex", SET_EX, SET_KEEPTTL | SET_PERSIST | (SET_ANY_TTL & ~SET_EX), true},
    {"px", SET_PX, SET_KEEPTTL | SET_PERSIST | (SET_ANY_TTL & ~SET_PX), true},
    {"exat", SET_EXAT, SET_KEEPTTL | SET_PERSIST | (SET_ANY_TTL & ~SET_EXAT), true},
    {"pxat", SET_PXAT, SET_KEEPTTL | SET_PERSIST | (SET_ANY_TTL & ~SET_PXAT), true},
};

/* Parses the options from argv[first] on, accepting those in `allowed`.
 * *expire_arg gets the index of the TTL argument (0 if none). Returns false
 * after replying a syntax error. */
static bool parse_set_options(struct client *c, int first, unsigned allowed, unsigned *flags,
                              int *expire_arg)
{
    *flags = 0;
    *expire_arg = 0;
    for (int j = first; j < c->argc; j++) {
        const struct set_option *opt = NULL;
        for (size_t k = 0; k < sizeof(set_options) / sizeof(set_options[0]); k++) {
            if ((set_options[k].flag & allowed) && arg_is(c, j, set_options[k].name)) {
                opt = &set_options[k];
                break;
            }
        }
        if (opt == NULL || (*flags & opt->conflicts) || (opt->takes_arg && j + 1 >= c->argc)) {
            reply_syntax_error(c);
            return false;
        }
        *flags |= opt->flag;
        if (opt->takes_arg) *expire_arg = ++j;
    }
    return true;
}

/* Redis's getExpireMillisecondsOrReply: argv[i] as an absolute deadline in
 * ms, for a TTL option among `flags`. */
static bool expire_ms_or_reply(struct client *c, int i, unsigned flags, long long *out)
{
    bool seconds = flags & (SET_EX | SET_EXAT);
    bool relative = flags & (SET_EX | SET_PX);
    long long v;
    if (!arg_ll_or_reply(c, i, &v)) return false;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (relative) {
        if (v > LLONG_MAX - clock_ms()) goto invalid;
        v += clock_ms();
    }
    *out = v;
    return true;
invalid:
    reply_error_fmt(c, "ERR invalid expire time in '%s' command", c->cmd->name);
    return false;
}

/* Redis's setGenericCommand, shared by SET, SETNX, SETEX and PSETEX: sets
 * argv[1] to argv[val_arg] as `flags` say. Replies OK (or 1 when
 * `int_reply`), nil (or 0) when NX/XX stopped it, or with GET the old
 * value. */
static void set_generic(struct client *c, unsigned flags, int val_arg, int expire_arg,
                        bool int_reply)
{
    long long when = -1;
    if (expire_arg != 0 && !expire_ms_or_reply(c, expire_arg, flags, &when)) return;

    struct db_ref ref;
    struct dict_node *old = db_find(c->db, c->argv[1], &ref);
    if (flags & SET_GET) {
        db_count_lookup(c->db, old != NULL);
        if (old == NULL) {
            reply_null(c);
        } else if (obj_type(old) != OBJ_STRING) {
            reply_wrongtype(c);
            return;
        } else {
            reply_string_value(c, old);
        }
    }
    if ((flags & SET_NX && old != NULL) || (flags & SET_XX && old == NULL)) {
        if (flags & SET_GET) return;
        if (int_reply) {
            reply_int(c, 0);
        } else {
            reply_null(c);
        }
        return;
    }
    if (old != NULL && (flags & SET_KEEPTTL)) when = obj_expire(old);
    if (old == NULL) {
        db_insert(c->db, &ref, obj_create_string(c->argv[1], c->argv[val_arg], when));
    } else if (!obj_overwrite_string(old, c->argv[val_arg], when)) {
        db_replace_entry(c->db, &ref, old, obj_create_string(c->argv[1], c->argv[val_arg], when));
    }
    db_touch(c->db, c->argv[1]);
    notify_string(c, "set", c->argv[1]);
    if (expire_arg != 0) notify_generic(c, "expire", c->argv[1]);
    server.dirty++;
    /* Logged with an absolute deadline, as Redis 7.0 does. */
    if (expire_arg != 0 && !(flags & SET_PXAT))
        propagate_set_pxat(c, c->argv[1], c->argv[val_arg], when);
    if (flags & SET_GET) return;
    if (int_reply) {
        reply_int(c, 1);
    } else {
        reply_ok(c);
    }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
static void cmd_set(struct client *c)
{
    unsigned flags;
    int expire_arg;
    if (!parse_set_options(c, 3, SET_OPTIONS_SET, &flags, &expire_arg)) return;
    set_generic(c, flags, 2, expire_arg, false);
}

/* SETNX key value: 1 if set, 0 if the key existed. */
static void cmd_setnx(struct client *c)
{
    set_generic(c, SET_NX, 2, 0, true);
}

/* SETEX key seconds value */
static void cmd_setex(struct client *c)
{
    set_generic(c, SET_EX, 3, 2, false);
}

/* PSETEX key milliseconds value */
static void cmd_psetex(struct client *c)
{
    set_generic(c, SET_PX, 3, 2, false);
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]: GET that also sets or
 * removes the TTL. As in Redis, the TTL value is checked only once the key
 * is known to exist and hold a string, and a deadline already past deletes
 * the key after replying its value. */
static void cmd_getex(struct client *c)
{
    unsigned flags;
    int expire_arg;
    if (!parse_set_options(c, 2, SET_OPTIONS_GETEX, &flags, &expire_arg)) return;
    struct db_ref ref;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &ref, &o)) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    long long when = -1;
    if (expire_arg != 0 && !expire_ms_or_reply(c, expire_arg, flags, &when)) return;
    reply_string_value(c, o);

    if (expire_arg != 0 && (flags & (SET_EXAT | SET_PXAT)) && when <= clock_ms()) {
        db_delete_at(c->db, &ref);
        notify_generic(c, "del", c->argv[1]);
        propagate_del(c, c->argv[1]);
    } else if (expire_arg != 0) {
        db_set_expire(c->db, &ref, o, when);
        notify_generic(c, "expire", c->argv[1]);
        propagate_pexpireat(c, c->argv[1], when, c->argc);
    } else if ((flags & SET_PERSIST) && obj_has_ttl(o)) {
        db_set_expire(c->db, &ref, o, -1);
        notify_generic(c, "persist", c->argv[1]);
        propagate_rewrite(c, 2, (struct slice[]){SLICE_LIT("PERSIST"), c->argv[1]});
    } else {
        return;
    }
    db_touch(c->db, c->argv[1]);
    server.dirty++;
}

/* MSET/MSETNX key value [key value ...]: MSETNX sets nothing (and replies
 * 0) if any key exists. */
static void mset_generic(struct client *c, bool nx)
{
    if (c->argc % 2 == 0) {
        reply_arity_error(c);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            struct db_ref ref;
            if (db_find(c->db, c->argv[j], &ref) != NULL) {
                reply_int(c, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        db_set(c->db, obj_create_string(c->argv[j], c->argv[j + 1], -1));
        db_touch(c->db, c->argv[j]);
        notify_string(c, "set", c->argv[j]);
    }
    server.dirty += (c->argc - 1) / 2;
    if (nx) {
        reply_int(c, 1);
    } else {
        reply_ok(c);
    }
}

static void cmd_mset(struct client *c)
{
    mset_generic(c, false);
}

static void cmd_msetnx(struct client *c)
{
    mset_generic(c, true);
}

/* ---- APPEND and SETRANGE: in-place writes ---- */

/* APPEND key value: replies the new length. A missing key is created as SET
 * would create it; an existing value becomes RAW and grows in place. */
static void cmd_append(struct client *c)
{
    struct slice add = c->argv[2];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    size_t len = add.len;
    if (o == NULL) {
        db_insert(c->db, &ref, obj_create_string(c->argv[1], add, -1));
    } else {
        if (obj_type(o) != OBJ_STRING) {
            reply_wrongtype(c);
            return;
        }
        size_t cur = obj_strlen(o);
        if (!length_ok_or_reply(c, cur, add.len)) return;
        len = cur + add.len;
        o = db_string_make_room(c->db, &ref, o, len);
        if (add.len > 0) memcpy(obj_string_mut(o) + cur, add.ptr, add.len);
        obj_string_set_len(o, len);
    }
    db_touch(c->db, c->argv[1]);
    notify_string(c, "append", c->argv[1]);
    server.dirty++;
    reply_int(c, (long long)len);
}

/* SETRANGE key offset value: overwrites from `offset`, padding with zero
 * bytes; replies the new length. Writing nothing changes nothing (and
 * creates no key). */
static void cmd_setrange(struct client *c)
{
    long long offset;
    if (!arg_ll_or_reply(c, 2, &offset)) return;
    if (offset < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    struct slice val = c->argv[3];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    if (o != NULL && obj_type(o) != OBJ_STRING) {
        reply_wrongtype(c);
        return;
    }
    size_t cur = o == NULL ? 0 : obj_strlen(o);
    if (val.len == 0) {
        reply_int(c, (long long)cur);
        return;
    }
    if (!length_ok_or_reply(c, (unsigned long long)offset, val.len)) return;

    size_t end = (size_t)offset + val.len;
    size_t len = end > cur ? end : cur;
    if (o == NULL) {
        o = obj_create_raw(c->argv[1], SLICE_LIT(""), end, -1); /* exact, as Redis */
        db_insert(c->db, &ref, o);
    } else {
        o = db_string_make_room(c->db, &ref, o, len);
    }
    char *p = obj_string_mut(o);
    if ((size_t)offset > cur) memset(p + cur, 0, (size_t)offset - cur);
    memcpy(p + offset, val.ptr, val.len);
    obj_string_set_len(o, len);
    db_touch(c->db, c->argv[1]);
    notify_string(c, "setrange", c->argv[1]);
    server.dirty++;
    reply_int(c, (long long)len);
}

/* ---- Counters ---- */

/* Redis's incrDecrCommand: adds `incr` to the integer at argv[1] (0 if
 * missing). An INT entry is updated in place; the TTL is kept. */
static void incr_generic(struct client *c, long long incr)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    long long value = 0;
    if (o != NULL) {
        if (obj_type(o) != OBJ_STRING) {
            reply_wrongtype(c);
            return;
        }
        if (!obj_string_ll(o, &value)) {
            reply_not_integer(c);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    if (o == NULL) {
        db_insert(c->db, &ref, obj_create_int(c->argv[1], value, -1));
    } else if (obj_enc(o) == OBJ_ENC_INT) {
        obj_set_int(o, value);
    } else {
        db_replace_entry(c->db, &ref, o, obj_create_int(dict_node_key(o), value, obj_expire(o)));
    }
    db_touch(c->db, c->argv[1]);
    notify_string(c, "incrby", c->argv[1]);
    server.dirty++;
    reply_int(c, value);
}

static void cmd_incr(struct client *c)
{
    incr_generic(c, 1);
}

static void cmd_decr(struct client *c)
{
    incr_generic(c, -1);
}

/* INCRBY key increment */
static void cmd_incrby(struct client *c)
{
    long long incr;
    if (!arg_ll_or_reply(c, 2, &incr)) return;
    incr_generic(c, incr);
}

/* DECRBY key decrement */
static void cmd_decrby(struct client *c)
{
    long long decr;
    if (!arg_ll_or_reply(c, 2, &decr)) return;
    if (decr == LLONG_MIN) { /* -decr would overflow */
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -decr);
}

/* INCRBYFLOAT key increment: long double arithmetic, the result stored and
 * replied as text ("%.17Lf" without trailing zeros). Keeps the TTL. */
static void cmd_incrbyfloat(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    long double value = 0, incr;
    if (o != NULL) {
        if (obj_type(o) != OBJ_STRING) {
            reply_wrongtype(c);
            return;
        }
        char buf[UTIL_LL_STR_SIZE];
        struct slice s = obj_string(o, buf);
        if (!str_to_ld(s.ptr, s.len, &value)) {
            reply_not_float(c);
            return;
        }
    }
    if (!str_to_ld(c->argv[2].ptr, c->argv[2].len, &incr)) {
        reply_not_float(c);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char text[UTIL_LD_STR_SIZE];
    struct slice result = {text, (size_t)ld_to_str(text, sizeof(text), value)};
    if (o == NULL) {
        db_insert(c->db, &ref, create_plain_string(c->argv[1], result, -1));
    } else {
        db_replace_entry(c->db, &ref, o,
                         create_plain_string(dict_node_key(o), result, obj_expire(o)));
    }
    db_touch(c->db, c->argv[1]);
    notify_string(c, "incrbyfloat", c->argv[1]);
    server.dirty++;
    /* The result, not the increment: float formatting must not replay. */
    propagate_rewrite(c, 4,
                      (struct slice[]){SLICE_LIT("SET"), c->argv[1], result, SLICE_LIT("KEEPTTL")});
    reply_bulk_slice(c, result);
}

/* ---- LCS ---- */

struct lcs_options {
    bool len, idx, withmatchlen;
    long long minmatchlen;
};

/* Parses LCS's options from argv[3] on; replies the error and returns false
 * on a bad one. */
static bool parse_lcs_options(struct client *c, struct lcs_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c, j, "idx")) {
            opt->idx = true;
        } else if (arg_is(c, j, "len")) {
            opt->len = true;
        } else if (arg_is(c, j, "withmatchlen")) {
            opt->withmatchlen = true;
        } else if (arg_is(c, j, "minmatchlen") && j + 1 < c->argc) {
            if (!arg_ll_or_reply(c, j + 1, &opt->minmatchlen)) return false;
            if (opt->minmatchlen < 0) opt->minmatchlen = 0;
            j++;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    if (opt->idx && opt->len) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return false;
    }
    return true;
}

/* The dynamic-programming table: LCS_AT(i, j) is the LCS length of a[0..i)
 * and b[0..j). One row per byte of a, blen + 1 columns. */
#define LCS_AT(i, j) lcs[(size_t)(j) + (size_t)(i) * ((size_t)blen + 1)]

/* Allocates and fills the table, or replies the error and returns NULL
 * (limits as Redis 7.0: the table may not exceed proto-max-bulk-len). */
static uint32_t *lcs_table_or_reply(struct client *c, struct slice a, struct slice b)
{
    if (a.len >= UINT32_MAX - 1 || b.len >= UINT32_MAX - 1) {
        reply_error(c, "ERR String too long for LCS");
        return NULL;
    }
    uint32_t alen = (uint32_t)a.len, blen = (uint32_t)b.len;
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    unsigned long long bytes = cells * sizeof(uint32_t);
    if (bytes >= SIZE_MAX || bytes / cells != sizeof(uint32_t)) {
        reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return NULL;
    }
    if (bytes > (unsigned long long)server.cfg.proto_max_bulk_len) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds "
                       "proto-max-bulk-len");
        return NULL;
    }
    uint32_t *lcs = em_malloc((size_t)bytes);
    for (uint32_t i = 0; i <= alen; i++) {
        for (uint32_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) {
                LCS_AT(i, j) = 0;
            } else if (a.ptr[i - 1] == b.ptr[j - 1]) {
                LCS_AT(i, j) = LCS_AT(i - 1, j - 1) + 1;
            } else {
                uint32_t up = LCS_AT(i - 1, j), left = LCS_AT(i, j - 1);
                LCS_AT(i, j) = up > left ? up : left;
            }
        }
    }
    return lcs;
}

/* One IDX entry: [[a_start, a_end], [b_start, b_end]] (+ its length). */
static void reply_lcs_match(struct client *c, const uint32_t range[4], bool withmatchlen)
{
    reply_array_len(c, 2 + withmatchlen);
    reply_array_len(c, 2);
    reply_int(c, range[0]);
    reply_int(c, range[1]);
    reply_array_len(c, 2);
    reply_int(c, range[2]);
    reply_int(c, range[3]);
    if (withmatchlen) reply_int(c, range[1] - range[0] + 1);
}

/* Walks the table back from (alen, blen), writing the common subsequence
 * into `result` (if not NULL) and counting the matching ranges IDX reports
 * (from last to first, as Redis does); with `send`, replies each one.
 * Returns the number of ranges. */
static long long lcs_walk(struct client *c, struct slice a, struct slice b, const uint32_t *lcs,
                          const struct lcs_options *opt, char *result, bool send)
{
    uint32_t alen = (uint32_t)a.len, blen = (uint32_t)b.len;
    uint32_t idx = LCS_AT(alen, blen);
    /* range = a_start, a_end, b_start, b_end; a_start == alen: none open. */
    uint32_t range[4] = {alen, 0, 0, 0};
    long long sent = 0;
    uint32_t i = alen, j = blen;
    while (i > 0 && j > 0) {
        bool emit = false;
        if (a.ptr[i - 1] == b.ptr[j - 1]) {
            if (result != NULL) result[idx - 1] = a.ptr[i - 1];
            if (range[0] == alen) {
                range[0] = range[1] = i - 1;
                range[2] = range[3] = j - 1;
            } else if (range[0] == i && range[2] == j) {
                range[0]--; /* the range extends backwards */
                range[2]--;
            } else {
                emit = true;
            }
            if (range[0] == 0 || range[2] == 0) emit = true;
            idx--;
            i--;
            j--;
        } else {
            if (LCS_AT(i - 1, j) > LCS_AT(i, j - 1)) {
                i--;
            } else {
                j--;
            }
            if (range[0] != alen) emit = true;
        }
        if (emit) {
            uint32_t match_len = range[1] - range[0] + 1;
            if (opt->minmatchlen == 0 || match_len >= opt->minmatchlen) {
                if (send) reply_lcs_match(c, range, opt->withmatchlen);
                sent++;
            }
            range[0] = alen;
        }
    }
    return sent;
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
 * common subsequence of two strings (missing keys are empty), its length,
 * or the matching ranges. */
static void cmd_lcs(struct client *c)
{
    struct db_ref ref;
    struct dict_node *oa = db_find(c->db, c->argv[1], &ref);
    db_count_lookup(c->db, oa != NULL);
    struct dict_node *ob = db_find(c->db, c->argv[2], &ref);
    db_count_lookup(c->db, ob != NULL);
    if ((oa != NULL && obj_type(oa) != OBJ_STRING) || (ob != NULL && obj_type(ob) != OBJ_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    struct lcs_options opt;
    if (!parse_lcs_options(c, &opt)) return;

    char abuf[UTIL_LL_STR_SIZE], bbuf[UTIL_LL_STR_SIZE];
    struct slice a = oa != NULL ? obj_string(oa, abuf) : SLICE_LIT("");
    struct slice b = ob != NULL ? obj_string(ob, bbuf) : SLICE_LIT("");
    uint32_t *lcs = lcs_table_or_reply(c, a, b);
    if (lcs == NULL) return;
    uint32_t alen = (uint32_t)a.len, blen = (uint32_t)b.len;
    uint32_t total = LCS_AT(alen, blen);

    if (opt.len) {
        reply_int(c, total);
    } else if (opt.idx) {
        /* The walk is linear (the table was quadratic): count the ranges
         * first so the array length is known before they are sent. */
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "matches");
        reply_array_len(c, lcs_walk(c, a, b, lcs, &opt, NULL, false));
        lcs_walk(c, a, b, lcs, &opt, NULL, true);
        reply_bulk_cstr(c, "len");
        reply_int(c, total);
    } else {
        char *result = em_malloc(total + 1);
        lcs_walk(c, a, b, lcs, &opt, result, false);
        reply_bulk(c, result, total);
        em_free(result);
    }
    em_free(lcs);
}

/* ---- Command table (Redis 7.0's arity, flags and key positions) ---- */

#define STR_CMD(n, p, a, f, fk, lk, st, sum_, since_, cx_)                                         \
    {                                                                                              \
        .name = (n), .proc = (p), .arity = (a), .flags = (f), .first_key = (fk), .last_key = (lk), \
        .key_step = (st), .group = "string", .summary = (sum_), .since = (since_),                 \
        .complexity = (cx_)                                                                        \
    }

#define CX_RANGE                                                                                   \
    "O(N) where N is the length of the returned string. The complexity is ultimately "             \
    "determined by the returned length, but because creating a substring from an existing "        \
    "string is very cheap, it can be considered O(1) for small strings."

/* clang-format off */
struct command string_commands[] = {
    STR_CMD("get", cmd_get, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
            "Get the value of a key", "1.0.0", "O(1)"),
    STR_CMD("set", cmd_set, -3, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Set the string value of a key", "1.0.0", "O(1)"),
    STR_CMD("setnx", cmd_setnx, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Set the value of a key, only if the key does not exist", "1.0.0", "O(1)"),
    STR_CMD("setex", cmd_setex, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Set the value and expiration of a key", "2.0.0", "O(1)"),
    STR_CMD("psetex", cmd_psetex, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Set the value and expiration in milliseconds of a key", "2.6.0", "O(1)"),
    STR_CMD("getset", cmd_getset, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Set the string value of a key and return its old value", "1.0.0", "O(1)"),
    STR_CMD("getdel", cmd_getdel, 2, CMD_WRITE | CMD_FAST, 1, 1, 1,
            "Get the value of a key and delete the key", "6.2.0", "O(1)"),
    STR_CMD("getex", cmd_getex, -2, CMD_WRITE | CMD_FAST, 1, 1, 1,
            "Get the value of a key and optionally set its expiration", "6.2.0", "O(1)"),
    STR_CMD("mget", cmd_mget, -2, CMD_READONLY | CMD_FAST, 1, -1, 1,
            "Get the values of all the given keys", "1.0.0",
            "O(N) where N is the number of keys to retrieve."),
    STR_CMD("mset", cmd_mset, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2,
            "Set multiple keys to multiple values", "1.0.1",
            "O(N) where N is the number of keys to set."),
    STR_CMD("msetnx", cmd_msetnx, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2,
            "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1",
            "O(N) where N is the number of keys to set."),
    STR_CMD("append", cmd_append, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Append a value to a key", "2.0.0",
            "O(1). The amortized time complexity is O(1) assuming the appended value is small "
            "and the already present value is of any size, since the dynamic string library "
            "used by Redis will double the free space available on every reallocation."),
    STR_CMD("strlen", cmd_strlen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
            "Get the length of the value stored in a key", "2.2.0", "O(1)"),
    STR_CMD("getrange", cmd_getrange, 4, CMD_READONLY, 1, 1, 1,
            "Get a substring of the string stored at a key", "2.4.0", CX_RANGE),
    STR_CMD("substr", cmd_getrange, 4, CMD_READONLY, 1, 1, 1,
            "Get a substring of the string stored at a key", "1.0.0", CX_RANGE),
    STR_CMD("setrange", cmd_setrange, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Overwrite part of a string at key starting at the specified offset", "2.2.0",
            "O(1), not counting the time taken to copy the new string in place. Usually, this "
            "string is very small so the amortized complexity is O(1). Otherwise, complexity "
            "is O(M) with M being the length of the value argument."),
    STR_CMD("incr", cmd_incr, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Increment the integer value of a key by one", "1.0.0", "O(1)"),
    STR_CMD("decr", cmd_decr, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Decrement the integer value of a key by one", "1.0.0", "O(1)"),
    STR_CMD("incrby", cmd_incrby, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Increment the integer value of a key by the given amount", "1.0.0", "O(1)"),
    STR_CMD("decrby", cmd_decrby, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Decrement the integer value of a key by the given number", "1.0.0", "O(1)"),
    STR_CMD("incrbyfloat", cmd_incrbyfloat, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
            "Increment the float value of a key by the given amount", "2.6.0", "O(1)"),
    STR_CMD("lcs", cmd_lcs, -3, CMD_READONLY, 1, 2, 1,
            "Find longest common substring", "7.0.0",
            "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
    COMMAND_TABLE_END,
};
/* clang-format on */
