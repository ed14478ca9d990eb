/* pubsub.c: SUBSCRIBE, PUBLISH and friends, and keyspace notifications.
 *
 * channels: dict from channel to the array of subscribed clients.
 * patterns: dict from pattern to its subscribers; PUBLISH walks it and
 * glob-matches each pattern, as Redis does (patterns are few in practice).
 * Shard channels (SSUBSCRIBE/SPUBLISH) are a third dict: on a single node
 * they behave like channels in their own namespace. */
#include "ember/pubsub.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <stdio.h>

struct subscribers {
    struct client **clients;
    int len;
    int cap;
};

enum space { SPACE_CHANNEL = 0, SPACE_PATTERN, SPACE_SHARD, SPACE_COUNT };

static struct dict spaces[SPACE_COUNT];

static struct subscribers *node_subs(const struct dict_node *n)
{
    struct subscribers *s;
    memcpy(&s, dict_node_payload(n), sizeof(s));
    return s;
}

static void destroy_sub_node(struct dict_node *n, void *ctx)
{
    (void)ctx;
    struct subscribers *s = node_subs(n);
    em_free(s->clients);
    em_free(s);
    em_free(n);
}

static const struct dict_type sub_dict_type = {.destroy = destroy_sub_node};

void pubsub_setup(void)
{
    for (int i = 0; i < SPACE_COUNT; i++)
        dict_init(&spaces[i], &sub_dict_type);
}

void pubsub_teardown(void)
{
    for (int i = 0; i < SPACE_COUNT; i++)
        dict_deinit(&spaces[i], NULL);
}

static struct pubsub_state *state_of(struct client *c)
{
    if (c->pubsub == NULL) c->pubsub = em_calloc(1, sizeof(*c->pubsub));
    return c->pubsub;
}

int pubsub_count(const struct client *c)
{
    const struct pubsub_state *p = c->pubsub;
    return p == NULL ? 0 : p->channel_count + p->pattern_count + p->shard_count;
}

int pubsub_pattern_count(const struct client *c)
{
    return c->pubsub == NULL ? 0 : c->pubsub->pattern_count;
}

/* The client's own list of names in one space. */
static void client_list_of(struct pubsub_state *p, enum space sp, struct slice **items, int **count,
                           int **cap)
{
    if (sp == SPACE_CHANNEL) {
        *items = p->channels;
        *count = &p->channel_count;
        *cap = &p->channel_cap;
    } else if (sp == SPACE_PATTERN) {
        *items = p->patterns;
        *count = &p->pattern_count;
        *cap = &p->pattern_cap;
    } else {
        *items = p->shard_channels;
        *count = &p->shard_count;
        *cap = &p->shard_cap;
    }
}

static struct slice **client_items_ptr(struct pubsub_state *p, enum space sp)
{
    return sp == SPACE_CHANNEL   ? &p->channels
           : sp == SPACE_PATTERN ? &p->patterns
                                 : &p->shard_channels;
}

static int client_find(struct pubsub_state *p, enum space sp, struct slice name)
{
    struct slice *items;
    int *count, *cap;
    client_list_of(p, sp, &items, &count, &cap);
    for (int i = 0; i < *count; i++) {
        if (items[i].len == name.len && memcmp(items[i].ptr, name.ptr, name.len) == 0) return i;
    }
    return -1;
}

/* Adds a subscription; returns false if it existed. */
static bool subscribe(struct client *c, enum space sp, struct slice name)
{
    struct pubsub_state *p = state_of(c);
    if (client_find(p, sp, name) >= 0) return false;
    struct slice *items;
    int *count, *cap;
    client_list_of(p, sp, &items, &count, &cap);
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *client_items_ptr(p, sp) = em_realloc(items, (size_t)*cap * sizeof(*items));
        items = *client_items_ptr(p, sp);
    }
    items[(*count)++] = (struct slice){em_strndup(name.ptr, name.len), name.len};

    uint64_t h = dict_hash(name.ptr, name.len);
    struct dict_node *n = dict_find(&spaces[sp], h, name.ptr, name.len, NULL);
    struct subscribers *s;
    if (n == NULL) {
        s = em_calloc(1, sizeof(*s));
        n = em_malloc(DICT_NODE_HDR + dict_key_size(name.len) + sizeof(s));
        n->next = NULL;
        n->meta = 0;
        memcpy(dict_node_set_key(n, name.ptr, name.len), &s, sizeof(s));
        dict_insert(&spaces[sp], h, n);
    } else {
        s = node_subs(n);
    }
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->clients = em_realloc(s->clients, (size_t)s->cap * sizeof(*s->clients));
    }
    s->clients[s->len++] = c;
    return true;
}

