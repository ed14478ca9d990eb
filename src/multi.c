/* multi.c: MULTI/EXEC/DISCARD/WATCH/UNWATCH (see multi.h).
 *
 * Queued commands keep copies of their arguments (the input buffer they
 * came from is reused). Watches live in two places: each client lists the
 * (db, key) pairs it watches, and each db maps a watched key to the clients
 * watching it, so a write finds its watchers with one lookup. When nobody
 * watches anything, the touch hook returns at once. */
#include "ember/multi.h"

#include "ember/acl.h"
#include "ember/client.h"
#include "ember/cluster.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/reply.h"
#include "ember/server.h"

struct multi_cmd {
    struct command *cmd;
    int argc;
    struct slice *argv; /* owned copies */
};

struct watched_key {
    int db;
    struct slice key;  /* owned copy */
    bool expired_then; /* already logically expired when WATCHed */
};

/* The clients watching one key. */
struct watchers {
    struct client **clients;
    int len;
    int cap;
};

static struct {
    struct dict *by_db; /* key -> struct watchers *, one dict per db */
    int db_count;
    long long total; /* watches in force, all clients */
} ws;

static struct watchers *node_watchers(const struct dict_node *n)
{
    struct watchers *w;
    memcpy(&w, dict_node_payload(n), sizeof(w));
    return w;
}

static void destroy_watch_node(struct dict_node *n, void *ctx)
{
    (void)ctx;
    struct watchers *w = node_watchers(n);
    em_free(w->clients);
    em_free(w);
    em_free(n);
}

static const struct dict_type watch_dict_type = {.destroy = destroy_watch_node};

void multi_setup(void)
{
    ws.db_count = server.ks.count;
    ws.by_db = em_calloc((size_t)ws.db_count, sizeof(struct dict));
    for (int i = 0; i < ws.db_count; i++)
        dict_init(&ws.by_db[i], &watch_dict_type);
    ws.total = 0;
}

void multi_teardown(void)
{
    for (int i = 0; i < ws.db_count; i++)
        dict_deinit(&ws.by_db[i], NULL);
    em_free(ws.by_db);
    ws.by_db = NULL;
}

static struct multi_state *state_of(struct client *c)
{
    if (c->multi == NULL) {
        c->multi = em_calloc(1, sizeof(*c->multi));
        c->multi->slot = -1;
    }
    return c->multi;
}

/* ---- Queueing ---- */

void multi_queue(struct client *c, struct command *cmd)
{
    struct multi_state *m = state_of(c);
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cmds = em_realloc(m->cmds, (size_t)m->cap * sizeof(*m->cmds));
    }
    if (server.cfg.cluster_enabled && !m->crossslot) {
        int slot = cluster_command_slot(cmd, c->argc, c->argv);
        if (slot >= 0 && m->slot >= 0 && slot != m->slot) m->crossslot = true;
        if (slot >= 0) m->slot = slot;
    }
    struct multi_cmd *q = &m->cmds[m->count++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = em_malloc((size_t)c->argc * sizeof(*q->argv));
    for (int i = 0; i < c->argc; i++) {
        q->argv[i].ptr = em_strndup(c->argv[i].ptr, c->argv[i].len);
        q->argv[i].len = c->argv[i].len;
    }
    reply_raw(c, "+QUEUED\r\n", 9);
}

void multi_flag_error(struct client *c)
{
    if (c->flags & CLIENT_MULTI) state_of(c)->dirty_exec = true;
}

/* A transaction already doomed by a queueing error gets EXECABORT rather
 * than CROSSSLOT, as from redis-server. */
bool multi_crossslot(struct client *c)
{
    return c->multi != NULL && c->multi->crossslot && !c->multi->dirty_exec;
}

static void free_queue(struct multi_state *m)
{
    for (int i = 0; i < m->count; i++) {
        for (int j = 0; j < m->cmds[i].argc; j++)
            em_free((char *)m->cmds[i].argv[j].ptr);
        em_free(m->cmds[i].argv);
    }
    em_free(m->cmds);
    m->cmds = NULL;
    m->count = m->cap = 0;
    m->dirty_exec = false;
    m->crossslot = false;
    m->slot = -1;
}

