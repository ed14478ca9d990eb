/* cluster.c: cluster mode on one node (cluster-enabled yes).
 *
 * What works today. With `cluster-enabled yes` ember answers the Redis
 * Cluster protocol as a cluster of one master that owns slots 0-16383:
 * CLUSTER SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT, COUNTKEYSINSLOT,
 * GETKEYSINSLOT, READONLY and READWRITE, with Redis 7.0's reply shapes. The
 * node reports the address the client connected to (c->laddr), so a client
 * that bootstraps from CLUSTER SLOTS dials back the same address; the node id
 * is 40 random hex digits drawn once per process. Every command whose keys
 * hash to different slots is refused with -CROSSSLOT before it runs, as a
 * real cluster node does, so an application tested here keeps working when
 * the keys are spread later. SELECT of a db other than 0 is refused.
 *
 * The tests that show it (tests/integration/test_cluster.py): redis-py's
 * RedisCluster runs the walkthrough, a pipeline, SCAN and a Lock
 * (test_walkthrough_through_redis_cluster, test_pipeline,
 * test_scan_iteration, test_lock); ioredis's Cluster runs the walkthrough, a
 * pipeline, MULTI and a SCAN stream (test_ioredis_cluster_connects); replies
 * equal a redis-server 7.0 cluster node's for the CLUSTER subcommands, the
 * CROSSSLOT rules and transactions (test_shapes_same_as_redis,
 * test_rules_same_as_redis, test_multi_crossslot_same_as_redis,
 * test_keyslot_same_as_redis) and for the cluster-* directives
 * (test_cluster_directives_same_as_redis).
 *
 * Through twemproxy no code is needed: ember is a plain Redis to the proxy.
 * test_twemproxy.py runs the walkthrough through nutcracker, shows keys
 * spread over three instances and MSET/MGET/DEL split and merged, the
 * commands the proxy refuses (MULTI, SELECT, pub/sub, KEYS, SCAN, INFO, ...)
 * and what a dead instance does with auto_eject_hosts on (its keys miss on
 * the others: a cache) and off (errors for its keys only: a session store).
 *
 * Keys are found by the key specs of command_meta.c, as Redis's
 * getKeysFromCommand does, so commands whose keys follow a count (EVAL,
 * FCALL, ZUNIONSTORE, LMPOP, ...) and keyed subcommands are checked too. The
 * commands queued in one MULTI must share one slot as well: each is checked
 * when queued, multi.c folds their slots, and EXEC replies -CROSSSLOT and
 * discards the transaction when they differ, as Redis 7.0 does.
 *
 * The cluster-* directives Redis 7.0 accepts (cluster-config-file,
 * cluster-node-timeout, cluster-port, cluster-announce-ip/port/bus-port/
 * tls-port/hostname, cluster-require-full-coverage,
 * cluster-allow-reads-when-down, cluster-allow-pubsubshard-when-down,
 * cluster-replica-validity-factor, cluster-migration-barrier,
 * cluster-allow-replica-migration, cluster-replica-no-failover,
 * cluster-link-sendbuf-limit, cluster-preferred-endpoint-type) are accepted
 * in the config file and by CONFIG GET/SET with Redis's defaults (config.c)
 * and do nothing: with one node there is no bus to bind, no peer to time
 * out, no file of peers to keep and no slot that can go uncovered.
 *
 * Not yet: CLUSTER HELP and the admin subcommands (ADDSLOTS, MEET, SETSLOT,
 * ...); the cluster bus.
 *
 * Design for the next steps.
 *
 * 1. Static multi-node slot maps. A config directive lists the nodes and
 *    their slot ranges (`cluster-node <id> <ip:port> <ranges>`), identical on
 *    every node, loaded at start-up; no gossip bus. Each node then answers
 *    SLOTS/SHARDS/NODES from the map (other nodes without "myself", the
 *    configured addresses instead of laddr) and, before a keyed command runs,
 *    compares the slot's owner with itself: foreign slot -> `-MOVED <slot>
 *    <ip>:<port>` (clients refresh their map). Resharding needs migration
 *    state per slot: `CLUSTER SETSLOT <slot> MIGRATING|IMPORTING|NODE <id>`,
 *    `CLUSTER GETKEYSINSLOT` + `MIGRATE host port "" 0 timeout KEYS ...` (DUMP
 *    /RESTORE payloads, so the RDB value format first), `-ASK <slot> <ip>:<port>`
 *    for keys already moved from a MIGRATING slot, and ASKING (a one-command
 *    flag) accepted by the IMPORTING node; -TRYAGAIN for multi-key commands
 *    whose keys are split mid-migration. Per-slot key counts (an array of
 *    16384 counters kept by db.c's hooks, plus a per-slot key index so
 *    GETKEYSINSLOT does not scan) replace today's full-keyspace walks.
 *    CLUSTER INFO's cluster_known_nodes/size and `cluster_state` follow the
 *    map; -CLUSTERDOWN when a slot has no owner.
 *
 * 2. Replication that redis-server and Sentinel accept. A replica side:
 *    REPLICAOF host port, then the PSYNC handshake (PING, AUTH, REPLCONF
 *    listening-port / capa eof psync2, PSYNC <replid> <offset>), loading the
 *    full-sync RDB stream and applying the command stream that follows; a
 *    master side: REPLCONF, PSYNC answering +FULLRESYNC <replid> <offset> with
 *    an RDB snapshot (RDB version 10 writer) and then feeding every write from
 *    command.c's command_after_write() hook into a replication backlog
 *    (PSYNC +CONTINUE within it), REPLCONF ACK/GETACK, WAIT. INFO replication
 *    must carry role, connected_slaves, slaveN:ip=,port=,state=,offset=,lag=,
 *    master_replid, master_repl_offset, master_link_status: Sentinel parses
 *    these. Sentinel also needs ROLE, REPLICAOF NO ONE for failover, CLIENT
 *    KILL TYPE normal, CONFIG REWRITE, pub/sub on __sentinel__:hello, and
 *    SCRIPT KILL. With replicas, CLUSTER SLOTS/SHARDS list them after the
 *    master, READONLY lets a client read from them, and -MOVED points writes
 *    at the master. */
