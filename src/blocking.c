/* blocking.c: clients blocked on keys (see blocking.h).
 *
 * State:
 *  - waiting[db]: a dict from key to the FIFO queue of clients blocked on it;
 *  - ready: keys that received a list or sorted set since the last pass;
 *  - blocked: every blocked client, for timeouts and INFO.
 *
 * Serving a ready key re-executes, in blocking order, the command of each
 * client waiting on it, until the key is gone (its value consumed). A client
 * whose command blocks again keeps its place in every queue. */
#include "ember/blocking.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <limits.h>

struct wait_queue {
    struct client **clients;
    int len;
    int cap;
};

struct ready_key {
    int db;
    char *key;
    size_t len;
};

struct blocking_state {
    struct dict *waiting; /* one per db */
    int db_count;
    struct ready_key *ready;
    int ready_len;
    int ready_cap;
    struct client **blocked;
    int blocked_len;
    int blocked_cap;
    long long next_deadline; /* earliest deadline among blocked, 0 = none */
    long long pause_end_ms;  /* CLIENT PAUSE in force until then, 0 = none */
    bool pause_all;
    struct client **postponed; /* FIFO of clients waiting for the pause to end */
    int postponed_len;
    int postponed_cap;
    bool reblocked; /* set when a re-executed command blocks again */
};

static struct blocking_state bs;

static struct wait_queue *node_queue(const struct dict_node *n)
{
    struct wait_queue *q;
    memcpy(&q, dict_node_payload(n), sizeof(q));
    return q;
}

static void destroy_wait_node(struct dict_node *n, void *ctx)
{
    (void)ctx;
    struct wait_queue *q = node_queue(n);
    em_free(q->clients);
    em_free(q);
    em_free(n);
}

static const struct dict_type wait_dict_type = {.destroy = destroy_wait_node};

void blocking_setup(void)
{
    memset(&bs, 0, sizeof(bs));
    bs.db_count = server.ks.count;
    bs.waiting = em_calloc((size_t)bs.db_count, sizeof(struct dict));
    for (int i = 0; i < bs.db_count; i++)
        dict_init(&bs.waiting[i], &wait_dict_type);
}

void blocking_teardown(void)
{
    em_free(bs.postponed);
    for (int i = 0; i < bs.db_count; i++)
        dict_deinit(&bs.waiting[i], NULL);
    em_free(bs.waiting);
    for (int i = 0; i < bs.ready_len; i++)
        em_free(bs.ready[i].key);
    em_free(bs.ready);
    em_free(bs.blocked);
    memset(&bs, 0, sizeof(bs));
}

int blocking_count(void)
{
    return bs.blocked_len;
}

bool blocking_may_block(const struct client *c)
{
    return !(c->flags & CLIENT_MULTI);
}

bool blocking_timeout_or_reply(struct client *c, int i, long long *deadline_ms)
{
    if ((c->flags & CLIENT_REEXEC) && c->blk != NULL) {
        *deadline_ms = c->blk->deadline_ms;
        return true;
    }
    /* Redis's getTimeoutFromObjectOrReply: a long double of seconds,
     * truncated to whole milliseconds (so 0.0001 means "forever"). A value
     * that does not fit a long long converts, on x86, to LLONG_MIN, which
     * Redis then reports as negative: inf and 1e16 give that error too. */
    long double secs;
    if (!str_to_ld(c->argv[i].ptr, c->argv[i].len, &secs)) {
        reply_error(c, "ERR timeout is not a float or out of range");
        return false;
    }
    long double ms_ld = secs * 1000.0L;
    long long ms = (ms_ld >= -9223372036854775808.0L && ms_ld < 9223372036854775808.0L)
                       ? (long long)ms_ld
                       : LLONG_MIN;
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return false;
    }
    if (ms > 0 && ms > LLONG_MAX - clock_ms()) {
        reply_error(c, "ERR timeout is out of range");
        return false;
    }
    *deadline_ms = ms > 0 ? clock_ms() + ms : 0;
    return true;
}

/* ---- Queues ---- */

static struct wait_queue *queue_find(int db, struct slice key, struct dict_pos *pos)
{
    struct dict_node *n =
        dict_find(&bs.waiting[db], dict_hash(key.ptr, key.len), key.ptr, key.len, pos);
    return n != NULL ? node_queue(n) : NULL;
}

static void queue_push(int db, struct slice key, struct client *c)
{
    struct wait_queue *q = queue_find(db, key, NULL);
    if (q == NULL) {
        q = em_calloc(1, sizeof(*q));
        struct dict_node *n = em_malloc(DICT_NODE_HDR + dict_key_size(key.len) + sizeof(q));
        n->next = NULL;
        n->meta = 0;
        uint8_t *p = dict_node_set_key(n, key.ptr, key.len);
        memcpy(p, &q, sizeof(q));
        dict_insert(&bs.waiting[db], dict_hash(key.ptr, key.len), n);
    }
    if (q->len == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4;
        q->clients = em_realloc(q->clients, (size_t)q->cap * sizeof(*q->clients));
    }
    q->clients[q->len++] = c;
}

