/* tracking.c: CLIENT TRACKING, server-assisted client-side caching (see
 * tracking.h for the modes).
 *
 * State:
 *   keys      dict: key bytes -> the ids of the clients that read it (the
 *             db is ignored, as in Redis: a client caching two dbs gets one
 *             message for both). An entry is dropped when its key changes:
 *             the message is sent once, and the client re-registers by
 *             reading the key again. A read command's keys are found by
 *             Redis 7.0's key specs (command_meta.h). Past
 *             tracking-table-max-keys, random entries are invalidated before
 *             the next command, as Redis does.
 *   by_id     the clients with tracking state, sorted by id (ids only grow,
 *             so a new one is appended): turns a table id into a client with
 *             a binary search, and a stale id (a client gone since) into
 *             nothing.
 *   prefixes  BCAST prefixes, sorted by bytes: each lists its clients and
 *             the keys changed since the last loop iteration (with the client
 *             that changed them, for NOLOOP); tracking_before_sleep() sends
 *             one message per prefix and clears them.
 *   pending   invalidations the running command caused for its own client:
 *             sent after the command's reply (after EXEC's whole reply), as
 *             Redis 7.0 does, so a push never splits a reply.
 *
 * tracking_live counts what makes the hooks do anything (tracking clients,
 * table keys, prefixes); command.c and server.c test it before calling in. */
#include "ember/tracking.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/command_meta.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tracking_flag {
    TRACK_ON = 1 << 0,
    TRACK_BCAST = 1 << 1,
    TRACK_OPTIN = 1 << 2,
    TRACK_OPTOUT = 1 << 3,
    TRACK_NOLOOP = 1 << 4,
    TRACK_CACHING = 1 << 5, /* CLIENT CACHING yes (OPTIN) / no (OPTOUT) for the next command */
    TRACK_BROKEN_REDIR = 1 << 6,
};

/* Per client, found through by_id (struct client stays unaware of it). */
struct tracking_state {
    struct client *client;
    unsigned flags;
    long long redirect;     /* client id, 0 = none */
    struct slice *prefixes; /* BCAST prefixes, owned copies, sorted */
    int prefix_count;
    int prefix_cap;
};

/* The clients that read one key: a dict node's payload. */
struct id_set {
    uint64_t *ids;
    int len;
    int cap;
};

struct changed_key {
    struct slice key; /* owned copy */
    struct client *by;
    long long seq; /* order of the change: the last one decides NOLOOP */
};

struct bcast_prefix {
    struct slice prefix; /* owned copy */
    struct client **clients;
    int client_count;
    int client_cap;
    struct changed_key *changed;
    int changed_count;
    int changed_cap;
};

long long tracking_live;

static struct {
    bool keys_ready;
    struct dict keys;
    long long items; /* ids over all keys */
    struct tracking_state **by_id;
    int count;
    int cap;
    long long on; /* clients with TRACK_ON */
    struct bcast_prefix *prefixes;
    int prefix_count;
    int prefix_cap;
    long long change_seq;
    /* The command being executed at the outermost level. */
    int depth;
    struct client *current;
    bool flushed;          /* the current command already sent its null invalidation */
    struct slice *pending; /* ptr NULL: a null invalidation (flush) */
    int pending_count;
    int pending_cap;
} tk;

static const char channel_name[] = "__redis__:invalidate";

static void update_live(void)
{
    tracking_live = tk.on + (tk.keys_ready ? (long long)dict_size(&tk.keys) : 0) + tk.prefix_count;
}

static struct slice slice_copy(struct slice s)
{
    return (struct slice){em_strndup(s.ptr, s.len), s.len};
}

/* Byte order, shorter first on a common prefix (a rax's order). */
static int slice_cmp(struct slice a, struct slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;
    if (r != 0) return r;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static bool has_prefix(struct slice s, struct slice prefix)
{
    return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.ptr, prefix.ptr, prefix.len) == 0);
}

/* ---- Clients by id ---- */

static int find_index(uint64_t id)
{
    int lo = 0, hi = tk.count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        uint64_t v = tk.by_id[mid]->client->id;
        if (v == id) return mid;
        if (v < id) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -(lo + 1);
}

