/* zset.c: sorted sets, packed when small, a skip list with a hash index when
 * large (see zset.h for both layouts).
 *
 * The two forms sit behind one pointer: a skip list's address carries a tag
 * in its low bit, a listpack's does not (both are malloc'd, so the bit is
 * free). Every operation dispatches on the tag.
 *
 * The skip list is Pugh's, as Redis modifies it (src/t_zset.c): repeated
 * scores are allowed and ordered by member bytes, a backward pointer at
 * level 0 allows reverse walks, and each forward link records its span (the
 * members it jumps over) so ranks cost O(log n). Unlike Redis, the node is
 * also the hash index's entry: dict.h's intrusive node keeps the member as
 * its key, and the skip list fields follow it, aligned to 8 bytes. The dict
 * never moves a node (rehashing relinks them), so the skip list's pointers
 * stay valid; removing a member unlinks it from both before freeing it.
 *
 * Levels come from the member's hash (two bits per level, p = 1/4) rather
 * than a random generator: the hash is computed for the index anyway, it is
 * keyed per process (SipHash), so clients cannot aim members at tall
 * levels, and a test with a fixed seed gets the same shape every run. */
#include "ember/zset.h"

#include "ember/dict.h"
#include "ember/listpack.h"
#include "ember/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_TAG ((uintptr_t)1)

/* Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB. */
#define LP_SAFETY_SIZE (1ULL << 30)

/* The marker before an 8-byte score that would otherwise read as an
 * integer (see zset.h). */
#define SCORE_MARK 'd'

struct zskiplist {
    struct dict dict; /* member -> node (the nodes themselves) */
    struct dict_node *header;
    struct dict_node *tail;
    size_t length;
    int level;
};

/* The skip list fields of a node, after its key. */
struct sl_body {
    double score;
    struct dict_node *backward;
    struct dict_node *forward[]; /* `level` links, then uint32_t span[level - 1] */
};

static const struct dict_type sl_dict_type = {.destroy = NULL, .is_marked = NULL};

/* ---- The two forms behind one pointer ---- */

static inline bool is_sl(const struct zset *z)
{
    return ((uintptr_t)z & SL_TAG) != 0;
}

static inline struct zskiplist *as_sl(const struct zset *z)
{
    return (struct zskiplist *)((uintptr_t)z & ~SL_TAG);
}

static inline struct listpack *as_lp(const struct zset *z)
{
    return (struct listpack *)z;
}

static inline struct zset *from_sl(struct zskiplist *sl)
{
    return (struct zset *)((uintptr_t)sl | SL_TAG);
}

static inline struct zset *from_lp(struct listpack *lp)
{
    return (struct zset *)lp;
}

/* ---- Comparisons ---- */

