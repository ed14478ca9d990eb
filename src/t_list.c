/* t_list.c: list commands.
 *
 * Lists live in list.c (a bare listpack when small, a quicklist when
 * large); this file parses arguments, finds keys and replies as Redis 7.0
 * does. Every key's entry holds a `struct list *`, which moves when the list
 * is reallocated: after a change the handler stores it back with
 * obj_set_ptr(), and a list left empty is deleted (Redis never keeps an
 * empty list). OBJECT ENCODING says "quicklist" for every list, as Redis 7.0
 * does, whatever the form.
 *
 * Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) use blocking.c:
 * they try their keys like the non-blocking commands and, finding nothing,
 * block; when a list appears at one of the keys (db_insert signals it),
 * blocking.c runs the same handler again for the waiting client, which then
 * pops. In MULTI they reply as if the timeout had passed. */
#include "ember/list.h"

#include "ember/aof.h"
#include "ember/blocking.h"
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
#include <string.h>

/* ---- Set-up: how object.c frees and measures lists ---- */

static void free_list(void *ptr, enum obj_enc enc)
{
    (void)enc;
    list_destroy(ptr);
}

static size_t list_size(const void *ptr, enum obj_enc enc)
{
    (void)enc;
    return list_memory(ptr);
}

static void *dup_list(const void *ptr, enum obj_enc enc)
{
    (void)enc;
    return list_dup(ptr);
}

void t_list_setup(void)
{
    obj_register_free(OBJ_LIST, free_list);
    obj_register_size(OBJ_LIST, list_size);
    obj_register_dup(OBJ_LIST, dup_list);
}

static struct list *new_list(void)
{
    return list_create();
}

/* ---- Helpers ---- */

static int fill(void)
{
    return server.cfg.list_max_listpack_size;
}

static bool is_list_or_reply(struct client *c, const struct dict_node *o)
{
    if (obj_type(o) == OBJ_LIST) return true;
    reply_wrongtype(c);
    return false;
}

static void reply_value(struct client *c, const struct lp_value *v)
{
    if (v->str != NULL) {
        reply_bulk(c, v->str, v->len);
    } else {
        reply_bulk_ll(c, v->ll);
    }
}

/* Stores the (possibly moved) list back into its entry, deletes the key if
 * the list is now empty, and reports the change. `o` is invalid after. */
static void list_changed(struct client *c, struct dict_node *o, struct list *l, struct slice key,
                         long long changes, const char *event)
{
    obj_set_ptr(o, l);
    notify_keyspace_event(NOTIFY_LIST, event, key, c->db->id);
    if (list_len(l) == 0) {
        db_delete(c->db, key);
        notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    }
    db_touch(c->db, key);
    server.dirty += changes;
}

static const char *pop_event(enum list_end end)
{
    return end == LIST_HEAD ? "lpop" : "rpop";
}

static const char *push_event(enum list_end end)
{
    return end == LIST_HEAD ? "lpush" : "rpush";
}

/* Parses LEFT|RIGHT at argv[i]. */
static bool end_or_reply(struct client *c, int i, enum list_end *out)
{
    if (arg_is(c, i, "left")) {
        *out = LIST_HEAD;
    } else if (arg_is(c, i, "right")) {
        *out = LIST_TAIL;
    } else {
        reply_syntax_error(c);
        return false;
    }
    return true;
}

/* Replies up to `count` elements taken from one end (head first for
 * LIST_HEAD, tail first for LIST_TAIL), as elements of an array whose
 * header the caller wrote, and removes them. */
static void pop_and_reply(struct client *c, struct list **l, enum list_end end, long long count)
{
    struct list_iter it;
    struct lp_value v;
    list_iter_init(&it, *l, end == LIST_HEAD ? 0 : -1, end == LIST_HEAD);
    for (long long i = 0; i < count && list_iter_next(&it, &v); i++)
        reply_value(c, &v);
    size_t len = list_len(*l);
    size_t n = (size_t)count < len ? (size_t)count : len;
    list_delete_range(l, end == LIST_HEAD ? 0 : len - n, n, fill());
}

/* Number of elements a pop of `count` takes from `l`. */
static long long pop_len(const struct list *l, long long count)
{
    long long len = (long long)list_len(l);
    return count < len ? count : len;
}

