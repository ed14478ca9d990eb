/* t_server.c: connection and server commands.
 *
 * PING, ECHO, QUIT, SELECT, HELLO, CLIENT, COMMAND, INFO, CONFIG, TIME,
 * SHUTDOWN, DEBUG, MEMORY, LASTSAVE. INFO and CONFIG GET report Redis 7.0's
 * field names so monitoring tools read ember as they read Redis. COMMAND
 * INFO/DOCS are generated from the command tables; redis-cli asks for
 * COMMAND DOCS at start-up to build its hints. */
#include "ember/acl.h"
#include "ember/aof.h"
#include "ember/auth.h"
#include "ember/blocking.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/command_meta.h"
#include "ember/db.h"
#include "ember/diag.h"
#include "ember/digest.h"
#include "ember/evict.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/net.h"
#include "ember/object.h"
#include "ember/persist.h"
#include "ember/pubsub.h"
#include "ember/rdb.h"
#include "ember/reply.h"
#include "ember/script.h"
#include "ember/server.h"
#include "ember/tracking.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define REDIS_COMPAT_VERSION "7.0.15"

/* ---- Connection ---- */

/* PING [message] */
static void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_arity_error(c);
        return;
    }
    if (c->resp == 2 && pubsub_count(c) > 0) {
        /* In subscribed mode a RESP2 PING answers as a message would. */
        reply_array_len(c, 2);
        reply_bulk_cstr(c, "pong");
        reply_bulk(c, c->argc == 2 ? c->argv[1].ptr : "", c->argc == 2 ? c->argv[1].len : 0);
        return;
    }
    if (c->argc == 2) {
        reply_bulk_slice(c, c->argv[1]);
    } else {
        reply_raw(c, "+PONG\r\n", 7);
    }
}

/* ECHO message */
static void cmd_echo(struct client *c)
{
    reply_bulk_slice(c, c->argv[1]);
}

/* QUIT: +OK, then close once flushed. */
static void cmd_quit(struct client *c)
{
    reply_ok(c);
    client_close_after_reply(c);
}

/* SELECT index */
static void cmd_select(struct client *c)
{
    long long id;
    if (!arg_ll_or_reply(c, 1, &id)) return;
    if (id < INT32_MIN || id > INT32_MAX) {
        /* Redis's getIntFromObjectOrReply wording. */
        reply_error(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return;
    }
    if (server.cfg.cluster_enabled && id != 0) {
        reply_error(c, "ERR SELECT is not allowed in cluster mode");
        return;
    }
    if (id < 0 || id >= server.ks.count) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = &server.ks.dbs[id];
    reply_ok(c);
}

/* Redis's client name rule: printable ASCII without spaces. */
static bool valid_client_name(struct slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '!' || s.ptr[i] > '~') return false;
    }
    return true;
}

