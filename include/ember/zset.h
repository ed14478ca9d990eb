/* zset.h: the sorted set container, and the zset commands' start-up hook.
 *
 * A sorted set maps members (binary strings) to scores (doubles) and keeps
 * them ordered by score, then by member bytes. It is one of two forms
 * behind a single opaque pointer:
 *
 *   small:  struct listpack          member, score, member, score, ... in
 *                                    order (listpack.h); OBJECT ENCODING
 *                                    "listpack"
 *
 *   large:  skip list + hash index   OBJECT ENCODING "skiplist"
 *
 *           +--------+------+------+--------+-------+
 *           | dict   | head | tail | length | level |
 *           +--------+------+------+--------+-------+
 *
 *           Each member is ONE allocation that is at once the dict node
 *           (dict.h: next, meta, key = the member) and the skip list node:
 *
 *           +------+------+--------+-----+-------+----------+-----------+-------------+
 *           | next | meta | member | pad | score | backward | forward[] | span[]      |
 *           | 8 B  | 4 B  | 1|5+n  | 0-7 | 8 B   | 8 B      | 8 B/level | 4 B/level-1 |
 *           +------+------+--------+-----+-------+----------+-----------+-------------+
 *
 *           meta holds the node's level (1..32, chosen from the member's
 *           hash with p = 1/4, as Redis's zslRandomLevel). span[] counts the
 *           members each forward link jumps over, which gives ranks in
 *           O(log n); the level-0 span is always 1 (or 0 at the tail) and is
 *           not stored. A member of up to 11 bytes at level 1 fits in 48
 *           bytes; Redis spends a dictEntry, a skip list node and an sds
 *           string (about 96 bytes) on the same member.
 *
 * In the listpack, an integral score that fits a 64-bit integer is stored
 * as an integer entry (as Redis does: so -0 becomes 0 there, while a skip
 * list keeps it, and ZSCORE shows the difference as Redis's does). Another
 * score is stored as its "%.17g" text (as Redis does) when that is at most
 * 7 bytes ("0.5", "-2.25", "inf"), else as its 8 IEEE bytes where Redis
 * writes up to 24 ("0.10000000000000001"). An 8-byte string that would read
 * as an integer (its bytes all digits) gets a 9-byte form with a marker
 * byte in front, so the listpack never turns it into an integer.
 *
 * Conversions follow Redis 7.0: an insert that would take a listpack past
 * `max_entries` members, or a member longer than `max_value` bytes, turns
 * it into a skip list for good; only the STORE commands (through
 * zset_shrink_if_fits()) build a listpack from a skip list.
 *
 * Functions that change a set take `struct zset **` because it may move (a
 * listpack is reallocated, or converted); the caller stores the new pointer
 * back. Members read out (struct slice) are borrowed until the next change
 * to the set, or until the iterator's next step for integer members of a
 * listpack (formatted into the iterator). Spans are 32 bits: a set holds at
 * most 2^32 - 1 members. */
#ifndef EMBER_ZSET_H
#define EMBER_ZSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/util.h"

struct zset;
struct dict_node;

#define ZSET_MAX_LEVEL 32

/* zset-max-listpack-entries and zset-max-listpack-value. */
struct zset_limits {
    size_t max_entries;
    size_t max_value;
};

/* ---- Creation and size ---- */

/* An empty set in the listpack form, or the skip list form when `packed`
 * is false (Redis creates a skip list directly when the limits say the
 * first member will not fit). */
struct zset *zset_create(bool packed);
/* Frees the set; NULL is a no-op. */
void zset_destroy(struct zset *z);
/* A deep copy in the same form (COPY). */
struct zset *zset_dup(const struct zset *z);

size_t zset_len(const struct zset *z);
bool zset_is_packed(const struct zset *z);
/* Bytes the set uses, as the allocator counts them (MEMORY USAGE). */
size_t zset_memory(const struct zset *z);

/* ---- Members ---- */

/* ZADD's flags. */
enum zset_add_flag {
    ZSET_NX = 1 << 0,   /* only add new members */
    ZSET_XX = 1 << 1,   /* only update existing members */
    ZSET_GT = 1 << 2,   /* only update to a greater score */
    ZSET_LT = 1 << 3,   /* only update to a smaller score */
    ZSET_INCR = 1 << 4, /* add `score` to the current one */
};

/* What zset_add() did. */
enum zset_add_result {
    ZSET_ADDED,     /* a new member */
    ZSET_UPDATED,   /* its score changed */
    ZSET_UNCHANGED, /* processed, score as it was */
    ZSET_SKIPPED,   /* NX/XX/GT/LT said no */
    ZSET_NAN,       /* the resulting score would be NaN: nothing done */
};

/* Adds `member` with `score` or updates it, as Redis's zsetAdd. `score`
 * must not be NaN. *newscore (may be NULL) receives the member's score
 * after the call unless SKIPPED or NAN. May convert the set to a skip list
 * (see above). */
enum zset_add_result zset_add(struct zset **z, struct slice member, double score, unsigned flags,
                              const struct zset_limits *lim, double *newscore);
