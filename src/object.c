/* object.c: building, resizing and freeing keyspace entries (see object.h).
 *
 * Every entry is sized exactly (jemalloc rounds it up to its size class), so
 * changing a value's size means a new block; the helpers here copy the key,
 * deadline and lru across and hand back the new address. */
#include "ember/object.h"

#include "ember/mem.h"

static obj_free_fn *free_fns[OBJ_HASH + 1];
static obj_size_fn *size_fns[OBJ_HASH + 1];
static obj_dup_fn *dup_fns[OBJ_HASH + 1];

void obj_register_dup(enum obj_type type, obj_dup_fn *fn)
{
    dup_fns[type] = fn;
}

void *obj_dup_container(const struct dict_node *o)
{
    enum obj_type type = obj_type(o);
    if (type == OBJ_STRING || dup_fns[type] == NULL) return NULL;
    return dup_fns[type](obj_ptr(o), obj_enc(o));
}

void obj_register_free(enum obj_type type, obj_free_fn *fn)
{
    free_fns[type] = fn;
}

void obj_register_size(enum obj_type type, obj_size_fn *fn)
{
    size_fns[type] = fn;
}

static size_t strlen_prefix_size(size_t len)
{
    return len <= DICT_KEYLEN_MAX_1B ? 1 : 5;
}

static uint8_t *write_strlen(uint8_t *p, size_t len, bool wide)
{
    if (!wide && len <= DICT_KEYLEN_MAX_1B) {
        *p++ = (uint8_t)len;
        return p;
    }
    uint32_t l = (uint32_t)len;
    *p++ = 0xFF;
    memcpy(p, &l, 4);
    return p + 4;
}

/* Allocates an entry with room for `value_size` bytes of value and writes
 * the header, key and deadline. Returns the entry; *value points at the
 * value's first byte. */
static struct dict_node *entry_alloc(struct slice key, enum obj_type type, enum obj_enc enc,
                                     long long expire, size_t value_size, uint8_t **value)
{
    size_t size = DICT_NODE_HDR + dict_key_size(key.len) + (expire >= 0 ? 8 : 0) + value_size;
    struct dict_node *o = em_malloc(size);
    o->next = NULL;
    o->meta = (uint32_t)type | ((uint32_t)enc << OBJ_META_ENC_SHIFT);
    uint8_t *p = dict_node_set_key(o, key.ptr, key.len);
    if (expire >= 0) {
        o->meta |= OBJ_META_TTL;
        memcpy(p, &expire, 8);
        p += 8;
    }
    *value = p;
    return o;
}

static bool looks_like_int(struct slice val, long long *v)
{
    return val.len <= 20 && str_to_ll(val.ptr, val.len, v);
}

struct dict_node *obj_create_string(struct slice key, struct slice val, long long expire)
{
    long long v;
    if (looks_like_int(val, &v)) return obj_create_int(key, v, expire);
    uint8_t *p;
    enum obj_enc enc = val.len <= OBJ_EMBSTR_MAX ? OBJ_ENC_EMBSTR : OBJ_ENC_RAW;
    struct dict_node *o =
        entry_alloc(key, OBJ_STRING, enc, expire, strlen_prefix_size(val.len) + val.len, &p);
    p = write_strlen(p, val.len, false);
    if (val.len > 0) memcpy(p, val.ptr, val.len);
    return o;
}

bool obj_overwrite_string(struct dict_node *o, struct slice val, long long expire)
{
    if (obj_type(o) != OBJ_STRING || (expire >= 0) != obj_has_ttl(o)) return false;
    long long v;
    bool is_int = looks_like_int(val, &v);
    size_t vsize = is_int ? 8 : strlen_prefix_size(val.len) + val.len;
    size_t size = (size_t)(obj_value(o) - (const uint8_t *)o) + vsize;
    if (mem_size_class(size) != mem_usable_size(o)) return false;
    enum obj_enc enc = is_int                      ? OBJ_ENC_INT
                       : val.len <= OBJ_EMBSTR_MAX ? OBJ_ENC_EMBSTR
                                                   : OBJ_ENC_RAW;
    obj_set_enc(o, enc);
    if (expire >= 0) memcpy(dict_node_payload(o), &expire, 8);
    uint8_t *p = obj_value(o);
    if (is_int) {
        memcpy(p, &v, 8);
    } else {
        p = write_strlen(p, val.len, false);
        if (val.len > 0) memmove(p, val.ptr, val.len); /* val may be o's own bytes */
    }
    return true;
}

struct dict_node *obj_create_raw(struct slice key, struct slice val, size_t spare, long long expire)
{
    uint8_t *p;
    struct dict_node *o =
        entry_alloc(key, OBJ_STRING, OBJ_ENC_RAW, expire, 5 + val.len + spare, &p);
    p = write_strlen(p, val.len, true);
    if (val.len > 0) memcpy(p, val.ptr, val.len);
    return o;
}

struct dict_node *obj_create_int(struct slice key, long long v, long long expire)
{
    uint8_t *p;
    struct dict_node *o = entry_alloc(key, OBJ_STRING, OBJ_ENC_INT, expire, 8, &p);
    memcpy(p, &v, 8);
    return o;
}

struct dict_node *obj_create_ptr(struct slice key, enum obj_type type, enum obj_enc enc, void *ptr,
                                 long long expire)
{
    uint8_t *p;
    struct dict_node *o = entry_alloc(key, type, enc, expire, sizeof(ptr), &p);
    memcpy(p, &ptr, sizeof(ptr));
    return o;
}

