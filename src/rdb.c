/* rdb.c: the RDB version 10 codec (see rdb.h).
 *
 * Writing: every byte goes through out_write(), which keeps the running
 * CRC64 and flushes the buffer to the FILE (if any) past 64 KB.
 *
 * Reading: a cursor over the whole image; every read checks the bounds, so
 * a truncated or corrupt file gives an error, never a read past the end.
 * Values are rebuilt with the containers' public functions under the
 * configured encoding limits (server.cfg), then inserted with db_insert(). */
#include "ember/rdb.h"

#include "ember/db.h"
#include "ember/dict.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/server.h"
#include "ember/set.h"
#include "ember/util.h"
#include "ember/zset.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- CRC64 (Jones polynomial, reflected) ---- */

#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc_table[8][256];
static bool crc_ready;

static void crc_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc_table[0][i] = c;
    }
    for (int i = 0; i < 256; i++) {
        uint64_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xff] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
    crc_ready = true;
}

uint64_t rdb_crc64(uint64_t crc, const void *p, size_t n)
{
    if (!crc_ready) crc_init();
    const uint8_t *s = p;
    /* Slicing by 8: eight bytes per step. */
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        crc ^= w; /* little-endian hosts only (x86-64, arm64) */
        crc = crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
              crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][(crc >> 24) & 0xff] ^
              crc_table[3][(crc >> 32) & 0xff] ^ crc_table[2][(crc >> 40) & 0xff] ^
              crc_table[1][(crc >> 48) & 0xff] ^ crc_table[0][crc >> 56];
        s += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}

/* ---- Format constants (Redis's rdb.h) ---- */

enum {
    RDB_TYPE_STRING = 0,
    RDB_TYPE_LIST = 1,
    RDB_TYPE_SET = 2,
    RDB_TYPE_ZSET = 3,
    RDB_TYPE_HASH = 4,
    RDB_TYPE_ZSET_2 = 5,
    RDB_TYPE_HASH_ZIPMAP = 9,
    RDB_TYPE_LIST_ZIPLIST = 10,
    RDB_TYPE_SET_INTSET = 11,
    RDB_TYPE_ZSET_ZIPLIST = 12,
    RDB_TYPE_HASH_ZIPLIST = 13,
    RDB_TYPE_LIST_QUICKLIST = 14,
    RDB_TYPE_HASH_LISTPACK = 16,
    RDB_TYPE_ZSET_LISTPACK = 17,
    RDB_TYPE_LIST_QUICKLIST_2 = 18,
    RDB_TYPE_SET_LISTPACK = 20,
};

enum {
    RDB_OPCODE_FUNCTION2 = 245,
    RDB_OPCODE_MODULE_AUX = 247,
    RDB_OPCODE_IDLE = 248,
    RDB_OPCODE_FREQ = 249,
    RDB_OPCODE_AUX = 250,
    RDB_OPCODE_RESIZEDB = 251,
    RDB_OPCODE_EXPIRETIME_MS = 252,
    RDB_OPCODE_EXPIRETIME = 253,
    RDB_OPCODE_SELECTDB = 254,
    RDB_OPCODE_EOF = 255,
};

#define RDB_ENCVAL    3 /* top two bits of a length byte: a special encoding */
#define RDB_ENC_INT8  0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF   3

#define OUT_FLUSH_AT (64 * 1024)

/* ---- Writing ---- */

static void out_flush(struct rdb_out *o)
{
    if (!o->fp || o->len == 0) return;
    if (fwrite(o->buf, 1, o->len, o->fp) != o->len) o->failed = true;
    o->len = 0;
}

static void out_write(struct rdb_out *o, const void *p, size_t n)
{
    if (!o->no_crc) o->crc = rdb_crc64(o->crc, p, n);
    if (o->len + n > o->cap) {
        if (o->fp) out_flush(o);
        if (o->len + n > o->cap) {
            size_t cap = o->cap ? o->cap : 4096;
            while (cap < o->len + n)
                cap *= 2;
            o->buf = em_realloc(o->buf, cap);
            o->cap = cap;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void out_byte(struct rdb_out *o, uint8_t b)
{
    out_write(o, &b, 1);
}

static void out_len(struct rdb_out *o, uint64_t len)
{
    uint8_t b[9];
    if (len < (1 << 6)) {
        out_byte(o, (uint8_t)len);
    } else if (len < (1 << 14)) {
        b[0] = (uint8_t)(0x40 | (len >> 8));
        b[1] = (uint8_t)len;
        out_write(o, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)(len >> (24 - 8 * i));
        out_write(o, b, 5);
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++)
            b[1 + i] = (uint8_t)(len >> (56 - 8 * i));
        out_write(o, b, 9);
    }
}

/* An integer as Redis's rdbEncodeInteger: int8/16/32, little endian. */
static bool out_int_encoded(struct rdb_out *o, long long v)
{
    uint8_t b[5];
    if (v >= INT8_MIN && v <= INT8_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
        b[1] = (uint8_t)v;
        out_write(o, b, 2);
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
        b[1] = (uint8_t)v;
        b[2] = (uint8_t)((uint64_t)v >> 8);
        out_write(o, b, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (uint8_t)((uint64_t)v >> (8 * i));
        out_write(o, b, 5);
    } else {
        return false;
    }
    return true;
}

static void out_ll(struct rdb_out *o, long long v)
{
    if (out_int_encoded(o, v)) return;
    char buf[UTIL_LL_STR_SIZE];
    int n = ll_to_str(buf, sizeof(buf), v);
    out_len(o, (uint64_t)n);
    out_write(o, buf, (size_t)n);
}

/* ---- LZF compression (liblzf's format, which Redis writes) ----
 *
 * The stream is a sequence of
 *   000LLLLL <L+1 bytes>           a literal run of 1..32 bytes
 *   LLLooooo oooooooo              copy L+2 bytes (L 1..6) from o+1 back
 *   111ooooo LLLLLLLL oooooooo     copy L+9 bytes from o+1 back
 * so any compressor emitting it is compatible with Redis's decoder. This one
 * finds matches with a hash of the next 3 bytes; the table holds positions
 * + 1 (0 = empty) and is sized to the input, so short strings clear little. */

#define LZF_MAX_LIT 32
#define LZF_MAX_OFF (1 << 13)
#define LZF_MAX_REF (264) /* 7 + 255 + 2 */

static uint32_t lzf_hash(const uint8_t *p, unsigned bits)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 2654435761u) >> (32 - bits);
}

/* Compresses in[0..n) into out[0..cap). Returns the compressed length, or 0
 * if it does not fit in cap. */
static size_t lzf_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    uint32_t small[1024], *tab = small;
    unsigned bits = 10;
    while (bits < 16 && ((size_t)1 << bits) < n)
        bits++;
    if (bits > 10) tab = em_malloc(sizeof(uint32_t) << bits);
    memset(tab, 0, sizeof(uint32_t) << bits);
    size_t ip = 0, op = 1, lit = 0; /* out[op - lit - 1] is the open run's header */
    if (cap == 0) goto fail;
    while (ip + 2 < n) {
        uint32_t h = lzf_hash(in + ip, bits);
        size_t ref = tab[h];
        tab[h] = (uint32_t)ip + 1;
        if (ref && ip - (ref - 1) <= LZF_MAX_OFF && ip + 4 < n &&
            memcmp(in + ref - 1, in + ip, 3) == 0) {
            ref--;
            size_t max = n - ip < LZF_MAX_REF ? n - ip : LZF_MAX_REF, len = 3;
            while (len < max && in[ref + len] == in[ip + len])
                len++;
            /* Close the literal run (or take back its empty header). */
            if (lit) {
                out[op - lit - 1] = (uint8_t)(lit - 1);
            } else {
                op--;
            }
            if (op + 3 + 1 >= cap) goto fail;
            size_t off = ip - ref - 1, l = len - 2;
            if (l < 7) {
                out[op++] = (uint8_t)((off >> 8) + (l << 5));
            } else {
                out[op++] = (uint8_t)((off >> 8) + (7 << 5));
                out[op++] = (uint8_t)(l - 7);
            }
            out[op++] = (uint8_t)off;
            lit = 0;
            op++; /* header of the next run */
            /* Index the positions inside the match, so later data finds them. */
            for (size_t k = ip + 1; k < ip + len && k + 2 < n; k++)
                tab[lzf_hash(in + k, bits)] = (uint32_t)k + 1;
            ip += len;
            continue;
        }
        if (op >= cap) goto fail;
        out[op++] = in[ip++];
        if (++lit == LZF_MAX_LIT) {
            out[op - lit - 1] = (uint8_t)(lit - 1);
            lit = 0;
            op++;
        }
    }
    while (ip < n) {
        if (op >= cap) goto fail;
        out[op++] = in[ip++];
        if (++lit == LZF_MAX_LIT) {
            out[op - lit - 1] = (uint8_t)(lit - 1);
            lit = 0;
            op++;
        }
    }
    if (lit) {
        out[op - lit - 1] = (uint8_t)(lit - 1);
    } else {
        op--;
    }
    if (tab != small) em_free(tab);
    return op;
fail:
    if (tab != small) em_free(tab);
    return 0;
}

