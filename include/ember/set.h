/* set.h: the set container (distinct byte strings), compact while small.
 *
 * A set takes one of three forms, chosen by what it holds:
 *
 *  - intset (OBJ_ENC_INTSET): every member is an integer (as Redis's
 *    string2ll reads it: "12", "-7", not "012" or "+1") and there are at
 *    most `max_intset_entries` of them. A sorted array of 16-, 32- or 64-bit
 *    integers, all as wide as the widest member needs, found by binary
 *    search:
 *
 *      +-------+-------+----+----+----+-----+
 *      | width | count | e0 | e1 | e2 | ... |    e0 < e1 < e2 ...
 *      | 4 B   | 4 B   | width bytes each   |
 *      +-------+-------+----+----+----+-----+
 *
 *  - listpack (OBJ_ENC_LISTPACK): at most `max_listpack_entries` members of
 *    at most `max_listpack_value` bytes, any text. One listpack (listpack.h)
 *    of the members in insertion order, walked to find one: for a few short
 *    strings that is as fast as hashing and costs two or three bytes per
 *    member instead of a node.
 *
 *  - hashtable (OBJ_ENC_HT): a dict (dict.h) of intrusive nodes, one
 *    allocation per member holding the member as the key and nothing else:
 *
 *      +------+------+------------+
 *      | next | meta | member     |
 *      | 8 B  | 4 B  | 1|5 + len  |
 *      +------+------+------------+
 *
 * Adding a member that does not fit the form converts the set: an intset
 * meeting a string or growing past its limit becomes a listpack if the
 * result fits one, else a table; a listpack growing past either limit
 * becomes a table. Sets never convert back (as in Redis), except that the
 * commands building a new set (SINTERSTORE, SPOP's rebuild...) start it as
 * an intset, as Redis does.
 *
 * What OBJECT ENCODING says. Redis 7.0 has no listpack sets: it goes from
 * "intset" straight to "hashtable". ember keeps small string sets packed
 * but reports them as "hashtable", so clients (and the differential tests)
 * see what 7.0.15 shows; the packed form is a storage detail, like the
 * list's bare listpack behind "quicklist". The keyspace entry therefore
 * stores the encoding Redis would report (OBJ_ENC_INTSET or OBJ_ENC_HT) and
 * a pointer whose lowest bit is set when it points at a listpack
 * (allocations are at least 8-byte aligned, so the bit is free). Only this
 * module reads that pointer: use set_of_obj() and set_store_obj().
 *
 * A struct set is a handle held by value: every call that changes the set
 * may move its storage and change its form, updating `ptr` and `enc`; the
 * caller writes the handle back into the keyspace entry. Members read back
 * are struct lp_value (listpack.h): a string (borrowed until the set
 * changes) or an integer. Thresholds come in as struct set_limits, so this
 * file needs no server state. */
#ifndef EMBER_SET_H
#define EMBER_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/dict.h"
#include "ember/listpack.h"
#include "ember/object.h"
#include "ember/util.h"

struct set {
    void *ptr;        /* struct intset *, struct listpack * or struct dict * */
    enum obj_enc enc; /* the form in use: OBJ_ENC_INTSET, _LISTPACK or _HT */
};

/* When a set changes form (set-max-intset-entries, set-max-listpack-entries,
 * set-max-listpack-value). */
struct set_limits {
    size_t max_intset_entries;
    size_t max_listpack_entries;
    size_t max_listpack_value;
};

/* Called with one member; the value is borrowed for the call. */
typedef void set_visit_fn(const struct lp_value *v, void *arg);

/* ---- Life cycle ---- */

/* An empty set (an intset, as Redis's createIntsetObject). */
void set_init(struct set *s);
/* An empty set in the form that suits `first` (Redis's setTypeCreate): an
 * intset for an integer, else a listpack, or a table if `first` is longer
 * than lim->max_listpack_value. */
void set_init_for(struct set *s, struct slice first, const struct set_limits *lim);
/* Frees everything the set owns; the handle is left empty (an intset of
 * nothing would need a new set_init). */
void set_deinit(struct set *s);
/* A deep copy of `src` in the same form (COPY, Redis's setTypeDup). */
void set_dup(struct set *dst, const struct set *src);
/* Bytes the set uses (allocator sizes of every block). */
size_t set_memory(const struct set *s);

/* ---- The keyspace entry ---- */