static struct tracking_state *state_find(const struct client *c)
{
    if (tk.count == 0) return NULL;
    int i = find_index(c->id);
    return i >= 0 ? tk.by_id[i] : NULL;
}

static struct tracking_state *state_get(struct client *c)
{
    int i = find_index(c->id);
    if (i >= 0) return tk.by_id[i];
    int at = -i - 1;
    if (tk.count == tk.cap) {
        tk.cap = tk.cap ? tk.cap * 2 : 8;
        tk.by_id = em_realloc(tk.by_id, (size_t)tk.cap * sizeof(*tk.by_id));
    }
    memmove(tk.by_id + at + 1, tk.by_id + at, (size_t)(tk.count - at) * sizeof(*tk.by_id));
    struct tracking_state *s = em_calloc(1, sizeof(*s));
    s->client = c;
    tk.by_id[at] = s;
    tk.count++;
    return s;
}

static struct client *client_by_id(long long id)
{
    for (struct client *c = server.clients; c != NULL; c = c->next) {
        if ((long long)c->id == id && !(c->flags & CLIENT_CLOSING)) return c;
    }
    return NULL;
}

/* ---- Sending ---- */

/* Writes one invalidation frame to `c` (already chosen: the tracking client
 * or its redirection); false if RESP2 without subscription leaves nowhere to
 * put it. */
static bool write_message(struct client *c, bool redirected, const struct slice *keys, int n,
                          int null_resp)
{
    if (c->resp > 2) {
        reply_raw(c, ">2\r\n", 4);
        reply_bulk_cstr(c, "invalidate");
    } else if (redirected && pubsub_count(c) > 0) {
        reply_array_len(c, 3);
        reply_bulk_cstr(c, "message");
        reply_bulk(c, channel_name, sizeof(channel_name) - 1);
    } else {
        return false;
    }
    if (keys == NULL) {
        if (null_resp > 2) {
            reply_raw(c, "_\r\n", 3);
        } else {
            reply_raw(c, "$-1\r\n", 5);
        }
        return true;
    }
    reply_array_len(c, n);
    for (int i = 0; i < n; i++)
        reply_bulk_slice(c, keys[i]);
    return true;
}

/* Redis's sendTrackingMessage: `keys` (n of them), or a null when `keys` is
 * NULL, to the client or to its redirection. The null is written in the
 * tracking client's protocol even when it goes elsewhere, as Redis does.
 * Pushes get through CLIENT REPLY OFF/SKIP (Redis's CLIENT_PUSHING). */
static void send_message(struct tracking_state *s, const struct slice *keys, int n)
{
    const unsigned quiet = CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP;
    struct client *c = s->client;
    int null_resp = c->resp;
    bool redirected = false;
    if (s->redirect != 0) {
        struct client *to = client_by_id(s->redirect);
        if (to == NULL) {
            s->flags |= TRACK_BROKEN_REDIR;
            if (c->resp > 2) {
                unsigned saved = c->flags & quiet;
                c->flags &= ~saved;
                reply_raw(c, ">2\r\n", 4);
                reply_bulk_cstr(c, "tracking-redir-broken");
                reply_int(c, s->redirect);
                c->flags |= saved;
            }
            return;
        }
        c = to;
        redirected = true;
    }
    unsigned saved = c->flags & quiet;
    c->flags &= ~saved;
    write_message(c, redirected, keys, n, null_resp);
    c->flags |= saved;
}

static void pending_add(struct slice key, bool null)
{
    if (tk.pending_count == tk.pending_cap) {
        tk.pending_cap = tk.pending_cap ? tk.pending_cap * 2 : 4;
        tk.pending = em_realloc(tk.pending, (size_t)tk.pending_cap * sizeof(*tk.pending));
    }
    tk.pending[tk.pending_count++] = null ? (struct slice){NULL, 0} : slice_copy(key);
}

