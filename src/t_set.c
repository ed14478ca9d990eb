/* t_set.c: set commands.
 *
 * Sets live in set.c (an intset, a listpack or a table, reported to clients
 * as Redis 7.0 reports them: "intset" or "hashtable"); this file parses
 * arguments, finds keys and replies as Redis 7.0.15 does, byte for byte.
 * A key's entry holds the set's storage, which moves when the set grows or
 * changes form: after a change the handler stores the handle back with
 * set_store_obj(), and a set left empty is deleted (Redis never keeps an
 * empty set).
 *
 * Redis's quirks kept on purpose, because clients see them:
 *  - SPOP with a count answers with a set (RESP3 '~'), SRANDMEMBER with a
 *    count with an array, even when it returns the whole set;
 *  - SPOP's count error is "must be positive" even for text that is not a
 *    number, while SRANDMEMBER says "not an integer";
 *  - the multi-key commands look every key up (counting a keyspace hit or
 *    miss each, STORE forms included) and refuse the command if any holds
 *    another type, even after a missing key that decides the answer;
 *  - the STORE forms and SPOP's rebuild start the new set as an intset, so
 *    a result of few integers reports "intset" whatever its sources were.
 *
 * Random choices use the keyspace's generator (server.ks.rng). */
#include "ember/set.h"

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
#include <stdlib.h>
#include <string.h>

/* ---- Set-up: how object.c frees and measures sets ---- */

static bool registered;

void t_set_setup(void)
{
    obj_register_free(OBJ_SET, set_free_container);
    obj_register_size(OBJ_SET, set_container_size);
    obj_register_dup(OBJ_SET, set_dup_container);
    registered = true;
}

/* A keyspace entry for a new set. Every set key is born here, so
 * registering the type on the first one works even if start-up never
 * called t_set_setup(). */
static struct dict_node *new_set_entry(struct slice key, const struct set *s)
{
    if (!registered) t_set_setup();
    return set_create_obj(key, s);
}

/* ---- Helpers ---- */

static size_t limit_of(long long v)
{
    return v < 0 ? 0 : (size_t)v;
}

static struct set_limits limits(void)
{
    return (struct set_limits){
        .max_intset_entries = limit_of(server.cfg.set_max_intset_entries),
        .max_listpack_entries = limit_of(server.cfg.set_max_listpack_entries),
        .max_listpack_value = limit_of(server.cfg.set_max_listpack_value),
    };
}

static bool is_set_or_reply(struct client *c, const struct dict_node *o)
{
    if (obj_type(o) == OBJ_SET) return true;
    reply_wrongtype(c);
    return false;
}

/* Looks a key up for a read command, counting the hit or miss. */
static struct dict_node *lookup_read(struct client *c, struct slice key)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    db_count_lookup(c->db, o != NULL);
    return o;
}

static void reply_member(struct client *c, const struct lp_value *v)
{
    if (v->str != NULL) {
        reply_bulk(c, v->str, v->len);
    } else {
        reply_bulk_ll(c, v->ll);
    }
}

/* set_visit_fn that replies each member to the client in `arg`. */
static void reply_member_fn(const struct lp_value *v, void *arg)
{
    reply_member(arg, v);
}

/* Replies every member, as elements of an array or set whose header the
 * caller wrote. */
static void reply_members(struct client *c, struct set *s)
{
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &v))
        reply_member(c, &v);
    set_iter_deinit(&it);
}

static void notify(struct client *c, int type, const char *event, struct slice key)
{
    notify_keyspace_event(type, event, key, c->db->id);
}

/* Stores the changed set back into its entry, or deletes the key if the
 * set is empty (notifying "del"). `ref` is from the lookup that found `o`,
 * with no change to the db in between. Returns whether the key went. */
static bool store_or_delete(struct client *c, struct dict_node *o, const struct db_ref *ref,
                            struct set *s, struct slice key)
{
    set_store_obj(o, s);
    if (set_size(s) > 0) return false;
    db_delete_at(c->db, ref);
    notify(c, NOTIFY_GENERIC, "del", key);
    return true;
}

/* ---- SADD SREM SMOVE ---- */

