/* object.h: keyspace entries, one allocation per key.
 *
 * An entry is a dict node (see dict.h) whose `meta` word and payload are laid
 * out here. Key, deadline and value sit together, so GET touches one block:
 *
 *   +------+----------------------------+--------+------------+------------------+
 *   | next | meta                       | key    | [deadline] | value            |
 *   | 8 B  | type:3 enc:4 ttl:1 lru:24  | 1|5+k  | 8 B if ttl | see below        |
 *   +------+----------------------------+--------+------------+------------------+
 *
 * Values by encoding:
 *   OBJ_ENC_INT                  int64, 8 bytes (strings that are integers)
 *   OBJ_ENC_EMBSTR, OBJ_ENC_RAW  length (1 byte, or 0xFF + 4 bytes) and the bytes;
 *                                RAW strings may have spare room after them
 *                                (mem_usable_size tells), so APPEND grows in place
 *   anything else                a pointer to the type's container
 *
 * A 16-byte key with a 16-byte value is 46 bytes: jemalloc's 48-byte class.
 * The deadline adds 8 bytes only to keys that have one. Changing the size of
 * a value (or adding a deadline) may move the entry: functions that can do so
 * return the new address, and the caller puts it back with db_replace().
 *
 * The 24-bit `lru` field holds the LRU clock or LFU counter for eviction. */
#ifndef EMBER_OBJECT_H
#define EMBER_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "ember/dict.h"
#include "ember/util.h"

/* Redis's numbering, so RDB and OBJECT ENCODING can map one to one. */
enum obj_type {
    OBJ_STRING = 0,
    OBJ_LIST = 1,
    OBJ_SET = 2,
    OBJ_ZSET = 3,
    OBJ_HASH = 4,
};

enum obj_enc {
    OBJ_ENC_RAW = 0,
    OBJ_ENC_INT = 1,
    OBJ_ENC_HT = 2,
    OBJ_ENC_INTSET = 6,
    OBJ_ENC_SKIPLIST = 7,
    OBJ_ENC_EMBSTR = 8,
    OBJ_ENC_QUICKLIST = 9,
    OBJ_ENC_LISTPACK = 11,
};

/* Redis keeps strings up to 44 bytes as "embstr"; OBJECT ENCODING says so. */
#define OBJ_EMBSTR_MAX 44

#define OBJ_META_TYPE_MASK 0x7u
#define OBJ_META_ENC_SHIFT 3
#define OBJ_META_ENC_MASK  0xFu
#define OBJ_META_TTL       0x80u
#define OBJ_META_LRU_SHIFT 8
#define OBJ_LRU_MAX        0xFFFFFFu

static inline enum obj_type obj_type(const struct dict_node *o)
{
    return (enum obj_type)(o->meta & OBJ_META_TYPE_MASK);
}

static inline enum obj_enc obj_enc(const struct dict_node *o)
{
    return (enum obj_enc)((o->meta >> OBJ_META_ENC_SHIFT) & OBJ_META_ENC_MASK);
}

static inline bool obj_has_ttl(const struct dict_node *o)
{
    return (o->meta & OBJ_META_TTL) != 0;
}

static inline uint32_t obj_lru(const struct dict_node *o)
{
    return o->meta >> OBJ_META_LRU_SHIFT;
}

static inline void obj_set_lru(struct dict_node *o, uint32_t lru)
{
    o->meta = (o->meta & 0xFFu) | ((lru & OBJ_LRU_MAX) << OBJ_META_LRU_SHIFT);
}

static inline void obj_set_enc(struct dict_node *o, enum obj_enc enc)
{
    o->meta = (o->meta & ~(OBJ_META_ENC_MASK << OBJ_META_ENC_SHIFT)) |
              ((uint32_t)enc << OBJ_META_ENC_SHIFT);
}

/* Absolute deadline in ms, or -1 for none. */
static inline long long obj_expire(const struct dict_node *o)
{
    if (!obj_has_ttl(o)) return -1;
    long long when;
    memcpy(&when, dict_node_payload(o), sizeof(when));
    return when;
}

/* Where the value starts (after the deadline, if any). */
static inline uint8_t *obj_value(const struct dict_node *o)
{
    return dict_node_payload(o) + (obj_has_ttl(o) ? 8 : 0);
}