/* Byte order, then length (Redis's sdscmp). */
static int slice_cmp(struct slice a, struct slice b)
{
    size_t m = a.len < b.len ? a.len : b.len;
    int c = m > 0 ? memcmp(a.ptr, b.ptr, m) : 0;
    if (c != 0) return c;
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

bool zset_score_in_range(double score, const struct zset_score_range *r)
{
    bool gte_min = r->minex ? score > r->min : score >= r->min;
    bool lte_max = r->maxex ? score < r->max : score <= r->max;
    return gte_min && lte_max;
}

static bool score_gte_min(double score, const struct zset_score_range *r)
{
    return r->minex ? score > r->min : score >= r->min;
}

static bool score_lte_max(double score, const struct zset_score_range *r)
{
    return r->maxex ? score < r->max : score <= r->max;
}

/* A range no score can fall in (Redis's first test in zslIsInRange). */
static bool score_range_empty(const struct zset_score_range *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

/* A member against a bound: "-" is below and "+" above every member. */
static int lex_cmp_bound(struct slice s, const struct zset_lex_bound *b)
{
    if (b->inf != 0) return -b->inf;
    return slice_cmp(s, b->s);
}

bool zset_lex_gte_min(struct slice s, const struct zset_lex_range *r)
{
    int c = lex_cmp_bound(s, &r->min);
    return r->min.ex ? c > 0 : c >= 0;
}

bool zset_lex_lte_max(struct slice s, const struct zset_lex_range *r)
{
    int c = lex_cmp_bound(s, &r->max);
    return r->max.ex ? c < 0 : c <= 0;
}

/* Redis's sdscmplex on the two bounds: the same infinity compares equal. */
static bool lex_range_empty(const struct zset_lex_range *r)
{
    const struct zset_lex_bound *a = &r->min, *b = &r->max;
    int c;
    if (a->inf != 0 && a->inf == b->inf) {
        c = 0;
    } else if (a->inf < 0 || b->inf > 0) {
        c = -1;
    } else if (a->inf > 0 || b->inf < 0) {
        c = 1;
    } else {
        c = slice_cmp(a->s, b->s);
    }
    return c > 0 || (c == 0 && (a->ex || b->ex));
}

/* ---- Range parsing ---- */

/* One end of a score range, read by strtod as Redis does: the argument is
 * a C string to it, so it ends at the first NUL byte. */
static bool parse_score_bound(struct slice s, double *out, bool *ex)
{
    *ex = s.len > 0 && s.ptr[0] == '(';
    const char *p = s.ptr + (*ex ? 1 : 0);
    size_t len = s.len - (*ex ? 1 : 0);
    const char *nul = len > 0 ? memchr(p, '\0', len) : NULL;
    if (nul != NULL) len = (size_t)(nul - p);
    char stack[128];
    char *buf = len < sizeof(stack) ? stack : em_malloc(len + 1);
    if (len > 0) memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    bool ok = *end == '\0' && !isnan(v);
    if (buf != stack) em_free(buf);
    *out = v;
    return ok;
}

bool zset_parse_score_range(struct slice min, struct slice max, struct zset_score_range *r)
{
    return parse_score_bound(min, &r->min, &r->minex) && parse_score_bound(max, &r->max, &r->maxex);
}

/* Redis's zslParseLexRangeItem. Its "+"/"-" test looks at the second byte
 * of a C string, so "+\0..." counts as "+". */
static bool parse_lex_bound(struct slice s, struct zset_lex_bound *b)
{
    if (s.len == 0) return false;
    b->s = (struct slice){s.ptr + 1, s.len - 1};
    b->inf = 0;
    switch (s.ptr[0]) {
    case '+':
    case '-':
        if (s.len > 1 && s.ptr[1] != '\0') return false;
        b->inf = s.ptr[0] == '+' ? 1 : -1;
        b->ex = true;
        return true;
    case '(':
        b->ex = true;
        return true;
    case '[':
        b->ex = false;
        return true;
    default:
        return false;
    }
}

bool zset_parse_lex_range(struct slice min, struct slice max, struct zset_lex_range *r)
{
    return parse_lex_bound(min, &r->min) && parse_lex_bound(max, &r->max);
}

/* ---- Skip list nodes ---- */

static inline int node_level(const struct dict_node *n)
{
    return (int)(n->meta & 0x3Fu);
}

/* Where the body starts, for a key of `keysize` encoded bytes. */
static inline size_t body_offset(size_t keysize)
{
    return (DICT_NODE_HDR + keysize + 7) & ~(size_t)7;
}

static inline struct sl_body *body(const struct dict_node *n)
{
    const uint8_t *k = n->key;
    size_t keysize;
    if (k[0] != 0xFF) {
        keysize = 1 + (size_t)k[0];
    } else {
        uint32_t l;
        memcpy(&l, k + 1, 4);
        keysize = 5 + (size_t)l;
    }
    return (struct sl_body *)((uint8_t *)n + body_offset(keysize));
}

static inline double node_score(const struct dict_node *n)
{
    return body(n)->score;
}

static inline uint32_t *spans(struct sl_body *b, int level)
{
    return (uint32_t *)(void *)&b->forward[level];
}

/* The span of n's link at level i (level 0: 1, or 0 at the tail). */
static inline size_t span_get(const struct dict_node *n, int i)
{
    struct sl_body *b = body(n);
    if (i == 0) return b->forward[0] != NULL;
    return spans(b, node_level(n))[i - 1];
}

static inline void span_set(struct dict_node *n, int i, size_t v)
{
    if (i == 0) return; /* implied by forward[0] */
    spans(body(n), node_level(n))[i - 1] = (uint32_t)v;
}

static size_t node_size(size_t member_len, int level)
{
    return body_offset(dict_key_size(member_len)) + sizeof(struct sl_body) +
           (size_t)level * sizeof(struct dict_node *) + (size_t)(level - 1) * sizeof(uint32_t);
}

static struct dict_node *node_create(struct slice member, double score, int level)
{
    size_t off = body_offset(dict_key_size(member.len));
    struct dict_node *n = em_malloc(node_size(member.len, level));
    n->next = NULL;
    n->meta = (uint32_t)level;
    dict_node_set_key(n, member.ptr, member.len);
    struct sl_body *b = (struct sl_body *)((uint8_t *)n + off);
    b->score = score;
    b->backward = NULL;
    memset(b->forward, 0,
           (size_t)level * sizeof(struct dict_node *) + (size_t)(level - 1) * sizeof(uint32_t));
    return n;
}

/* Level 1 with probability 3/4, 2 with 3/16, ... from the hash's high bits
 * (the low ones pick the bucket). */
static int level_for_hash(uint64_t h)
{
    uint64_t bits = (h >> 32) | (h << 32);
    int level = 1;
    while ((bits & 3) == 0 && level < ZSET_MAX_LEVEL) {
        level++;
        bits >>= 2;
    }
    return level;
}

/* True if node n sorts before (score, member). */
static inline bool node_before(const struct dict_node *n, double score, struct slice member)
{
    double s = node_score(n);
    return s < score || (s == score && slice_cmp(dict_node_key(n), member) < 0);
}

/* ---- Skip list ---- */

static struct zskiplist *sl_create(void)
{
    struct zskiplist *sl = em_malloc(sizeof(*sl));
    dict_init(&sl->dict, &sl_dict_type);
    sl->header = node_create((struct slice){"", 0}, 0, ZSET_MAX_LEVEL);
    sl->tail = NULL;
    sl->length = 0;
    sl->level = 1;
    return sl;
}

static void sl_destroy(struct zskiplist *sl)
{
    /* The table first: its walk reads the nodes' chain links. Its type frees
     * nothing; the list walk below frees every node once. */
    dict_deinit(&sl->dict, NULL);
    struct dict_node *n = body(sl->header)->forward[0];
    while (n != NULL) {
        struct dict_node *next = body(n)->forward[0];
        em_free(n);
        n = next;
    }
    em_free(sl->header);
    em_free(sl);
}

/* Links node x (level, score and member set) into the list: zslInsert. */
static void sl_link(struct zskiplist *sl, struct dict_node *x)
{
    struct dict_node *update[ZSET_MAX_LEVEL];
    size_t rank[ZSET_MAX_LEVEL];
    struct sl_body *bx = body(x);
    double score = bx->score;
    struct slice member = dict_node_key(x);
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        rank[i] = i == sl->level - 1 ? 0 : rank[i + 1];
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && node_before(f, score, member)) {
            rank[i] += span_get(p, i);
            p = f;
        }
        update[i] = p;
    }
    int level = node_level(x);
    if (level > sl->level) {
        for (int i = sl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = sl->header;
            span_set(sl->header, i, sl->length);
        }
        sl->level = level;
    }
    /* update[0..level) is set: a list has level >= 1 (sl_create), so the walk
     * above fills update[0..sl->level) and the branch above the rest. */
    for (int i = 0; i < level; i++) {
        /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): see above */
        struct sl_body *bu = body(update[i]);
        bx->forward[i] = bu->forward[i];
        bu->forward[i] = x;
        span_set(x, i, span_get(update[i], i) - (rank[0] - rank[i]));
        span_set(update[i], i, (rank[0] - rank[i]) + 1);
    }
    for (int i = level; i < sl->level; i++)
        span_set(update[i], i, span_get(update[i], i) + 1);
    /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): level >= 1 */
    bx->backward = update[0] == sl->header ? NULL : update[0];
    if (bx->forward[0] != NULL) {
        body(bx->forward[0])->backward = x;
    } else {
        sl->tail = x;
    }
    sl->length++;
}

