/* auth.c: requirepass, AUTH, protected mode (see auth.h). The users and
 * their passwords live in acl.c; requirepass is the default user's. */
#include "ember/auth.h"

#include "ember/acl.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <string.h>

const char auth_denied_message[] =
    "DENIED Redis is running in protected mode because protected mode is enabled and no password "
    "is set for the default user. In this mode connections are only accepted from the loopback "
    "interface. If you want to connect from external computers to Redis you may adopt one of the "
    "following solutions: 1) Just disable protected mode sending the command 'CONFIG SET "
    "protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.";

bool auth_required(void)
{
    return !acl_default_open();
}

void auth_client_init(struct client *c)
{
    bool ok = !auth_required();
    if (ok) {
        c->flags |= CLIENT_AUTHENTICATED;
    } else {
        c->flags &= ~(unsigned)CLIENT_AUTHENTICATED;
    }
    c->limits.authenticated = ok;
    acl_client_reset(c);
}

bool auth_check(struct client *c, const struct slice *user, struct slice pass)
{
    struct slice name = user != NULL ? *user : (struct slice){"default", 7};
    if (!acl_authenticate(c, name, pass)) return false;
    c->flags |= CLIENT_AUTHENTICATED;
    c->limits.authenticated = true;
    return true;
}

bool auth_protected_mode_denies(const struct client *c)
{
    if (!server.cfg.protected_mode || auth_required()) return false;
    return !(strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0);
}

/* AUTH [username] password */
static void cmd_auth(struct client *c)
{
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    if (c->argc == 2 && !auth_required()) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
        return;
    }
    struct slice *user = c->argc == 3 ? &c->argv[1] : NULL;
    if (!auth_check(c, user, c->argv[c->argc - 1])) {
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    reply_ok(c);
}

/* clang-format off */
struct command auth_commands[] = {
    {.name = "auth", .proc = cmd_auth, .arity = -2,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | CMD_SENTINEL |
              CMD_ALLOW_BUSY,
     .group = "connection", .summary = "Authenticate to the server", .since = "1.0.0",
     .complexity = "O(N) where N is the number of passwords defined for the user"},
    COMMAND_TABLE_END,
};
/* clang-format on */
