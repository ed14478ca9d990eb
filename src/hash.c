/* hash.c: the hash container (see hash.h for the encodings).
 *
 * Listpack hashes come in two forms: "plain" (field, value, ...) and
 * "shaped" (shape id, value, ...), whose field list lives once in the shape
 * table below; the low bit of the container pointer tells them apart. Every
 * read works on a position, a pair of entry pointers (field entry, value
 * entry), which hides the form: for a plain hash both point into the one
 * listpack, for a shaped one the field points into the shape's listpack.
 *
 * Writes that keep the field list (a value replaced) change the value entry
 * where it is, in either form. A field appended to a shaped hash moves it
 * to the shape of the longer list when that shape exists (the id entry is
 * rewritten, the value appended). Other changes of the field list run on
 * the plain form (a shaped hash is unpacked first), and hash_compact(),
 * called once per command, looks the new list up and packs the hash again
 * if the list is known.
 *
 * Table hashes are a dict of nodes that carry field and value together; a
 * value that changes size reallocates its node (jemalloc keeps it in place
 * within a size class) and the dict is told where it went. */
#include "ember/hash.h"

#include "ember/listpack.h"
#include "ember/log.h"
#include "ember/mem.h"

#include <stdlib.h>
#include <string.h>

/* Invariants stay checked in release builds (STYLE.md's em_assert, which
 * no shared header provides yet). */
#define hash_assert(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) assert_failed(#cond, __LINE__);                                               \
    } while (0)

static void assert_failed(const char *what, int line)
{
    log_warn("hash.c:%d: assertion failed: %s", line, what);
    abort();
}

/* Redis's lpSafeToAdd: a listpack is kept well below 4 GB. */
#define HASH_LP_SAFETY_SIZE (1u << 30)
/* Recent field-list signatures: a list seen twice becomes a shape. */
#define HASH_SKETCH_SLOTS 4096
/* A field list shorter than this (in listpack bytes) is never shared: the
 * shape id would eat most of the saving. */
#define HASH_SHAPE_MIN_BYTES 16
/* Nor one longer than this many fields: records are short, and finding the
 * shape of a long list costs a hash of every field on each change. */
#define HASH_SHAPE_MAX_FIELDS 64
/* Shapes no hash uses any more are kept (the most recent this many) so
 * that a record written field by field finds every longer list ready. */
#define HASH_SHAPES_PARKED 256

/* ---- Table nodes: field as the key, value after it ---- */

static void table_node_destroy(struct dict_node *n, void *ctx)
{
    (void)ctx;
    em_free(n);
}

static const struct dict_type table_type = {.destroy = table_node_destroy, .is_marked = NULL};

static size_t node_size(size_t flen, size_t vlen)
{
    return DICT_NODE_HDR + dict_key_size(flen) + vlen;
}

static struct dict_node *node_create(struct slice field, struct slice val)
{
    hash_assert(val.len <= UINT32_MAX);
    struct dict_node *n = em_malloc(node_size(field.len, val.len));
    n->next = NULL;
    n->meta = (uint32_t)val.len;
    uint8_t *p = dict_node_set_key(n, field.ptr, field.len);
    if (val.len > 0) memcpy(p, val.ptr, val.len);
    return n;
}

static struct slice node_value(const struct dict_node *n)
{
    return (struct slice){(const char *)dict_node_payload(n), n->meta};
}

static struct dict *table_create(void)
{
    struct dict *d = em_malloc(sizeof(*d));
    dict_init(d, &table_type);
    return d;
}

static void table_destroy(struct dict *d)
{
    dict_deinit(d, NULL);
    em_free(d);
}

/* Inserts a field known to be absent. */
static void table_insert(struct dict *d, struct slice field, struct slice val)
{
    dict_insert(d, dict_hash(field.ptr, field.len), node_create(field, val));
}

/* ---- Raw listpack building ----
 *
 * Packing and unpacking copy whole entries from one listpack to another:
 * an entry's bytes are self-contained (listpack.h), so the copy is a valid
 * entry. These helpers size the result once instead of growing it entry by
 * entry. */

/* A listpack of `payload` entry bytes and `count` entries, contents to be
 * written by the caller. */
static struct listpack *lp_alloc_raw(size_t payload, uint32_t count)
{
    hash_assert(LP_HDR_SIZE + payload <= UINT32_MAX);
    struct listpack *lp = em_malloc(LP_HDR_SIZE + payload);
    lp->bytes = (uint32_t)(LP_HDR_SIZE + payload);
    lp->count = count;
    return lp;
}