static bool set_client_name_or_reply(struct client *c, struct slice name)
{
    if (!valid_client_name(name)) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return false;
    }
    em_free(c->name);
    c->name = name.len > 0 ? em_strndup(name.ptr, name.len) : NULL;
    return true;
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
static void cmd_hello(struct client *c)
{
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (!str_to_ll(c->argv[1].ptr, c->argv[1].len, &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        next = 2;
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    struct slice setname = {NULL, 0};
    int auth_at = 0;
    for (int j = next; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (arg_is(c, j, "auth") && left >= 2) {
            auth_at = j + 1;
            j += 2;
        } else if (arg_is(c, j, "setname") && left >= 1) {
            setname = c->argv[++j];
            if (!valid_client_name(setname)) {
                reply_error(
                    c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        } else {
            reply_error_fmt(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len,
                            c->argv[j].ptr);
            return;
        }
    }
    if (auth_at != 0 && !auth_check(c, &c->argv[auth_at], c->argv[auth_at + 1])) {
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (!(c->flags & CLIENT_AUTHENTICATED)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the same "
                       "time");
        return;
    }
    if (setname.ptr != NULL) set_client_name_or_reply(c, setname);
    if (ver != 0) c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, REDIS_COMPAT_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, server.cfg.cluster_enabled ? "cluster" : "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_empty_array(c);
}

/* RESET: back to a fresh connection's state (Redis's
 * clearClientConnectionState). */
static void cmd_reset(struct client *c)
{
    multi_release(c);
    c->flags &=
        ~(unsigned)(CLIENT_MULTI | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_REPLY_SKIP);
    pubsub_release(c);
    tracking_release(c);
    c->resp = 2;
    c->db = &server.ks.dbs[0];
    em_free(c->name);
    c->name = NULL;
    auth_client_init(c);
    reply_status(c, "RESET");
}

/* ---- CLIENT ---- */

static void client_id(struct client *c)
{
    reply_int(c, (long long)c->id);
}

static void client_setname(struct client *c)
{
    if (set_client_name_or_reply(c, c->argv[2])) reply_ok(c);
}

static void client_getname(struct client *c)
{
    if (c->name == NULL) {
        reply_null(c);
    } else {
        reply_bulk_cstr(c, c->name);
    }
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; newer clients send it). */
static void client_setinfo(struct client *c)
{
    char **slot;
    if (arg_is(c, 2, "lib-name")) {
        slot = &c->lib_name;
    } else if (arg_is(c, 2, "lib-ver")) {
        slot = &c->lib_ver;
    } else {
        reply_error_fmt(c, "ERR Unrecognized option '%.*s'", (int)c->argv[2].len, c->argv[2].ptr);
        return;
    }
    if (!valid_client_name(c->argv[3])) {
        reply_error_fmt(c, "ERR %s cannot contain spaces, newlines or special characters.",
                        slot == &c->lib_name ? "lib-name" : "lib-ver");
        return;
    }
    em_free(*slot);
    *slot = c->argv[3].len > 0 ? em_strndup(c->argv[3].ptr, c->argv[3].len) : NULL;
    reply_ok(c);
}

static void append_client_line(char **buf, size_t *len, size_t *cap, const struct client *x)
{
    char *line = client_info_string(x);
    size_t l = strlen(line);
    if (*len + l + 2 > *cap) {
        *cap = (*len + l + 2) * 2;
        *buf = em_realloc(*buf, *cap);
    }
    memcpy(*buf + *len, line, l);
    (*buf)[*len + l] = '\n';
    *len += l + 1;
    em_free(line);
}

/* CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...] */
static void client_list(struct client *c)
{
    bool only_ids = false;
    int ids_from = 0;
    if (c->argc >= 4 && arg_is(c, 2, "type")) {
        if (!arg_is(c, 3, "normal") && !arg_is(c, 3, "master") && !arg_is(c, 3, "replica") &&
            !arg_is(c, 3, "slave") && !arg_is(c, 3, "pubsub")) {
            reply_error_fmt(c, "ERR Unknown client type '%.*s'", (int)c->argv[3].len,
                            c->argv[3].ptr);
            return;
        }
        if (!arg_is(c, 3, "normal")) {
            reply_verbatim(c, "", 0, "txt");
            return;
        }
    } else if (c->argc >= 4 && arg_is(c, 2, "id")) {
        only_ids = true;
        ids_from = 3;
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!str_to_ll(c->argv[j].ptr, c->argv[j].len, &id) || id <= 0) {
                reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
    } else if (c->argc != 2) {
        reply_syntax_error(c);
        return;
    }
    size_t len = 0, cap = 1024;
    char *buf = em_malloc(cap);
    if (only_ids) {
        for (int j = ids_from; j < c->argc; j++) {
            long long id;
            str_to_ll(c->argv[j].ptr, c->argv[j].len, &id);
            for (struct client *x = server.clients; x != NULL; x = x->next) {
                if ((long long)x->id == id) append_client_line(&buf, &len, &cap, x);
            }
        }
    } else {
        /* Oldest first, as Redis lists them. */
        struct client *last = server.clients;
        while (last != NULL && last->next != NULL)
            last = last->next;
        for (struct client *x = last; x != NULL; x = x->prev) {
            append_client_line(&buf, &len, &cap, x);
        }
    }
    reply_verbatim(c, buf, len, "txt");
    em_free(buf);
}

static void client_info(struct client *c)
{
    char *line = client_info_string(c);
    size_t l = strlen(line);
    line[l] = '\n'; /* over the terminator: the reply is length-delimited */
    reply_verbatim(c, line, l + 1, "txt");
    em_free(line);
}

/* CLIENT KILL ip:port | CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port]
 * [SKIPME yes|no] */
static void client_kill(struct client *c)
{
    if (c->argc == 3) {
        for (struct client *x = server.clients; x != NULL; x = x->next) {
            if (c->argv[2].len == strlen(x->addr) &&
                memcmp(c->argv[2].ptr, x->addr, c->argv[2].len) == 0) {
                client_close_after_reply(x);
                if (x != c) client_close_asap(x);
                reply_ok(c);
                return;
            }
        }
        reply_error(c, "ERR No such client");
        return;
    }
    if ((c->argc - 2) % 2 != 0) {
        reply_syntax_error(c);
        return;
    }
    long long id = 0;
    struct slice addr = {NULL, 0}, laddr = {NULL, 0};
    bool skipme = true;
    for (int j = 2; j < c->argc; j += 2) {
        if (arg_is(c, j, "id")) {
            if (!str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &id) || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (arg_is(c, j, "addr")) {
            addr = c->argv[j + 1];
        } else if (arg_is(c, j, "laddr")) {
            laddr = c->argv[j + 1];
        } else if (arg_is(c, j, "skipme")) {
            if (arg_is(c, j + 1, "yes")) {
                skipme = true;
            } else if (arg_is(c, j + 1, "no")) {
                skipme = false;
            } else {
                reply_syntax_error(c);
                return;
            }
        } else if (arg_is(c, j, "type") || arg_is(c, j, "user") || arg_is(c, j, "maxage")) {
            /* Accepted filters that match no client of another type here. */
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    long long killed = 0;
    for (struct client *x = server.clients; x != NULL; x = x->next) {
        if (id != 0 && (long long)x->id != id) continue;
        if (addr.ptr != NULL &&
            (addr.len != strlen(x->addr) || memcmp(addr.ptr, x->addr, addr.len) != 0)) {
            continue;
        }
        if (laddr.ptr != NULL &&
            (laddr.len != strlen(x->laddr) || memcmp(laddr.ptr, x->laddr, laddr.len) != 0)) {
            continue;
        }
        if (x == c && skipme) continue;
        if (x == c) {
            client_close_after_reply(x);
        } else {
            client_close_asap(x);
        }
        killed++;
    }
    reply_int(c, killed);
}

/* CLIENT REPLY ON|OFF|SKIP */
static void client_reply(struct client *c)
{
    if (arg_is(c, 2, "on")) {
        c->flags &= ~(unsigned)(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
        reply_ok(c);
    } else if (arg_is(c, 2, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is(c, 2, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_syntax_error(c);
    }
}

static void client_no_evict(struct client *c)
{
    if (arg_is(c, 2, "on") || arg_is(c, 2, "off")) {
        reply_ok(c);
    } else {
        reply_syntax_error(c);
    }
}

/* CLIENT PAUSE timeout [WRITE|ALL] */
static void client_pause(struct client *c)
{
    long long ms;
    if (!str_to_ll(c->argv[2].ptr, c->argv[2].len, &ms)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    bool all = true;
    if (c->argc == 4) {
        if (arg_is(c, 3, "write")) {
            all = false;
        } else if (!arg_is(c, 3, "all")) {
            reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    } else if (c->argc > 4) {
        reply_syntax_error(c);
        return;
    }
    blocking_pause(clock_ms() + ms, all);
    reply_ok(c);
}

static void client_unpause(struct client *c)
{
    blocking_unpause();
    reply_ok(c);
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR] */
static void client_unblock(struct client *c)
{
    long long id;
    if (!arg_ll_or_reply(c, 2, &id)) return;
    bool error = false;
    if (c->argc == 4) {
        if (arg_is(c, 3, "error")) {
            error = true;
        } else if (!arg_is(c, 3, "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    for (struct client *x = server.clients; x != NULL; x = x->next) {
        if ((long long)x->id == id && (x->flags & CLIENT_BLOCKED)) {
            blocking_unblock(x, error ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : NULL);
            reply_int(c, 1);
            return;
        }
    }
    reply_int(c, 0);
}

static void reply_help(struct client *c, const char *const *lines)
{
    long long n = 0;
    while (lines[n] != NULL)
        n++;
    reply_array_len(c, n);
    for (long long i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

static void client_help(struct client *c)
{
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "    * ID <client-id> [<client-id> ...]",
        "      Return clients with the specified IDs only.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(c, lines);
}

/* ---- COMMAND ---- */

struct flag_name {
    uint32_t flag;
    const char *name;
};

/* In Redis 7.0's order. Redis 7.0 does not print may_replicate in COMMAND
 * INFO (the flag is still used: read-only scripts refuse PUBLISH);
 * movablekeys is derived from the key specs (reply_command_flags). */
static const struct flag_name command_flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {0, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};
#define FLAG_NAME_COUNT (sizeof(command_flag_names) / sizeof(command_flag_names[0]))

static int count_subcommands(const struct command *cmd)
{
    int n = 0;
    for (const struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++)
        n++;
    return n;
}

/* ACL categories Redis derives from the flags and the group, listed in
 * Redis's category order (keyspace, read, write, set, sortedset, list,
 * hash, string, ..., pubsub, admin, fast, slow, blocking, dangerous,
 * connection, transaction, scripting). */
static int command_categories(const struct command *cmd, const char **cats)
{
    const char *g = cmd->group != NULL ? cmd->group : "";
    int n = 0;
    if (strcmp(g, "generic") == 0) cats[n++] = "@keyspace";
    if (cmd->flags & CMD_READONLY) cats[n++] = "@read";
    if (cmd->flags & CMD_WRITE) cats[n++] = "@write";
    static const char *const types[][2] = {
        {"set", "@set"},   {"sorted-set", "@sortedset"}, {"list", "@list"},
        {"hash", "@hash"}, {"string", "@string"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(g, types[i][0]) == 0) cats[n++] = types[i][1];
    }
    if (strcmp(g, "pubsub") == 0) cats[n++] = "@pubsub";
    if (cmd->flags & CMD_ADMIN) cats[n++] = "@admin";
    cats[n++] = (cmd->flags & CMD_FAST) ? "@fast" : "@slow";
    if (cmd->flags & CMD_BLOCKING) cats[n++] = "@blocking";
    if (cmd->flags & CMD_ADMIN) cats[n++] = "@dangerous";
    if (strcmp(g, "connection") == 0) cats[n++] = "@connection";
    if (strcmp(g, "transactions") == 0) cats[n++] = "@transaction";
    if (strcmp(g, "scripting") == 0) cats[n++] = "@scripting";
    return n;
}

static void reply_categories(struct client *c, const struct command *cmd)
{
    char full[128];
    const char *cats[24];
    int n = acl_command_categories(command_fullname(cmd, full, sizeof(full)), cats, 24);
    if (n > 0) {
        reply_set_len(c, n);
        for (int i = 0; i < n; i++) {
            char at[32];
            snprintf(at, sizeof(at), "@%s", cats[i]);
            reply_status(c, at);
        }
        return;
    }
    n = command_categories(cmd, cats);
    reply_set_len(c, n);
    for (int i = 0; i < n; i++)
        reply_status(c, cats[i]);
}

static void reply_command_flags(struct client *c, const struct command *cmd,
                                const struct command_meta *m)
{
    bool movable = command_meta_movablekeys(m);
    int n = 0;
    for (size_t i = 0; i < FLAG_NAME_COUNT; i++) {
        uint32_t f = command_flag_names[i].flag;
        n += f != 0 ? (cmd->flags & f) != 0 : movable;
    }
    reply_set_len(c, n);
    for (size_t i = 0; i < FLAG_NAME_COUNT; i++) {
        uint32_t f = command_flag_names[i].flag;
        if (f != 0 ? (cmd->flags & f) != 0 : movable) reply_status(c, command_flag_names[i].name);
    }
}

/* The 10-field entry: name, arity, flags, first/last/step from ember's own
 * table (what dispatch checks); categories, tips and key specs from the
 * generated metadata. */
static void reply_command_info(struct client *c, const struct command *cmd)
{
    char full[128];
    const char *name = command_fullname(cmd, full, sizeof(full));
    const struct command_meta *m = cmd->meta;
    reply_array_len(c, 10);
    reply_bulk_cstr(c, name);
    reply_int(c, cmd->arity);
    reply_command_flags(c, cmd, m);
    reply_int(c, cmd->first_key);
    reply_int(c, cmd->last_key);
    reply_int(c, cmd->key_step);
    reply_categories(c, cmd);
    command_meta_reply_tips(c, m);
    command_meta_reply_keyspecs(c, m);
    /* Redis 7.0 sends a container's subcommands as an array, the empty list
     * of any other command as a set. */
    int nsub = count_subcommands(cmd);
    if (nsub == 0) {
        reply_set_len(c, 0);
        return;
    }
    reply_array_len(c, nsub);
    for (int i = 0; i < nsub; i++)
        reply_command_info(c, &cmd->subcommands[i]);
}

/* Without generated metadata (a command redis-server 7.0 lacks), the docs
 * come from the table's summary, since, group and complexity. */
static void reply_table_docs(struct client *c, const struct command *cmd, int extra)
{
    reply_map_len(c, 3 + (cmd->complexity != NULL ? 1 : 0) + extra);
    reply_bulk_cstr(c, "summary");
    reply_bulk_cstr(c, cmd->summary != NULL ? cmd->summary : "");
    reply_bulk_cstr(c, "since");
    reply_bulk_cstr(c, cmd->since != NULL ? cmd->since : "1.0.0");
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, cmd->group != NULL ? cmd->group : "server");
    if (cmd->complexity != NULL) {
        reply_bulk_cstr(c, "complexity");
        reply_bulk_cstr(c, cmd->complexity);
    }
}

static void reply_command_docs(struct client *c, const struct command *cmd)
{
    char full[128];
    const struct command_meta *m = cmd->meta;
    int nsub = count_subcommands(cmd);
    if (m != NULL) {
        reply_map_len(c, command_meta_doc_fields(m) + (nsub > 0));
        command_meta_reply_docs(c, m);
    } else {
        reply_table_docs(c, cmd, nsub > 0);
    }
    if (nsub > 0) {
        reply_bulk_cstr(c, "subcommands");
        reply_map_len(c, nsub);
        for (int i = 0; i < nsub; i++) {
            reply_bulk_cstr(c, command_fullname(&cmd->subcommands[i], full, sizeof(full)));
            reply_command_docs(c, &cmd->subcommands[i]);
        }
    }
}

struct collect {
    struct client *c;
    long long n;
    int mode; /* 0 info, 1 docs, 2 names */
};

static void collect_one(struct command *cmd, void *arg)
{
    struct collect *k = arg;
    if (k->mode == 0) {
        reply_command_info(k->c, cmd);
    } else if (k->mode == 1) {
        reply_bulk_cstr(k->c, cmd->name);
        reply_command_docs(k->c, cmd);
    } else {
        reply_bulk_cstr(k->c, cmd->name);
    }
    k->n++;
}

/* COMMAND with no subcommand: the info of every command. */
static void cmd_command_all(struct client *c)
{
    struct collect k = {c, 0, 0};
    reply_array_len(c, command_count());
    command_foreach(collect_one, &k);
}

/* Finds a command or "parent|sub" by name. */
static const struct command *lookup_full(struct slice name)
{
    const char *bar = memchr(name.ptr, '|', name.len);
    if (bar == NULL) return command_lookup(name);
    const struct command *parent =
        command_lookup((struct slice){name.ptr, (size_t)(bar - name.ptr)});
    if (parent == NULL || parent->subcommands == NULL) return NULL;
    struct slice sub = {bar + 1, name.len - (size_t)(bar - name.ptr) - 1};
    for (const struct command *s = parent->subcommands; s->name != NULL; s++) {
        if (strlen(s->name) == sub.len && strncasecmp(s->name, sub.ptr, sub.len) == 0) return s;
    }
    return NULL;
}

static void command_count_cmd(struct client *c)
{
    reply_int(c, command_count());
}

static void command_info(struct client *c)
{
    if (c->argc == 2) {
        cmd_command_all(c);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        const struct command *cmd = lookup_full(c->argv[j]);
        if (cmd == NULL) {
            reply_null(c); /* Redis 7.0 sends a null bulk here */
        } else {
            reply_command_info(c, cmd);
        }
    }
}

static void command_docs(struct client *c)
{
    if (c->argc == 2) {
        struct collect k = {c, 0, 1};
        reply_map_len(c, command_count());
        command_foreach(collect_one, &k);
        return;
    }
    long long found = 0;
    for (int j = 2; j < c->argc; j++)
        found += lookup_full(c->argv[j]) != NULL;
    reply_map_len(c, found);
    for (int j = 2; j < c->argc; j++) {
        const struct command *cmd = lookup_full(c->argv[j]);
        if (cmd == NULL) continue;
        char full[128];
        reply_bulk_cstr(c, command_fullname(cmd, full, sizeof(full)));
        reply_command_docs(c, cmd);
    }
}

struct list_filter {
    struct client *c;
    void *handle;
    long long n;
    int kind; /* 0 none, 1 pattern, 2 aclcat, 3 module */
    struct slice arg;
};

static bool in_category(const struct command *cmd, struct slice cat)
{
    char full[128];
    const char *cats[24];
    int n = acl_command_categories(command_fullname(cmd, full, sizeof(full)), cats, 24);
    for (int i = 0; i < n; i++) {
        if (slice_eq_nocase(cat, cats[i])) return true;
    }
    if (n > 0) return false;
    n = command_categories(cmd, cats);
    for (int i = 0; i < n; i++) {
        if (slice_eq_nocase(cat, cats[i] + 1)) return true;
    }
    return false;
}

/* Subcommands ("config|get") are listed and filtered too, as in Redis. */
static void list_one(struct command *cmd, void *arg)
{
    struct list_filter *f = arg;
    char full[128];
    const char *name = command_fullname(cmd, full, sizeof(full));
    bool show = f->kind == 0 ||
                (f->kind == 1 && glob_match(f->arg.ptr, f->arg.len, name, strlen(name), true)) ||
                (f->kind == 2 && in_category(cmd, f->arg));
    if (show) {
        reply_bulk_cstr(f->c, name);
        f->n++;
    }
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++)
        list_one(s, arg);
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pat] */
static void command_list(struct client *c)
{
    struct list_filter f = {c, NULL, 0, 0, {NULL, 0}};
    if (c->argc == 5 && arg_is(c, 2, "filterby")) {
        if (arg_is(c, 3, "pattern")) {
            f.kind = 1;
        } else if (arg_is(c, 3, "aclcat")) {
            f.kind = 2;
        } else if (arg_is(c, 3, "module")) {
            f.kind = 3;
        } else {
            reply_syntax_error(c);
            return;
        }
        f.arg = c->argv[4];
    } else if (c->argc != 2) {
        reply_syntax_error(c);
        return;
    }
    f.handle = reply_defer_len(c);
    command_foreach(list_one, &f);
    reply_set_array_len(c, f.handle, f.n);
}

/* Redis's setGetKeys: SET's key spec has variable flags, so the flags come
 * from the arguments (GET makes it a read-write access). */
static int set_get_keys(int argc, const struct slice *argv, struct meta_key *out)
{
    out[0] = (struct meta_key){1, KS_OW | KS_UPDATE};
    for (int i = 3; i < argc; i++) {
        if (slice_eq_nocase(argv[i], "get")) {
            out[0].flags = KS_RW | KS_ACCESS | KS_UPDATE;
            break;
        }
    }
    return 1;
}

/* COMMAND GETKEYS|GETKEYSANDFLAGS command arg ...: the keys by the key specs,
 * as Redis's getKeysSubcommandImpl finds them. */
static void getkeys_generic(struct client *c, bool with_flags)
{
    const struct command *cmd = command_lookup(c->argv[2]);
    if (cmd != NULL && cmd->subcommands != NULL && c->argc > 3) {
        const struct command *sub = cmd->subcommands;
        while (sub->name != NULL && !slice_eq_nocase(c->argv[3], sub->name))
            sub++;
        cmd = sub->name != NULL ? sub : NULL;
    }
    if (cmd == NULL) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    char full[128];
    const char *name = command_fullname(cmd, full, sizeof(full));
    const struct command_meta *m = cmd->meta;
    if (!command_meta_has_keys(m)) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    int argc = c->argc - 2;
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    struct meta_key stack[16];
    struct meta_key *keys = argc <= 16 ? stack : em_malloc(sizeof(*keys) * (size_t)argc);
    const struct slice *argv = c->argv + 2;
    int n = strcmp(name, "set") == 0 ? set_get_keys(argc, argv, keys)
                                     : command_get_keys(cmd, argc, argv, keys, argc);
    if (n <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS) {
            reply_empty_array(c);
        } else {
            reply_error(c, "ERR Invalid arguments specified for command");
        }
    } else {
        reply_array_len(c, n);
        for (int i = 0; i < n; i++) {
            if (with_flags) reply_array_len(c, 2);
            reply_bulk_slice(c, argv[keys[i].pos]);
            if (with_flags) command_meta_reply_key_flags(c, keys[i].flags);
        }
    }
    if (keys != stack) em_free(keys);
}

static void command_getkeys(struct client *c)
{
    getkeys_generic(c, false);
}

static void command_getkeysandflags(struct client *c)
{
    getkeys_generic(c, true);
}

static void command_help(struct client *c)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c, lines);
}

/* COMMAND alone is handled here; subcommands by the table. */
static void cmd_command(struct client *c)
{
    cmd_command_all(c);
}

/* ---- INFO ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0);
        b->p = em_realloc(b->p, b->cap);
    }
}

/* Redis's bytesToHuman. */
static void human_bytes(char *out, size_t outlen, double n)
{
    static const char *const units[] = {"B", "K", "M", "G", "T", "P"};
    int u = 0;
    while (n >= 1024 && u < 5) {
        n /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(out, outlen, "%lluB", (unsigned long long)n);
    } else {
        snprintf(out, outlen, "%.2f%s", n, units[u]);
    }
}

static size_t total_system_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
}

static void info_server(struct sbuf *b)
{
    struct utsname u;
    uname(&u);
    long long now_us = clock_us();
    long long uptime = (clock_ms() - server.start_ms) / 1000;
    sb_printf(
        b,
        "# Server\r\nredis_version:%s\r\nember_version:%s\r\nredis_git_sha1:00000000\r\n"
        "redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:%s\r\nos:%s %s %s\r\n"
        "arch_bits:%d\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\n"
        "atomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\nprocess_id:%d\r\n"
        "process_supervised:no\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\n"
        "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%d\r\nconfigured_hz:%d\r\n"
        "lru_clock:%u\r\nexecutable:%s\r\nconfig_file:%s\r\nio_threads_active:0\r\n",
        REDIS_COMPAT_VERSION, EMBER_VERSION, server.cfg.cluster_enabled ? "cluster" : "standalone",
        u.sysname, u.release, u.machine, (int)(sizeof(long) * 8),
#ifdef __GNUC__
        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
        0, 0, 0,
#endif
        server.pid, server.run_id, server.cfg.port, now_us, uptime, uptime / 86400, server.cfg.hz,
        server.cfg.hz, server.ks.lru_clock, server.executable ? server.executable : "",
        server.config_file ? server.config_file : "");
}

static void info_clients(struct sbuf *b)
{
    struct tracking_info ti;
    tracking_get_info(&ti);
    sb_printf(b,
              "# Clients\r\nconnected_clients:%d\r\ncluster_connections:0\r\nmaxclients:%d\r\n"
              "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n"
              "blocked_clients:%d\r\ntracking_clients:%lld\r\nclients_in_timeout_table:%d\r\n",
              server.client_count, server.cfg.maxclients, blocking_count(), ti.clients,
              blocking_count());
}

static const char *policy_name(int p)
{
    static const char *const names[] = {"noeviction",      "allkeys-lru",  "volatile-lru",
                                        "allkeys-lfu",     "volatile-lfu", "allkeys-random",
                                        "volatile-random", "volatile-ttl"};
    return p >= 0 && p < 8 ? names[p] : "noeviction";
}

static void info_memory(struct sbuf *b)
{
    struct mem_stats ms;
    mem_stats_read(&ms);
    size_t rss = mem_rss();
    /* The figure eviction compares with maxmemory (Redis's zmalloc counter);
     * the allocator_* fields below are jemalloc's own statistics. */
    size_t used = evict_used_memory();
    if (used > server.peak_memory) server.peak_memory = used;
    size_t sys = total_system_memory();
    char h_used[32], h_rss[32], h_peak[32], h_sys[32], h_max[32];
    human_bytes(h_used, sizeof(h_used), (double)used);
    human_bytes(h_rss, sizeof(h_rss), (double)rss);
    human_bytes(h_peak, sizeof(h_peak), (double)server.peak_memory);
    human_bytes(h_sys, sizeof(h_sys), (double)sys);
    human_bytes(h_max, sizeof(h_max), (double)server.cfg.maxmemory);
    size_t vm_eval = script_eval_memory(), scripts_eval = script_cache_memory();
    size_t vm_functions = function_vm_memory(), functions_mem = function_memory();
    char h_vm_eval[32], h_vm_total[32], h_scripts[32];
    human_bytes(h_vm_eval, sizeof(h_vm_eval), (double)vm_eval);
    human_bytes(h_vm_total, sizeof(h_vm_total), (double)(vm_eval + vm_functions));
    human_bytes(h_scripts, sizeof(h_scripts), (double)(scripts_eval + functions_mem));
    size_t overhead = 0;
    for (int i = 0; i < server.ks.count; i++)
        overhead += dict_overhead(&server.ks.dbs[i].dict);
    size_t clients_mem = 0;
    for (struct client *c = server.clients; c != NULL; c = c->next) {
        clients_mem += sizeof(*c) + c->qcap + c->reply_bytes;
    }
    overhead += clients_mem;
    size_t dataset = used > overhead ? used - overhead : 0;
    double frag = used ? (double)rss / (double)used : 0;
    sb_printf(
        b,
        "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
        "used_memory_rss_human:%s\r\nused_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
        "used_memory_peak_perc:%.2f%%\r\nused_memory_overhead:%zu\r\n"
        "used_memory_startup:0\r\nused_memory_dataset:%zu\r\nused_memory_dataset_perc:%.2f%%\r\n"
        "allocator_allocated:%zu\r\nallocator_active:%zu\r\nallocator_resident:%zu\r\n"
        "total_system_memory:%zu\r\ntotal_system_memory_human:%s\r\nused_memory_lua:%zu\r\n"
        "used_memory_vm_eval:%zu\r\nused_memory_lua_human:%s\r\nused_memory_scripts_eval:%zu\r\n"
        "number_of_cached_scripts:%lld\r\nnumber_of_functions:%lld\r\nnumber_of_libraries:%lld\r\n"
        "used_memory_vm_functions:%zu\r\nused_memory_vm_total:%zu\r\n"
        "used_memory_vm_total_human:%s\r\nused_memory_functions:%zu\r\nused_memory_scripts:%zu\r\n"
        "used_memory_scripts_human:%s\r\nmaxmemory:%lld\r\nmaxmemory_human:%s\r\n"
        "maxmemory_policy:%s\r\nallocator_frag_ratio:%.2f\r\nallocator_frag_bytes:%zu\r\n"
        "allocator_rss_ratio:%.2f\r\nallocator_rss_bytes:%zu\r\nrss_overhead_ratio:%.2f\r\n"
        "rss_overhead_bytes:%zu\r\nmem_fragmentation_ratio:%.2f\r\n"
        "mem_fragmentation_bytes:%zu\r\nmem_not_counted_for_evict:0\r\n"
        "mem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n"
        "mem_clients_slaves:0\r\nmem_clients_normal:%zu\r\nmem_cluster_links:0\r\n"
        "mem_aof_buffer:0\r\nmem_allocator:%s\r\nactive_defrag_running:0\r\n"
        "lazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
        used, h_used, rss, h_rss, server.peak_memory, h_peak,
        server.peak_memory ? 100.0 * (double)used / (double)server.peak_memory : 0, overhead,
        dataset, used ? 100.0 * (double)dataset / (double)used : 0, ms.allocated, ms.active,
        ms.resident, sys, h_sys, vm_eval, vm_eval, h_vm_eval, scripts_eval, script_cache_count(),
        function_count(), function_library_count(), vm_functions, vm_eval + vm_functions,
        h_vm_total, functions_mem, scripts_eval + functions_mem, h_scripts, server.cfg.maxmemory,
        h_max, policy_name(server.cfg.maxmemory_policy),
        ms.allocated ? (double)ms.active / (double)ms.allocated : 0,
        ms.active > ms.allocated ? ms.active - ms.allocated : 0,
        ms.active ? (double)ms.resident / (double)ms.active : 0,
        ms.resident > ms.active ? ms.resident - ms.active : 0,
        ms.resident ? (double)rss / (double)ms.resident : 0,
        rss > ms.resident ? rss - ms.resident : 0, frag, rss > used ? rss - used : 0, clients_mem,
        mem_allocator_name());
}

static void info_persistence(struct sbuf *b)
{
    struct persist_status st;
    persist_status(&st);
    char aof_lines[1024];
    aof_info(aof_lines, sizeof(aof_lines));
    sb_printf(
        b,
        "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:%lld\r\n"
        "current_cow_size:%lld\r\ncurrent_cow_size_age:%lld\r\ncurrent_fork_perc:%.2f\r\n"
        "current_save_keys_processed:%lld\r\ncurrent_save_keys_total:%lld\r\n"
        "rdb_changes_since_last_save:%lld\r\nrdb_bgsave_in_progress:%d\r\n"
        "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
        "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\nrdb_saves:%lld\r\n"
        "rdb_last_cow_size:%lld\r\nrdb_last_load_keys_expired:%lld\r\n"
        "rdb_last_load_keys_loaded:%lld\r\n%s",
        st.cow_peak, st.cow_size, st.cow_size_age, st.fork_perc, st.save_keys_processed,
        st.save_keys_total, st.changes_since_last_save, st.bgsave_in_progress ? 1 : 0,
        st.last_save_time, st.last_bgsave_ok ? "ok" : "err", st.last_bgsave_time_sec,
        st.current_bgsave_time_sec, st.saves, st.last_cow_size, st.last_load_keys_expired,
        st.last_load_keys_loaded, aof_lines);
}

static void info_stats(struct sbuf *b)
{
    const struct server_stats *s = &server.stats;
    const struct keyspace_stats *k = &server.ks.stats;
    struct persist_status ps;
    persist_status(&ps);
    struct tracking_info ti;
    tracking_get_info(&ti);
    sb_printf(b,
              "# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n"
              "instantaneous_ops_per_sec:%lld\r\ntotal_net_input_bytes:%lld\r\n"
              "total_net_output_bytes:%lld\r\ntotal_net_repl_input_bytes:0\r\n"
              "total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:%.2f\r\n"
              "instantaneous_output_kbps:%.2f\r\ninstantaneous_input_repl_kbps:0.00\r\n"
              "instantaneous_output_repl_kbps:0.00\r\nrejected_connections:%lld\r\nsync_full:0\r\n"
              "sync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:%lld\r\n"
              "expired_stale_perc:%.2f\r\nexpired_time_cap_reached_count:%lld\r\n"
              "expire_cycle_cpu_milliseconds:%lld\r\nevicted_keys:%lld\r\nevicted_clients:0\r\n"
              "total_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\n"
              "keyspace_hits:%lld\r\nkeyspace_misses:%lld\r\npubsub_channels:0\r\n"
              "pubsub_patterns:0\r\npubsubshard_channels:0\r\nlatest_fork_usec:%lld\r\n"
              "total_forks:%lld\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\n"
              "active_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n"
              "active_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\n"
              "current_active_defrag_time:0\r\ntracking_total_keys:%lld\r\n"
              "tracking_total_items:%lld\r\ntracking_total_prefixes:%lld\r\n"
              "unexpected_error_replies:%lld\r\n"
              "total_error_replies:%lld\r\ndump_payload_sanitizations:0\r\n"
              "total_reads_processed:%lld\r\ntotal_writes_processed:%lld\r\n"
              "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n"
              "reply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
              s->total_connections_received, s->total_commands_processed,
              server_inst_metric(METRIC_COMMANDS), s->total_net_input_bytes,
              s->total_net_output_bytes, (double)server_inst_metric(METRIC_NET_INPUT) / 1024,
              (double)server_inst_metric(METRIC_NET_OUTPUT) / 1024, s->rejected_connections,
              k->expired_keys, (double)k->expired_stale_perc_x100 / 100,
              k->expired_time_cap_reached_count, s->expire_cycle_cpu_us / 1000, k->evicted_keys,
              k->keyspace_hits, k->keyspace_misses, ps.latest_fork_usec, ps.total_forks, ti.keys,
              ti.items, ti.prefixes, s->unexpected_error_replies, s->total_error_replies,
              s->total_commands_processed, s->total_commands_processed);
}

static void info_replication(struct sbuf *b)
{
    sb_printf(b,
              "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
              "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
              "master_replid2:0000000000000000000000000000000000000000\r\n"
              "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
              "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\n"
              "repl_backlog_histlen:0\r\n",
              server.run_id);
}

static double tv_seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1000000.0;
}

static void info_cpu(struct sbuf *b)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    sb_printf(b,
              "# CPU\r\nused_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\n"
              "used_cpu_user_children:%.6f\r\n",
              tv_seconds(self.ru_stime), tv_seconds(self.ru_utime), tv_seconds(children.ru_stime),
              tv_seconds(children.ru_utime));
}

static int error_stat_cmp(const void *a, const void *b)
{
    const struct error_stat *x = *(const struct error_stat *const *)a;
    const struct error_stat *y = *(const struct error_stat *const *)b;
    return strcmp(x->code, y->code);
}

/* Sorted by error code: Redis keeps them in a rax. */
static void info_errorstats(struct sbuf *b)
{
    const struct error_stat *sorted[SERVER_ERRORSTATS_MAX];
    int n = server.errorstat_count;
    for (int i = 0; i < n; i++)
        sorted[i] = &server.errorstats[i];
    /* cppcheck-suppress uninitvar ; the loop above set sorted[0..n), all qsort reads */
    qsort(sorted, (size_t)n, sizeof(sorted[0]), error_stat_cmp);
    sb_printf(b, "# Errorstats\r\n");
    for (int i = 0; i < n; i++)
        sb_printf(b, "errorstat_%s:count=%lld\r\n", sorted[i]->code, sorted[i]->count);
}

static void info_keyspace(struct sbuf *b)
{
    sb_printf(b, "# Keyspace\r\n");
    for (int i = 0; i < server.ks.count; i++) {
        struct db *db = &server.ks.dbs[i];
        if (db_size(db) == 0) continue;
        sb_printf(b, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, db_size(db),
                  db->volatile_count, db->avg_ttl);
    }
}

static void commandstat_one(struct command *cmd, void *arg)
{
    struct sbuf *b = arg;
    char full[128];
    if (cmd->calls != 0 || cmd->rejected_calls != 0 || cmd->failed_calls != 0) {
        /* Whole microseconds, as Redis keeps them, so usec_per_call is usec / calls. */
        long long usec = cmd->duration_ns / 1000;
        sb_printf(b,
                  "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
                  "failed_calls=%lld\r\n",
                  command_fullname(cmd, full, sizeof(full)), cmd->calls, usec,
                  cmd->calls ? (double)usec / (double)cmd->calls : 0, cmd->rejected_calls,
                  cmd->failed_calls);
    }
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        commandstat_one(s, arg);
    }
}

static void latencystats_line(void *arg, const char *line)
{
    sb_printf(arg, "%s\r\n", line);
}

static void info_latencystats(struct sbuf *b)
{
    sb_printf(b, "# Latencystats\r\n");
    diag_latencystats(latencystats_line, b);
}

static void info_commandstats(struct sbuf *b)
{
    sb_printf(b, "# Commandstats\r\n");
    command_foreach(commandstat_one, b);
}

enum info_section {
    INFO_SERVER = 1 << 0,
    INFO_CLIENTS = 1 << 1,
    INFO_MEMORY = 1 << 2,
    INFO_PERSISTENCE = 1 << 3,
    INFO_STATS = 1 << 4,
    INFO_REPLICATION = 1 << 5,
    INFO_CPU = 1 << 6,
    INFO_MODULES = 1 << 7,
    INFO_ERRORSTATS = 1 << 8,
    INFO_CLUSTER = 1 << 9,
    INFO_KEYSPACE = 1 << 10,
    INFO_COMMANDSTATS = 1 << 11,
    INFO_LATENCYSTATS = 1 << 12,
};
#define INFO_DEFAULT                                                                               \
    (INFO_SERVER | INFO_CLIENTS | INFO_MEMORY | INFO_PERSISTENCE | INFO_STATS | INFO_REPLICATION | \
     INFO_CPU | INFO_MODULES | INFO_ERRORSTATS | INFO_CLUSTER | INFO_KEYSPACE)
#define INFO_ALL (INFO_DEFAULT | INFO_COMMANDSTATS | INFO_LATENCYSTATS)

static unsigned info_section_bit(struct slice name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"server", INFO_SERVER},
        {"clients", INFO_CLIENTS},
        {"memory", INFO_MEMORY},
        {"persistence", INFO_PERSISTENCE},
        {"stats", INFO_STATS},
        {"replication", INFO_REPLICATION},
        {"cpu", INFO_CPU},
        {"modules", INFO_MODULES},
        {"errorstats", INFO_ERRORSTATS},
        {"cluster", INFO_CLUSTER},
        {"keyspace", INFO_KEYSPACE},
        {"commandstats", INFO_COMMANDSTATS},
        {"latencystats", INFO_LATENCYSTATS},
        {"default", INFO_DEFAULT},
        {"all", INFO_ALL},
        {"everything", INFO_ALL},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (slice_eq_nocase(name, names[i].name)) return names[i].bit;
    }
    return 0;
}

/* INFO [section ...] */
static void cmd_info(struct client *c)
{
    unsigned sections = c->argc == 1 ? INFO_DEFAULT : 0;
    for (int j = 1; j < c->argc; j++)
        sections |= info_section_bit(c->argv[j]);
    struct sbuf b = {em_malloc(4096), 0, 4096};
    b.p[0] = '\0';
    struct {
        unsigned bit;
        void (*fn)(struct sbuf *);
    } parts[] = {
        {INFO_SERVER, info_server},
        {INFO_CLIENTS, info_clients},
        {INFO_MEMORY, info_memory},
        {INFO_PERSISTENCE, info_persistence},
        {INFO_STATS, info_stats},
        {INFO_REPLICATION, info_replication},
        {INFO_CPU, info_cpu},
        {INFO_COMMANDSTATS, info_commandstats},
        {INFO_ERRORSTATS, info_errorstats},
        {INFO_LATENCYSTATS, info_latencystats},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!(sections & parts[i].bit)) continue;
        if (b.len > 0) sb_printf(&b, "\r\n");
        parts[i].fn(&b);
    }
    if (sections & INFO_MODULES) sb_printf(&b, "%s# Modules\r\n", b.len > 0 ? "\r\n" : "");
    if (sections & INFO_CLUSTER) {
        sb_printf(&b, "%s# Cluster\r\ncluster_enabled:%d\r\n", b.len > 0 ? "\r\n" : "",
                  server.cfg.cluster_enabled ? 1 : 0);
    }
    if (sections & INFO_KEYSPACE) {
        if (b.len > 0) sb_printf(&b, "\r\n");
        info_keyspace(&b);
    }
    reply_verbatim(c, b.p, b.len, "txt");
    em_free(b.p);
}

/* ---- CONFIG ---- */

struct config_collect {
    struct client *c;
    long long n;
    /* Pairs already emitted (CONFIG GET with several patterns reports each
     * directive once). */
    char **seen;
    int seen_count;
    int seen_cap;
    bool emit;
};

static void config_visit(const char *name, const char *value, void *arg)
{
    struct config_collect *k = arg;
    for (int i = 0; i < k->seen_count; i++) {
        if (strcmp(k->seen[i], name) == 0) return;
    }
    if (k->seen_count == k->seen_cap) {
        k->seen_cap = k->seen_cap ? k->seen_cap * 2 : 16;
        k->seen = em_realloc(k->seen, (size_t)k->seen_cap * sizeof(char *));
    }
    k->seen[k->seen_count++] = em_strndup(name, strlen(name));
    if (k->emit) {
        reply_bulk_cstr(k->c, name);
        reply_bulk_cstr(k->c, value);
    }
    k->n++;
}

/* CONFIG GET pattern [pattern ...] */
static void config_get_cmd(struct client *c)
{
    struct config_collect k = {c, 0, NULL, 0, 0, true};
    void *h = reply_defer_len(c);
    for (int j = 2; j < c->argc; j++) {
        char *pat = em_strndup(c->argv[j].ptr, c->argv[j].len);
        config_get(&server.cfg, pat, config_visit, &k);
        em_free(pat);
    }
    reply_set_map_len(c, h, k.n);
    for (int i = 0; i < k.seen_count; i++)
        em_free(k.seen[i]);
    em_free(k.seen);
}

/* Applies side effects of a changed directive. */
static void config_apply(const char *name)
{
    if (strcasecmp(name, "hz") == 0) {
        net_set_hz(server.cfg.hz);
    } else if (strcasecmp(name, "loglevel") == 0) {
        log_set_level((enum log_level)server.cfg.loglevel);
    } else if (strcasecmp(name, "proto-max-bulk-len") == 0) {
        for (struct client *x = server.clients; x != NULL; x = x->next) {
            x->limits.max_bulk_len = server.cfg.proto_max_bulk_len;
        }
    } else if (strcasecmp(name, "maxmemory") == 0 || strcasecmp(name, "maxmemory-policy") == 0 ||
               strncasecmp(name, "lfu-", 4) == 0) {
        evict_apply_config(); /* evicts at once when the new limit is below usage */
    } else if (strcasecmp(name, "appendonly") == 0) {
        aof_apply_config(); /* on: a rewrite starts; off: the file is closed */
    }
}

/* CONFIG SET name value [name value ...]: all or nothing, as in Redis 7. */
static void config_set_cmd(struct client *c)
{
    if ((c->argc - 2) % 2 != 0) {
        reply_syntax_error(c);
        return;
    }
    int pairs = (c->argc - 2) / 2;
    char **names = em_calloc((size_t)pairs, sizeof(char *));
    char **values = em_calloc((size_t)pairs, sizeof(char *));
    for (int i = 0; i < pairs; i++) {
        names[i] = em_strndup(c->argv[2 + 2 * i].ptr, c->argv[2 + 2 * i].len);
        values[i] = em_strndup(c->argv[3 + 2 * i].ptr, c->argv[3 + 2 * i].len);
    }
    char err[256];
    for (int i = 0; i < pairs; i++) {
        if (!config_known(names[i])) {
            reply_error_fmt(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                            names[i]);
            goto out;
        }
        for (int j = 0; j < i; j++) {
            if (strcasecmp(names[i], names[j]) == 0) {
                reply_error_fmt(c,
                                "ERR CONFIG SET failed (possibly related to argument '%s') - "
                                "duplicate parameter",
                                names[i]);
                goto out;
            }
        }
    }
    /* Validate everything on a scratch copy first, then apply for real. */
    struct config scratch;
    config_init(&scratch);
    for (int i = 0; i < pairs; i++) {
        if (config_set(&scratch, names[i], values[i], err, sizeof(err)) < 0) {
            config_deinit(&scratch);
            reply_error_fmt(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                            names[i], err);
            goto out;
        }
    }
    config_deinit(&scratch);
    for (int i = 0; i < pairs; i++) {
        if (config_set(&server.cfg, names[i], values[i], err, sizeof(err)) == 0) {
            config_apply(names[i]);
        }
    }
    reply_ok(c);
out:
    for (int i = 0; i < pairs; i++) {
        em_free(names[i]);
        em_free(values[i]);
    }
    em_free(names);
    em_free(values);
}

static void reset_command_stats(struct command *cmd, void *arg)
{
    (void)arg;
    cmd->calls = cmd->duration_ns = cmd->rejected_calls = cmd->failed_calls = 0;
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        reset_command_stats(s, NULL);
    }
}

static void config_resetstat_cmd(struct client *c)
{
    server_reset_stats();
    command_foreach(reset_command_stats, NULL);
    reply_ok(c);
}

static void config_rewrite_cmd(struct client *c)
{
    if (server.config_file == NULL) {
        reply_error(c, "ERR The server is running without a config file");
        return;
    }
    char err[256];
    int nusers;
    char **users = acl_config_lines(&nusers);
    int rc = config_rewrite(&server.cfg, server.config_file, (const char *const *)users, nusers,
                            err, sizeof(err));
    acl_config_lines_free(users, nusers);
    if (rc < 0) {
        log_warn("CONFIG REWRITE failed: %s", err);
        reply_error_fmt(c, "ERR Rewriting config file: %s", err);
        return;
    }
    log_notice("CONFIG REWRITE executed with success.");
    reply_ok(c);
}

static void config_help(struct client *c)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(c, lines);
}

/* ---- Server ---- */

static void cmd_time(struct client *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    reply_array_len(c, 2);
    reply_bulk_ll(c, (long long)ts.tv_sec);
    reply_bulk_ll(c, (long long)ts.tv_nsec / 1000);
}

static void cmd_lastsave(struct client *c)
{
    struct persist_status st;
    persist_status(&st);
    reply_int(c, st.last_save_time);
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] */
static void cmd_shutdown(struct client *c)
{
    for (int j = 1; j < c->argc; j++) {
        if (!arg_is(c, j, "nosave") && !arg_is(c, j, "save") && !arg_is(c, j, "now") &&
            !arg_is(c, j, "force") && !arg_is(c, j, "abort")) {
            reply_syntax_error(c);
            return;
        }
        if (arg_is(c, j, "abort")) {
            reply_error(c, "ERR No shutdown in progress.");
            return;
        }
    }
    bool nosave = false, save = false;
    for (int j = 1; j < c->argc; j++) {
        nosave = nosave || arg_is(c, j, "nosave");
        save = save || arg_is(c, j, "save");
    }
    if (server.script_busy && !nosave) {
        reply_error(c, server.busy_message != NULL
                           ? server.busy_message
                           : "BUSY Redis is busy running a script. You can only call SCRIPT "
                             "KILL or SHUTDOWN NOSAVE.");
        return;
    }
    server.shutdown_save = nosave ? -1 : save ? 1 : 0;
    server_request_shutdown(0);
    client_close_asap(c);
}

/* A loopback peer, for "enable-debug-command local". */
static bool client_is_local(const struct client *c)
{
    return strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0;
}

static bool debug_allowed_or_reply(struct client *c)
{
    if (server.cfg.debug_command == CONFIG_ALLOW_YES) return true;
    if (server.cfg.debug_command == CONFIG_ALLOW_LOCAL && client_is_local(c)) {
        return true;
    }
    reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set to "
                   "\"local\", you can run it from a local connection, otherwise you need to set "
                   "this option in the configuration file, and then restart the server.");
    return false;
}

/* A digest as Redis shows it: 40 hex digits in a status reply. */
static void reply_digest(struct client *c, const uint8_t d[DIGEST_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char out[2 * DIGEST_LEN + 1];
    for (int i = 0; i < DIGEST_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * DIGEST_LEN] = '\0';
    reply_status(c, out);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dump, empty the
 * keyspace, load the dump again (Redis's test suite checks that a dataset
 * survives the round trip this way). */
static void debug_reload(struct client *c)
{
    bool merge = false, flush = true, save = true;
    for (int j = 2; j < c->argc; j++) {
        if (arg_is(c, j, "merge")) {
            merge = true;
        } else if (arg_is(c, j, "noflush")) {
            flush = false;
        } else if (arg_is(c, j, "nosave")) {
            save = false;
        } else {
            reply_error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    (void)merge; /* loading over existing keys replaces them either way */
    if (save && persist_save_sync() != 0) {
        reply_error(c, "ERR Error trying to save the DB");
        return;
    }
    if (flush) {
        for (int i = 0; i < server.ks.count; i++)
            db_flush(&server.ks.dbs[i]);
    }
    char err[256] = "";
    long long expired = 0;
    if (rdb_load_file_counted(&server.ks, server.cfg.dbfilename, clock_ms(), &expired, err,
                              sizeof(err)) < 0) {
        log_warn("Error loading the RDB dump for DEBUG RELOAD: %s", err);
        reply_error(c, "ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log_notice("DB reloaded by DEBUG RELOAD");
    reply_ok(c);
}

/* DEBUG PROTOCOL <type>: one reply of each RESP3 type, downgraded in RESP2
 * as every reply is (client libraries test their parsers with it). */
static void debug_protocol(struct client *c)
{
    if (arg_is(c, 2, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(c, 2, "integer")) {
        reply_int(c, 12345);
    } else if (arg_is(c, 2, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(c, 2, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        if (c->resp >= 3) {
            reply_raw(c, "(", 1);
            reply_raw(c, big, sizeof(big) - 1);
            reply_raw(c, "\r\n", 2);
        } else {
            reply_bulk(c, big, sizeof(big) - 1);
        }
    } else if (arg_is(c, 2, "null")) {
        reply_null(c);
    } else if (arg_is(c, 2, "array") || arg_is(c, 2, "set")) {
        if (arg_is(c, 2, "set")) {
            reply_set_len(c, 3);
        } else {
            reply_array_len(c, 3);
        }
        for (int j = 0; j < 3; j++)
            reply_int(c, j);
    } else if (arg_is(c, 2, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(c, 2, "attrib")) {
        if (c->resp >= 3) {
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_int(c, 90);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(c, 2, "push")) {
        if (c->resp < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        reply_raw(c, ">2\r\n", 4);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_int(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(c, 2, "true")) {
        reply_bool(c, true);
    } else if (arg_is(c, 2, "false")) {
        reply_bool(c, false);
    } else if (arg_is(c, 2, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false");
    }
}

/* DEBUG SLEEP seconds | OBJECT key | JMAP | HELP (the subset tests use). */
static void cmd_debug(struct client *c)
{
    if (!debug_allowed_or_reply(c)) return;
    if (arg_is(c, 1, "sleep") && c->argc == 3) {
        double secs;
        if (!arg_double_or_reply(c, 2, &secs)) return;
        struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_is(c, 1, "object") && c->argc == 3) {
        struct dict_node *o = db_peek(c->db, c->argv[2]);
        if (o == NULL) {
            reply_error(c, "ERR no such key");
            return;
        }
        char buf[256];
        snprintf(buf, sizeof(buf),
                 "Value at:%p refcount:1 encoding:%s serializedlength:0 lru:%u lru_seconds_idle:%u",
                 (void *)o, obj_enc_name(obj_enc(o)), obj_lru(o),
                 (server.ks.lru_clock - obj_lru(o)) & OBJ_LRU_MAX);
        reply_status(c, buf);
    } else if (arg_is(c, 1, "set-active-expire") && c->argc == 3) {
        long long on;
        if (!arg_ll_or_reply(c, 2, &on)) return;
        server.active_expire_off = on == 0;
        reply_ok(c);
    } else if (arg_is(c, 1, "digest") && c->argc == 2) {
        uint8_t d[DIGEST_LEN];
        digest_dataset(&server.ks, d);
        reply_digest(c, d);
    } else if (arg_is(c, 1, "digest-value")) {
        reply_array_len(c, c->argc - 2);
        for (int j = 2; j < c->argc; j++) {
            uint8_t d[DIGEST_LEN] = {0};
            struct dict_node *o = db_peek(c->db, c->argv[j]);
            if (o != NULL) digest_value(o, d);
            reply_digest(c, d);
        }
    } else if (arg_is(c, 1, "reload")) {
        debug_reload(c);
    } else if (arg_is(c, 1, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if ((arg_is(c, 1, "change-repl-id") && c->argc == 2) ||
               (arg_is(c, 1, "quicklist-packed-threshold") && c->argc == 3)) {
        reply_ok(c); /* no replication; ember's lists pack by their own rule */
    } else {
        reply_error_fmt(c, "ERR unknown subcommand '%.*s'. Try DEBUG HELP.", (int)c->argv[1].len,
                        c->argv[1].ptr);
    }
}

/* MEMORY USAGE key [SAMPLES n] */
static void memory_usage(struct client *c)
{
    if (c->argc == 5 && !arg_is(c, 3, "samples")) {
        reply_syntax_error(c);
        return;
    }
    if (c->argc != 3 && c->argc != 5) {
        reply_syntax_error(c);
        return;
    }
    struct dict_node *o = db_peek(c->db, c->argv[2]);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    /* The entry plus its share of the bucket array. */
    reply_int(c, (long long)obj_memory(o) + (long long)sizeof(void *));
}

static void memory_doctor(struct client *c)
{
    /* Redis's doctor declines below 5 MB, and otherwise looks for trouble
     * (peak far above use, fragmentation, big buffers) ember does not
     * diagnose yet: it gives the all-clear then. */
    static const char empty[] =
        "Hi Sam, this instance is empty or is using very little memory, my issues detector "
        "can't be used in these conditions. Please, leave for your mission on Earth and fill "
        "it with some data. The new Sam and I will be back to our programming as soon as I "
        "finished rebooting.\n";
    static const char fine[] = "Hi Sam, I can't find any memory issue in your instance. "
                               "I can only account for what occurs on this base.\n";
    if (evict_used_memory() < 5 * 1024 * 1024) {
        reply_verbatim(c, empty, sizeof(empty) - 1, "txt");
    } else {
        reply_verbatim(c, fine, sizeof(fine) - 1, "txt");
    }
}

static void memory_stats(struct client *c)
{
    struct mem_stats ms;
    mem_stats_read(&ms);
    reply_map_len(c, 5);
    reply_bulk_cstr(c, "peak.allocated");
    reply_int(c, (long long)server.peak_memory);
    reply_bulk_cstr(c, "total.allocated");
    reply_int(c, (long long)ms.allocated);
    reply_bulk_cstr(c, "keys.count");
    long long keys = 0;
    for (int i = 0; i < server.ks.count; i++)
        keys += (long long)db_size(&server.ks.dbs[i]);
    reply_int(c, keys);
    reply_bulk_cstr(c, "keys.bytes-per-key");
    reply_int(c, keys ? (long long)ms.allocated / keys : 0);
    reply_bulk_cstr(c, "allocator.allocated");
    reply_int(c, (long long)ms.allocated);
}

static void memory_malloc_stats(struct client *c)
{
    reply_verbatim(c, "Stats not supported for the current allocator", 46, "txt");
}

static void memory_purge(struct client *c)
{
    reply_ok(c);
}

static void memory_help(struct client *c)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(c, lines);
}

/* clang-format off */
static struct command client_subcommands[] = {
    {.name = "id", .proc = client_id, .arity = 2, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
     .group = "connection", .summary = "Returns the client ID for the current connection",
     .since = "5.0.0", .complexity = "O(1)"},
    {.name = "setname", .proc = client_setname, .arity = 3,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Set the current connection name", .since = "2.6.9", .complexity = "O(1)"},
    {.name = "getname", .proc = client_getname, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Get the current connection name", .since = "2.6.9", .complexity = "O(1)"},
    {.name = "setinfo", .proc = client_setinfo, .arity = 4,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Set client or connection specific info", .since = "7.2.0",
     .complexity = "O(1)"},
    {.name = "list", .proc = client_list, .arity = -2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Get the list of client connections", .since = "2.4.0", .complexity = "O(N)"},
    {.name = "info", .proc = client_info, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Returns information about the current client connection.", .since = "6.2.0",
     .complexity = "O(1)"},
    {.name = "kill", .proc = client_kill, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Kill the connection of a client", .since = "2.4.0", .complexity = "O(N)"},
    {.name = "reply", .proc = client_reply, .arity = 3,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Instruct the server whether to reply to commands", .since = "3.2.0",
     .complexity = "O(1)"},
    {.name = "no-evict", .proc = client_no_evict, .arity = 3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Set client eviction mode for the current connection", .since = "7.0.0",
     .complexity = "O(1)"},
    {.name = "pause", .proc = client_pause, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Stop processing commands from clients for some time", .since = "3.0.0",
     .complexity = "O(1)"},
    {.name = "unpause", .proc = client_unpause, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Resume processing of clients that were paused", .since = "6.2.0",
     .complexity = "O(N) Where N is the number of paused clients"},
    {.name = "unblock", .proc = client_unblock, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Unblock a client blocked in a blocking command from a different connection",
     .since = "5.0.0", .complexity = "O(log N) where N is the number of client connections"},
    {.name = "tracking", .proc = tracking_client_tracking, .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Enable or disable server assisted client side caching support", .since = "6.0.0",
     .complexity = "O(1). Some options may introduce additional complexity."},
    {.name = "caching", .proc = tracking_client_caching, .arity = 3,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Instruct the server about tracking or not keys in the next request",
     .since = "6.0.0", .complexity = "O(1)"},
    {.name = "getredir", .proc = tracking_client_getredir, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Get tracking notifications redirection client ID if any", .since = "6.0.0",
     .complexity = "O(1)"},
    {.name = "trackinginfo", .proc = tracking_client_trackinginfo, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "connection",
     .summary = "Return information about server assisted client side caching for the current "
                "connection",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "help", .proc = client_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "connection", .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

static struct command command_subcommands[] = {
    {.name = "count", .proc = command_count_cmd, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get total number of Redis commands", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "info", .proc = command_info, .arity = -2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get array of specific Redis command details, or all when "
                                   "no argument is given.",
     .since = "2.8.13", .complexity = "O(N) where N is the number of commands to look up"},
    {.name = "docs", .proc = command_docs, .arity = -2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get array of specific Redis command documentation",
     .since = "7.0.0", .complexity = "O(N) where N is the number of commands to look up"},
    {.name = "list", .proc = command_list, .arity = -2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get an array of Redis command names", .since = "7.0.0",
     .complexity = "O(N) where N is the total number of Redis commands"},
    {.name = "getkeys", .proc = command_getkeys, .arity = -4, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Extract keys given a full Redis command", .since = "2.8.13",
     .complexity = "O(N) where N is the number of arguments to the command"},
    {.name = "getkeysandflags", .proc = command_getkeysandflags, .arity = -4,
     .flags = CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Extract keys and access flags given a full Redis command", .since = "7.0.0",
     .complexity = "O(N) where N is the number of arguments to the command"},
    {.name = "help", .proc = command_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

static struct command config_subcommands[] = {
    {.name = "get", .proc = config_get_cmd, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Get the values of configuration parameters", .since = "2.0.0",
     .complexity = "O(N) when N is the number of configuration parameters provided"},
    {.name = "set", .proc = config_set_cmd, .arity = -4,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Set configuration parameters to the given values", .since = "2.0.0",
     .complexity = "O(N) when N is the number of configuration parameters provided"},
    {.name = "resetstat", .proc = config_resetstat_cmd, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Reset the stats returned by INFO", .since = "2.0.0", .complexity = "O(1)"},
    {.name = "rewrite", .proc = config_rewrite_cmd, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Rewrite the configuration file with the in memory configuration",
     .since = "2.8.0", .complexity = "O(1)"},
    {.name = "help", .proc = config_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Show helpful text about the different subcommands",
     .since = "5.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

static struct command memory_subcommands[] = {
    {.name = "usage", .proc = memory_usage, .arity = -3, .flags = CMD_READONLY,
     .first_key = 2, .last_key = 2, .key_step = 1, .group = "server",
     .summary = "Estimate the memory usage of a key", .since = "4.0.0",
     .complexity = "O(N) where N is the number of samples."},
    {.name = "doctor", .proc = memory_doctor, .arity = 2, .flags = 0, .group = "server",
     .summary = "Outputs memory problems report", .since = "4.0.0", .complexity = "O(1)"},
    {.name = "stats", .proc = memory_stats, .arity = 2, .flags = 0, .group = "server",
     .summary = "Show memory usage details", .since = "4.0.0", .complexity = "O(1)"},
    {.name = "malloc-stats", .proc = memory_malloc_stats, .arity = 2, .flags = 0,
     .group = "server", .summary = "Show allocator internal stats", .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "purge", .proc = memory_purge, .arity = 2, .flags = 0, .group = "server",
     .summary = "Ask the allocator to release memory", .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "help", .proc = memory_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Show helpful text about the different subcommands",
     .since = "4.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

struct command server_commands[] = {
    {.name = "ping", .proc = cmd_ping, .arity = -1, .flags = CMD_FAST,
     .group = "connection", .summary = "Ping the server", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "echo", .proc = cmd_echo, .arity = 2, .flags = CMD_FAST | CMD_LOADING | CMD_STALE,
     .group = "connection", .summary = "Echo the given string", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "quit", .proc = cmd_quit, .arity = -1,
     .flags = CMD_NOSCRIPT | CMD_FAST | CMD_STALE | CMD_NO_AUTH | CMD_ALLOW_BUSY | CMD_LOADING,
     .group = "connection", .summary = "Close the connection", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "select", .proc = cmd_select, .arity = 2, .flags = CMD_FAST | CMD_STALE | CMD_LOADING,
     .group = "connection", .summary = "Change the selected database for the current connection",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "hello", .proc = cmd_hello, .arity = -1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
     .group = "connection", .summary = "Handshake with Redis", .since = "6.0.0",
     .complexity = "O(1)"},
    {.name = "reset", .proc = cmd_reset, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_ALLOW_BUSY,
     .group = "connection", .summary = "Reset the connection", .since = "6.2.0",
     .complexity = "O(1)"},
    {.name = "client", .proc = NULL, .arity = -2, .flags = 0, .group = "connection",
     .summary = "A container for client connection commands", .since = "2.4.0",
     .complexity = "Depends on subcommand.", .subcommands = client_subcommands},
    {.name = "command", .proc = cmd_command, .arity = -1, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get array of Redis command details", .since = "2.8.13",
     .complexity = "O(N) where N is the total number of Redis commands",
     .subcommands = command_subcommands},
    {.name = "config", .proc = NULL, .arity = -2, .flags = 0, .group = "server",
     .summary = "A container for server configuration commands", .since = "2.0.0",
     .complexity = "Depends on subcommand.", .subcommands = config_subcommands},
    {.name = "info", .proc = cmd_info, .arity = -1, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get information and statistics about the server",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "time", .proc = cmd_time, .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST,
     .group = "server", .summary = "Return the current server time", .since = "2.6.0",
     .complexity = "O(1)"},
    {.name = "lastsave", .proc = cmd_lastsave, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "server",
     .summary = "Get the UNIX time stamp of the last successful save to disk", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "shutdown", .proc = cmd_shutdown, .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI |
              CMD_ALLOW_BUSY,
     .group = "server", .summary = "Synchronously save the dataset to disk and then shut down "
                                   "the server",
     .since = "1.0.0", .complexity = "O(N) when saving, where N is the total number of keys in "
                                     "all databases when saving data, otherwise O(1)"},
    {.name = "debug", .proc = cmd_debug, .arity = -2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "A container for debugging commands", .since = "1.0.0",
     .complexity = "Depends on subcommand."},
    {.name = "memory", .proc = NULL, .arity = -2, .flags = 0, .group = "server",
     .summary = "A container for memory diagnostics commands", .since = "4.0.0",
     .complexity = "Depends on subcommand.", .subcommands = memory_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