void obj_destroy(struct dict_node *o)
{
    if (o == NULL) return;
    enum obj_type type = obj_type(o);
    if (type != OBJ_STRING && free_fns[type] != NULL) free_fns[type](obj_ptr(o), obj_enc(o));
    em_free(o);
}

/* Bytes of value stored after the deadline. */
static size_t value_size(const struct dict_node *o)
{
    if (obj_type(o) != OBJ_STRING) return sizeof(void *);
    if (obj_enc(o) == OBJ_ENC_INT) return 8;
    const uint8_t *p = obj_value(o);
    if (p[0] != 0xFF) return 1 + p[0];
    uint32_t l;
    memcpy(&l, p + 1, 4);
    return 5 + l;
}

struct dict_node *obj_with_expire(struct dict_node *o, long long expire)
{
    bool had = obj_has_ttl(o);
    if (had && expire >= 0) {
        memcpy(dict_node_payload(o), &expire, 8);
        return o;
    }
    if (!had && expire < 0) return o;
    struct slice key = dict_node_key(o);
    size_t vsize = value_size(o);
    if (obj_type(o) == OBJ_STRING && obj_enc(o) == OBJ_ENC_RAW) {
        vsize += obj_string_room(o); /* keep APPEND's spare room */
    }
    uint8_t *dst;
    struct dict_node *n = entry_alloc(key, obj_type(o), obj_enc(o), expire, vsize, &dst);
    memcpy(dst, obj_value(o), vsize);
    n->meta = (n->meta & 0xFFu) | (o->meta & ~0xFFu); /* keep lru */
    em_free(o);
    return n;
}

struct dict_node *obj_with_string(struct dict_node *o, struct slice val, bool keep_ttl)
{
    long long expire = keep_ttl ? obj_expire(o) : -1;
    struct dict_node *n = obj_create_string(dict_node_key(o), val, expire);
    n->meta = (n->meta & 0xFFu) | (o->meta & ~0xFFu);
    obj_destroy(o);
    return n;
}

/* ---- Strings ---- */

struct slice obj_string(const struct dict_node *o, char *buf)
{
    const uint8_t *p = obj_value(o);
    if (obj_enc(o) == OBJ_ENC_INT) {
        long long v;
        memcpy(&v, p, 8);
        int len = ll_to_str(buf, UTIL_LL_STR_SIZE, v);
        return (struct slice){buf, (size_t)len};
    }
    if (p[0] != 0xFF) return (struct slice){(const char *)p + 1, p[0]};
    uint32_t l;
    memcpy(&l, p + 1, 4);
    return (struct slice){(const char *)p + 5, l};
}

size_t obj_strlen(const struct dict_node *o)
{
    if (obj_enc(o) == OBJ_ENC_INT) {
        char buf[UTIL_LL_STR_SIZE];
        return obj_string(o, buf).len;
    }
    return value_size(o) - (obj_value(o)[0] != 0xFF ? 1 : 5);
}

bool obj_string_ll(const struct dict_node *o, long long *out)
{
    if (obj_enc(o) == OBJ_ENC_INT) {
        memcpy(out, obj_value(o), 8);
        return true;
    }
    char buf[UTIL_LL_STR_SIZE];
    struct slice s = obj_string(o, buf);
    return str_to_ll(s.ptr, s.len, out);
}

size_t obj_string_room(const struct dict_node *o)
{
    size_t used = (size_t)(obj_value(o) - (const uint8_t *)o) + value_size(o);
    return mem_usable_size(o) - used;
}

char *obj_string_mut(struct dict_node *o)
{
    return (char *)obj_value(o) + 5; /* RAW strings use the wide prefix */
}

void obj_string_set_len(struct dict_node *o, size_t len)
{
    uint32_t l = (uint32_t)len;
    memcpy(obj_value(o) + 1, &l, 4);
}

void obj_set_int(struct dict_node *o, long long v)
{
    memcpy(obj_value(o), &v, 8);
}

/* ---- Names and sizes ---- */

const char *obj_type_name(enum obj_type type)
{
    switch (type) {
    case OBJ_STRING:
        return "string";
    case OBJ_LIST:
        return "list";
    case OBJ_SET:
        return "set";
    case OBJ_ZSET:
        return "zset";
    case OBJ_HASH:
        return "hash";
    }
    return "unknown";
}

const char *obj_enc_name(enum obj_enc enc)
{
    switch (enc) {
    case OBJ_ENC_RAW:
        return "raw";
    case OBJ_ENC_INT:
        return "int";
    case OBJ_ENC_HT:
        return "hashtable";
    case OBJ_ENC_INTSET:
        return "intset";
    case OBJ_ENC_SKIPLIST:
        return "skiplist";
    case OBJ_ENC_EMBSTR:
        return "embstr";
    case OBJ_ENC_QUICKLIST:
        return "quicklist";
    case OBJ_ENC_LISTPACK:
        return "listpack";
    }
    return "unknown";
}

size_t obj_memory(const struct dict_node *o)
{
    size_t bytes = mem_usable_size(o);
    enum obj_type type = obj_type(o);
    if (type != OBJ_STRING && size_fns[type] != NULL)
        bytes += size_fns[type](obj_ptr(o), obj_enc(o));
    return bytes;
}