static void pending_send(void)
{
    struct tracking_state *s = tk.current != NULL ? state_find(tk.current) : NULL;
    for (int i = 0; i < tk.pending_count; i++) {
        struct slice *k = &tk.pending[i];
        if (s != NULL) send_message(s, k->ptr != NULL ? k : NULL, 1);
        em_free((char *)k->ptr);
    }
    tk.pending_count = 0;
}

/* ---- The key table ---- */

static struct id_set *node_ids(const struct dict_node *n)
{
    struct id_set *s;
    memcpy(&s, dict_node_payload(n), sizeof(s));
    return s;
}

static void destroy_key_node(struct dict_node *n, void *ctx)
{
    (void)ctx;
    struct id_set *s = node_ids(n);
    em_free(s->ids);
    em_free(s);
    em_free(n);
}

static const struct dict_type key_dict_type = {.destroy = destroy_key_node};

static void keys_ready(void)
{
    if (tk.keys_ready) return;
    dict_init(&tk.keys, &key_dict_type);
    tk.keys_ready = true;
}

static void remember_key(uint64_t id, struct slice key)
{
    keys_ready();
    uint64_t h = dict_hash(key.ptr, key.len);
    struct dict_node *n = dict_find(&tk.keys, h, key.ptr, key.len, NULL);
    struct id_set *s;
    if (n == NULL) {
        s = em_calloc(1, sizeof(*s));
        n = em_malloc(DICT_NODE_HDR + dict_key_size(key.len) + sizeof(s));
        n->next = NULL;
        n->meta = 0;
        memcpy(dict_node_set_key(n, key.ptr, key.len), &s, sizeof(s));
        dict_insert(&tk.keys, h, n);
    } else {
        s = node_ids(n);
    }
    for (int i = 0; i < s->len; i++) {
        if (s->ids[i] == id) return;
    }
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 2;
        s->ids = em_realloc(s->ids, (size_t)s->cap * sizeof(*s->ids));
    }
    s->ids[s->len++] = id;
    tk.items++;
}

/* Redis's trackingRememberKeys: the keys of the command just run, found by
 * Redis 7.0's key specs (ZUNION's numkeys and the like), or by the table's
 * key positions for a command without metadata. Channels are not keys. */
static void remember_keys(struct client *owner, struct client *c, const struct command *cmd)
{
    char name[64];
    const struct command_meta *m = command_meta_find(command_fullname(cmd, name, sizeof(name)));
    if (m != NULL) {
        struct meta_key local[16];
        struct meta_key *keys = c->argc <= 16 ? local : em_malloc((size_t)c->argc * sizeof(*keys));
        int n = command_get_keys(cmd, c->argc, c->argv, keys, c->argc);
        for (int i = 0; i < n; i++) {
            if (!(keys[i].flags & KS_NOT_KEY)) remember_key(owner->id, c->argv[keys[i].pos]);
        }
        if (keys != local) em_free(keys);
    } else if (cmd->first_key > 0) {
        int last = cmd->last_key < 0 ? c->argc + cmd->last_key : cmd->last_key;
        int step = cmd->key_step > 0 ? cmd->key_step : 1;
        for (int i = cmd->first_key; i <= last && i < c->argc; i += step)
            remember_key(owner->id, c->argv[i]);
    }
    update_live();
}

static void invalidate_from_table(struct slice key)
{
    if (!tk.keys_ready || dict_size(&tk.keys) == 0) return;
    struct dict_pos pos;
    struct dict_node *n = dict_find(&tk.keys, dict_hash(key.ptr, key.len), key.ptr, key.len, &pos);
    if (n == NULL) return;
    struct id_set *ids = node_ids(n);
    for (int i = 0; i < ids->len; i++) {
        int at = find_index(ids->ids[i]);
        if (at < 0) continue; /* gone */
        struct tracking_state *s = tk.by_id[at];
        if (!(s->flags & TRACK_ON) || (s->flags & TRACK_BCAST)) continue;
        if ((s->flags & TRACK_NOLOOP) && s->client == tk.current) continue;
        if (s->client == tk.current && tk.depth > 0) {
            pending_add(key, false);
        } else {
            send_message(s, &key, 1);
        }
    }
    tk.items -= ids->len;
    destroy_key_node(dict_unlink(&tk.keys, &pos), NULL);
}

