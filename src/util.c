/* util.c: numbers, glob matching, argument splitting, hashing, randomness and
 * the cached clock.
 *
 * Everything here is a leaf: it needs only libc and mem.c, so every other
 * module may call it and it is tested alone.
 *
 *  - Numbers follow Redis 7.0 byte for byte (string2ll, string2d, string2ld,
 *    d2string, ld2string, memtoll), because clients compare the replies as
 *    text: INCRBYFLOAT must print "1.1" and ZSCORE "1.1000000000000001".
 *    Parsers take a length, not a C string; where Redis relies on libc
 *    (strtod, strtold) the bytes are first copied next to a NUL.
 *  - glob_match() is Redis's stringmatchlen(), including the two guards that
 *    keep KEYS and SCAN MATCH from hanging on hostile patterns: recursion
 *    stops 1000 '*' deep (CVE-2022-36021), and once the text after a '*'
 *    matches nowhere, the '*'s before it stop trying longer matches.
 *  - split_args() is Redis's sdssplitargs(), used for inline commands and
 *    the config file. Redis hands it a C string, so a NUL byte ends the line.
 *  - hash_bytes() is SipHash-1-2 (Redis's dict hash) keyed by a per-process
 *    seed, so clients cannot choose keys that collide in one bucket.
 *  - The clock is read once per event-loop iteration and cached, so every
 *    command in that iteration sees the same "now" (and tests can freeze
 *    it). The cache and the hash seed are the only process-wide state. */
#include "ember/util.h"

#include "ember/mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

/* ---- Numbers ---- */

/* Redis's MAX_LONG_DOUBLE_CHARS: string2ld() copies into a buffer this big,
 * so the longest accepted text is one byte shorter. */
#define LD_PARSE_BUF_SIZE 5120

/* d2string() prints integral doubles in this open interval with the integer
 * printer; outside it the value is past 2^52 and "%.17g" is used. (Redis's
 * own bounds, -(2^52 - 1) and 2^52.) */
#define D_INT_MIN -4503599627370495.0
#define D_INT_MAX 4503599627370496.0

/* Parses digits with no sign and no leading zero: what string2ll() accepts
 * after its optional '-'. "0" alone is the callers' special case, so that
 * "-0" and "00" stay invalid. */
static bool parse_nonzero_digits(const char *s, size_t len, unsigned long long *out)
{
    if (len == 0 || s[0] < '1' || s[0] > '9') return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return false; /* v * 10 + d would wrap */
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool str_to_ll(const char *s, size_t len, long long *out)
{
    /* The longest valid text is "-9223372036854775808" (20 bytes). */
    if (len == 0 || len >= UTIL_LL_STR_SIZE) return false;
    if (len == 1 && s[0] == '0') {
        if (out != NULL) *out = 0;
        return true;
    }
    bool negative = s[0] == '-';
    size_t skip = negative ? 1 : 0;
    unsigned long long v;
    if (!parse_nonzero_digits(s + skip, len - skip, &v)) return false;

    long long result;
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        /* -v would overflow a long long at exactly 2^63. */
        result = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        result = (long long)v;
    }
    if (out != NULL) *out = result;
    return true;
}

bool str_to_ull(const char *s, size_t len, unsigned long long *out)
{
    /* The longest valid text is "18446744073709551615" (20 bytes). */
    if (len == 0 || len >= UTIL_LL_STR_SIZE) return false;
    unsigned long long v = 0;
    if (!(len == 1 && s[0] == '0') && !parse_nonzero_digits(s, len, &v)) return false;
    if (out != NULL) *out = v;
    return true;
}

/* Returns s[0..len) followed by a NUL, in `stackbuf` when it fits and in a
 * heap copy otherwise (free it with em_free() when it is not stackbuf).
 * strtod() and strtold() need the terminator; Redis's sds strings carry one. */
static char *nul_terminated(const char *s, size_t len, char *stackbuf, size_t stacksize)
{
    char *buf = len < stacksize ? stackbuf : em_malloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

bool str_to_d(const char *s, size_t len, double *out)
{
    if (len == 0 || isspace((unsigned char)s[0])) return false;

    char stackbuf[128];
    char *buf = nul_terminated(s, len, stackbuf, sizeof(stackbuf));
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    /* ERANGE with a finite non-zero result is a denormal: Redis keeps it. */
    bool ok = (size_t)(end - buf) == len && !isnan(v) &&
              !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0));
    if (buf != stackbuf) em_free(buf);

    if (ok && out != NULL) *out = v;
    return ok;
}

