/* t_zset.c: sorted set commands.
 *
 * The container lives in zset.c (a listpack when small, a skip list with a
 * hash index when large); this file parses arguments, finds keys and replies
 * as Redis 7.0.15 does, errors and their order included. Every key's entry
 * holds a `struct zset *`, which moves when the set is reallocated or
 * converted: after a change the handler stores it back (store()), which
 * also keeps OBJECT ENCODING in step, and a set left empty is deleted
 * (Redis never keeps an empty sorted set).
 *
 * Scores are replied with reply_double() ("%.17g", a RESP3 double), and
 * WITHSCORES ranges are flat member/score arrays in RESP2 and arrays of
 * pairs in RESP3, as Redis sends them.
 *
 * Blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) use blocking.c: they try their
 * keys like the non-blocking commands and, finding nothing, block; when a
 * sorted set appears at one of the keys, blocking.c runs the same handler
 * again. Re-executed, a handler skips keys that now hold another type
 * instead of replying WRONGTYPE: Redis only wakes a BZPOPMIN for a sorted
 * set. In MULTI they reply as if the timeout had passed. */
#include "ember/zset.h"

#include "ember/aof.h"
#include "ember/blocking.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/set.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- Set-up: how object.c frees, measures and copies sorted sets ---- */

static void free_zset(void *ptr, enum obj_enc enc)
{
    (void)enc;
    zset_destroy(ptr);
}

static size_t size_zset(const void *ptr, enum obj_enc enc)
{
    (void)enc;
    return zset_memory(ptr);
}

static void *dup_zset(const void *ptr, enum obj_enc enc)
{
    (void)enc;
    return zset_dup(ptr);
}

static bool registered;

void t_zset_setup(void)
{
    obj_register_free(OBJ_ZSET, free_zset);
    obj_register_size(OBJ_ZSET, size_zset);
    obj_register_dup(OBJ_ZSET, dup_zset);
    registered = true;
}

/* A new, empty sorted set. Every set is born here, so registering the type
 * on the first one works even if start-up never called t_zset_setup(). */
static struct zset *new_zset(bool packed)
{
    if (!registered) t_zset_setup();
    return zset_create(packed);
}

/* ---- Helpers ---- */

static struct zset_limits limits(void)
{
    int e = server.cfg.zset_max_listpack_entries, v = server.cfg.zset_max_listpack_value;
    return (struct zset_limits){(size_t)(e > 0 ? e : 0), (size_t)(v > 0 ? v : 0)};
}

static enum obj_enc enc_of(const struct zset *z)
{
    return zset_is_packed(z) ? OBJ_ENC_LISTPACK : OBJ_ENC_SKIPLIST;
}

static bool is_zset_or_reply(struct client *c, const struct dict_node *o)
{
    if (obj_type(o) == OBJ_ZSET) return true;
    reply_wrongtype(c);
    return false;
}

/* Looks `key` up for a read command (counting the hit or miss). Returns
 * NULL when missing (nothing replied) or of another type (WRONGTYPE
 * replied, *failed set). */
static struct dict_node *lookup_read(struct client *c, struct slice key, bool *failed)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    db_count_lookup(c->db, o != NULL);
    *failed = o != NULL && !is_zset_or_reply(c, o);
    return *failed ? NULL : o;
}

/* Writes the (possibly moved or converted) set back into its entry. */
static void store(struct dict_node *o, struct zset *z)
{
    obj_set_ptr(o, z);
    obj_set_enc(o, enc_of(z));
}

/* After removing members from the set at `key`: stores it back, deletes
 * the key if it is now empty, and reports the change (`event`, then "del"
 * if the key went), as Redis orders the notifications. */
static void removed(struct client *c, struct dict_node *o, struct zset *z, struct slice key,
                    const char *event, size_t count)
{
    if (count == 0) return;
    store(o, z);
    bool gone = zset_len(z) == 0;
    notify_keyspace_event(NOTIFY_ZSET, event, key, c->db->id);
    if (gone) {
        db_delete(c->db, key);
        notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    }
    db_touch(c->db, key);
    server.dirty += (long long)count;
}

/* Puts a result set at `dst` (ZRANGESTORE, Z*STORE), replying its size; an
 * empty result deletes `dst` instead. Takes ownership of z. */
static void store_result(struct client *c, struct slice dst, struct zset *z, const char *event)
{
    size_t len = zset_len(z);
    if (len == 0) {
        zset_destroy(z);
        reply_int(c, 0);
        if (db_delete(c->db, dst)) {
            db_touch(c->db, dst);
            notify_keyspace_event(NOTIFY_GENERIC, "del", dst, c->db->id);
            server.dirty++;
        }
        return;
    }
    db_set(c->db, obj_create_ptr(dst, OBJ_ZSET, enc_of(z), z, -1));
    db_touch(c->db, dst);
    reply_int(c, (long long)len);
    notify_keyspace_event(NOTIFY_ZSET, event, dst, c->db->id);
    server.dirty++;
}

/* A member and its score as one element of a WITHSCORES reply. */
static void reply_pair(struct client *c, struct slice m, double score, bool nested)
{
    if (nested) reply_array_len(c, 2);
    reply_bulk_slice(c, m);
    reply_double(c, score);
}

/* ---- ZADD, ZINCRBY ---- */

#define ZADD_STACK_SCORES 16

/* What ZADD replies: the new score for INCR (nil if nothing was done),
 * else the number of members added (and updated, with CH). */
static void zadd_reply(struct client *c, bool incr, bool ch, long long added, long long updated,
                       long long processed, double score)
{
    if (incr) {
        if (processed > 0) {
            reply_double(c, score);
        } else {
            reply_null(c);
        }
    } else {
        reply_int(c, ch ? added + updated : added);
    }
}