/* Redis's rdbSaveLzfStringObject: strings over 20 bytes, kept compressed
 * only if that saves at least 4 bytes. */
static bool out_lzf(struct rdb_out *o, const char *p, size_t n)
{
    if (n <= 20 || n > UINT32_MAX) return false;
    uint8_t small[256], *buf = n - 4 <= sizeof(small) ? small : em_malloc(n - 4);
    size_t c = lzf_compress((const uint8_t *)p, n, buf, n - 4);
    if (c) {
        out_byte(o, (RDB_ENCVAL << 6) | RDB_ENC_LZF);
        out_len(o, c);
        out_len(o, n);
        out_write(o, buf, c);
    }
    if (buf != small) em_free(buf);
    return c != 0;
}

static void out_string(struct rdb_out *o, const char *p, size_t n)
{
    /* Short strings that are canonical integers go integer-encoded. */
    if (n > 0 && n <= 11) {
        long long v;
        char buf[UTIL_LL_STR_SIZE];
        if (str_to_ll(p, n, &v) && (size_t)ll_to_str(buf, sizeof(buf), v) == n &&
            memcmp(buf, p, n) == 0 && out_int_encoded(o, v))
            return;
    }
    if (o->compress && out_lzf(o, p, n)) return;
    out_len(o, n);
    out_write(o, p, n);
}

static void out_slice(struct rdb_out *o, struct slice s)
{
    out_string(o, s.ptr, s.len);
}

static void out_lp_value(struct rdb_out *o, const struct lp_value *v)
{
    if (v->str)
        out_string(o, v->str, v->len);
    else
        out_ll(o, v->ll);
}

static void out_aux(struct rdb_out *o, const char *k, const char *v)
{
    out_byte(o, RDB_OPCODE_AUX);
    out_string(o, k, strlen(k));
    out_string(o, v, strlen(v));
}

static void out_aux_ll(struct rdb_out *o, const char *k, long long v)
{
    out_byte(o, RDB_OPCODE_AUX);
    out_string(o, k, strlen(k));
    out_ll(o, v);
}

/* The type byte, the key (unless `with_key` is false: DUMP payloads carry
 * none) and the value. */
static void save_value(struct rdb_out *o, const struct dict_node *n, bool with_key)
{
    switch (obj_type(n)) {
    case OBJ_STRING: {
        out_byte(o, RDB_TYPE_STRING);
        if (with_key) out_slice(o, dict_node_key(n));
        if (obj_enc(n) == OBJ_ENC_INT) {
            long long v = 0;
            obj_string_ll(n, &v);
            out_ll(o, v);
        } else {
            char buf[UTIL_LL_STR_SIZE];
            out_slice(o, obj_string(n, buf));
        }
        break;
    }
    case OBJ_LIST: {
        const struct list *l = obj_ptr(n);
        out_byte(o, RDB_TYPE_LIST);
        if (with_key) out_slice(o, dict_node_key(n));
        out_len(o, list_len(l));
        struct list_iter it;
        struct lp_value v;
        list_iter_init(&it, l, 0, true);
        while (list_iter_next(&it, &v))
            out_lp_value(o, &v);
        break;
    }
    case OBJ_SET: {
        struct set s = set_of_obj(n);
        out_byte(o, RDB_TYPE_SET);
        if (with_key) out_slice(o, dict_node_key(n));
        out_len(o, set_size(&s));
        struct set_iter it;
        struct lp_value v;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &v))
            out_lp_value(o, &v);
        set_iter_deinit(&it);
        break;
    }
    case OBJ_ZSET: {
        const struct zset *z = obj_ptr(n);
        out_byte(o, RDB_TYPE_ZSET_2);
        if (with_key) out_slice(o, dict_node_key(n));
        out_len(o, zset_len(z));
        /* Highest score first, as Redis writes skip lists (loads faster). */
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, z, 0, true);
        while (zset_iter_next(&it, &m, &score)) {
            out_slice(o, m);
            uint8_t b[8];
            memcpy(b, &score, 8); /* little-endian IEEE 754 */
            out_write(o, b, 8);
        }
        break;
    }
    case OBJ_HASH: {
        struct hash h = {obj_ptr(n), obj_enc(n)};
        out_byte(o, RDB_TYPE_HASH);
        if (with_key) out_slice(o, dict_node_key(n));
        out_len(o, hash_len(&h));
        struct hash_iter it;
        struct slice f, v;
        hash_iter_init(&it, &h);
        while (hash_iter_next(&it, &f, &v)) {
            out_slice(o, f);
            out_slice(o, v);
        }
        hash_iter_deinit(&it);
        break;
    }
    default:
        break;
    }
}