/* ---- Watching ---- */

static struct watchers *watchers_find(int db, struct slice key, struct dict_pos *pos)
{
    struct dict_node *n =
        dict_find(&ws.by_db[db], dict_hash(key.ptr, key.len), key.ptr, key.len, pos);
    return n != NULL ? node_watchers(n) : NULL;
}

/* True if the key exists in the table but its deadline has passed. */
static bool logically_expired(struct db *db, struct slice key)
{
    struct dict_node *o = dict_find(&db->dict, dict_hash(key.ptr, key.len), key.ptr, key.len, NULL);
    return o != NULL && db_is_expired(o, clock_ms());
}

static void watch_key(struct client *c, struct slice key)
{
    struct multi_state *m = state_of(c);
    int db = c->db->id;
    for (int i = 0; i < m->watched_count; i++) {
        struct watched_key *w = &m->watched[i];
        if (w->db == db && w->key.len == key.len && memcmp(w->key.ptr, key.ptr, key.len) == 0) {
            return;
        }
    }
    if (m->watched_count == m->watched_cap) {
        m->watched_cap = m->watched_cap ? m->watched_cap * 2 : 4;
        m->watched = em_realloc(m->watched, (size_t)m->watched_cap * sizeof(*m->watched));
    }
    m->watched[m->watched_count++] = (struct watched_key){
        db, {em_strndup(key.ptr, key.len), key.len}, logically_expired(c->db, key)};

    struct watchers *w = watchers_find(db, key, NULL);
    if (w == NULL) {
        w = em_calloc(1, sizeof(*w));
        struct dict_node *n = em_malloc(DICT_NODE_HDR + dict_key_size(key.len) + sizeof(w));
        n->next = NULL;
        n->meta = 0;
        memcpy(dict_node_set_key(n, key.ptr, key.len), &w, sizeof(w));
        dict_insert(&ws.by_db[db], dict_hash(key.ptr, key.len), n);
    }
    if (w->len == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4;
        w->clients = em_realloc(w->clients, (size_t)w->cap * sizeof(*w->clients));
    }
    w->clients[w->len++] = c;
    ws.total++;
}

static void unwatch_all(struct client *c)
{
    struct multi_state *m = c->multi;
    if (m == NULL) return;
    for (int i = 0; i < m->watched_count; i++) {
        struct watched_key *wk = &m->watched[i];
        struct dict_pos pos;
        struct watchers *w = watchers_find(wk->db, wk->key, &pos);
        if (w != NULL) {
            for (int j = 0; j < w->len; j++) {
                if (w->clients[j] == c) {
                    w->clients[j] = w->clients[--w->len];
                    break;
                }
            }
            if (w->len == 0) destroy_watch_node(dict_unlink(&ws.by_db[wk->db], &pos), NULL);
        }
        em_free((char *)wk->key.ptr);
        ws.total--;
    }
    em_free(m->watched);
    m->watched = NULL;
    m->watched_count = m->watched_cap = 0;
    m->dirty_cas = false;
}

void multi_touch_key(struct db *db, struct slice key)
{
    if (ws.total == 0) return;
    struct watchers *w = watchers_find(db->id, key, NULL);
    if (w == NULL) return;
    for (int i = 0; i < w->len; i++)
        w->clients[i]->multi->dirty_cas = true;
}

void multi_touch_db(struct db *db)
{
    if (ws.total == 0 || dict_size(&ws.by_db[db->id]) == 0) return;
    struct dict_iter it;
    dict_iter_init(&it, &ws.by_db[db->id]);
    for (struct dict_node *n = dict_iter_next(&it); n != NULL; n = dict_iter_next(&it)) {
        struct slice key = dict_node_key(n);
        if (db_peek(db, key) == NULL) continue; /* Redis touches only keys that exist */
        struct watchers *w = node_watchers(n);
        for (int i = 0; i < w->len; i++)
            w->clients[i]->multi->dirty_cas = true;
    }
    dict_iter_deinit(&it);
}

void multi_release(struct client *c)
{
    if (c->multi == NULL) return;
    unwatch_all(c);
    free_queue(c->multi);
    em_free(c->multi);
    c->multi = NULL;
}