/* ZADD's work once every score parsed: the pairs start at argv[idx]. */
static void zadd_apply(struct client *c, int idx, int elements, const double *scores,
                       unsigned flags, bool ch)
{
    bool incr = flags & ZSET_INCR;
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o != NULL && !is_zset_or_reply(c, o)) return;
    if (o == NULL && (flags & ZSET_XX)) {
        zadd_reply(c, incr, ch, 0, 0, 0, 0);
        return;
    }
    struct zset_limits lim = limits();
    struct zset *z = o != NULL
                         ? obj_ptr(o)
                         : new_zset(lim.max_entries > 0 && c->argv[idx + 1].len <= lim.max_value);
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    bool nan = false;
    for (int j = 0; j < elements && !nan; j++) {
        enum zset_add_result res =
            zset_add(&z, c->argv[idx + 2 * j + 1], scores[j], flags, &lim, &score);
        added += res == ZSET_ADDED;
        updated += res == ZSET_UPDATED;
        processed += res != ZSET_SKIPPED && res != ZSET_NAN;
        nan = res == ZSET_NAN;
    }
    if (o != NULL) {
        store(o, z);
    } else if (zset_len(z) > 0) {
        db_insert(c->db, &ref, obj_create_ptr(key, OBJ_ZSET, enc_of(z), z, -1));
    } else {
        zset_destroy(z);
    }
    if (added + updated > 0) {
        db_touch(c->db, key);
        notify_keyspace_event(NOTIFY_ZSET, incr ? "zincr" : "zadd", key, c->db->id);
    }
    if (nan) {
        reply_error(c, "ERR resulting score is not a number (NaN)");
        return;
    }
    server.dirty += added + updated;
    zadd_reply(c, incr, ch, added, updated, processed, score);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...],
 * and ZINCRBY key increment member (ZADD's INCR form, options included, as
 * in Redis). Every score is parsed before anything changes. */
static void zadd_generic(struct client *c, unsigned flags)
{
    bool ch = false;
    int idx = 2;
    for (; idx < c->argc; idx++) {
        if (arg_is(c, idx, "nx")) {
            flags |= ZSET_NX;
        } else if (arg_is(c, idx, "xx")) {
            flags |= ZSET_XX;
        } else if (arg_is(c, idx, "ch")) {
            ch = true;
        } else if (arg_is(c, idx, "incr")) {
            flags |= ZSET_INCR;
        } else if (arg_is(c, idx, "gt")) {
            flags |= ZSET_GT;
        } else if (arg_is(c, idx, "lt")) {
            flags |= ZSET_LT;
        } else {
            break;
        }
    }
    int elements = c->argc - idx;
    if (elements % 2 != 0 || elements == 0) {
        reply_syntax_error(c);
        return;
    }
    elements /= 2;
    bool incr = flags & ZSET_INCR, nx = flags & ZSET_NX, xx = flags & ZSET_XX;
    bool gt = flags & ZSET_GT, lt = flags & ZSET_LT;
    if (nx && xx) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double stack[ZADD_STACK_SCORES];
    double *scores = elements <= ZADD_STACK_SCORES ? stack : em_malloc(sizeof(double) * elements);
    for (int j = 0; j < elements; j++) {
        if (!arg_double_or_reply(c, idx + 2 * j, &scores[j])) goto out;
    }

    zadd_apply(c, idx, elements, scores, flags, ch);
out:
    if (scores != stack) em_free(scores);
}

static void cmd_zadd(struct client *c)
{
    zadd_generic(c, 0);
}

static void cmd_zincrby(struct client *c)
{
    zadd_generic(c, ZSET_INCR);
}

/* ---- ZREM, ZREMRANGEBY* ---- */

/* ZREM key member [member ...] */
static void cmd_zrem(struct client *c)
{
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_zset_or_reply(c, o)) return;
    struct zset *z = obj_ptr(o);
    size_t deleted = 0;
    for (int j = 2; j < c->argc && zset_len(z) > 0; j++)
        deleted += zset_delete(&z, c->argv[j]);
    removed(c, o, z, key, "zrem", deleted);
    reply_int(c, (long long)deleted);
}

enum range_kind { RANGE_AUTO, RANGE_RANK, RANGE_SCORE, RANGE_LEX };

/* ZREMRANGEBYRANK key start stop, ZREMRANGEBYSCORE key min max,
 * ZREMRANGEBYLEX key min max */
static void zremrange_generic(struct client *c, enum range_kind kind)
{
    long long start = 0, end = 0;
    struct zset_score_range sr;
    struct zset_lex_range lr;
    const char *event;
    if (kind == RANGE_RANK) {
        event = "zremrangebyrank";
        if (!arg_ll_or_reply(c, 2, &start) || !arg_ll_or_reply(c, 3, &end)) return;
    } else if (kind == RANGE_SCORE) {
        event = "zremrangebyscore";
        if (!zset_parse_score_range(c->argv[2], c->argv[3], &sr)) {
            reply_error(c, "ERR min or max is not a float");
            return;
        }
    } else {
        event = "zremrangebylex";
        if (!zset_parse_lex_range(c->argv[2], c->argv[3], &lr)) {
            reply_error(c, "ERR min or max not valid string range item");
            return;
        }
    }
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_zset_or_reply(c, o)) return;
    struct zset *z = obj_ptr(o);
    size_t deleted;
    if (kind == RANGE_RANK) {
        long long len = (long long)zset_len(z);
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (start > end || start >= len) {
            reply_int(c, 0);
            return;
        }
        if (end >= len) end = len - 1;
        deleted = zset_delete_rank(&z, (size_t)start, (size_t)end);
    } else if (kind == RANGE_SCORE) {
        deleted = zset_delete_score(&z, &sr);
    } else {
        deleted = zset_delete_lex(&z, &lr);
    }
    removed(c, o, z, key, event, deleted);
    reply_int(c, (long long)deleted);
}

static void cmd_zremrangebyrank(struct client *c)
{
    zremrange_generic(c, RANGE_RANK);
}

static void cmd_zremrangebyscore(struct client *c)
{
    zremrange_generic(c, RANGE_SCORE);
}

static void cmd_zremrangebylex(struct client *c)
{
    zremrange_generic(c, RANGE_LEX);
}

/* ---- Single-member reads ---- */

/* ZCARD key */
static void cmd_zcard(struct client *c)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    reply_int(c, o != NULL ? (long long)zset_len(obj_ptr(o)) : 0);
}

/* ZSCORE key member */
static void cmd_zscore(struct client *c)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    double score;
    if (o != NULL && zset_score(obj_ptr(o), c->argv[2], &score)) {
        reply_double(c, score);
    } else {
        reply_null(c);
    }
}

/* ZMSCORE key member [member ...]: a missing key reads as an empty set. */
static void cmd_zmscore(struct client *c)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (o != NULL && zset_score(obj_ptr(o), c->argv[j], &score)) {
            reply_double(c, score);
        } else {
            reply_null(c);
        }
    }
}

/* ZRANK/ZREVRANK key member */
static void rank_generic(struct client *c, bool reverse)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    size_t rank;
    if (o != NULL && zset_rank(obj_ptr(o), c->argv[2], reverse, &rank)) {
        reply_int(c, (long long)rank);
    } else {
        reply_null(c);
    }
}

