/* hash.h: the hash container (field -> value), compact while small.
 *
 * A hash has two encodings, named as OBJECT ENCODING names them:
 *
 *  - "listpack" (OBJ_ENC_LISTPACK): one listpack (listpack.h) holding the
 *    pairs in insertion order, field, value, field, value, ... Lookups walk
 *    it, which for at most hash-max-listpack-entries short pairs is as fast
 *    as hashing and costs two or three bytes per string instead of a node.
 *  - "hashtable" (OBJ_ENC_HT): a dict (dict.h) of intrusive nodes, one
 *    allocation per field holding the field as the key and the value right
 *    after it (its length in the node's `meta`):
 *
 *      +------+--------------+-----------+-------------+
 *      | next | meta = vlen  | field     | value bytes |
 *      | 8 B  | 4 B          | 1|5 + flen| vlen        |
 *      +------+--------------+-----------+-------------+
 *
 * A listpack hash turns into a table, for good, when it gets more than
 * `max_entries` fields or a field or value longer than `max_value` bytes
 * (Redis's hash-max-listpack-entries/-value, passed in as struct
 * hash_limits so this file needs no server state).
 *
 * Shared field lists ("shapes"). Hashes used as records repeat the same
 * field names in every key (user:1 and user:2 both have name, email, ...).
 * A listpack hash whose field list, in order, is one that other hashes have
 * too stores only its values, after the id of an interned, reference-counted
 * copy of the field list (lists of at most 64 fields):
 *
 *      plain:   | f1 | v1 | f2 | v2 | ... | fn | vn |     (2n entries)
 *      shaped:  | shape id | v1 | v2 | ... | vn |           (n + 1 entries)
 *
 * The low bit of the container pointer tells them apart. A field list becomes a
 * shape the second time it is seen (a small table of recent field-list
 * signatures remembers the first sighting), so hashes whose fields are all
 * their own never pay for one. Reads see no difference: lookups walk the
 * shape's fields and the values side by side. A write that changes a shaped
 * hash's field list unpacks it to the plain form (unless it appends a field
 * and the longer list is a shape too), and hash_compact() looks the new list
 * up again. The shape table is process-wide (hashes are freed
 * through obj_register_free() callbacks that carry no context).
 *
 * A struct hash is a handle held by value: the keyspace entry stores `ptr`
 * and `enc` (obj_ptr()/obj_enc()); every call that changes the hash may
 * update both, and the caller writes them back. */
#ifndef EMBER_HASH_H
#define EMBER_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/dict.h"
#include "ember/object.h"
#include "ember/util.h"

struct hash {
    void *ptr;        /* struct listpack * or struct dict * */
    enum obj_enc enc; /* OBJ_ENC_LISTPACK or OBJ_ENC_HT */
};

/* When a listpack hash becomes a table (hash-max-listpack-entries/-value). */
struct hash_limits {
    size_t max_entries;
    size_t max_value;
};

/* Where a pair is: listpack entries (`field`, `value`) or a table node
 * (`field`, `value` NULL). Valid until the hash changes. */
struct hash_pos {
    const void *field;
    const void *value;
};

/* ---- Life cycle ---- */

/* An empty hash ("listpack"). */
void hash_init(struct hash *h);
/* Frees everything the hash owns. */
void hash_deinit(struct hash *h);
/* The same for a container stored in a keyspace entry (the obj_free_fn). */
void hash_free_container(void *ptr, enum obj_enc enc);
/* Bytes the container uses (the obj_size_fn): the listpack, or the table,
 * its buckets and every node. Shared field lists are not counted. */
size_t hash_container_size(const void *ptr, enum obj_enc enc);

/* A deep copy of a container (the obj_dup_fn, for COPY); a shaped copy
 * shares the field list. */
void *hash_dup_container(const void *ptr, enum obj_enc enc);

/* Frees the shared field lists no hash uses any more (up to 256 are kept
 * for reuse) and, when no hash is left, the shape table itself. Call at
 * shutdown, after the keyspace is freed. */
void hash_teardown(void);

/* Registers the three functions above with object.c for OBJ_HASH. Declared
 * here, defined in t_hash.c; the server calls it once at start-up. */