bool str_to_ld(const char *s, size_t len, long double *out)
{
    if (len == 0 || len >= LD_PARSE_BUF_SIZE || isspace((unsigned char)s[0])) return false;

    char stackbuf[128];
    char *buf = nul_terminated(s, len, stackbuf, sizeof(stackbuf));
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    bool ok = (size_t)(end - buf) == len && !isnan(v) && errno != EINVAL &&
              !(errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0));
    if (buf != stackbuf) em_free(buf);

    if (ok && out != NULL) *out = v;
    return ok;
}

/* Writes a fixed word; returns its length, or 0 (and an empty string when
 * size allows) if it does not fit, as Redis's printers do. */
static int put_word(char *dst, size_t size, const char *word)
{
    size_t n = strlen(word);
    if (n + 1 > size) {
        if (size > 0) dst[0] = '\0';
        return 0;
    }
    memcpy(dst, word, n + 1);
    return (int)n;
}

int ull_to_str(char *dst, size_t size, unsigned long long v)
{
    char digits[UTIL_LL_STR_SIZE]; /* filled from the end, no terminator */
    char *p = digits + sizeof(digits);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);

    size_t n = (size_t)(digits + sizeof(digits) - p);
    if (n + 1 > size) {
        if (size > 0) dst[0] = '\0';
        return 0;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return (int)n;
}

int ll_to_str(char *dst, size_t size, long long v)
{
    if (v >= 0) return ull_to_str(dst, size, (unsigned long long)v);

    /* Negate in unsigned arithmetic: -LLONG_MIN does not fit a long long. */
    unsigned long long magnitude = (unsigned long long)(-(v + 1)) + 1;
    if (size < 2) {
        if (size > 0) dst[0] = '\0';
        return 0;
    }
    int n = ull_to_str(dst + 1, size - 1, magnitude);
    if (n == 0) {
        dst[0] = '\0';
        return 0;
    }
    dst[0] = '-';
    return n + 1;
}

int d_to_str(char *dst, size_t size, double v)
{
    if (isnan(v)) return put_word(dst, size, "nan");
    if (isinf(v)) return put_word(dst, size, v < 0 ? "-inf" : "inf");
    if (v == 0) return put_word(dst, size, signbit(v) ? "-0" : "0");
    /* The integer printer is only a shortcut: "%.17g" prints these values
     * with the same digits. */
    if (v > D_INT_MIN && v < D_INT_MAX && v == (double)(long long)v) {
        return ll_to_str(dst, size, (long long)v);
    }

    int n = snprintf(dst, size, "%.17g", v);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0) dst[0] = '\0';
        return 0;
    }
    return n;
}

int ld_to_str(char *dst, size_t size, long double v)
{
    /* Spelled out rather than left to printf, as Redis does. */
    if (isinf(v)) return put_word(dst, size, v > 0 ? "inf" : "-inf");

    /* 17 digits after the point: after rounding, most short decimals the
     * user typed come back as typed ("1.1", not "1.10000000000000009"). */
    int n = snprintf(dst, size, "%.17Lf", v);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0) dst[0] = '\0';
        return 0;
    }
    size_t len = (size_t)n;
    if (memchr(dst, '.', len) != NULL) {
        while (dst[len - 1] == '0')
            len--;
        if (dst[len - 1] == '.') len--;
    }
    /* A tiny negative result prints as "-0.000..." and trims to "-0". */
    if (len == 2 && dst[0] == '-' && dst[1] == '0') {
        dst[0] = '0';
        len = 1;
    }
    dst[len] = '\0';
    return (int)len;
}