/* Fills update[] with the last node before (score, member) at each level;
 * returns the node after update[0] (the member's node, if present). */
static struct dict_node *sl_path(const struct zskiplist *sl, double score, struct slice member,
                                 struct dict_node **update)
{
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && node_before(f, score, member))
            p = f;
        update[i] = p;
    }
    return body(p)->forward[0];
}

/* Unlinks x given its path: zslDeleteNode. */
static void sl_unlink(struct zskiplist *sl, struct dict_node *x, struct dict_node **update)
{
    struct sl_body *bx = body(x);
    for (int i = 0; i < sl->level; i++) {
        struct sl_body *bu = body(update[i]);
        if (bu->forward[i] == x) {
            size_t s = span_get(update[i], i) + span_get(x, i) - 1;
            bu->forward[i] = bx->forward[i];
            span_set(update[i], i, s);
        } else {
            span_set(update[i], i, span_get(update[i], i) - 1);
        }
    }
    if (bx->forward[0] != NULL) {
        body(bx->forward[0])->backward = bx->backward;
    } else {
        sl->tail = bx->backward;
    }
    while (sl->level > 1 && body(sl->header)->forward[sl->level - 1] == NULL)
        sl->level--;
    sl->length--;
}

static struct dict_node *sl_find(const struct zskiplist *sl, struct slice member,
                                 struct dict_pos *pos)
{
    struct dict *d = (struct dict *)&sl->dict; /* a lookup may take a rehash step */
    return dict_find(d, dict_hash(member.ptr, member.len), member.ptr, member.len, pos);
}

/* Removes node x (found in the list, path in update[]) from both the list
 * and the index, and frees it. */
static void sl_remove(struct zskiplist *sl, struct dict_node *x, struct dict_node **update)
{
    sl_unlink(sl, x, update);
    struct dict_pos pos;
    sl_find(sl, dict_node_key(x), &pos);
    dict_unlink(&sl->dict, &pos);
    em_free(x);
}

static void sl_add(struct zskiplist *sl, struct slice member, double score)
{
    uint64_t h = dict_hash(member.ptr, member.len);
    struct dict_node *n = node_create(member, score, level_for_hash(h));
    sl_link(sl, n);
    dict_insert(&sl->dict, h, n);
}

/* zslUpdateScore: in place when the order allows, else unlink and relink
 * the same node. */
static void sl_update_score(struct zskiplist *sl, struct dict_node *x, double newscore)
{
    struct sl_body *bx = body(x);
    if ((bx->backward == NULL || node_score(bx->backward) < newscore) &&
        (bx->forward[0] == NULL || node_score(bx->forward[0]) > newscore)) {
        bx->score = newscore;
        return;
    }
    struct dict_node *update[ZSET_MAX_LEVEL];
    sl_path(sl, bx->score, dict_node_key(x), update);
    sl_unlink(sl, x, update);
    bx->score = newscore;
    sl_link(sl, x);
}

/* 1-based rank of node x: zslGetRank. */
static size_t sl_rank_of(const struct zskiplist *sl, const struct dict_node *x)
{
    double score = node_score(x);
    struct slice member = dict_node_key(x);
    size_t rank = 0;
    const struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL &&
               (node_score(f) < score ||
                (node_score(f) == score && slice_cmp(dict_node_key(f), member) <= 0))) {
            rank += span_get(p, i);
            p = f;
        }
        if (p == x) return rank;
    }
    return 0;
}

/* The node of 1-based `rank`: zslGetElementByRank. */
static struct dict_node *sl_at_rank(const struct zskiplist *sl, size_t rank)
{
    size_t traversed = 0;
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && traversed + span_get(p, i) <= rank) {
            traversed += span_get(p, i);
            p = f;
        }
        if (traversed == rank) return p == sl->header ? NULL : p;
    }
    return NULL;
}

static struct dict_node *sl_first(const struct zskiplist *sl)
{
    return body(sl->header)->forward[0];
}

static struct dict_node *sl_first_in_score(const struct zskiplist *sl,
                                           const struct zset_score_range *r)
{
    if (score_range_empty(r) || sl->tail == NULL || !score_gte_min(node_score(sl->tail), r) ||
        !score_lte_max(node_score(sl_first(sl)), r)) {
        return NULL;
    }
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && !score_gte_min(node_score(f), r))
            p = f;
    }
    p = body(p)->forward[0];
    return p != NULL && score_lte_max(node_score(p), r) ? p : NULL;
}

