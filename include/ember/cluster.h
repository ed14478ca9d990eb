/* cluster.h: Redis Cluster protocol on one node (cluster-enabled yes).
 *
 * The node owns all 16384 hash slots, so no key is ever redirected; what
 * clients see is the cluster surface they need to connect (CLUSTER SLOTS,
 * SHARDS, NODES, INFO, MYID, KEYSLOT, ...) and the one rule a real cluster
 * enforces on every node: a command's keys must hash to one slot
 * (-CROSSSLOT). The design for several nodes is in src/cluster.c. */
#ifndef EMBER_CLUSTER_H
#define EMBER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#define CLUSTER_SLOTS     16384
#define CLUSTER_NO_KEYS   (-1) /* cluster_command_slot: the command has no keys */
#define CLUSTER_CROSSSLOT (-2) /* its keys map to different slots */

struct client;
struct command;
struct slice;

/* Redis's key hash slot: CRC16 (XMODEM) of the key, or of the text between
 * the first '{' and the next '}' when that is not empty, modulo 16384. */
unsigned cluster_keyslot(const char *key, size_t len);

/* The one slot all keys of the command line argv[0..argc) map to (keys found
 * by the command's key specs), CLUSTER_NO_KEYS, or CLUSTER_CROSSSLOT. */
int cluster_command_slot(const struct command *cmd, int argc, const struct slice *argv);

/* In cluster mode, replies -CROSSSLOT and returns false when cmd's keys in
 * c->argv map to more than one slot; for EXEC, when the queued commands
 * together do (the transaction is then discarded). */
bool cluster_check_keys_or_reply(struct client *c, const struct command *cmd);

/* The node's 40-hex-digit id, drawn at random once per process. */
const char *cluster_myid(void);

#endif