long long mem_to_ll(const char *s, bool *ok)
{
    static const struct {
        const char *name;
        long long mul;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1024},
        {"m", 1000 * 1000},
        {"mb", 1024 * 1024},
        {"g", 1000LL * 1000 * 1000},
        {"gb", 1024LL * 1024 * 1024},
    };

    /* The number ends at the first non-digit; the rest must be a unit. */
    const char *u = s;
    if (*u == '-') u++;
    while (*u >= '0' && *u <= '9')
        u++;
    long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) mul = units[i].mul;
    }

    char buf[128];
    size_t digits = (size_t)(u - s);
    if (mul == 0 || digits >= sizeof(buf)) goto fail;
    memcpy(buf, s, digits);
    buf[digits] = '\0';

    /* As in Redis, no digits at all ("" or "kb") reads as 0; a lone "-" is
     * an error. Unlike Redis, overflow is an error rather than a clamped or
     * wrapped value. */
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE) goto fail;
    if (v > LLONG_MAX / mul || v < LLONG_MIN / mul) goto fail;

    if (ok != NULL) *ok = true;
    return v * mul;

fail:
    if (ok != NULL) *ok = false;
    return 0;
}

/* ---- Strings ---- */

/* Redis stops recursing this many '*' deep (CVE-2022-36021). */
#define GLOB_MAX_NESTING 1000

/* ASCII-only case folding: what tolower() does in the C locale, without
 * depending on the process locale. */
static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Bytes compare as plain `char`, signed on the platforms Redis is built for,
 * so that ranges over bytes >= 0x80 select the same bytes Redis selects. */
static int glob_byte(char c, bool nocase)
{
    int v = (signed char)c; /* NOLINT(bugprone-signed-char-misuse): Redis's signed bytes */
    return nocase ? ascii_lower(v) : v;
}

/* The body of a '[...]' class: *pp points just past the '[' with *plenp bytes
 * left. Returns whether byte `c` is in the class and leaves *pp on the
 * closing ']' (or on the last pattern byte when the class is unterminated),
 * which the caller then steps over like any other pattern byte. */
static bool glob_class(const char **pp, size_t *plenp, char c, bool nocase)
{
    const char *p = *pp;
    size_t plen = *plenp;
    bool negate = plen > 0 && p[0] == '^';
    if (negate) {
        p++;
        plen--;
    }
    bool match = false;
    for (;;) {
        if (plen == 0) {
            p--; /* unterminated: stand on the last byte */
            plen++;
            break;
        }
        if (p[0] == '\\' && plen >= 2) {
            p++;
            plen--;
            if (p[0] == c) match = true; /* escapes ignore nocase, as in Redis */
        } else if (p[0] == ']') {
            break;
        } else if (plen >= 3 && p[1] == '-') {
            int start = glob_byte(p[0], false);
            int end = glob_byte(p[2], false);
            int v = glob_byte(c, false);
            if (start > end) { /* [z-a] means [a-z] */
                int t = start;
                start = end;
                end = t;
            }
            if (nocase) {
                start = ascii_lower(start);
                end = ascii_lower(end);
                v = ascii_lower(v);
            }
            if (v >= start && v <= end) match = true;
            p += 2;
            plen -= 2;
        } else if (glob_byte(p[0], nocase) == glob_byte(c, nocase)) {
            match = true;
        }
        p++;
        plen--;
    }
    *pp = p;
    *plenp = plen;
    return negate ? !match : match;
}

/* Redis's stringmatchlen_impl(). *skip_longer is set once the rest of the
 * pattern after some '*' failed at every position of the remaining text:
 * letting an earlier '*' swallow more text can only start that rest later,
 * so it cannot succeed either, and every enclosing loop gives up at once.
 * This keeps "*a*a*a*...b" against "aaaa..." polynomial instead of
 * exponential. */
static bool glob_impl(const char *p, size_t plen, const char *s, size_t slen, bool nocase,
                      bool *skip_longer, int nesting)
{
    if (nesting > GLOB_MAX_NESTING) return false;

    while (plen > 0 && slen > 0) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1) return true; /* a trailing '*' takes the rest */
            while (slen > 0) {
                if (glob_impl(p + 1, plen - 1, s, slen, nocase, skip_longer, nesting + 1)) {
                    return true;
                }
                if (*skip_longer) return false;
                s++;
                slen--;
            }
            *skip_longer = true;
            return false;
        case '?':
            s++;
            slen--;
            break;
        case '[':
            p++;
            plen--;
            if (!glob_class(&p, &plen, s[0], nocase)) return false;
            s++;
            slen--;
            break;
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (glob_byte(p[0], nocase) != glob_byte(s[0], nocase)) return false;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            /* Trailing stars match the empty rest of the text. */
            while (plen > 0 && p[0] == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    /* Note that an empty text matches only an empty pattern: Redis 7.0 does
     * not match "" against "*" here (KEYS * takes another path). */
    return plen == 0 && slen == 0;
}