static struct dict_node *sl_last_in_score(const struct zskiplist *sl,
                                          const struct zset_score_range *r)
{
    if (score_range_empty(r) || sl->tail == NULL || !score_gte_min(node_score(sl->tail), r) ||
        !score_lte_max(node_score(sl_first(sl)), r)) {
        return NULL;
    }
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && score_lte_max(node_score(f), r))
            p = f;
    }
    return p != sl->header && score_gte_min(node_score(p), r) ? p : NULL;
}

static bool sl_in_lex(const struct zskiplist *sl, const struct zset_lex_range *r)
{
    return !lex_range_empty(r) && sl->tail != NULL &&
           zset_lex_gte_min(dict_node_key(sl->tail), r) &&
           zset_lex_lte_max(dict_node_key(sl_first(sl)), r);
}

static struct dict_node *sl_first_in_lex(const struct zskiplist *sl, const struct zset_lex_range *r)
{
    if (!sl_in_lex(sl, r)) return NULL;
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && !zset_lex_gte_min(dict_node_key(f), r))
            p = f;
    }
    p = body(p)->forward[0];
    return p != NULL && zset_lex_lte_max(dict_node_key(p), r) ? p : NULL;
}

static struct dict_node *sl_last_in_lex(const struct zskiplist *sl, const struct zset_lex_range *r)
{
    if (!sl_in_lex(sl, r)) return NULL;
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && zset_lex_lte_max(dict_node_key(f), r))
            p = f;
    }
    return p != sl->header && zset_lex_gte_min(dict_node_key(p), r) ? p : NULL;
}

/* ---- Listpack form: member, score, member, score, ... ---- */

/* Redis's double2ll, which its listpack insert uses: -0 passes as 0, so a
 * listpack never keeps the sign of a zero score (a skip list does). */
static bool score_is_int(double d, long long *out)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
    long long ll = (long long)d;
    if ((double)ll != d) return false;
    *out = ll;
    return true;
}

/* Score text this short is stored as text (it is what Redis stores, and
 * shorter than 8 bytes); longer text is replaced by the 8 IEEE bytes. A
 * length of 8 or 9 therefore always means the bytes. */
#define SCORE_TEXT_MAX 7

static struct listpack *lp_insert_score(struct listpack *lp, uint8_t *at, double score)
{
    long long ll;
    if (score_is_int(score, &ll)) return lp_insert_ll(lp, at, ll, NULL);
    char text[UTIL_D_STR_SIZE];
    int n = snprintf(text, sizeof(text), "%.17g", score); /* round-trips exactly */
    if (n <= SCORE_TEXT_MAX) return lp_insert(lp, at, (struct slice){text, (size_t)n}, NULL);
    char buf[9];
    buf[0] = SCORE_MARK;
    memcpy(buf + 1, &score, 8);
    struct slice s = {buf + 1, 8};
    if (str_to_ll(s.ptr, s.len, NULL)) s = (struct slice){buf, 9};
    return lp_insert(lp, at, s, NULL);
}

static double lp_score(const uint8_t *p)
{
    struct lp_value v = lp_get(p);
    if (v.str == NULL) return (double)v.ll;
    double d;
    if (v.len >= 8) {
        memcpy(&d, v.str + v.len - 8, 8);
        return d;
    }
    char text[SCORE_TEXT_MAX + 1];
    memcpy(text, v.str, v.len);
    text[v.len] = '\0';
    return strtod(text, NULL);
}

static struct slice lp_member(const uint8_t *p, char *buf)
{
    struct lp_value v = lp_get(p);
    return lp_value_slice(&v, buf);
}

/* The member entry after / before the member at p (NULL at the ends). */
static uint8_t *zl_next(const struct listpack *lp, const uint8_t *p)
{
    return lp_next(lp, lp_next(lp, p));
}

static uint8_t *zl_prev(const struct listpack *lp, const uint8_t *p)
{
    uint8_t *s = lp_prev(lp, p);
    return s != NULL ? lp_prev(lp, s) : NULL;
}

static size_t zl_len(const struct listpack *lp)
{
    return lp_count(lp) / 2;
}

static struct listpack *zl_insert(struct listpack *lp, struct slice member, double score)
{
    char buf[UTIL_LL_STR_SIZE];
    uint8_t *p = lp_first(lp);
    while (p != NULL) {
        uint8_t *sp = lp_next(lp, p);
        double s = lp_score(sp);
        if (s > score || (s == score && slice_cmp(lp_member(p, buf), member) > 0)) break;
        p = lp_next(lp, sp);
    }
    uint8_t *ins;
    lp = lp_insert(lp, p != NULL ? p : lp_end(lp), member, &ins);
    return lp_insert_score(lp, ins + lp_entry_len(ins), score);
}

static uint8_t *zl_find(const struct listpack *lp, struct slice member)
{
    return lp_find(lp, lp_first(lp), member, 1);
}

static uint8_t *zl_first_in_score(const struct listpack *lp, const struct zset_score_range *r)
{
    if (score_range_empty(r)) return NULL;
    for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p)) {
        double s = lp_score(lp_next(lp, p));
        if (score_gte_min(s, r)) return score_lte_max(s, r) ? p : NULL;
    }
    return NULL;
}

static uint8_t *zl_last_in_score(const struct listpack *lp, const struct zset_score_range *r)
{
    if (score_range_empty(r)) return NULL;
    for (uint8_t *p = lp_seek(lp, -2); p != NULL; p = zl_prev(lp, p)) {
        double s = lp_score(lp_next(lp, p));
        if (score_lte_max(s, r)) return score_gte_min(s, r) ? p : NULL;
    }
    return NULL;
}