/* ---- Push ---- */

/* LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...]: pushes each element
 * in turn at one end; the X forms only touch an existing list. Replies the
 * new length. */
static void push_generic(struct client *c, enum list_end end, bool only_existing)
{
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o != NULL && !is_list_or_reply(c, o)) return;
    if (o == NULL && only_existing) {
        reply_int(c, 0);
        return;
    }
    struct list *l = o != NULL ? obj_ptr(o) : new_list();
    for (int i = 2; i < c->argc; i++)
        list_push(&l, c->argv[i], end, fill());
    if (o == NULL) {
        db_insert(c->db, &ref, obj_create_ptr(key, OBJ_LIST, OBJ_ENC_QUICKLIST, l, -1));
    } else {
        obj_set_ptr(o, l);
    }
    db_touch(c->db, key);
    notify_keyspace_event(NOTIFY_LIST, push_event(end), key, c->db->id);
    server.dirty += c->argc - 2;
    reply_int(c, (long long)list_len(l));
}

static void cmd_lpush(struct client *c)
{
    push_generic(c, LIST_HEAD, false);
}

static void cmd_rpush(struct client *c)
{
    push_generic(c, LIST_TAIL, false);
}

static void cmd_lpushx(struct client *c)
{
    push_generic(c, LIST_HEAD, true);
}

static void cmd_rpushx(struct client *c)
{
    push_generic(c, LIST_TAIL, true);
}

/* ---- Pop ---- */

/* LPOP/RPOP key [count]: without count, the element or nil; with count, an
 * array of up to count elements (nil array for a missing key, an empty one
 * for count 0). */
static void pop_generic(struct client *c, enum list_end end)
{
    if (c->argc > 3) {
        reply_arity_error(c);
        return;
    }
    bool has_count = c->argc == 3;
    long long count = 1;
    if (has_count && !arg_ll_range_or_reply(c, 2, 0, LLONG_MAX, &count,
                                            "ERR value is out of range, must be positive")) {
        return;
    }
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        if (has_count) {
            reply_null_array(c);
        } else {
            reply_null(c);
        }
        return;
    }
    if (!is_list_or_reply(c, o)) return;
    if (count == 0) {
        reply_empty_array(c);
        return;
    }
    struct list *l = obj_ptr(o);
    long long n = pop_len(l, count);
    if (has_count) reply_array_len(c, n);
    pop_and_reply(c, &l, end, n);
    list_changed(c, o, l, key, n, pop_event(end));
}

static void cmd_lpop(struct client *c)
{
    pop_generic(c, LIST_HEAD);
}

static void cmd_rpop(struct client *c)
{
    pop_generic(c, LIST_TAIL);
}

/* ---- Reading ---- */

/* Looks `key` up for a read command (counting the hit or miss). Returns
 * NULL when missing (nothing replied) or of another type (WRONGTYPE
 * replied, *failed set). */
static struct dict_node *lookup_read(struct client *c, struct slice key, bool *failed)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    db_count_lookup(c->db, o != NULL);
    *failed = o != NULL && !is_list_or_reply(c, o);
    return *failed ? NULL : o;
}

/* LLEN key */
static void cmd_llen(struct client *c)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    reply_int(c, o != NULL ? (long long)list_len(obj_ptr(o)) : 0);
}

/* LRANGE key start stop */
static void cmd_lrange(struct client *c)
{
    long long start, stop;
    if (!arg_ll_or_reply(c, 2, &start) || !arg_ll_or_reply(c, 3, &stop)) return;
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL) {
        reply_empty_array(c);
        return;
    }
    const struct list *l = obj_ptr(o);
    long long len = (long long)list_len(l);
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) {
        reply_empty_array(c);
        return;
    }
    if (stop >= len) stop = len - 1;
    reply_array_len(c, stop - start + 1);
    struct list_iter it;
    struct lp_value v;
    list_iter_init(&it, l, start, true);
    for (long long i = start; i <= stop && list_iter_next(&it, &v); i++)
        reply_value(c, &v);
}

