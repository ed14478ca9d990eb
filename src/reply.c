/* reply.c: RESP replies appended to a client's output chain (see reply.h).
 *
 * The chain is a list of blocks. Small replies are copied into the tail
 * block (16 KB, allocated on first use); a bulk payload larger than a block
 * gets a block of its own size so it is copied once. Blocks that a uv_write
 * is sending (client->inflight_blocks) are never appended to: new replies go
 * to a fresh tail. The first append to an empty chain queues the client for
 * the once-per-iteration flush. */
#include "ember/reply.h"

#include "ember/client.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/pubsub.h"
#include "ember/resp.h"
#include "ember/server.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define REPLY_BLOCK_SIZE (16 * 1024)

static struct reply_block *block_append(struct client *c, size_t cap)
{
    struct reply_block *b = em_malloc(sizeof(*b) + cap);
    b->next = NULL;
    b->len = 0;
    b->cap = cap;
    if (c->reply_tail != NULL) {
        c->reply_tail->next = b;
    } else {
        c->reply_head = b;
    }
    c->reply_tail = b;
    return b;
}

/* A tail block with at least `need` free bytes that is not being written. */
static struct reply_block *tail_with_room(struct client *c, size_t need)
{
    struct reply_block *b = c->reply_tail;
    int index = 0;
    if (b != NULL && c->inflight_blocks > 0) {
        for (struct reply_block *x = c->reply_head; x != b; x = x->next)
            index++;
        if (index < c->inflight_blocks) b = NULL; /* tail is being sent */
    }
    if (b == NULL || b->cap - b->len < need) {
        b = block_append(c, need > REPLY_BLOCK_SIZE ? need : REPLY_BLOCK_SIZE);
    }
    return b;
}

static inline bool reply_suppressed(const struct client *c)
{
    return (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_ASAP)) != 0;
}

/* client-output-buffer-limit: a client whose queued replies pass the hard
 * limit, or stay past the soft one for its seconds, is closed (Redis's
 * checkClientOutputBufferLimits). Subscribers use the pubsub class. */
static void check_output_limit(struct client *c)
{
    const long long *lim = (c->pubsub != NULL && pubsub_count(c) > 0) ? server.cfg.cobl_pubsub
                                                                      : server.cfg.cobl_normal;
    long long used = (long long)c->reply_bytes;
    bool over = lim[0] > 0 && used >= lim[0];
    if (!over && lim[1] > 0 && used >= lim[1]) {
        long long now = clock_ms();
        if (c->obuf_soft_since_ms == 0) {
            c->obuf_soft_since_ms = now;
        } else if (now - c->obuf_soft_since_ms >= lim[2] * 1000) {
            over = true;
        }
    } else if (lim[1] == 0 || used < lim[1]) {
        c->obuf_soft_since_ms = 0;
    }
    if (over) {
        log_warn("Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output "
                 "buffer limits.",
                 (unsigned long long)c->id, c->addr);
        client_close_asap(c);
    }
}

static inline void note_output(struct client *c, size_t len)
{
    c->reply_bytes += len;
    if (!(c->flags & CLIENT_PENDING_WRITE)) client_queue_write(c);
    if (c->reply_bytes > REPLY_BLOCK_SIZE) check_output_limit(c);
}

