/* acl.h: users, passwords and permissions (Redis 7.0's ACL, the common part).
 *
 * Every connection acts as a user. It starts as "default", a user like the
 * others (ACL SETUSER default ... changes its passwords, on/off state and
 * permissions) whose password requirepass sets, as in Redis: CONFIG SET
 * requirepass replaces its passwords (or makes it nopass when empty). Other
 * users are made with ACL SETUSER name on >password ~keys* &channels
 * +@category -command and picked with AUTH name password (or HELLO ... AUTH
 * name password). Before a command runs, dispatch asks acl_check_or_reply()
 * whether the client's user may run it on those keys and channels, and
 * skips the question while acl_enforced is false. Denials go to ACL LOG.
 *
 * Key permissions (~ and %R~ / %W~) are judged per key with Redis 7.0.15's
 * key specs (command_meta.h): R to read a key's value, W to insert, delete
 * or update. Where the specs cannot say (SORT's incomplete spec, arguments
 * that do not fit), a write command needs W on every key, a read-only one R.
 *
 * aclfile: loaded at start-up (a bad file stops the start), ACL LOAD
 * replaces every user with the file's (all or nothing, clients of replaced
 * users closed), ACL SAVE writes ACL LIST's lines through a renamed
 * temporary file.
 *
 * `user` lines of the config file are applied at start-up (a bad rule stops
 * it) and written back by CONFIG REWRITE.
 *
 * Selectors (Redis 7.0): besides its root permissions, a user may have
 * others in parentheses, ACL SETUSER alice on nopass ~a:* +get
 * "(~b:* +set)"; a command is allowed if the root or any one selector
 * allows all of it (command, keys and channels). clearselectors drops them.
 * Rules split at spaces (aclfile, redis.conf, separate SETUSER arguments)
 * are joined back from "(" to ")". */
#ifndef EMBER_ACL_H
#define EMBER_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "ember/command.h"
#include "ember/util.h"

struct client;

/* Creates the default user (+@all ~* &*). Call once at start-up, after
 * command_setup(); acl_teardown() frees every user and the log at shutdown. */
void acl_setup(void);
void acl_teardown(void);

/* False while every user may run every command on every key and channel
 * (the usual case: the default user alone, untouched), so dispatch skips
 * acl_check_or_reply() with one flag test. */
extern bool acl_enforced;

/* True if the default user is on and "nopass": connections need no AUTH
 * (requirepass empty). Reads requirepass first: CONFIG SET requirepass
 * replaces the default user's passwords, as in Redis. */
bool acl_default_open(void);

/* AUTH / HELLO AUTH: true if `user` exists, is on, and `pass` is one of its
 * passwords (or it is nopass); the client then acts as that user. A failure
 * is written to the ACL log (reason "auth"). Does not touch the client's
 * authenticated flag (auth.c does). Constant time in the password. */
bool acl_authenticate(struct client *c, struct slice user, struct slice pass);
/* The client acts as "default" again (RESET, a new connection). */
void acl_client_reset(struct client *c);
/* Name of the user the client acts as ("default" unless it authenticated
 * as another): for ACL WHOAMI and CLIENT LIST's user= field. */
const char *acl_client_user(const struct client *c);

/* Dispatch hook: true if the client's user may run `cmd` (the resolved
 * subcommand, if any) with the client's arguments. Otherwise logs the
 * denial (context "multi" inside MULTI), replies Redis's NOPERM error for
 * the command, a key or a channel, and returns false. */
bool acl_check_or_reply(struct client *c, const struct command *cmd);

/* EXEC, before each queued command: Redis 7.0 checks it again, as the
 * user's permissions may have changed since it was queued (ACL SETUSER from
 * another connection). True if still allowed; otherwise logs the denial
 * (context "multi") and replies, in the command's place in EXEC's array,
 * Redis's "NOPERM ACLs rules changed between ..." error. */
bool acl_exec_check_or_reply(struct client *c, const struct command *cmd);

/* redis.call/pcall: NULL if the user of `caller` (the client running the
 * script) may run `cmd` with argv[0..argc); else logs the denial (context
 * "lua") and returns Redis's script error text (static). */
const char *acl_script_check(struct client *caller, const struct command *cmd,
                             const struct slice *argv, int argc);
/* Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess: whether a selector of
 * c's user (the script caller's inside a script) that allows c's command
 * also allows every key (SORT's BY and GET patterns read keys no argument
 * names). */
bool acl_full_key_access(const struct client *c, const struct command *cmd);
/* redis.acl_check_cmd: the same test, without logging. */
bool acl_allowed(const struct client *caller, const struct command *cmd, const struct slice *argv,
                 int argc);

/* CONFIG REWRITE: the `user` lines the config file should hold (each the
 * text after "user "), one per user as ACL LIST shows it, or none when an
 * aclfile keeps the users. Free with acl_config_lines_free(). */
char **acl_config_lines(int *count);
void acl_config_lines_free(char **lines, int count);

/* ACL and its subcommands, for the command table. */
extern struct command acl_commands[];

/* ACL categories of a command as Redis 7.0 assigns them ("@read", ...), for
 * COMMAND INFO; `fullname` is "get" or "config|get". Fills up to `max`
 * names in Redis's category order and returns how many (0 if unknown). */
int acl_command_categories(const char *fullname, const char **out, int max);

#endif
