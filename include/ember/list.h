/* list.h: the list container, and the list commands' entry points.
 *
 * A list is one of two forms behind a single opaque pointer:
 *
 *   small:  struct listpack            the elements, packed (listpack.h)
 *
 *   large:  struct quicklist           a doubly linked chain of listpacks,
 *           +------+------+-------+       each bounded by `fill`
 *           | head | tail | count |
 *           +------+------+-------+
 *              |              |
 *              v              v
 *           [node]<-->[node]<-->[node]    node: prev, next, listpack, count
 *
 * A small list costs one allocation (8 bytes of header plus its elements).
 * When a push would take its listpack past the limit, the listpack becomes
 * the first node of a quicklist as it is (no copy) and the element starts a
 * new node; when a quicklist is down to one node at most half full, it
 * turns back into a bare listpack. Pushes and pops at either end touch one
 * node, so they are O(1); LINDEX walks nodes (by their cached counts) from
 * the nearer end.
 *
 * `fill` is list-max-listpack-size with Redis's meaning: -1..-5 bound a
 * node's listpack to 4, 8, 16, 32 or 64 KB; a positive value bounds its
 * entry count (and its size to 8 KB, Redis's safety limit). Values out of
 * range are clamped as Redis clamps them (to -5 and 32767). An element
 * bigger than the limit gets a node of its own. The caller passes `fill` to
 * every call that may grow or shrink the list, so a CONFIG SET applies to
 * existing lists from their next change.
 *
 * Functions that change a list take `struct list **` because the list may
 * move (a listpack is reallocated in place of itself); the caller stores the
 * new pointer back. Values read out (struct lp_value) are borrowed until the
 * next change to the list. Whatever the form, Redis 7.0 calls every list
 * "quicklist" (OBJECT ENCODING): list_is_packed() tells the real form. */
#ifndef EMBER_LIST_H
#define EMBER_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "ember/listpack.h"
#include "ember/util.h"

struct list;

enum list_end { LIST_HEAD = 0, LIST_TAIL = 1 };

/* Redis 7.0's defaults and bounds for list-max-listpack-size. */
#define LIST_FILL_DEFAULT (-2)
#define LIST_FILL_MIN     (-5)
#define LIST_FILL_MAX     32767

/* An empty list (a bare listpack). */
struct list *list_create(void);
/* Frees the list and its elements; NULL is a no-op. */
void list_destroy(struct list *l);
/* A deep copy in the same form (COPY, Redis's listTypeDup). */
struct list *list_dup(const struct list *l);

size_t list_len(const struct list *l);
/* True while the list is a single bare listpack. */
bool list_is_packed(const struct list *l);
/* Number of listpacks (1 for a packed list). */
size_t list_node_count(const struct list *l);
/* Bytes the allocator holds for the list, headers included (MEMORY USAGE). */
size_t list_memory(const struct list *l);

/* ---- Reading ---- */

/* The element at `index` (negative from the tail). False if out of range. */
bool list_index(const struct list *l, long long index, struct lp_value *out);

/* A read-only walk from an index towards the tail (forward) or the head. */
struct list_iter {
    const void *node; /* the current node, NULL for a packed list */
    const struct listpack *lp;
    const uint8_t *p; /* the next entry to return, NULL when done */
    bool forward;
};

/* Starts at `index` (negative from the tail); an index out of range gives
 * an empty walk. */
void list_iter_init(struct list_iter *it, const struct list *l, long long index, bool forward);
/* Reads the next element into *out; false when the walk is over. */
bool list_iter_next(struct list_iter *it, struct lp_value *out);

/* ---- Changing ---- */

/* Pushes `v` at one end. `v` must not point into the list itself. */
void list_push(struct list **l, struct slice v, enum list_end end, int fill);
/* Removes the element at one end (the list must not be empty). */
void list_pop(struct list **l, enum list_end end, int fill);
/* Removes up to `n` elements starting at index `start` (0 <= start). */
void list_delete_range(struct list **l, size_t start, size_t n, int fill);
/* Replaces the element at `index` (negative from the tail). False if out of
 * range. */
bool list_set(struct list **l, long long index, struct slice v, int fill);
/* Inserts `v` before or after the first element equal to `pivot`. Returns
 * the new length, or -1 if there is no such element. */
long long list_insert_pivot(struct list **l, struct slice pivot, struct slice v, bool after,
                            int fill);
/* Inserts `v` so that it ends up at `index` (0..len). */
void list_insert_at(struct list **l, size_t index, struct slice v, int fill);
/* LREM: removes elements equal to `v`, up to `count` of them from the head
 * (count > 0), up to -count from the tail (count < 0), or all (0). Returns
 * how many were removed. */
size_t list_remove(struct list **l, struct slice v, long long count, int fill);

/* Consistency check for tests: every listpack valid, no empty node, node
 * counts and the total agree, links both ways. (Not the fill bounds: LSET
 * may exceed them, as in Redis.) */
bool list_validate(const struct list *l);

/* ---- The commands (t_list.c) ---- */

/* Registers the list type's destructor and size function with object.c.
 * Call once at start-up, before any list exists. */
void t_list_setup(void);

#endif