/* Removes `member`; returns whether it was there. */
bool zset_delete(struct zset **z, struct slice member);
/* The member's score, if present. */
bool zset_score(const struct zset *z, struct slice member, double *score);
/* The member's 0-based rank (from the highest score when `reverse`). */
bool zset_rank(const struct zset *z, struct slice member, bool reverse, size_t *rank);

/* ---- Ranges ---- */

/* A score interval; an exclusive end is written "(" in commands. */
struct zset_score_range {
    double min, max;
    bool minex, maxex;
};

/* A member interval for the BYLEX forms: "[a" inclusive, "(a" exclusive,
 * "-" below every member, "+" above every member. */
struct zset_lex_bound {
    struct slice s; /* borrowed from the argument */
    int inf;        /* -1: "-", +1: "+", 0: the bytes in s */
    bool ex;
};
struct zset_lex_range {
    struct zset_lex_bound min, max;
};

/* Redis's zslParseRange: each end is a number as strtod reads the text up
 * to its first NUL byte (leading spaces, hex, "inf" allowed; "(" makes the
 * end exclusive), NaN refused. False if either end is invalid. */
bool zset_parse_score_range(struct slice min, struct slice max, struct zset_score_range *r);
/* Redis's zslParseLexRange. False if either end is invalid. */
bool zset_parse_lex_range(struct slice min, struct slice max, struct zset_lex_range *r);

/* Whether a score / member lies in the range. */
bool zset_score_in_range(double score, const struct zset_score_range *r);
bool zset_lex_gte_min(struct slice s, const struct zset_lex_range *r);
bool zset_lex_lte_max(struct slice s, const struct zset_lex_range *r);

/* Members in a range: O(log n) for a skip list. */
size_t zset_count_score(const struct zset *z, const struct zset_score_range *r);
size_t zset_count_lex(const struct zset *z, const struct zset_lex_range *r);

/* Removes members by rank (0-based, inclusive, within the set), by score or
 * by member range; returns how many went. */
size_t zset_delete_rank(struct zset **z, size_t start, size_t end);
size_t zset_delete_score(struct zset **z, const struct zset_score_range *r);
size_t zset_delete_lex(struct zset **z, const struct zset_lex_range *r);

/* ---- Iteration ---- */

/* A walk in score order (highest first when `reverse`). The set must not
 * change during the walk. */
struct zset_iter {
    const struct zset *z;
    bool reverse;
    uint8_t *p;             /* listpack: the next member's entry */
    struct dict_node *node; /* skip list: the next node */
    char buf[UTIL_LL_STR_SIZE];
};

/* Starts at the member of 0-based `rank`, counted in the walk's direction;
 * a rank past the end gives an empty walk. */
void zset_iter_rank(struct zset_iter *it, const struct zset *z, size_t rank, bool reverse);
/* Starts at the first member in the range (its last one when `reverse`);
 * an empty walk if none. The walk does not stop at the range's other end:
 * the caller checks each score (zset_score_in_range). */
void zset_iter_score(struct zset_iter *it, const struct zset *z, const struct zset_score_range *r,
                     bool reverse);
void zset_iter_lex(struct zset_iter *it, const struct zset *z, const struct zset_lex_range *r,
                   bool reverse);
/* The next member and score; false at the end. */
bool zset_iter_next(struct zset_iter *it, struct slice *member, double *score);

/* ---- Random members and scans ---- */

typedef void zset_visit_fn(struct slice member, double score, void *arg);

/* Calls fn `count` times with a member chosen uniformly at random (with
 * repetition). The set must not be empty. */
void zset_random(const struct zset *z, struct rng *r, size_t count, zset_visit_fn *fn, void *arg);
/* Calls fn for `count` distinct members chosen at random (count < size). */
void zset_random_unique(const struct zset *z, struct rng *r, size_t count, zset_visit_fn *fn,
                        void *arg);

/* One step of a ZSCAN: a listpack reports every member and returns 0; a
 * skip list reports the members of the buckets the cursor covers (dict.h's
 * reverse-binary cursor) and returns the next cursor. */
unsigned long long zset_scan(const struct zset *z, unsigned long long cursor, zset_visit_fn *fn,
                             void *arg);

/* ---- Conversion ---- */

/* Turns a listpack set into a skip list (no-op for a skip list). */
void zset_to_skiplist(struct zset **z);
/* Turns a skip list into a listpack if it fits the limits: at most
 * max_entries members, none longer than max_value (`maxlen`, the caller's
 * count), and `totlen` (total member bytes) under Redis's 1 GB listpack
 * safety limit. As Redis's zsetConvertToListpackIfNeeded. */
void zset_shrink_if_fits(struct zset **z, const struct zset_limits *lim, size_t maxlen,
                         size_t totlen);

/* Checks every invariant (order, counts, spans, index): for tests. */
bool zset_validate(const struct zset *z);

/* ---- Commands ---- */

/* Registers the sorted set type's destructor, size and copy functions with
 * object.c. Call once at start-up (server_init); the first ZADD also does
 * it if start-up did not. */
void t_zset_setup(void);

#endif
