/* t_sort.c: SORT and SORT_RO, as Redis 7.0's sort.c.
 *
 *   SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
 *            [ALPHA] [STORE destination]
 *
 * Sorts the elements of a list, set or sorted set: as numbers (each must
 * parse as a double), or as strings with ALPHA (strcoll(), or bytewise when
 * storing, as Redis does). BY sorts by the value of other keys: the first
 * '*' of the pattern is replaced by the element, and "key->field" reads a
 * hash field; a pattern without '*' ("nosort") skips sorting, so lists and
 * sorted sets keep their order. GET replies (or stores) such values instead
 * of the elements, "#" being the element itself. STORE writes the result as
 * a list (an empty result deletes the destination) and replies its length.
 *
 * Like Redis, a sorted set is converted to a skip list first (OBJECT
 * ENCODING says so afterwards), and a set sorted BY nosort into STORE (or
 * from a script) is sorted ALPHA instead, so the stored order replays. */
#include "ember/acl.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/command_meta.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/script.h"
#include "ember/server.h"
#include "ember/set.h"
#include "ember/zset.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One element to sort: a NUL-terminated copy (strtod and strcoll read it as
 * C strings, as Redis does) and what it is sorted by. */
struct sort_item {
    char *ptr;
    size_t len;
    double score;
    char *cmp; /* ALPHA BY: the pattern's value (NULL if missing) */
    size_t cmplen;
};

/* The comparison's settings; qsort's comparator has no argument for them. */
static struct {
    bool desc, alpha, bypattern, store;
} sort_opts;

