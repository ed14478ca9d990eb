/* multi.h: transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH).
 *
 * Inside MULTI, dispatch hands each command to multi_queue() instead of
 * running it; a command refused while queueing (unknown, wrong arity, not
 * allowed in a transaction) marks the transaction to abort with EXECABORT.
 * WATCH registers keys; any change to a watched key (db_touch: writes,
 * deletes, expiry, FLUSHDB/FLUSHALL) marks the watcher so its EXEC returns
 * the null array, as in Redis 7.0. */
#ifndef EMBER_MULTI_H
#define EMBER_MULTI_H

#include <stdbool.h>

#include "ember/util.h"

struct client;
struct command;
struct db;

/* Per-client transaction state (owned by the client). */
struct multi_state {
    struct multi_cmd *cmds;
    int count;
    int cap;
    bool dirty_exec; /* a command was refused while queueing: EXECABORT */
    bool dirty_cas;  /* a watched key changed: EXEC returns nil */
    bool crossslot;  /* cluster mode: queued commands use different slots */
    int slot;        /* cluster mode: the slot of the queued keys, -1 none yet */
    struct watched_key *watched;
    int watched_count;
    int watched_cap;
};

void multi_setup(void);
void multi_teardown(void);

/* Queues c->argv for EXEC and replies +QUEUED. */
void multi_queue(struct client *c, struct command *cmd);
/* Marks the client's open transaction as failed (a queueing error). */
void multi_flag_error(struct client *c);
/* Cluster mode: true if the queued commands' keys map to different slots. */
bool multi_crossslot(struct client *c);
/* Ends the client's transaction without running it (EXEC refused). */
void multi_discard(struct client *c);

/* Keyspace hooks. */
void multi_touch_key(struct db *db, struct slice key);
/* Before a db is emptied: watchers of keys present in it are marked. */
void multi_touch_db(struct db *db);

/* Frees the client's queue and watches (connection closing, RESET). */
void multi_release(struct client *c);

#endif
