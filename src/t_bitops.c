/* t_bitops.c: bitmap commands on strings (SETBIT, GETBIT, BITCOUNT, BITPOS,
 * BITOP, BITFIELD, BITFIELD_RO), as Redis 7.0's bitops.c.
 *
 * Bits are numbered from the most significant bit of the first byte, so
 * offset 0 is the 0x80 bit of byte 0. A missing key reads as an endless run
 * of zero bits. Writes past the end grow the string with zero bytes; as
 * Redis's lookupStringForBitCommand does, a written value is always "raw"
 * (a new one exactly as long as needed, an existing one grown with sds's
 * doubling, see db_string_make_room), even when no bit changes.
 *
 * Offsets obey Redis's limit: a bit offset whose byte is at or past
 * proto-max-bulk-len (2^32 bits by default) is refused with "bit offset is
 * not an integer or out of range". SETBIT and BITFIELD count a change (and
 * notify "setbit") only when a byte really changed or the string grew. */
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* sds's SDS_MAX_PREALLOC: growth reserves at most this much extra. */

#define BIT_OFFSET_ERR "ERR bit offset is not an integer or out of range"
#define BITFIELD_TYPE_ERR                                                                          \
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "    \
    "i64 is."

/* ---- Helpers ---- */

/* Redis's getBitOffsetFromArgument: argv[i] as a bit offset. With `hash`
 * and a width, "#N" means N * bits (BITFIELD's positional form). */
static bool bit_offset_or_reply(struct client *c, int i, bool hash, int bits, uint64_t *out)
{
    struct slice s = c->argv[i];
    size_t skip = (hash && bits > 0 && s.len > 0 && s.ptr[0] == '#') ? 1 : 0;
    long long v;
    if (!str_to_ll(s.ptr + skip, s.len - skip, &v)) {
        reply_error(c, BIT_OFFSET_ERR);
        return false;
    }
    /* Redis multiplies without a check: wrap as its two's complement does. */
    if (skip) v = (long long)((unsigned long long)v * (unsigned long long)bits);
    if (v < 0 ||
        (unsigned long long)(v >> 3) >= (unsigned long long)server.cfg.proto_max_bulk_len) {
        reply_error(c, BIT_OFFSET_ERR);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* Looks `key` up for reading, counting the hit or miss. False after
 * replying WRONGTYPE; *out is NULL when missing. */
static bool lookup_read_string(struct client *c, struct slice key, struct dict_node **out)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, key, &ref);
    db_count_lookup(c->db, o != NULL);
    if (o != NULL && obj_type(o) != OBJ_STRING) {
        reply_wrongtype(c);
        return false;
    }
    *out = o;
    return true;
}

/* Redis's lookupStringForBitCommand: argv[1] as a RAW string at least
 * (maxbit / 8 + 1) bytes long, created or grown with zero bytes. *grew says
 * whether it was created or lengthened. NULL after replying WRONGTYPE. */
static struct dict_node *lookup_string_for_bits(struct client *c, uint64_t maxbit, bool *grew)
{
    size_t need = (size_t)(maxbit >> 3) + 1;
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    if (o != NULL && obj_type(o) != OBJ_STRING) {
        reply_wrongtype(c);
        return NULL;
    }
    *grew = false;
    if (o == NULL) {
        o = obj_create_raw(c->argv[1], SLICE_LIT(""), need, -1); /* exact, as Redis */
        db_insert(c->db, &ref, o);
        memset(obj_string_mut(o), 0, need);
        obj_string_set_len(o, need);
        *grew = true;
        return o;
    }
    size_t cur = obj_strlen(o);
    o = db_string_make_room(c->db, &ref, o, need > cur ? need : cur);
    if (need > cur) {
        memset(obj_string_mut(o) + cur, 0, need - cur);
        obj_string_set_len(o, need);
        *grew = true;
    }
    return o;
}

static void notify_setbit(struct client *c)
{
    db_touch(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "setbit", c->argv[1], c->db->id);
}