static char *dup_cstr(struct slice s)
{
    char *p = em_malloc(s.len + 1);
    if (s.len > 0) memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

/* Redis's compareStringObjects: bytewise, then the shorter first. */
static int compare_binary(const char *a, size_t alen, const char *b, size_t blen)
{
    int cmp = memcmp(a, b, alen < blen ? alen : blen);
    if (cmp != 0) return cmp;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Redis's sortCompare. */
static int sort_compare(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;
    int cmp;
    if (!sort_opts.alpha) {
        if (a->score > b->score) {
            cmp = 1;
        } else if (a->score < b->score) {
            cmp = -1;
        } else {
            /* Equal scores: the elements decide, so the result is
             * deterministic. */
            cmp = compare_binary(a->ptr, a->len, b->ptr, b->len);
        }
    } else if (sort_opts.bypattern) {
        if (a->cmp == NULL || b->cmp == NULL) {
            cmp = a->cmp == b->cmp ? 0 : a->cmp == NULL ? -1 : 1;
        } else if (sort_opts.store) {
            cmp = compare_binary(a->cmp, a->cmplen, b->cmp, b->cmplen);
        } else {
            cmp = strcoll(a->cmp, b->cmp);
        }
    } else if (sort_opts.store) {
        cmp = compare_binary(a->ptr, a->len, b->ptr, b->len);
    } else {
        cmp = strcoll(a->ptr, b->ptr);
    }
    return sort_opts.desc ? -cmp : cmp;
}

/* Redis's lookupKeyByPattern: the value `pattern` (NUL-terminated, `plen`
 * bytes) names for element `sub`. "#" is the element itself; otherwise the
 * first '*' is replaced by it and the key read as a string, or with
 * "->field" after the '*' as a hash field. False when there is no '*', no
 * such key, or a key of another type. The value is borrowed from the
 * keyspace (or `buf`) until it changes. */
static bool lookup_by_pattern(struct client *c, const char *pattern, size_t plen, struct slice sub,
                              struct slice *out, char *buf)
{
    if (pattern[0] == '#' && pattern[1] == '\0') {
        *out = sub;
        return true;
    }
    const char *star = strchr(pattern, '*');
    if (star == NULL) return false;
    const char *arrow = strstr(star + 1, "->");
    size_t fieldlen = 0;
    if (arrow != NULL && arrow[2] != '\0') fieldlen = plen - (size_t)(arrow - pattern) - 2;
    size_t prefixlen = (size_t)(star - pattern);
    size_t postfixlen = plen - (prefixlen + 1) - (fieldlen ? fieldlen + 2 : 0);

    size_t keylen = prefixlen + sub.len + postfixlen;
    char stackkey[256];
    char *key = keylen <= sizeof(stackkey) ? stackkey : em_malloc(keylen);
    memcpy(key, pattern, prefixlen);
    if (sub.len > 0) memcpy(key + prefixlen, sub.ptr, sub.len);
    memcpy(key + prefixlen + sub.len, star + 1, postfixlen);

    struct db_ref ref;
    struct dict_node *o = db_find(c->db, (struct slice){key, keylen}, &ref);
    db_count_lookup(c->db, o != NULL);
    if (key != stackkey) em_free(key);
    if (o == NULL) return false;
    if (fieldlen) {
        if (obj_type(o) != OBJ_HASH) return false;
        struct hash h = {obj_ptr(o), obj_enc(o)};
        return hash_get(&h, (struct slice){arrow + 2, fieldlen}, out, buf);
    }
    if (obj_type(o) != OBJ_STRING) return false;
    *out = obj_string(o, buf);
    return true;
}

struct sort_state {
    struct sort_item *v;
    long n;
};

static void push_item(struct sort_state *st, struct slice s)
{
    st->v[st->n++] = (struct sort_item){.ptr = dup_cstr(s), .len = s.len};
}

static void collect_set(const struct lp_value *v, void *arg)
{
    char buf[UTIL_LL_STR_SIZE];
    push_item(arg, lp_value_slice(v, buf));
}

/* SORT and SORT_RO (readonly: no STORE). */
static void sort_generic(struct client *c, bool readonly)
{
    bool desc = false, alpha = false, dontsort = false;
    long limit_start = 0, limit_count = -1;
    int sortby = 0, storekey = 0; /* argv indexes, 0 = none */
    int *gets = em_malloc((size_t)c->argc * sizeof(*gets));
    int ngets = 0;

    for (int j = 2; j < c->argc; j++) {
        int leftargs = c->argc - j - 1;
        if (arg_is(c, j, "asc")) {
            desc = false;
        } else if (arg_is(c, j, "desc")) {
            desc = true;
        } else if (arg_is(c, j, "alpha")) {
            alpha = true;
        } else if (arg_is(c, j, "limit") && leftargs >= 2) {
            long long a, b;
            if (!arg_ll_or_reply(c, j + 1, &a) || !arg_ll_or_reply(c, j + 2, &b)) goto out;
            limit_start = (long)a;
            limit_count = (long)b;
            j += 2;
        } else if (!readonly && arg_is(c, j, "store") && leftargs >= 1) {
            storekey = ++j;
        } else if (arg_is(c, j, "by") && leftargs >= 1) {
            sortby = ++j;
            /* strchr: the pattern is read as a C string. */
            if (memchr(c->argv[j].ptr, '*', strnlen(c->argv[j].ptr, c->argv[j].len)) == NULL) {
                dontsort = true;
            } else if (server.cfg.cluster_enabled) {
                reply_error(c, "ERR BY option of SORT denied in Cluster mode.");
                goto out;
            } else if (acl_enforced && !acl_full_key_access(c, c->cmd)) {
                reply_error(c, "ERR BY option of SORT denied due to insufficient ACL permissions.");
                goto out;
            }
        } else if (arg_is(c, j, "get") && leftargs >= 1) {
            if (server.cfg.cluster_enabled) {
                reply_error(c, "ERR GET option of SORT denied in Cluster mode.");
                goto out;
            }
            if (acl_enforced && !acl_full_key_access(c, c->cmd)) {
                reply_error(c,
                            "ERR GET option of SORT denied due to insufficient ACL permissions.");
                goto out;
            }
            gets[ngets++] = ++j;
        } else {
            reply_syntax_error(c);
            goto out;
        }
    }

    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    db_count_lookup(c->db, o != NULL);
    enum obj_type type = o != NULL ? obj_type(o) : OBJ_LIST;
    if (type != OBJ_LIST && type != OBJ_SET && type != OBJ_ZSET) {
        reply_wrongtype(c);
        goto out;
    }
    /* A set has no order of its own: what is stored (or seen by a script)
     * must not depend on it. */
    if (dontsort && type == OBJ_SET && (storekey || script_is_running())) {
        dontsort = false;
        alpha = true;
        sortby = 0;
    }
    if (type == OBJ_ZSET) { /* destructive, as Redis's zsetConvert */
        struct zset *z = obj_ptr(o);
        zset_to_skiplist(&z);
        obj_set_ptr(o, z);
        obj_set_enc(o, OBJ_ENC_SKIPLIST);
    }

    long vectorlen = 0;
    if (o != NULL) {
        if (type == OBJ_LIST) {
            vectorlen = (long)list_len(obj_ptr(o));
        } else if (type == OBJ_SET) {
            struct set s = set_of_obj(o);
            vectorlen = (long)set_size(&s);
        } else {
            vectorlen = (long)zset_len(obj_ptr(o));
        }
    }

    long start = limit_start < 0 ? 0 : limit_start, end;
    if (limit_count < 0) {
        end = vectorlen - 1;
    } else if (__builtin_add_overflow(start, limit_count - 1, &end)) {
        end = LONG_MAX;
    }
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen) end = vectorlen - 1;

    /* Lists and sorted sets not sorted load only the range asked for. */
    long loadlen = vectorlen;
    bool ranged = (type == OBJ_ZSET || type == OBJ_LIST) && dontsort;
    if (ranged && (start != 0 || end != vectorlen - 1)) loadlen = end - start + 1;
    struct sort_state st = {em_malloc((size_t)(loadlen > 0 ? loadlen : 1) * sizeof(*st.v)), 0};

    if (o != NULL && type == OBJ_LIST) {
        const struct list *l = obj_ptr(o);
        long from = 0;
        bool forward = true;
        if (dontsort) {
            from = desc ? (long)list_len(l) - start - 1 : start;
            forward = !desc;
        }
        if (!dontsort || end >= start) {
            struct list_iter it;
            struct lp_value v;
            char buf[UTIL_LL_STR_SIZE];
            list_iter_init(&it, l, from, forward);
            while (st.n < loadlen && list_iter_next(&it, &v))
                push_item(&st, lp_value_slice(&v, buf));
        }
        if (dontsort && end >= start) {
            end -= start;
            start = 0;
        }
    } else if (o != NULL && type == OBJ_SET) {
        struct set s = set_of_obj(o);
        struct set_iter it;
        struct lp_value v;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &v))
            collect_set(&v, &st);
        set_iter_deinit(&it);
    } else if (o != NULL && type == OBJ_ZSET) {
        const struct zset *z = obj_ptr(o);
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, z, dontsort ? (size_t)(start > 0 ? start : 0) : 0, dontsort && desc);
        while (st.n < loadlen && zset_iter_next(&it, &m, &score))
            push_item(&st, m);
        if (dontsort) {
            end -= start;
            start = 0;
        }
    }

    bool conversion_error = false;
    if (!dontsort) {
        size_t plen = 0;
        char *pattern = NULL;
        if (sortby) {
            pattern = dup_cstr(c->argv[sortby]);
            plen = c->argv[sortby].len;
        }
        for (long j = 0; j < st.n; j++) {
            struct sort_item *it = &st.v[j];
            struct slice by = {it->ptr, it->len};
            char buf[UTIL_LL_STR_SIZE];
            if (pattern != NULL &&
                !lookup_by_pattern(c, pattern, plen, (struct slice){it->ptr, it->len}, &by, buf))
                continue;
            if (alpha) {
                if (pattern != NULL) {
                    it->cmp = dup_cstr(by);
                    it->cmplen = by.len;
                }
            } else {
                char *text = by.ptr == it->ptr ? it->ptr : dup_cstr(by);
                char *eptr;
                errno = 0;
                it->score = strtod(text, &eptr);
                if (eptr[0] != '\0' || errno == ERANGE || isnan(it->score)) conversion_error = true;
                if (text != it->ptr) em_free(text);
            }
        }
        em_free(pattern);
        sort_opts.desc = desc;
        sort_opts.alpha = alpha;
        sort_opts.bypattern = sortby != 0;
        sort_opts.store = storekey != 0;
        if (st.n > 1) qsort(st.v, (size_t)st.n, sizeof(*st.v), sort_compare);
    }

    long count = end - start + 1;
    long outputlen = ngets ? ngets * count : count;
    char **gpat = em_malloc((size_t)(ngets > 0 ? ngets : 1) * sizeof(*gpat));
    for (int g = 0; g < ngets; g++)
        gpat[g] = dup_cstr(c->argv[gets[g]]);

    if (conversion_error) {
        reply_error(c, "ERR One or more scores can't be converted into double");
    } else if (!storekey) {
        reply_array_len(c, outputlen);
        for (long j = start; j <= end; j++) {
            struct slice el = {st.v[j].ptr, st.v[j].len};
            if (!ngets) reply_bulk_slice(c, el);
            for (int g = 0; g < ngets; g++) {
                struct slice val;
                char buf[UTIL_LL_STR_SIZE];
                if (lookup_by_pattern(c, gpat[g], c->argv[gets[g]].len, el, &val, buf)) {
                    reply_bulk_slice(c, val);
                } else {
                    reply_null(c);
                }
            }
        }
    } else {
        struct list *l = list_create();
        int fill = server.cfg.list_max_listpack_size;
        for (long j = start; j <= end; j++) {
            struct slice el = {st.v[j].ptr, st.v[j].len};
            if (!ngets) list_push(&l, el, LIST_TAIL, fill);
            for (int g = 0; g < ngets; g++) {
                struct slice val;
                char buf[UTIL_LL_STR_SIZE];
                if (!lookup_by_pattern(c, gpat[g], c->argv[gets[g]].len, el, &val, buf))
                    val = SLICE_LIT("");
                /* list_push copies; val may point into the keyspace, which
                 * the new list is not part of yet. */
                list_push(&l, val, LIST_TAIL, fill);
            }
        }
        struct slice dest = c->argv[storekey];
        if (outputlen > 0) {
            db_set(c->db, obj_create_ptr(dest, OBJ_LIST, OBJ_ENC_QUICKLIST, l, -1));
            db_touch(c->db, dest);
            notify_keyspace_event(NOTIFY_LIST, "sortstore", dest, c->db->id);
            server.dirty += outputlen;
        } else {
            list_destroy(l);
            if (db_delete(c->db, dest)) {
                db_touch(c->db, dest);
                notify_keyspace_event(NOTIFY_GENERIC, "del", dest, c->db->id);
                server.dirty++;
            }
        }
        reply_int(c, outputlen);
    }

    for (int g = 0; g < ngets; g++)
        em_free(gpat[g]);
    em_free(gpat);
    for (long j = 0; j < st.n; j++) {
        em_free(st.v[j].ptr);
        em_free(st.v[j].cmp);
    }
    em_free(st.v);