/* ---- Broadcast prefixes ---- */

static int prefix_find(struct slice p, bool *found)
{
    int lo = 0, hi = tk.prefix_count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int r = slice_cmp(tk.prefixes[mid].prefix, p);
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    *found = false;
    return lo;
}

static void prefix_add_client(struct slice p, struct client *c)
{
    bool found;
    int at = prefix_find(p, &found);
    if (!found) {
        if (tk.prefix_count == tk.prefix_cap) {
            tk.prefix_cap = tk.prefix_cap ? tk.prefix_cap * 2 : 4;
            tk.prefixes = em_realloc(tk.prefixes, (size_t)tk.prefix_cap * sizeof(*tk.prefixes));
        }
        memmove(tk.prefixes + at + 1, tk.prefixes + at,
                (size_t)(tk.prefix_count - at) * sizeof(*tk.prefixes));
        memset(&tk.prefixes[at], 0, sizeof(tk.prefixes[at]));
        tk.prefixes[at].prefix = slice_copy(p);
        tk.prefix_count++;
    }
    struct bcast_prefix *b = &tk.prefixes[at];
    if (b->client_count == b->client_cap) {
        b->client_cap = b->client_cap ? b->client_cap * 2 : 4;
        b->clients = em_realloc(b->clients, (size_t)b->client_cap * sizeof(*b->clients));
    }
    b->clients[b->client_count++] = c;
}

static void prefix_clear_changes(struct bcast_prefix *b)
{
    for (int i = 0; i < b->changed_count; i++)
        em_free((char *)b->changed[i].key.ptr);
    b->changed_count = 0;
}

static void prefix_remove_client(struct slice p, struct client *c)
{
    bool found;
    int at = prefix_find(p, &found);
    if (!found) return;
    struct bcast_prefix *b = &tk.prefixes[at];
    for (int i = 0; i < b->client_count; i++) {
        if (b->clients[i] == c) {
            b->clients[i] = b->clients[--b->client_count];
            break;
        }
    }
    if (b->client_count > 0) return;
    prefix_clear_changes(b);
    em_free(b->changed);
    em_free(b->clients);
    em_free((char *)b->prefix.ptr);
    memmove(tk.prefixes + at, tk.prefixes + at + 1,
            (size_t)(tk.prefix_count - at - 1) * sizeof(*tk.prefixes));
    tk.prefix_count--;
}

/* A departing client's pending BCAST changes stay (others still get them)
 * but no longer name it, so NOLOOP never compares with a freed client. */
static void forget_changes_by(const struct client *c)
{
    for (int i = 0; i < tk.prefix_count; i++) {
        struct bcast_prefix *b = &tk.prefixes[i];
        for (int k = 0; k < b->changed_count; k++) {
            if (b->changed[k].by == c) b->changed[k].by = NULL;
        }
    }
}

static void remember_for_broadcast(struct slice key)
{
    for (int i = 0; i < tk.prefix_count; i++) {
        struct bcast_prefix *b = &tk.prefixes[i];
        if (!has_prefix(key, b->prefix)) continue;
        if (b->changed_count == b->changed_cap) {
            b->changed_cap = b->changed_cap ? b->changed_cap * 2 : 8;
            b->changed = em_realloc(b->changed, (size_t)b->changed_cap * sizeof(*b->changed));
        }
        b->changed[b->changed_count++] =
            (struct changed_key){slice_copy(key), tk.current, tk.change_seq++};
    }
}

static int changed_cmp(const void *a, const void *b)
{
    const struct changed_key *x = a, *y = b;
    int r = slice_cmp(x->key, y->key);
    if (r != 0) return r;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts a prefix's changes by key and keeps one per key (the last, whose
 * client NOLOOP compares with): the rax Redis keeps them in. */
