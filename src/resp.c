/* resp.c: the RESP codec on plain buffers: the request parser and the header
 * encoder.
 *
 * The parser reproduces Redis 7.0's processMultibulkBuffer() and
 * processInlineBuffer() (src/networking.c) byte for byte, quirks included,
 * because clients and proxies have been tested against those:
 *  - A count line ends at the first '\r'; the byte after it must be present
 *    but is never checked to be '\n'. The two bytes after a bulk payload are
 *    skipped unchecked too, so "*1\r\n$4\r\nPINGxx" is a valid PING.
 *  - Redis searches lines with strchr(), so a NUL byte hides the line end:
 *    such a frame waits until it exceeds RESP_INLINE_MAX and then fails as
 *    "too big". The '$' check happens only once a count line is complete.
 *  - A count <= 0 is an empty frame, skipped by the caller; a negative bulk
 *    length is an error. Limits are checked in Redis's order: invalid (or
 *    above proto-max-bulk-len / INT_MAX) first, then the unauthenticated cap.
 *
 * A multibulk frame is parsed without copying or allocating per argument:
 *
 *   frame start                               pos: resume here
 *   v                                         v
 *   *3\r\n $3\r\n SET\r\n $1\r\n k\r\n $5\r\n va...
 *                 ^offsets[0]    ^offsets[1]    (got = 2, bulk_len = 5)
 *
 * While the frame is incomplete only offsets from the frame start are kept
 * (offsets[i], argv[i].len), so the caller may move or grow its buffer between
 * calls; argv[i].ptr is set from the final buffer when the last payload is in.
 * The state (want, got, bulk_len, pos) says exactly where to resume, and
 * `scanned` remembers how much of an unfinished line was already searched, so
 * a line trickling in byte by byte costs linear, not quadratic, time.
 *
 * argv and offsets grow geometrically as arguments actually arrive, never from
 * the announced count (an attacker may announce INT_MAX), and are reused
 * across frames; after an unusually wide frame they are released, so one huge
 * MSET does not pin memory for the life of the connection. */
#include "ember/resp.h"

#include "ember/mem.h"
#include "ember/util.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Search window for a line end: Redis fails once more than RESP_INLINE_MAX
 * bytes wait without one, so the end may be at index RESP_INLINE_MAX at most. */
#define LINE_WINDOW ((size_t)RESP_INLINE_MAX + 1)

/* First allocation of argv/offsets, and the widest pair kept between frames
 * (Redis also starts its argv at min(count, 1024)). */
#define ARGV_INITIAL 8
#define ARGV_KEEP    1024

/* Redis's defaults: proto-max-bulk-len 512mb, no password. */
static const struct resp_limits default_limits = {512LL * 1024 * 1024, true};

enum line_status { LINE_FOUND, LINE_MORE, LINE_TOO_BIG };

/* ---- State ---- */

/* Prepares for the next frame, keeping the reusable arrays. */
static void start_frame(struct resp_parser *p)
{
    p->want = -1;
    p->got = 0;
    p->bulk_len = -1;
    p->pos = 0;
    p->scanned = 0;
}

static void release_arrays(struct resp_parser *p)
{
    em_free(p->argv);
    em_free(p->offsets);
    p->argv = NULL;
    p->offsets = NULL;
    p->argv_cap = 0;
}

static void release_inline(struct resp_parser *p)
{
    if (p->inline_args == NULL && p->inline_lens == NULL) return;
    split_args_free(p->inline_args, p->inline_lens, p->inline_argc);
    p->inline_args = NULL;
    p->inline_lens = NULL;
    p->inline_argc = 0;
}

void resp_parser_init(struct resp_parser *p, const struct resp_limits *limits)
{
    memset(p, 0, sizeof(*p));
    p->limits = limits != NULL ? limits : &default_limits;
    start_frame(p);
}

void resp_parser_deinit(struct resp_parser *p)
{
    release_inline(p);
    release_arrays(p);
    p->argc = 0;
    start_frame(p);
}