/* Removes a subscription; returns false if there was none. */
static bool unsubscribe(struct client *c, enum space sp, struct slice name)
{
    struct pubsub_state *p = c->pubsub;
    if (p == NULL) return false;
    int idx = client_find(p, sp, name);
    if (idx < 0) return false;
    struct slice *items;
    int *count, *cap;
    client_list_of(p, sp, &items, &count, &cap);
    struct dict_pos pos;
    struct dict_node *n =
        dict_find(&spaces[sp], dict_hash(name.ptr, name.len), name.ptr, name.len, &pos);
    if (n != NULL) {
        struct subscribers *s = node_subs(n);
        for (int i = 0; i < s->len; i++) {
            if (s->clients[i] == c) {
                memmove(&s->clients[i], &s->clients[i + 1], (size_t)(s->len - i - 1) * sizeof(c));
                s->len--;
                break;
            }
        }
        if (s->len == 0) destroy_sub_node(dict_unlink(&spaces[sp], &pos), NULL);
    }
    em_free((char *)items[idx].ptr);
    memmove(&items[idx], &items[idx + 1], (size_t)(*count - idx - 1) * sizeof(*items));
    (*count)--;
    return true;
}

void pubsub_release(struct client *c)
{
    struct pubsub_state *p = c->pubsub;
    if (p == NULL) return;
    for (int sp = 0; sp < SPACE_COUNT; sp++) {
        struct slice *items;
        int *count, *cap;
        client_list_of(p, (enum space)sp, &items, &count, &cap);
        while (*count > 0) {
            struct slice name = items[*count - 1];
            unsubscribe(c, (enum space)sp, name);
            client_list_of(p, (enum space)sp, &items, &count, &cap);
        }
    }
    em_free(p->channels);
    em_free(p->patterns);
    em_free(p->shard_channels);
    em_free(p);
    c->pubsub = NULL;
}

/* ---- Messages ---- */

/* A push frame: '>' in RESP3, an array in RESP2. */
static void push_header(struct client *c, int n)
{
    if (c->resp >= 3) {
        char buf[16];
        int len = snprintf(buf, sizeof(buf), ">%d\r\n", n);
        reply_raw(c, buf, (size_t)len);
    } else {
        reply_array_len(c, n);
    }
}

static void reply_sub_event(struct client *c, const char *kind, struct slice name, bool null_name)
{
    push_header(c, 3);
    reply_bulk_cstr(c, kind);
    if (null_name) {
        reply_null(c);
    } else {
        reply_bulk_slice(c, name);
    }
    reply_int(c, pubsub_count(c));
}

static long long deliver(enum space sp, struct slice channel, struct slice msg)
{
    long long receivers = 0;
    struct dict_node *n =
        dict_find(&spaces[sp], dict_hash(channel.ptr, channel.len), channel.ptr, channel.len, NULL);
    if (n != NULL) {
        struct subscribers *s = node_subs(n);
        for (int i = 0; i < s->len; i++) {
            struct client *c = s->clients[i];
            push_header(c, 3);
            reply_bulk_cstr(c, sp == SPACE_SHARD ? "smessage" : "message");
            reply_bulk_slice(c, channel);
            reply_bulk_slice(c, msg);
            receivers++;
        }
    }
    if (sp != SPACE_CHANNEL || dict_size(&spaces[SPACE_PATTERN]) == 0) return receivers;
    struct dict_iter it;
    dict_iter_init(&it, &spaces[SPACE_PATTERN]);
    for (struct dict_node *p = dict_iter_next(&it); p != NULL; p = dict_iter_next(&it)) {
        struct slice pat = dict_node_key(p);
        if (!glob_match(pat.ptr, pat.len, channel.ptr, channel.len, false)) continue;
        struct subscribers *s = node_subs(p);
        for (int i = 0; i < s->len; i++) {
            struct client *c = s->clients[i];
            push_header(c, 4);
            reply_bulk_cstr(c, "pmessage");
            reply_bulk_slice(c, pat);
            reply_bulk_slice(c, channel);
            reply_bulk_slice(c, msg);
            receivers++;
        }
    }
    dict_iter_deinit(&it);
    return receivers;
}

long long pubsub_publish(struct slice channel, struct slice msg)
{
    return deliver(SPACE_CHANNEL, channel, msg);
}

/* ---- Keyspace notifications ---- */

