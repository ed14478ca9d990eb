/* blocking.h: clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
 *
 * A blocking command that finds nothing to pop calls blocking_block(): the
 * client keeps a copy of its command and waits on its keys. When a list or
 * sorted set is created at one of those keys (db_insert reports it as
 * "ready"), the server re-executes the waiting clients' commands in the
 * order they blocked: the first one pops, the others find the key empty
 * again and stay blocked in their place. A deadline replies the command's
 * null reply. Re-execution (as Redis 7.2 does) keeps each command's logic in
 * one handler instead of a second "serve" path per command.
 *
 *   handler: parse timeout -> try keys -> found: pop and reply
 *                                      -> none: blocking_may_block(c)?
 *                                           yes: blocking_block(c, ...)
 *                                           no (MULTI): reply the null reply */
#ifndef EMBER_BLOCKING_H
#define EMBER_BLOCKING_H

#include <stdbool.h>

#include "ember/util.h"

struct client;
struct command;
struct db;

/* What a blocked command replies when its deadline passes. */
enum block_timeout_reply {
    BLOCK_REPLY_NULL_ARRAY, /* *-1 in RESP2: every blocking list and zset command, BLMOVE
                               and BRPOPLPUSH included (Redis 7.0 replies a null array on
                               timeout; only inside MULTI do the moves answer $-1) */
    BLOCK_REPLY_NULL,       /* $-1 in RESP2 */
};

struct client_block {
    struct slice *keys; /* owned copies */
    int nkeys;
    int db;
    long long deadline_ms; /* absolute; 0 = wait forever */
    enum block_timeout_reply on_timeout;
    /* The command to re-execute, copied out of the input buffer. */
    int argc;
    struct slice *argv;
};

/* Parses argv[i] as Redis's blocking timeout (seconds, a float), replying
 * "ERR timeout is not a float or out of range" / "ERR timeout is negative".
 * Sets *deadline_ms to an absolute deadline, or 0 for "forever". When the
 * command is being re-executed for a blocked client, returns the original
 * deadline. */
bool blocking_timeout_or_reply(struct client *c, int i, long long *deadline_ms);

/* False when the client may not block (inside MULTI or a script): the
 * handler then replies as if the timeout had passed. */
bool blocking_may_block(const struct client *c);

/* Blocks the client on `keys` (borrowed; copied) until one of them holds a
 * value of the right kind, or the deadline. Replies nothing now. */
void blocking_block(struct client *c, const struct slice *keys, int nkeys, long long deadline_ms,
                    enum block_timeout_reply on_timeout);

/* Unblocks a client without running its command: `error` NULL replies the
 * timeout reply, otherwise the error (CLIENT UNBLOCK ... ERROR). */
void blocking_unblock(struct client *c, const char *error);

/* Called by db_insert (through the keyspace hook) when a list or sorted
 * set appears at `key`. Cheap when nobody is blocked on it. */
void blocking_signal_key(struct db *db, struct slice key);

/* Serves clients blocked on keys signalled since the last call. Called
 * after each command and before the loop sleeps. */
void blocking_handle_ready(void);

/* Replies the timeout reply to clients whose deadline passed. */
void blocking_handle_timeouts(void);

/* Forgets a client that is going away (no reply). */
void blocking_forget(struct client *c);

/* ---- CLIENT PAUSE ---- */

/* Pauses clients until `end_ms`: all commands, or (all == false) only
 * commands that write or may replicate. A later pause extends, never
 * shortens, as in Redis. */
void blocking_pause(long long end_ms, bool all);
void blocking_unpause(void);
/* True if `cmd` from this client must wait for the pause to end. */
bool blocking_is_paused_for(const struct client *c, const struct command *cmd);
/* Postpones the client's command until the pause ends (it is re-executed
 * then, in arrival order). */
void blocking_postpone(struct client *c);

/* Number of blocked clients (INFO blocked_clients). */
int blocking_count(void);

void blocking_setup(void);
void blocking_teardown(void);

#endif