/* ---- SETBIT / GETBIT ---- */

/* SETBIT key offset value: replies the bit's previous value. */
static void cmd_setbit(struct client *c)
{
    static const char *err = "ERR bit is not an integer or out of range";
    uint64_t offset;
    if (!bit_offset_or_reply(c, 2, false, 0, &offset)) return;
    long long on;
    if (!str_to_ll(c->argv[3].ptr, c->argv[3].len, &on) || (on & ~1LL)) {
        reply_error(c, err);
        return;
    }
    bool grew;
    struct dict_node *o = lookup_string_for_bits(c, offset, &grew);
    if (o == NULL) return;
    uint8_t *p = (uint8_t *)obj_string_mut(o);
    size_t byte = (size_t)(offset >> 3);
    int bit = 7 - (int)(offset & 7);
    int bitval = (p[byte] >> bit) & 1;
    if (grew || bitval != on) {
        p[byte] = (uint8_t)((p[byte] & ~(1 << bit)) | ((int)on << bit));
        notify_setbit(c);
        server.dirty++;
    }
    reply_int(c, bitval);
}

/* GETBIT key offset */
static void cmd_getbit(struct client *c)
{
    uint64_t offset;
    if (!bit_offset_or_reply(c, 2, false, 0, &offset)) return;
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &o)) return;
    int bitval = 0;
    if (o != NULL) {
        char buf[UTIL_LL_STR_SIZE];
        struct slice s = obj_string(o, buf);
        uint64_t byte = offset >> 3;
        if (byte < s.len) bitval = ((uint8_t)s.ptr[byte] >> (7 - (offset & 7))) & 1;
    }
    reply_int(c, bitval);
}

/* ---- BITCOUNT / BITPOS ---- */

static long long popcount(const uint8_t *p, size_t n)
{
    long long count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += __builtin_popcountll(w);
    }
    for (; i < n; i++)
        count += __builtin_popcount(p[i]);
    return count;
}

/* Redis's redisBitpos: the first bit equal to `bit` in n bytes; -1 if
 * looking for a 1 and there is none, n * 8 if looking for a 0 and there is
 * none (the string is taken as padded with zeros on the right). */
static long long bitpos_bytes(const uint8_t *p, size_t n, int bit)
{
    uint8_t skip = bit ? 0x00 : 0xFF;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == skip) continue;
        for (int b = 7; b >= 0; b--) {
            if (((p[i] >> b) & 1) == bit) return (long long)i * 8 + (7 - b);
        }
    }
    return bit ? -1 : (long long)n * 8;
}

/* Parses "BYTE" or "BIT" at argv[i] into *isbit. */
static bool unit_or_reply(struct client *c, int i, bool *isbit)
{
    if (arg_is(c, i, "bit")) {
        *isbit = true;
    } else if (arg_is(c, i, "byte")) {
        *isbit = false;
    } else {
        reply_syntax_error(c);
        return false;
    }
    return true;
}

/* Turns a [start, end] range (negative from the end, in bits if isbit) into
 * byte indexes plus masks of the bits of the edge bytes that fall outside. */
static void range_to_bytes(long long *start, long long *end, long long totlen, bool isbit,
                           uint8_t *first_neg, uint8_t *last_neg)
{
    if (isbit) totlen <<= 3;
    if (*start < 0) *start = totlen + *start;
    if (*end < 0) *end = totlen + *end;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= totlen) *end = totlen - 1;
    *first_neg = *last_neg = 0;
    if (isbit && *start <= *end) {
        *first_neg = (uint8_t)(~((1 << (8 - (*start & 7))) - 1) & 0xFF);
        *last_neg = (uint8_t)((1 << (7 - (*end & 7))) - 1);
        *start >>= 3;
        *end >>= 3;
    }
}

/* BITCOUNT key [start end [BYTE|BIT]]. As in Redis 7.0 the key is looked
 * up before the range is parsed: a missing key counts 0 whatever follows. */
