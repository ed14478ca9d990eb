/* listpack.c: the packed sequence (see listpack.h for the layout).
 *
 * Every change is one splice: the block is resized around the byte range
 * that changes (grown before moving the tail when it gets longer, shrunk
 * after when it gets shorter), then the new entry is written into the gap.
 * Entries are self-contained (a backlen describes only its own entry), so a
 * splice never has to rewrite a neighbour, and splitting or joining two
 * listpacks is a plain copy of entry bytes. Integers are stored little
 * endian, byte by byte, so the format does not depend on the host. */
#include "ember/listpack.h"

#include "ember/mem.h"

#include <stdlib.h>
#include <string.h>

#define ENC_7BIT_UINT      0x00 /* 0xxxxxxx */
#define ENC_6BIT_STR       0x80 /* 10xxxxxx */
#define ENC_13BIT_INT      0xC0 /* 110xxxxx */
#define ENC_12BIT_STR      0xE0 /* 1110xxxx */
#define ENC_32BIT_STR      0xF0
#define ENC_16BIT_INT      0xF1
#define ENC_24BIT_INT      0xF2
#define ENC_32BIT_INT      0xF3
#define ENC_64BIT_INT      0xF4
#define ENC_HDR_MAX        9 /* the longest encoding + integer data */
#define BACKLEN_MAX        5
#define STR_6BIT_MAX       63
#define STR_12BIT_MAX      4095
#define INT_LIKE_MAX_CHARS 20 /* "-9223372036854775808" */

/* ---- Small byte helpers ---- */

static void store_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Sign-extends the low `bits` bits of u (two's complement, any width up
 * to 64, without signed overflow). */
static long long sign_extend(uint64_t u, int bits)
{
    if (bits < 64) {
        uint64_t mask = (1ULL << bits) - 1;
        u &= mask;
        if (u >> (bits - 1)) u |= ~mask;
    }
    long long v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

/* ---- Backlen: the entry's "encoding + data" length, read backwards ---- */

static size_t backlen_size(size_t n)
{
    if (n < 128) return 1;
    if (n < 16384) return 2;
    if (n < 2097152) return 3;
    if (n < 268435456) return 4;
    return 5;
}

/* Writes the backlen of `n` at dst: the most significant 7-bit group first,
 * every byte after the first flagged with the high bit. */
static void backlen_write(uint8_t *dst, size_t n)
{
    size_t k = backlen_size(n);
    dst[0] = (uint8_t)(n >> (7 * (k - 1)));
    for (size_t i = 1; i < k; i++)
        dst[i] = (uint8_t)(((n >> (7 * (k - 1 - i))) & 127) | 128);
}

/* Reads the backlen whose last byte is `last`, not going below `floor`.
 * Returns the encoded length and sets *k to the backlen's own size, or
 * returns SIZE_MAX if the bytes run into `floor`. */
static size_t backlen_read(const uint8_t *last, const uint8_t *floor, size_t *k)
{
    size_t v = 0;
    int shift = 0;
    const uint8_t *q = last;
    *k = 0;
    for (;;) {
        v |= (size_t)(*q & 127) << shift;
        if (!(*q & 128)) break;
        shift += 7;
        if (q == floor || shift > 28) return SIZE_MAX;
        q--;
    }
    *k = (size_t)(last - q) + 1;
    return v;
}

/* ---- Encodings ---- */

/* Length of the "encoding + data" part of the entry at p. */
static size_t head_len(const uint8_t *p)
{
    uint8_t b = p[0];
    if (b < 0x80) return 1;
    if ((b & 0xC0) == ENC_6BIT_STR) return 1 + (size_t)(b & 0x3F);
    if ((b & 0xE0) == ENC_13BIT_INT) return 2;
    if ((b & 0xF0) == ENC_12BIT_STR) return 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case ENC_32BIT_STR:
        return 5 + (size_t)load_le(p + 1, 4);
    case ENC_16BIT_INT:
        return 3;
    case ENC_24BIT_INT:
        return 4;
    case ENC_32BIT_INT:
        return 5;
    case ENC_64BIT_INT:
        return 9;
    }
    return 0; /* not an encoding we write */
}

size_t lp_entry_len(const uint8_t *p)
{
    size_t h = head_len(p);
    return h + backlen_size(h);
}