/* Copies the entry at p to dst; returns the byte after the copy. */
static uint8_t *copy_entry(uint8_t *dst, const uint8_t *p)
{
    size_t len = lp_entry_len(p);
    memcpy(dst, p, len);
    return dst + len;
}

static bool entries_equal(const uint8_t *a, const uint8_t *b)
{
    size_t len = lp_entry_len(a);
    return len == lp_entry_len(b) && memcmp(a, b, len) == 0;
}

/* ---- The shape table ----
 *
 * A shape is a field list shared by listpack hashes, found by a signature
 * of its entries (the listpack encoding is canonical, so equal lists have
 * equal bytes) and by a small integer id, which is what a shaped hash
 * stores. Signatures are 64-bit; two lists with one signature cannot both
 * be shapes, the second just stays plain. */

struct shape {
    struct listpack *fields;
    uint64_t sig;
    uint64_t chain; /* the signature before the count is mixed in (sig_chain()) */
    uint32_t refs;
    uint32_t id;
    bool parked; /* in the ring of unused shapes */
};

struct shape_table {
    struct dict by_sig; /* nodes: key = 8 signature bytes, payload = struct shape * */
    struct shape **by_id;
    uint32_t *free_ids;
    uint32_t cap, nfree, next_id;
    size_t count; /* shapes in the table */
    size_t live;  /* those some hash uses */
    bool ready;
    struct shape *parked[HASH_SHAPES_PARKED]; /* a ring, oldest at park_head */
    uint32_t park_head, park_len;
    uint64_t sketch[HASH_SKETCH_SLOTS];
};

/* Process-wide: a hash is freed through obj_free_fn, which has no context
 * to pass a table in. hash_teardown() frees what is left at shutdown. */
static struct shape_table shapes;

static void sig_node_destroy(struct dict_node *n, void *ctx)
{
    (void)ctx;
    em_free(n);
}

static const struct dict_type sig_type = {.destroy = sig_node_destroy, .is_marked = NULL};

static struct shape *sig_node_shape(const struct dict_node *n)
{
    struct shape *s;
    memcpy(&s, dict_node_payload(n), sizeof(s));
    return s;
}

static struct shape *shape_find(uint64_t sig)
{
    if (!shapes.ready) return NULL;
    struct dict_node *n = dict_find(&shapes.by_sig, dict_hash((const char *)&sig, sizeof(sig)),
                                    (const char *)&sig, sizeof(sig), NULL);
    return n == NULL ? NULL : sig_node_shape(n);
}

static uint32_t shape_take_id(void)
{
    if (shapes.nfree > 0) return shapes.free_ids[--shapes.nfree];
    if (shapes.next_id == shapes.cap) {
        shapes.cap = shapes.cap == 0 ? 64 : shapes.cap * 2;
        shapes.by_id = em_realloc(shapes.by_id, shapes.cap * sizeof(*shapes.by_id));
        shapes.free_ids = em_realloc(shapes.free_ids, shapes.cap * sizeof(*shapes.free_ids));
    }
    return shapes.next_id++;
}

/* A new shape (refs 0) holding a copy of the fields of plain listpack lp. */
static struct shape *shape_create(uint64_t sig, uint64_t chain, const struct listpack *lp,
                                  size_t field_bytes)
{
    if (!shapes.ready) {
        dict_init(&shapes.by_sig, &sig_type);
        shapes.ready = true;
    }
    struct shape *s = em_malloc(sizeof(*s));
    s->fields = lp_alloc_raw(field_bytes, lp->count / 2);
    uint8_t *dst = s->fields->data;
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, lp_next(lp, p))) {
        dst = copy_entry(dst, p);
    }
    s->sig = sig;
    s->chain = chain;
    s->refs = 0;
    s->parked = false;
    s->id = shape_take_id();
    shapes.by_id[s->id] = s;

    struct dict_node *n = em_malloc(node_size(sizeof(sig), sizeof(s)));
    n->next = NULL;
    n->meta = 0;
    uint8_t *p = dict_node_set_key(n, (const char *)&sig, sizeof(sig));
    memcpy(p, &s, sizeof(s));
    dict_insert(&shapes.by_sig, dict_hash((const char *)&sig, sizeof(sig)), n);
    shapes.count++;
    return s;
}

static void shape_ref(struct shape *s)
{
    if (s->refs++ == 0) shapes.live++;
}

static void shape_destroy(struct shape *s)
{
    struct dict_pos pos;
    struct dict_node *n = dict_find(&shapes.by_sig, dict_hash((const char *)&s->sig, 8),
                                    (const char *)&s->sig, 8, &pos);
    hash_assert(n != NULL);
    em_free(dict_unlink(&shapes.by_sig, &pos));
    shapes.by_id[s->id] = NULL;
    shapes.free_ids[shapes.nfree++] = s->id;
    lp_destroy(s->fields);
    em_free(s);
    shapes.count--;
}