static uint8_t *zl_first_in_lex(const struct listpack *lp, const struct zset_lex_range *r)
{
    char buf[UTIL_LL_STR_SIZE];
    if (lex_range_empty(r)) return NULL;
    for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p)) {
        struct slice m = lp_member(p, buf);
        if (zset_lex_gte_min(m, r)) return zset_lex_lte_max(m, r) ? p : NULL;
    }
    return NULL;
}

static uint8_t *zl_last_in_lex(const struct listpack *lp, const struct zset_lex_range *r)
{
    char buf[UTIL_LL_STR_SIZE];
    if (lex_range_empty(r)) return NULL;
    for (uint8_t *p = lp_seek(lp, -2); p != NULL; p = zl_prev(lp, p)) {
        struct slice m = lp_member(p, buf);
        if (zset_lex_lte_max(m, r)) return zset_lex_gte_min(m, r) ? p : NULL;
    }
    return NULL;
}

/* ---- Creation and size ---- */

struct zset *zset_create(bool packed)
{
    return packed ? from_lp(lp_create()) : from_sl(sl_create());
}

void zset_destroy(struct zset *z)
{
    if (z == NULL) return;
    if (is_sl(z)) {
        sl_destroy(as_sl(z));
    } else {
        lp_destroy(as_lp(z));
    }
}

struct zset *zset_dup(const struct zset *z)
{
    if (!is_sl(z)) return from_lp(lp_dup(as_lp(z)));
    const struct zskiplist *src = as_sl(z);
    struct zskiplist *sl = sl_create();
    /* From the tail down, so every link lands at the head: O(1) each. */
    for (struct dict_node *n = src->tail; n != NULL; n = body(n)->backward) {
        struct slice m = dict_node_key(n);
        struct dict_node *c = node_create(m, node_score(n), node_level(n));
        sl_link(sl, c);
        dict_insert(&sl->dict, dict_hash(m.ptr, m.len), c);
    }
    return from_sl(sl);
}

size_t zset_len(const struct zset *z)
{
    return is_sl(z) ? as_sl(z)->length : zl_len(as_lp(z));
}

bool zset_is_packed(const struct zset *z)
{
    return !is_sl(z);
}

size_t zset_memory(const struct zset *z)
{
    if (!is_sl(z)) return mem_usable_size(as_lp(z));
    const struct zskiplist *sl = as_sl(z);
    size_t bytes = mem_usable_size(sl) + mem_usable_size(sl->header) + dict_overhead(&sl->dict);
    for (struct dict_node *n = sl_first(sl); n != NULL; n = body(n)->forward[0])
        bytes += mem_usable_size(n);
    return bytes;
}

/* ---- Members ---- */

/* The update rules of Redis's zsetAdd for an existing member with score
 * `cur`; *score becomes the new score. */
static enum zset_add_result update_rule(unsigned flags, double cur, double *score)
{
    if (flags & ZSET_NX) return ZSET_SKIPPED;
    if (flags & ZSET_INCR) {
        *score += cur;
        if (isnan(*score)) return ZSET_NAN;
    }
    if (((flags & ZSET_LT) && *score >= cur) || ((flags & ZSET_GT) && *score <= cur)) {
        return ZSET_SKIPPED;
    }
    return *score != cur ? ZSET_UPDATED : ZSET_UNCHANGED;
}

/* zsetAdd on a listpack: false (nothing done) when a new member does not
 * fit, so the caller converts to a skip list and adds it there. */
static bool zl_add(struct zset **zp, struct slice member, double *score, unsigned flags,
                   const struct zset_limits *lim, enum zset_add_result *res)
{
    struct listpack *lp = as_lp(*zp);
    uint8_t *p = zl_find(lp, member);
    if (p != NULL) {
        *res = update_rule(flags, lp_score(lp_next(lp, p)), score);
        if (*res == ZSET_UPDATED) {
            lp = lp_delete_range(lp, p, 2);
            *zp = from_lp(zl_insert(lp, member, *score));
        }
        return true;
    }
    if (flags & ZSET_XX) {
        *res = ZSET_SKIPPED;
        return true;
    }
    if (zl_len(lp) + 1 > lim->max_entries || member.len > lim->max_value ||
        lp_bytes(lp) + member.len > LP_SAFETY_SIZE) {
        return false;
    }
    *zp = from_lp(zl_insert(lp, member, *score));
    *res = ZSET_ADDED;
    return true;
}

/* zsetAdd on a skip list. */
static enum zset_add_result sl_add_or_update(struct zskiplist *sl, struct slice member,
                                             double *score, unsigned flags)
{
    struct dict_node *n = sl_find(sl, member, NULL);
    if (n != NULL) {
        enum zset_add_result res = update_rule(flags, node_score(n), score);
        if (res == ZSET_UPDATED) sl_update_score(sl, n, *score);
        return res;
    }
    if (flags & ZSET_XX) return ZSET_SKIPPED;
    sl_add(sl, member, *score);
    return ZSET_ADDED;
}

enum zset_add_result zset_add(struct zset **zp, struct slice member, double score, unsigned flags,
                              const struct zset_limits *lim, double *newscore)
{
    enum zset_add_result res;
    if (is_sl(*zp) || !zl_add(zp, member, &score, flags, lim, &res)) {
        zset_to_skiplist(zp);
        res = sl_add_or_update(as_sl(*zp), member, &score, flags);
    }
    if (newscore != NULL && res != ZSET_SKIPPED && res != ZSET_NAN) *newscore = score;
    return res;
}