bool glob_match(const char *pat, size_t patlen, const char *s, size_t slen, bool nocase)
{
    bool skip_longer = false;
    return glob_impl(pat, patlen, s, slen, nocase, &skip_longer, 0);
}

/* A growing argument buffer for split_args(). */
struct arg_buf {
    char *ptr;
    size_t len;
    size_t cap;
};

static void arg_buf_push(struct arg_buf *b, char c)
{
    if (b->len + 1 >= b->cap) { /* keep room for the terminator */
        b->cap = b->cap == 0 ? 16 : b->cap * 2;
        b->ptr = em_realloc(b->ptr, b->cap);
    }
    b->ptr[b->len++] = c;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    return ascii_lower(c) - 'a' + 10;
}

/* Byte i of the line, or NUL past its end, mirroring Redis's walk over a C
 * string. */
static char peek(const char *line, size_t len, size_t i)
{
    return i < len ? line[i] : '\0';
}

/* What a closing quote may be followed by: whitespace or the end. */
static bool ends_token(char c)
{
    return c == '\0' || isspace((unsigned char)c);
}

/* Reads one argument starting at line[*pos] (not whitespace) into b, and
 * moves *pos past it and the byte that ended it. Returns false on unbalanced
 * quotes or a closing quote followed by something other than whitespace. */