/* Drops a hash's reference. An unused shape is parked; parking one more
 * than the ring holds destroys the oldest parked shape still unused. */
static void shape_release(struct shape *s)
{
    if (--s->refs > 0) return;
    shapes.live--;
    if (s->parked) return;
    if (shapes.park_len == HASH_SHAPES_PARKED) {
        struct shape *old = shapes.parked[shapes.park_head];
        shapes.park_head = (shapes.park_head + 1) % HASH_SHAPES_PARKED;
        shapes.park_len--;
        old->parked = false;
        if (old->refs == 0) {
            shape_destroy(old);
            dict_maybe_shrink(&shapes.by_sig);
        }
    }
    shapes.parked[(shapes.park_head + shapes.park_len) % HASH_SHAPES_PARKED] = s;
    shapes.park_len++;
    s->parked = true;
}

void hash_teardown(void)
{
    if (!shapes.ready) return;
    for (uint32_t id = 0; id < shapes.next_id; id++) {
        struct shape *s = shapes.by_id[id];
        if (s != NULL && s->refs == 0) shape_destroy(s);
    }
    shapes.park_head = shapes.park_len = 0;
    for (uint32_t id = 0; id < shapes.next_id; id++) {
        struct shape *s = shapes.by_id[id];
        if (s != NULL) s->parked = false;
    }
    if (shapes.count > 0) return; /* hashes still use some */
    dict_deinit(&shapes.by_sig, NULL);
    em_free(shapes.by_id);
    em_free(shapes.free_ids);
    shapes.by_id = NULL;
    shapes.free_ids = NULL;
    shapes.cap = shapes.nfree = shapes.next_id = 0;
    shapes.ready = false;
}

size_t hash_shape_count(void)
{
    return shapes.live;
}

size_t hash_shape_total(void)
{
    return shapes.count;
}

/* ---- Listpack forms ----
 *
 * The container pointer of a shaped hash has its low bit set (allocations
 * are at least 8-byte aligned), so the form is known without reading the
 * listpack. The pointer stays opaque outside this file: object.c stores it
 * and hands it back to hash_free_container() and friends. */

static bool ptr_is_shaped(const void *ptr)
{
    return ((uintptr_t)ptr & 1) != 0;
}

static struct listpack *ptr_lp(const void *ptr)
{
    return (struct listpack *)((uintptr_t)ptr & ~(uintptr_t)1);
}

static void *lp_ptr(struct listpack *lp, bool shaped)
{
    return (void *)((uintptr_t)lp | (shaped ? 1 : 0));
}

/* The shape of a shaped listpack (its first entry is the id). */
static struct shape *lp_shape(const struct listpack *lp)
{
    struct lp_value id = lp_get(lp_first(lp));
    hash_assert(id.str == NULL && id.ll >= 0 && (uint64_t)id.ll < shapes.next_id);
    struct shape *s = shapes.by_id[id.ll];
    hash_assert(s != NULL);
    return s;
}

/* Fields in a listpack hash of either form. */
static size_t lp_hash_len_of(const struct listpack *lp, bool shaped)
{
    return shaped ? lp->count - 1 : lp->count / 2;
}

/* A listpack hash as the readers see it: the listpack, and the shared field
 * list for a shaped one (NULL when plain). */
struct view {
    struct listpack *lp;
    const struct listpack *fields;
};

static struct view view_of(const void *ptr)
{
    struct view v = {ptr_lp(ptr), NULL};
    if (ptr_is_shaped(ptr)) v.fields = lp_shape(v.lp)->fields;
    return v;
}

/* The first pair, or false if empty. */
static bool view_first(const struct view *v, struct hash_pos *pos)
{
    if (v->lp->count == 0) return false;
    if (v->fields != NULL) {
        pos->field = lp_first(v->fields);
        pos->value = lp_next(v->lp, lp_first(v->lp));
    } else {
        pos->field = lp_first(v->lp);
        pos->value = lp_next(v->lp, pos->field);
    }
    return true;
}

/* The pair after `pos`, or false at the end. */
static bool view_next(const struct view *v, struct hash_pos *pos)
{
    const uint8_t *next = lp_next(v->lp, pos->value);
    if (next == NULL) return false;
    if (v->fields != NULL) {
        pos->field = lp_next(v->fields, pos->field);
        pos->value = next;
    } else {
        pos->field = next;
        pos->value = lp_next(v->lp, next);
    }
    return true;
}