/* SADD key member [member ...]: replies how many members were new. */
static void cmd_sadd(struct client *c)
{
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o != NULL && !is_set_or_reply(c, o)) return;
    struct set_limits lim = limits();
    struct set s;
    if (o != NULL) {
        s = set_of_obj(o);
    } else {
        set_init_for(&s, c->argv[2], &lim);
    }
    long long added = 0;
    for (int i = 2; i < c->argc; i++) {
        if (set_add(&s, c->argv[i], &lim)) added++;
    }
    if (o == NULL) {
        db_insert(c->db, &ref, new_set_entry(key, &s));
    } else {
        set_store_obj(o, &s);
    }
    if (added > 0) {
        db_touch(c->db, key);
        notify(c, NOTIFY_SET, "sadd", key);
    }
    server.dirty += added;
    reply_int(c, added);
}

/* SREM key member [member ...]: replies how many members were removed. */
static void cmd_srem(struct client *c)
{
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    long long deleted = 0;
    for (int i = 2; i < c->argc && set_size(&s) > 0; i++) {
        if (set_remove(&s, c->argv[i])) deleted++;
    }
    if (deleted > 0) {
        /* Redis notifies "srem" before the "del" of an emptied key. */
        set_store_obj(o, &s);
        notify(c, NOTIFY_SET, "srem", key);
        store_or_delete(c, o, &ref, &s, key);
        db_touch(c->db, key);
        server.dirty += deleted;
    }
    reply_int(c, deleted);
}

/* SMOVE source destination member: 1 if the member left source (and is in
 * destination now), 0 if it was not in source. */
static void cmd_smove(struct client *c)
{
    struct slice src = c->argv[1], dst = c->argv[2], member = c->argv[3];
    struct db_ref sref, dref;
    struct dict_node *so = db_find(c->db, src, &sref);
    struct dict_node *dobj = db_find(c->db, dst, &dref);
    if (so == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_set_or_reply(c, so)) return;
    if (dobj != NULL && !is_set_or_reply(c, dobj)) return;
    /* The second lookup may have moved buckets: find the source again. */
    so = db_find(c->db, src, &sref);
    struct set s = set_of_obj(so);
    if (so == dobj) {
        reply_int(c, set_contains(&s, member) ? 1 : 0);
        return;
    }
    if (!set_remove(&s, member)) {
        reply_int(c, 0);
        return;
    }
    set_store_obj(so, &s);
    notify(c, NOTIFY_SET, "srem", src);
    store_or_delete(c, so, &sref, &s, src);

    struct set_limits lim = limits();
    dobj = db_find(c->db, dst, &dref);
    struct set d;
    if (dobj != NULL) {
        d = set_of_obj(dobj);
    } else {
        set_init_for(&d, member, &lim);
    }
    bool added = set_add(&d, member, &lim);
    if (dobj != NULL) {
        set_store_obj(dobj, &d);
    } else {
        db_insert(c->db, &dref, new_set_entry(dst, &d));
    }
    db_touch(c->db, src);
    db_touch(c->db, dst);
    server.dirty++;
    if (added) {
        server.dirty++;
        notify(c, NOTIFY_SET, "sadd", dst);
    }
    reply_int(c, 1);
}

/* ---- Reads: SMEMBERS SISMEMBER SMISMEMBER SCARD ---- */

/* SMEMBERS key */
static void cmd_smembers(struct client *c)
{
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_set_len(c, 0);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    reply_set_len(c, (long long)set_size(&s));
    reply_members(c, &s);
}

/* SISMEMBER key member */
static void cmd_sismember(struct client *c)
{
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    reply_int(c, set_contains(&s, c->argv[2]) ? 1 : 0);
}

/* SMISMEMBER key member [member ...]: an array of 0/1, one per member. */
static void cmd_smismember(struct client *c)
{
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o != NULL && !is_set_or_reply(c, o)) return;
    struct set s = {NULL, OBJ_ENC_INTSET};
    if (o != NULL) s = set_of_obj(o);
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_int(c, o != NULL && set_contains(&s, c->argv[i]) ? 1 : 0);
}

/* SCARD key */
static void cmd_scard(struct client *c)
{
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    reply_int(c, (long long)set_size(&s));
}

/* ---- SPOP SRANDMEMBER ---- */

/* Redis's SPOP_MOVE_STRATEGY_MUL: when fewer than 1/5 of the popped count
 * would remain, SPOP builds a new set of the survivors instead of removing
 * the popped members one by one. */