static void queue_remove(int db, struct slice key, struct client *c)
{
    struct dict_pos pos;
    struct wait_queue *q = queue_find(db, key, &pos);
    if (q == NULL) return;
    for (int i = 0; i < q->len; i++) {
        if (q->clients[i] == c) {
            memmove(&q->clients[i], &q->clients[i + 1], (size_t)(q->len - i - 1) * sizeof(c));
            q->len--;
            break;
        }
    }
    if (q->len == 0) destroy_wait_node(dict_unlink(&bs.waiting[db], &pos), NULL);
}

/* ---- Blocking and unblocking ---- */

static struct slice slice_copy(struct slice s)
{
    return (struct slice){em_strndup(s.ptr, s.len), s.len};
}

void blocking_block(struct client *c, const struct slice *keys, int nkeys, long long deadline_ms,
                    enum block_timeout_reply on_timeout)
{
    if (c->flags & CLIENT_REEXEC) {
        bs.reblocked = true; /* still waiting, in the same place */
        return;
    }
    struct client_block *b = em_calloc(1, sizeof(*b));
    b->keys = em_malloc((size_t)nkeys * sizeof(*b->keys));
    b->nkeys = 0;
    b->db = c->db->id;
    b->deadline_ms = deadline_ms;
    b->on_timeout = on_timeout;
    b->argc = c->argc;
    b->argv = em_malloc((size_t)c->argc * sizeof(*b->argv));
    for (int i = 0; i < c->argc; i++)
        b->argv[i] = slice_copy(c->argv[i]);
    c->blk = b;
    c->flags |= CLIENT_BLOCKED;
    for (int i = 0; i < nkeys; i++) {
        /* A key named twice waits once. */
        bool dup = false;
        for (int j = 0; j < b->nkeys && !dup; j++) {
            dup = b->keys[j].len == keys[i].len &&
                  memcmp(b->keys[j].ptr, keys[i].ptr, keys[i].len) == 0;
        }
        if (dup) continue;
        b->keys[b->nkeys++] = slice_copy(keys[i]);
        queue_push(b->db, keys[i], c);
    }
    if (bs.blocked_len == bs.blocked_cap) {
        bs.blocked_cap = bs.blocked_cap ? bs.blocked_cap * 2 : 16;
        bs.blocked = em_realloc(bs.blocked, (size_t)bs.blocked_cap * sizeof(*bs.blocked));
    }
    bs.blocked[bs.blocked_len++] = c;
    if (deadline_ms != 0 && (bs.next_deadline == 0 || deadline_ms < bs.next_deadline)) {
        bs.next_deadline = deadline_ms;
    }
}

/* Removes every trace of the block; the client is runnable again. */
static void release_block(struct client *c)
{
    struct client_block *b = c->blk;
    if (b == NULL) return;
    for (int i = 0; i < bs.postponed_len; i++) {
        if (bs.postponed[i] == c) {
            memmove(&bs.postponed[i], &bs.postponed[i + 1],
                    (size_t)(bs.postponed_len - i - 1) * sizeof(c));
            bs.postponed_len--;
            break;
        }
    }
    for (int i = 0; i < b->nkeys; i++) {
        queue_remove(b->db, b->keys[i], c);
        em_free((char *)b->keys[i].ptr);
    }
    for (int i = 0; i < b->argc; i++)
        em_free((char *)b->argv[i].ptr);
    em_free(b->keys);
    em_free(b->argv);
    em_free(b);
    c->blk = NULL;
    c->flags &= ~(unsigned)CLIENT_BLOCKED;
    for (int i = 0; i < bs.blocked_len; i++) {
        if (bs.blocked[i] == c) {
            bs.blocked[i] = bs.blocked[--bs.blocked_len];
            break;
        }
    }
}

void blocking_forget(struct client *c)
{
    release_block(c);
}

static void reply_timeout(struct client *c, enum block_timeout_reply kind)
{
    if (kind == BLOCK_REPLY_NULL) {
        reply_null(c);
    } else {
        reply_null_array(c);
    }
}

void blocking_unblock(struct client *c, const char *error)
{
    if (c->blk == NULL) return;
    if (error != NULL) {
        reply_error(c, error);
    } else {
        reply_timeout(c, c->blk->on_timeout);
    }
    release_block(c);
    client_process_pending(c);
}

/* ---- Serving ---- */

void blocking_signal_key(struct db *db, struct slice key)
{
    if (bs.blocked_len == 0 || db->id >= bs.db_count) return;
    if (dict_size(&bs.waiting[db->id]) == 0 || queue_find(db->id, key, NULL) == NULL) return;
    for (int i = 0; i < bs.ready_len; i++) {
        struct ready_key *r = &bs.ready[i];
        if (r->db == db->id && r->len == key.len && memcmp(r->key, key.ptr, key.len) == 0) return;
    }
    if (bs.ready_len == bs.ready_cap) {
        bs.ready_cap = bs.ready_cap ? bs.ready_cap * 2 : 8;
        bs.ready = em_realloc(bs.ready, (size_t)bs.ready_cap * sizeof(*bs.ready));
    }
    bs.ready[bs.ready_len++] = (struct ready_key){db->id, em_strndup(key.ptr, key.len), key.len};
}