/* Writes the smallest integer encoding of v into buf; returns its size. */
static size_t encode_int(uint8_t *buf, long long v)
{
    if (v >= 0 && v <= 127) {
        buf[0] = (uint8_t)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        uint64_t u = (uint64_t)v & 0x1FFF;
        buf[0] = (uint8_t)(ENC_13BIT_INT | (u >> 8));
        buf[1] = (uint8_t)u;
        return 2;
    }
    int n;
    if (v >= INT16_MIN && v <= INT16_MAX) {
        buf[0] = ENC_16BIT_INT;
        n = 2;
    } else if (v >= -(1LL << 23) && v < (1LL << 23)) {
        buf[0] = ENC_24BIT_INT;
        n = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        buf[0] = ENC_32BIT_INT;
        n = 4;
    } else {
        buf[0] = ENC_64BIT_INT;
        n = 8;
    }
    store_le(buf + 1, (uint64_t)v, n);
    return 1 + (size_t)n;
}

/* Writes a string header for `len` bytes into buf; returns its size. */
static size_t encode_str_hdr(uint8_t *buf, size_t len)
{
    if (len <= STR_6BIT_MAX) {
        buf[0] = (uint8_t)(ENC_6BIT_STR | len);
        return 1;
    }
    if (len <= STR_12BIT_MAX) {
        buf[0] = (uint8_t)(ENC_12BIT_STR | (len >> 8));
        buf[1] = (uint8_t)len;
        return 2;
    }
    buf[0] = ENC_32BIT_STR;
    store_le(buf + 1, len, 4);
    return 5;
}

/* An entry about to be written: its header (with integer data inline) and
 * the string bytes that follow, if any. */
struct pending {
    uint8_t hdr[ENC_HDR_MAX];
    size_t hlen;
    const char *data;
    size_t dlen;
};

static bool int_like(struct slice s, long long *v)
{
    return s.len > 0 && s.len <= INT_LIKE_MAX_CHARS && str_to_ll(s.ptr, s.len, v);
}

static void pending_from_slice(struct pending *e, struct slice s)
{
    long long v;
    if (int_like(s, &v)) {
        e->hlen = encode_int(e->hdr, v);
        e->data = NULL;
        e->dlen = 0;
    } else {
        e->hlen = encode_str_hdr(e->hdr, s.len);
        e->data = s.ptr;
        e->dlen = s.len;
    }
}

static void pending_from_ll(struct pending *e, long long v)
{
    e->hlen = encode_int(e->hdr, v);
    e->data = NULL;
    e->dlen = 0;
}

static size_t pending_size(const struct pending *e)
{
    size_t h = e->hlen + e->dlen;
    return h + backlen_size(h);
}

static void pending_write(uint8_t *dst, const struct pending *e)
{
    memcpy(dst, e->hdr, e->hlen);
    if (e->dlen > 0) memcpy(dst + e->hlen, e->data, e->dlen);
    backlen_write(dst + e->hlen + e->dlen, e->hlen + e->dlen);
}

size_t lp_entry_size(struct slice s)
{
    struct pending e;
    pending_from_slice(&e, s);
    return pending_size(&e);
}

size_t lp_entry_size_ll(long long v)
{
    struct pending e;
    pending_from_ll(&e, v);
    return pending_size(&e);
}

/* ---- Values ---- */

struct lp_value lp_get(const uint8_t *p)
{
    struct lp_value v = {NULL, 0, 0};
    uint8_t b = p[0];
    if (b < 0x80) {
        v.ll = b;
    } else if ((b & 0xC0) == ENC_6BIT_STR) {
        v.str = (const char *)p + 1;
        v.len = b & 0x3F;
    } else if ((b & 0xE0) == ENC_13BIT_INT) {
        v.ll = sign_extend((uint64_t)(b & 0x1F) << 8 | p[1], 13);
    } else if ((b & 0xF0) == ENC_12BIT_STR) {
        v.str = (const char *)p + 2;
        v.len = (size_t)(b & 0x0F) << 8 | p[1];
    } else if (b == ENC_32BIT_STR) {
        v.str = (const char *)p + 5;
        v.len = (size_t)load_le(p + 1, 4);
    } else {
        int n = b == ENC_16BIT_INT ? 2 : b == ENC_24BIT_INT ? 3 : b == ENC_32BIT_INT ? 4 : 8;
        v.ll = sign_extend(load_le(p + 1, n), 8 * n);
    }
    return v;
}

struct slice lp_value_slice(const struct lp_value *v, char *buf)
{
    if (v->str != NULL) return (struct slice){v->str, v->len};
    int n = ll_to_str(buf, UTIL_LL_STR_SIZE, v->ll);
    return (struct slice){buf, (size_t)n};
}