void resp_parser_reset(struct resp_parser *p)
{
    start_frame(p);
}

/* Makes room for at least `n` arguments, doubling; n <= INT_MAX always, since
 * a multibulk count is at most INT_MAX and split_args returns an int. */
static void reserve_args(struct resp_parser *p, int n)
{
    if (n <= p->argv_cap) return;
    long long cap = p->argv_cap > 0 ? p->argv_cap : ARGV_INITIAL;
    while (cap < n) {
        cap *= 2;
    }
    if (cap > INT_MAX) cap = INT_MAX;
    p->argv = em_realloc(p->argv, (size_t)cap * sizeof(*p->argv));
    p->offsets = em_realloc(p->offsets, (size_t)cap * sizeof(*p->offsets));
    p->argv_cap = (int)cap;
}

/* Records `text` as the error, resets, and returns RESP_ERR. */
static int fail(struct resp_parser *p, const char *text)
{
    snprintf(p->error, sizeof(p->error), "%s", text);
    p->argc = 0;
    start_frame(p);
    return RESP_ERR;
}

/* The byte is echoed raw (Redis formats it with %c), except that Redis's
 * addReplyErrorFormat() turns '\r' and '\n' into spaces. A NUL cannot get
 * here: it would have hidden the line end. */
static int fail_expected_dollar(struct resp_parser *p, char got)
{
    if (got == '\r' || got == '\n') got = ' ';
    snprintf(p->error, sizeof(p->error), "Protocol error: expected '$', got '%c'", got);
    p->argc = 0;
    start_frame(p);
    return RESP_ERR;
}

/* ---- Lines ---- */

/* Looks for `term` in the line starting at buf[p->pos], resuming after the
 * p->scanned bytes already searched. On LINE_FOUND sets *eol to its index in
 * buf. A NUL stops the search for good, as strchr() does in Redis. */
static enum line_status find_line(struct resp_parser *p, const char *buf, size_t len, char term,
                                  size_t *eol)
{
    const char *line = buf + p->pos;
    size_t avail = len - p->pos;
    size_t limit = avail < LINE_WINDOW ? avail : LINE_WINDOW;
    size_t i = p->scanned;

    while (i < limit && line[i] != term && line[i] != '\0') {
        i++;
    }
    if (i < limit && line[i] == term) {
        p->scanned = i; /* found again at once if the next byte is missing */
        *eol = p->pos + i;
        return LINE_FOUND;
    }
    p->scanned = i < limit ? LINE_WINDOW : i; /* a NUL: never search again */
    return avail > RESP_INLINE_MAX ? LINE_TOO_BIG : LINE_MORE;
}

/* ---- Inline requests ---- */

static int parse_inline(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    size_t eol;
    enum line_status st = find_line(p, buf, len, '\n', &eol);
    if (st == LINE_TOO_BIG) return fail(p, "Protocol error: too big inline request");
    if (st == LINE_MORE) return RESP_INCOMPLETE;

    size_t line_len = eol > 0 && buf[eol - 1] == '\r' ? eol - 1 : eol;
    char **args;
    size_t *lens;
    int n = split_args(buf, line_len, &args, &lens);
    if (n < 0) return fail(p, "Protocol error: unbalanced quotes in request");

    p->inline_args = args;
    p->inline_lens = lens;
    p->inline_argc = n;
    reserve_args(p, n);
    for (int i = 0; i < n; i++) {
        p->argv[i] = (struct slice){args[i], lens[i]};
    }
    p->argc = n;
    *consumed = eol + 1;
    start_frame(p);
    return RESP_OK;
}

/* ---- Multibulk requests ---- */

/* The common case of a count line, in one pass: "<digits>\r" plus at least
 * one byte after the \r (all Redis waits for), no sign, no leading zero
 * (but "0" itself), at most 18 digits so it cannot overflow. Returns the
 * index of the \r, or 0 when the line needs the careful path below, which
 * also produces every error. */