/* Re-executes a blocked client's command. Returns true if it completed. */
static bool reexecute(struct client *c)
{
    struct client_block *b = c->blk;
    int argc = c->argc;
    struct slice *argv = c->argv;
    c->argc = b->argc;
    c->argv = b->argv;
    c->flags |= CLIENT_REEXEC;
    bs.reblocked = false;
    command_dispatch(c);
    c->flags &= ~(unsigned)CLIENT_REEXEC;
    c->argc = argc;
    c->argv = argv;
    return !bs.reblocked;
}

static void serve_key(const struct ready_key *r)
{
    struct slice key = {r->key, r->len};
    struct wait_queue *q = queue_find(r->db, key, NULL);
    if (q == NULL) return;
    /* Snapshot the order: serving changes the queue. */
    int n = q->len;
    struct client **order = em_malloc((size_t)n * sizeof(*order));
    memcpy(order, q->clients, (size_t)n * sizeof(*order));
    for (int i = 0; i < n; i++) {
        struct client *c = order[i];
        if (db_peek(&server.ks.dbs[r->db], key) == NULL) break; /* consumed */
        /* Still blocked on this key? (An earlier key may have served it.) */
        if (queue_find(r->db, key, NULL) == NULL) break;
        bool waiting = false;
        struct wait_queue *cur = queue_find(r->db, key, NULL);
        for (int j = 0; j < cur->len && !waiting; j++)
            waiting = cur->clients[j] == c;
        if (!waiting || c->blk == NULL) continue;
        if (reexecute(c)) {
            release_block(c);
            client_process_pending(c);
        }
    }
    em_free(order);
}

void blocking_handle_ready(void)
{
    static bool serving;
    if (serving) return; /* re-executed commands signal keys too: the loop below sees them */
    serving = true;
    while (bs.ready_len > 0) {
        struct ready_key *batch = bs.ready;
        int len = bs.ready_len;
        bs.ready = NULL;
        bs.ready_len = bs.ready_cap = 0;
        for (int i = 0; i < len; i++) {
            serve_key(&batch[i]);
            em_free(batch[i].key);
        }
        em_free(batch);
    }
    serving = false;
}

/* ---- CLIENT PAUSE ---- */

void blocking_pause(long long end_ms, bool all)
{
    if (bs.pause_end_ms == 0 || end_ms > bs.pause_end_ms) bs.pause_end_ms = end_ms;
    /* Redis keeps the stricter kind while pauses overlap. */
    bs.pause_all = bs.pause_all || all;
}

bool blocking_is_paused_for(const struct client *c, const struct command *cmd)
{
    (void)c;
    if (bs.pause_end_ms == 0) return false;
    if (bs.pause_all) return true;
    return (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)) != 0;
}

void blocking_postpone(struct client *c)
{
    if (c->flags & CLIENT_REEXEC) {
        bs.reblocked = true;
        return;
    }
    blocking_block(c, NULL, 0, 0, BLOCK_REPLY_NULL);
    if (bs.postponed_len == bs.postponed_cap) {
        bs.postponed_cap = bs.postponed_cap ? bs.postponed_cap * 2 : 8;
        bs.postponed = em_realloc(bs.postponed, (size_t)bs.postponed_cap * sizeof(*bs.postponed));
    }
    bs.postponed[bs.postponed_len++] = c;
}

void blocking_unpause(void)
{
    bs.pause_end_ms = 0;
    bs.pause_all = false;
    /* Re-run postponed commands in arrival order; each may postpone again
     * if a new pause began meanwhile. */
    int n = bs.postponed_len;
    struct client **order = em_malloc((size_t)(n > 0 ? n : 1) * sizeof(*order));
    memcpy(order, bs.postponed, (size_t)n * sizeof(*order));
    for (int i = 0; i < n; i++) {
        struct client *c = order[i];
        if (c->blk == NULL) continue;
        if (reexecute(c)) {
            release_block(c);
            client_process_pending(c);
        }
    }
    em_free(order);
}

void blocking_handle_timeouts(void)
{
    long long now = clock_ms();
    if (bs.pause_end_ms != 0 && now >= bs.pause_end_ms) blocking_unpause();
    if (bs.next_deadline == 0 || now < bs.next_deadline) return;
    long long next = 0;
    int due_len = 0;
    struct client **due = em_malloc((size_t)bs.blocked_len * sizeof(*due));
    for (int i = 0; i < bs.blocked_len; i++) {
        struct client *c = bs.blocked[i];
        long long d = c->blk->deadline_ms;
        if (d != 0 && d <= now) {
            due[due_len++] = c;
        } else if (d != 0 && (next == 0 || d < next)) {
            next = d;
        }
    }
    bs.next_deadline = next;
    /* Unblocking runs the clients' pending commands, which may block again
     * (blocking_block lowers next_deadline as needed). */
    for (int i = 0; i < due_len; i++)
        blocking_unblock(due[i], NULL);
    em_free(due);
}
