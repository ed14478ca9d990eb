/* storeless.c: the ceiling server for the benchmark harness.
 *
 * A RESP server that stores nothing, so whatever redis-benchmark reaches
 * against it on a machine is the most any server can reach there: the cost
 * left is the kernel's (accept, read, write, epoll) and the parser's. One
 * thread, one epoll set, level-triggered, non-blocking sockets.
 *
 * For each connection, everything one read() returns is parsed; every complete
 * request (multibulk, or inline as redis-benchmark's PING_INLINE sends) gets a
 * canned reply appended to the connection's output buffer, and the buffer is
 * written once after the whole read was parsed, so a pipeline of N requests
 * costs one read and one write, as in a good server. A partial request stays
 * in the input buffer until the rest arrives. Replies, by command name:
 *
 *     PING                      +PONG
 *     GET LPOP RPOP             $-1
 *     INCR LPUSH RPUSH HSET     :1
 *     LRANGE                    *0
 *     anything else             +OK      (SET, MSET, FLUSHALL, ...)
 *
 * Usage: storeless [--port N] [--bind ADDR]; SIGTERM or SIGINT exits 0.
 * Built by bench/bench.py with plain gcc; not part of the ember build. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define MAX_EVENTS 128
#define MAX_INLINE (64 * 1024)
#define MAX_BULK   (512L * 1024 * 1024)
#define MAX_ARGS   (1024 * 1024)

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

struct conn {
    int fd;
    struct buf in;  /* unparsed bytes; parsed ones are removed after each read */
    struct buf out; /* replies not yet written */
    size_t out_off; /* bytes of out already written */
    bool want_write;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        perror("realloc");
        exit(1);
    }
    b->data = p;
    b->cap = cap;
}

static void buf_append(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Reads a decimal integer terminated by "\r\n" starting at p (inside [p, end)).
 * Returns a pointer past the CRLF, NULL if incomplete, or (char *)-1 on error. */
static const char *parse_int_line(const char *p, const char *end, long *out)
{
    const char *cr = memchr(p, '\r', (size_t)(end - p));
    if (cr == NULL || cr + 1 >= end) return NULL;
    if (cr[1] != '\n') return (const char *)-1;
    bool neg = false;
    long v = 0;
    if (p < cr && *p == '-') {
        neg = true;
        p++;
    }
    if (p == cr) return (const char *)-1;
    for (; p < cr; p++) {
        if (*p < '0' || *p > '9' || v > MAX_BULK) return (const char *)-1;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return cr + 2;
}

static void reply_for(struct buf *out, const char *name, size_t len)
{
    static const struct {
        const char *name;
        const char *reply;
    } table[] = {
        {"ping", "+PONG\r\n"}, {"get", "$-1\r\n"}, {"lpop", "$-1\r\n"},
        {"rpop", "$-1\r\n"},   {"incr", ":1\r\n"}, {"lpush", ":1\r\n"},
        {"rpush", ":1\r\n"},   {"hset", ":1\r\n"}, {"lrange", "*0\r\n"},
    };
    const char *reply = "+OK\r\n";
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strlen(table[i].name) == len && strncasecmp(table[i].name, name, len) == 0) {
            reply = table[i].reply;
            break;
        }
    }
    buf_append(out, reply, strlen(reply));
}

/* Parses one request at p. Returns bytes consumed, 0 if incomplete, -1 on a
 * protocol error. On success, a reply has been appended to out. */
static long parse_request(const char *p, const char *end, struct buf *out)
{
    const char *start = p;
    if (*p != '*') {
        /* Inline: one line, words separated by spaces; the first is the name. */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return (end - p > MAX_INLINE) ? -1 : 0;
        const char *s = p;
        while (s < nl && (*s == ' ' || *s == '\t'))
            s++;
        const char *e = s;
        while (e < nl && *e != ' ' && *e != '\t' && *e != '\r')
            e++;
        if (e > s) reply_for(out, s, (size_t)(e - s));
        return nl + 1 - start;
    }
    long argc;
    const char *q = parse_int_line(p + 1, end, &argc);
    if (q == NULL) return 0;
    if (q == (const char *)-1 || argc > MAX_ARGS) return -1;
    const char *name = NULL;
    size_t name_len = 0;
    for (long i = 0; i < argc; i++) {
        if (q >= end) return 0;
        if (*q != '$') return -1;
        long blen;
        const char *data = parse_int_line(q + 1, end, &blen);
        if (data == NULL) return 0;
        if (data == (const char *)-1 || blen < 0) return -1;
        if (end - data < blen + 2) return 0;
        if (data[blen] != '\r' || data[blen + 1] != '\n') return -1;
        if (i == 0) {
            name = data;
            name_len = (size_t)blen;
        }
        q = data + blen + 2;
    }
    if (argc > 0) reply_for(out, name, name_len);
    return q - start;
}

static void conn_close(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

/* Writes pending output; returns false if the connection must close. */
static bool conn_flush(int ep, struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return false;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out.len) {
        c->out.len = 0;
        c->out_off = 0;
    }
    bool want = c->out.len > 0;
    if (want != c->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_write = want;
    }
    return true;
}

/* Reads once, answers every complete request, writes once. */
static bool conn_read(int ep, struct conn *c)
{
    buf_reserve(&c->in, READ_CHUNK);
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c->in.len += (size_t)n;

    size_t off = 0;
    while (off < c->in.len) {
        long used = parse_request(c->in.data + off, c->in.data + c->in.len, &c->out);
        if (used < 0) {
            static const char err[] = "-ERR Protocol error\r\n";
            buf_append(&c->out, err, sizeof(err) - 1);
            conn_flush(ep, c);
            return false;
        }
        if (used == 0) break;
        off += (size_t)used;
    }
    memmove(c->in.data, c->in.data + off, c->in.len - off);
    c->in.len -= off;
    return conn_flush(ep, c);
}

static int listen_on(const char *bind_addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) return -1;
    if (listen(fd, 511) < 0) return -1;
    return fd;
}

int main(int argc, char **argv)
{
    int port = 6379;
    const char *bind_addr = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0) {
            port = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--bind") == 0) {
            bind_addr = argv[i + 1];
        } /* other redis-style options (--save, --appendonly) are ignored */
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = listen_on(bind_addr, port);
    if (lfd < 0) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    fprintf(stderr, "storeless: listening on %s:%d\n", bind_addr, port);

    struct epoll_event events[MAX_EVENTS];
    while (!stop_requested) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 1000);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *nc = calloc(1, sizeof(*nc));
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            /* Read before honouring a hang-up: the peer may have sent its last
             * requests together with the FIN. */
            bool ok = true;
            if (events[i].events & EPOLLOUT) ok = conn_flush(ep, c);
            if (ok && (events[i].events & EPOLLIN)) {
                ok = conn_read(ep, c);
            } else if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                ok = false;
            }
            if (!ok) conn_close(ep, c);
        }
    }
    close(lfd);
    close(ep);
    return 0;
}
