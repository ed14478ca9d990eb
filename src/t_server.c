/* t_server.c: connection and server commands (PING, ECHO, SELECT, QUIT, ...). */
#include "ember/client.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/reply.h"
#include "ember/server.h"

/* PING [message] */
static void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_arity_error(c);
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
    if (!str_to_ll(c->argv[1].ptr, c->argv[1].len, &id)) {
        reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (id < 0 || id >= server.ks.count) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = &server.ks.dbs[id];
    reply_ok(c);
}

/* clang-format off */
struct command server_commands[] = {
    {.name = "ping", .proc = cmd_ping, .arity = -1, .flags = CMD_FAST | CMD_STALE,
     .group = "connection", .summary = "Ping the server", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "echo", .proc = cmd_echo, .arity = 2, .flags = CMD_FAST | CMD_STALE,
     .group = "connection", .summary = "Echo the given string", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "quit", .proc = cmd_quit, .arity = -1,
     .flags = CMD_FAST | CMD_STALE | CMD_NO_AUTH | CMD_ALLOW_BUSY | CMD_LOADING,
     .group = "connection", .summary = "Close the connection", .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "select", .proc = cmd_select, .arity = 2, .flags = CMD_FAST | CMD_STALE | CMD_LOADING,
     .group = "connection", .summary = "Change the selected database for the current connection",
     .since = "1.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
/* clang-format on */