out:
    em_free(gets);
}

static void cmd_sort(struct client *c)
{
    sort_generic(c, false);
}

static void cmd_sort_ro(struct client *c)
{
    sort_generic(c, true);
}

#define SORT_CX                                                                                    \
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "       \
    "number of returned elements. When the elements are not sorted, complexity is O(N)."

/* Redis's sortGetKeys: the sorted key (read) and the STORE destination
 * (overwritten), the last STORE counting; LIMIT's two arguments and BY's and
 * GET's one are skipped, so a pattern named "store" is not taken for the
 * option. */
static int sort_get_keys(int argc, const struct slice *argv, struct meta_key *out, int max)
{
    if (argc < 2 || max < 2) return -1;
    int n = 0;
    out[n++] = (struct meta_key){1, KS_RO | KS_ACCESS};
    int store = 0;
    for (int i = 2; i < argc; i++) {
        if (slice_eq_nocase(argv[i], "limit")) {
            i += 2;
        } else if (slice_eq_nocase(argv[i], "get") || slice_eq_nocase(argv[i], "by")) {
            i += 1;
        } else if (slice_eq_nocase(argv[i], "store") && i + 1 < argc) {
            store = i + 1;
        }
    }
    if (store != 0) out[n++] = (struct meta_key){store, KS_OW | KS_UPDATE};
    return n;
}

/* clang-format off */
struct command sort_commands[] = {
    {.name = "sort", .proc = cmd_sort, .arity = -2, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .getkeys = sort_get_keys, .group = "generic",
     .summary = "Sort the elements in a list, set or sorted set", .since = "1.0.0",
     .complexity = SORT_CX},
    {.name = "sort_ro", .proc = cmd_sort_ro, .arity = -2, .flags = CMD_READONLY,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
     .since = "7.0.0", .complexity = SORT_CX},
    COMMAND_TABLE_END,
};
/* clang-format on */
