/* net.c: libuv glue (see net.h). Knows sockets, not RESP.
 *
 * Each loop iteration: libuv runs the cron timer, then read callbacks (each
 * hands its bytes to client_feed(), which executes whole commands and queues
 * replies), then, in the prepare phase before the next poll, flushes every
 * client with pending output: one uv_try_write (a single writev) per client
 * per iteration. Whatever the kernel does not take is handed to uv_write,
 * and that client's flushes wait for its callback. */
#include "ember/net.h"

#include "ember/aof.h"
#include "ember/auth.h"
#include "ember/client.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define NET_MAX_LISTENERS CONFIG_MAX_BIND
#define NET_MAX_IOV       64

struct conn {
    uv_tcp_t tcp; /* first: the handle pointer is the conn pointer */
    uv_write_t wreq;
    struct client *c;
    size_t head_off;       /* bytes of the first reply block already sent */
    size_t inflight_bytes; /* bytes handed to the pending uv_write */
};

struct net {
    uv_loop_t loop;
    uv_tcp_t listeners[NET_MAX_LISTENERS];
    int listener_count;
    uv_timer_t cron;
    uv_prepare_t before_sleep;
    uv_signal_t sigterm, sigint;
    uint64_t loop_iteration;
    uint64_t clock_iteration;
};

static struct net net;

/* ---- Writing ---- */

static void close_conn(struct conn *k);

/* Fills iov from the reply chain (skipping head_off bytes of the first block
 * and empty blocks); returns the count, and *blocks the blocks covered. */
static int gather(struct conn *k, uv_buf_t *iov, int *blocks)
{
    struct client *c = k->c;
    int n = 0, b = 0;
    for (struct reply_block *r = c->reply_head; r != NULL && n < NET_MAX_IOV; r = r->next, b++) {
        size_t off = (r == c->reply_head) ? k->head_off : 0;
        if (r->len > off) iov[n++] = uv_buf_init(r->data + off, (unsigned)(r->len - off));
    }
    *blocks = b;
    return n;
}

/* Drops `written` bytes from the front of the chain. */
static void consume(struct conn *k, size_t written)
{
    struct client *c = k->c;
    server.stats.total_net_output_bytes += (long long)written;
    c->reply_bytes -= written < c->reply_bytes ? written : c->reply_bytes;
    while (c->reply_head != NULL) {
        struct reply_block *r = c->reply_head;
        size_t avail = r->len - k->head_off;
        if (written < avail) {
            k->head_off += written;
            return;
        }
        written -= avail;
        c->reply_head = r->next;
        if (c->reply_tail == r) c->reply_tail = NULL;
        em_free(r);
        k->head_off = 0;
    }
}

static void flush_conn(struct conn *k);

static void on_write(uv_write_t *req, int status)
{
    struct conn *k = req->data;
    struct client *c = k->c;
    c->flags &= ~(unsigned)CLIENT_WRITING;
    c->inflight_blocks = 0;
    if (status < 0) {
        log_verbose("Error writing to client %s: %s", c->addr, uv_strerror(status));
        close_conn(k);
        return;
    }
    consume(k, k->inflight_bytes);
    k->inflight_bytes = 0;
    flush_conn(k);
}