/* ---- Creation ---- */

/* A string entry holding a copy of val; integers that Redis would store as
 * "int" get OBJ_ENC_INT. `expire` is an absolute ms deadline or -1. */
struct dict_node *obj_create_string(struct slice key, struct slice val, long long expire);
/* A string entry with a forced encoding (RAW after APPEND/SETRANGE), with at
 * least `spare` extra bytes of room for growth. */
struct dict_node *obj_create_raw(struct slice key, struct slice val, size_t spare,
                                 long long expire);
/* A string entry holding the integer v. */
struct dict_node *obj_create_int(struct slice key, long long v, long long expire);
/* An entry whose value is a pointer to a container; takes ownership of ptr. */
struct dict_node *obj_create_ptr(struct slice key, enum obj_type type, enum obj_enc enc, void *ptr,
                                 long long expire);

/* Frees the entry and the container it owns. */
void obj_destroy(struct dict_node *o);

/* Returns an entry equal to `o` but with deadline `expire` (-1 removes it).
 * May reallocate: `o` is invalid afterwards, use the result. Keeps lru. */
struct dict_node *obj_with_expire(struct dict_node *o, long long expire);

/* Rebuilds the entry around a new string value (keeps key, deadline and lru
 * when keep_ttl, else drops the deadline). Frees `o`; returns the new entry. */
struct dict_node *obj_with_string(struct dict_node *o, struct slice val, bool keep_ttl);

/* SET over a string entry: writes `val` and the deadline `expire` into o's
 * own block and returns true when the entry obj_create_string() would build
 * has the same size class as o and the same presence of a deadline (its
 * layout); otherwise changes nothing and returns false. Keeps key and lru.
 * Overwriting a value with one of about its size then costs no allocation. */
bool obj_overwrite_string(struct dict_node *o, struct slice val, long long expire);

/* ---- Strings ---- */

/* The string value. For OBJ_ENC_INT it is formatted into `buf` (at least
 * UTIL_LL_STR_SIZE bytes); otherwise it points into the entry. */
struct slice obj_string(const struct dict_node *o, char *buf);
/* Length of the string value, without formatting integers into a buffer. */
size_t obj_strlen(const struct dict_node *o);
/* True and *out if the value is (or parses as) a 64-bit integer. */
bool obj_string_ll(const struct dict_node *o, long long *out);
/* Room left after a RAW string's bytes without reallocating. */
size_t obj_string_room(const struct dict_node *o);
/* Sets an in-place RAW string's length (after the caller wrote the bytes
 * into obj_string_mut(), within obj_string_room()). */
char *obj_string_mut(struct dict_node *o);
void obj_string_set_len(struct dict_node *o, size_t len);
/* Sets an INT entry's value in place. */
void obj_set_int(struct dict_node *o, long long v);

/* ---- Containers ---- */

static inline void *obj_ptr(const struct dict_node *o)
{
    void *p;
    memcpy(&p, obj_value(o), sizeof(p));
    return p;
}

static inline void obj_set_ptr(struct dict_node *o, void *p)
{
    memcpy(obj_value(o), &p, sizeof(p));
}

/* Type names as TYPE reports them ("string", "list", ...). */
const char *obj_type_name(enum obj_type type);
/* Encoding names as OBJECT ENCODING reports them ("embstr", "listpack", ...). */
const char *obj_enc_name(enum obj_enc enc);

/* Container destructors, registered by each type's module at start-up so
 * object.c does not depend on the containers. */
typedef void obj_free_fn(void *ptr, enum obj_enc enc);
void obj_register_free(enum obj_type type, obj_free_fn *fn);
/* Bytes a container uses, for MEMORY USAGE; registered alongside. */
typedef size_t obj_size_fn(const void *ptr, enum obj_enc enc);
void obj_register_size(enum obj_type type, obj_size_fn *fn);
/* Deep copies of containers (COPY), registered alongside. */
typedef void *obj_dup_fn(const void *ptr, enum obj_enc enc);
void obj_register_dup(enum obj_type type, obj_dup_fn *fn);
/* A deep copy of a container entry's value, or NULL if its type registered
 * no copier. */
void *obj_dup_container(const struct dict_node *o);
/* Bytes the entry and its container use. */
size_t obj_memory(const struct dict_node *o);

#endif