/* LINDEX key index */
static void cmd_lindex(struct client *c)
{
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL) {
        reply_null(c);
        return;
    }
    long long index;
    if (!arg_ll_or_reply(c, 2, &index)) return;
    struct lp_value v;
    if (list_index(obj_ptr(o), index, &v)) {
        reply_value(c, &v);
    } else {
        reply_null(c);
    }
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
struct lpos_args {
    long long rank;   /* 1 = first match; negative: from the tail */
    long long count;  /* -1: not given (single reply); 0: all matches */
    long long maxlen; /* 0: no limit */
};

static bool lpos_args_or_reply(struct client *c, struct lpos_args *a)
{
    a->rank = 1;
    a->count = -1;
    a->maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        bool more = j + 1 < c->argc;
        if (arg_is(c, j, "rank") && more) {
            if (!arg_ll_or_reply(c, ++j, &a->rank)) return false;
            if (a->rank == 0) {
                reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 "
                               "from the second ... or use negative to start from the end of "
                               "the list");
                return false;
            }
        } else if (arg_is(c, j, "count") && more) {
            if (!arg_ll_range_or_reply(c, ++j, 0, LLONG_MAX, &a->count,
                                       "ERR COUNT can't be negative")) {
                return false;
            }
        } else if (arg_is(c, j, "maxlen") && more) {
            if (!arg_ll_range_or_reply(c, ++j, 0, LLONG_MAX, &a->maxlen,
                                       "ERR MAXLEN can't be negative")) {
                return false;
            }
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Whether the match numbered `matches` (from 1) has reached the wanted
 * count. Redis computes matches - rank + 1 in a long, which wraps for RANK
 * LLONG_MIN and then never reaches the count: all matches are returned. */
static bool lpos_done(long long matches, long long rank, long long count)
{
    if (count == 0 || rank == LLONG_MIN) return false;
    return matches - rank + 1 >= count;
}

static void cmd_lpos(struct client *c)
{
    struct lpos_args a;
    if (!lpos_args_or_reply(c, &a)) return;
    bool failed;
    struct dict_node *o = lookup_read(c, c->argv[1], &failed);
    if (failed) return;
    if (o == NULL) {
        if (a.count != -1) {
            reply_empty_array(c);
        } else {
            reply_null(c);
        }
        return;
    }
    const struct list *l = obj_ptr(o);
    long long len = (long long)list_len(l);
    bool forward = a.rank > 0;
    /* |rank|, except that LLONG_MIN stays negative: every match qualifies,
     * as in Redis where -LONG_MIN wraps. */
    long long rank = forward || a.rank == LLONG_MIN ? a.rank : -a.rank;
    struct lp_needle needle;
    lp_needle_init(&needle, c->argv[2]);
    void *hdr = a.count != -1 ? reply_defer_len(c) : NULL;
    long long found = 0, matches = 0, index = 0;
    struct list_iter it;
    list_iter_init(&it, l, forward ? 0 : -1, forward);
    for (; a.maxlen == 0 || index < a.maxlen; index++) {
        const uint8_t *p = it.p;
        struct lp_value unused;
        if (!list_iter_next(&it, &unused)) break;
        if (!lp_match(p, &needle) || ++matches < rank) continue;
        reply_int(c, forward ? index : len - 1 - index);
        found++;
        if (hdr == NULL || lpos_done(matches, rank, a.count)) break;
    }
    if (hdr != NULL) {
        reply_set_array_len(c, hdr, found);
    } else if (found == 0) {
        reply_null(c);
    }
}

/* ---- Changes in place ---- */

/* LSET key index element */
static void cmd_lset(struct client *c)
{
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (!is_list_or_reply(c, o)) return;
    long long index;
    if (!arg_ll_or_reply(c, 2, &index)) return;
    struct list *l = obj_ptr(o);
    if (!list_set(&l, index, c->argv[3], fill())) {
        reply_error(c, "ERR index out of range");
        return;
    }
    list_changed(c, o, l, key, 1, "lset");
    reply_ok(c);
}

/* LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the
 * pivot, 0 without the key. */
static void cmd_linsert(struct client *c)
{
    bool after;
    if (arg_is(c, 2, "after")) {
        after = true;
    } else if (arg_is(c, 2, "before")) {
        after = false;
    } else {
        reply_syntax_error(c);
        return;
    }
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_list_or_reply(c, o)) return;
    struct list *l = obj_ptr(o);
    long long len = list_insert_pivot(&l, c->argv[3], c->argv[4], after, fill());
    if (len > 0) list_changed(c, o, l, key, 1, "linsert");
    reply_int(c, len);
}

