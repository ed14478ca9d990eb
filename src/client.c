/* client.c: a connection's life: input bytes -> parser -> dispatch.
 *
 * Reads land in the server's shared read buffer whenever the client has no
 * partial frame pending (client.h), and every complete command in them is
 * executed in place. Only an incomplete tail is copied into the client's own
 * query buffer, which then receives the following reads until the frame is
 * whole. An idle client therefore holds no input buffer at all. */
#include "ember/client.h"

#include "ember/acl.h"
#include "ember/auth.h"
#include "ember/blocking.h"
#include "ember/command.h"
#include "ember/diag.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/tracking.h"

#include <stdio.h>

#define CLIENT_QBUF_MIN (16 * 1024)

struct client *client_create(void)
{
    struct client *c = em_calloc(1, sizeof(*c));
    c->id = ++server.next_client_id;
    c->resp = 2;
    c->db = &server.ks.dbs[0];
    c->limits.max_bulk_len = server.cfg.proto_max_bulk_len;
    auth_client_init(c);
    resp_parser_init(&c->parser, &c->limits);
    c->ctime_ms = clock_ms();
    c->last_interaction_ms = c->ctime_ms;
    c->fd = -1;
    return c;
}

void client_destroy(struct client *c)
{
    if (c == NULL) return;
    blocking_forget(c);
    multi_release(c);
    pubsub_release(c);
    tracking_release(c);
    acl_client_reset(c); /* drop the client's user binding now, not at a rebuild */
    diag_forget(c);
    resp_parser_deinit(&c->parser);
    reply_release(c);
    em_free(c->qbuf);
    em_free(c->name);
    em_free(c->lib_name);
    em_free(c->lib_ver);
    em_free(c);
}

char *client_read_buffer(struct client *c, size_t *len)
{
    if (c->qlen == 0) {
        *len = server.read_buf_size;
        return server.read_buf;
    }
    return client_read_buffer_own(c, len);
}

char *client_read_buffer_own(struct client *c, size_t *len)
{
    if (c->qcap - c->qlen < CLIENT_QBUF_MIN) {
        size_t cap = c->qcap * 2;
        if (cap < c->qlen + CLIENT_QBUF_MIN) cap = c->qlen + CLIENT_QBUF_MIN;
        c->qbuf = em_realloc(c->qbuf, cap);
        c->qcap = cap;
    }
    *len = c->qcap - c->qlen;
    return c->qbuf + c->qlen;
}

/* Frames are parsed in one pass each (resp_parse_plain) into a small ring,
 * ahead of the command that runs. Over a large keyspace the ring also holds
 * the next LOOKAHEAD commands of a pipelined batch: a lookup's two cache
 * misses (bucket slot, then node) cost more than the rest of a GET, and the
 * keys of the next commands are already in the buffer, so while command i
 * runs, the bucket of command i + 2 and the node of command i + 1 are on
 * their way. Each key is hashed once; the hash reaches db_find() through
 * the keyspace's hint while its command runs. Frames the fast parser
 * declines (inline, partial, unusual or over a limit) go through
 * resp_parse(), which keeps the state of a frame split across reads. */
#define LOOKAHEAD 2
/* Below this many buckets the table and its nodes mostly sit in the CPU's
 * caches, and hashing ahead would cost more than the misses it hides. */
#define LOOKAHEAD_MIN_BUCKETS 32768
/* Wider frames (MSET of many keys, say) take resp_parse()'s path. */
#define FRAME_MAX_ARGS 16

struct frame {
    size_t len; /* bytes */
    int argc;
    struct key_hint key; /* argv[1] and its hash (ptr NULL: none or not hashed) */
    struct slice argv[FRAME_MAX_ARGS];
};

/* The frame running now plus up to LOOKAHEAD parsed after it. */
struct frame_ring {
    struct frame f[LOOKAHEAD + 1];
    int head, n;        /* n frames from f[head], the first one the oldest */
    size_t next;        /* offset of the first byte not yet in the ring */
    bool ahead;         /* hash and prefetch the keys of queued frames */
    bool authenticated; /* the limits the queued frames were parsed under */
    long long max_bulk_len;
};

