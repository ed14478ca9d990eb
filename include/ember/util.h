/* util.h: small, dependency-free helpers shared by every module.
 *
 * Numbers are parsed and printed exactly as Redis 7.0 does (string2ll,
 * string2ld, ld2string, d2string, memtoll): clients compare the bytes. Glob
 * matching is Redis's stringmatchlen, bounded against hostile patterns. The
 * key hash is SipHash-1-2 with a per-process random seed, so an attacker who
 * controls key names cannot aim them at one bucket. The clock is cached once
 * per event-loop iteration so a command sees a single "now". */
#ifndef EMBER_UTIL_H
#define EMBER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte string: not owned, not NUL-terminated. */
struct slice {
    const char *ptr;
    size_t len;
};

#define SLICE_LIT(s) ((struct slice){(s), sizeof(s) - 1})

/* ---- Numbers ---- */

/* Longest text any of the printers below writes, terminator included. */
#define UTIL_LL_STR_SIZE 21   /* "-9223372036854775808" + NUL */
#define UTIL_D_STR_SIZE  128  /* "%.17g" of any double, "inf", "-inf", "nan" */
#define UTIL_LD_STR_SIZE 5200 /* long double in "%.17Lf" at its widest */

/* Redis's string2ll: optional '-', digits, no leading zeros (except "0"), no
 * spaces, no '+', no overflow; "-0" is rejected. Returns true and sets *out on
 * success (out may be NULL to only validate; on failure *out is untouched).
 * The same holds for the other str_to_* parsers. */
bool str_to_ll(const char *s, size_t len, long long *out);
/* The same for unsigned 64-bit values (no sign allowed). */
bool str_to_ull(const char *s, size_t len, unsigned long long *out);
/* Redis's getDoubleFromObject: strtod over the whole text; rejects empty text,
 * a leading space, trailing bytes, NaN, and overflow to +-HUGE_VAL or underflow
 * to zero. Accepts "inf", "+inf", "-inf". */
bool str_to_d(const char *s, size_t len, double *out);
/* Redis's string2ld (INCRBYFLOAT): like str_to_d but long double, and shorter
 * than 5120 bytes (Redis copies into a 5120-byte buffer, terminator
 * included). */
bool str_to_ld(const char *s, size_t len, long double *out);

/* Writes `v` in decimal into dst (NUL-terminated); returns the length. `size`
 * must be at least UTIL_LL_STR_SIZE. */
int ll_to_str(char *dst, size_t size, long long v);
int ull_to_str(char *dst, size_t size, unsigned long long v);
/* Redis's d2string: "nan", "inf", "-inf", "0"/"-0", integers in (-2^52, 2^52)
 * without a fraction, otherwise "%.17g". Returns the length. */
int d_to_str(char *dst, size_t size, double v);
/* Redis's ld2string in LD_STR_HUMAN mode (INCRBYFLOAT): "%.17Lf" with trailing
 * zeros and a trailing '.' removed; "inf"/"-inf"; "-0" becomes "0". Returns
 * the length, or 0 (and an empty string) if the untrimmed text does not fit
 * in `size`. */
int ld_to_str(char *dst, size_t size, long double v);

/* Redis's memtoll for config values: a number with an optional unit b, k, kb,
 * m, mb, g, gb (case-insensitive; k = 1000, kb = 1024). Sets *ok (ok may be
 * NULL). A leading '-' is allowed; no digits at all ("", "kb") reads as 0 as
 * in Redis; overflow sets *ok to false (Redis would clamp or wrap). */
long long mem_to_ll(const char *s, bool *ok);

/* ---- Strings ---- */

/* Redis's stringmatchlen: glob with '*', '?', '[...]' (ranges, '^' negation)
 * and '\' escapes. Time is bounded on hostile patterns (nesting limit and
 * Redis's skip-longer-matches rule). As in Redis 7.0, an empty `s` matches
 * only an empty pattern, not "*": KEYS and SCAN must treat a lone "*" as
 * "everything" themselves, as Redis does. */