static bool view_find(const struct view *v, struct slice field, struct hash_pos *pos)
{
    if (v->fields == NULL) {
        const uint8_t *f = lp_find(v->lp, lp_first(v->lp), field, 1);
        if (f == NULL) return false;
        pos->field = f;
        pos->value = lp_next(v->lp, f);
        return true;
    }
    struct lp_needle needle;
    lp_needle_init(&needle, field);
    struct hash_pos p;
    for (bool more = view_first(v, &p); more; more = view_next(v, &p)) {
        if (lp_match(p.field, &needle)) {
            *pos = p;
            return true;
        }
    }
    return false;
}

/* The plain listpack of a shaped hash (the shaped one is freed, its shape
 * released). */
static struct listpack *unpack(const struct view *v)
{
    struct shape *s = lp_shape(v->lp);
    size_t payload = (v->fields->bytes - LP_HDR_SIZE) + (v->lp->bytes - LP_HDR_SIZE) -
                     lp_entry_len(lp_first(v->lp));
    struct listpack *out = lp_alloc_raw(payload, v->fields->count * 2);
    uint8_t *dst = out->data;
    struct hash_pos p;
    for (bool more = view_first(v, &p); more; more = view_next(v, &p)) {
        dst = copy_entry(dst, p.field);
        dst = copy_entry(dst, p.value);
    }
    lp_destroy(v->lp);
    shape_release(s);
    return out;
}

/* The shaped form of plain listpack lp with shape s (lp is freed). */
static struct listpack *pack(struct listpack *lp, struct shape *s)
{
    struct listpack *out = lp_create();
    out = lp_insert_ll(out, lp_end(out), s->id, NULL);
    size_t payload = out->bytes - LP_HDR_SIZE;
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, lp_next(lp, p))) {
        payload += lp_entry_len(lp_next(lp, p));
    }
    size_t at = out->bytes;
    hash_assert(LP_HDR_SIZE + payload <= UINT32_MAX);
    out = em_realloc(out, LP_HDR_SIZE + payload);
    out->bytes = (uint32_t)(LP_HDR_SIZE + payload);
    out->count = 1 + lp->count / 2;
    uint8_t *dst = (uint8_t *)out + at;
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, lp_next(lp, p))) {
        dst = copy_entry(dst, lp_next(lp, p));
    }
    shape_ref(s);
    lp_destroy(lp);
    return out;
}

/* Signatures: a chain over the fields' texts in order, then the count. A
 * shaped hash that gains a field extends its shape's chain by one step. */
#define SIG_SEED 0x6A09E667F3BCC908ULL

static uint64_t sig_mix(uint64_t h, uint64_t x)
{
    h ^= x;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

static uint64_t sig_chain(uint64_t chain, struct slice field)
{
    return sig_mix(chain, hash_bytes(field.ptr, field.len));
}

static uint64_t sig_final(uint64_t chain, size_t nfields)
{
    return sig_mix(chain, nfields);
}

/* The signature chain of a plain listpack's field list, and its size in
 * bytes. */
static uint64_t fields_chain(const struct listpack *lp, size_t *bytes)
{
    uint64_t chain = SIG_SEED;
    size_t total = 0;
    char buf[UTIL_LL_STR_SIZE];
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, lp_next(lp, p))) {
        struct lp_value v = lp_get(p);
        chain = sig_chain(chain, lp_value_slice(&v, buf));
        total += lp_entry_len(p);
    }
    *bytes = total;
    return chain;
}

static bool fields_equal(const struct listpack *fields, const struct listpack *lp)
{
    if (fields->count * 2 != lp->count) return false;
    const uint8_t *f = lp_first(fields);
    for (const uint8_t *p = lp_first(lp); p != NULL; p = lp_next(lp, lp_next(lp, p))) {
        if (!entries_equal(f, p)) return false;
        f = lp_next(fields, f);
    }
    return true;
}

/* After a change of a plain listpack's field list: packs it if the list is
 * a shape already, or makes it one if it was seen recently. Returns the
 * container pointer. */
static void *share_fields(struct listpack *lp)
{
    if (lp->count == 0 || lp->count / 2 > HASH_SHAPE_MAX_FIELDS) return lp;
    size_t bytes;
    uint64_t chain = fields_chain(lp, &bytes);
    if (bytes < HASH_SHAPE_MIN_BYTES) return lp;
    uint64_t sig = sig_final(chain, lp->count / 2);
    struct shape *s = shape_find(sig);
    if (s == NULL) {
        uint64_t *slot = &shapes.sketch[sig & (HASH_SKETCH_SLOTS - 1)];
        if (*slot != sig) {
            *slot = sig;
            return lp;
        }
        s = shape_create(sig, chain, lp, bytes);
    } else if (!fields_equal(s->fields, lp)) {
        return lp; /* a signature clash: this list stays plain */
    }
    return lp_ptr(pack(lp, s), true);
}