int rdb_save(struct rdb_out *o, struct keyspace *ks, long long now_ms)
{
    static const char magic[] = "REDIS0010";
    out_write(o, magic, 9);
    out_aux(o, "redis-ver", "7.0.15");
    out_aux_ll(o, "redis-bits", (long long)sizeof(void *) * 8);
    out_aux_ll(o, "ctime", now_ms / 1000);
    struct mem_stats ms;
    mem_stats_read(&ms);
    out_aux_ll(o, "used-mem", (long long)ms.allocated);
    out_aux_ll(o, "aof-base", 0);

    long long keys = 0;
    for (int i = 0; i < ks->count; i++) {
        struct db *db = &ks->dbs[i];
        if (dict_size(&db->dict) == 0) continue;
        out_byte(o, RDB_OPCODE_SELECTDB);
        out_len(o, (uint64_t)i);
        out_byte(o, RDB_OPCODE_RESIZEDB);
        out_len(o, dict_size(&db->dict));
        out_len(o, db->volatile_count);
        struct dict_iter it;
        struct dict_node *n;
        dict_iter_init(&it, &db->dict);
        while ((n = dict_iter_next(&it)) != NULL) {
            long long when = obj_expire(n);
            if (when >= 0) {
                if (when < now_ms) continue;
                uint8_t b[9];
                b[0] = RDB_OPCODE_EXPIRETIME_MS;
                for (int k = 0; k < 8; k++)
                    b[1 + k] = (uint8_t)((uint64_t)when >> (8 * k));
                out_write(o, b, 9);
            }
            save_value(o, n, true);
            if (o->failed) break;
            if (o->progress && (++keys & 1023) == 0) o->progress(o->progress_arg, keys);
        }
        dict_iter_deinit(&it);
        if (o->failed) return -1;
    }
    out_byte(o, RDB_OPCODE_EOF);
    uint64_t crc = o->crc;
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(crc >> (8 * k));
    out_write(o, b, 8);
    out_flush(o);
    return o->failed ? -1 : 0;
}

void rdb_out_free(struct rdb_out *o)
{
    em_free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}

/* ---- Reading ---- */

struct rdb_in {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t errlen;
    bool failed;
};

/* Marks the read failed, keeping the first error's text. */
static void in_error(struct rdb_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void in_error(struct rdb_in *in, const char *fmt, ...)
{
    if (!in->failed && in->err && in->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(in->err, in->errlen, fmt, ap);
        va_end(ap);
    }
    in->failed = true;
}

/* in_error(), as an expression that is false: `return in_fail(in, ...);`.
 * A macro rather than a function returning false, so the static analyzer
 * (which does not inline variadic functions) sees every such path end. */
#define in_fail(in, ...) (in_error((in), __VA_ARGS__), false)

static const uint8_t *in_take(struct rdb_in *in, size_t n)
{
    if (in->failed) return NULL;
    if (n > in->len - in->pos) {
        in_error(in, "Unexpected EOF reading RDB file");
        return NULL;
    }
    const uint8_t *p = in->p + in->pos;
    in->pos += n;
    return p;
}

static bool in_byte(struct rdb_in *in, uint8_t *b)
{
    const uint8_t *p = in_take(in, 1);
    if (!p) return false;
    *b = *p;
    return true;
}

/* A length, or (with *encoded) a special string encoding in *len. */
static bool in_len_enc(struct rdb_in *in, uint64_t *len, bool *encoded)
{
    uint8_t b;
    if (encoded) *encoded = false;
    if (!in_byte(in, &b)) return false;
    int type = b >> 6;
    const uint8_t *p;
    switch (type) {
    case 0:
        *len = b & 0x3f;
        return true;
    case 1:
        if (!(p = in_take(in, 1))) return false;
        *len = ((uint64_t)(b & 0x3f) << 8) | p[0];
        return true;
    case 2:
        if (b == 0x80) {
            if (!(p = in_take(in, 4))) return false;
            *len = ((uint64_t)p[0] << 24) | ((uint64_t)p[1] << 16) | ((uint64_t)p[2] << 8) | p[3];
            return true;
        }
        if (b == 0x81) {
            if (!(p = in_take(in, 8))) return false;
            uint64_t v = 0;
            for (int i = 0; i < 8; i++)
                v = (v << 8) | p[i];
            *len = v;
            return true;
        }
        return in_fail(in, "Unknown length encoding %d", b);
    default:
        if (!encoded) return in_fail(in, "Unexpected encoded length");
        *encoded = true;
        *len = b & 0x3f;
        return true;
    }
}

static bool in_len(struct rdb_in *in, uint64_t *len)
{
    return in_len_enc(in, len, NULL);
}

/* A string read back: borrowed from the image, or held in `own`. */
struct rstr {
    const char *p;
    size_t len;
    char *own;
    char num[UTIL_LL_STR_SIZE];
};

static void rstr_free(struct rstr *s)
{
    em_free(s->own);
    s->own = NULL;
}

static struct slice rstr_slice(const struct rstr *s)
{
    return (struct slice){s->p, s->len};
}

/* LZF decompression (liblzf's format). Returns the bytes written or 0. */
static size_t lzf_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    const uint8_t *ip = in, *in_end = in + in_len;
    uint8_t *op = out, *out_end = out + out_len;
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        if (ctrl < (1 << 5)) {
            ctrl++;
            if ((size_t)(out_end - op) < ctrl || (size_t)(in_end - ip) < ctrl) return 0;
            memcpy(op, ip, ctrl);
            op += ctrl;
            ip += ctrl;
        } else {
            unsigned len = ctrl >> 5;
            if (len == 7) {
                if (ip >= in_end) return 0;
                len += *ip++;
            }
            if (ip >= in_end) return 0;
            size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
            if ((size_t)(op - out) < back) return 0;
            len += 2;
            if ((size_t)(out_end - op) < len) return 0;
            const uint8_t *ref = op - back;
            for (unsigned i = 0; i < len; i++)
                *op++ = *ref++; /* may overlap */
        }
    }
    return (size_t)(op - out);
}