bool zset_delete(struct zset **zp, struct slice member)
{
    if (!is_sl(*zp)) {
        struct listpack *lp = as_lp(*zp);
        uint8_t *p = zl_find(lp, member);
        if (p == NULL) return false;
        *zp = from_lp(lp_delete_range(lp, p, 2));
        return true;
    }
    struct zskiplist *sl = as_sl(*zp);
    struct dict_pos pos;
    struct dict_node *n = sl_find(sl, member, &pos);
    if (n == NULL) return false;
    dict_unlink(&sl->dict, &pos);
    struct dict_node *update[ZSET_MAX_LEVEL];
    sl_path(sl, node_score(n), member, update);
    sl_unlink(sl, n, update);
    em_free(n);
    dict_maybe_shrink(&sl->dict);
    return true;
}

bool zset_score(const struct zset *z, struct slice member, double *score)
{
    if (!is_sl(z)) {
        const struct listpack *lp = as_lp(z);
        uint8_t *p = zl_find(lp, member);
        if (p == NULL) return false;
        *score = lp_score(lp_next(lp, p));
        return true;
    }
    struct dict_node *n = sl_find(as_sl(z), member, NULL);
    if (n == NULL) return false;
    *score = node_score(n);
    return true;
}

bool zset_rank(const struct zset *z, struct slice member, bool reverse, size_t *rank)
{
    size_t len = zset_len(z), r;
    if (!is_sl(z)) {
        const struct listpack *lp = as_lp(z);
        struct lp_needle needle;
        lp_needle_init(&needle, member);
        r = 0;
        uint8_t *p = lp_first(lp);
        while (p != NULL && !lp_match(p, &needle)) {
            p = zl_next(lp, p);
            r++;
        }
        if (p == NULL) return false;
    } else {
        const struct zskiplist *sl = as_sl(z);
        struct dict_node *n = sl_find(sl, member, NULL);
        if (n == NULL) return false;
        r = sl_rank_of(sl, n) - 1;
    }
    *rank = reverse ? len - 1 - r : r;
    return true;
}

/* ---- Ranges ---- */

size_t zset_count_score(const struct zset *z, const struct zset_score_range *r)
{
    if (!is_sl(z)) {
        const struct listpack *lp = as_lp(z);
        size_t n = 0;
        for (uint8_t *p = zl_first_in_score(lp, r); p != NULL; p = zl_next(lp, p), n++) {
            if (!score_lte_max(lp_score(lp_next(lp, p)), r)) break;
        }
        return n;
    }
    const struct zskiplist *sl = as_sl(z);
    struct dict_node *first = sl_first_in_score(sl, r);
    if (first == NULL) return 0;
    struct dict_node *last = sl_last_in_score(sl, r);
    return sl_rank_of(sl, last) - sl_rank_of(sl, first) + 1;
}

size_t zset_count_lex(const struct zset *z, const struct zset_lex_range *r)
{
    if (!is_sl(z)) {
        const struct listpack *lp = as_lp(z);
        char buf[UTIL_LL_STR_SIZE];
        size_t n = 0;
        for (uint8_t *p = zl_first_in_lex(lp, r); p != NULL; p = zl_next(lp, p), n++) {
            if (!zset_lex_lte_max(lp_member(p, buf), r)) break;
        }
        return n;
    }
    const struct zskiplist *sl = as_sl(z);
    struct dict_node *first = sl_first_in_lex(sl, r);
    if (first == NULL) return 0;
    struct dict_node *last = sl_last_in_lex(sl, r);
    return sl_rank_of(sl, last) - sl_rank_of(sl, first) + 1;
}

/* Removes the run of nodes starting at update[0]'s successor while `keep`
 * says they belong to the range. */
typedef bool sl_in_range_fn(const struct dict_node *n, const void *range, size_t rank);

static size_t sl_delete_run(struct zskiplist *sl, struct dict_node **update, size_t rank,
                            sl_in_range_fn *in, const void *range)
{
    size_t removed = 0;
    /* Callers fill update[0..sl->level), and a list has level >= 1. */
    /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): see above */
    struct dict_node *x = body(update[0])->forward[0];
    while (x != NULL && in(x, range, rank)) {
        struct dict_node *next = body(x)->forward[0];
        sl_remove(sl, x, update);
        removed++;
        rank++;
        x = next;
    }
    dict_maybe_shrink(&sl->dict);
    return removed;
}

static bool in_score(const struct dict_node *n, const void *range, size_t rank)
{
    (void)rank;
    return score_lte_max(node_score(n), range);
}

static bool in_lex(const struct dict_node *n, const void *range, size_t rank)
{
    (void)rank;
    return zset_lex_lte_max(dict_node_key(n), range);
}

static bool in_rank(const struct dict_node *n, const void *range, size_t rank)
{
    (void)n;
    return rank <= *(const size_t *)range;
}

size_t zset_delete_rank(struct zset **zp, size_t start, size_t end)
{
    if (!is_sl(*zp)) {
        struct listpack *lp = as_lp(*zp);
        *zp =
            from_lp(lp_delete_range(lp, lp_seek(lp, 2 * (long long)start), 2 * (end - start + 1)));
        return end - start + 1;
    }
    struct zskiplist *sl = as_sl(*zp);
    struct dict_node *update[ZSET_MAX_LEVEL];
    size_t traversed = 0;
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && traversed + span_get(p, i) < start + 1) {
            traversed += span_get(p, i);
            p = f;
        }
        update[i] = p;
    }
    return sl_delete_run(sl, update, start, in_rank, &end);
}