static void cmd_bitcount(struct client *c)
{
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &o)) return;
    if (o == NULL) {
        reply_int(c, 0);
        return;
    }
    char buf[UTIL_LL_STR_SIZE];
    struct slice s = obj_string(o, buf);
    const uint8_t *p = (const uint8_t *)s.ptr;
    long long start, end;
    uint8_t first_neg = 0, last_neg = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (!arg_ll_or_reply(c, 2, &start) || !arg_ll_or_reply(c, 3, &end)) return;
        if (start < 0 && end < 0 && start > end) {
            reply_int(c, 0);
            return;
        }
        bool isbit = false;
        if (c->argc == 5 && !unit_or_reply(c, 4, &isbit)) return;
        range_to_bytes(&start, &end, (long long)s.len, isbit, &first_neg, &last_neg);
    } else if (c->argc == 2) {
        start = 0;
        end = (long long)s.len - 1;
    } else {
        reply_syntax_error(c);
        return;
    }
    if (start > end) {
        reply_int(c, 0);
        return;
    }
    long long count = popcount(p + start, (size_t)(end - start + 1));
    if (first_neg != 0) count -= __builtin_popcount(p[start] & first_neg);
    if (last_neg != 0) count -= __builtin_popcount(p[end] & last_neg);
    reply_int(c, count);
}

/* BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to `bit` in
 * the range; -1 if none. Looking for a 0 without an explicit end finds the
 * first bit past the string, as if it were padded with zeros. */
static void cmd_bitpos(struct client *c)
{
    long long bit;
    if (!arg_ll_or_reply(c, 2, &bit)) return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    struct dict_node *o;
    if (!lookup_read_string(c, c->argv[1], &o)) return;
    if (o == NULL) {
        reply_int(c, bit ? -1 : 0);
        return;
    }
    char buf[UTIL_LL_STR_SIZE];
    struct slice s = obj_string(o, buf);
    const uint8_t *p = (const uint8_t *)s.ptr;
    long long start, end;
    bool end_given = false;
    uint8_t first_neg = 0, last_neg = 0;
    if (c->argc >= 4 && c->argc <= 6) {
        long long totlen = (long long)s.len;
        bool isbit = false;
        if (!arg_ll_or_reply(c, 3, &start)) return;
        if (c->argc == 6 && !unit_or_reply(c, 5, &isbit)) return;
        if (c->argc >= 5) {
            if (!arg_ll_or_reply(c, 4, &end)) return;
            end_given = true;
        } else {
            end = isbit ? (totlen << 3) + 7 : totlen - 1;
        }
        range_to_bytes(&start, &end, totlen, isbit, &first_neg, &last_neg);
    } else if (c->argc == 3) {
        start = 0;
        end = (long long)s.len - 1;
    } else {
        reply_syntax_error(c);
        return;
    }
    if (start > end) {
        reply_int(c, -1);
        return;
    }
    /* Redis's walk: the first byte (masked), the middle, the last byte
     * (masked); `pos` is relative to `start` once it stops. */
    long long bytes = end - start + 1;
    long long pos;
    uint8_t tmp;
    if (first_neg) {
        tmp = bit ? (uint8_t)(p[start] & ~first_neg) : (uint8_t)(p[start] | first_neg);
        if (last_neg && bytes == 1)
            tmp = bit ? (uint8_t)(tmp & ~last_neg) : (uint8_t)(tmp | last_neg);
        pos = bitpos_bytes(&tmp, 1, (int)bit);
        if (bytes == 1 || (pos != -1 && pos != 8)) goto result;
        start++;
        bytes--;
    }
    long long curbytes = bytes - (last_neg ? 1 : 0);
    if (curbytes > 0) {
        pos = bitpos_bytes(p + start, (size_t)curbytes, (int)bit);
        if (bytes == curbytes || (pos != -1 && pos != curbytes * 8)) goto result;
        start += curbytes;
        bytes -= curbytes;
    }
    tmp = bit ? (uint8_t)(p[end] & ~last_neg) : (uint8_t)(p[end] | last_neg);
    pos = bitpos_bytes(&tmp, 1, (int)bit);
result:
    /* With an explicit end, a 0 found only past the range does not count. */
    if (end_given && bit == 0 && pos == bytes * 8) {
        reply_int(c, -1);
        return;
    }
    if (pos != -1) pos += start * 8;
    reply_int(c, pos);
}