static bool in_string(struct rdb_in *in, struct rstr *s)
{
    uint64_t len;
    bool enc;
    s->own = NULL;
    if (!in_len_enc(in, &len, &enc)) return false;
    if (!enc) {
        const uint8_t *p = in_take(in, (size_t)len);
        if (!p) return false;
        s->p = (const char *)p;
        s->len = (size_t)len;
        return true;
    }
    const uint8_t *p;
    long long v;
    switch (len) {
    case RDB_ENC_INT8:
        if (!(p = in_take(in, 1))) return false;
        v = (int8_t)p[0]; /* NOLINT(bugprone-signed-char-misuse): INT8 is stored signed */
        break;
    case RDB_ENC_INT16:
        if (!(p = in_take(in, 2))) return false;
        v = (int16_t)(uint16_t)(p[0] | (p[1] << 8));
        break;
    case RDB_ENC_INT32:
        if (!(p = in_take(in, 4))) return false;
        v = (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                      ((uint32_t)p[3] << 24));
        break;
    case RDB_ENC_LZF: {
        uint64_t clen, ulen;
        if (!in_len(in, &clen) || !in_len(in, &ulen)) return false;
        if (!(p = in_take(in, (size_t)clen))) return false;
        /* A 3-byte back reference yields at most 264 bytes: a longer claim
         * is corrupt, and must not size an allocation. */
        if (ulen > (1ULL << 32) || ulen / 88 > clen)
            return in_fail(in, "Invalid LZF compressed string");
        s->own = em_malloc(ulen ? (size_t)ulen : 1);
        if (ulen && lzf_decompress(p, (size_t)clen, (uint8_t *)s->own, (size_t)ulen) != ulen) {
            rstr_free(s);
            return in_fail(in, "Invalid LZF compressed string");
        }
        s->p = s->own;
        s->len = (size_t)ulen;
        return true;
    }
    default:
        return in_fail(in, "Unknown RDB string encoding type %d", (int)len);
    }
    s->len = (size_t)ll_to_str(s->num, sizeof(s->num), v);
    s->p = s->num;
    return true;
}

/* A score of RDB_TYPE_ZSET (text, with nan/inf spelled as Redis does). */
static bool in_double_text(struct rdb_in *in, double *d)
{
    uint8_t n;
    if (!in_byte(in, &n)) return false;
    if (n == 253)
        *d = NAN;
    else if (n == 254)
        *d = INFINITY;
    else if (n == 255)
        *d = -INFINITY;
    else {
        const uint8_t *p = in_take(in, n);
        if (!p) return false;
        char buf[256];
        memcpy(buf, p, n);
        buf[n] = '\0';
        char *end;
        *d = strtod(buf, &end);
        if (end != buf + n) return in_fail(in, "Invalid double value");
    }
    if (isnan(*d)) return in_fail(in, "Zset with NAN score detected");
    return true;
}

static bool in_double_bin(struct rdb_in *in, double *d)
{
    const uint8_t *p = in_take(in, 8);
    if (!p) return false;
    memcpy(d, p, 8);
    if (isnan(*d)) return in_fail(in, "Zset with NAN score detected");
    return true;
}

/* ---- Building values ---- */

static struct set_limits set_lim(void)
{
    long long a = server.cfg.set_max_intset_entries, b = server.cfg.set_max_listpack_entries,
              c = server.cfg.set_max_listpack_value;
    return (struct set_limits){a < 0 ? 0 : (size_t)a, b < 0 ? 0 : (size_t)b, c < 0 ? 0 : (size_t)c};
}

static struct hash_limits hash_lim(void)
{
    long long a = server.cfg.hash_max_listpack_entries, b = server.cfg.hash_max_listpack_value;
    return (struct hash_limits){a < 0 ? 0 : (size_t)a, b < 0 ? 0 : (size_t)b};
}

static struct zset_limits zset_lim(void)
{
    long long a = server.cfg.zset_max_listpack_entries, b = server.cfg.zset_max_listpack_value;
    return (struct zset_limits){a < 0 ? 0 : (size_t)a, b < 0 ? 0 : (size_t)b};
}

/* A value under construction; elements are added one by one whatever the
 * encoding they came in. */
struct builder {
    int type; /* OBJ_* */
    struct list *list;
    struct set set;
    struct hash hash;
    struct zset *zset;
    struct set_limits sl;
    struct hash_limits hl;
    struct zset_limits zl;
    size_t added;
};

static void builder_init(struct builder *b, int type, uint64_t hint)
{
    memset(b, 0, sizeof(*b));
    b->type = type;
    switch (type) {
    case OBJ_LIST:
        b->list = list_create();
        break;
    case OBJ_SET:
        b->sl = set_lim();
        set_init(&b->set);
        break;
    case OBJ_HASH:
        b->hl = hash_lim();
        hash_init(&b->hash);
        break;
    case OBJ_ZSET:
        b->zl = zset_lim();
        b->zset = zset_create(hint <= b->zl.max_entries);
        break;
    default:
        break;
    }
}

static void builder_discard(struct builder *b)
{
    switch (b->type) {
    case OBJ_LIST:
        list_destroy(b->list);
        break;
    case OBJ_SET:
        set_deinit(&b->set);
        break;
    case OBJ_HASH:
        hash_deinit(&b->hash);
        break;
    case OBJ_ZSET:
        zset_destroy(b->zset);
        break;
    default:
        break;
    }
}

static void b_list(struct builder *b, struct slice v)
{
    list_push(&b->list, v, LIST_TAIL, server.cfg.list_max_listpack_size);
    b->added++;
}

static void b_set(struct builder *b, struct slice v)
{
    if (set_add(&b->set, v, &b->sl)) b->added++;
}

static void b_hash(struct builder *b, struct slice f, struct slice v)
{
    struct slice args[2] = {f, v};
    hash_prepare_write(&b->hash, args, 2, &b->hl);
    if (hash_set(&b->hash, f, v, &b->hl)) b->added++;
}

static void b_zset(struct builder *b, struct slice m, double score)
{
    if (zset_add(&b->zset, m, score, 0, &b->zl, NULL) == ZSET_ADDED) b->added++;
}

static struct dict_node *builder_finish(struct builder *b, struct slice key, long long expire)
{
    switch (b->type) {
    case OBJ_LIST:
        return obj_create_ptr(key, OBJ_LIST, OBJ_ENC_QUICKLIST, b->list, expire);
    case OBJ_SET: {
        struct dict_node *o = set_create_obj(key, &b->set);
        return expire >= 0 ? obj_with_expire(o, expire) : o;
    }
    case OBJ_HASH:
        hash_compact(&b->hash);
        return obj_create_ptr(key, OBJ_HASH, b->hash.enc, b->hash.ptr, expire);
    case OBJ_ZSET:
        return obj_create_ptr(key, OBJ_ZSET,
                              zset_is_packed(b->zset) ? OBJ_ENC_LISTPACK : OBJ_ENC_SKIPLIST,
                              b->zset, expire);
    default:
        return NULL;
    }
}