static void flush_conn(struct conn *k)
{
    struct client *c = k->c;
    if (c->flags & CLIENT_CLOSING) return;
    /* Before the in-flight check: a client that never reads always has a
     * write pending, and must still be closed (libuv cancels the write). */
    if (c->flags & CLIENT_CLOSE_ASAP) {
        close_conn(k);
        return;
    }
    if (c->flags & CLIENT_WRITING) return;
    for (;;) {
        uv_buf_t iov[NET_MAX_IOV];
        int blocks;
        int n = gather(k, iov, &blocks);
        if (n == 0) break;
        size_t total = 0;
        for (int i = 0; i < n; i++)
            total += iov[i].len;
        int w = uv_try_write((uv_stream_t *)&k->tcp, iov, (unsigned)n);
        if (w == UV_EAGAIN) w = 0;
        if (w < 0) {
            log_verbose("Error writing to client %s: %s", c->addr, uv_strerror(w));
            close_conn(k);
            return;
        }
        consume(k, (size_t)w);
        if ((size_t)w == total) continue; /* maybe more than NET_MAX_IOV blocks */
        /* The kernel is full: hand the rest to libuv and wait. */
        n = gather(k, iov, &blocks);
        total = 0;
        for (int i = 0; i < n; i++)
            total += iov[i].len;
        k->wreq.data = k;
        int rc = uv_write(&k->wreq, (uv_stream_t *)&k->tcp, iov, (unsigned)n, on_write);
        if (rc < 0) {
            log_verbose("Error writing to client %s: %s", c->addr, uv_strerror(rc));
            close_conn(k);
            return;
        }
        c->flags |= CLIENT_WRITING;
        c->inflight_blocks = blocks;
        k->inflight_bytes = total;
        return;
    }
    if (c->reply_head == NULL || c->reply_bytes == 0) {
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) close_conn(k);
    }
}

static void adopt(struct conn *k);

/* While a script runs the loop does not, but Redis still accepts
 * connections (a new redis-cli must be able to send SCRIPT KILL): take a
 * few from each listener by hand, as its accept handler would. */
static void accept_while_busy(void)
{
    for (int i = 0; i < net.listener_count; i++) {
        uv_os_fd_t lfd;
        if (uv_fileno((uv_handle_t *)&net.listeners[i], &lfd) != 0) continue;
        for (int n = 0; n < 16; n++) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break; /* EAGAIN, or an error the loop will see again */
            struct conn *k = em_calloc(1, sizeof(*k));
            uv_tcp_init(&net.loop, &k->tcp);
            if (uv_tcp_open(&k->tcp, fd) < 0) {
                close(fd);
                uv_close((uv_handle_t *)&k->tcp, (uv_close_cb)em_free);
                continue;
            }
            adopt(k);
        }
    }
}

void net_poll_while_busy(void)
{
    clock_update();
    accept_while_busy();
    for (struct client *c = server.clients; c != NULL; c = c->next) {
        if (c == server.script_caller || c->fd < 0 ||
            (c->flags & (CLIENT_CLOSING | CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) {
            continue;
        }
        for (int rounds = 0; rounds < 4; rounds++) {
            size_t room;
            char *p = client_read_buffer_own(c, &room);
            ssize_t n = recv(c->fd, p, room, MSG_DONTWAIT);
            if (n <= 0) break; /* EAGAIN, EOF or error: libuv sees it later */
            client_feed(c, p, (size_t)n);
        }
    }
    net_flush_pending();
}

void net_flush_pending(void)
{
    aof_flush_before_replies(); /* no reply leaves before its write is in the AOF */
    struct client *c = server.pending_writes;
    server.pending_writes = NULL;
    while (c != NULL) {
        struct client *next = c->pending_next;
        c->pending_next = NULL;
        c->flags &= ~(unsigned)CLIENT_PENDING_WRITE;
        if (c->conn != NULL) flush_conn(c->conn);
        c = next;
    }
}

/* ---- Reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *k = (struct conn *)h;
    size_t len;
    char *p = client_read_buffer(k->c, &len);
    *buf = uv_buf_init(p, (unsigned)len);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *k = (struct conn *)s;
    struct client *c = k->c;
    if (net.clock_iteration != net.loop_iteration) {
        clock_update(); /* once per loop iteration: one "now" per batch */
        net.clock_iteration = net.loop_iteration;
    }
    if (nread > 0) {
        if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSING)) return;
        client_feed(c, buf->base, (size_t)nread);
        return;
    }
    if (nread == 0) return; /* EAGAIN */
    if (nread != UV_EOF)
        log_verbose("Reading from client %s: %s", c->addr, uv_strerror((int)nread));
    close_conn(k);
}