bool glob_match(const char *pat, size_t patlen, const char *s, size_t slen, bool nocase);

/* Splits a line the way redis.conf and inline commands are split (Redis's
 * sdssplitargs, which sees a C string: a NUL byte ends the line): whitespace
 * separates arguments; "double quotes" allow \n \r \t \b \a \\ \" and \xHH
 * escapes; 'single quotes' allow \'; a closing quote must be followed by
 * whitespace or the end. Returns the argument count and
 * sets *argv_out to an em_malloc'd array of em_malloc'd NUL-terminated strings
 * (binary-safe with *lens_out giving each length), or returns -1 on unbalanced
 * quotes (nothing to free then). An empty line gives 0 and NULL arrays. */
int split_args(const char *line, size_t len, char ***argv_out, size_t **lens_out);
void split_args_free(char **argv, size_t *lens, int argc);

/* A SCAN/HSCAN/SSCAN/ZSCAN cursor as Redis's parseScanCursorOrReply reads
 * it: strtoul(arg, &end, 10) over the argument as a C string, so the text
 * ends at a NUL byte, a sign is allowed ("-1" wraps to 2^64-1), "" is
 * cursor 0, and a leading space, trailing bytes or overflow are invalid. */
bool scan_cursor_parse(struct slice s, unsigned long long *out);

/* Case-insensitive equality of a slice and a NUL-terminated ASCII word. */
bool slice_eq_nocase(struct slice s, const char *word);

/* ---- Hashing and randomness ---- */

/* Sets the 16-byte SipHash key used by hash_bytes(); the server seeds it from
 * /dev/urandom at start-up, tests may set a fixed one. */
void hash_set_seed(const uint8_t seed[16]);
/* Seeded SipHash-1-2 of `len` bytes. */
uint64_t hash_bytes(const void *p, size_t len);
/* The same, ASCII case-insensitive (command names). */
uint64_t hash_bytes_nocase(const void *p, size_t len);

/* xoshiro256**: fast, seedable, not cryptographic. */
struct rng {
    uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Fills `len` bytes from /dev/urandom, falling back to time and pid. */
void random_bytes(void *dst, size_t len);

/* ---- Clock ---- */

/* Wall-clock milliseconds since the epoch, cached: it changes only when
 * clock_update() runs (once per loop iteration) or a test freezes it. */
long long clock_ms(void);
/* The cached time in microseconds (same instant as clock_ms()). */
long long clock_us(void);
/* Re-reads the system clock unless frozen. */
void clock_update(void);
/* Freezes the clock at `ms` (tests); clock_update() is then a no-op until
 * clock_unfreeze(). */
void clock_freeze(long long ms);
void clock_unfreeze(void);
/* Uncached monotonic microseconds, for measuring durations. */
long long clock_mono_us(void);

/* A cheaper clock for timing every command (commandstats, SLOWLOG,
 * latency): the CPU's time-stamp counter on x86-64 when it is invariant
 * (about 12 ns a read on this machine, against 30 for clock_gettime), else
 * monotonic nanoseconds. clock_ticks_ns() converts a difference of two
 * readings to nanoseconds with a rate measured against CLOCK_MONOTONIC:
 * roughly by clock_ticks_init() (1 ms), then exactly by clock_ticks_refine()
 * over the whole time since (the cron calls it). */
void clock_ticks_init(void);
void clock_ticks_refine(void);
long long clock_ticks_ns(uint64_t ticks);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
extern bool clock_ticks_tsc; /* set by clock_ticks_init() */
static inline uint64_t clock_ticks(void)
{
    if (clock_ticks_tsc) return __builtin_ia32_rdtsc();
    return (uint64_t)clock_mono_us() * 1000;
}
#else
static inline uint64_t clock_ticks(void)
{
    return (uint64_t)clock_mono_us() * 1000;
}
#endif

#endif
