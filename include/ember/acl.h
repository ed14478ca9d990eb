/* acl.h: users, passwords and permissions (Redis 7.0's ACL, the common part).
 *
 * Every connection acts as a user. It starts as "default", whose password is
 * requirepass (auth.c keeps that one: CONFIG SET requirepass changes it) and
 * whose permissions ACL SETUSER default may narrow. Other users are made with
 * ACL SETUSER name on >password ~keys* &channels +@category -command and
 * picked with AUTH name password (or HELLO ... AUTH name password). Before a
 * command runs, dispatch asks acl_check_or_reply() whether the client's user
 * may run it on those keys and channels.
 *
 * Not implemented: selectors "(...)", first-argument rules on commands
 * without subcommands ("+select|0"), ACL LOG, ACL DRYRUN, an ACL file. Key
 * permissions %R~ / %W~ are judged per command (a write command needs W on
 * all its keys, a read-only one R), not per key as Redis's key specs do. */
#ifndef EMBER_ACL_H
#define EMBER_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct command;

/* Creates the default user (+@all ~* &*). Call once at start-up, after
 * command_setup(); acl_teardown() frees every user at shutdown. */
void acl_setup(void);
void acl_teardown(void);

/* AUTH / HELLO AUTH with a user other than "default": true if the user
 * exists, is on, and `pass` is one of its passwords (or it is nopass); the
 * client then acts as that user. Does not touch the client's
 * authenticated flag (auth.c does). Constant time in the password. */
bool acl_authenticate(struct client *c, struct slice user, struct slice pass);
/* The client acts as "default" again (AUTH default ..., RESET, a new
 * connection). */
void acl_client_reset(struct client *c);
/* Name of the user the client acts as ("default" unless it authenticated
 * as another): for ACL WHOAMI and CLIENT LIST's user= field. */
const char *acl_client_user(const struct client *c);

/* Dispatch hook: true if the client's user may run `cmd` (the resolved
 * subcommand, if any) with the client's arguments. Otherwise replies Redis's
 * NOPERM error for the command, a key or a channel, and returns false. */
bool acl_check_or_reply(struct client *c, const struct command *cmd);

/* ACL categories of a command as Redis 7.0 assigns them ("@read", ...), for
 * COMMAND INFO; `fullname` is "get" or "config|get". Fills up to `max`
 * names in Redis's category order and returns how many (0 if unknown). */
int acl_command_categories(const char *fullname, const char **out, int max);

#endif