#define SPOP_MOVE_STRATEGY_MUL 5

struct add_ctx {
    struct set *s;
    const struct set_limits *lim;
};

/* set_visit_fn that adds each member to another set. */
static void add_member_fn(const struct lp_value *v, void *arg)
{
    struct add_ctx *ctx = arg;
    set_add_value(ctx->s, v, ctx->lim);
}

/* SPOP's effect is logged as one SREM per popped member (Redis 7.0). */
struct pop_ctx {
    struct client *c;
    struct slice key;
};

static void log_srem(struct client *c, struct slice key, const struct lp_value *v)
{
    char buf[UTIL_LL_STR_SIZE];
    propagate_rewrite(c, 3, (struct slice[]){SLICE_LIT("SREM"), key, lp_value_slice(v, buf)});
}

/* set_visit_fn: replies a popped member and logs its SREM. */
static void reply_popped_fn(const struct lp_value *v, void *arg)
{
    struct pop_ctx *ctx = arg;
    reply_member(ctx->c, v);
    log_srem(ctx->c, ctx->key, v);
}

static void log_srem_members(struct client *c, struct slice key, struct set *s)
{
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, s);
    while (set_iter_next(&it, &v))
        log_srem(c, key, &v);
    set_iter_deinit(&it);
}

/* SPOP key count: a set of up to count distinct random members, removed. */
static void spop_count(struct client *c)
{
    long long count;
    if (!arg_ll_range_or_reply(c, 2, 0, LLONG_MAX, &count,
                               "ERR value is out of range, must be positive")) {
        return;
    }
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_set_len(c, 0);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    if (count == 0) {
        reply_set_len(c, 0);
        return;
    }
    struct set s = set_of_obj(o);
    size_t size = set_size(&s);
    notify(c, NOTIFY_SET, "spop", key);
    if ((unsigned long long)count >= size) {
        /* Everything goes: reply the set and delete the key. Redis replies
         * through SUNION's code here, whose read lookup counts a hit. */
        db_count_lookup(c->db, true);
        reply_set_len(c, (long long)size);
        reply_members(c, &s);
        db_delete_at(c->db, &ref);
        notify(c, NOTIFY_GENERIC, "del", key);
        db_touch(c->db, key);
        server.dirty += (long long)size;
        propagate_del(c, key);
        return;
    }
    size_t n = (size_t)count, remaining = size - n;
    reply_set_len(c, count);
    if (remaining * SPOP_MOVE_STRATEGY_MUL > n) {
        struct pop_ctx pc = {c, key};
        while (n-- > 0)
            set_pop_random(&s, &server.ks.rng, reply_popped_fn, &pc);
    } else {
        /* Move the survivors into a new set (an intset first, as Redis's
         * setTypeCreate picks), then reply what is left of the old one. */
        struct set_limits lim = limits();
        struct set keep;
        set_init(&keep);
        struct add_ctx ctx = {&keep, &lim};
        while (remaining-- > 0)
            set_pop_random(&s, &server.ks.rng, add_member_fn, &ctx);
        reply_members(c, &s);
        log_srem_members(c, key, &s);
        set_deinit(&s);
        s = keep;
    }
    set_store_obj(o, &s);
    db_touch(c->db, key);
    server.dirty += count;
}

/* SPOP key [count]: without count, one random member (removed) or nil. */
static void cmd_spop(struct client *c)
{
    if (c->argc == 3) {
        spop_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    struct pop_ctx pc = {c, key};
    set_pop_random(&s, &server.ks.rng, reply_popped_fn, &pc);
    set_store_obj(o, &s);
    notify(c, NOTIFY_SET, "spop", key);
    store_or_delete(c, o, &ref, &s, key);
    db_touch(c->db, key);
    server.dirty++;
}

/* SRANDMEMBER key count: an array of count distinct members (the whole set
 * if count is larger), or of -count members with repeats if negative. */
static void srandmember_count(struct client *c)
{
    long long count;
    if (!arg_ll_or_reply(c, 2, &count)) return;
    if (count == LLONG_MIN) {
        reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and "
                       "9223372036854775807");
        return;
    }
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_empty_array(c);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    struct set s = set_of_obj(o);
    size_t size = set_size(&s);
    if (count < 0) {
        reply_array_len(c, -count);
        set_random_repeat(&s, &server.ks.rng, (size_t)-count, reply_member_fn, c);
    } else if ((unsigned long long)count >= size) {
        reply_array_len(c, (long long)size);
        reply_members(c, &s);
    } else {
        reply_array_len(c, count);
        set_random_distinct(&s, &server.ks.rng, (size_t)count, reply_member_fn, c);
    }
}