void lp_needle_init(struct lp_needle *n, struct slice s)
{
    n->s = s;
    n->is_int = int_like(s, &n->ll);
}

bool lp_match(const uint8_t *p, const struct lp_needle *n)
{
    struct lp_value v = lp_get(p);
    /* Encodings are canonical: an integer-like string is never stored as a
     * string, so a kind mismatch means the values differ. */
    if (v.str == NULL) return n->is_int && v.ll == n->ll;
    return !n->is_int && v.len == n->s.len && (v.len == 0 || memcmp(v.str, n->s.ptr, v.len) == 0);
}

/* ---- Creation and walking ---- */

struct listpack *lp_create(void)
{
    struct listpack *lp = em_malloc(LP_HDR_SIZE);
    lp->bytes = LP_HDR_SIZE;
    lp->count = 0;
    return lp;
}

void lp_destroy(struct listpack *lp)
{
    em_free(lp);
}

struct listpack *lp_dup(const struct listpack *lp)
{
    struct listpack *copy = em_malloc(lp->bytes);
    memcpy(copy, lp, lp->bytes);
    return copy;
}

uint8_t *lp_first(const struct listpack *lp)
{
    return lp->count == 0 ? NULL : (uint8_t *)lp->data;
}

uint8_t *lp_last(const struct listpack *lp)
{
    return lp->count == 0 ? NULL : lp_prev(lp, lp_end(lp));
}

uint8_t *lp_next(const struct listpack *lp, const uint8_t *p)
{
    const uint8_t *q = p + lp_entry_len(p);
    return q >= lp_end(lp) ? NULL : (uint8_t *)q;
}

uint8_t *lp_prev(const struct listpack *lp, const uint8_t *p)
{
    if (p <= lp->data) return NULL;
    size_t k;
    size_t h = backlen_read(p - 1, lp->data, &k);
    return (uint8_t *)p - k - h;
}

uint8_t *lp_seek(const struct listpack *lp, long long index)
{
    long long n = lp->count;
    if (index < 0) index += n;
    if (index < 0 || index >= n) return NULL;
    uint8_t *p;
    if (index <= n / 2) {
        p = lp_first(lp);
        while (index-- > 0)
            p = lp_next(lp, p);
    } else {
        p = lp_last(lp);
        for (long long i = n - 1; i > index; i--)
            p = lp_prev(lp, p);
    }
    return p;
}

uint8_t *lp_find(const struct listpack *lp, const uint8_t *p, struct slice s, unsigned skip)
{
    struct lp_needle n;
    lp_needle_init(&n, s);
    while (p != NULL) {
        if (lp_match(p, &n)) return (uint8_t *)p;
        for (unsigned i = 0; i < skip && p != NULL; i++)
            p = lp_next(lp, p);
        if (p != NULL) p = lp_next(lp, p);
    }
    return NULL;
}

/* ---- Changing ---- */

/* Replaces `del` bytes at offset `off` with a gap of `add` bytes (contents
 * undefined) and fixes `bytes`; returns the listpack, which may move. */
static struct listpack *splice(struct listpack *lp, size_t off, size_t del, size_t add)
{
    size_t old = lp->bytes;
    size_t len = old - del + add;
    if (len > UINT32_MAX) abort(); /* callers convert long before 4 GB */
    if (add > del) lp = em_realloc(lp, len);
    uint8_t *base = (uint8_t *)lp;
    if (add != del) memmove(base + off + add, base + off + del, old - off - del);
    if (add < del) lp = em_realloc(lp, len);
    lp->bytes = (uint32_t)len;
    return lp;
}

static struct listpack *insert_pending(struct listpack *lp, uint8_t *at, const struct pending *e,
                                       uint8_t **inserted)
{
    size_t off = (size_t)(at - (uint8_t *)lp);
    size_t size = pending_size(e);
    lp = splice(lp, off, 0, size);
    pending_write((uint8_t *)lp + off, e);
    lp->count++;
    if (inserted != NULL) *inserted = (uint8_t *)lp + off;
    return lp;
}

struct listpack *lp_insert(struct listpack *lp, uint8_t *at, struct slice s, uint8_t **inserted)
{
    struct pending e;
    pending_from_slice(&e, s);
    return insert_pending(lp, at, &e, inserted);
}

struct listpack *lp_insert_ll(struct listpack *lp, uint8_t *at, long long v, uint8_t **inserted)
{
    struct pending e;
    pending_from_ll(&e, v);
    return insert_pending(lp, at, &e, inserted);
}