#include "ember/cluster.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ember/client.h"
#include "ember/command.h"
#include "ember/command_meta.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/util.h"

/* ---- Hash slots ---- */

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis's
 * crc16.c; the table is built on first use. */
static uint16_t crc16(const char *buf, size_t len)
{
    static uint16_t table[256];
    static bool built;
    if (!built) {
        for (unsigned i = 0; i < 256; i++) {
            uint16_t crc = (uint16_t)(i << 8);
            for (int b = 0; b < 8; b++) {
                crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
            }
            table[i] = crc;
        }
        built = true;
    }
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc = (uint16_t)((crc << 8) ^ table[((crc >> 8) ^ (uint8_t)buf[i]) & 0xff]);
    }
    return crc;
}

unsigned cluster_keyslot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open != NULL) {
        size_t start = (size_t)(open - key) + 1;
        const char *close = memchr(key + start, '}', len - start);
        if (close != NULL && close > key + start) {
            return crc16(key + start, (size_t)(close - (key + start))) & (CLUSTER_SLOTS - 1);
        }
    }
    return crc16(key, len) & (CLUSTER_SLOTS - 1);
}

/* Folds one key's slot into *slot (-1 before the first key); false when it
 * differs from the slot already seen. */
static bool fold_slot(struct slice key, int *slot)
{
    int s = (int)cluster_keyslot(key.ptr, key.len);
    if (*slot == -1) *slot = s;
    return s == *slot;
}

int cluster_command_slot(const struct command *cmd, int argc, const struct slice *argv)
{
    const struct command_meta *m = cmd->meta;
    if (!command_meta_has_keys(m)) return CLUSTER_NO_KEYS;
    /* Keys are found as Redis's getKeysFromCommand finds them: by the key
     * specs, so counted keys (EVAL, ZUNIONSTORE, LMPOP) and subcommands
     * (OBJECT ENCODING) are covered. A command line that does not fit its
     * specs (a bad count) has no keys here: the command replies its own
     * error. */
    struct meta_key stack[32];
    struct meta_key *keys = argc <= 32 ? stack : em_malloc(sizeof(*keys) * (size_t)argc);
    int n = command_get_keys(cmd, argc, argv, keys, argc);
    int slot = -1;
    for (int i = 0; i < n && slot != CLUSTER_CROSSSLOT; i++) {
        if (!fold_slot(argv[keys[i].pos], &slot)) slot = CLUSTER_CROSSSLOT;
    }
    if (keys != stack) em_free(keys);
    return slot == -1 ? CLUSTER_NO_KEYS : slot;
}

static void reply_crossslot(struct client *c)
{
    reply_error(c, "CROSSSLOT Keys in request don't hash to the same slot");
}