void notify_keyspace_event(int type, const char *event, struct slice key, int dbid)
{
    int flags = server.cfg.notify_keyspace_flags;
    if (!(flags & type)) return;
    char chan[256];
    struct slice ev = {event, strlen(event)};
    if (flags & NOTIFY_KEYSPACE) {
        int n = snprintf(chan, sizeof(chan), "__keyspace@%d__:", dbid);
        size_t total = (size_t)n + key.len;
        char *buf = total <= sizeof(chan) ? chan : em_malloc(total);
        if (buf != chan) memcpy(buf, chan, (size_t)n);
        memcpy(buf + n, key.ptr, key.len);
        pubsub_publish((struct slice){buf, total}, ev);
        if (buf != chan) em_free(buf);
    }
    if (flags & NOTIFY_KEYEVENT) {
        int n = snprintf(chan, sizeof(chan), "__keyevent@%d__:%s", dbid, event);
        pubsub_publish((struct slice){chan, (size_t)n}, key);
    }
}

/* ---- Commands ---- */

static void subscribe_generic(struct client *c, enum space sp, const char *kind)
{
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, sp, c->argv[j]);
        reply_sub_event(c, kind, c->argv[j], false);
    }
}

static void unsubscribe_generic(struct client *c, enum space sp, const char *kind)
{
    if (c->argc > 1) {
        for (int j = 1; j < c->argc; j++) {
            unsubscribe(c, sp, c->argv[j]);
            reply_sub_event(c, kind, c->argv[j], false);
        }
        return;
    }
    struct pubsub_state *p = c->pubsub;
    struct slice *items = NULL;
    int *count = NULL, *cap = NULL;
    if (p != NULL) client_list_of(p, sp, &items, &count, &cap);
    if (p == NULL || *count == 0) {
        reply_sub_event(c, kind, (struct slice){NULL, 0}, true);
        return;
    }
    while (*count > 0) {
        struct slice name = items[0];
        struct slice copy = {em_strndup(name.ptr, name.len), name.len};
        unsubscribe(c, sp, copy);
        reply_sub_event(c, kind, copy, false);
        em_free((char *)copy.ptr);
        client_list_of(p, sp, &items, &count, &cap);
    }
}

static void cmd_subscribe(struct client *c)
{
    subscribe_generic(c, SPACE_CHANNEL, "subscribe");
}

static void cmd_unsubscribe(struct client *c)
{
    unsubscribe_generic(c, SPACE_CHANNEL, "unsubscribe");
}

static void cmd_psubscribe(struct client *c)
{
    subscribe_generic(c, SPACE_PATTERN, "psubscribe");
}

static void cmd_punsubscribe(struct client *c)
{
    unsubscribe_generic(c, SPACE_PATTERN, "punsubscribe");
}

static void cmd_ssubscribe(struct client *c)
{
    subscribe_generic(c, SPACE_SHARD, "ssubscribe");
}

static void cmd_sunsubscribe(struct client *c)
{
    unsubscribe_generic(c, SPACE_SHARD, "sunsubscribe");
}

static void cmd_publish(struct client *c)
{
    reply_int(c, pubsub_publish(c->argv[1], c->argv[2]));
}

static void cmd_spublish(struct client *c)
{
    reply_int(c, deliver(SPACE_SHARD, c->argv[1], c->argv[2]));
}

/* PUBSUB CHANNELS [pattern] / SHARDCHANNELS [pattern] */
static void channels_generic(struct client *c, enum space sp)
{
    struct slice pat = c->argc == 3 ? c->argv[2] : (struct slice){NULL, 0};
    void *h = reply_defer_len(c);
    long long n = 0;
    struct dict_iter it;
    dict_iter_init(&it, &spaces[sp]);
    for (struct dict_node *node = dict_iter_next(&it); node != NULL; node = dict_iter_next(&it)) {
        struct slice ch = dict_node_key(node);
        if (pat.ptr != NULL && !glob_match(pat.ptr, pat.len, ch.ptr, ch.len, false)) continue;
        reply_bulk_slice(c, ch);
        n++;
    }
    dict_iter_deinit(&it);
    reply_set_array_len(c, h, n);
}

static void numsub_generic(struct client *c, enum space sp)
{
    reply_map_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        struct slice ch = c->argv[j];
        struct dict_node *n =
            dict_find(&spaces[sp], dict_hash(ch.ptr, ch.len), ch.ptr, ch.len, NULL);
        reply_bulk_slice(c, ch);
        reply_int(c, n != NULL ? node_subs(n)->len : 0);
    }
}

static void pubsub_channels(struct client *c)
{
    channels_generic(c, SPACE_CHANNEL);
}

static void pubsub_shardchannels(struct client *c)
{
    channels_generic(c, SPACE_SHARD);
}

static void pubsub_numsub(struct client *c)
{
    numsub_generic(c, SPACE_CHANNEL);
}

