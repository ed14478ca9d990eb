/* aof.h: the write stream and the append-only file (Redis 7's multi-part
 * layout).
 *
 * Propagation: every command that changed the keyspace is recorded once, in
 * its deterministic form, by command.c's command_after_write(). A handler
 * whose arguments would not replay to the same result (relative TTLs,
 * random pops, float increments) says what to record instead with
 * propagate_rewrite(); without it the command's own arguments are recorded.
 * The effects of one top-level call (EXEC, a script, a command plus the keys
 * it found expired) are emitted together, wrapped in MULTI/EXEC when there
 * are several, with SELECT whenever the database changes. The stream ends in
 * one function (stream_feed() in aof.c), which replication can later share.
 *
 * The file: <dir>/<appenddirname>/ holds a manifest naming a base file (an
 * RDB image, written by a forked child on BGREWRITEAOF) and incremental
 * files of commands:
 *
 *   appendonlydir/appendonly.aof.manifest
 *       file appendonly.aof.1.base.rdb seq 1 type b
 *       file appendonly.aof.1.incr.aof seq 1 type i
 *
 * Writes are buffered during a loop turn and written (and with appendfsync
 * always, fsynced) by aof_flush_before_replies() before any reply of that
 * turn leaves: one write and one fsync per turn for all clients. */
#ifndef EMBER_AOF_H
#define EMBER_AOF_H

#include <stdbool.h>
#include <stddef.h>

#include "ember/command.h"
#include "ember/util.h"

struct client;
struct db;

/* ---- Propagation ---- */

/* command_call() brackets every handler with these two. `wrote` is whether
 * the keyspace changed (server.dirty moved). The end of the outermost call
 * emits what the call and its nested calls recorded. */
void propagate_call_begin(void);
void propagate_call_end(struct client *c, bool wrote);

/* Records argv (borrowed; copied at once) in c's current db instead of the
 * running command's own arguments. May be called several times: each call
 * adds one command. */
void propagate_rewrite(struct client *c, int argc, const struct slice *argv);
/* Records argv in addition to the command's own arguments (emitted first). */
void propagate_also(struct client *c, int argc, const struct slice *argv);
/* propagate_rewrite() of the usual deterministic forms: "SET key val PXAT
 * when" (SET/SETEX/... with a relative or seconds TTL), "PEXPIREAT key when"
 * followed by argv[first..argc) of c (EXPIRE's NX/XX/GT/LT), "DEL key". */
void propagate_set_pxat(struct client *c, struct slice key, struct slice val, long long when);
void propagate_pexpireat(struct client *c, struct slice key, long long when, int first);
void propagate_del(struct client *c, struct slice key);

/* Records "DEL key" in db: a key deleted because it expired or was evicted. */
void propagate_deleted(struct db *db, struct slice key);

/* ---- The append-only file ---- */

/* Start-up: loads the manifest if any; with appendonly yes loads the AOF
 * (instead of the RDB dump, as Redis does) and opens the incremental file,
 * else loads the RDB dump. Returns 0 or -1 (the reason is logged). */
int aof_setup(void);
/* Shutdown: stops a rewrite child, writes and fsyncs what is buffered. */
void aof_teardown(void);

/* Writes the turn's buffered commands (fsyncs with appendfsync always) and
 * runs the periodic work (everysec fsync, rewrite child, auto rewrite).
 * net.c calls it before it flushes replies. */
void aof_flush_before_replies(void);

/* After CONFIG SET: starts or stops the AOF as appendonly now says. Returns
 * 0 or -1 (rewrite could not start). */
int aof_apply_config(void);

/* True while a BGREWRITEAOF child runs (BGSAVE must not start). */
bool aof_rewrite_in_progress(void);

/* Appends INFO persistence's aof_* lines (Redis 7.0's order) to buf; returns
 * the length written (snprintf semantics). */
int aof_info(char *buf, size_t size);

/* The loader's RESP parser: one "*N\r\n$len\r\n...\r\n" command at p.
 * Returns its length with *argc set and (*argv)[0..argc) pointing into p
 * (*argv is em_realloc'd to *cap entries as needed; the caller frees it),
 * 0 if the data ends inside the command (a truncated tail), or -1 if the
 * bytes are not a command (bad format). */
long long aof_parse_command(const char *p, size_t len, struct slice **argv, int *cap, int *argc);

/* BGREWRITEAOF */
extern struct command aof_commands[];

#endif