/* ---- Connections ---- */

static void on_close(uv_handle_t *h)
{
    struct conn *k = (struct conn *)h;
    if (k->c != NULL) {
        server_unlink_client(k->c);
        client_destroy(k->c);
    }
    em_free(k);
}

static void close_conn(struct conn *k)
{
    struct client *c = k->c;
    if (c->flags & CLIENT_CLOSING) return;
    c->flags |= CLIENT_CLOSING;
    uv_read_stop((uv_stream_t *)&k->tcp);
    uv_close((uv_handle_t *)&k->tcp, on_close);
}

void net_close_client(struct client *c)
{
    if (c->conn != NULL) close_conn(c->conn);
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof(ip));
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
    }
    snprintf(out, outlen, "%s:%d", ip, port);
}

static void reject_maxclients(uv_tcp_t *tcp)
{
    static const char msg[] = "-ERR max number of clients reached\r\n";
    uv_buf_t b = uv_buf_init((char *)msg, sizeof(msg) - 1);
    uv_try_write((uv_stream_t *)tcp, &b, 1);
    server.stats.rejected_connections++;
    uv_close((uv_handle_t *)tcp, (uv_close_cb)em_free);
}

static void on_connection(uv_stream_t *listener, int status)
{
    if (status < 0) {
        log_warn("Accepting client connection: %s", uv_strerror(status));
        return;
    }
    struct conn *k = em_calloc(1, sizeof(*k));
    uv_tcp_init(&net.loop, &k->tcp);
    int rc = uv_accept(listener, (uv_stream_t *)&k->tcp);
    if (rc < 0) {
        log_warn("Accepting client connection: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&k->tcp, (uv_close_cb)em_free);
        return;
    }
    adopt(k);
}

/* A connection just accepted into k->tcp becomes a client. */
static void adopt(struct conn *k)
{
    int rc;
    if (server.client_count >= server.cfg.maxclients) {
        reject_maxclients(&k->tcp);
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    if (server.cfg.tcp_keepalive > 0) {
        uv_tcp_keepalive(&k->tcp, 1, (unsigned)server.cfg.tcp_keepalive);
    }
    struct client *c = client_create();
    c->conn = k;
    k->c = c;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&k->tcp, &fd) == 0) c->fd = fd;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&k->tcp, (struct sockaddr *)&ss, &len) == 0) {
        format_addr(&ss, c->addr, sizeof(c->addr));
    }
    len = sizeof(ss);
    if (uv_tcp_getsockname(&k->tcp, (struct sockaddr *)&ss, &len) == 0) {
        format_addr(&ss, c->laddr, sizeof(c->laddr));
    }
    server_link_client(c);
    server.stats.total_connections_received++;
    if (auth_protected_mode_denies(c)) {
        /* Redis answers once and closes (clientAcceptHandler). */
        reply_error(c, auth_denied_message);
        client_close_after_reply(c);
        server.stats.rejected_connections++;
    }
    rc = uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    if (rc < 0) {
        log_warn("Reading from client %s: %s", c->addr, uv_strerror(rc));
        close_conn(k);
    }
}

/* Binds one address; a leading '-' marks it optional (Redis 7). */
static int listen_on(const char *spec)
{
    bool optional = spec[0] == '-';
    const char *addr = optional ? spec + 1 : spec;
    struct sockaddr_storage ss;
    bool v6 = strchr(addr, ':') != NULL;
    int rc = v6 ? uv_ip6_addr(addr, server.cfg.port, (struct sockaddr_in6 *)&ss)
                : uv_ip4_addr(addr, server.cfg.port, (struct sockaddr_in *)&ss);
    if (rc < 0) {
        log_warn("Invalid bind address '%s': %s", addr, uv_strerror(rc));
        return optional ? 0 : -1;
    }
    uv_tcp_t *l = &net.listeners[net.listener_count];
    uv_tcp_init(&net.loop, l);
    rc = uv_tcp_bind(l, (struct sockaddr *)&ss, v6 ? UV_TCP_IPV6ONLY : 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)l, server.cfg.tcp_backlog, on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)l, NULL);
        if (optional &&
            (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT || rc == UV_EPROTONOSUPPORT)) {
            return 0;
        }
        /* Redis's wording: the failing call, then strerror (libuv reports
         * a port in use at listen time, Redis at bind). */
        log_warn("Warning: Could not create server TCP listening socket %s:%d: %s: %s", addr,
                 server.cfg.port, rc == UV_EADDRINUSE || rc == UV_EADDRNOTAVAIL ? "bind" : "listen",
                 strerror(-rc));
        return -1;
    }
    net.listener_count++;
    return 0;
}