/* Parses frames at r->next into the ring until it holds `want`; false when
 * the bytes there are not a complete plain frame. */
static bool ring_fill(struct client *c, struct frame_ring *r, const char *buf, size_t len, int want)
{
    while (r->n < want && r->next < len) {
        struct frame *f = &r->f[(r->head + r->n) % (LOOKAHEAD + 1)];
        f->len = resp_parse_plain(&c->limits, buf + r->next, len - r->next, f->argv, FRAME_MAX_ARGS,
                                  &f->argc);
        if (f->len == 0) return false;
        f->key.ptr = NULL;
        if (r->ahead && f->argc >= 2) {
            f->key = (struct key_hint){f->argv[1].ptr, f->argv[1].len, 0};
            f->key.hash = dict_hash(f->key.ptr, f->key.len);
            db_prefetch_bucket(c->db, f->key.hash);
        }
        r->next += f->len;
        r->n++;
    }
    return r->n >= want;
}

/* Executes every complete frame in buf[0..len); returns the bytes used. */
static size_t process_input(struct client *c, const char *buf, size_t len)
{
    struct frame_ring r;
    r.head = r.n = 0;
    r.next = 0;
    r.ahead = c->db->dict.t[0].size >= LOOKAHEAD_MIN_BUCKETS;
    r.authenticated = c->limits.authenticated;
    r.max_bulk_len = c->limits.max_bulk_len;
    size_t pos = 0;
    while (pos < len &&
           !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_BLOCKED))) {
        struct frame *f = NULL;
        if (r.n > 0 || ring_fill(c, &r, buf, len, 1)) {
            f = &r.f[r.head];
            r.head = (r.head + 1) % (LOOKAHEAD + 1);
            r.n--;
            pos += f->len;
            /* A frame split across reads left the parser mid-frame; that
             * frame is whole now, and parsed. */
            if ((c->parser.pos | c->parser.scanned) != 0 || c->parser.want >= 0) {
                resp_parser_reset(&c->parser);
            }
            if (f->argc == 0) continue;
            c->argc = f->argc;
            c->argv = f->argv;
            if (r.ahead) {
                if (f->key.ptr != NULL) c->db->ks->hint = f->key;
                ring_fill(c, &r, buf, len, LOOKAHEAD);
                if (r.n > 0 && r.f[r.head].key.ptr != NULL) {
                    db_prefetch_node(c->db, r.f[r.head].key.hash);
                }
            }
        } else {
            size_t consumed = 0;
            int rc = resp_parse(&c->parser, buf + pos, len - pos, &consumed);
            if (rc == RESP_INCOMPLETE) break;
            if (rc == RESP_ERR) {
                reply_error_fmt(c, "ERR %s", c->parser.error);
                log_verbose("Protocol error (%s) from client: id=%llu addr=%s", c->parser.error,
                            (unsigned long long)c->id, c->addr);
                client_close_after_reply(c);
                return len;
            }
            pos += consumed;
            r.next = pos;
            if (c->parser.argc == 0) continue;
            c->argc = c->parser.argc;
            c->argv = c->parser.argv;
        }
        command_dispatch(c);
        c->db->ks->hint.ptr = NULL;
        c->argc = 0;
        c->argv = NULL;
        /* AUTH, RESET or CONFIG SET changed the limits: frames queued under
         * the old ones are parsed again under the new. */
        if (r.n > 0 && (c->limits.authenticated != r.authenticated ||
                        c->limits.max_bulk_len != r.max_bulk_len)) {
            r.n = 0;
            r.next = pos;
        }
        r.authenticated = c->limits.authenticated;
        r.max_bulk_len = c->limits.max_bulk_len;
    }
    return pos;
}

static void check_query_limit(struct client *c)
{
    if (c->qlen > (size_t)server.cfg.client_query_buffer_limit) {
        log_warn("Closing client that reached max query buffer length: id=%llu addr=%s "
                 "(qbuf initial bytes: \"%.32s\")",
                 (unsigned long long)c->id, c->addr, c->qbuf);
        client_close_asap(c);
    }
}