bool cluster_check_keys_or_reply(struct client *c, const struct command *cmd)
{
    if (!server.cfg.cluster_enabled) return true;
    /* EXEC: the queued commands together must use one slot (Redis's
     * getNodeByQuery treats a transaction as one command); the transaction
     * is discarded. Each was already checked alone when it was queued. */
    if (cmd->parent == NULL && strcmp(cmd->name, "exec") == 0 && (c->flags & CLIENT_MULTI)) {
        if (!multi_crossslot(c)) return true;
        multi_discard(c);
        reply_crossslot(c);
        return false;
    }
    if (cluster_command_slot(cmd, c->argc, c->argv) != CLUSTER_CROSSSLOT) return true;
    reply_crossslot(c);
    return false;
}

/* ---- This node ---- */

const char *cluster_myid(void)
{
    static char id[41];
    if (id[0] == '\0') {
        unsigned char raw[20];
        random_bytes(raw, sizeof(raw));
        for (size_t i = 0; i < sizeof(raw); i++) {
            snprintf(id + 2 * i, 3, "%02x", raw[i]);
        }
    }
    return id;
}

/* The address the client reached us on, split into ip and port. */
static void my_address(const struct client *c, char *ip, size_t iplen, long long *port)
{
    const char *colon = strrchr(c->laddr, ':');
    size_t n = colon != NULL ? (size_t)(colon - c->laddr) : strlen(c->laddr);
    if (n >= iplen) n = iplen - 1;
    memcpy(ip, c->laddr, n);
    ip[n] = '\0';
    *port = server.cfg.port;
    if (colon != NULL) str_to_ll(colon + 1, strlen(colon + 1), port);
}

static bool enabled_or_reply(struct client *c)
{
    if (server.cfg.cluster_enabled) return true;
    reply_error(c, "ERR This instance has cluster support disabled");
    return false;
}

/* Counts the live keys of c's db in `slot`, and replies up to `max` of their
 * names when `reply` is set. A full walk: fine while one node owns all. */
static long long keys_in_slot(struct client *c, unsigned slot, long long max, bool reply)
{
    long long n = 0;
    long long now = clock_ms();
    struct dict_iter it;
    dict_iter_init(&it, &c->db->dict);
    struct dict_node *o;
    while ((o = dict_iter_next(&it)) != NULL && (!reply || n < max)) {
        if (db_is_expired(o, now)) continue;
        struct slice key = dict_node_key(o);
        if (cluster_keyslot(key.ptr, key.len) != slot) continue;
        if (reply) reply_bulk(c, key.ptr, key.len);
        n++;
    }
    dict_iter_deinit(&it);
    return n;
}

/* ---- CLUSTER subcommands ---- */

/* CLUSTER SLOTS: one range, 0-16383, served by this node alone. */
static void cluster_slots(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    char ip[64];
    long long port;
    my_address(c, ip, sizeof(ip), &port);
    reply_array_len(c, 1);
    reply_array_len(c, 3);
    reply_int(c, 0);
    reply_int(c, CLUSTER_SLOTS - 1);
    reply_array_len(c, 4);
    reply_bulk_cstr(c, ip);
    reply_int(c, port);
    reply_bulk_cstr(c, cluster_myid());
    reply_map_len(c, 0); /* metadata: hostname when one is announced */
}

/* CLUSTER SHARDS: one shard with one healthy master. */
static void cluster_shards(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    char ip[64];
    long long port;
    my_address(c, ip, sizeof(ip), &port);
    reply_array_len(c, 1);
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "slots");
    reply_array_len(c, 2);
    reply_int(c, 0);
    reply_int(c, CLUSTER_SLOTS - 1);
    reply_bulk_cstr(c, "nodes");
    reply_array_len(c, 1);
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "id");
    reply_bulk_cstr(c, cluster_myid());
    reply_bulk_cstr(c, "port");
    reply_int(c, port);
    reply_bulk_cstr(c, "ip");
    reply_bulk_cstr(c, ip);
    reply_bulk_cstr(c, "endpoint");
    reply_bulk_cstr(c, ip);
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "replication-offset");
    reply_int(c, 0);
    reply_bulk_cstr(c, "health");
    reply_bulk_cstr(c, "online");
}

/* CLUSTER NODES: Redis's nodes.conf line for "myself". */
static void cluster_nodes(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    char ip[64], line[256];
    long long port;
    my_address(c, ip, sizeof(ip), &port);
    int n = snprintf(line, sizeof(line), "%s %s:%lld@%lld myself,master - 0 0 0 connected 0-%d\n",
                     cluster_myid(), ip, port, port + 10000, CLUSTER_SLOTS - 1);
    reply_verbatim(c, line, (size_t)n, "txt");
}

