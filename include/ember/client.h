/* client.h: one connection's state, from input bytes to queued replies.
 *
 * Input: net.c reads into a buffer that client_read_buffer() hands out. When
 * the client has no partial frame pending, that is a server-wide read buffer
 * and complete commands are executed straight out of it with no copy; only
 * a partial tail is copied into the client's own query buffer. Commands
 * borrow their arguments (c->argv) from whichever buffer holds them, for the
 * duration of the call.
 *
 * Output: replies are appended to a chain of blocks (reply.c) and the client
 * is put on the server's pending-write list; net.c flushes every pending
 * client once per loop iteration, so a pipeline of N commands costs one
 * write. */
#ifndef EMBER_CLIENT_H
#define EMBER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/resp.h"
#include "ember/util.h"

struct db;
struct command;
struct client_block;
struct multi_state;
struct pubsub_state;

/* Reply storage: a chain of blocks; big bulk payloads get a block of their
 * own size. */
struct reply_block {
    struct reply_block *next;
    size_t len;
    size_t cap;
    char data[];
};

enum client_flag {
    CLIENT_CLOSE_AFTER_REPLY = 1 << 0, /* QUIT, protocol error: close once flushed */
    CLIENT_CLOSE_ASAP = 1 << 1,        /* close now, drop pending output */
    CLIENT_PENDING_WRITE = 1 << 2,     /* on the server's pending-write list */
    CLIENT_WRITING = 1 << 3,           /* a uv_write is in flight */
    CLIENT_CLOSING = 1 << 4,           /* uv_close called; freed in its callback */
    CLIENT_REPLY_OFF = 1 << 5,         /* CLIENT REPLY OFF */
    CLIENT_REPLY_SKIP_NEXT = 1 << 6,   /* CLIENT REPLY SKIP: set for the next command */
    CLIENT_REPLY_SKIP = 1 << 7,        /* this command's replies are dropped */
    CLIENT_AUTHENTICATED = 1 << 8,
    CLIENT_BLOCKED = 1 << 9,   /* waiting on keys (blocking.h) */
    CLIENT_REEXEC = 1 << 10,   /* re-executing the command it blocked on */
    CLIENT_MULTI = 1 << 11,    /* inside MULTI: commands are queued, never block */
    CLIENT_MONITOR = 1 << 12,  /* MONITOR: receives every command executed */
    CLIENT_INTERNAL = 1 << 13, /* the server's own (AOF loader): no user, no ACL checks */
};

struct client {
    uint64_t id;
    unsigned flags;
    int resp; /* protocol version: 2 or 3 */
    struct db *db;

    /* The command being executed: arguments borrowed from the input. */
    int argc;
    struct slice *argv;
    const struct command *cmd;

    /* Input */
    struct resp_parser parser;
    struct resp_limits limits;
    char *qbuf; /* partial frame carried between reads, or NULL */
    size_t qlen;
    size_t qcap;

    /* Output */
    struct reply_block *reply_head;
    struct reply_block *reply_tail;
    size_t reply_bytes;           /* queued, not yet handed to the kernel */
    int inflight_blocks;          /* leading blocks owned by an in-flight uv_write */
    long long obuf_soft_since_ms; /* when the soft output limit was first exceeded */
    struct client *pending_next;

    /* Bookkeeping */
    char *name; /* CLIENT SETNAME, em_malloc'd or NULL */
    char *lib_name;
    char *lib_ver;
    long long ctime_ms;
    long long last_interaction_ms;
    char addr[64];  /* "ip:port" of the peer */
    char laddr[64]; /* "ip:port" of our end */
    int fd;
    const struct command *last_cmd;
    long long commands_processed;

    struct client_block *blk;    /* non-NULL while CLIENT_BLOCKED */
    struct multi_state *multi;   /* MULTI queue and WATCHed keys, or NULL */
    struct pubsub_state *pubsub; /* subscriptions, or NULL */

    void *conn;                 /* net.c's handle (uv_tcp_t), opaque to everyone else */
    struct client *prev, *next; /* the server's client list */
};

/* Allocates a client bound to db 0; net.c fills conn/addr/fd. */
struct client *client_create(void);
/* Frees the client and everything it owns (called from net.c's close
 * callback only). */
void client_destroy(struct client *c);

/* Where net.c should read the next bytes: *len receives the room. */
char *client_read_buffer(struct client *c, size_t *len);
/* Like client_read_buffer() but always the client's own buffer, never the
 * shared one (reads made while a command is still executing). */
char *client_read_buffer_own(struct client *c, size_t *len);
/* Processes `n` new bytes that net.c read into the buffer returned by the
 * last client_read_buffer(). Executes every complete command. */
void client_feed(struct client *c, const char *buf, size_t n);

/* Executes commands waiting in the client's own query buffer (after it was
 * unblocked: nothing else would wake it if no new bytes arrive). */
void client_process_pending(struct client *c);

/* Marks the client to be closed: now (dropping output) or after flushing. */
void client_close_asap(struct client *c);
void client_close_after_reply(struct client *c);

/* Queues the client on the server's pending-write list (reply.c calls this
 * when it first appends to an empty chain). */
void client_queue_write(struct client *c);

/* CLIENT LIST / CLIENT INFO line for the client (em_malloc'd). */
char *client_info_string(const struct client *c);

#endif