/* SRANDMEMBER key [count]: without count, one random member or nil. */
static void cmd_srandmember(struct client *c)
{
    if (c->argc == 3) {
        srandmember_count(c);
        return;
    }
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    struct set s = set_of_obj(o);
    struct lp_value v;
    set_random(&s, &server.ks.rng, &v);
    reply_member(c, &v);
}

/* ---- Algebra: SINTER SINTERCARD SUNION SDIFF and the STORE forms ---- */

/* Looks up `n` source keys from argv[first] on, counting a hit or miss for
 * each (Redis reads them with lookupKeyRead, STORE forms too). Missing keys
 * give a set with ptr NULL. Returns false after replying WRONGTYPE, which
 * wins over a missing key anywhere in the list. */
static bool lookup_sets_or_reply(struct client *c, int first, int n, struct set *out)
{
    for (int j = 0; j < n; j++) {
        struct dict_node *o = lookup_read(c, c->argv[first + j]);
        out[j] = (struct set){NULL, OBJ_ENC_INTSET};
        if (o == NULL) continue;
        if (!is_set_or_reply(c, o)) return false;
        out[j] = set_of_obj(o);
    }
    return true;
}

static size_t size_or_zero(const struct set *s)
{
    return s->ptr == NULL ? 0 : set_size(s);
}

static int by_size(const void *a, const void *b)
{
    size_t x = size_or_zero(a), y = size_or_zero(b);
    return x < y ? -1 : x > y;
}

static int by_size_desc(const void *a, const void *b)
{
    return by_size(b, a);
}

/* Replaces `dst` with `result` (taking it) and replies its size; an empty
 * result deletes `dst` instead. Redis's tail of the STORE forms: the event
 * on success, "del" when an existing key was removed. */
static void store_result(struct client *c, struct slice dst, struct set *result, const char *event)
{
    size_t size = set_size(result);
    if (size > 0) {
        db_set(c->db, new_set_entry(dst, result));
        reply_int(c, (long long)size);
        notify(c, NOTIFY_SET, event, dst);
        db_touch(c->db, dst);
        server.dirty++;
        return;
    }
    set_deinit(result);
    reply_int(c, 0);
    if (db_delete(c->db, dst)) {
        server.dirty++;
        db_touch(c->db, dst);
        notify(c, NOTIFY_GENERIC, "del", dst);
    }
}

/* True if `v` (from sets[0]) is in every other set. */
static bool in_all(struct set *sets, size_t n, const struct lp_value *v)
{
    for (size_t j = 1; j < n; j++) {
        if (sets[j].ptr == sets[0].ptr) continue; /* the same key twice */
        if (!set_contains_value(&sets[j], v)) return false;
    }
    return true;
}

/* What an intersection produces: a reply, a count, or a new key. */
enum inter_mode { INTER_REPLY, INTER_CARD, INTER_STORE };

/* SINTER / SINTERCARD / SINTERSTORE over `n` keys from argv[first]: walks
 * the smallest set and keeps the members every other set has. `limit` > 0
 * stops SINTERCARD early. */
static void inter_generic(struct client *c, int first, int n, enum inter_mode mode, long long limit)
{
    struct set *sets = em_malloc((size_t)n * sizeof(*sets));
    if (!lookup_sets_or_reply(c, first, n, sets)) goto out;
    bool empty = false;
    for (int j = 0; j < n; j++)
        empty |= sets[j].ptr == NULL;
    struct set result;
    if (empty) {
        /* An intersection with an empty set is empty. */
        if (mode == INTER_STORE) {
            set_init(&result);
            store_result(c, c->argv[1], &result, "sinterstore");
        } else if (mode == INTER_CARD) {
            reply_int(c, 0);
        } else {
            reply_set_len(c, 0);
        }
        goto out;
    }
    qsort(sets, (size_t)n, sizeof(*sets), by_size);

    struct set_limits lim = limits();
    void *len = mode == INTER_REPLY ? reply_defer_len(c) : NULL;
    if (mode == INTER_STORE) set_init(&result);
    long long card = 0;
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, &sets[0]);
    while (set_iter_next(&it, &v)) {
        if (!in_all(sets, (size_t)n, &v)) continue;
        if (mode == INTER_REPLY) reply_member(c, &v);
        if (mode == INTER_STORE) set_add_value(&result, &v, &lim);
        card++;
        if (mode == INTER_CARD && limit > 0 && card >= limit) break;
    }
    set_iter_deinit(&it);

    if (mode == INTER_REPLY) {
        reply_set_set_len(c, len, card);
    } else if (mode == INTER_CARD) {
        reply_int(c, card);
    } else {
        store_result(c, c->argv[1], &result, "sinterstore");
    }