static void prefix_dedup(struct bcast_prefix *b)
{
    qsort(b->changed, (size_t)b->changed_count, sizeof(*b->changed), changed_cmp);
    int out = 0;
    for (int i = 0; i < b->changed_count; i++) {
        if (out > 0 && slice_cmp(b->changed[out - 1].key, b->changed[i].key) == 0) {
            em_free((char *)b->changed[out - 1].key.ptr);
            b->changed[out - 1] = b->changed[i];
        } else {
            b->changed[out++] = b->changed[i];
        }
    }
    b->changed_count = out;
}

static void broadcast_prefix(struct bcast_prefix *b)
{
    prefix_dedup(b);
    struct slice *keys = em_malloc((size_t)b->changed_count * sizeof(*keys));
    for (int j = 0; j < b->client_count; j++) {
        struct tracking_state *s = state_find(b->clients[j]);
        if (s == NULL) continue;
        int n = 0;
        for (int i = 0; i < b->changed_count; i++) {
            if ((s->flags & TRACK_NOLOOP) && b->changed[i].by == s->client) continue;
            keys[n++] = b->changed[i].key;
        }
        if (n > 0) send_message(s, keys, n);
    }
    em_free(keys);
    prefix_clear_changes(b);
}

void tracking_before_sleep(void)
{
    for (int i = 0; i < tk.prefix_count; i++) {
        if (tk.prefixes[i].changed_count > 0) broadcast_prefix(&tk.prefixes[i]);
    }
}

/* ---- Hooks ---- */

/* Redis's trackingLimitUsedSlots: over tracking-table-max-keys, random keys
 * are invalidated (their readers told, as if the keys changed) until the
 * table fits, with an effort that grows while it keeps failing to. */
static void limit_table(void)
{
    static int timeout_counter;
    long long max = server.cfg.tracking_table_max_keys;
    if (!tk.keys_ready || max == 0 || (long long)dict_size(&tk.keys) <= max) {
        timeout_counter = 0;
        return;
    }
    for (int effort = 100 * (timeout_counter + 1); effort > 0; effort--) {
        struct dict_node *n = dict_random(&tk.keys, &server.ks.rng);
        if (n == NULL) break;
        struct slice k = dict_node_key(n);
        char *copy = em_strndup(k.ptr, k.len); /* the node goes with its entry */
        invalidate_from_table((struct slice){copy, k.len});
        em_free(copy);
        if ((long long)dict_size(&tk.keys) <= max) {
            timeout_counter = 0;
            update_live();
            return;
        }
    }
    timeout_counter++;
    update_live();
}

void tracking_command_begin(struct client *c)
{
    if (tk.depth == 0 && tk.on > 0) limit_table();
    if (tk.depth++ == 0) tk.current = c;
    /* One null invalidation per flushing command (FLUSHALL empties every db,
     * one hook call each); two FLUSHALLs in a transaction send two. */
    tk.flushed = false;
}

static bool is_client_command(const struct command *cmd)
{
    return cmd->parent != NULL && strcmp(cmd->parent, "client") == 0;
}

void tracking_command_end(struct client *c, const struct command *cmd)
{
    /* A script's calls count for the client that ran the script. */
    struct client *owner = c;
    struct tracking_state *s = state_find(c);
    if (s == NULL && server.script_caller != NULL && c != server.script_caller) {
        owner = server.script_caller;
        s = state_find(owner);
    }
    if (s != NULL && (s->flags & TRACK_ON) && !(s->flags & TRACK_BCAST) &&
        (cmd->flags & CMD_READONLY)) {
        bool caching = (s->flags & TRACK_CACHING) != 0;
        bool wanted = (s->flags & TRACK_OPTIN)    ? caching
                      : (s->flags & TRACK_OPTOUT) ? !caching
                                                  : true;
        if (wanted) remember_keys(owner, c, cmd);
    }
    if (--tk.depth > 0) return;
    /* CLIENT CACHING applies to the next command only (or a whole MULTI). */
    s = state_find(c);
    if (s != NULL && !(c->flags & CLIENT_MULTI) && !is_client_command(cmd)) {
        s->flags &= ~(unsigned)TRACK_CACHING;
    }
    if (tk.pending_count > 0) pending_send();
    tk.current = NULL;
}

