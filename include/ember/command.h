/* command.h: the command table, lookup, dispatch and argument helpers.
 *
 * One static table lists every command with Redis's metadata (arity counting
 * the name, flags, key positions, group, summary, since). Dispatch looks the
 * name up case-insensitively, checks arity and the client's state, runs the
 * handler and then passes every write through command_after_write(), the one
 * place a future log or replica stream will hook. COMMAND COUNT/INFO/DOCS/
 * LIST are generated from the same table. */
#ifndef EMBER_COMMAND_H
#define EMBER_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct command_meta;

enum command_flag {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,
    CMD_ADMIN = 1 << 3,
    CMD_PUBSUB = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_BLOCKING = 1 << 6,
    CMD_LOADING = 1 << 7,
    CMD_STALE = 1 << 8,
    CMD_SKIP_MONITOR = 1 << 9,
    CMD_FAST = 1 << 10,
    CMD_NO_AUTH = 1 << 11,
    CMD_MAY_REPLICATE = 1 << 12,
    CMD_NO_MULTI = 1 << 13,
    CMD_ALLOW_BUSY = 1 << 14,
    CMD_SENTINEL = 1 << 15,
    CMD_SKIP_SLOWLOG = 1 << 16,
    CMD_NO_MANDATORY_KEYS = 1 << 17, /* keys are optional (EVAL with 0 keys) */
    CMD_NO_ASYNC_LOADING = 1 << 18,
};

typedef void command_proc(struct client *c);
struct meta_key;
/* Finds the keys of argv[0..argc) where key specs cannot (Redis's
 * getkeys_proc, e.g. SORT's STORE destination); as command_get_keys(). */
typedef int command_getkeys_proc(int argc, const struct slice *argv, struct meta_key *out, int max);

struct command {
    const char *name; /* lower case, as Redis reports it */
    command_proc *proc;
    int arity; /* counts the name; negative: at least -arity */
    uint32_t flags;
    int first_key, last_key, key_step;
    command_getkeys_proc *getkeys; /* NULL: the key specs say it all */
    const char *group;             /* "string", "generic", "connection", ... */
    const char *summary;           /* one line, for COMMAND DOCS */
    const char *since;
    const char *complexity;
    /* Subcommands ("config" -> get/set/...), NULL-name terminated, or NULL. */
    struct command *subcommands;
    const char *parent; /* "config" for "get", NULL at top level */
    /* Key specs, tips and docs (command_meta.h), set by command_setup();
     * NULL for a command redis-server 7.0 lacks. */
    const struct command_meta *meta;
    /* Statistics for INFO commandstats. */
    long long calls;
    long long duration_ns; /* INFO shows microseconds */
    long long rejected_calls;
    long long failed_calls;
    uint64_t *latency_hist; /* diag.c's latency buckets, allocated on first use */
};

/* Each t_*.c file exports its commands as an array ending with
 * COMMAND_TABLE_END; command.c joins them (see command_setup). Keeping a
 * family's table beside its handlers means adding a command touches one
 * file. */
#define COMMAND_TABLE_END                                                                          \
    {                                                                                              \
        .name = NULL                                                                               \
    }
extern struct command string_commands[];
extern struct command keys_commands[];
extern struct command list_commands[];
extern struct command hash_commands[];
extern struct command set_commands[];
extern struct command zset_commands[];
extern struct command server_commands[];
extern struct command expire_commands[];
extern struct command multi_commands[];
extern struct command pubsub_commands[];
extern struct command auth_commands[];
extern struct command script_commands[];
extern struct command function_commands[];
extern struct command diag_commands[];
extern struct command cluster_commands[];
extern struct command persist_commands[];
extern struct command bitops_commands[];
extern struct command sort_commands[];

/* Builds the lookup index; call once at start-up. */
void command_setup(void);
/* Finds a top-level command by name (any case), or NULL. */
struct command *command_lookup(struct slice name);
/* The keys of argv[0..argc) (argv[0] the command's name), as Redis's
 * getKeysFromCommandWithSpecs finds them: by the key specs, or by the
 * command's getkeys function where the specs are incomplete. Writes at most
 * `max` to out; returns how many, or -1 when the arguments do not fit. */
int command_get_keys(const struct command *cmd, int argc, const struct slice *argv,
                     struct meta_key *out, int max);
/* Executes c->argv as a command (lookup, checks, handler, stats); inside
 * MULTI, queues it instead. */
void command_dispatch(struct client *c);
/* Runs an already resolved command on c->argv: the handler, statistics and
 * the after-write hook. EXEC uses it for queued commands. */
void command_call(struct client *c, struct command *cmd);
/* Calls fn for every top-level command, in table order. */
void command_foreach(void (*fn)(struct command *cmd, void *arg), void *arg);
/* Number of top-level commands. */
int command_count(void);

/* ---- Argument helpers: reply the error themselves and return false ---- */

/* argv[i] as a long long, else "ERR value is not an integer or out of range". */
bool arg_ll_or_reply(struct client *c, int i, long long *out);
/* argv[i] as a long long in [min, max], else `msg` (or the default error). */
bool arg_ll_range_or_reply(struct client *c, int i, long long min, long long max, long long *out,
                           const char *msg);
/* argv[i] as a double, else "ERR value is not a valid float". */
bool arg_double_or_reply(struct client *c, int i, double *out);
/* True if argv[i] equals `word`, ignoring case. */
bool arg_is(const struct client *c, int i, const char *word);

/* Lower-case "name" or "parent|name", as Redis 7 reports commands. */
const char *command_fullname(const struct command *cmd, char *buf, size_t len);

/* Replies Redis's arity error for the current command (or subcommand). */
void reply_arity_error(struct client *c);

#endif