static bool split_one(const char *line, size_t len, size_t *pos, struct arg_buf *b)
{
    enum { BARE, IN_DOUBLE, IN_SINGLE } mode = BARE;
    size_t i = *pos;
    bool done = false;

    while (!done) {
        char c = peek(line, len, i);
        if (mode == IN_DOUBLE) {
            if (c == '\\' && peek(line, len, i + 1) == 'x' && is_hex(peek(line, len, i + 2)) &&
                is_hex(peek(line, len, i + 3))) {
                arg_buf_push(b, (char)(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
                i += 3;
            } else if (c == '\\' && peek(line, len, i + 1) != '\0') {
                i++;
                switch (line[i]) {
                case 'n':
                    arg_buf_push(b, '\n');
                    break;
                case 'r':
                    arg_buf_push(b, '\r');
                    break;
                case 't':
                    arg_buf_push(b, '\t');
                    break;
                case 'b':
                    arg_buf_push(b, '\b');
                    break;
                case 'a':
                    arg_buf_push(b, '\a');
                    break;
                default:
                    arg_buf_push(b, line[i]);
                    break;
                }
            } else if (c == '"') {
                if (!ends_token(peek(line, len, i + 1))) return false;
                done = true;
            } else if (c == '\0') {
                return false; /* unterminated quotes */
            } else {
                arg_buf_push(b, c);
            }
        } else if (mode == IN_SINGLE) {
            if (c == '\\' && peek(line, len, i + 1) == '\'') {
                i++;
                arg_buf_push(b, '\'');
            } else if (c == '\'') {
                if (!ends_token(peek(line, len, i + 1))) return false;
                done = true;
            } else if (c == '\0') {
                return false; /* unterminated quotes */
            } else {
                arg_buf_push(b, c);
            }
        } else {
            /* Outside quotes only these end an argument; a quote opens a
             * quoted part of the same argument (a"b c" is `ab c`). */
            switch (c) {
            case ' ':
            case '\n':
            case '\r':
            case '\t':
            case '\0':
                done = true;
                break;
            case '"':
                mode = IN_DOUBLE;
                break;
            case '\'':
                mode = IN_SINGLE;
                break;
            default:
                arg_buf_push(b, c);
                break;
            }
        }
        if (i < len) i++;
    }
    *pos = i;
    return true;
}

int split_args(const char *line, size_t len, char ***argv_out, size_t **lens_out)
{
    /* Redis splits a C string: the line ends at its first NUL byte. */
    const char *nul = len > 0 ? memchr(line, '\0', len) : NULL;
    if (nul != NULL) len = (size_t)(nul - line);

    char **argv = NULL;
    size_t *lens = NULL;
    int argc = 0;
    size_t pos = 0;
    *argv_out = NULL;
    *lens_out = NULL;

    for (;;) {
        while (pos < len && isspace((unsigned char)line[pos]))
            pos++;
        if (pos == len) break;

        struct arg_buf b = {em_malloc(16), 0, 16};
        if (!split_one(line, len, &pos, &b)) {
            em_free(b.ptr);
            split_args_free(argv, lens, argc);
            return -1;
        }
        b.ptr[b.len] = '\0';
        argv = em_realloc(argv, sizeof(*argv) * (size_t)(argc + 1));
        lens = em_realloc(lens, sizeof(*lens) * (size_t)(argc + 1));
        argv[argc] = b.ptr;
        lens[argc] = b.len;
        argc++;
    }
    *argv_out = argv;
    *lens_out = lens;
    return argc;
}

void split_args_free(char **argv, size_t *lens, int argc)
{
    if (argv != NULL) {
        for (int i = 0; i < argc; i++) {
            em_free(argv[i]);
        }
    }
    em_free(argv);
    em_free(lens);
}

bool slice_eq_nocase(struct slice s, const char *word)
{
    size_t i = 0;
    for (; i < s.len; i++) {
        /* A NUL in word ends it, so a longer slice fails here too. */
        if (word[i] == '\0' ||
            ascii_lower((unsigned char)s.ptr[i]) != ascii_lower((unsigned char)word[i])) {
            return false;
        }
    }
    return word[i] == '\0';
}

/* ---- Hashing and randomness ---- */

/* SipHash-1-2: one compression round per 8-byte block and two finalization
 * rounds. Redis chose it over SipHash-2-4 for speed; it remains keyed, which
 * is what matters against collision flooding. */
#define SIPHASH_C_ROUNDS 1
#define SIPHASH_D_ROUNDS 2

static uint8_t hash_seed[16];

void hash_set_seed(const uint8_t seed[16])
{
    memcpy(hash_seed, seed, sizeof(hash_seed));
}

static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

/* Little-endian load of 8 bytes, optionally ASCII-lowercased on the way. */
/* Little-endian 64-bit load; the case-folding variant lowers ASCII letters
 * of all eight bytes at once (bytes 'A'..'Z' get 0x20 added). */
static inline uint64_t load_le64(const uint8_t *p, bool nocase)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    if (nocase) {
        /* Per byte: is it in 'A'..'Z'? Computed without branches on the
         * low 7 bits, then masked to bytes below 0x80. */
        uint64_t low7 = v & 0x7f7f7f7f7f7f7f7fULL;
        uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL; /* high bit set if >= 'A' */
        uint64_t gt_z = low7 + 0x2525252525252525ULL; /* high bit set if >  'Z' */
        uint64_t upper = ge_a & ~gt_z & ~v & 0x8080808080808080ULL;
        v |= upper >> 2; /* 0x80 >> 2 == 0x20 */
    }
    return v;
}

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

static inline __attribute__((always_inline)) void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

static inline __attribute__((always_inline)) void sip_compress(struct sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    for (int i = 0; i < SIPHASH_C_ROUNDS; i++) {
        sip_round(s);
    }
    s->v0 ^= m;
}

/* Always inlined into its two callers, so `nocase` is a constant there and
 * the case-sensitive hash (every key lookup) carries no folding code. */
static inline __attribute__((always_inline)) uint64_t siphash(const uint8_t *in, size_t len,
                                                              bool nocase)
{
    uint64_t k0 = load_le64(hash_seed, false);
    uint64_t k1 = load_le64(hash_seed + 8, false);
    struct sip_state s = {
        0x736f6d6570736575ULL ^ k0,
        0x646f72616e646f6dULL ^ k1,
        0x6c7967656e657261ULL ^ k0,
        0x7465646279746573ULL ^ k1,
    };

    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        sip_compress(&s, load_le64(in + i, nocase));
    }
    /* The last block holds the 0-7 leftover bytes and the length mod 256. */
    uint8_t tail[8] = {0};
    memcpy(tail, in + full, len - full);
    uint64_t last = load_le64(tail, nocase) | ((uint64_t)len << 56);
    sip_compress(&s, last);

    s.v2 ^= 0xff;
    for (int i = 0; i < SIPHASH_D_ROUNDS; i++) {
        sip_round(&s);
    }
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t hash_bytes(const void *p, size_t len)
{
    return siphash(p, len, false);
}

uint64_t hash_bytes_nocase(const void *p, size_t len)
{
    return siphash(p, len, true);
}

/* splitmix64: spreads one 64-bit seed over xoshiro's 256 bits of state, so
 * nearby seeds give unrelated streams and the state is never all zero. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    if (n == 0) return 0; /* outside the contract; avoids dividing by zero */
    /* Draws below 2^64 mod n are rejected: the accepted range then holds a
     * whole number of copies of [0, n), so `x % n` favours no value. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold) return x % n;
    }
}

/* Last resort when /dev/urandom is unreadable (a chroot without /dev): not
 * cryptographic, but differs between processes and between calls. */
static void weak_random_bytes(uint8_t *dst, size_t len)
{
    static uint64_t calls;
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t x = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
    x ^= ((uint64_t)mono.tv_nsec << 20) ^ ((uint64_t)getpid() << 32);
    x ^= (uint64_t)(uintptr_t)&rt ^ ++calls * 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix64(&x);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(dst + i, &v, n);
    }
}