/* ---- BITOP ---- */

enum bitop { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

/* BITOP AND|OR|XOR|NOT destkey key [key ...]: stores the result (as long as
 * the longest source, shorter ones padded with zeros) and replies its
 * length; an empty result deletes destkey. */
static void cmd_bitop(struct client *c)
{
    enum bitop op;
    if (arg_is(c, 1, "and")) {
        op = BITOP_AND;
    } else if (arg_is(c, 1, "or")) {
        op = BITOP_OR;
    } else if (arg_is(c, 1, "xor")) {
        op = BITOP_XOR;
    } else if (arg_is(c, 1, "not")) {
        op = BITOP_NOT;
    } else {
        reply_syntax_error(c);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    int n = c->argc - 3;
    /* Integers are formatted into bufs; the slices borrow the entries,
     * which nothing changes until the result is stored. */
    struct slice *src = em_malloc((size_t)n * sizeof(*src));
    char(*bufs)[UTIL_LL_STR_SIZE] = em_malloc((size_t)n * UTIL_LL_STR_SIZE);
    size_t maxlen = 0;
    for (int j = 0; j < n; j++) {
        struct dict_node *o;
        if (!lookup_read_string(c, c->argv[j + 3], &o)) {
            em_free(src);
            em_free(bufs);
            return;
        }
        src[j] = o == NULL ? SLICE_LIT("") : obj_string(o, bufs[j]);
        if (src[j].len > maxlen) maxlen = src[j].len;
    }
    uint8_t *res = NULL;
    if (maxlen > 0) {
        res = em_malloc(maxlen);
        for (size_t i = 0; i < maxlen; i++) {
            uint8_t out = i < src[0].len ? (uint8_t)src[0].ptr[i] : 0;
            if (op == BITOP_NOT) out = (uint8_t)~out;
            for (int j = 1; j < n; j++) {
                uint8_t b = i < src[j].len ? (uint8_t)src[j].ptr[i] : 0;
                if (op == BITOP_AND) {
                    out &= b;
                } else if (op == BITOP_OR) {
                    out |= b;
                } else {
                    out ^= b;
                }
            }
            res[i] = out;
        }
    }
    em_free(src);
    em_free(bufs);

    struct slice dest = c->argv[2];
    if (maxlen > 0) {
        /* setKey: replaces any value and drops its TTL; always "raw". */
        db_set(c->db, obj_create_raw(dest, (struct slice){(const char *)res, maxlen}, 0, -1));
        em_free(res);
        db_touch(c->db, dest);
        notify_keyspace_event(NOTIFY_STRING, "set", dest, c->db->id);
        server.dirty++;
    } else if (db_delete(c->db, dest)) {
        db_touch(c->db, dest);
        notify_keyspace_event(NOTIFY_GENERIC, "del", dest, c->db->id);
        server.dirty++;
    }
    reply_int(c, (long long)maxlen);
}

/* ---- BITFIELD ---- */

enum bf_opcode { BF_GET, BF_SET, BF_INCRBY };
enum bf_overflow { BF_WRAP, BF_SAT, BF_FAIL };

struct bf_op {
    uint64_t offset;
    int64_t i64; /* the SET value or INCRBY increment */
    enum bf_opcode opcode;
    enum bf_overflow overflow;
    int bits;
    bool sign;
};

static uint64_t get_unsigned_field(const uint8_t *p, uint64_t offset, int bits)
{
    uint64_t value = 0;
    for (int j = 0; j < bits; j++, offset++) {
        uint64_t bitval = (p[offset >> 3] >> (7 - (offset & 7))) & 1;
        value = (value << 1) | bitval;
    }
    return value;
}

static int64_t get_signed_field(const uint8_t *p, uint64_t offset, int bits)
{
    uint64_t u = get_unsigned_field(p, offset, bits);
    if (bits < 64 && (u & ((uint64_t)1 << (bits - 1)))) u |= UINT64_MAX << bits;
    int64_t v;
    memcpy(&v, &u, sizeof(v)); /* two's complement */
    return v;
}

static void set_unsigned_field(uint8_t *p, uint64_t offset, int bits, uint64_t value)
{
    for (int j = 0; j < bits; j++, offset++) {
        unsigned bitval = (value >> (bits - 1 - j)) & 1;
        unsigned bit = 7 - (unsigned)(offset & 7);
        p[offset >> 3] = (uint8_t)((p[offset >> 3] & ~(1u << bit)) | (bitval << bit));
    }
}

/* Redis's checkUnsignedBitfieldOverflow: 1 on overflow, -1 on underflow,
 * 0 if value + incr fits in `bits`; *limit gets the wrapped or saturated
 * result as `ow` says (untouched for FAIL). */
static int unsigned_overflow(uint64_t value, int64_t incr, int bits, enum bf_overflow ow,
                             uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int res;
    if (value > max || (incr > 0 && incr > maxincr)) {
        res = 1;
        if (ow == BF_SAT) *limit = max;
    } else if (incr < 0 && incr < minincr) {
        res = -1;
        if (ow == BF_SAT) *limit = 0;
    } else {
        return 0;
    }
    if (ow == BF_WRAP) {
        uint64_t r = value + (uint64_t)incr;
        if (bits < 64) r &= ~(UINT64_MAX << bits);
        *limit = r;
        return 1;
    }
    return res;
}

/* Redis's checkSignedBitfieldOverflow, the same for signed fields. */
static int signed_overflow(int64_t value, int64_t incr, int bits, enum bf_overflow ow,
                           int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    /* Computed with wrap-around, used only once value is known in range. */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int res;
    if (value > max || (bits != 64 && incr > maxincr) ||
        (value >= 0 && incr > 0 && incr > maxincr)) {
        res = 1;
        if (ow == BF_SAT) *limit = max;
    } else if (value < min || (bits != 64 && incr < minincr) ||
               (value < 0 && incr < 0 && incr < minincr)) {
        res = -1;
        if (ow == BF_SAT) *limit = min;
    } else {
        return 0;
    }
    if (ow == BF_WRAP) {
        uint64_t r = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t mask = UINT64_MAX << bits;
            if (r & ((uint64_t)1 << (bits - 1))) {
                r |= mask;
            } else {
                r &= ~mask;
            }
        }
        memcpy(limit, &r, sizeof(r));
        return 1;
    }
    return res;
}

/* Redis's getBitfieldTypeFromArgument: "i1".."i64" or "u1".."u63". */
static bool bitfield_type_or_reply(struct client *c, int i, bool *sign, int *bits)
{
    struct slice s = c->argv[i];
    long long n;
    if (s.len == 0 || (s.ptr[0] != 'i' && s.ptr[0] != 'u')) {
        reply_error(c, BITFIELD_TYPE_ERR);
        return false;
    }
    *sign = s.ptr[0] == 'i';
    /* Redis reads the width as a C string: it ends at a zero byte. */
    const char *nul = memchr(s.ptr + 1, '\0', s.len - 1);
    size_t len = nul != NULL ? (size_t)(nul - (s.ptr + 1)) : s.len - 1;
    if (!str_to_ll(s.ptr + 1, len, &n) || n < 1 || (*sign && n > 64) || (!*sign && n > 63)) {
        reply_error(c, BITFIELD_TYPE_ERR);
        return false;
    }
    *bits = (int)n;
    return true;
}

/* Runs one SET or INCRBY on the field; replies the result (nil when FAIL
 * stopped it). Returns -1 if FAIL stopped it, else whether the field's
 * value changed. */
static int bitfield_write(struct client *c, uint8_t *p, const struct bf_op *op)
{
    bool fail;
    bool changed;
    if (op->sign) {
        int64_t oldval = get_signed_field(p, op->offset, op->bits), newval, wrapped = 0, ret;
        int ov;
        if (op->opcode == BF_INCRBY) {
            ov = signed_overflow(oldval, op->i64, op->bits, op->overflow, &wrapped);
            newval = ov ? wrapped : (int64_t)((uint64_t)oldval + (uint64_t)op->i64);
            ret = newval;
        } else {
            newval = op->i64;
            ov = signed_overflow(newval, 0, op->bits, op->overflow, &wrapped);
            if (ov) newval = wrapped;
            ret = oldval;
        }
        fail = ov && op->overflow == BF_FAIL;
        if (!fail) {
            reply_int(c, ret);
            set_unsigned_field(p, op->offset, op->bits, (uint64_t)newval);
        }
        changed = oldval != newval;
    } else {
        uint64_t oldval = get_unsigned_field(p, op->offset, op->bits), newval, wrapped = 0, ret;
        int ov;
        if (op->opcode == BF_INCRBY) {
            newval = oldval + (uint64_t)op->i64;
            ov = unsigned_overflow(oldval, op->i64, op->bits, op->overflow, &wrapped);
            if (ov) newval = wrapped;
            ret = newval;
        } else {
            newval = (uint64_t)op->i64;
            ov = unsigned_overflow(newval, 0, op->bits, op->overflow, &wrapped);
            if (ov) newval = wrapped;
            ret = oldval;
        }
        fail = ov && op->overflow == BF_FAIL;
        if (!fail) {
            reply_int(c, (long long)ret);
            set_unsigned_field(p, op->offset, op->bits, newval);
        }
        changed = oldval != newval;
    }
    if (fail) {
        reply_null(c);
        return -1;
    }
    return changed;
}

/* BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset
 * increment] [OVERFLOW WRAP|SAT|FAIL] ...: every operation is parsed (and
 * any error replied) before the key is touched; one reply per GET, SET and
 * INCRBY. BITFIELD_RO accepts GET only. */
static void bitfield_generic(struct client *c, bool ro)
{
    struct bf_op *ops = NULL;
    int numops = 0;
    enum bf_overflow overflow = BF_WRAP;
    bool readonly = true;
    uint64_t highest = 0;

    for (int j = 2; j < c->argc; j++) {
        int remargs = c->argc - j - 1;
        enum bf_opcode opcode;
        if (arg_is(c, j, "get") && remargs >= 2) {
            opcode = BF_GET;
        } else if (arg_is(c, j, "set") && remargs >= 3) {
            opcode = BF_SET;
        } else if (arg_is(c, j, "incrby") && remargs >= 3) {
            opcode = BF_INCRBY;
        } else if (arg_is(c, j, "overflow") && remargs >= 1) {
            j++;
            if (arg_is(c, j, "wrap")) {
                overflow = BF_WRAP;
            } else if (arg_is(c, j, "sat")) {
                overflow = BF_SAT;
            } else if (arg_is(c, j, "fail")) {
                overflow = BF_FAIL;
            } else {
                reply_error(c, "ERR Invalid OVERFLOW type specified");
                goto done;
            }
            continue;
        } else {
            reply_syntax_error(c);
            goto done;
        }
        struct bf_op op = {.opcode = opcode, .overflow = overflow};
        if (!bitfield_type_or_reply(c, j + 1, &op.sign, &op.bits)) goto done;
        if (!bit_offset_or_reply(c, j + 2, true, op.bits, &op.offset)) goto done;
        if (opcode != BF_GET) {
            readonly = false;
            if (highest < op.offset + (uint64_t)op.bits - 1) highest = op.offset + op.bits - 1;
            long long v;
            if (!arg_ll_or_reply(c, j + 3, &v)) goto done;
            op.i64 = v;
        }
        ops = em_realloc(ops, (size_t)(numops + 1) * sizeof(*ops));
        ops[numops++] = op;
        j += opcode == BF_GET ? 2 : 3;
    }

    struct dict_node *o;
    bool grew = false;
    if (readonly) {
        if (!lookup_read_string(c, c->argv[1], &o)) goto done;
    } else {
        if (ro) {
            reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        o = lookup_string_for_bits(c, highest, &grew);
        if (o == NULL) goto done;
    }

    reply_array_len(c, numops);
    long long changes = 0;
    for (int j = 0; j < numops; j++) {
        const struct bf_op *op = &ops[j];
        if (op->opcode != BF_GET) {
            /* Redis counts a write that changed nothing when the string
             * grew, but never one FAIL stopped. */
            int r = bitfield_write(c, (uint8_t *)obj_string_mut(o), op);
            if (r == 1 || (r == 0 && grew)) changes++;
            continue;
        }
        /* GET reads through a zero-padded copy of up to 9 bytes, so fields
         * past the end read as zeros. */
        uint8_t buf[9] = {0};
        char llbuf[UTIL_LL_STR_SIZE];
        uint64_t byte = op->offset >> 3;
        if (o != NULL) {
            struct slice s = obj_string(o, llbuf);
            for (uint64_t i = 0; i < 9 && byte + i < s.len; i++)
                buf[i] = (uint8_t)s.ptr[byte + i];
        }
        if (op->sign) {
            reply_int(c, get_signed_field(buf, op->offset - byte * 8, op->bits));
        } else {
            reply_int(c, (long long)get_unsigned_field(buf, op->offset - byte * 8, op->bits));
        }
    }
    if (changes > 0) {
        notify_setbit(c);
        server.dirty += changes;
    }
done:
    em_free(ops);
}

static void cmd_bitfield(struct client *c)
{
    bitfield_generic(c, false);
}

static void cmd_bitfield_ro(struct client *c)
{
    bitfield_generic(c, true);
}

/* ---- Command table (Redis 7.0's arity, flags and key positions) ---- */

#define BIT_CMD(n, p, a, f, fk, lk, st, sum_, since_, cx_)                                         \
    {                                                                                              \
        .name = (n), .proc = (p), .arity = (a), .flags = (f), .first_key = (fk), .last_key = (lk), \
        .key_step = (st), .group = "bitmap", .summary = (sum_), .since = (since_),                 \
        .complexity = (cx_)                                                                        \
    }

/* clang-format off */
struct command bitops_commands[] = {
    BIT_CMD("setbit", cmd_setbit, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Sets or clears the bit at offset in the string value stored at key", "2.2.0",
            "O(1)"),
    BIT_CMD("getbit", cmd_getbit, 3, CMD_READONLY | CMD_FAST, 1, 1, 1,
            "Returns the bit value at offset in the string value stored at key", "2.2.0",
            "O(1)"),
    BIT_CMD("bitcount", cmd_bitcount, -2, CMD_READONLY, 1, 1, 1,
            "Count set bits in a string", "2.6.0", "O(N)"),
    BIT_CMD("bitpos", cmd_bitpos, -3, CMD_READONLY, 1, 1, 1,
            "Find first bit set or clear in a string", "2.8.7", "O(N)"),
    BIT_CMD("bitop", cmd_bitop, -4, CMD_WRITE | CMD_DENYOOM, 2, -1, 1,
            "Perform bitwise operations between strings", "2.6.0", "O(N)"),
    BIT_CMD("bitfield", cmd_bitfield, -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
            "Perform arbitrary bitfield integer operations on strings", "3.2.0",
            "O(1) for each subcommand specified"),
    BIT_CMD("bitfield_ro", cmd_bitfield_ro, -2, CMD_READONLY | CMD_FAST, 1, 1, 1,
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of "
            "BITFIELD", "6.0.0", "O(1) for each subcommand specified"),
    COMMAND_TABLE_END,
};
/* clang-format on */
