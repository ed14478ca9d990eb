/* tracking.h: server-assisted client-side caching (CLIENT TRACKING), as in
 * Redis 7.0.
 *
 * A tracking client is told when a key it may have cached changes:
 *  - Default mode: the keys of every read-only command the client runs are
 *    remembered in a table key -> client ids; a change of the key sends one
 *    `invalidate` message to each of those clients and forgets the entry
 *    (the client reads the key again to be told again).
 *  - OPTIN / OPTOUT: keys are remembered only after CLIENT CACHING yes
 *    (OPTIN), or unless CLIENT CACHING no came before the command (OPTOUT).
 *  - BCAST: nothing is remembered; every change of a key starting with one
 *    of the client's prefixes is reported, batched once per event-loop
 *    iteration per prefix.
 *  - NOLOOP: changes made by the client itself are not reported to it.
 * Messages are RESP3 push frames (`>2 invalidate [keys]`); a RESP2 client
 * asks for them to go to another connection (REDIRECT id) subscribed to
 * `__redis__:invalidate`, where they arrive as pub/sub messages. FLUSHDB and
 * FLUSHALL send a null invalidation to every tracking client.
 *
 * Cost when nobody tracks: command.c and the keyspace hooks test one global
 * counter before calling in here. */
#ifndef EMBER_TRACKING_H
#define EMBER_TRACKING_H

#include <stdbool.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct command;
struct db;

/* Set while any client has tracking on, or the key table or a broadcast
 * prefix still holds something: the only thing the hot paths read. */
extern long long tracking_live;

/* Frees the key table and the prefixes (shutdown). */
void tracking_teardown(void);

/* command.c, around every executed command (nested ones included: EXEC's
 * queued commands, a script's calls). The outermost end remembers nothing
 * itself but sends the invalidations a command caused to its own client,
 * after its reply, as Redis does. */
void tracking_command_begin(struct client *c);
void tracking_command_end(struct client *c, const struct command *cmd);

/* Keyspace hooks: a key changed (write, delete, expiry, eviction); a db is
 * about to be emptied. FLUSHDB and FLUSHALL send one null invalidation per
 * command to every tracking client and forget the whole key table; SWAPDB
 * (which empties nothing) sends nothing, as in Redis. */
void tracking_touch_key(struct db *db, struct slice key);
void tracking_flush_db(struct db *db);

/* Once per loop iteration: sends the batched BCAST invalidations. */
void tracking_before_sleep(void);

/* Turns tracking off and frees the client's state (RESET, disconnect). */
void tracking_release(struct client *c);

/* CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO handlers. */
void tracking_client_tracking(struct client *c);
void tracking_client_caching(struct client *c);
void tracking_client_getredir(struct client *c);
void tracking_client_trackinginfo(struct client *c);

/* INFO fields. */
struct tracking_info {
    long long clients;  /* tracking_clients */
    long long keys;     /* tracking_total_keys */
    long long items;    /* tracking_total_items */
    long long prefixes; /* tracking_total_prefixes */
};
void tracking_get_info(struct tracking_info *out);

/* CLIENT LIST flags ('t', 'R', 'B') and the redir= field. */
const char *tracking_client_flags(const struct client *c);
long long tracking_client_redirect(const struct client *c);

#endif