out:
    em_free(sets);
}

/* SINTER key [key ...] */
static void cmd_sinter(struct client *c)
{
    inter_generic(c, 1, c->argc - 1, INTER_REPLY, 0);
}

/* SINTERSTORE destination key [key ...] */
static void cmd_sinterstore(struct client *c)
{
    inter_generic(c, 2, c->argc - 2, INTER_STORE, 0);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void cmd_sintercard(struct client *c)
{
    long long numkeys, limit = 0;
    if (!arg_ll_range_or_reply(c, 1, 1, LLONG_MAX, &numkeys,
                               "ERR numkeys should be greater than 0")) {
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (arg_is(c, j, "limit") && j + 1 < c->argc) {
            j++;
            if (!arg_ll_range_or_reply(c, j, 0, LLONG_MAX, &limit, "ERR LIMIT can't be negative")) {
                return;
            }
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    inter_generic(c, 2, (int)numkeys, INTER_CARD, limit);
}

enum set_op { OP_UNION, OP_DIFF };

/* SDIFF's first algorithm: each member of the first set not in any other
 * (the others sorted largest first, to find a common member sooner). */
static void diff_by_lookup(struct set *sets, int n, struct set *result,
                           const struct set_limits *lim)
{
    struct set_iter it;
    struct lp_value v;
    set_iter_init(&it, &sets[0]);
    while (set_iter_next(&it, &v)) {
        int j;
        for (j = 1; j < n; j++) {
            if (sets[j].ptr == NULL) continue;
            if (sets[j].ptr == sets[0].ptr) break; /* the same set: nothing survives */
            if (set_contains_value(&sets[j], &v)) break;
        }
        if (j == n) set_add_value(result, &v, lim);
    }
    set_iter_deinit(&it);
}

/* SDIFF's second algorithm: add the first set, remove every other one. */
static void diff_by_removal(struct set *sets, int n, struct set *result,
                            const struct set_limits *lim)
{
    char buf[UTIL_LL_STR_SIZE];
    for (int j = 0; j < n; j++) {
        if (sets[j].ptr == NULL) continue;
        struct set_iter it;
        struct lp_value v;
        set_iter_init(&it, &sets[j]);
        while (set_iter_next(&it, &v)) {
            if (j == 0) {
                set_add_value(result, &v, lim);
            } else {
                set_remove(result, lp_value_slice(&v, buf));
            }
        }
        set_iter_deinit(&it);
        if (set_size(result) == 0) break;
    }
}

/* SUNION / SDIFF (and their STORE forms when `store`) over `n` keys from
 * argv[first]. The result is built as a new set, intset first, as Redis
 * builds it, and replied in that set's order. */
static void union_diff_generic(struct client *c, int first, int n, bool store, enum set_op op)
{
    struct set *sets = em_malloc((size_t)n * sizeof(*sets));
    if (!lookup_sets_or_reply(c, first, n, sets)) goto out;
    struct set_limits lim = limits();
    struct set result;
    set_init(&result);
    if (op == OP_UNION) {
        for (int j = 0; j < n; j++) {
            if (sets[j].ptr == NULL) continue;
            struct add_ctx ctx = {&result, &lim};
            struct set_iter it;
            struct lp_value v;
            set_iter_init(&it, &sets[j]);
            while (set_iter_next(&it, &v))
                add_member_fn(&v, &ctx);
            set_iter_deinit(&it);
        }
    } else if (sets[0].ptr != NULL) {
        /* Redis's choice: lookups cost |first| per other set, removal the
         * sum of all sizes; lookups get a 2x head start. */
        long long one = 0, two = 0;
        for (int j = 0; j < n; j++) {
            if (sets[j].ptr == NULL) continue;
            one += (long long)set_size(&sets[0]);
            two += (long long)set_size(&sets[j]);
        }
        if (one / 2 <= two) {
            if (n > 1) qsort(sets + 1, (size_t)n - 1, sizeof(*sets), by_size_desc);
            diff_by_lookup(sets, n, &result, &lim);
        } else {
            diff_by_removal(sets, n, &result, &lim);
        }
    }
    if (store) {
        store_result(c, c->argv[1], &result, op == OP_UNION ? "sunionstore" : "sdiffstore");
    } else {
        reply_set_len(c, (long long)set_size(&result));
        reply_members(c, &result);
        set_deinit(&result);
    }
out:
    em_free(sets);
}

/* SUNION key [key ...] */
static void cmd_sunion(struct client *c)
{
    union_diff_generic(c, 1, c->argc - 1, false, OP_UNION);
}

/* SUNIONSTORE destination key [key ...] */
static void cmd_sunionstore(struct client *c)
{
    union_diff_generic(c, 2, c->argc - 2, true, OP_UNION);
}

/* SDIFF key [key ...] */
static void cmd_sdiff(struct client *c)
{
    union_diff_generic(c, 1, c->argc - 1, false, OP_DIFF);
}

/* SDIFFSTORE destination key [key ...] */
static void cmd_sdiffstore(struct client *c)
{
    union_diff_generic(c, 2, c->argc - 2, true, OP_DIFF);
}

/* ---- SSCAN ---- */

/* The members one SSCAN call collected (borrowed from the set, which does
 * not change during the call). */
struct scan_batch {
    struct lp_value *v;
    size_t len, cap;
};

static void scan_collect(const struct lp_value *v, void *arg)
{
    struct scan_batch *b = arg;
    if (b->len == b->cap) {
        b->cap = b->cap < 16 ? 16 : b->cap * 2;
        b->v = em_realloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->len++] = *v;
}

/* SSCAN's options from argv[3] on: COUNT (default 10) and MATCH (NULL ptr
 * for none or "*"). False after replying the error. */
static bool parse_sscan_opts(struct client *c, long long *count, struct slice *pat)
{
    *count = 10;
    *pat = (struct slice){NULL, 0};
    for (int i = 3; i < c->argc; i += 2) {
        bool has_value = i + 1 < c->argc;
        if (arg_is(c, i, "count") && has_value) {
            if (!arg_ll_or_reply(c, i + 1, count)) return false;
            if (*count < 1) {
                reply_syntax_error(c);
                return false;
            }
        } else if (arg_is(c, i, "match") && has_value) {
            struct slice p = c->argv[i + 1];
            *pat = p.len == 1 && p.ptr[0] == '*' ? (struct slice){NULL, 0} : p;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count]: a table is walked bucket
 * by bucket until about COUNT members were collected (at most 10*COUNT
 * buckets); an intset or listpack is returned whole with cursor 0. As in
 * Redis, the options are checked only once the key is found to be a set. */
static void cmd_sscan(struct client *c)
{
    unsigned long long cursor;
    if (!scan_cursor_parse(c->argv[2], &cursor)) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    struct dict_node *o = lookup_read(c, c->argv[1]);
    if (o == NULL) {
        reply_array_len(c, 2);
        reply_bulk(c, "0", 1);
        reply_empty_array(c);
        return;
    }
    if (!is_set_or_reply(c, o)) return;
    long long count;
    struct slice pat;
    if (!parse_sscan_opts(c, &count, &pat)) return;

    struct set s = set_of_obj(o);
    struct scan_batch b = {NULL, 0, 0};
    long long visits = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    do {
        cursor = set_scan(&s, cursor, scan_collect, &b);
    } while (cursor != 0 && visits-- > 0 && b.len < (unsigned long long)count);

    size_t kept = 0;
    char buf[UTIL_LL_STR_SIZE];
    for (size_t i = 0; i < b.len; i++) {
        struct slice t = lp_value_slice(&b.v[i], buf);
        if (pat.ptr == NULL || glob_match(pat.ptr, pat.len, t.ptr, t.len, false)) {
            b.v[kept++] = b.v[i];
        }
    }
    char cur[UTIL_LL_STR_SIZE];
    int curlen = ull_to_str(cur, sizeof(cur), cursor);
    reply_array_len(c, 2);
    reply_bulk(c, cur, (size_t)curlen);
    reply_array_len(c, (long long)kept);
    for (size_t i = 0; i < kept; i++)
        reply_member(c, &b.v[i]);
    em_free(b.v);
}

/* ---- Command table ---- */

#define W_DENY_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define RO_FAST     (CMD_READONLY | CMD_FAST)

#define ALGEBRA_INTER                                                                              \
    "O(N*M) worst case where N is the cardinality of the smallest set and M is "                   \
    "the number of sets."
#define ALGEBRA_SUM "O(N) where N is the total number of elements in all given sets."

/* clang-format off */
struct command set_commands[] = {
    {.name = "sadd", .proc = cmd_sadd, .arity = -3, .flags = W_DENY_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Add one or more members to a set", .since = "1.0.0",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is "
                   "called with multiple arguments."},
    {.name = "srem", .proc = cmd_srem, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Remove one or more members from a set", .since = "1.0.0",
     .complexity = "O(N) where N is the number of members to be removed."},
    {.name = "smembers", .proc = cmd_smembers, .arity = 2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Get all the members in a set", .since = "1.0.0",
     .complexity = "O(N) where N is the set cardinality."},
    {.name = "sismember", .proc = cmd_sismember, .arity = 3, .flags = RO_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Determine if a given value is a member of a set", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "smismember", .proc = cmd_smismember, .arity = -3, .flags = RO_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Returns the membership associated with the given elements for a set",
     .since = "6.2.0",
     .complexity = "O(N) where N is the number of elements being checked for membership"},
    {.name = "scard", .proc = cmd_scard, .arity = 2, .flags = RO_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Get the number of members in a set", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "spop", .proc = cmd_spop, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Remove and return one or multiple random members from a set", .since = "1.0.0",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the "
                   "passed count."},
    {.name = "srandmember", .proc = cmd_srandmember, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Get one or multiple random members from a set", .since = "1.0.0",
     .complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute "
                   "value of the passed count."},
    {.name = "smove", .proc = cmd_smove, .arity = 4, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "set",
     .summary = "Move a member from one set to another", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "sinter", .proc = cmd_sinter, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set",
     .summary = "Intersect multiple sets", .since = "1.0.0", .complexity = ALGEBRA_INTER},
    {.name = "sintercard", .proc = cmd_sintercard, .arity = -3, .flags = CMD_READONLY,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "set",
     .summary = "Intersect multiple sets and return the cardinality of the result",
     .since = "7.0.0", .complexity = ALGEBRA_INTER},
    {.name = "sinterstore", .proc = cmd_sinterstore, .arity = -3,
     .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "set", .summary = "Intersect multiple sets and store the resulting set in a key",
     .since = "1.0.0", .complexity = ALGEBRA_INTER},
    {.name = "sunion", .proc = cmd_sunion, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set",
     .summary = "Add multiple sets", .since = "1.0.0", .complexity = ALGEBRA_SUM},
    {.name = "sunionstore", .proc = cmd_sunionstore, .arity = -3,
     .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "set", .summary = "Add multiple sets and store the resulting set in a key",
     .since = "1.0.0", .complexity = ALGEBRA_SUM},
    {.name = "sdiff", .proc = cmd_sdiff, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "set",
     .summary = "Subtract multiple sets", .since = "1.0.0", .complexity = ALGEBRA_SUM},
    {.name = "sdiffstore", .proc = cmd_sdiffstore, .arity = -3,
     .flags = CMD_WRITE | CMD_DENYOOM, .first_key = 1, .last_key = -1, .key_step = 1,
     .group = "set", .summary = "Subtract multiple sets and store the resulting set in a key",
     .since = "1.0.0", .complexity = ALGEBRA_SUM},
    {.name = "sscan", .proc = cmd_sscan, .arity = -3, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "set",
     .summary = "Incrementally iterate Set elements", .since = "2.8.0",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command "
                   "calls for the cursor to return back to 0. N is the number of elements inside "
                   "the collection.."},
    COMMAND_TABLE_END,
};
/* clang-format on */