/* ---- Timers and signals ---- */

static void on_cron(uv_timer_t *t)
{
    (void)t;
    clock_update();
    server_cron();
    if (server.shutdown_asap) uv_stop(&net.loop);
}

static void on_before_sleep(uv_prepare_t *p)
{
    (void)p;
    net.loop_iteration++;
    server_before_sleep();
    net_flush_pending();
    if (server.shutdown_asap) uv_stop(&net.loop);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    log_warn("Received %s scheduling shutdown...", signum == SIGINT ? "SIGINT" : "SIGTERM");
    server_request_shutdown(0);
    uv_stop(&net.loop);
}

int net_setup(void)
{
    memset(&net, 0, sizeof(net));
    int rc = uv_loop_init(&net.loop);
    if (rc < 0) {
        log_warn("Creating the event loop: %s", uv_strerror(rc));
        return -1;
    }
    server.loop = &net.loop;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < server.cfg.bind_count; i++) {
        if (listen_on(server.cfg.bind[i]) < 0) {
            log_warn("Failed listening on port %d (TCP), aborting.", server.cfg.port);
            return -1;
        }
    }
    if (net.listener_count == 0) {
        log_warn("Failed listening on port %d (TCP), aborting.", server.cfg.port);
        return -1;
    }
    uv_timer_init(&net.loop, &net.cron);
    net_set_hz(server.cfg.hz);
    uv_prepare_init(&net.loop, &net.before_sleep);
    uv_prepare_start(&net.before_sleep, on_before_sleep);
    uv_signal_init(&net.loop, &net.sigterm);
    uv_signal_start(&net.sigterm, on_signal, SIGTERM);
    uv_signal_init(&net.loop, &net.sigint);
    uv_signal_start(&net.sigint, on_signal, SIGINT);
    return 0;
}

void net_set_hz(int hz)
{
    uint64_t ms = hz > 0 ? (uint64_t)(1000 / hz) : 100;
    if (ms == 0) ms = 1;
    uv_timer_start(&net.cron, on_cron, ms, ms);
}

void net_run(void)
{
    while (!server.shutdown_asap) {
        uv_run(&net.loop, UV_RUN_DEFAULT);
    }
}

void net_stop(void)
{
    uv_stop(&net.loop);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void net_teardown(void)
{
    /* Flush what we can, then close clients (their close callbacks free
     * them), then every other handle. */
    net_flush_pending();
    for (struct client *c = server.clients; c != NULL; c = c->next) {
        if (c->conn != NULL) close_conn(c->conn);
    }
    for (int i = 0; i < net.listener_count; i++)
        uv_close((uv_handle_t *)&net.listeners[i], NULL);
    uv_close((uv_handle_t *)&net.cron, NULL);
    uv_close((uv_handle_t *)&net.before_sleep, NULL);
    uv_close((uv_handle_t *)&net.sigterm, NULL);
    uv_close((uv_handle_t *)&net.sigint, NULL);
    uv_run(&net.loop, UV_RUN_DEFAULT);
    uv_walk(&net.loop, close_walk, NULL);
    uv_run(&net.loop, UV_RUN_DEFAULT);
    uv_loop_close(&net.loop);
    server.loop = NULL;
}