void random_bytes(void *dst, size_t len)
{
    uint8_t *out = dst;
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < len) {
            ssize_t n = read(fd, out + got, len - got);
            if (n > 0) {
                got += (size_t)n;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                break;
            }
        }
        close(fd);
    }
    if (got < len) weak_random_bytes(out + got, len - got);
}

/* ---- Clock ---- */

/* The cached wall clock. `ready` is false until the first read, so a call
 * made before the event loop starts still gets the real time. */
static struct {
    long long us;
    bool ready;
    bool frozen;
} cached_clock;

long long clock_ms(void)
{
    return clock_us() / 1000;
}

long long clock_us(void)
{
    if (!cached_clock.ready) clock_update();
    return cached_clock.us;
}

void clock_update(void)
{
    if (cached_clock.frozen) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cached_clock.us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    cached_clock.ready = true;
}

void clock_freeze(long long ms)
{
    cached_clock.us = ms * 1000;
    cached_clock.ready = true;
    cached_clock.frozen = true;
}

void clock_unfreeze(void)
{
    /* Back to real time at once, rather than a stale frozen value until the
     * next loop iteration. */
    cached_clock.frozen = false;
    clock_update();
}

long long clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The tick rate: ns_per_tick, measured from (base_ticks, base_ns). */
static struct {
    double ns_per_tick;
    uint64_t base_ticks;
    long long base_ns;
} ticks = {1.0, 0, 0};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
bool clock_ticks_tsc;

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
 * power state (Linux's constant_tsc + nonstop_tsc). */
static bool tsc_invariant(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007) return false;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d)) return false;
    return (d >> 8) & 1;
}
#else
static bool tsc_invariant(void)
{
    return false;
}
#endif

void clock_ticks_init(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    clock_ticks_tsc = tsc_invariant();
#endif
    ticks.ns_per_tick = 1.0;
    ticks.base_ns = mono_ns();
    ticks.base_ticks = clock_ticks();
    if (!tsc_invariant()) return;
    /* A first rate over 1 ms; clock_ticks_refine() makes it exact. */
    long long until = ticks.base_ns + 1000000;
    while (mono_ns() < until) {
    }
    clock_ticks_refine();
}

void clock_ticks_refine(void)
{
    uint64_t t = clock_ticks();
    long long ns = mono_ns();
    if (t > ticks.base_ticks && ns > ticks.base_ns) {
        ticks.ns_per_tick = (double)(ns - ticks.base_ns) / (double)(t - ticks.base_ticks);
    }
}

long long clock_ticks_ns(uint64_t t)
{
    return (long long)((double)t * ticks.ns_per_tick);
}

bool scan_cursor_parse(struct slice s, unsigned long long *out)
{
    const char *p = s.ptr;
    const char *nul = memchr(p, '\0', s.len);
    const char *end = nul != NULL ? nul : p + s.len;
    if (p == end) {
        *out = 0;
        return true;
    }
    if (*p == ' ' || (*p >= '\t' && *p <= '\r')) return false;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (p == end || *p < '0' || *p > '9') return false;
    unsigned long long v = 0;
    bool overflow = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (ULLONG_MAX - d) / 10) overflow = true;
        v = v * 10 + d;
    }
    if (p != end || overflow) return false;
    *out = neg ? 0 - v : v;
    return true;
}
