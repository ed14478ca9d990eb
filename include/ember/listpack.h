/* listpack.h: a packed sequence of strings and integers in one allocation.
 *
 * The compact form behind small lists, hashes (field, value, field, value,
 * ...) and, later, sets and sorted sets. Elements sit back to back; each one
 * says how long it is at both ends, so the sequence can be walked in either
 * direction without any index:
 *
 *   struct listpack (one em_malloc'd block, exactly `bytes` long)
 *   +--------+--------+---------+---------+-----+---------+
 *   | bytes  | count  | entry 0 | entry 1 | ... | entry n |
 *   | 4 B    | 4 B    |         |         |     |         |
 *   +--------+--------+---------+---------+-----+---------+
 *
 *   entry: | encoding + data | backlen |
 *
 * The encoding byte follows Redis's listpack (antirez's listpack spec), so an
 * element costs what it costs there:
 *
 *   0xxxxxxx                    integer 0..127 in the byte itself
 *   10xxxxxx <data>             string of 0..63 bytes
 *   110xxxxx yyyyyyyy           integer -4096..4095 (13 bits)
 *   1110xxxx yyyyyyyy <data>    string of up to 4095 bytes (12-bit length)
 *   11110000 <4 B len> <data>   longer string
 *   11110001..11110100 <data>   integer in 2, 3, 4 or 8 bytes
 *
 * `backlen` is the length of "encoding + data" in 1 to 5 bytes of 7 bits,
 * read from the entry's last byte towards the front (the high bit of a byte
 * says another byte precedes it), which is how a walk steps backwards.
 *
 * Strings that read as 64-bit integers the way Redis's string2ll reads them
 * ("12", "-7", not "012" or "+1") are stored as integers and read back as
 * the same text. That encoding is canonical, which lets comparisons reject
 * an integer entry against a non-integer string without formatting.
 *
 * Positions are `uint8_t *` into the block. Every call that changes the
 * listpack may move it: it returns the (possibly new) listpack, and every
 * position taken before is invalid unless the call hands back a new one. The
 * listpack has no size limit of its own beyond 4 GB: its users decide when
 * it has grown too big and convert to another form. */
#ifndef EMBER_LISTPACK_H
#define EMBER_LISTPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/util.h"

struct listpack {
    uint32_t bytes; /* header + entries: the block's used length */
    uint32_t count; /* number of entries */
    uint8_t data[];
};

#define LP_HDR_SIZE 8u

/* An entry read back: a string (`str` non-NULL, borrowed from the listpack
 * until it changes) or an integer (`str` NULL, value in `ll`). */
struct lp_value {
    const char *str;
    size_t len;
    long long ll;
};

/* The value as text: strings as they are, integers formatted into `buf`
 * (at least UTIL_LL_STR_SIZE bytes). */
struct slice lp_value_slice(const struct lp_value *v, char *buf);

/* A string prepared for repeated comparisons (it is parsed as an integer
 * once, not once per entry). Borrows `s`. */
struct lp_needle {
    struct slice s;
    bool is_int;
    long long ll;
};
void lp_needle_init(struct lp_needle *n, struct slice s);

/* ---- Creation and size ---- */

/* An empty listpack. */
struct listpack *lp_create(void);
/* Frees the listpack; NULL is a no-op. */
void lp_destroy(struct listpack *lp);
/* A copy (one allocation of exactly lp_bytes()). */
struct listpack *lp_dup(const struct listpack *lp);

static inline uint32_t lp_count(const struct listpack *lp)
{
    return lp->count;
}

/* Bytes in use (header included); the allocator may reserve a bit more. */
static inline size_t lp_bytes(const struct listpack *lp)
{
    return lp->bytes;
}

/* One past the last entry: the position to insert at to append. */
static inline uint8_t *lp_end(const struct listpack *lp)
{
    return (uint8_t *)lp + lp->bytes;
}

/* Bytes `s` would take as an entry (encoding, data and backlen). */
size_t lp_entry_size(struct slice s);
/* The same for an integer. */
size_t lp_entry_size_ll(long long v);

/* ---- Walking ---- */

/* The first or last entry, or NULL when empty. */
uint8_t *lp_first(const struct listpack *lp);
uint8_t *lp_last(const struct listpack *lp);
/* The entry after / before `p`, or NULL at the end / start. */
uint8_t *lp_next(const struct listpack *lp, const uint8_t *p);
uint8_t *lp_prev(const struct listpack *lp, const uint8_t *p);
/* The entry at `index` (negative counts from the end, -1 the last), walking
 * from the nearer end; NULL when out of range. */
uint8_t *lp_seek(const struct listpack *lp, long long index);
/* Bytes the entry at `p` takes, backlen included. */
size_t lp_entry_len(const uint8_t *p);

/* Reads the entry at `p`. */
struct lp_value lp_get(const uint8_t *p);
/* True if the entry at `p` equals the needle's bytes. */
bool lp_match(const uint8_t *p, const struct lp_needle *n);
/* The first entry at or after `p` equal to `s`, comparing one entry and then
 * skipping `skip` (a hash's fields: skip = 1 jumps over each value); NULL if
 * none. `p` may be NULL (nothing to search). */
uint8_t *lp_find(const struct listpack *lp, const uint8_t *p, struct slice s, unsigned skip);

/* ---- Changing ---- */

/* Inserts `s` before the entry at `at` (at == lp_end(lp) appends). With
 * `inserted` non-NULL, sets it to the new entry's position. */
struct listpack *lp_insert(struct listpack *lp, uint8_t *at, struct slice s, uint8_t **inserted);
/* The same with an integer. */
struct listpack *lp_insert_ll(struct listpack *lp, uint8_t *at, long long v, uint8_t **inserted);
struct listpack *lp_append(struct listpack *lp, struct slice s);
struct listpack *lp_prepend(struct listpack *lp, struct slice s);

/* Replaces the entry at *p with `s`; *p is set to the new entry. */
struct listpack *lp_replace(struct listpack *lp, uint8_t **p, struct slice s);
struct listpack *lp_replace_ll(struct listpack *lp, uint8_t **p, long long v);

/* Deletes the entry at *p; *p is set to the entry that followed it (now at
 * the same offset), or NULL if it was the last. */
struct listpack *lp_delete(struct listpack *lp, uint8_t **p);
/* Deletes up to `n` entries from `p` on (fewer if the end comes first). */
struct listpack *lp_delete_range(struct listpack *lp, uint8_t *p, size_t n);

/* Appends b's entries to a and frees b; returns the joined listpack. */
struct listpack *lp_merge(struct listpack *a, struct listpack *b);
/* Cuts *lp at `p`: the entries from `p` on move into a new listpack, which
 * is returned; *lp keeps those before (and may move). */
struct listpack *lp_split(struct listpack **lp, uint8_t *p);

/* Walks the whole listpack both ways and checks every length, encoding and
 * the count against `bytes`. For tests and for bytes from outside (RDB,
 * RESTORE): true if consistent. */
bool lp_validate(const struct listpack *lp);

#endif
