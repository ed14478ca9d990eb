/* resp.h: the RESP codec, on plain buffers.
 *
 * Parsing turns request bytes into an argument vector; encoding turns values
 * into reply bytes. Nothing here sees a socket, a client or the keyspace.
 *
 * Requests come in two forms, as in Redis:
 *   multibulk  *<argc>\r\n then argc times $<len>\r\n<bytes>\r\n
 *   inline     a line of space-separated words (quotes as in redis-cli)
 *
 * The parser is incremental: when a frame is incomplete it remembers how far
 * it got, so bytes that trickle in are not scanned twice. Arguments of a
 * multibulk frame point into the caller's buffer (no copy on the hot path);
 * the caller may move or grow its buffer between calls, because positions are
 * kept as offsets from the start of the frame until it completes. */
#ifndef EMBER_RESP_H
#define EMBER_RESP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "ember/util.h"

enum resp_status {
    RESP_OK = 0,          /* a whole frame was parsed */
    RESP_INCOMPLETE = -1, /* more bytes are needed */
    RESP_ERR = -2,        /* protocol error: see parser->error */
};

/* Redis's built-in limits (PROTO_INLINE_MAX_SIZE, the multibulk cap) plus
 * the configured ones. The unauthenticated caps apply while `authenticated`
 * is false (Redis: 10 arguments, 16384-byte bulks). Redis 7.0 caps the
 * multibulk count at INT_MAX (older releases used 1024*1024); the argument
 * array still grows only as arguments arrive.
 *
 * RESP_INLINE_MAX bounds every line: an inline request, a '*' or '$' count
 * line. A line whose terminator is not among its first RESP_INLINE_MAX + 1
 * bytes is an error; Redis checks the same bound only when a read ends, so
 * ember rejects such a line whatever way its bytes are split. */
#define RESP_INLINE_MAX           (64 * 1024)
#define RESP_MULTIBULK_MAX        INT_MAX
#define RESP_UNAUTH_MULTIBULK_MAX 10
#define RESP_UNAUTH_BULK_MAX      16384

struct resp_limits {
    long long max_bulk_len; /* proto-max-bulk-len */
    bool authenticated;     /* false: the tighter unauthenticated caps */
};

struct resp_parser {
    /* Results, valid after RESP_OK until the next call. argv[i].ptr points
     * into the buffer of the last call (multibulk) or into storage owned by
     * the parser (inline). argc may be 0: an empty frame ("*0\r\n", a blank
     * line) that the caller skips. */
    int argc;
    struct slice *argv;
    /* After RESP_ERR: Redis's text, e.g. "Protocol error: invalid bulk
     * length", without '-' or CRLF. */
    char error[96];

    /* Private resumable state. */
    int argv_cap;       /* slots in argv and offsets */
    int want;           /* arguments announced by '*', -1 before the header */
    int got;            /* arguments of the current frame read so far */
    long long bulk_len; /* length of the bulk being read, -1 between bulks */
    size_t pos;         /* bytes of the current frame already parsed */
    size_t scanned;     /* bytes after pos searched in vain for a line end */
    size_t *offsets;    /* argument offsets from the frame start */
    char **inline_args; /* inline arguments (owned) */
    size_t *inline_lens;
    int inline_argc;
    const struct resp_limits *limits;
};

/* Prepares an empty parser; allocates nothing until the first frame.
 * `limits` is borrowed and read on every call, so a changed
 * proto-max-bulk-len or a successful AUTH applies from the next count line;
 * NULL means Redis's defaults (512MB bulks, authenticated). */
void resp_parser_init(struct resp_parser *p, const struct resp_limits *limits);
/* Frees everything the parser owns; argv is invalid afterwards. */
void resp_parser_deinit(struct resp_parser *p);
/* Forgets any partial frame (the caller dropped its buffer). */
void resp_parser_reset(struct resp_parser *p);

/* Parses one request from buf[0..len), where buf starts at the first byte of
 * a frame (the caller has already removed earlier frames). On RESP_OK sets
 * *consumed to the frame's length. On RESP_INCOMPLETE the parser keeps its
 * place: call again with the same frame start and more bytes (the same bytes
 * may sit at a new address). After RESP_ERR the connection is beyond repair;
 * the caller replies p->error and closes, as Redis does for every protocol
 * error. As in Redis, a NUL byte ends the search for a line's end, so such a
 * line waits for RESP_INLINE_MAX bytes and then fails as too big. */
int resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed);

/* The fast path for pipelines, without parser state: if buf[0..len) starts
 * with a complete multibulk frame in the plain form (counts without signs or
 * leading zeros, at most `max` arguments, within `limits`; NULL means
 * Redis's defaults), stores its arguments in argv[0..*argc) (pointing into
 * buf) and returns the frame's length. Anything else returns 0, and the
 * caller hands the bytes to resp_parse(), which alone decides what they
 * mean and produces every error. Where this answers, resp_parse() would
 * answer the same. */
size_t resp_parse_plain(const struct resp_limits *limits, const char *buf, size_t len,
                        struct slice *argv, int max, int *argc);

/* ---- Encoders ---- */

/* Longest header any encoder below writes: prefix, a 64-bit number, CRLF. */
#define RESP_HDR_MAX 32

/* Writes "<prefix><v>\r\n" (e.g. ':42\r\n', '$5\r\n', '*3\r\n') into dst,
 * which has at least RESP_HDR_MAX bytes; returns the length. */
size_t resp_encode_header(char *dst, char prefix, long long v);

#endif