/* The shape whose fields are those of `s` followed by `field`, if there is
 * one. */
static struct shape *shape_extended(const struct shape *s, struct slice field)
{
    size_t n = s->fields->count + 1;
    if (n > HASH_SHAPE_MAX_FIELDS) return NULL;
    struct shape *t = shape_find(sig_final(sig_chain(s->chain, field), n));
    if (t == NULL || t->fields->count != n) return NULL;
    const uint8_t *q = lp_first(t->fields);
    for (const uint8_t *p = lp_first(s->fields); p != NULL; p = lp_next(s->fields, p)) {
        if (!entries_equal(p, q)) return NULL;
        q = lp_next(t->fields, q);
    }
    struct lp_needle needle;
    lp_needle_init(&needle, field);
    return lp_match(q, &needle) ? t : NULL;
}

/* The plain listpack of any listpack hash, for a change of its field list. */
static struct listpack *plain_of(void *ptr)
{
    if (!ptr_is_shaped(ptr)) return ptr;
    struct view v = view_of(ptr);
    return unpack(&v);
}

/* ---- Life cycle ---- */

void hash_init(struct hash *h)
{
    h->ptr = lp_create();
    h->enc = OBJ_ENC_LISTPACK;
}

void hash_free_container(void *ptr, enum obj_enc enc)
{
    if (ptr == NULL) return;
    if (enc == OBJ_ENC_HT) {
        table_destroy(ptr);
        return;
    }
    struct listpack *lp = ptr_lp(ptr);
    if (ptr_is_shaped(ptr)) shape_release(lp_shape(lp));
    lp_destroy(lp);
}

void hash_deinit(struct hash *h)
{
    hash_free_container(h->ptr, h->enc);
    h->ptr = NULL;
}

void *hash_dup_container(const void *ptr, enum obj_enc enc)
{
    if (enc == OBJ_ENC_HT) {
        struct dict *src = (struct dict *)ptr;
        struct dict *d = table_create();
        struct dict_iter it;
        dict_iter_init(&it, src);
        for (struct dict_node *n; (n = dict_iter_next(&it)) != NULL;) {
            table_insert(d, dict_node_key(n), node_value(n));
        }
        dict_iter_deinit(&it);
        return d;
    }
    const struct listpack *lp = ptr_lp(ptr);
    struct listpack *copy = em_malloc(lp->bytes);
    memcpy(copy, lp, lp->bytes);
    if (ptr_is_shaped(ptr)) shape_ref(lp_shape(copy));
    return lp_ptr(copy, ptr_is_shaped(ptr));
}

size_t hash_container_size(const void *ptr, enum obj_enc enc)
{
    if (enc != OBJ_ENC_HT) return mem_usable_size(ptr_lp(ptr));
    struct dict *d = (struct dict *)ptr;
    size_t bytes = mem_usable_size(d) + dict_overhead(d);
    struct dict_iter it;
    dict_iter_init(&it, d);
    for (struct dict_node *n; (n = dict_iter_next(&it)) != NULL;) {
        bytes += mem_usable_size(n);
    }
    dict_iter_deinit(&it);
    return bytes;
}

/* ---- Reading ---- */

size_t hash_len(const struct hash *h)
{
    if (h->enc == OBJ_ENC_HT) return dict_size(h->ptr);
    return lp_hash_len_of(ptr_lp(h->ptr), ptr_is_shaped(h->ptr));
}

bool hash_find(struct hash *h, struct slice field, struct hash_pos *pos)
{
    struct hash_pos p;
    if (h->enc == OBJ_ENC_HT) {
        struct dict_node *n =
            dict_find(h->ptr, dict_hash(field.ptr, field.len), field.ptr, field.len, NULL);
        if (n == NULL) return false;
        p.field = n;
        p.value = NULL;
    } else {
        struct view v = view_of(h->ptr);
        if (!view_find(&v, field, &p)) return false;
    }
    if (pos != NULL) *pos = p;
    return true;
}

struct slice hash_pos_field(const struct hash *h, struct hash_pos pos, char *buf)
{
    if (h->enc == OBJ_ENC_HT) return dict_node_key(pos.field);
    struct lp_value v = lp_get(pos.field);
    return lp_value_slice(&v, buf);
}

struct slice hash_pos_value(const struct hash *h, struct hash_pos pos, char *buf)
{
    if (h->enc == OBJ_ENC_HT) return node_value(pos.field);
    struct lp_value v = lp_get(pos.value);
    return lp_value_slice(&v, buf);
}