static void cmd_zrank(struct client *c)
{
    rank_generic(c, false);
}

static void cmd_zrevrank(struct client *c)
{
    rank_generic(c, true);
}

/* ZCOUNT key min max */
static void cmd_zcount(struct client *c)
{
    struct zset_score_range r;
    if (!zset_parse_score_range(c->argv[2], c->argv[3], &r)) {
        reply_error(c, "ERR min or max is not a float");
        return;
    }
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    reply_int(c, o != NULL ? (long long)zset_count_score(obj_ptr(o), &r) : 0);
}

/* ZLEXCOUNT key min max */
static void cmd_zlexcount(struct client *c)
{
    struct zset_lex_range r;
    if (!zset_parse_lex_range(c->argv[2], c->argv[3], &r)) {
        reply_error(c, "ERR min or max not valid string range item");
        return;
    }
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    reply_int(c, o != NULL ? (long long)zset_count_lex(obj_ptr(o), &r) : 0);
}

/* ---- ZRANGE and its older forms ---- */

/* Where a range goes: the client, or a new set for ZRANGESTORE (Redis's
 * zrange_result_handler). */
struct range_sink {
    struct client *c;
    bool withscores;
    struct zset *dst; /* ZRANGESTORE: the set being built */
    bool store;
    void *deferred;
    long long count;
    struct zset_limits lim;
};

/* `length` is the result size if known, else -1. */
static void sink_begin(struct range_sink *k, long long length)
{
    k->count = 0;
    if (k->store) {
        k->lim = limits();
        k->dst = new_zset(length <= (long long)k->lim.max_entries);
        return;
    }
    k->deferred = NULL;
    if (length > 0) {
        reply_array_len(k->c, k->withscores && k->c->resp == 2 ? 2 * length : length);
    } else {
        k->deferred = reply_defer_len(k->c);
    }
}

static void sink_emit(struct range_sink *k, struct slice m, double score)
{
    k->count++;
    if (k->store) {
        zset_add(&k->dst, m, score, 0, &k->lim, NULL);
    } else if (k->withscores) {
        reply_pair(k->c, m, score, k->c->resp > 2);
    } else {
        reply_bulk_slice(k->c, m);
    }
}

static void sink_end(struct range_sink *k, struct slice dst)
{
    if (k->store) {
        store_result(k->c, dst, k->dst, "zrangestore");
    } else if (k->deferred != NULL) {
        long long n = k->withscores && k->c->resp == 2 ? 2 * k->count : k->count;
        reply_set_array_len(k->c, k->deferred, n);
    }
}

static void range_by_rank(struct range_sink *k, const struct zset *z, long long start,
                          long long end, bool reverse)
{
    long long len = (long long)zset_len(z);
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (start > end || start >= len) {
        sink_begin(k, 0);
        return;
    }
    if (end >= len) end = len - 1;
    long long n = end - start + 1;
    sink_begin(k, n);
    struct zset_iter it;
    struct slice m;
    double score;
    zset_iter_rank(&it, z, (size_t)start, reverse);
    while (n-- > 0 && zset_iter_next(&it, &m, &score))
        sink_emit(k, m, score);
}

/* LIMIT's offset: Redis skips `offset` members with "while (node &&
 * offset--)", so a negative offset skips them all. */
static bool skip_offset(struct zset_iter *it, long long offset)
{
    struct slice m;
    if (offset < 0) return false;
    while (offset-- > 0) {
        if (!zset_iter_next(it, &m, NULL)) return false;
    }
    return true;
}

static void range_by_score(struct range_sink *k, const struct zset *z,
                           const struct zset_score_range *r, long long offset, long long limit,
                           bool reverse)
{
    sink_begin(k, -1);
    if (offset > 0 && offset >= (long long)zset_len(z)) return;
    struct zset_iter it;
    struct slice m;
    double score;
    zset_iter_score(&it, z, r, reverse);
    if (!skip_offset(&it, offset)) return;
    /* A negative limit means no limit ("while (node && limit--)"). */
    for (; limit != 0 && zset_iter_next(&it, &m, &score); limit--) {
        if (!zset_score_in_range(score, r)) break;
        sink_emit(k, m, score);
    }
}

static void range_by_lex(struct range_sink *k, const struct zset *z, const struct zset_lex_range *r,
                         long long offset, long long limit, bool reverse)
{
    sink_begin(k, -1);
    struct zset_iter it;
    struct slice m;
    double score;
    zset_iter_lex(&it, z, r, reverse);
    if (!skip_offset(&it, offset)) return;
    for (; limit != 0 && zset_iter_next(&it, &m, &score); limit--) {
        if (reverse ? !zset_lex_gte_min(m, r) : !zset_lex_lte_max(m, r)) break;
        sink_emit(k, m, score);
    }
}

struct range_args {
    enum range_kind kind;
    bool reverse;
    bool withscores;
    long long offset, limit; /* limit -1: none */
};

/* The options after <src> <min> <max>, with Redis's rules: each may come
 * once, REV/BYSCORE/BYLEX only where the command leaves them open. */