static size_t fast_number(const char *buf, size_t start, size_t len, long long *out)
{
    if (len < 2) return 0;
    size_t end = len - 1; /* the \r must not be the last byte */
    size_t i = start;
    if (i >= end || (unsigned char)(buf[i] - '0') > 9) return 0;
    if (buf[i] == '0') {
        if (i + 1 >= end || buf[i + 1] != '\r') return 0;
        *out = 0;
        return i + 1;
    }
    long long v = 0;
    size_t stop = start + 18 < end ? start + 18 : end;
    while (i < stop && (unsigned char)(buf[i] - '0') <= 9) {
        v = v * 10 + (buf[i] - '0');
        i++;
    }
    if (i >= end || buf[i] != '\r') return 0;
    *out = v;
    return i;
}

/* Reads the "*<count>\r?" line. Returns RESP_OK with p->want set, or the
 * status to return. */
static int parse_count(struct resp_parser *p, const char *buf, size_t len)
{
    long long n;
    size_t eol = p->scanned == 0 ? fast_number(buf, 1, len, &n) : 0;
    if (eol == 0) {
        enum line_status st = find_line(p, buf, len, '\r', &eol);
        if (st == LINE_TOO_BIG) return fail(p, "Protocol error: too big mbulk count string");
        if (st == LINE_MORE || eol + 1 >= len) return RESP_INCOMPLETE;
        if (!str_to_ll(buf + 1, eol - 1, &n)) {
            return fail(p, "Protocol error: invalid multibulk length");
        }
    }
    if (n > RESP_MULTIBULK_MAX) return fail(p, "Protocol error: invalid multibulk length");
    if (n > RESP_UNAUTH_MULTIBULK_MAX && !p->limits->authenticated) {
        return fail(p, "Protocol error: unauthenticated multibulk length");
    }
    p->want = n > 0 ? (int)n : 0;
    p->pos = eol + 2;
    p->scanned = 0;
    return RESP_OK;
}

/* Reads the "$<len>\r?" line of the next argument into p->bulk_len. */
static int parse_bulk_len(struct resp_parser *p, const char *buf, size_t len)
{
    long long n;
    size_t eol = 0;
    if (p->scanned == 0 && p->pos < len && buf[p->pos] == '$') {
        eol = fast_number(buf, p->pos + 1, len, &n);
    }
    if (eol == 0) {
        enum line_status st = find_line(p, buf, len, '\r', &eol);
        if (st == LINE_TOO_BIG) return fail(p, "Protocol error: too big bulk count string");
        if (st == LINE_MORE || eol + 1 >= len) return RESP_INCOMPLETE;
        if (buf[p->pos] != '$') return fail_expected_dollar(p, buf[p->pos]);
        if (!str_to_ll(buf + p->pos + 1, eol - p->pos - 1, &n) || n < 0) {
            return fail(p, "Protocol error: invalid bulk length");
        }
    }
    if (n > p->limits->max_bulk_len) return fail(p, "Protocol error: invalid bulk length");
    if (n > RESP_UNAUTH_BULK_MAX && !p->limits->authenticated) {
        return fail(p, "Protocol error: unauthenticated bulk length");
    }
    p->bulk_len = n;
    p->pos = eol + 2;
    p->scanned = 0;
    return RESP_OK;
}

static int parse_multibulk(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    int rc;
    if (p->want < 0 && (rc = parse_count(p, buf, len)) != RESP_OK) return rc;

    while (p->got < p->want) {
        if (p->bulk_len < 0 && (rc = parse_bulk_len(p, buf, len)) != RESP_OK) return rc;
        /* The payload and two more bytes, which Redis skips unchecked. The
         * sum cannot wrap: bulk_len <= LLONG_MAX. */
        if (len - p->pos < (unsigned long long)p->bulk_len + 2) return RESP_INCOMPLETE;
        reserve_args(p, p->got + 1);
        p->offsets[p->got] = p->pos;
        p->argv[p->got].len = (size_t)p->bulk_len;
        p->got++;
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
    }

    for (int i = 0; i < p->got; i++) {
        p->argv[i].ptr = buf + p->offsets[i];
    }
    p->argc = p->got;
    *consumed = p->pos;
    start_frame(p);
    return RESP_OK;
}

int resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    /* The previous frame's results expire now. */
    release_inline(p);
    p->argc = 0;

    if (len < p->pos) {
        /* Fewer bytes than were parsed: the caller broke the contract; parse
         * the frame afresh rather than index past its buffer. */
        start_frame(p);
    }
    bool fresh = p->want < 0 && p->pos == 0 && p->scanned == 0;
    if (fresh && p->argv_cap > ARGV_KEEP) release_arrays(p);

    if (len == 0) return RESP_INCOMPLETE;
    if (buf[0] != '*') return parse_inline(p, buf, len, consumed);
    return parse_multibulk(p, buf, len, consumed);
}

/* resp_parse_plain()'s number: digits up to a '\r' that is not the last
 * byte, at most 18 of them, no sign, no leading zero; returns the index of
 * the '\r' or 0. Inline and without fast_number()'s special cases: it runs
 * for every argument of every pipelined command, and only needs to be right
 * when it answers. */
static inline size_t plain_number(const char *buf, size_t i, size_t len, long long *out)
{
    size_t stop = i + 18 < len - 1 ? i + 18 : len - 1;
    long long v = 0;
    size_t start = i;
    while (i < stop && (unsigned char)(buf[i] - '0') <= 9)
        v = v * 10 + (buf[i++] - '0');
    if (i == start || i >= len - 1 || buf[i] != '\r') return 0;
    if (buf[start] == '0' && i - start > 1) return 0; /* Redis refuses leading zeros */
    *out = v;
    return i;
}

size_t resp_parse_plain(const struct resp_limits *limits, const char *buf, size_t len,
                        struct slice *argv, int max, int *argc)
{
    if (limits == NULL) limits = &default_limits;
    long long n, blen;
    if (len < 4 || buf[0] != '*') return 0;
    size_t eol = plain_number(buf, 1, len, &n);
    if (eol == 0 || n > max) return 0;
    if (n > RESP_UNAUTH_MULTIBULK_MAX && !limits->authenticated) return 0;
    long long bulk_max = limits->authenticated ? limits->max_bulk_len : RESP_UNAUTH_BULK_MAX;
    if (bulk_max > limits->max_bulk_len) bulk_max = limits->max_bulk_len;
    size_t pos = eol + 2; /* plain_number leaves a byte after the \r, unchecked as in Redis */
    for (long long i = 0; i < n; i++) {
        if (pos + 4 > len || buf[pos] != '$') return 0;
        eol = plain_number(buf, pos + 1, len, &blen);
        if (eol == 0 || blen > bulk_max) return 0;
        pos = eol + 2;
        if (len - pos < (size_t)blen + 2) return 0; /* blen < 10^18 */
        argv[i] = (struct slice){buf + pos, (size_t)blen};
        pos += (size_t)blen + 2; /* the two bytes after a payload go unchecked too */
    }
    *argc = (int)n;
    return pos;
}

/* ---- Encoders ---- */

size_t resp_encode_header(char *dst, char prefix, long long v)
{
    dst[0] = prefix;
    if (v >= 0 && v < 10) { /* lengths of short arrays and bulks, 0 and 1 replies */
        dst[1] = (char)('0' + v);
        dst[2] = '\r';
        dst[3] = '\n';
        return 4;
    }

    /* Digits backwards into tmp; via unsigned so LLONG_MIN negates safely. */
    char tmp[UTIL_LL_STR_SIZE];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);

    size_t i = 1;
    if (v < 0) dst[i++] = '-';
    while (n > 0) {
        dst[i++] = tmp[--n];
    }
    dst[i++] = '\r';
    dst[i++] = '\n';
    return i;
}