void tracking_touch_key(struct db *db, struct slice key)
{
    (void)db;
    if (tk.prefix_count > 0) remember_for_broadcast(key);
    invalidate_from_table(key);
    update_live();
}

void tracking_flush_db(struct db *db)
{
    (void)db;
    if (tk.current != NULL && tk.current->cmd != NULL && tk.current->cmd->parent == NULL &&
        strcmp(tk.current->cmd->name, "swapdb") == 0) {
        return;
    }
    if (tk.depth > 0 && tk.flushed) return;
    tk.flushed = tk.depth > 0;
    for (int i = 0; i < tk.count; i++) {
        struct tracking_state *s = tk.by_id[i];
        if (!(s->flags & TRACK_ON)) continue;
        if (tk.depth > 0 && s->client == tk.current) {
            pending_add((struct slice){NULL, 0}, true);
        } else {
            send_message(s, NULL, 0);
        }
    }
    if (tk.keys_ready) {
        dict_clear(&tk.keys, NULL);
        tk.items = 0;
    }
    update_live();
}

/* ---- Enabling and disabling ---- */

static void state_drop_prefixes(struct tracking_state *s)
{
    for (int i = 0; i < s->prefix_count; i++) {
        prefix_remove_client(s->prefixes[i], s->client);
        em_free((char *)s->prefixes[i].ptr);
    }
    em_free(s->prefixes);
    s->prefixes = NULL;
    s->prefix_count = s->prefix_cap = 0;
}

/* Redis's disableTracking: the redirection is kept (GETREDIR says -1 all
 * the same while tracking is off). */
static void disable(struct tracking_state *s)
{
    if (s->flags & TRACK_BCAST) state_drop_prefixes(s);
    if (s->flags & TRACK_ON) tk.on--;
    s->flags = 0;
    update_live();
}

static void state_add_prefix(struct tracking_state *s, struct slice p)
{
    for (int i = 0; i < s->prefix_count; i++) {
        if (slice_cmp(s->prefixes[i], p) == 0) return;
    }
    if (s->prefix_count == s->prefix_cap) {
        s->prefix_cap = s->prefix_cap ? s->prefix_cap * 2 : 4;
        s->prefixes = em_realloc(s->prefixes, (size_t)s->prefix_cap * sizeof(*s->prefixes));
    }
    int at = s->prefix_count;
    while (at > 0 && slice_cmp(s->prefixes[at - 1], p) > 0)
        at--;
    memmove(s->prefixes + at + 1, s->prefixes + at,
            (size_t)(s->prefix_count - at) * sizeof(*s->prefixes));
    s->prefixes[at] = slice_copy(p);
    s->prefix_count++;
    prefix_add_client(p, s->client);
}

void tracking_release(struct client *c)
{
    if (tk.prefix_count > 0) forget_changes_by(c);
    if (tk.count == 0) return;
    int at = find_index(c->id);
    if (at < 0) return;
    struct tracking_state *s = tk.by_id[at];
    disable(s);
    memmove(tk.by_id + at, tk.by_id + at + 1, (size_t)(tk.count - at - 1) * sizeof(*tk.by_id));
    tk.count--;
    em_free(s);
    if (tk.current == c) tk.current = NULL;
    update_live();
}

void tracking_teardown(void)
{
    for (int i = tk.count - 1; i >= 0; i--)
        tracking_release(tk.by_id[i]->client);
    em_free(tk.by_id);
    em_free(tk.prefixes);
    if (tk.keys_ready) dict_deinit(&tk.keys, NULL);
    for (int i = 0; i < tk.pending_count; i++)
        em_free((char *)tk.pending[i].ptr);
    em_free(tk.pending);
    memset(&tk, 0, sizeof(tk));
    tracking_live = 0;
}

/* ---- CLIENT subcommands ---- */

struct tracking_args {
    long long redirect;
    unsigned options;
    struct slice *prefixes; /* borrowed from argv */
    int prefix_count;
};