/* LREM key count element */
static void cmd_lrem(struct client *c)
{
    long long count;
    if (!arg_ll_or_reply(c, 2, &count)) return;
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    if (!is_list_or_reply(c, o)) return;
    struct list *l = obj_ptr(o);
    size_t removed = list_remove(&l, c->argv[3], count, fill());
    if (removed > 0) {
        list_changed(c, o, l, key, (long long)removed, "lrem");
    } else {
        obj_set_ptr(o, l);
    }
    reply_int(c, (long long)removed);
}

/* LTRIM key start stop */
static void cmd_ltrim(struct client *c)
{
    long long start, stop;
    if (!arg_ll_or_reply(c, 2, &start) || !arg_ll_or_reply(c, 3, &stop)) return;
    struct slice key = c->argv[1];
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    if (o == NULL) {
        reply_ok(c);
        return;
    }
    if (!is_list_or_reply(c, o)) return;
    struct list *l = obj_ptr(o);
    long long len = (long long)list_len(l);
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    long long ltrim, rtrim;
    if (start > stop || start >= len) {
        ltrim = len; /* everything goes */
        rtrim = 0;
    } else {
        if (stop >= len) stop = len - 1;
        ltrim = start;
        rtrim = len - stop - 1;
    }
    list_delete_range(&l, 0, (size_t)ltrim, fill());
    list_delete_range(&l, (size_t)(len - ltrim - rtrim), (size_t)rtrim, fill());
    list_changed(c, o, l, key, ltrim + rtrim, "ltrim");
    reply_ok(c);
}

/* ---- Moving between lists ---- */

/* Pops from `src` at `from` and pushes onto `dst` at `to`, replying the
 * element; nil if src is missing. Both keys must hold lists (or dst be
 * missing, in which case it is created). */
static void move_generic(struct client *c, struct slice src, struct slice dst, enum list_end from,
                         enum list_end to)
{
    struct db_ref ref;
    struct dict_node *so = db_find(c->db, src, &ref);
    if (so == NULL) {
        reply_null(c);
        return;
    }
    if (!is_list_or_reply(c, so)) return;
    /* Entries stay put when the table changes (only positions go stale),
     * so `so` survives this lookup; its ref does not, hence db_delete()
     * by name in list_changed(). */
    struct dict_node *dobj = db_find(c->db, dst, &ref);
    if (dobj != NULL && !is_list_or_reply(c, dobj)) return;