bool hash_get(struct hash *h, struct slice field, struct slice *val, char *buf)
{
    struct hash_pos pos;
    if (!hash_find(h, field, &pos)) return false;
    *val = hash_pos_value(h, pos, buf);
    return true;
}

bool hash_is_shared(const struct hash *h)
{
    return h->enc == OBJ_ENC_LISTPACK && ptr_is_shaped(h->ptr);
}

/* ---- Conversion ---- */

void hash_convert_to_table(struct hash *h)
{
    if (h->enc == OBJ_ENC_HT) return;
    struct view v = view_of(h->ptr);
    struct dict *d = table_create();
    char fbuf[UTIL_LL_STR_SIZE], vbuf[UTIL_LL_STR_SIZE];
    struct hash_pos p;
    for (bool more = view_first(&v, &p); more; more = view_next(&v, &p)) {
        struct lp_value f = lp_get(p.field), val = lp_get(p.value);
        table_insert(d, lp_value_slice(&f, fbuf), lp_value_slice(&val, vbuf));
    }
    hash_free_container(h->ptr, OBJ_ENC_LISTPACK);
    h->ptr = d;
    h->enc = OBJ_ENC_HT;
}

void hash_prepare_write(struct hash *h, const struct slice *args, size_t n,
                        const struct hash_limits *lim)
{
    if (h->enc != OBJ_ENC_LISTPACK) return;
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (args[i].len > lim->max_value) {
            hash_convert_to_table(h);
            return;
        }
        sum += args[i].len;
    }
    if (lp_bytes(ptr_lp(h->ptr)) + sum > HASH_LP_SAFETY_SIZE) hash_convert_to_table(h);
}

/* ---- Changing ---- */

static bool table_set(struct dict *d, struct slice field, struct slice val)
{
    uint64_t hv = dict_hash(field.ptr, field.len);
    struct dict_pos pos;
    struct dict_node *n = dict_find(d, hv, field.ptr, field.len, &pos);
    if (n == NULL) {
        dict_insert(d, hv, node_create(field, val));
        return true;
    }
    /* In place while the new value fits the node's block and does not leave
     * most of it empty; otherwise a node of the right size takes its place. */
    size_t need = node_size(field.len, val.len);
    size_t have = mem_usable_size(n);
    if (need > have || need < have / 2) {
        struct dict_node *fresh = node_create(field, val);
        dict_replace(d, &pos, fresh);
        em_free(n);
        return false;
    }
    n->meta = (uint32_t)val.len;
    if (val.len > 0) memcpy(dict_node_payload(n), val.ptr, val.len);
    return false;
}

bool hash_set(struct hash *h, struct slice field, struct slice val, const struct hash_limits *lim)
{
    if (h->enc == OBJ_ENC_LISTPACK &&
        (field.len > lim->max_value || val.len > lim->max_value ||
         lp_bytes(ptr_lp(h->ptr)) + field.len + val.len > HASH_LP_SAFETY_SIZE)) {
        hash_convert_to_table(h);
    }
    if (h->enc == OBJ_ENC_HT) return table_set(h->ptr, field, val);

    struct view v = view_of(h->ptr);
    struct hash_pos pos;
    if (view_find(&v, field, &pos)) {
        /* The field list stays: the value changes where it is. */
        uint8_t *at = (uint8_t *)pos.value;
        h->ptr = lp_ptr(lp_replace(v.lp, &at, val), v.fields != NULL);
        return false;
    }
    if (v.fields != NULL && lp_hash_len_of(v.lp, true) < lim->max_entries) {
        struct shape *s = lp_shape(v.lp);
        struct shape *t = shape_extended(s, field);
        if (t != NULL) {
            /* Straight to the longer shape: a new id, one more value. */
            uint8_t *id = lp_first(v.lp);
            struct listpack *lp = lp_replace_ll(v.lp, &id, t->id);
            lp = lp_append(lp, val);
            shape_ref(t);
            shape_release(s);
            h->ptr = lp_ptr(lp, true);
            return true;
        }
    }
    struct listpack *lp = plain_of(h->ptr);
    lp = lp_append(lp, field);
    lp = lp_append(lp, val);
    h->ptr = lp;
    if (lp->count / 2 > lim->max_entries) hash_convert_to_table(h);
    return true;
}