/* The set held by an OBJ_SET entry. */
struct set set_of_obj(const struct dict_node *o);
/* Writes the (possibly moved or converted) set back into its entry: the
 * pointer and the encoding OBJECT ENCODING reports. */
void set_store_obj(struct dict_node *o, const struct set *s);
/* A new keyspace entry at `key` holding `s` (ownership moves to it). */
struct dict_node *set_create_obj(struct slice key, const struct set *s);
/* The encoding Redis 7.0 would report for `s`: OBJ_ENC_INTSET or _HT. */
enum obj_enc set_reported_enc(const struct set *s);
/* The obj_free_fn, obj_size_fn and obj_dup_fn for OBJ_SET (they decode
 * the tag; the copy comes back tagged the same way, for the same reported
 * encoding). */
void set_free_container(void *ptr, enum obj_enc enc);
size_t set_container_size(const void *ptr, enum obj_enc enc);
void *set_dup_container(const void *ptr, enum obj_enc enc);

/* Registers the three functions above with object.c. Declared here,
 * defined in t_set.c; the server calls it once at start-up. */
void t_set_setup(void);

/* ---- Reading ---- */

/* Number of members. */
size_t set_size(const struct set *s);
/* True if `m` is a member. Not const: a table lookup may move a bucket of
 * an incremental rehash. */
bool set_contains(struct set *s, struct slice m);
/* The same for a member read from another set (integers are not formatted
 * when `s` is an intset). */
bool set_contains_value(struct set *s, const struct lp_value *v);

/* ---- Changing ---- */

/* Adds `m` (copied); returns false if it was already a member. Converts the
 * set when the limits say so. */
bool set_add(struct set *s, struct slice m, const struct set_limits *lim);
/* The same for a member read from another set. */
bool set_add_value(struct set *s, const struct lp_value *v, const struct set_limits *lim);
/* Removes `m`; returns whether it was a member. A table shrinks when it
 * gets sparse. */
bool set_remove(struct set *s, struct slice m);
/* Converts to a table (no-op for a table); for tests and SPOP-like
 * rebuilds. */
void set_convert_to_table(struct set *s);

/* ---- Walking ---- */

/* Visits every member once: intsets in ascending order, listpacks in
 * insertion order, tables in bucket order. Nothing may change the set until
 * set_iter_deinit(). */
struct set_iter {
    struct set *s;
    size_t index;     /* intset: the next position */
    const uint8_t *p; /* listpack: the next entry */
    struct dict_iter di;
};
void set_iter_init(struct set_iter *it, struct set *s);
/* The next member into *v (borrowed until the set changes); false at the
 * end. */
bool set_iter_next(struct set_iter *it, struct lp_value *v);
void set_iter_deinit(struct set_iter *it);

/* SSCAN's walk: calls fn for the members the cursor covers and returns the
 * next cursor. A table is walked one bucket per call with dict_scan's
 * reverse-binary cursor (0 when done); an intset or listpack is visited
 * whole whatever the cursor, returning 0, as Redis does for its compact
 * sets. */
unsigned long long set_scan(struct set *s, unsigned long long cursor, set_visit_fn *fn, void *arg);

/* ---- Random members ---- */

/* A random member of a non-empty set into *v (borrowed until the set
 * changes). Uniform for intsets and listpacks; for tables as uniform as
 * dict_random() (a random non-empty bucket, then a random node in it). */
void set_random(struct set *s, struct rng *r, struct lp_value *v);

/* Calls fn `count` times with a random member each (repeats allowed:
 * SRANDMEMBER with a negative count). The set must not be empty. */
void set_random_repeat(struct set *s, struct rng *r, size_t count, set_visit_fn *fn, void *arg);

/* Calls fn for `count` distinct random members (count < set_size(s)), in
 * random order (SRANDMEMBER with a positive count). With count close to the
 * size it selects from one pass over the set; otherwise it draws random
 * members and skips repeats. */
void set_random_distinct(struct set *s, struct rng *r, size_t count, set_visit_fn *fn, void *arg);

/* Removes a random member of a non-empty set, calling fn with it first (it
 * is freed right after). */
void set_pop_random(struct set *s, struct rng *r, set_visit_fn *fn, void *arg);

/* ---- Debugging ---- */

/* Checks the form's invariants (intset: a valid width, strictly ascending;
 * listpack: valid, no member twice; table: the count matches the nodes).
 * For tests: true if consistent. */
bool set_validate(const struct set *s);

#endif