void t_hash_setup(void);

/* ---- Reading ---- */

/* Number of fields. */
size_t hash_len(const struct hash *h);

/* Looks `field` up; returns false if absent. With `pos`, says where. */
bool hash_find(struct hash *h, struct slice field, struct hash_pos *pos);

/* The field or value at `pos` as text, borrowed until the hash changes;
 * integers stored as such are formatted into `buf` (UTIL_LL_STR_SIZE). */
struct slice hash_pos_field(const struct hash *h, struct hash_pos pos, char *buf);
struct slice hash_pos_value(const struct hash *h, struct hash_pos pos, char *buf);

/* The value of `field` into *val (formatted into `buf` if needed); false if
 * absent. */
bool hash_get(struct hash *h, struct slice field, struct slice *val, char *buf);

/* ---- Changing ---- */

/* Redis's hashTypeTryConversion: turns a listpack hash into a table before
 * a write whose arguments (`n` fields and values) include one longer than
 * lim->max_value, or that would take the listpack near 1 GB. */
void hash_prepare_write(struct hash *h, const struct slice *args, size_t n,
                        const struct hash_limits *lim);

/* Sets `field` to `val` (copies both). Returns true if the field is new,
 * false if an existing value was replaced. Converts to a table when the
 * limits say so. */
bool hash_set(struct hash *h, struct slice field, struct slice val, const struct hash_limits *lim);

/* Deletes `field`; returns whether it was there. */
bool hash_delete(struct hash *h, struct slice field);

/* After the writes of one command that added or deleted fields: stores the
 * hash as a shaped one if its field list is shared (see the top). Skipping
 * it only costs memory; the hash stays valid. */
void hash_compact(struct hash *h);

/* Converts a listpack hash into a table (no-op for a table). */
void hash_convert_to_table(struct hash *h);

/* ---- Walking ---- */

/* Visits every pair once, in insertion order for listpacks. Nothing may
 * change the hash until hash_iter_deinit(). */
struct hash_iter {
    struct hash *h;
    const uint8_t *f, *v; /* listpack: the next pair to return */
    struct dict_iter di;
    char fbuf[UTIL_LL_STR_SIZE];
    char vbuf[UTIL_LL_STR_SIZE];
};
void hash_iter_init(struct hash_iter *it, struct hash *h);
/* The next pair's position; false at the end. */
bool hash_iter_next_pos(struct hash_iter *it, struct hash_pos *pos);
/* The next pair as text, borrowed until the next call; false at the end. */
bool hash_iter_next(struct hash_iter *it, struct slice *field, struct slice *val);
void hash_iter_deinit(struct hash_iter *it);

/* HSCAN's walk: calls fn for the pairs the cursor covers and returns the
 * next cursor (dict_scan's reverse-binary cursor for tables; a listpack hash
 * is visited whole, returning 0). The slices are borrowed for the call. */
typedef void hash_scan_fn(struct slice field, struct slice value, void *arg);
unsigned long long hash_scan(struct hash *h, unsigned long long cursor, hash_scan_fn *fn,
                             void *arg);

/* ---- Random pairs (HRANDFIELD) ---- */

/* Fills out[0..n) with pairs chosen uniformly at random, with repetition,
 * in the order drawn. The hash must not be empty. */
void hash_random_pairs(struct hash *h, struct rng *r, size_t n, struct hash_pos *out);

/* Fills out[0..n) with n distinct pairs chosen at random, n < hash_len():
 * in hash order for listpacks (as Redis's lpRandomPairsUnique), in random
 * order for tables. */
void hash_random_unique(struct hash *h, struct rng *r, size_t n, struct hash_pos *out);

/* ---- Shapes (see the top of this file) ---- */

/* True if the hash stores only its values, its field list being shared. */
bool hash_is_shared(const struct hash *h);

/* Number of shared field lists some hash uses (tests, INFO). */
size_t hash_shape_count(void);
/* The same plus those kept unused for reuse (at most 256 of them). */
size_t hash_shape_total(void);

/* Checks a listpack hash's internal consistency (entry counts, shape
 * references); true if sound. For tests. */
bool hash_validate(const struct hash *h);

#endif