static bool range_options_or_reply(struct client *c, int from, bool store, bool auto_dir,
                                   struct range_args *a)
{
    for (int j = from; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (!store && arg_is(c, j, "withscores")) {
            a->withscores = true;
        } else if (arg_is(c, j, "limit") && left >= 2) {
            if (!arg_ll_or_reply(c, j + 1, &a->offset) || !arg_ll_or_reply(c, j + 2, &a->limit)) {
                return false;
            }
            j += 2;
        } else if (auto_dir && !a->reverse && arg_is(c, j, "rev")) {
            a->reverse = true;
        } else if (a->kind == RANGE_AUTO && arg_is(c, j, "bylex")) {
            a->kind = RANGE_LEX;
        } else if (a->kind == RANGE_AUTO && arg_is(c, j, "byscore")) {
            a->kind = RANGE_SCORE;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    if (a->kind == RANGE_AUTO) a->kind = RANGE_RANK;
    if (a->limit != -1 && a->kind == RANGE_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either "
                       "BYSCORE or BYLEX");
        return false;
    }
    if (a->withscores && a->kind == RANGE_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return false;
    }
    return true;
}

/* Redis's zrangeGenericCommand: ZRANGE, ZRANGESTORE and the older forms.
 * `src` is the source key's index; `kind` and `reverse` are fixed by the
 * older forms, RANGE_AUTO / !auto_dir leaving them to the options. */
static void zrange_generic(struct client *c, int src, bool store, enum range_kind kind,
                           bool reverse, bool auto_dir)
{
    struct range_args a = {kind, reverse, false, 0, -1};
    if (!range_options_or_reply(c, src + 3, store, auto_dir, &a)) return;
    int minidx = src + 1, maxidx = src + 2;
    if (a.reverse && a.kind != RANGE_RANK) {
        minidx = src + 2; /* given as max, min */
        maxidx = src + 1;
    }
    long long start = 0, end = 0;
    struct zset_score_range sr;
    struct zset_lex_range lr;
    if (a.kind == RANGE_RANK) {
        if (!arg_ll_or_reply(c, minidx, &start) || !arg_ll_or_reply(c, maxidx, &end)) return;
    } else if (a.kind == RANGE_SCORE) {
        if (!zset_parse_score_range(c->argv[minidx], c->argv[maxidx], &sr)) {
            reply_error(c, "ERR min or max is not a float");
            return;
        }
    } else if (!zset_parse_lex_range(c->argv[minidx], c->argv[maxidx], &lr)) {
        reply_error(c, "ERR min or max not valid string range item");
        return;
    }

    struct range_sink k = {.c = c, .withscores = a.withscores || store, .store = store};
    struct slice dst = store ? c->argv[1] : (struct slice){NULL, 0};
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[src], &failed);
    if (failed) return;
    if (o == NULL) {
        if (store) {
            sink_begin(&k, -1);
            sink_end(&k, dst);
        } else {
            reply_empty_array(c);
        }
        return;
    }
    const struct zset *z = obj_ptr(o);
    if (a.kind == RANGE_RANK) {
        range_by_rank(&k, z, start, end, a.reverse);
    } else if (a.kind == RANGE_SCORE) {
        range_by_score(&k, z, &sr, a.offset, a.limit, a.reverse);
    } else {
        range_by_lex(&k, z, &lr, a.offset, a.limit, a.reverse);
    }
    sink_end(&k, dst);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
static void cmd_zrange(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_AUTO, false, true);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
static void cmd_zrangestore(struct client *c)
{
    zrange_generic(c, 2, true, RANGE_AUTO, false, true);
}

/* ZREVRANGE key start stop [WITHSCORES] */
static void cmd_zrevrange(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_RANK, true, false);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
static void cmd_zrangebyscore(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_SCORE, false, false);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
static void cmd_zrevrangebyscore(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_SCORE, true, false);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
static void cmd_zrangebylex(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_LEX, false, false);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
static void cmd_zrevrangebylex(struct client *c)
{
    zrange_generic(c, 1, false, RANGE_LEX, true, false);
}

/* ---- Pops ---- */

/* How a pop replies (Redis's genericZpopCommand arguments). */
struct pop_shape {
    bool emit_key; /* BZPOP*, ZMPOP, BZMPOP: the key comes first */
    bool nested;   /* pairs as arrays: ZMPOP/BZMPOP, RESP3 ZPOP* with a count */
};

/* Pops up to `count` (-1: one, plain) members from the min or max end of
 * the set at `key` (non-empty), replying in `shape`. */
static void pop_from(struct client *c, struct dict_node *o, struct slice key, bool max,
                     long long count, const struct pop_shape *shape)
{
    struct zset *z = obj_ptr(o);
    bool plain = count == -1;
    if (count == -1) count = 1;
    long long len = (long long)zset_len(z);
    long long n = count < len ? count : len;
    if (!shape->nested && !shape->emit_key) {
        reply_array_len(c, n * 2);
    } else if (shape->nested && !shape->emit_key) {
        reply_array_len(c, n);
    } else if (!shape->nested) {
        reply_array_len(c, n * 2 + 1);
        reply_bulk_slice(c, key);
    } else {
        reply_array_len(c, 2);
        reply_bulk_slice(c, key);
        reply_array_len(c, n);
    }
    struct zset_iter it;
    struct slice m;
    double score;
    zset_iter_rank(&it, z, 0, max);
    for (long long i = 0; i < n && zset_iter_next(&it, &m, &score); i++)
        reply_pair(c, m, score, shape->nested);
    size_t start = max ? (size_t)(len - n) : 0;
    zset_delete_rank(&z, start, start + (size_t)n - 1);
    removed(c, o, z, key, max ? "zpopmax" : "zpopmin", (size_t)n);
    if (shape->emit_key) { /* BZPOP*, ZMPOP, BZMPOP: logged as ZPOPMIN/MAX (Redis 7.0) */
        char num[UTIL_LL_STR_SIZE];
        struct slice argv[3] = {max ? SLICE_LIT("ZPOPMAX") : SLICE_LIT("ZPOPMIN"),
                                key,
                                {num, (size_t)ll_to_str(num, sizeof(num), count)}};
        propagate_rewrite(c, plain ? 2 : 3, argv);
    }
}

/* Pops from the first of `keys` that exists (WRONGTYPE if that one is not a
 * sorted set). Returns false, replying nothing, when none exists. */
static bool pop_first(struct client *c, const struct slice *keys, int nkeys, bool max,
                      long long count, const struct pop_shape *shape)
{
    bool reexec = (c->flags & CLIENT_REEXEC) != 0;
    for (int i = 0; i < nkeys; i++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, keys[i], &ref);
        if (o == NULL) continue;
        if (reexec && obj_type(o) != OBJ_ZSET) continue; /* woken by another type */
        if (!is_zset_or_reply(c, o)) return true;
        if (count == 0) {
            reply_empty_array(c);
            return true;
        }
        pop_from(c, o, keys[i], max, count, shape);
        return true;
    }
    return false;
}

/* ZPOPMIN/ZPOPMAX key [count] */
static void zpop_generic(struct client *c, bool max)
{
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    long long count = -1;
    if (c->argc == 3 && !arg_ll_range_or_reply(c, 2, 0, LLONG_MAX, &count,
                                               "ERR value is out of range, must be positive")) {
        return;
    }
    struct pop_shape shape = {false, c->resp > 2 && count != -1};
    if (!pop_first(c, &c->argv[1], 1, max, count, &shape)) reply_empty_array(c);
}

static void cmd_zpopmin(struct client *c)
{
    zpop_generic(c, false);
}

static void cmd_zpopmax(struct client *c)
{
    zpop_generic(c, true);
}