void client_feed(struct client *c, const char *buf, size_t n)
{
    if (n > 0) c->last_interaction_ms = clock_ms();
    server.stats.total_net_input_bytes += (long long)n;
    if (buf == server.read_buf) {
        size_t used = process_input(c, buf, n);
        if (used < n && !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) {
            size_t rest = n - used;
            size_t cap = rest + CLIENT_QBUF_MIN;
            if (c->qcap < cap) {
                em_free(c->qbuf);
                c->qbuf = em_malloc(cap);
                c->qcap = cap;
            }
            memcpy(c->qbuf, buf + used, rest);
            c->qlen = rest;
            check_query_limit(c);
        }
        return;
    }
    c->qlen += n;
    size_t used = process_input(c, c->qbuf, c->qlen);
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) {
        c->qlen = 0;
    } else if (used > 0) {
        memmove(c->qbuf, c->qbuf + used, c->qlen - used);
        c->qlen -= used;
    }
    if (c->qlen == 0 && c->qcap > 4 * CLIENT_QBUF_MIN) {
        /* Give a large buffer back once the big frame that needed it is done. */
        em_free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
    check_query_limit(c);
}

void client_process_pending(struct client *c)
{
    if (c->qlen == 0 || (c->flags & (CLIENT_BLOCKED | CLIENT_CLOSING))) return;
    client_feed(c, c->qbuf + c->qlen, 0);
}

void client_close_asap(struct client *c)
{
    c->flags |= CLIENT_CLOSE_ASAP;
    client_queue_write(c); /* the flush pass closes it */
}

void client_close_after_reply(struct client *c)
{
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    client_queue_write(c);
}

void client_queue_write(struct client *c)
{
    if (c->flags & CLIENT_PENDING_WRITE) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pending_next = server.pending_writes;
    server.pending_writes = c;
}

char *client_info_string(const struct client *c)
{
    char buf[1024];
    long long now = clock_ms();
    char full[128];
    const char *cmd =
        c->last_cmd != NULL ? command_fullname(c->last_cmd, full, sizeof(full)) : "NULL";
    /* Redis's letters, in its order (getClientInfoString). */
    char flags[16], *f = flags;
    if (c->flags & CLIENT_MONITOR) *f++ = 'O';
    if (c->pubsub != NULL && (c->pubsub->channel_count > 0 || c->pubsub->pattern_count > 0 ||
                              c->pubsub->shard_count > 0)) {
        *f++ = 'P';
    }
    if (c->flags & CLIENT_MULTI) *f++ = 'x';
    if (c->flags & CLIENT_BLOCKED) *f++ = 'b';
    for (const char *t = tracking_client_flags(c); *t != '\0'; t++)
        *f++ = *t;
    if (c->multi != NULL && c->multi->dirty_cas) *f++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *f++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *f++ = 'A';
    if (f == flags) *f++ = 'N';
    *f = '\0';
    snprintf(buf, sizeof(buf),
             "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%d "
             "psub=%d ssub=%d multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu "
             "rbp=0 obl=0 oll=0 omem=%zu tot-mem=%zu events=%s cmd=%s user=%s redir=%lld "
             "resp=%d lib-name=%s lib-ver=%s",
             (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
             (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000, flags,
             c->db != NULL ? c->db->id : 0, c->pubsub ? c->pubsub->channel_count : 0,
             c->pubsub ? c->pubsub->pattern_count : 0, c->pubsub ? c->pubsub->shard_count : 0,
             (c->flags & CLIENT_MULTI) && c->multi ? c->multi->count : -1, c->qlen,
             c->qcap - c->qlen, c->qcap, c->reply_bytes, sizeof(*c) + c->qcap + c->reply_bytes,
             c->reply_bytes > 0 ? "rw" : "r", cmd, acl_client_user(c), tracking_client_redirect(c),
             c->resp, c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
    return em_strndup(buf, strlen(buf));
}