/* ---- Redis's packed blobs: ziplist, listpack, intset ---- */

/* Calls `fn` with each element of a blob (strings, integers as text). */
typedef void blob_elem_fn(struct slice v, void *arg);
typedef bool blob_walk_fn(struct rdb_in *in, struct slice blob, blob_elem_fn *fn, void *arg);

static bool walk_intset(struct rdb_in *in, struct slice blob, blob_elem_fn *fn, void *arg)
{
    const uint8_t *p = (const uint8_t *)blob.ptr;
    if (blob.len < 8) return in_fail(in, "Intset integrity check failed");
    uint32_t enc = p[0] | (p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    uint32_t n = p[4] | (p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
    if ((enc != 2 && enc != 4 && enc != 8) || (uint64_t)n * enc != blob.len - 8)
        return in_fail(in, "Intset integrity check failed");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *q = p + 8 + (size_t)i * enc;
        uint64_t u = 0;
        for (uint32_t k = 0; k < enc; k++)
            u |= (uint64_t)q[k] << (8 * k);
        long long v = enc == 2 ? (int16_t)u : enc == 4 ? (int32_t)u : (long long)u;
        char buf[UTIL_LL_STR_SIZE];
        int len = ll_to_str(buf, sizeof(buf), v);
        fn((struct slice){buf, (size_t)len}, arg);
    }
    return true;
}

static bool walk_listpack(struct rdb_in *in, struct slice blob, blob_elem_fn *fn, void *arg)
{
    const uint8_t *p = (const uint8_t *)blob.ptr, *end = p + blob.len;
    if (blob.len < 7) return in_fail(in, "Listpack integrity check failed");
    uint32_t total = p[0] | (p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    if (total != blob.len) return in_fail(in, "Listpack integrity check failed");
    p += 6;
    while (p < end && *p != 0xff) {
        uint8_t b = *p;
        long long v = 0;
        const uint8_t *str = NULL;
        size_t slen = 0, hdr;
        if ((b & 0x80) == 0) {
            v = b & 0x7f;
            hdr = 1;
        } else if ((b & 0xc0) == 0x80) {
            slen = b & 0x3f;
            hdr = 1;
            str = p + 1;
        } else if ((b & 0xe0) == 0xc0) {
            if (end - p < 2) break;
            uint64_t u = ((uint64_t)(b & 0x1f) << 8) | p[1];
            v = u >= (1u << 12) ? (long long)u - (1 << 13) : (long long)u;
            hdr = 2;
        } else if ((b & 0xf0) == 0xe0) {
            if (end - p < 2) break;
            slen = ((size_t)(b & 0x0f) << 8) | p[1];
            hdr = 2;
            str = p + 2;
        } else if (b == 0xf0) {
            if (end - p < 5) break;
            slen = p[1] | (p[2] << 8) | ((size_t)p[3] << 16) | ((size_t)p[4] << 24);
            hdr = 5;
            str = p + 5;
        } else if (b >= 0xf1 && b <= 0xf4) {
            size_t w = b == 0xf1 ? 2 : b == 0xf2 ? 3 : b == 0xf3 ? 4 : 8;
            if ((size_t)(end - p) < 1 + w) break;
            uint64_t u = 0;
            for (size_t k = 0; k < w; k++)
                u |= (uint64_t)p[1 + k] << (8 * k);
            if (w < 8 && (u >> (8 * w - 1))) u |= ~0ULL << (8 * w); /* sign-extend */
            v = (long long)u;
            hdr = 1 + w;
        } else {
            break;
        }
        size_t entry = hdr + slen;
        size_t backlen = entry <= 127        ? 1
                         : entry < 16383     ? 2
                         : entry < 2097151   ? 3
                         : entry < 268435455 ? 4
                                             : 5;
        if ((size_t)(end - p) < entry + backlen) break;
        if (str) {
            fn((struct slice){(const char *)str, slen}, arg);
        } else {
            char buf[UTIL_LL_STR_SIZE];
            int len = ll_to_str(buf, sizeof(buf), v);
            fn((struct slice){buf, (size_t)len}, arg);
        }
        p += entry + backlen;
    }
    if (p >= end || *p != 0xff) return in_fail(in, "Listpack integrity check failed");
    return true;
}

static bool walk_ziplist(struct rdb_in *in, struct slice blob, blob_elem_fn *fn, void *arg)
{
    const uint8_t *p = (const uint8_t *)blob.ptr, *end = p + blob.len;
    if (blob.len < 11) return in_fail(in, "Ziplist integrity check failed");
    p += 10;
    while (p < end && *p != 0xff) {
        /* prevlen */
        if (*p == 0xfe) {
            if (end - p < 5) break;
            p += 5;
        } else {
            p += 1;
        }
        if (p >= end) break;
        uint8_t b = *p;
        const uint8_t *str = NULL;
        size_t slen = 0, hdr;
        long long v = 0;
        switch (b >> 6) {
        case 0:
            slen = b & 0x3f;
            hdr = 1;
            str = p + 1;
            break;
        case 1:
            if (end - p < 2) goto bad;
            slen = ((size_t)(b & 0x3f) << 8) | p[1];
            hdr = 2;
            str = p + 2;
            break;
        case 2:
            if (end - p < 5) goto bad;
            slen = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | p[4];
            hdr = 5;
            str = p + 5;
            break;
        default: {
            size_t w;
            if (b == 0xc0)
                w = 2;
            else if (b == 0xd0)
                w = 4;
            else if (b == 0xe0)
                w = 8;
            else if (b == 0xf0)
                w = 3;
            else if (b == 0xfe)
                w = 1;
            else if (b >= 0xf1 && b <= 0xfd)
                w = 0;
            else
                goto bad;
            if ((size_t)(end - p) < 1 + w) goto bad;
            if (w == 0) {
                v = (b & 0x0f) - 1;
            } else {
                uint64_t u = 0;
                for (size_t k = 0; k < w; k++)
                    u |= (uint64_t)p[1 + k] << (8 * k);
                if (w < 8 && (u >> (8 * w - 1))) u |= ~0ULL << (8 * w);
                v = (long long)u;
            }
            hdr = 1 + w;
        }
        }
        if ((size_t)(end - p) < hdr + slen) goto bad;
        if (str) {
            fn((struct slice){(const char *)str, slen}, arg);
        } else {
            char buf[UTIL_LL_STR_SIZE];
            int len = ll_to_str(buf, sizeof(buf), v);
            fn((struct slice){buf, (size_t)len}, arg);
        }
        p += hdr + slen;
    }
    if (p < end && *p == 0xff) return true;
bad:
    return in_fail(in, "Ziplist integrity check failed");
}

/* Redis 2.x's zipmap (hashes): a count byte, then per pair
 *   <len> field <len> <free> value <free bytes>
 * where <len> is one byte under 254, or 254 and 4 bytes (little endian);
 * 0xff ends it. */
static bool zipmap_len(const uint8_t **p, const uint8_t *end, size_t *len)
{
    if (*p >= end || **p == 0xff || **p == 0xfd) return false;
    if (**p < 254) {
        *len = *(*p)++;
        return true;
    }
    if (end - *p < 5) return false;
    *len = (*p)[1] | ((size_t)(*p)[2] << 8) | ((size_t)(*p)[3] << 16) | ((size_t)(*p)[4] << 24);
    *p += 5;
    return true;
}

static bool walk_zipmap(struct rdb_in *in, struct slice blob, blob_elem_fn *fn, void *arg)
{
    const uint8_t *p = (const uint8_t *)blob.ptr, *end = p + blob.len;
    if (blob.len < 2) return in_fail(in, "Zipmap integrity check failed");
    p++; /* the count: a hint, 254 = unknown */
    while (p < end && *p != 0xff) {
        size_t flen, vlen;
        if (!zipmap_len(&p, end, &flen) || (size_t)(end - p) < flen) break;
        const uint8_t *f = p;
        p += flen;
        if (!zipmap_len(&p, end, &vlen) || end - p < 1) break;
        size_t free_bytes = *p++;
        if ((size_t)(end - p) < vlen + free_bytes) break;
        fn((struct slice){(const char *)f, flen}, arg);
        fn((struct slice){(const char *)p, vlen}, arg);
        p += vlen + free_bytes;
    }
    if (p + 1 != end || *p != 0xff) return in_fail(in, "Zipmap integrity check failed");
    return true;
}

/* Pairs (hash field/value, zset member/score) arrive as two elements. */
struct pair_state {
    struct builder *b;
    char *first;
    size_t first_len;
    bool have_first;
    bool bad;
};

static void on_list_elem(struct slice v, void *arg)
{
    b_list(arg, v);
}

static void on_set_elem(struct slice v, void *arg)
{
    b_set(arg, v);
}

static void on_pair_elem(struct slice v, void *arg)
{
    struct pair_state *ps = arg;
    if (!ps->have_first) {
        ps->first = em_realloc(ps->first, v.len ? v.len : 1);
        memcpy(ps->first, v.ptr, v.len);
        ps->first_len = v.len;
        ps->have_first = true;
        return;
    }
    ps->have_first = false;
    struct slice f = {ps->first, ps->first_len};
    if (ps->b->type == OBJ_HASH) {
        b_hash(ps->b, f, v);
    } else {
        char buf[128];
        if (v.len >= sizeof(buf)) {
            ps->bad = true;
            return;
        }
        memcpy(buf, v.ptr, v.len);
        buf[v.len] = '\0';
        char *endp;
        double d = strtod(buf, &endp);
        if (endp != buf + v.len || isnan(d)) {
            ps->bad = true;
            return;
        }
        b_zset(ps->b, f, d);
    }
}

static bool walk_pairs(struct rdb_in *in, struct builder *b, struct slice blob, blob_walk_fn *walk)
{
    struct pair_state ps = {.b = b};
    bool ok = walk(in, blob, on_pair_elem, &ps);
    em_free(ps.first);
    if (ok && (ps.bad || ps.have_first)) return in_fail(in, "Packed pair integrity check failed");
    return ok;
}

/* ---- Reading one value ---- */

static bool load_blob_value(struct rdb_in *in, int rtype, struct builder *b)
{
    struct rstr s;
    if (!in_string(in, &s)) return false;
    struct slice blob = rstr_slice(&s);
    bool ok;
    switch (rtype) {
    case RDB_TYPE_SET_INTSET:
        builder_init(b, OBJ_SET, 0);
        ok = walk_intset(in, blob, on_set_elem, b);
        break;
    case RDB_TYPE_SET_LISTPACK:
        builder_init(b, OBJ_SET, 0);
        ok = walk_listpack(in, blob, on_set_elem, b);
        break;
    case RDB_TYPE_LIST_ZIPLIST:
        builder_init(b, OBJ_LIST, 0);
        ok = walk_ziplist(in, blob, on_list_elem, b);
        break;
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        builder_init(b, OBJ_HASH, 0);
        ok = walk_pairs(in, b, blob,
                        rtype == RDB_TYPE_HASH_ZIPMAP     ? walk_zipmap
                        : rtype == RDB_TYPE_HASH_LISTPACK ? walk_listpack
                                                          : walk_ziplist);
        break;
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        builder_init(b, OBJ_ZSET, 0);
        ok =
            walk_pairs(in, b, blob, rtype == RDB_TYPE_ZSET_LISTPACK ? walk_listpack : walk_ziplist);
        break;
    default:
        ok = false;
    }
    rstr_free(&s);
    if (!ok) builder_discard(b);
    return ok;
}

static bool load_value(struct rdb_in *in, int rtype, struct builder *b, struct rstr *sval)
{
    uint64_t n;
    sval->own = NULL;
    switch (rtype) {
    case RDB_TYPE_STRING:
        b->type = OBJ_STRING;
        return in_string(in, sval);
    case RDB_TYPE_LIST:
    case RDB_TYPE_SET:
        if (!in_len(in, &n)) return false;
        builder_init(b, rtype == RDB_TYPE_LIST ? OBJ_LIST : OBJ_SET, n);
        for (uint64_t i = 0; i < n; i++) {
            struct rstr e;
            if (!in_string(in, &e)) break;
            if (rtype == RDB_TYPE_LIST)
                b_list(b, rstr_slice(&e));
            else
                b_set(b, rstr_slice(&e));
            rstr_free(&e);
        }
        break;
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
        if (!in_len(in, &n)) return false;
        builder_init(b, OBJ_ZSET, n);
        for (uint64_t i = 0; i < n; i++) {
            struct rstr e;
            double d;
            if (!in_string(in, &e)) break;
            bool ok = rtype == RDB_TYPE_ZSET ? in_double_text(in, &d) : in_double_bin(in, &d);
            if (ok) b_zset(b, rstr_slice(&e), d);
            rstr_free(&e);
            if (!ok) break;
        }
        break;
    case RDB_TYPE_HASH:
        if (!in_len(in, &n)) return false;
        builder_init(b, OBJ_HASH, n);
        for (uint64_t i = 0; i < n; i++) {
            struct rstr f, v;
            if (!in_string(in, &f)) break;
            if (!in_string(in, &v)) {
                rstr_free(&f);
                break;
            }
            b_hash(b, rstr_slice(&f), rstr_slice(&v));
            rstr_free(&f);
            rstr_free(&v);
        }
        break;
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        if (!in_len(in, &n)) return false;
        builder_init(b, OBJ_LIST, 0);
        for (uint64_t i = 0; i < n && !in->failed; i++) {
            uint64_t container = 2;
            if (rtype == RDB_TYPE_LIST_QUICKLIST_2 && !in_len(in, &container)) break;
            struct rstr e;
            if (!in_string(in, &e)) break;
            if (container == 1)
                b_list(b, rstr_slice(&e));
            else if (rtype == RDB_TYPE_LIST_QUICKLIST)
                walk_ziplist(in, rstr_slice(&e), on_list_elem, b);
            else
                walk_listpack(in, rstr_slice(&e), on_list_elem, b);
            rstr_free(&e);
        }
        break;
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_SET_LISTPACK:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        return load_blob_value(in, rtype, b);
    default:
        return in_fail(in, "Unknown RDB encoding type %d", rtype);
    }
    if (in->failed) {
        builder_discard(b);
        return false;
    }
    return true;
}

static bool skip_string(struct rdb_in *in)
{
    struct rstr s;
    if (!in_string(in, &s)) return false;
    rstr_free(&s);
    return true;
}

static void insert_entry(struct db *db, struct dict_node *o)
{
    struct db_ref ref;
    struct slice key = dict_node_key(o);
    /* Finish a growth rehash quickly: lookups then probe one table. */
    if (dict_is_rehashing(&db->dict)) dict_rehash(&db->dict, 1000);
    struct dict_node *old = db_find(db, key, &ref);
    if (old) {
        db_replace(db, &ref, o);
        obj_destroy(old); /* db_replace leaves it alive for us to free */
    } else {
        db_insert(db, &ref, o);
    }
}

/* Entries parsed but not inserted yet. A load is bound by cache misses on
 * the table (its bucket, then the chain's first node); holding a few entries
 * back lets the loads of the next ones overlap: the bucket is prefetched when
 * an entry is queued, its first node halfway through the queue. */
#define LOAD_AHEAD 16

struct load_queue {
    struct {
        struct db *db;
        struct dict_node *o;
        uint64_t h;
    } e[LOAD_AHEAD];
    unsigned head, n;
};

static struct dict_node **bucket_of(struct db *db, uint64_t h)
{
    const struct dict *d = &db->dict;
    const struct dict_table *t = &d->t[dict_is_rehashing(d) ? 1 : 0];
    return t->size ? &t->buckets[h & (t->size - 1)] : NULL;
}

static void queue_pop(struct load_queue *q)
{
    insert_entry(q->e[q->head].db, q->e[q->head].o);
    q->head = (q->head + 1) % LOAD_AHEAD;
    q->n--;
}

static void queue_push(struct load_queue *q, struct db *db, struct dict_node *o)
{
    if (q->n == LOAD_AHEAD) queue_pop(q);
    unsigned i = (q->head + q->n++) % LOAD_AHEAD;
    struct slice k = dict_node_key(o);
    q->e[i].db = db;
    q->e[i].o = o;
    q->e[i].h = dict_hash(k.ptr, k.len);
    struct dict_node **b = bucket_of(db, q->e[i].h);
    if (b) __builtin_prefetch(b);
    if (q->n > LOAD_AHEAD / 2) {
        unsigned j = (q->head + q->n - 1 - LOAD_AHEAD / 2) % LOAD_AHEAD;
        b = bucket_of(q->e[j].db, q->e[j].h);
        if (b && *b) __builtin_prefetch(*b);
    }
}

static void queue_flush(struct load_queue *q)
{
    while (q->n)
        queue_pop(q);
}

/* A value read by load_value() as an entry named `key`, or NULL for an
 * empty container (Redis refuses or skips those). Frees sval's copy. */
static struct dict_node *value_to_entry(struct builder *b, struct rstr *sval, struct slice key,
                                        long long expire)
{
    struct dict_node *o;
    if (b->type == OBJ_STRING) {
        /* load_value() sets OBJ_STRING only once it has read sval, but is too
         * big for the analyzer to follow. */
        /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): see above */
        o = obj_create_string(key, rstr_slice(sval), expire);
        rstr_free(sval);
        return o;
    }
    if (b->added == 0) {
        builder_discard(b);
        return NULL;
    }
    return builder_finish(b, key, expire);
}

/* The entries up to EOF (the cursor is left on the checksum). Returns the
 * keys loaded, or -1. Entries may wait in `lq`: the caller flushes it. */
static long long load_entries(struct rdb_in *in, struct keyspace *ks, long long now_ms,
                              long long *expired, struct load_queue *lq)
{
    struct db *db = &ks->dbs[0];
    long long expire = -1, loaded = 0;
    for (;;) {
        uint8_t type;
        if (!in_byte(in, &type)) return -1;
        if (type == RDB_OPCODE_EOF) break;
        if (type == RDB_OPCODE_EXPIRETIME_MS || type == RDB_OPCODE_EXPIRETIME) {
            size_t w = type == RDB_OPCODE_EXPIRETIME_MS ? 8 : 4;
            const uint8_t *q = in_take(in, w);
            if (!q) return -1;
            uint64_t u = 0;
            for (size_t k = 0; k < w; k++)
                u |= (uint64_t)q[k] << (8 * k);
            expire = w == 8 ? (long long)u : (long long)(int32_t)u * 1000;
            continue;
        }
        if (type == RDB_OPCODE_SELECTDB) {
            uint64_t id;
            if (!in_len(in, &id)) return -1;
            if (id >= (uint64_t)ks->count) {
                in_error(in,
                         "FATAL: Data file was created with a Redis server configured to handle "
                         "more than %d databases. Exiting\n",
                         ks->count);
                return -1;
            }
            db = &ks->dbs[id];
            continue;
        }
        if (type == RDB_OPCODE_RESIZEDB) {
            uint64_t a, b2;
            if (!in_len(in, &a) || !in_len(in, &b2)) return -1;
            /* Size the table for the keys to come, as Redis's dictExpand,
             * but never for more than the rest of the file can hold (an
             * entry takes 3 bytes or more), so a forged count cannot make
             * the loader allocate. */
            uint64_t room = (in->len - in->pos) / 3;
            dict_expand(&db->dict, (size_t)(a < room ? a : room));
            continue;
        }
        if (type == RDB_OPCODE_AUX) {
            if (!skip_string(in) || !skip_string(in)) return -1;
            continue;
        }
        if (type == RDB_OPCODE_IDLE) {
            uint64_t idle;
            if (!in_len(in, &idle)) return -1;
            continue;
        }
        if (type == RDB_OPCODE_FREQ) {
            if (!in_take(in, 1)) return -1;
            continue;
        }
        if (type == RDB_OPCODE_FUNCTION2) {
            if (!skip_string(in)) return -1; /* functions are not restored yet */
            continue;
        }
        if (type == RDB_OPCODE_MODULE_AUX) {
            in_error(in, "Module data in RDB files is not supported");
            return -1;
        }
        /* A key and its value. */
        struct rstr key, sval;
        if (!in_string(in, &key)) return -1;
        struct builder b = {.type = -1};
        if (!load_value(in, type, &b, &sval)) {
            rstr_free(&key);
            return -1;
        }
        /* An empty container comes back NULL: Redis skips it too. */
        struct dict_node *o = value_to_entry(&b, &sval, rstr_slice(&key), expire);
        rstr_free(&key);
        if (o == NULL) {
            expire = -1;
            continue;
        }
        if (expire >= 0 && expire < now_ms) {
            obj_destroy(o); /* expired while on disk: a master drops it */
            if (expired) ++*expired;
        } else {
            queue_push(lq, db, o);
            loaded++;
        }
        expire = -1;
    }
    return loaded;
}

static long long load_image(struct keyspace *ks, const uint8_t *p, size_t len, long long now_ms,
                            long long *expired, char *err, size_t errlen)
{
    struct rdb_in in = {.p = p, .len = len, .err = err, .errlen = errlen};
    if (len < 9 || memcmp(p, "REDIS", 5) != 0) {
        in_error(&in, "Wrong signature trying to load DB from file");
        return -1;
    }
    int ver = 0;
    for (int i = 5; i < 9; i++) {
        if (p[i] < '0' || p[i] > '9') {
            in_error(&in, "Wrong signature trying to load DB from file");
            return -1;
        }
        ver = ver * 10 + (p[i] - '0');
    }
    if (ver < 1 || ver > RDB_VERSION) {
        in_error(&in, "Can't handle RDB format version %d", ver);
        return -1;
    }
    in.pos = 9;
    struct load_queue q = {0};
    long long loaded = load_entries(&in, ks, now_ms, expired, &q);
    queue_flush(&q);
    if (loaded < 0) return -1;
    /* The checksum (version 5 on); zero means "not computed". */
    if (ver >= 5) {
        size_t body = in.pos;
        const uint8_t *q8 = in_take(&in, 8);
        if (!q8) return -1;
        uint64_t stored = 0;
        for (int k = 0; k < 8; k++)
            stored |= (uint64_t)q8[k] << (8 * k);
        /* rdbchecksum no skips the check, as Redis does. */
        if (stored != 0 && server.cfg.rdbchecksum && stored != rdb_crc64(0, p, body)) {
            in_error(&in, "Wrong RDB checksum expected: (%016llx) got: (%016llx). Aborting now.",
                     (unsigned long long)rdb_crc64(0, p, body), (unsigned long long)stored);
            return -1;
        }
    }
    return loaded;
}

long long rdb_load(struct keyspace *ks, const uint8_t *p, size_t len, long long now_ms, char *err,
                   size_t errlen)
{
    return load_image(ks, p, len, now_ms, NULL, err, errlen);
}

long long rdb_load_file_counted(struct keyspace *ks, const char *path, long long now_ms,
                                long long *expired, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT) return -2;
        snprintf(err, errlen, "Error opening %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) < 0) {
        snprintf(err, errlen, "Error reading %s: %s", path, strerror(errno));
        fclose(fp);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = em_malloc(len ? len : 1);
    size_t got = fread(buf, 1, len, fp);
    fclose(fp);
    if (got != len) {
        snprintf(err, errlen, "Short read of %s", path);
        em_free(buf);
        return -1;
    }
    long long n = load_image(ks, buf, len, now_ms, expired, err, errlen);
    em_free(buf);
    return n;
}

long long rdb_load_file(struct keyspace *ks, const char *path, long long now_ms, char *err,
                        size_t errlen)
{
    return rdb_load_file_counted(ks, path, now_ms, NULL, err, errlen);
}

/* ---- DUMP / RESTORE payloads ----
 *
 *   +------+-------------------+-------------+-------------------------+
 *   | type | value (RDB form)  | RDB version | CRC64 of all before     |
 *   | 1 B  |                   | 2 B, LE     | 8 B, LE                 |
 *   +------+-------------------+-------------+-------------------------+
 *
 * (Redis's createDumpPayload / verifyDumpPayload.) */

void rdb_dump_value(struct rdb_out *out, const struct dict_node *o)
{
    size_t start = out->len;
    save_value(out, o, false);
    uint8_t ver[2] = {RDB_VERSION & 0xff, RDB_VERSION >> 8};
    out_write(out, ver, 2);
    uint64_t crc = rdb_crc64(0, out->buf + start, out->len - start);
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(crc >> (8 * k));
    out_write(out, b, 8);
}

int rdb_parse_value(const uint8_t *p, size_t len, struct slice key, struct dict_node **out)
{
    struct rdb_in in = {.p = p, .len = len};
    uint8_t type;
    *out = NULL;
    if (!in_byte(&in, &type)) return RDB_BAD_DATA;
    /* Only value types: an opcode (EOF, SELECTDB...) is not a value. */
    if (type >= RDB_OPCODE_FUNCTION2) return RDB_BAD_DATA;
    struct builder b = {.type = -1};
    struct rstr sval;
    if (!load_value(&in, type, &b, &sval)) return RDB_BAD_DATA;
    *out = value_to_entry(&b, &sval, key, -1);
    return *out ? 0 : RDB_BAD_DATA;
}

int rdb_restore_value(const uint8_t *p, size_t len, struct slice key, struct dict_node **out)
{
    *out = NULL;
    if (len < 10) return RDB_BAD_PAYLOAD;
    const uint8_t *footer = p + len - 10;
    unsigned ver = footer[0] | (unsigned)footer[1] << 8;
    if (ver > RDB_VERSION) return RDB_BAD_PAYLOAD;
    uint64_t crc = 0;
    for (int k = 0; k < 8; k++)
        crc |= (uint64_t)footer[2 + k] << (8 * k);
    if (crc != rdb_crc64(0, p, len - 8)) return RDB_BAD_PAYLOAD;
    return rdb_parse_value(p, len - 10, key, out);
}