bool hash_delete(struct hash *h, struct slice field)
{
    if (h->enc == OBJ_ENC_HT) {
        struct dict *d = h->ptr;
        struct dict_pos pos;
        struct dict_node *n =
            dict_find(d, dict_hash(field.ptr, field.len), field.ptr, field.len, &pos);
        if (n == NULL) return false;
        em_free(dict_unlink(d, &pos));
        dict_maybe_shrink(d);
        return true;
    }
    struct view v = view_of(h->ptr);
    struct hash_pos pos;
    if (!view_find(&v, field, &pos)) return false;
    struct listpack *lp = v.lp;
    if (v.fields != NULL) {
        lp = unpack(&v);
        struct view plain = {lp, NULL};
        bool found = view_find(&plain, field, &pos);
        hash_assert(found);
    }
    h->ptr = lp_delete_range(lp, (uint8_t *)pos.field, 2);
    return true;
}

void hash_compact(struct hash *h)
{
    if (h->enc == OBJ_ENC_LISTPACK && !ptr_is_shaped(h->ptr)) h->ptr = share_fields(h->ptr);
}

/* ---- Walking ---- */

void hash_iter_init(struct hash_iter *it, struct hash *h)
{
    it->h = h;
    it->f = it->v = NULL;
    if (h->enc == OBJ_ENC_HT) {
        dict_iter_init(&it->di, h->ptr);
        return;
    }
    struct view v = view_of(h->ptr);
    struct hash_pos p;
    if (view_first(&v, &p)) {
        it->f = p.field;
        it->v = p.value;
    }
}

bool hash_iter_next_pos(struct hash_iter *it, struct hash_pos *pos)
{
    if (it->h->enc == OBJ_ENC_HT) {
        struct dict_node *n = dict_iter_next(&it->di);
        if (n == NULL) return false;
        pos->field = n;
        pos->value = NULL;
        return true;
    }
    if (it->f == NULL) return false;
    pos->field = it->f;
    pos->value = it->v;
    struct view v = view_of(it->h->ptr);
    struct hash_pos next = *pos;
    if (view_next(&v, &next)) {
        it->f = next.field;
        it->v = next.value;
    } else {
        it->f = it->v = NULL;
    }
    return true;
}

bool hash_iter_next(struct hash_iter *it, struct slice *field, struct slice *val)
{
    struct hash_pos pos;
    if (!hash_iter_next_pos(it, &pos)) return false;
    *field = hash_pos_field(it->h, pos, it->fbuf);
    *val = hash_pos_value(it->h, pos, it->vbuf);
    return true;
}

void hash_iter_deinit(struct hash_iter *it)
{
    if (it->h->enc == OBJ_ENC_HT) dict_iter_deinit(&it->di);
}

struct scan_ctx {
    hash_scan_fn *fn;
    void *arg;
};

static void scan_node(struct dict_node *n, void *arg)
{
    struct scan_ctx *ctx = arg;
    ctx->fn(dict_node_key(n), node_value(n), ctx->arg);
}

unsigned long long hash_scan(struct hash *h, unsigned long long cursor, hash_scan_fn *fn, void *arg)
{
    if (h->enc == OBJ_ENC_HT) {
        struct scan_ctx ctx = {fn, arg};
        return dict_scan(h->ptr, cursor, scan_node, &ctx);
    }
    struct hash_iter it;
    struct slice f, v;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it, &f, &v))
        fn(f, v, arg);
    hash_iter_deinit(&it);
    return 0;
}

/* ---- Random pairs ---- */

/* Redis's dictGetFairRandomKey. dict_random() picks a bucket, then a node
 * in its chain, which favours nodes that are alone in their bucket; here a
 * run of consecutive buckets from a random one is gathered (up to
 * FAIR_SAMPLE nodes) and one of them is picked, so the chain a node sits in
 * matters much less. */
#define FAIR_SAMPLE 20

static struct dict_node *table_random(struct dict *d, struct rng *r)
{
    const struct dict_table *t = &d->t[0];
    if (dict_is_rehashing(d) || t->size == 0) return dict_random(d, r);
    struct dict_node *sample[FAIR_SAMPLE];
    int n = 0;
    size_t i = (size_t)rng_below(r, t->size);
    for (size_t steps = 0; steps < t->size && steps < FAIR_SAMPLE * 10 && n < FAIR_SAMPLE;
         steps++) {
        for (struct dict_node *nd = t->buckets[i]; nd != NULL && n < FAIR_SAMPLE; nd = nd->next) {
            sample[n++] = nd;
        }
        i = (i + 1) & (t->size - 1);
    }
    if (n == 0) return dict_random(d, r);
    return sample[rng_below(r, (uint64_t)n)];
}

struct pick {
    size_t index; /* pair index in the hash */
    size_t order; /* where it goes in the output */
};