/* ---- Commands ---- */

/* MULTI */
static void cmd_multi(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    state_of(c);
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

static void end_transaction(struct client *c)
{
    free_queue(c->multi);
    unwatch_all(c);
    c->flags &= ~(unsigned)CLIENT_MULTI;
}

void multi_discard(struct client *c)
{
    end_transaction(c);
}

/* DISCARD */
static void cmd_discard(struct client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    end_transaction(c);
    reply_ok(c);
}

/* A watched key that was alive at WATCH time and has since expired, even if
 * nothing deleted it yet, fails the transaction (Redis's
 * isWatchedKeyExpired). */
static bool watched_key_expired(struct client *c)
{
    struct multi_state *m = c->multi;
    for (int i = 0; i < m->watched_count; i++) {
        struct watched_key *wk = &m->watched[i];
        if (!wk->expired_then && logically_expired(&server.ks.dbs[wk->db], wk->key)) return true;
    }
    return false;
}

/* EXEC */
static void cmd_exec(struct client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    struct multi_state *m = c->multi;
    if (m->dirty_exec) {
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        end_transaction(c);
        return;
    }
    if (m->dirty_cas || watched_key_expired(c)) {
        reply_null_array(c);
        end_transaction(c);
        return;
    }
    /* The queue is detached first: a queued command may not see MULTI. */
    struct multi_cmd *cmds = m->cmds;
    int count = m->count;
    m->cmds = NULL;
    m->count = m->cap = 0;
    m->crossslot = false;
    m->slot = -1;
    unwatch_all(c);
    c->flags &= ~(unsigned)CLIENT_MULTI;

    int argc = c->argc;
    struct slice *argv = c->argv;
    const struct command *exec_cmd = c->cmd;
    reply_array_len(c, count);
    for (int i = 0; i < count; i++) {
        c->argc = cmds[i].argc;
        c->argv = cmds[i].argv;
        c->flags |= CLIENT_MULTI; /* blocking commands must not block inside EXEC */
        /* Redis 7.0 checks permissions again here: they may have changed
         * since the command was queued (ACL SETUSER from another client). */
        if (!acl_enforced || acl_exec_check_or_reply(c, cmds[i].cmd)) command_call(c, cmds[i].cmd);
        c->flags &= ~(unsigned)CLIENT_MULTI;
        for (int j = 0; j < cmds[i].argc; j++)
            em_free((char *)cmds[i].argv[j].ptr);
        em_free(cmds[i].argv);
    }
    em_free(cmds);
    c->argc = argc;
    c->argv = argv;
    c->cmd = exec_cmd;
}

/* WATCH key [key ...] */
static void cmd_watch(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int j = 1; j < c->argc; j++)
        watch_key(c, c->argv[j]);
    reply_ok(c);
}

/* UNWATCH */
static void cmd_unwatch(struct client *c)
{
    unwatch_all(c);
    reply_ok(c);
}

/* clang-format off */
struct command multi_commands[] = {
    {.name = "multi", .proc = cmd_multi, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .group = "transactions", .summary = "Mark the start of a transaction block",
     .since = "1.2.0", .complexity = "O(1)"},
    {.name = "exec", .proc = cmd_exec, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG,
     .group = "transactions", .summary = "Execute all commands issued after MULTI",
     .since = "1.2.0", .complexity = "Depends on commands in the transaction"},
    {.name = "discard", .proc = cmd_discard, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .group = "transactions", .summary = "Discard all commands issued after MULTI",
     .since = "2.0.0", .complexity = "O(N), when N is the number of queued commands"},
    {.name = "watch", .proc = cmd_watch, .arity = -2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .first_key = 1, .last_key = -1, .key_step = 1, .group = "transactions",
     .summary = "Watch the given keys to determine execution of the MULTI/EXEC block",
     .since = "2.2.0", .complexity = "O(1) for every key."},
    {.name = "unwatch", .proc = cmd_unwatch, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .group = "transactions", .summary = "Forget about all watched keys", .since = "2.2.0",
     .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
/* clang-format on */