struct listpack *lp_append(struct listpack *lp, struct slice s)
{
    return lp_insert(lp, lp_end(lp), s, NULL);
}

struct listpack *lp_prepend(struct listpack *lp, struct slice s)
{
    return lp_insert(lp, lp->data, s, NULL);
}

static struct listpack *replace_pending(struct listpack *lp, uint8_t **p, const struct pending *e)
{
    size_t off = (size_t)(*p - (uint8_t *)lp);
    lp = splice(lp, off, lp_entry_len(*p), pending_size(e));
    pending_write((uint8_t *)lp + off, e);
    *p = (uint8_t *)lp + off;
    return lp;
}

struct listpack *lp_replace(struct listpack *lp, uint8_t **p, struct slice s)
{
    struct pending e;
    pending_from_slice(&e, s);
    return replace_pending(lp, p, &e);
}

struct listpack *lp_replace_ll(struct listpack *lp, uint8_t **p, long long v)
{
    struct pending e;
    pending_from_ll(&e, v);
    return replace_pending(lp, p, &e);
}

struct listpack *lp_delete(struct listpack *lp, uint8_t **p)
{
    size_t off = (size_t)(*p - (uint8_t *)lp);
    lp = splice(lp, off, lp_entry_len(*p), 0);
    lp->count--;
    *p = off < lp->bytes ? (uint8_t *)lp + off : NULL;
    return lp;
}

struct listpack *lp_delete_range(struct listpack *lp, uint8_t *p, size_t n)
{
    if (p == NULL || n == 0) return lp;
    size_t off = (size_t)(p - (uint8_t *)lp);
    const uint8_t *end = lp_end(lp);
    const uint8_t *q = p;
    size_t k = 0;
    while (k < n && q < end) {
        q += lp_entry_len(q);
        k++;
    }
    lp = splice(lp, off, (size_t)(q - p), 0);
    lp->count -= (uint32_t)k;
    return lp;
}

struct listpack *lp_merge(struct listpack *a, struct listpack *b)
{
    size_t add = b->bytes - LP_HDR_SIZE;
    if (add > 0) {
        size_t off = a->bytes;
        a = splice(a, off, 0, add);
        memcpy((uint8_t *)a + off, b->data, add);
        a->count += b->count;
    }
    lp_destroy(b);
    return a;
}

struct listpack *lp_split(struct listpack **lp, uint8_t *p)
{
    struct listpack *a = *lp;
    size_t off = (size_t)(p - (uint8_t *)a);
    size_t tail = a->bytes - off;
    uint32_t moved = 0;
    for (const uint8_t *q = p; q < lp_end(a); q += lp_entry_len(q))
        moved++;
    struct listpack *b = em_malloc(LP_HDR_SIZE + tail);
    b->bytes = (uint32_t)(LP_HDR_SIZE + tail);
    b->count = moved;
    memcpy(b->data, p, tail);
    a->count -= moved;
    *lp = splice(a, off, tail, 0);
    return b;
}

/* ---- Validation ---- */

/* Checks the entry at p fits before `end` and that its backlen agrees;
 * returns its length or 0 if broken. */
static size_t checked_entry_len(const uint8_t *p, const uint8_t *end)
{
    size_t room = (size_t)(end - p);
    uint8_t b = p[0];
    size_t need = (b & 0xF0) == ENC_12BIT_STR ? 2 : b == ENC_32BIT_STR ? 5 : 1;
    if (room < need) return 0;
    size_t h = head_len(p);
    if (h == 0 || h > room) return 0;
    size_t len = h + backlen_size(h);
    if (len > room) return 0;
    size_t k;
    if (backlen_read(p + len - 1, p + h, &k) != h || h + k != len) return 0;
    return len;
}

bool lp_validate(const struct listpack *lp)
{
    if (lp->bytes < LP_HDR_SIZE) return false;
    const uint8_t *end = lp_end(lp);
    uint32_t n = 0;
    const uint8_t *p = lp->data;
    while (p < end) {
        size_t len = checked_entry_len(p, end);
        if (len == 0) return false;
        p += len;
        n++;
    }
    if (n != lp->count) return false;
    /* Backwards, every step must land on the start of an entry we met. */
    uint32_t back = 0;
    for (const uint8_t *q = lp_last(lp); q != NULL; q = lp_prev(lp, q)) {
        if (q < lp->data || q + lp_entry_len(q) > end) return false;
        if (++back > n) return false;
    }
    return back == n;
}