static bool parse_options_or_reply(struct client *c, struct tracking_args *a)
{
    for (int j = 3; j < c->argc; j++) {
        bool more = j + 1 < c->argc;
        if (arg_is(c, j, "redirect") && more) {
            j++;
            if (a->redirect != 0) {
                reply_error(c, "ERR A client can only redirect to a single other client");
                return false;
            }
            if (!arg_ll_or_reply(c, j, &a->redirect)) return false;
            if (client_by_id(a->redirect) == NULL) {
                reply_error(c, "ERR The client ID you want redirect to does not exist");
                return false;
            }
        } else if (arg_is(c, j, "bcast")) {
            a->options |= TRACK_BCAST;
        } else if (arg_is(c, j, "optin")) {
            a->options |= TRACK_OPTIN;
        } else if (arg_is(c, j, "optout")) {
            a->options |= TRACK_OPTOUT;
        } else if (arg_is(c, j, "noloop")) {
            a->options |= TRACK_NOLOOP;
        } else if (arg_is(c, j, "prefix") && more) {
            a->prefixes[a->prefix_count++] = c->argv[++j];
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Redis's checkPrefixCollisionsOrReply: a client's prefixes never nest. */
static bool prefixes_ok_or_reply(struct client *c, const struct tracking_state *s,
                                 const struct tracking_args *a)
{
    for (int i = 0; i < a->prefix_count; i++) {
        struct slice p = a->prefixes[i];
        for (int k = 0; s != NULL && k < s->prefix_count; k++) {
            struct slice q = s->prefixes[k];
            if (has_prefix(p, q) || has_prefix(q, p)) {
                reply_error_fmt(c,
                                "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                                "Prefixes for a single client must not overlap.",
                                (int)p.len, p.ptr, (int)q.len, q.ptr);
                return false;
            }
        }
        for (int k = i + 1; k < a->prefix_count; k++) {
            struct slice q = a->prefixes[k];
            if (has_prefix(p, q) || has_prefix(q, p)) {
                reply_error_fmt(c,
                                "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. "
                                "Prefixes for a single client must not overlap.",
                                (int)p.len, p.ptr, (int)q.len, q.ptr);
                return false;
            }
        }
    }
    return true;
}

/* The checks of Redis's CLIENT TRACKING ON, in its order. */
static bool options_ok_or_reply(struct client *c, const struct tracking_state *s,
                                const struct tracking_args *a)
{
    unsigned cur = s != NULL ? s->flags : 0;
    unsigned o = a->options;
    if (!(o & TRACK_BCAST) && a->prefix_count > 0) {
        reply_error(c, "ERR PREFIX option requires BCAST mode to be enabled");
        return false;
    }
    if ((cur & TRACK_ON) && !!(cur & TRACK_BCAST) != !!(o & TRACK_BCAST)) {
        reply_error(c, "ERR You can't switch BCAST mode on/off before disabling tracking for "
                       "this client, and then re-enabling it with a different mode.");
        return false;
    }
    if ((o & TRACK_BCAST) && (o & (TRACK_OPTIN | TRACK_OPTOUT))) {
        reply_error(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
        return false;
    }
    if ((o & TRACK_OPTIN) && (o & TRACK_OPTOUT)) {
        reply_error(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
        return false;
    }
    if (((o & TRACK_OPTIN) && (cur & TRACK_OPTOUT)) ||
        ((o & TRACK_OPTOUT) && (cur & TRACK_OPTIN))) {
        reply_error(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for "
                       "this client, and then re-enabling it with a different mode.");
        return false;
    }
    if ((o & TRACK_BCAST) && !prefixes_ok_or_reply(c, s, a)) return false;
    return true;
}

/* Redis's enableTracking: options replace the old ones, prefixes add up. */
static void enable(struct client *c, const struct tracking_args *a)
{
    struct tracking_state *s = state_get(c);
    if (!(s->flags & TRACK_ON)) tk.on++;
    s->flags = TRACK_ON | (s->flags & TRACK_CACHING) | (a->options & ~(unsigned)TRACK_CACHING);
    s->redirect = a->redirect;
    if (a->options & TRACK_BCAST) {
        if (a->prefix_count == 0) state_add_prefix(s, (struct slice){"", 0});
        for (int i = 0; i < a->prefix_count; i++)
            state_add_prefix(s, a->prefixes[i]);
    }
    update_live();
}

/* CLIENT TRACKING on|off [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT]
 * [NOLOOP] */
void tracking_client_tracking(struct client *c)
{
    struct tracking_args a = {0};
    a.prefixes = em_malloc((size_t)c->argc * sizeof(*a.prefixes));
    if (!parse_options_or_reply(c, &a)) goto out;
    struct tracking_state *s = state_find(c);
    if (arg_is(c, 2, "on")) {
        if (!options_ok_or_reply(c, s, &a)) goto out;
        enable(c, &a);
    } else if (arg_is(c, 2, "off")) {
        if (s != NULL) disable(s);
    } else {
        reply_syntax_error(c);
        goto out;
    }
    reply_ok(c);
out:
    em_free(a.prefixes);
}

/* CLIENT CACHING yes|no */
void tracking_client_caching(struct client *c)
{
    struct tracking_state *s = state_find(c);
    if (s == NULL || !(s->flags & TRACK_ON)) {
        reply_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking "
                       "mode with OPTIN or OPTOUT mode enabled");
        return;
    }
    if (arg_is(c, 2, "yes")) {
        if (!(s->flags & TRACK_OPTIN)) {
            reply_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in "
                           "OPTIN mode.");
            return;
        }
    } else if (arg_is(c, 2, "no")) {
        if (!(s->flags & TRACK_OPTOUT)) {
            reply_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in "
                           "OPTOUT mode.");
            return;
        }
    } else {
        reply_syntax_error(c);
        return;
    }
    s->flags |= TRACK_CACHING;
    reply_ok(c);
}

long long tracking_client_redirect(const struct client *c)
{
    const struct tracking_state *s = state_find(c);
    return s != NULL && (s->flags & TRACK_ON) ? s->redirect : -1;
}

/* CLIENT GETREDIR */
void tracking_client_getredir(struct client *c)
{
    reply_int(c, tracking_client_redirect(c));
}

/* CLIENT TRACKINGINFO: flags (a set), redirect, prefixes. */
void tracking_client_trackinginfo(struct client *c)
{
    const struct tracking_state *s = state_find(c);
    unsigned f = s != NULL ? s->flags : 0;
    const char *names[8];
    int n = 0;
    names[n++] = (f & TRACK_ON) ? "on" : "off";
    if (f & TRACK_BCAST) names[n++] = "bcast";
    if (f & TRACK_OPTIN) {
        names[n++] = "optin";
        if (f & TRACK_CACHING) names[n++] = "caching-yes";
    }
    if (f & TRACK_OPTOUT) {
        names[n++] = "optout";
        if (f & TRACK_CACHING) names[n++] = "caching-no";
    }
    if (f & TRACK_NOLOOP) names[n++] = "noloop";
    if (f & TRACK_BROKEN_REDIR) names[n++] = "broken_redirect";
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    reply_set_len(c, n);
    for (int i = 0; i < n; i++)
        reply_bulk_cstr(c, names[i]);
    reply_bulk_cstr(c, "redirect");
    reply_int(c, tracking_client_redirect(c));
    reply_bulk_cstr(c, "prefixes");
    int pc = s != NULL ? s->prefix_count : 0;
    reply_array_len(c, pc);
    for (int i = 0; i < pc; i++)
        reply_bulk_slice(c, s->prefixes[i]);
}

const char *tracking_client_flags(const struct client *c)
{
    const struct tracking_state *s = state_find(c);
    if (s == NULL || !(s->flags & TRACK_ON)) return "";
    if (s->flags & TRACK_BROKEN_REDIR) return (s->flags & TRACK_BCAST) ? "tRB" : "tR";
    return (s->flags & TRACK_BCAST) ? "tB" : "t";
}

void tracking_get_info(struct tracking_info *out)
{
    out->clients = tk.on;
    out->keys = tk.keys_ready ? (long long)dict_size(&tk.keys) : 0;
    out->items = tk.items;
    out->prefixes = tk.prefix_count;
}