/* Blocks on `keys`, or in MULTI replies the timeout's null array. */
static void block_or_null(struct client *c, const struct slice *keys, int nkeys, long long deadline)
{
    if (!blocking_may_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, keys, nkeys, deadline, BLOCK_REPLY_NULL_ARRAY);
}

/* BZPOPMIN/BZPOPMAX key [key ...] timeout: [key, member, score] */
static void bzpop_generic(struct client *c, bool max)
{
    long long deadline;
    if (!blocking_timeout_or_reply(c, c->argc - 1, &deadline)) return;
    struct pop_shape shape = {true, false};
    if (pop_first(c, &c->argv[1], c->argc - 2, max, -1, &shape)) return;
    block_or_null(c, &c->argv[1], c->argc - 2, deadline);
}

static void cmd_bzpopmin(struct client *c)
{
    bzpop_generic(c, false);
}

static void cmd_bzpopmax(struct client *c)
{
    bzpop_generic(c, true);
}

/* Parses "numkeys key [key ...] MIN|MAX [COUNT count]" from argv[idx]
 * (ZMPOP: 1, BZMPOP: 2), with Redis's errors and their order. */
static bool mpop_args_or_reply(struct client *c, int idx, long long *numkeys, bool *max,
                               long long *count)
{
    if (!arg_ll_range_or_reply(c, idx, 1, LLONG_MAX, numkeys,
                               "ERR numkeys should be greater than 0")) {
        return false;
    }
    if (*numkeys >= c->argc - idx - 1) {
        reply_syntax_error(c); /* no room left for MIN|MAX */
        return false;
    }
    int where = idx + (int)*numkeys + 1;
    if (arg_is(c, where, "min")) {
        *max = false;
    } else if (arg_is(c, where, "max")) {
        *max = true;
    } else {
        reply_syntax_error(c);
        return false;
    }
    *count = -1;
    for (int j = where + 1; j < c->argc; j++) {
        if (*count == -1 && arg_is(c, j, "count") && j + 1 < c->argc) {
            if (!arg_ll_range_or_reply(c, ++j, 1, LLONG_MAX, count,
                                       "ERR count should be greater than 0")) {
                return false;
            }
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    if (*count == -1) *count = 1;
    return true;
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
static void cmd_zmpop(struct client *c)
{
    long long numkeys, count;
    bool max;
    if (!mpop_args_or_reply(c, 1, &numkeys, &max, &count)) return;
    struct pop_shape shape = {true, true};
    if (!pop_first(c, &c->argv[2], (int)numkeys, max, count, &shape)) reply_null_array(c);
}

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
static void cmd_bzmpop(struct client *c)
{
    long long numkeys, count, deadline;
    bool max;
    if (!mpop_args_or_reply(c, 2, &numkeys, &max, &count)) return;
    if (!blocking_timeout_or_reply(c, 1, &deadline)) return;
    struct pop_shape shape = {true, true};
    if (pop_first(c, &c->argv[3], (int)numkeys, max, count, &shape)) return;
    block_or_null(c, &c->argv[3], (int)numkeys, deadline);
}

/* ---- ZRANDMEMBER ---- */

struct rand_ctx {
    struct client *c;
    bool withscores;
};

static void reply_rand(struct slice m, double score, void *arg)
{
    struct rand_ctx *k = arg;
    if (k->withscores) {
        reply_pair(k->c, m, score, k->c->resp > 2);
    } else {
        reply_bulk_slice(k->c, m);
    }
}

/* ZRANDMEMBER key count [WITHSCORES]: Redis's cases. A negative count may
 * repeat members, in random order; a count at least the size returns the
 * whole set (from the highest score down, as Redis's reverse iterator
 * does); a smaller one, distinct random members. */
static void zrandmember_count(struct client *c, long long l, bool withscores)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL || l == 0) {
        reply_empty_array(c);
        return;
    }
    struct zset *z = obj_ptr(o);
    size_t size = zset_len(z);
    bool unique = l > 0;
    size_t count = unique ? (size_t)l : (size_t)(-l);
    struct rand_ctx k = {c, withscores};
    size_t n = !unique || count < size ? count : size;
    reply_array_len(c, withscores && c->resp == 2 ? 2 * (long long)n : (long long)n);
    if (!unique || count == 1) {
        zset_random(z, &server.ks.rng, count, reply_rand, &k);
    } else if (count >= size) {
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, z, 0, true);
        while (zset_iter_next(&it, &m, &score))
            reply_rand(m, score, &k);
    } else {
        zset_random_unique(z, &server.ks.rng, count, reply_rand, &k);
    }
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
static void cmd_zrandmember(struct client *c)
{
    if (c->argc >= 3) {
        long long l;
        if (!arg_ll_or_reply(c, 2, &l)) return;
        if (l == LLONG_MIN) {
            reply_error(c, "ERR value is out of range, value must between -9223372036854775807 "
                           "and 9223372036854775807");
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !arg_is(c, 3, "withscores"))) {
            reply_syntax_error(c);
            return;
        }
        bool withscores = c->argc == 4;
        /* The reply would hold 2 * count elements. */
        if (withscores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            reply_error(c, "ERR value is out of range");
            return;
        }
        zrandmember_count(c, l, withscores);
        return;
    }
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct rand_ctx k = {c, false};
    zset_random(obj_ptr(o), &server.ks.rng, 1, reply_rand, &k);
}

/* ---- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD ---- */

enum setop { SETOP_UNION, SETOP_INTER, SETOP_DIFF };
enum aggregate { AGG_SUM, AGG_MIN, AGG_MAX };

/* An input: a sorted set, a set (every member scores 1) or a missing key
 * (empty). */
struct source {
    const struct dict_node *o; /* NULL: missing */
    struct zset *z;            /* sorted set, or NULL */
    struct set s;              /* set, when o is a set */
    double weight;
    size_t len;
};

static bool source_find(struct source *src, struct slice m, double *score)
{
    if (src->o == NULL) return false;
    if (src->z != NULL) return zset_score(src->z, m, score);
    if (!set_contains(&src->s, m)) return false;
    *score = 1.0;
    return true;
}

/* Calls fn for every member of a source. */
static void source_walk(struct source *src, zset_visit_fn *fn, void *arg)
{
    if (src->o == NULL) return;
    if (src->z != NULL) {
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, src->z, 0, false);
        while (zset_iter_next(&it, &m, &score))
            fn(m, score, arg);
        return;
    }
    struct set_iter it;
    struct lp_value v;
    char buf[UTIL_LL_STR_SIZE];
    set_iter_init(&it, &src->s);
    while (set_iter_next(&it, &v))
        fn(lp_value_slice(&v, buf), 1.0, arg);
    set_iter_deinit(&it);
}