size_t zset_delete_score(struct zset **zp, const struct zset_score_range *r)
{
    if (!is_sl(*zp)) {
        struct listpack *lp = as_lp(*zp);
        uint8_t *first = zl_first_in_score(lp, r);
        size_t n = 0;
        for (uint8_t *p = first; p != NULL && score_lte_max(lp_score(lp_next(lp, p)), r);
             p = zl_next(lp, p)) {
            n++;
        }
        if (n > 0) *zp = from_lp(lp_delete_range(lp, first, 2 * n));
        return n;
    }
    struct zskiplist *sl = as_sl(*zp);
    struct dict_node *update[ZSET_MAX_LEVEL];
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && !score_gte_min(node_score(f), r))
            p = f;
        update[i] = p;
    }
    return sl_delete_run(sl, update, 0, in_score, r);
}

size_t zset_delete_lex(struct zset **zp, const struct zset_lex_range *r)
{
    if (!is_sl(*zp)) {
        struct listpack *lp = as_lp(*zp);
        char buf[UTIL_LL_STR_SIZE];
        uint8_t *first = zl_first_in_lex(lp, r);
        size_t n = 0;
        for (uint8_t *p = first; p != NULL && zset_lex_lte_max(lp_member(p, buf), r);
             p = zl_next(lp, p)) {
            n++;
        }
        if (n > 0) *zp = from_lp(lp_delete_range(lp, first, 2 * n));
        return n;
    }
    struct zskiplist *sl = as_sl(*zp);
    struct dict_node *update[ZSET_MAX_LEVEL];
    struct dict_node *p = sl->header;
    for (int i = sl->level - 1; i >= 0; i--) {
        struct dict_node *f;
        while ((f = body(p)->forward[i]) != NULL && !zset_lex_gte_min(dict_node_key(f), r))
            p = f;
        update[i] = p;
    }
    return sl_delete_run(sl, update, 0, in_lex, r);
}

/* ---- Iteration ---- */

static void iter_init(struct zset_iter *it, const struct zset *z, bool reverse)
{
    it->z = z;
    it->reverse = reverse;
    it->p = NULL;
    it->node = NULL;
}

void zset_iter_rank(struct zset_iter *it, const struct zset *z, size_t rank, bool reverse)
{
    iter_init(it, z, reverse);
    size_t len = zset_len(z);
    if (rank >= len) return;
    if (!is_sl(z)) {
        long long idx = reverse ? -2 - 2 * (long long)rank : 2 * (long long)rank;
        it->p = lp_seek(as_lp(z), idx);
        return;
    }
    const struct zskiplist *sl = as_sl(z);
    if (reverse) {
        it->node = rank == 0 ? sl->tail : sl_at_rank(sl, len - rank);
    } else {
        it->node = rank == 0 ? sl_first(sl) : sl_at_rank(sl, rank + 1);
    }
}

void zset_iter_score(struct zset_iter *it, const struct zset *z, const struct zset_score_range *r,
                     bool reverse)
{
    iter_init(it, z, reverse);
    if (!is_sl(z)) {
        it->p = reverse ? zl_last_in_score(as_lp(z), r) : zl_first_in_score(as_lp(z), r);
    } else {
        it->node = reverse ? sl_last_in_score(as_sl(z), r) : sl_first_in_score(as_sl(z), r);
    }
}

void zset_iter_lex(struct zset_iter *it, const struct zset *z, const struct zset_lex_range *r,
                   bool reverse)
{
    iter_init(it, z, reverse);
    if (!is_sl(z)) {
        it->p = reverse ? zl_last_in_lex(as_lp(z), r) : zl_first_in_lex(as_lp(z), r);
    } else {
        it->node = reverse ? sl_last_in_lex(as_sl(z), r) : sl_first_in_lex(as_sl(z), r);
    }
}

bool zset_iter_next(struct zset_iter *it, struct slice *member, double *score)
{
    if (!is_sl(it->z)) {
        if (it->p == NULL) return false;
        const struct listpack *lp = as_lp(it->z);
        uint8_t *sp = lp_next(lp, it->p);
        *member = lp_member(it->p, it->buf);
        if (score != NULL) *score = lp_score(sp);
        it->p = it->reverse ? zl_prev(lp, it->p) : lp_next(lp, sp);
        return true;
    }
    if (it->node == NULL) return false;
    struct sl_body *b = body(it->node);
    *member = dict_node_key(it->node);
    if (score != NULL) *score = b->score;
    it->node = it->reverse ? b->backward : b->forward[0];
    return true;
}

/* ---- Random members and scans ---- */

static void visit_lp(const struct listpack *lp, uint8_t *p, zset_visit_fn *fn, void *arg)
{
    char buf[UTIL_LL_STR_SIZE];
    fn(lp_member(p, buf), lp_score(lp_next(lp, p)), arg);
}

static void visit_node(const struct dict_node *n, zset_visit_fn *fn, void *arg)
{
    fn(dict_node_key(n), node_score(n), arg);
}

void zset_random(const struct zset *z, struct rng *r, size_t count, zset_visit_fn *fn, void *arg)
{
    size_t len = zset_len(z);
    if (is_sl(z)) {
        struct dict *d = (struct dict *)&as_sl(z)->dict;
        while (count-- > 0)
            visit_node(dict_random(d, r), fn, arg);
        return;
    }
    /* Index the members once; each pick is then O(1). */
    const struct listpack *lp = as_lp(z);
    uint8_t **at = em_malloc(len * sizeof(*at));
    size_t i = 0;
    for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p))
        at[i++] = p;
    while (count-- > 0)
        visit_lp(lp, at[rng_below(r, len)], fn, arg);
    em_free(at);
}

/* A set of node addresses (open addressing), for unique sampling. */
struct ptr_set {
    const void **slots;
    size_t mask;
};