/* The hot path: one bounds check and a memcpy into the tail block. */
void reply_raw(struct client *c, const char *p, size_t len)
{
    if (reply_suppressed(c) || len == 0) return;
    struct reply_block *b = c->reply_tail;
    if (b == NULL || c->inflight_blocks > 0 || b->cap - b->len < len) {
        b = tail_with_room(c, len);
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    note_output(c, len);
}

/* Writes a header and (optionally) a payload and CRLF in one reservation. */
static void reply_hdr_payload(struct client *c, char prefix, long long n, const char *p, size_t len)
{
    if (reply_suppressed(c)) return;
    size_t need = RESP_HDR_MAX + (p != NULL ? len + 2 : 0);
    struct reply_block *b = c->reply_tail;
    if (b == NULL || c->inflight_blocks > 0 || b->cap - b->len < need) {
        b = tail_with_room(c, need);
    }
    char *dst = b->data + b->len;
    size_t w = resp_encode_header(dst, prefix, n);
    if (p != NULL) {
        memcpy(dst + w, p, len);
        dst[w + len] = '\r';
        dst[w + len + 1] = '\n';
        w += len + 2;
    }
    b->len += w;
    note_output(c, w);
}

void reply_ok(struct client *c)
{
    reply_raw(c, "+OK\r\n", 5);
}

void reply_status(struct client *c, const char *s)
{
    size_t len = strlen(s);
    char stack[256];
    char *buf = len + 3 <= sizeof(stack) ? stack : em_malloc(len + 3);
    buf[0] = '+';
    memcpy(buf + 1, s, len); /* NOLINT(bugprone-not-null-terminated-result): a RESP frame */
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    reply_raw(c, buf, len + 3);
    if (buf != stack) em_free(buf);
}

void reply_error(struct client *c, const char *msg)
{
    size_t len = strlen(msg);
    char stack[512];
    char *buf = len + 3 <= sizeof(stack) ? stack : em_malloc(len + 3);
    buf[0] = '-';
    for (size_t i = 0; i < len; i++) {
        char ch = msg[i];
        buf[i + 1] = (ch == '\r' || ch == '\n') ? ' ' : ch;
    }
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    reply_raw(c, buf, len + 3);
    if (buf != stack) em_free(buf);
    server.stats.total_error_replies++;
    server_count_error(msg);
}

void reply_error_fmt(struct client *c, const char *fmt, ...)
{
    char stack[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stack, sizeof(stack), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(stack)) {
        reply_error(c, stack);
        return;
    }
    char *buf = em_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    reply_error(c, buf);
    em_free(buf);
}

void reply_int(struct client *c, long long v)
{
    reply_hdr_payload(c, ':', v, NULL, 0);
}

void reply_bulk(struct client *c, const char *p, size_t len)
{
    if (len > REPLY_BLOCK_SIZE) {
        /* Big payloads: header into the tail, payload into its own block. */
        reply_hdr_payload(c, '$', (long long)len, NULL, 0);
        if (reply_suppressed(c)) return;
        struct reply_block *b = block_append(c, len + 2);
        memcpy(b->data, p, len);
        b->data[len] = '\r';
        b->data[len + 1] = '\n';
        b->len = len + 2;
        note_output(c, len + 2);
        return;
    }
    reply_hdr_payload(c, '$', (long long)len, p != NULL ? p : "", len);
}

void reply_bulk_cstr(struct client *c, const char *s)
{
    reply_bulk(c, s, strlen(s));
}

void reply_bulk_ll(struct client *c, long long v)
{
    char buf[UTIL_LL_STR_SIZE];
    int len = ll_to_str(buf, sizeof(buf), v);
    reply_bulk(c, buf, (size_t)len);
}

void reply_double(struct client *c, double d)
{
    char buf[UTIL_D_STR_SIZE + 8];
    int len;
    if (isinf(d)) {
        len = snprintf(buf, sizeof(buf), "%s", d > 0 ? "inf" : "-inf");
    } else {
        len = snprintf(buf, sizeof(buf), "%.17g", d);
    }
    if (c->resp >= 3) {
        char out[UTIL_D_STR_SIZE + 8];
        int n = snprintf(out, sizeof(out), ",%s\r\n", buf);
        reply_raw(c, out, (size_t)n);
        return;
    }
    reply_bulk(c, buf, (size_t)len);
}

void reply_null(struct client *c)
{
    if (c->resp >= 3) {
        reply_raw(c, "_\r\n", 3);
    } else {
        reply_raw(c, "$-1\r\n", 5);
    }
}

void reply_null_array(struct client *c)
{
    if (c->resp >= 3) {
        reply_raw(c, "_\r\n", 3);
    } else {
        reply_raw(c, "*-1\r\n", 5);
    }
}

void reply_array_len(struct client *c, long long n)
{
    reply_hdr_payload(c, '*', n, NULL, 0);
}

void reply_empty_array(struct client *c)
{
    reply_raw(c, "*0\r\n", 4);
}

void reply_map_len(struct client *c, long long n)
{
    if (c->resp >= 3) {
        reply_hdr_payload(c, '%', n, NULL, 0);
    } else {
        reply_hdr_payload(c, '*', n * 2, NULL, 0);
    }
}

void reply_set_len(struct client *c, long long n)
{
    reply_hdr_payload(c, c->resp >= 3 ? '~' : '*', n, NULL, 0);
}

void reply_bool(struct client *c, int v)
{
    if (c->resp >= 3) {
        reply_raw(c, v ? "#t\r\n" : "#f\r\n", 4);
    } else {
        reply_raw(c, v ? ":1\r\n" : ":0\r\n", 4);
    }
}

void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext)
{
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    reply_hdr_payload(c, '=', (long long)len + 4, NULL, 0);
    reply_raw(c, ext, 3);
    reply_raw(c, ":", 1);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

/* ---- Deferred lengths ---- */

/* The header gets a block of its own, so it can be filled in later without
 * moving anything written after it. */
void *reply_defer_len(struct client *c)
{
    if (reply_suppressed(c)) return NULL;
    struct reply_block *b = block_append(c, RESP_HDR_MAX);
    b->cap = 0; /* full: later replies go to the next block */
    note_output(c, 0);
    return b;
}

static void set_defer(struct client *c, void *handle, char prefix, long long n)
{
    if (handle == NULL) return;
    struct reply_block *b = handle;
    b->len = resp_encode_header(b->data, prefix, n);
    /* Exactly full: cap - len must never wrap (nothing else goes here). */
    b->cap = b->len;
    c->reply_bytes += b->len;
}

void reply_set_array_len(struct client *c, void *handle, long long n)
{
    set_defer(c, handle, '*', n);
}

void reply_set_map_len(struct client *c, void *handle, long long n)
{
    if (c->resp >= 3) {
        set_defer(c, handle, '%', n);
    } else {
        set_defer(c, handle, '*', n * 2);
    }
}

void reply_set_set_len(struct client *c, void *handle, long long n)
{
    set_defer(c, handle, c->resp >= 3 ? '~' : '*', n);
}

/* ---- Canned errors ---- */

void reply_wrongtype(struct client *c)
{
    reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void reply_syntax_error(struct client *c)
{
    reply_error(c, "ERR syntax error");
}

void reply_not_integer(struct client *c)
{
    reply_error(c, "ERR value is not an integer or out of range");
}

void reply_not_float(struct client *c)
{
    reply_error(c, "ERR value is not a valid float");
}

void reply_release(struct client *c)
{
    struct reply_block *b = c->reply_head;
    while (b != NULL) {
        struct reply_block *next = b->next;
        em_free(b);
        b = next;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->inflight_blocks = 0;
}