static void aggregate(double *target, double val, enum aggregate agg)
{
    if (agg == AGG_SUM) {
        *target += val;
        if (isnan(*target)) *target = 0.0; /* inf + -inf, as Redis */
    } else if (agg == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* The union's accumulator: member -> aggregated score, dict.h nodes with
 * the score after the key. */
struct accum {
    struct dict d;
    enum aggregate agg;
    double weight;
};

static void accum_node_destroy(struct dict_node *n, void *ctx)
{
    (void)ctx;
    em_free(n);
}

static const struct dict_type accum_type = {.destroy = accum_node_destroy};

static void accum_add(struct slice m, double score, void *arg)
{
    struct accum *a = arg;
    score *= a->weight;
    if (isnan(score)) score = 0;
    uint64_t h = dict_hash(m.ptr, m.len);
    struct dict_node *n = dict_find(&a->d, h, m.ptr, m.len, NULL);
    if (n != NULL) {
        double cur;
        memcpy(&cur, dict_node_payload(n), sizeof(cur));
        aggregate(&cur, score, a->agg);
        memcpy(dict_node_payload(n), &cur, sizeof(cur));
        return;
    }
    n = em_malloc(DICT_NODE_HDR + dict_key_size(m.len) + sizeof(score));
    n->next = NULL;
    n->meta = 0;
    uint8_t *p = dict_node_set_key(n, m.ptr, m.len);
    memcpy(p, &score, sizeof(score));
    dict_insert(&a->d, h, n);
}

/* The result being built. */
struct result {
    struct zset *z;
    struct zset_limits lim;
};

static void result_add(struct result *r, struct slice m, double score)
{
    zset_add(&r->z, m, score, 0, &r->lim, NULL);
}

static void union_into(struct source *src, long n, enum aggregate agg, struct result *res)
{
    struct accum a = {.agg = agg};
    dict_init(&a.d, &accum_type);
    for (long i = 0; i < n; i++) {
        a.weight = src[i].weight;
        source_walk(&src[i], accum_add, &a);
    }
    struct dict_iter it;
    struct dict_node *node;
    dict_iter_init(&it, &a.d);
    while ((node = dict_iter_next(&it)) != NULL) {
        double score;
        memcpy(&score, dict_node_payload(node), sizeof(score));
        result_add(res, dict_node_key(node), score);
    }
    dict_iter_deinit(&it);
    dict_deinit(&a.d, NULL);
}

struct inter_ctx {
    struct source *src;
    long n;
    enum aggregate agg;
    struct result *res; /* NULL: count only (ZINTERCARD) */
    long long count, limit;
};

/* One member of the smallest input: kept if every other input has it. */
static void inter_one(struct slice m, double score, void *arg)
{
    struct inter_ctx *k = arg;
    if (k->limit > 0 && k->count >= k->limit) return;
    double total = k->src[0].weight * score;
    if (isnan(total)) total = 0;
    for (long j = 1; j < k->n; j++) {
        double value;
        if (!source_find(&k->src[j], m, &value)) return;
        aggregate(&total, value * k->src[j].weight, k->agg);
    }
    k->count++;
    if (k->res != NULL) result_add(k->res, m, total);
}

struct diff_ctx {
    struct source *src;
    long n;
    struct result *res;
};

static void diff_one(struct slice m, double score, void *arg)
{
    struct diff_ctx *k = arg;
    for (long j = 1; j < k->n; j++) {
        double unused;
        if (source_find(&k->src[j], m, &unused)) return;
    }
    result_add(k->res, m, score);
}

/* Inputs from the smallest to the largest, keeping the given order among
 * equals (Redis's qsort is glibc's stable merge sort): the order decides
 * how floating point sums round. */
static void sort_by_size(struct source *src, long n)
{
    for (long i = 1; i < n; i++) {
        struct source s = src[i];
        long j = i;
        while (j > 0 && src[j - 1].len > s.len) {
            src[j] = src[j - 1];
            j--;
        }
        src[j] = s;
    }
}

struct setop_args {
    enum aggregate agg;
    bool withscores;
    long long limit;
};

/* The options after the keys, as zunionInterDiffGenericCommand reads them. */
static bool setop_options_or_reply(struct client *c, int j, struct source *src, long n,
                                   enum setop op, bool store, bool card, struct setop_args *a)
{
    while (j < c->argc) {
        int remaining = c->argc - j;
        if (op != SETOP_DIFF && !card && remaining >= n + 1 && arg_is(c, j, "weights")) {
            j++;
            for (long i = 0; i < n; i++, j++) {
                if (!str_to_d(c->argv[j].ptr, c->argv[j].len, &src[i].weight)) {
                    reply_error(c, "ERR weight value is not a float");
                    return false;
                }
            }
        } else if (op != SETOP_DIFF && !card && remaining >= 2 && arg_is(c, j, "aggregate")) {
            if (arg_is(c, j + 1, "sum")) {
                a->agg = AGG_SUM;
            } else if (arg_is(c, j + 1, "min")) {
                a->agg = AGG_MIN;
            } else if (arg_is(c, j + 1, "max")) {
                a->agg = AGG_MAX;
            } else {
                reply_syntax_error(c);
                return false;
            }
            j += 2;
        } else if (!store && !card && arg_is(c, j, "withscores")) {
            a->withscores = true;
            j++;
        } else if (card && remaining >= 2 && arg_is(c, j, "limit")) {
            if (!arg_ll_range_or_reply(c, j + 1, 0, LLONG_MAX, &a->limit,
                                       "ERR LIMIT can't be negative")) {
                return false;
            }
            j += 2;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Looks the inputs up (counting hits and misses); false after WRONGTYPE. */
static bool sources_or_reply(struct client *c, int first, struct source *src, long n)
{
    for (long i = 0; i < n; i++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, c->argv[first + i], &ref);
        db_count_lookup(c->db, o != NULL);
        src[i] = (struct source){.o = o, .weight = 1.0};
        if (o == NULL) continue;
        if (obj_type(o) == OBJ_ZSET) {
            src[i].z = obj_ptr(o);
            src[i].len = zset_len(src[i].z);
        } else if (obj_type(o) == OBJ_SET) {
            src[i].s = set_of_obj(o);
            src[i].len = set_size(&src[i].s);
        } else {
            reply_wrongtype(c);
            return false;
        }
    }
    return true;
}

/* Makes the result's form what Redis's would be: it builds a skip list and
 * turns it into a listpack if the members fit. */
static void result_finish(struct result *r)
{
    size_t maxlen = 0, totlen = 0;
    struct zset_iter it;
    struct slice m;
    zset_iter_rank(&it, r->z, 0, false);
    while (zset_iter_next(&it, &m, NULL)) {
        if (m.len > maxlen) maxlen = m.len;
        totlen += m.len;
    }
    zset_shrink_if_fits(&r->z, &r->lim, maxlen, totlen);
}

static void reply_result(struct client *c, const struct zset *z, bool withscores)
{
    long long n = (long long)zset_len(z);
    reply_array_len(c, withscores && c->resp == 2 ? 2 * n : n);
    struct zset_iter it;
    struct slice m;
    double score;
    zset_iter_rank(&it, z, 0, false);
    while (zset_iter_next(&it, &m, &score)) {
        if (withscores) {
            reply_pair(c, m, score, c->resp > 2);
        } else {
            reply_bulk_slice(c, m);
        }
    }
}

/* Redis's zunionInterDiffGenericCommand. `numkeys_idx` is 1 (ZUNION,
 * ZINTER, ZDIFF, ZINTERCARD) or 2 (the STORE forms, destination at 1). */
static void setop_generic(struct client *c, int numkeys_idx, enum setop op, bool card)
{
    bool store = numkeys_idx == 2;
    long long n;
    if (!arg_ll_or_reply(c, numkeys_idx, &n)) return;
    if (n < 1) {
        reply_error_fmt(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->name);
        return;
    }
    if (n > c->argc - (numkeys_idx + 1)) {
        reply_syntax_error(c);
        return;
    }
    struct source *src = em_malloc(sizeof(*src) * (size_t)n);
    struct setop_args a = {AGG_SUM, false, 0};
    if (!sources_or_reply(c, numkeys_idx + 1, src, (long)n) ||
        !setop_options_or_reply(c, numkeys_idx + 1 + (int)n, src, (long)n, op, store, card, &a)) {
        em_free(src);
        return;
    }
    if (op != SETOP_DIFF) sort_by_size(src, (long)n);

    /* A skip list, as Redis builds it: it keeps a -0 score (a listpack would
     * not) for the reply; a stored result is packed afterwards if it fits. */
    struct result res = {new_zset(false), limits()};
    if (op == SETOP_INTER) {
        struct inter_ctx k = {src, (long)n, a.agg, card ? NULL : &res, 0, a.limit};
        if (src[0].len > 0) source_walk(&src[0], inter_one, &k);
        if (card) {
            reply_int(c, k.count);
            zset_destroy(res.z);
            em_free(src);
            return;
        }
    } else if (op == SETOP_UNION) {
        union_into(src, (long)n, a.agg, &res);
    } else {
        struct diff_ctx k = {src, (long)n, &res};
        if (src[0].len > 0) source_walk(&src[0], diff_one, &k);
    }
    em_free(src);
    if (store) {
        result_finish(&res);
        static const char *const events[] = {"zunionstore", "zinterstore", "zdiffstore"};
        store_result(c, c->argv[1], res.z, events[op]);
        return;
    }
    reply_result(c, res.z, a.withscores);
    zset_destroy(res.z);
}

static void cmd_zunion(struct client *c)
{
    setop_generic(c, 1, SETOP_UNION, false);
}

static void cmd_zinter(struct client *c)
{
    setop_generic(c, 1, SETOP_INTER, false);
}

static void cmd_zdiff(struct client *c)
{
    setop_generic(c, 1, SETOP_DIFF, false);
}

static void cmd_zunionstore(struct client *c)
{
    setop_generic(c, 2, SETOP_UNION, false);
}

static void cmd_zinterstore(struct client *c)
{
    setop_generic(c, 2, SETOP_INTER, false);
}

static void cmd_zdiffstore(struct client *c)
{
    setop_generic(c, 2, SETOP_DIFF, false);
}

static void cmd_zintercard(struct client *c)
{
    setop_generic(c, 1, SETOP_INTER, true);
}

/* ---- ZSCAN ---- */

/* The members one ZSCAN call collected: copies, since a later bucket's
 * lookup could not move them but the reply is written after the walk. */
struct scan_batch {
    struct slice pat; /* .ptr NULL: everything */
    char *buf;        /* member bytes and score text, back to back */
    size_t len, cap;
    size_t *ends; /* end offset of each member, then of its score */
    size_t n, ncap;
};

static void batch_put(struct scan_batch *b, const char *p, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->buf = em_realloc(b->buf, b->cap);
    }
    if (len > 0) memcpy(b->buf + b->len, p, len);
    b->len += len;
    if (b->n == b->ncap) {
        b->ncap = b->ncap ? b->ncap * 2 : 32;
        b->ends = em_realloc(b->ends, b->ncap * sizeof(*b->ends));
    }
    b->ends[b->n++] = b->len;
}

static void scan_collect(struct slice m, double score, void *arg)
{
    struct scan_batch *b = arg;
    if (b->pat.ptr != NULL && !glob_match(b->pat.ptr, b->pat.len, m.ptr, m.len, false)) return;
    char text[UTIL_D_STR_SIZE];
    batch_put(b, m.ptr, m.len);
    batch_put(b, text, (size_t)d_to_str(text, sizeof(text), score));
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_zscan(struct client *c)
{
    unsigned long long cursor;
    if (!scan_cursor_parse(c->argv[2], &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    long long count = 10;
    struct scan_batch b = {0};
    for (int i = 3; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (arg_is(c, i, "count") && has_value) {
            if (!arg_ll_or_reply(c, i + 1, &count)) return;
            if (count < 1) {
                reply_syntax_error(c);
                return;
            }
        } else if (arg_is(c, i, "match") && has_value) {
            struct slice p = c->argv[i + 1];
            b.pat = p.len == 1 && p.ptr[0] == '*' ? (struct slice){NULL, 0} : p;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    struct zset *z = obj_ptr(o);
    long long visits = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    do {
        cursor = zset_scan(z, cursor, scan_collect, &b);
    } while (cursor != 0 && visits-- != 0 && b.n / 2 < (unsigned long long)count);
    char buf[UTIL_LL_STR_SIZE];
    reply_array_len(c, 2);
    reply_bulk(c, buf, (size_t)ull_to_str(buf, sizeof(buf), cursor));
    reply_array_len(c, (long long)b.n);
    size_t start = 0;
    for (size_t i = 0; i < b.n; i++) {
        reply_bulk(c, b.buf + start, b.ends[i] - start);
        start = b.ends[i];
    }
    em_free(b.buf);
    em_free(b.ends);
}

/* ---- The table: Redis 7.0's arity, flags and key positions ---- */

#define W_DENY_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define R_FAST      (CMD_READONLY | CMD_FAST)

/* clang-format off */
struct command zset_commands[] = {
    {.name = "zadd", .proc = cmd_zadd, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Add one or more members to a sorted set, or update its score if it already exists", .since = "1.2.0",
     .complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
    {.name = "zincrby", .proc = cmd_zincrby, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Increment the score of a member in a sorted set", .since = "1.2.0",
     .complexity = "O(log(N)) where N is the number of elements in the sorted set."},
    {.name = "zscore", .proc = cmd_zscore, .arity = 3, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Get the score associated with the given member in a sorted set", .since = "1.2.0",
     .complexity = "O(1)"},
    {.name = "zmscore", .proc = cmd_zmscore, .arity = -3, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Get the score associated with the given members in a sorted set", .since = "6.2.0",
     .complexity = "O(N) where N is the number of members being requested."},
    {.name = "zcard", .proc = cmd_zcard, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Get the number of members in a sorted set", .since = "1.2.0",
     .complexity = "O(1)"},
    {.name = "zcount", .proc = cmd_zcount, .arity = 4, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Count the members in a sorted set with scores within the given values", .since = "2.0.0",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "zlexcount", .proc = cmd_zlexcount, .arity = 4, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Count the number of members in a sorted set between a given lexicographical range", .since = "2.8.9",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "zrank", .proc = cmd_zrank, .arity = 3, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Determine the index of a member in a sorted set", .since = "2.0.0",
     .complexity = "O(log(N))"},
    {.name = "zrevrank", .proc = cmd_zrevrank, .arity = 3, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Determine the index of a member in a sorted set, with scores ordered from high to low", .since = "2.0.0",
     .complexity = "O(log(N))"},
    {.name = "zrange", .proc = cmd_zrange, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set", .since = "1.2.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
    {.name = "zrangestore", .proc = cmd_zrangestore, .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "sorted-set",
     .summary = "Store a range of members from sorted set into another key", .since = "6.2.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."},
    {.name = "zrangebyscore", .proc = cmd_zrangebyscore, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set, by score", .since = "1.0.5",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
    {.name = "zrevrangebyscore", .proc = cmd_zrevrangebyscore, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set, by score, with scores ordered from high to low", .since = "2.2.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
    {.name = "zrangebylex", .proc = cmd_zrangebylex, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set, by lexicographical range", .since = "2.8.9",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
    {.name = "zrevrangebylex", .proc = cmd_zrevrangebylex, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", .since = "2.8.9",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N))."},
    {.name = "zrevrange", .proc = cmd_zrevrange, .arity = -4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Return a range of members in a sorted set, by index, with scores ordered from high to low", .since = "1.2.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
    {.name = "zrem", .proc = cmd_zrem, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove one or more members from a sorted set", .since = "1.2.0",
     .complexity = "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."},
    {.name = "zremrangebyrank", .proc = cmd_zremrangebyrank, .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove all members in a sorted set within the given indexes", .since = "2.0.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zremrangebyscore", .proc = cmd_zremrangebyscore, .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove all members in a sorted set within the given scores", .since = "1.2.0",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zremrangebylex", .proc = cmd_zremrangebylex, .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove all members in a sorted set between the given lexicographical range", .since = "2.8.9",
     .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zpopmin", .proc = cmd_zpopmin, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove and return members with the lowest scores in a sorted set", .since = "5.0.0",
     .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "zpopmax", .proc = cmd_zpopmax, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Remove and return members with the highest scores in a sorted set", .since = "5.0.0",
     .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "bzpopmin", .proc = cmd_bzpopmin, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "sorted-set",
     .summary = "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", .since = "5.0.0",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "bzpopmax", .proc = cmd_bzpopmax, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "sorted-set",
     .summary = "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", .since = "5.0.0",
     .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "zmpop", .proc = cmd_zmpop, .arity = -4, .flags = CMD_WRITE,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Remove and return members with scores in a sorted set", .since = "7.0.0",
     .complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "bzmpop", .proc = cmd_bzmpop, .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Remove and return members with scores in a sorted set or block until one is available", .since = "7.0.0",
     .complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "zrandmember", .proc = cmd_zrandmember, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Get one or multiple random elements from a sorted set", .since = "6.2.0",
     .complexity = "O(N) where N is the number of elements returned"},
    {.name = "zunion", .proc = cmd_zunion, .arity = -3, .flags = CMD_READONLY,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Add multiple sorted sets", .since = "6.2.0",
     .complexity = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
    {.name = "zinter", .proc = cmd_zinter, .arity = -3, .flags = CMD_READONLY,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Intersect multiple sorted sets", .since = "6.2.0",
     .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
    {.name = "zdiff", .proc = cmd_zdiff, .arity = -3, .flags = CMD_READONLY,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Subtract multiple sorted sets", .since = "6.2.0",
     .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
    {.name = "zunionstore", .proc = cmd_zunionstore, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Add multiple sorted sets and store the resulting sorted set in a new key", .since = "2.0.0",
     .complexity = "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
    {.name = "zinterstore", .proc = cmd_zinterstore, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Intersect multiple sorted sets and store the resulting sorted set in a new key", .since = "2.0.0",
     .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
    {.name = "zdiffstore", .proc = cmd_zdiffstore, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Subtract multiple sorted sets and store the resulting sorted set in a new key", .since = "6.2.0",
     .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
    {.name = "zintercard", .proc = cmd_zintercard, .arity = -3, .flags = CMD_READONLY,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "sorted-set",
     .summary = "Intersect multiple sorted sets and return the cardinality of the result", .since = "7.0.0",
     .complexity = "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."},
    {.name = "zscan", .proc = cmd_zscan, .arity = -3, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "sorted-set",
     .summary = "Incrementally iterate sorted sets elements and associated scores", .since = "2.8.0",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."},
    COMMAND_TABLE_END,
};
/* clang-format on */