static bool ptr_set_add(struct ptr_set *s, const void *p)
{
    size_t i = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL & s->mask;
    while (s->slots[i] != NULL) {
        if (s->slots[i] == p) return false;
        i = (i + 1) & s->mask;
    }
    s->slots[i] = p;
    return true;
}

void zset_random_unique(const struct zset *z, struct rng *r, size_t count, zset_visit_fn *fn,
                        void *arg)
{
    size_t len = zset_len(z);
    if (!is_sl(z) || count * 3 > len) {
        /* Selection sampling (Knuth's algorithm S): one pass, in order. */
        struct zset_iter it;
        struct slice m;
        double score;
        size_t need = count, left = len;
        zset_iter_rank(&it, z, 0, false);
        while (need > 0 && zset_iter_next(&it, &m, &score)) {
            if (rng_below(r, left--) < need) {
                fn(m, score, arg);
                need--;
            }
        }
        return;
    }
    /* A big set: draw until `count` distinct members came up. */
    struct dict *d = (struct dict *)&as_sl(z)->dict;
    size_t cap = 16;
    while (cap < count * 2)
        cap <<= 1;
    struct ptr_set seen = {em_calloc(cap, sizeof(void *)), cap - 1};
    for (size_t got = 0; got < count;) {
        struct dict_node *n = dict_random(d, r);
        if (!ptr_set_add(&seen, n)) continue;
        visit_node(n, fn, arg);
        got++;
    }
    em_free(seen.slots);
}

struct scan_ctx {
    zset_visit_fn *fn;
    void *arg;
};

static void scan_node(struct dict_node *n, void *arg)
{
    struct scan_ctx *ctx = arg;
    visit_node(n, ctx->fn, ctx->arg);
}

unsigned long long zset_scan(const struct zset *z, unsigned long long cursor, zset_visit_fn *fn,
                             void *arg)
{
    if (!is_sl(z)) {
        const struct listpack *lp = as_lp(z);
        for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p))
            visit_lp(lp, p, fn, arg);
        return 0;
    }
    struct scan_ctx ctx = {fn, arg};
    return dict_scan((struct dict *)&as_sl(z)->dict, cursor, scan_node, &ctx);
}

/* ---- Conversion ---- */

void zset_to_skiplist(struct zset **zp)
{
    if (is_sl(*zp)) return;
    struct listpack *lp = as_lp(*zp);
    struct zskiplist *sl = sl_create();
    char buf[UTIL_LL_STR_SIZE];
    for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p))
        sl_add(sl, lp_member(p, buf), lp_score(lp_next(lp, p)));
    lp_destroy(lp);
    *zp = from_sl(sl);
}

void zset_shrink_if_fits(struct zset **zp, const struct zset_limits *lim, size_t maxlen,
                         size_t totlen)
{
    if (!is_sl(*zp)) return;
    struct zskiplist *sl = as_sl(*zp);
    if (sl->length > lim->max_entries || maxlen > lim->max_value || totlen > LP_SAFETY_SIZE) return;
    struct listpack *lp = lp_create();
    for (struct dict_node *n = sl_first(sl); n != NULL; n = body(n)->forward[0]) {
        lp = lp_append(lp, dict_node_key(n));
        lp = lp_insert_score(lp, lp_end(lp), node_score(n));
    }
    sl_destroy(sl);
    *zp = from_lp(lp);
}

/* ---- Validation (tests) ---- */

static bool zl_validate(const struct listpack *lp)
{
    if (!lp_validate(lp) || lp_count(lp) % 2 != 0) return false;
    char b1[UTIL_LL_STR_SIZE], b2[UTIL_LL_STR_SIZE];
    uint8_t *prev = NULL;
    for (uint8_t *p = lp_first(lp); p != NULL; p = zl_next(lp, p)) {
        double s = lp_score(lp_next(lp, p));
        if (isnan(s)) return false;
        if (prev != NULL) {
            double ps = lp_score(lp_next(lp, prev));
            if (ps > s || (ps == s && slice_cmp(lp_member(prev, b1), lp_member(p, b2)) >= 0)) {
                return false;
            }
        }
        prev = p;
    }
    return true;
}

static bool sl_validate(const struct zskiplist *sl)
{
    if (sl->level < 1 || sl->level > ZSET_MAX_LEVEL) return false;
    if (dict_size(&sl->dict) != sl->length) return false;
    /* Level 0: order, backward links, tail, length, index, ranks. */
    size_t n = 0;
    struct dict_node *prev = NULL;
    for (struct dict_node *x = sl_first(sl); x != NULL; x = body(x)->forward[0]) {
        n++;
        if (body(x)->backward != prev || isnan(node_score(x))) return false;
        if (prev != NULL && !node_before(prev, node_score(x), dict_node_key(x))) return false;
        if (node_level(x) > sl->level) return false;
        if (sl_find(sl, dict_node_key(x), NULL) != x) return false;
        if (sl_rank_of(sl, x) != n || sl_at_rank(sl, n) != x) return false;
        prev = x;
    }
    if (n != sl->length || sl->tail != prev) return false;
    /* Every link's span is the number of level-0 steps it jumps. */
    for (int i = 1; i < sl->level; i++) {
        for (struct dict_node *x = sl->header; x != NULL; x = body(x)->forward[i]) {
            struct dict_node *f = body(x)->forward[i];
            if (f == NULL) break;
            size_t steps = 0;
            for (struct dict_node *y = x; y != f; y = body(y)->forward[0])
                steps++;
            if (span_get(x, i) != steps) return false;
        }
    }
    return true;
}

bool zset_validate(const struct zset *z)
{
    return is_sl(z) ? sl_validate(as_sl(z)) : zl_validate(as_lp(z));
}
