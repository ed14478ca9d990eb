/* fuzz_glob.c: libFuzzer target for glob_match (Redis's stringmatchlen).
 *
 * Two properties:
 *  - Bounded time: hostile patterns ("*a*a*a*...b" against "aaaa...") must
 *    not take exponential time. Inputs up to GLOB_MAX_INPUT bytes are run,
 *    and libFuzzer's -timeout (scripts/fuzz.sh sets 2 s per input) reports any
 *    input that is slow as a failure, with the input saved for replay.
 *  - Same answers as a reference matcher: for small inputs, a memoised
 *    recursion over (pattern index, text index) that follows Redis 7.0's
 *    rules step by step but never prunes. glob_match() prunes with Redis's
 *    skip-longer-matches rule; the two must agree on every input.
 *
 * Input layout: byte 0 flags (bit 0: nocase), bytes 1..2 the pattern length
 * (modulo what is left), then the pattern, then the text. */
#include "ember/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLOB_MAX_INPUT 4096 /* longer inputs are skipped */
#define REF_MAX_PAT    64   /* the reference runs below these sizes */
#define REF_MAX_TEXT   128

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Bytes compare as signed char, as in Redis on x86. */
static int byte_at(const char *p, size_t i)
{
    return (signed char)p[i];
}

struct ref {
    const char *p, *s;
    size_t plen, slen;
    bool nocase;
    signed char memo[REF_MAX_PAT + 1][REF_MAX_TEXT + 1]; /* -1 unknown */
};

/* One pattern token at pi that is not '*': does it match byte c? Sets *next
 * to the index after the token. */
static bool ref_token(const struct ref *r, size_t pi, int c, size_t *next)
{
    const char *p = r->p;
    size_t plen = r->plen;
    if (p[pi] == '?') {
        *next = pi + 1;
        return true;
    }
    if (p[pi] == '\\' || (p[pi] != '[')) {
        size_t at = pi;
        if (p[pi] == '\\' && plen - pi >= 2) at = pi + 1;
        *next = at + 1;
        int a = byte_at(p, at);
        return r->nocase ? lower(a) == lower(c) : a == c;
    }
    /* A class: '[' [^] items ']', unterminated classes end on the last
     * pattern byte. */
    size_t j = pi + 1;
    bool neg = j < plen && p[j] == '^';
    if (neg) j++;
    bool match = false;
    for (;;) {
        if (j == plen) {
            j--;
            break;
        }
        if (p[j] == '\\' && plen - j >= 2) {
            j++;
            if (byte_at(p, j) == c) match = true; /* case-sensitive even with nocase */
        } else if (p[j] == ']') {
            break;
        } else if (plen - j >= 3 && p[j + 1] == '-') {
            int lo = byte_at(p, j), hi = byte_at(p, j + 2), v = c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (r->nocase) {
                lo = lower(lo);
                hi = lower(hi);
                v = lower(v);
            }
            if (v >= lo && v <= hi) match = true;
            j += 2;
        } else if (r->nocase ? lower(byte_at(p, j)) == lower(c) : byte_at(p, j) == c) {
            match = true;
        }
        j++;
    }
    *next = j + 1;
    return neg ? !match : match;
}

/* Does p[pi..] match s[si..], si < slen? */
static bool ref_match(struct ref *r, size_t pi, size_t si)
{
    if (r->memo[pi][si] >= 0) return r->memo[pi][si];
    bool m;
    if (pi == r->plen) {
        m = false;
    } else if (r->p[pi] == '*') {
        size_t q = pi;
        while (q + 1 < r->plen && r->p[q + 1] == '*')
            q++;
        m = q + 1 == r->plen;
        for (size_t k = si; !m && k < r->slen; k++)
            m = ref_match(r, q + 1, k);
    } else {
        size_t next;
        m = ref_token(r, pi, byte_at(r->s, si), &next);
        if (m && si + 1 == r->slen) {
            while (next < r->plen && r->p[next] == '*')
                next++;
            m = next == r->plen;
        } else if (m) {
            m = ref_match(r, next, si + 1);
        }
    }
    r->memo[pi][si] = (signed char)m;
    return m;
}

static bool ref_glob(const char *p, size_t plen, const char *s, size_t slen, bool nocase)
{
    if (slen == 0) return plen == 0;
    static struct ref r;
    r.p = p;
    r.s = s;
    r.plen = plen;
    r.slen = slen;
    r.nocase = nocase;
    memset(r.memo, -1, sizeof(r.memo));
    return ref_match(&r, 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > GLOB_MAX_INPUT) return 0;
    bool nocase = data[0] & 1;
    size_t rest = size - 3;
    size_t plen = ((size_t)data[1] | (size_t)data[2] << 8) % (rest + 1);
    size_t slen = rest - plen;
    /* Exact-size copies: ASan flags any read past either end. */
    char *p = malloc(plen ? plen : 1);
    char *s = malloc(slen ? slen : 1);
    if (p == NULL || s == NULL) abort();
    memcpy(p, data + 3, plen);
    memcpy(s, data + 3 + plen, slen);

    bool got = glob_match(p, plen, s, slen, nocase);
    if (plen <= REF_MAX_PAT && slen <= REF_MAX_TEXT) {
        bool want = ref_glob(p, plen, s, slen, nocase);
        if (got != want) {
            fprintf(stderr, "fuzz_glob: glob_match says %d, the reference %d (nocase %d)\n", got,
                    want, nocase);
            abort();
        }
    }
    free(p);
    free(s);
    return 0;
}