    struct list *sl = obj_ptr(so);
    struct lp_value v;
    list_index(sl, from == LIST_HEAD ? 0 : -1, &v);
    reply_value(c, &v);
    char buf[UTIL_LL_STR_SIZE];
    struct slice s = lp_value_slice(&v, buf);
    if (dobj == so) {
        /* Same list (a rotation): the element must leave the listpack
         * before it is pushed back, so copy it out first. */
        char small[128];
        char *copy = NULL;
        if (s.ptr != buf && s.len <= sizeof(small)) {
            s.ptr = memcpy(small, s.ptr, s.len);
        } else if (s.ptr != buf) {
            s.ptr = copy = em_strndup(s.ptr, s.len);
        }
        list_pop(&sl, from, fill());
        list_push(&sl, s, to, fill());
        em_free(copy);
        notify_keyspace_event(NOTIFY_LIST, push_event(to), dst, c->db->id);
        list_changed(c, so, sl, src, 1, pop_event(from));
        return;
    }
    if (dobj == NULL) {
        struct list *dl = new_list();
        list_push(&dl, s, to, fill());
        db_insert(c->db, &ref, obj_create_ptr(dst, OBJ_LIST, OBJ_ENC_QUICKLIST, dl, -1));
    } else {
        struct list *dl = obj_ptr(dobj);
        list_push(&dl, s, to, fill());
        obj_set_ptr(dobj, dl);
    }
    db_touch(c->db, dst);
    notify_keyspace_event(NOTIFY_LIST, push_event(to), dst, c->db->id);
    list_pop(&sl, from, fill());
    list_changed(c, so, sl, src, 1, pop_event(from));
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
static void cmd_lmove(struct client *c)
{
    enum list_end from, to;
    if (!end_or_reply(c, 3, &from) || !end_or_reply(c, 4, &to)) return;
    move_generic(c, c->argv[1], c->argv[2], from, to);
}

/* RPOPLPUSH source destination */
static void cmd_rpoplpush(struct client *c)
{
    move_generic(c, c->argv[1], c->argv[2], LIST_TAIL, LIST_HEAD);
}

/* ---- Popping from the first non-empty of several keys ---- */

/* Parses "numkeys key [key ...] LEFT|RIGHT [COUNT count]" from argv[idx]
 * (LMPOP: 1, BLMPOP: 2), with Redis's errors and their order. */
static bool mpop_args_or_reply(struct client *c, int idx, long long *numkeys, enum list_end *where,
                               long long *count)
{
    if (!arg_ll_range_or_reply(c, idx, 1, LLONG_MAX, numkeys,
                               "ERR numkeys should be greater than 0")) {
        return false;
    }
    if (*numkeys >= c->argc - idx - 1) {
        reply_syntax_error(c); /* no room left for LEFT|RIGHT */
        return false;
    }
    int where_idx = idx + (int)*numkeys + 1;
    if (!end_or_reply(c, where_idx, where)) return false;
    *count = -1;
    for (int j = where_idx + 1; j < c->argc; j++) {
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

/* Pops up to `count` from the first non-empty list among `keys`, replying
 * [key, [element, ...]]. Returns false (nothing replied) if every key is
 * missing; true once replied, WRONGTYPE included. */
static bool mpop_keys(struct client *c, const struct slice *keys, long long numkeys,
                      enum list_end where, long long count)
{
    for (long long i = 0; i < numkeys; i++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, keys[i], &ref);
        if (o == NULL || (obj_type(o) != OBJ_LIST && (c->flags & CLIENT_REEXEC))) continue;
        if (!is_list_or_reply(c, o)) return true;
        struct list *l = obj_ptr(o);
        long long n = pop_len(l, count);
        reply_array_len(c, 2);
        reply_bulk_slice(c, keys[i]);
        reply_array_len(c, n);
        pop_and_reply(c, &l, where, n);
        list_changed(c, o, l, keys[i], n, pop_event(where));
        /* Logged as the plain pop of the key served (Redis 7.0). */
        char num[UTIL_LL_STR_SIZE];
        propagate_rewrite(
            c, 3,
            (struct slice[]){where == LIST_HEAD ? SLICE_LIT("LPOP") : SLICE_LIT("RPOP"),
                             keys[i],
                             {num, (size_t)ll_to_str(num, sizeof(num), n)}});
        return true;
    }
    return false;
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static void cmd_lmpop(struct client *c)
{
    long long numkeys, count;
    enum list_end where;
    if (!mpop_args_or_reply(c, 1, &numkeys, &where, &count)) return;
    if (!mpop_keys(c, &c->argv[2], numkeys, where, count)) reply_null_array(c);
}

/* ---- Blocking forms ---- */

/* BLPOP/BRPOP key [key ...] timeout: [key, element] from the first
 * non-empty key, else block. */
static void bpop_generic(struct client *c, enum list_end end)
{
    long long deadline;
    if (!blocking_timeout_or_reply(c, c->argc - 1, &deadline)) return;
    for (int j = 1; j < c->argc - 1; j++) {
        struct db_ref ref;
        struct dict_node *o = db_find(c->db, c->argv[j], &ref);
        if (o == NULL || (obj_type(o) != OBJ_LIST && (c->flags & CLIENT_REEXEC))) continue;
        if (!is_list_or_reply(c, o)) return;
        struct list *l = obj_ptr(o);
        reply_array_len(c, 2);
        reply_bulk_slice(c, c->argv[j]);
        pop_and_reply(c, &l, end, 1);
        list_changed(c, o, l, c->argv[j], 1, pop_event(end));
        propagate_rewrite(
            c, 2,
            (struct slice[]){end == LIST_HEAD ? SLICE_LIT("LPOP") : SLICE_LIT("RPOP"), c->argv[j]});
        return;
    }
    if (!blocking_may_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, &c->argv[1], c->argc - 2, deadline, BLOCK_REPLY_NULL_ARRAY);
}

static void cmd_blpop(struct client *c)
{
    bpop_generic(c, LIST_HEAD);
}

static void cmd_brpop(struct client *c)
{
    bpop_generic(c, LIST_TAIL);
}

/* BLMOVE/BRPOPLPUSH: LMOVE once the source has elements. */
static void bmove_generic(struct client *c, enum list_end from, enum list_end to,
                          long long deadline)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    /* Re-executed for a blocked client, a key that now holds another type
     * keeps it waiting: Redis wakes list waiters only for lists. */
    if (o != NULL && !(obj_type(o) != OBJ_LIST && (c->flags & CLIENT_REEXEC))) {
        long long dirty = server.dirty;
        move_generic(c, c->argv[1], c->argv[2], from, to);
        if (server.dirty != dirty) { /* logged as the non-blocking LMOVE */
            struct slice w[2] = {SLICE_LIT("LEFT"), SLICE_LIT("RIGHT")};
            propagate_rewrite(c, 5,
                              (struct slice[]){SLICE_LIT("LMOVE"), c->argv[1], c->argv[2],
                                               w[from == LIST_TAIL], w[to == LIST_TAIL]});
        }
        return;
    }
    if (!blocking_may_block(c)) {
        reply_null(c);
        return;
    }
    /* Redis 7.0 answers a timed-out BLMOVE with the null array, like every
     * list pop, though in MULTI it replies the null bulk (above). */
    blocking_block(c, &c->argv[1], 1, deadline, BLOCK_REPLY_NULL_ARRAY);
}

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
static void cmd_blmove(struct client *c)
{
    enum list_end from, to;
    long long deadline;
    if (!end_or_reply(c, 3, &from) || !end_or_reply(c, 4, &to)) return;
    if (!blocking_timeout_or_reply(c, 5, &deadline)) return;
    bmove_generic(c, from, to, deadline);
}

/* BRPOPLPUSH source destination timeout */
static void cmd_brpoplpush(struct client *c)
{
    long long deadline;
    if (!blocking_timeout_or_reply(c, 3, &deadline)) return;
    bmove_generic(c, LIST_TAIL, LIST_HEAD, deadline);
}

/* BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
static void cmd_blmpop(struct client *c)
{
    long long numkeys, count, deadline;
    enum list_end where;
    if (!mpop_args_or_reply(c, 2, &numkeys, &where, &count)) return;
    if (!blocking_timeout_or_reply(c, 1, &deadline)) return;
    if (mpop_keys(c, &c->argv[3], numkeys, where, count)) return;
    if (!blocking_may_block(c)) {
        reply_null_array(c);
        return;
    }
    blocking_block(c, &c->argv[3], (int)numkeys, deadline, BLOCK_REPLY_NULL_ARRAY);
}

/* ---- The table: Redis 7.0's arity, flags and key positions ---- */

#define W_DENY_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define BLOCKING    (CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING)

/* clang-format off */
struct command list_commands[] = {
    {.name = "lpush", .proc = cmd_lpush, .arity = -3, .flags = W_DENY_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Prepend one or multiple elements to a list", .since = "1.0.0",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is "
                   "called with multiple arguments."},
    {.name = "rpush", .proc = cmd_rpush, .arity = -3, .flags = W_DENY_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Append one or multiple elements to a list", .since = "1.0.0",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is "
                   "called with multiple arguments."},
    {.name = "lpushx", .proc = cmd_lpushx, .arity = -3, .flags = W_DENY_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Prepend an element to a list, only if the list exists", .since = "2.2.0",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is "
                   "called with multiple arguments."},
    {.name = "rpushx", .proc = cmd_rpushx, .arity = -3, .flags = W_DENY_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Append an element to a list, only if the list exists", .since = "2.2.0",
     .complexity = "O(1) for each element added, so O(N) to add N elements when the command is "
                   "called with multiple arguments."},
    {.name = "lpop", .proc = cmd_lpop, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Remove and get the first elements in a list", .since = "1.0.0",
     .complexity = "O(N) where N is the number of elements returned"},
    {.name = "rpop", .proc = cmd_rpop, .arity = -2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Remove and get the last elements in a list", .since = "1.0.0",
     .complexity = "O(N) where N is the number of elements returned"},
    {.name = "llen", .proc = cmd_llen, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Get the length of a list", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "lrange", .proc = cmd_lrange, .arity = 4, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Get a range of elements from a list", .since = "1.0.0",
     .complexity = "O(S+N) where S is the distance of start offset from HEAD for small lists, "
                   "from nearest end (HEAD or TAIL) for large lists; and N is the number of "
                   "elements in the specified range."},
    {.name = "lindex", .proc = cmd_lindex, .arity = 3, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Get an element from a list by its index", .since = "1.0.0",
     .complexity = "O(N) where N is the number of elements to traverse to get to the element "
                   "at index. This makes asking for the first or the last element of the list "
                   "O(1)."},
    {.name = "lset", .proc = cmd_lset, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Set the value of an element in a list by its index", .since = "1.0.0",
     .complexity = "O(N) where N is the length of the list. Setting either the first or the "
                   "last element of the list is O(1)."},
    {.name = "linsert", .proc = cmd_linsert, .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Insert an element before or after another element in a list",
     .since = "2.2.0",
     .complexity = "O(N) where N is the number of elements to traverse before seeing the value "
                   "pivot. This means that inserting somewhere on the left end on the list "
                   "(head) can be considered O(1) and inserting somewhere on the right end "
                   "(tail) is O(N)."},
    {.name = "lrem", .proc = cmd_lrem, .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Remove elements from a list", .since = "1.0.0",
     .complexity = "O(N+M) where N is the length of the list and M is the number of elements "
                   "removed."},
    {.name = "ltrim", .proc = cmd_ltrim, .arity = 4, .flags = CMD_WRITE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Trim a list to the specified range", .since = "1.0.0",
     .complexity = "O(N) where N is the number of elements to be removed by the operation."},
    {.name = "lpos", .proc = cmd_lpos, .arity = -3, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "list",
     .summary = "Return the index of matching elements on a list", .since = "6.0.6",
     .complexity = "O(N) where N is the number of elements in the list, for the average case. "
                   "When searching for elements near the head or the tail of the list, or when "
                   "the MAXLEN option is provided, the command may run in constant time."},
    {.name = "lmove", .proc = cmd_lmove, .arity = 5, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .summary = "Pop an element from a list, push it to another list and return it",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "rpoplpush", .proc = cmd_rpoplpush, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .summary = "Remove the last element in a list, prepend it to another list and return it",
     .since = "1.2.0", .complexity = "O(1)"},
    {.name = "lmpop", .proc = cmd_lmpop, .arity = -4, .flags = CMD_WRITE,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "list",
     .summary = "Pop elements from a list", .since = "7.0.0",
     .complexity = "O(N+M) where N is the number of provided keys and M is the number of "
                   "elements returned."},
    {.name = "blpop", .proc = cmd_blpop, .arity = -3, .flags = BLOCKING,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list",
     .summary = "Remove and get the first element in a list, or block until one is available",
     .since = "2.0.0", .complexity = "O(N) where N is the number of provided keys."},
    {.name = "brpop", .proc = cmd_brpop, .arity = -3, .flags = BLOCKING,
     .first_key = 1, .last_key = -2, .key_step = 1, .group = "list",
     .summary = "Remove and get the last element in a list, or block until one is available",
     .since = "2.0.0", .complexity = "O(N) where N is the number of provided keys."},
    {.name = "blmove", .proc = cmd_blmove, .arity = 6, .flags = BLOCKING | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .summary = "Pop an element from a list, push it to another list and return it; or block "
                "until one is available",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "brpoplpush", .proc = cmd_brpoplpush, .arity = 4, .flags = BLOCKING | CMD_DENYOOM,
     .first_key = 1, .last_key = 2, .key_step = 1, .group = "list",
     .summary = "Pop an element from a list, push it to another list and return it; or block "
                "until one is available",
     .since = "2.2.0", .complexity = "O(1)"},
    {.name = "blmpop", .proc = cmd_blmpop, .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING,
     .first_key = 0, .last_key = 0, .key_step = 0, .group = "list",
     .summary = "Pop elements from a list, or block until one is available", .since = "7.0.0",
     .complexity = "O(N+M) where N is the number of provided keys and M is the number of "
                   "elements returned."},
    COMMAND_TABLE_END,
};
/* clang-format on */