static void cluster_info(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    static const char info[] = "cluster_state:ok\r\n"
                               "cluster_slots_assigned:16384\r\n"
                               "cluster_slots_ok:16384\r\n"
                               "cluster_slots_pfail:0\r\n"
                               "cluster_slots_fail:0\r\n"
                               "cluster_known_nodes:1\r\n"
                               "cluster_size:1\r\n"
                               "cluster_current_epoch:0\r\n"
                               "cluster_my_epoch:0\r\n"
                               "cluster_stats_messages_sent:0\r\n"
                               "cluster_stats_messages_received:0\r\n"
                               "total_cluster_links_buffer_limit_exceeded:0\r\n";
    reply_verbatim(c, info, sizeof(info) - 1, "txt");
}

static void cluster_myid_cmd(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    reply_bulk_cstr(c, cluster_myid());
}

/* CLUSTER KEYSLOT key */
static void cluster_keyslot_cmd(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    reply_int(c, cluster_keyslot(c->argv[2].ptr, c->argv[2].len));
}

/* CLUSTER COUNTKEYSINSLOT slot */
static void cluster_countkeysinslot(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    long long slot;
    if (!arg_ll_or_reply(c, 2, &slot)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS) {
        reply_error(c, "ERR Invalid slot");
        return;
    }
    reply_int(c, keys_in_slot(c, (unsigned)slot, 0, false));
}

/* CLUSTER GETKEYSINSLOT slot count */
static void cluster_getkeysinslot(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    long long slot, max;
    if (!arg_ll_or_reply(c, 2, &slot) || !arg_ll_or_reply(c, 3, &max)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS || max < 0) {
        reply_error(c, "ERR Invalid slot or number of keys");
        return;
    }
    void *len = reply_defer_len(c);
    reply_set_array_len(c, len, keys_in_slot(c, (unsigned)slot, max, true));
}

/* READONLY / READWRITE: reads from replicas; with no replicas, just OK. */
static void cmd_readonly(struct client *c)
{
    if (!enabled_or_reply(c)) return;
    reply_ok(c);
}

/* clang-format off */
#define CLUSTER_SUB(nm, fn, ar, sum, cx)                                                           \
    {.name = nm, .proc = fn, .arity = ar, .flags = CMD_STALE, .group = "cluster",                 \
     .summary = sum, .since = "3.0.0", .complexity = cx}
static struct command cluster_subcommands[] = {
    CLUSTER_SUB("slots", cluster_slots, 2, "Get array of Cluster slot to node mappings",
                "O(N) where N is the total number of Cluster nodes"),
    {.name = "shards", .proc = cluster_shards, .arity = 2, .flags = CMD_STALE,
     .group = "cluster", .summary = "Get array of cluster slots to node mappings",
     .since = "7.0.0", .complexity = "O(N) where N is the total number of cluster nodes"},
    CLUSTER_SUB("nodes", cluster_nodes, 2, "Get Cluster config for the node",
                "O(N) where N is the total number of Cluster nodes"),
    CLUSTER_SUB("info", cluster_info, 2, "Provides info about Redis Cluster node state",
                "O(1)"),
    CLUSTER_SUB("myid", cluster_myid_cmd, 2, "Return the node id", "O(1)"),
    CLUSTER_SUB("keyslot", cluster_keyslot_cmd, 3, "Returns the hash slot of the specified key",
                "O(N) where N is the number of bytes in the key"),
    CLUSTER_SUB("countkeysinslot", cluster_countkeysinslot, 3,
                "Return the number of local keys in the specified hash slot", "O(1)"),
    CLUSTER_SUB("getkeysinslot", cluster_getkeysinslot, 4,
                "Return local key names in the specified hash slot",
                "O(log(N)) where N is the number of requested keys"),
    COMMAND_TABLE_END,
};

struct command cluster_commands[] = {
    {.name = "cluster", .proc = NULL, .arity = -2, .flags = 0, .group = "cluster",
     .summary = "A container for cluster commands", .since = "3.0.0",
     .complexity = "Depends on subcommand.", .subcommands = cluster_subcommands},
    {.name = "readonly", .proc = cmd_readonly, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "cluster",
     .summary = "Enables read queries for a connection to a cluster replica node",
     .since = "3.0.0", .complexity = "O(1)"},
    {.name = "readwrite", .proc = cmd_readonly, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .group = "cluster",
     .summary = "Disables read queries for a connection to a cluster replica node",
     .since = "3.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
/* clang-format on */