static int pick_cmp(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Fills out[] with the pairs at the picked indexes (sorted by index), in
 * one walk of the listpack. */
static void view_fetch_picks(const struct view *v, const struct pick *picks, size_t n,
                             struct hash_pos *out)
{
    struct hash_pos p;
    size_t index = 0, k = 0;
    for (bool more = view_first(v, &p); more && k < n; more = view_next(v, &p)) {
        while (k < n && picks[k].index == index)
            out[picks[k++].order] = p;
        index++;
    }
    hash_assert(k == n);
}

void hash_random_pairs(struct hash *h, struct rng *r, size_t n, struct hash_pos *out)
{
    if (n == 0) return;
    size_t len = hash_len(h);
    hash_assert(len > 0);
    if (h->enc == OBJ_ENC_HT) {
        for (size_t i = 0; i < n; i++) {
            out[i].field = table_random(h->ptr, r);
            out[i].value = NULL;
        }
        return;
    }
    /* As Redis's lpRandomPairs: draw indexes, sort them, fetch them in one
     * walk, and put each pair back where it was drawn. */
    struct pick *picks = em_malloc(n * sizeof(*picks));
    for (size_t i = 0; i < n; i++) {
        picks[i].index = rng_below(r, len);
        picks[i].order = i;
    }
    qsort(picks, n, sizeof(*picks), pick_cmp);
    struct view v = view_of(h->ptr);
    view_fetch_picks(&v, picks, n, out);
    em_free(picks);
}

/* A set of node pointers (open addressing), for distinct table picks. */
struct ptr_set {
    const void **slots;
    size_t mask;
};

static bool ptr_set_add(struct ptr_set *s, const void *p)
{
    size_t i = (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL) & s->mask;
    while (s->slots[i] != NULL) {
        if (s->slots[i] == p) return false;
        i = (i + 1) & s->mask;
    }
    s->slots[i] = p;
    return true;
}

static void table_random_unique(struct dict *d, struct rng *r, size_t n, struct hash_pos *out)
{
    size_t len = dict_size(d);
    if (n * 3 > len) {
        /* Many of them: take every node and keep a random n (a partial
         * Fisher-Yates shuffle), as Redis's "copy and remove" case. */
        struct dict_node **all = em_malloc(len * sizeof(*all));
        size_t k = 0;
        struct dict_iter it;
        dict_iter_init(&it, d);
        for (struct dict_node *nd; (nd = dict_iter_next(&it)) != NULL;)
            all[k++] = nd;
        dict_iter_deinit(&it);
        for (size_t i = 0; i < n; i++) {
            size_t j = i + rng_below(r, len - i);
            struct dict_node *t = all[i];
            all[i] = all[j];
            all[j] = t;
            out[i].field = all[i];
            out[i].value = NULL;
        }
        em_free(all);
        return;
    }
    /* Few of them: draw until n distinct (expected < 1.5 n draws). */
    size_t size = 16;
    while (size < n * 2)
        size <<= 1;
    struct ptr_set seen = {em_calloc(size, sizeof(void *)), size - 1};
    for (size_t k = 0; k < n;) {
        struct dict_node *nd = table_random(d, r);
        if (!ptr_set_add(&seen, nd)) continue;
        out[k].field = nd;
        out[k].value = NULL;
        k++;
    }
    em_free(seen.slots);
}

void hash_random_unique(struct hash *h, struct rng *r, size_t n, struct hash_pos *out)
{
    size_t len = hash_len(h);
    hash_assert(n <= len);
    if (h->enc == OBJ_ENC_HT) {
        table_random_unique(h->ptr, r, n, out);
        return;
    }
    /* Selection sampling (Knuth's algorithm S, as Redis's
     * lpRandomPairsUnique): each pair is taken with probability
     * wanted/remaining, which gives n distinct pairs in hash order. */
    struct view v = view_of(h->ptr);
    struct hash_pos p;
    size_t k = 0, seen = 0;
    for (bool more = view_first(&v, &p); more && k < n; more = view_next(&v, &p)) {
        if (rng_below(r, len - seen) < n - k) out[k++] = p;
        seen++;
    }
    hash_assert(k == n);
}

/* ---- Checks ---- */

bool hash_validate(const struct hash *h)
{
    if (h->enc == OBJ_ENC_HT) return true;
    const struct listpack *lp = ptr_lp(h->ptr);
    if (!lp_validate(lp)) return false;
    if (!ptr_is_shaped(h->ptr)) return (lp->count & 1) == 0;
    if (lp->count < 2) return false;
    struct lp_value id = lp_get(lp_first(lp));
    if (id.str != NULL || id.ll < 0 || (uint64_t)id.ll >= shapes.next_id) return false;
    const struct shape *s = shapes.by_id[id.ll];
    if (s == NULL || s->refs == 0 || s->id != id.ll) return false;
    return lp_validate(s->fields) && s->fields->count + 1 == lp->count;
}