static void pubsub_shardnumsub(struct client *c)
{
    numsub_generic(c, SPACE_SHARD);
}

/* Redis counts distinct patterns. */
static void pubsub_numpat(struct client *c)
{
    reply_int(c, (long long)dict_size(&spaces[SPACE_PATTERN]));
}

static void pubsub_help(struct client *c)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Print this help.",
        NULL,
    };
    long long n = 0;
    while (lines[n] != NULL)
        n++;
    reply_array_len(c, n);
    for (long long i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

bool pubsub_allowed_in_subscribed_mode(const struct command *cmd)
{
    static const char *const names[] = {"subscribe",    "ssubscribe", "unsubscribe",
                                        "sunsubscribe", "psubscribe", "punsubscribe",
                                        "ping",         "quit",       "reset"};
    if (cmd->parent != NULL) return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(cmd->name, names[i]) == 0) return true;
    }
    return false;
}

/* clang-format off */
static struct command pubsub_subcommands[] = {
    {.name = "channels", .proc = pubsub_channels, .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "List active channels", .since = "2.8.0",
     .complexity = "O(N) where N is the number of active channels"},
    {.name = "numsub", .proc = pubsub_numsub, .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Get the count of subscribers for channels", .since = "2.8.0",
     .complexity = "O(N) for the NUMSUB subcommand"},
    {.name = "numpat", .proc = pubsub_numpat, .arity = 2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Get the count of unique patterns pattern subscriptions", .since = "2.8.0",
     .complexity = "O(1)"},
    {.name = "shardchannels", .proc = pubsub_shardchannels, .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "List active shard channels", .since = "7.0.0",
     .complexity = "O(N) where N is the number of active shard channels"},
    {.name = "shardnumsub", .proc = pubsub_shardnumsub, .arity = -2,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Get the count of subscribers for shard channels", .since = "7.0.0",
     .complexity = "O(N) for the SHARDNUMSUB subcommand"},
    {.name = "help", .proc = pubsub_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "pubsub", .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

struct command pubsub_commands[] = {
    {.name = "subscribe", .proc = cmd_subscribe, .arity = -2,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Listen for messages published to the given channels", .since = "2.0.0",
     .complexity = "O(N) where N is the number of channels to subscribe to."},
    {.name = "unsubscribe", .proc = cmd_unsubscribe, .arity = -1,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Stop listening for messages posted to the given channels", .since = "2.0.0",
     .complexity = "O(N) where N is the number of clients already subscribed to a channel."},
    {.name = "psubscribe", .proc = cmd_psubscribe, .arity = -2,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Listen for messages published to channels matching the given patterns",
     .since = "2.0.0", .complexity = "O(N) where N is the number of patterns the client is "
                                     "already subscribed to."},
    {.name = "punsubscribe", .proc = cmd_punsubscribe, .arity = -1,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "pubsub",
     .summary = "Stop listening for messages posted to channels matching the given patterns",
     .since = "2.0.0", .complexity = "O(N+M) where N is the number of patterns the client is "
                                     "already subscribed and M is the number of total patterns "
                                     "subscribed in the system (by any client)."},
    {.name = "ssubscribe", .proc = cmd_ssubscribe, .arity = -2,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .first_key = 1,
     .last_key = -1, .key_step = 1, .group = "pubsub",
     .summary = "Listen for messages published to the given shard channels", .since = "7.0.0",
     .complexity = "O(N) where N is the number of shard channels to subscribe to."},
    {.name = "sunsubscribe", .proc = cmd_sunsubscribe, .arity = -1,
     .flags = CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .first_key = 1,
     .last_key = -1, .key_step = 1, .group = "pubsub",
     .summary = "Stop listening for messages posted to the given shard channels",
     .since = "7.0.0", .complexity = "O(N) where N is the number of clients already "
                                     "subscribed to a shard channel."},
    {.name = "publish", .proc = cmd_publish, .arity = 3,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .group = "pubsub", .summary = "Post a message to a channel", .since = "2.0.0",
     .complexity = "O(N+M) where N is the number of clients subscribed to the receiving "
                   "channel and M is the total number of subscribed patterns (by any client)."},
    {.name = "spublish", .proc = cmd_spublish, .arity = 3,
     .flags = CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "pubsub",
     .summary = "Post a message to a shard channel", .since = "7.0.0",
     .complexity = "O(N) where N is the number of clients subscribed to the receiving shard "
                   "channel."},
    {.name = "pubsub", .proc = NULL, .arity = -2, .flags = 0, .group = "pubsub",
     .summary = "A container for Pub/Sub commands", .since = "2.8.0",
     .complexity = "Depends on subcommand.", .subcommands = pubsub_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
