/* reply.h: replies, encoded straight into a client's output chain.
 *
 * Handlers never write protocol by hand: there is one function per RESP
 * shape, RESP3-aware where Redis 7 uses a RESP3 type (maps, sets, doubles,
 * nulls). Errors are given without the leading '-' and CRLF ("ERR syntax
 * error"); any CR or LF inside is turned into a space, as Redis does, so user
 * bytes echoed in an error cannot break the framing. */
#ifndef EMBER_REPLY_H
#define EMBER_REPLY_H

#include <stddef.h>

#include "ember/util.h"

struct client;

void reply_raw(struct client *c, const char *p, size_t len);
void reply_ok(struct client *c);
/* "+<s>\r\n" */
void reply_status(struct client *c, const char *s);
/* "-<msg>\r\n"; msg starts with its code ("ERR ...", "WRONGTYPE ..."). */
void reply_error(struct client *c, const char *msg);
void reply_error_fmt(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct client *c, long long v);
void reply_bulk(struct client *c, const char *p, size_t len);
static inline void reply_bulk_slice(struct client *c, struct slice s)
{
    reply_bulk(c, s.ptr, s.len);
}
void reply_bulk_cstr(struct client *c, const char *s);
void reply_bulk_ll(struct client *c, long long v);
/* A double as Redis 7.0 sends it: bulk "%.17g" (RESP2) or ",<d>" (RESP3). */
void reply_double(struct client *c, double d);
/* The null bulk: "$-1" (RESP2) or "_" (RESP3). */
void reply_null(struct client *c);
/* The null array: "*-1" (RESP2) or "_" (RESP3). */
void reply_null_array(struct client *c);
void reply_array_len(struct client *c, long long n);
void reply_empty_array(struct client *c);
/* A map of n pairs: "*<2n>" (RESP2) or "%<n>" (RESP3). */
void reply_map_len(struct client *c, long long n);
/* A set: "*<n>" (RESP2) or "~<n>" (RESP3). */
void reply_set_len(struct client *c, long long n);
/* "#t"/"#f" in RESP3, ":1"/":0" in RESP2. */
void reply_bool(struct client *c, int v);
/* A verbatim string (RESP3 "=", bulk in RESP2), e.g. INFO, CLIENT LIST. */
void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext);

/* Deferred lengths, when a count is known only after a walk: reserve a
 * header, write the elements, then fill it. */
void *reply_defer_len(struct client *c);
void reply_set_array_len(struct client *c, void *handle, long long n);
void reply_set_map_len(struct client *c, void *handle, long long n);
void reply_set_set_len(struct client *c, void *handle, long long n);

/* Canned errors. */
void reply_wrongtype(struct client *c);
void reply_syntax_error(struct client *c);
void reply_not_integer(struct client *c);
void reply_not_float(struct client *c);

/* Frees a client's whole output chain. */
void reply_release(struct client *c);

#endif
