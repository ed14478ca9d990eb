/* acl.c: users, passwords and command/key/channel permissions (see acl.h).
 *
 * The command universe is Redis 7.0.15's: a static table of every command
 * and subcommand name with its ACL categories, as COMMAND INFO reports them.
 * A user's command permissions are one bit per table entry, so categories
 * count and apply exactly as in Redis (ACL LIST describes a user with the
 * same category rules Redis would print), whether or not ember implements
 * each command. Commands ember has that the table lacks are allowed only to
 * users that may run "future commands" (+@all).
 *
 * A user:
 *
 *   name, on/off, nopass, sanitize flags
 *   passwords     SHA-256 hex digests, in the order they were added
 *   root          a selector: the permissions given outside parentheses
 *   selectors     more of them, one per "(...)" rule, in the order added
 *
 * A selector (Redis's aclSelector):
 *
 *   keys          allkeys, or patterns each with R/W permissions (~ = RW)
 *   channels      allchannels, or patterns
 *   commands      bitmap over the table + "all commands, future ones too"
 *
 * A command is allowed if one selector, the root or another, allows the
 * command and all its keys and channels (Redis's
 * ACLCheckAllUserCommandPerm). A user with a selector that allows
 * everything is "unrestricted": while every user is, checks are skipped.
 *
 * Users live in an array sorted by name (ACL USERS and ACL LIST print in
 * that order). Which user a client acts as is kept here, keyed by client id
 * (ids are never reused), so struct client needs no field: a client absent
 * from the map acts as "default". Entries of closed clients are dropped when
 * the map is rebuilt from the live client list as it grows. */
#include "ember/acl.h"

#include "ember/auth.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/command_meta.h"
#include "ember/config.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- SHA-256 (FIPS 180-4), for password digests ---- */

struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
};

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n)
{
    s->len += n;
    while (n > 0) {
        size_t k = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, k);
        s->fill += k;
        p += k;
        n -= k;
        if (s->fill == 64) {
            sha256_block(s, s->buf);
            s->fill = 0;
        }
    }
}

/* The digest of p[0..n) as 64 lower-case hex digits and a NUL. */
static void sha256_hex(const void *p, size_t n, char out[65])
{
    struct sha256 s = {{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                        0x1f83d9ab, 0x5be0cd19},
                       0,
                       {0},
                       0};
    sha256_update(&s, p, n);
    uint64_t bits = s.len * 8;
    uint8_t pad = 0x80;
    sha256_update(&s, &pad, 1);
    pad = 0;
    while (s.fill != 56)
        sha256_update(&s, &pad, 1);
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(&s, lenbuf, 8);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        uint8_t byte = (uint8_t)(s.h[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = hex[byte >> 4];
        out[2 * i + 1] = hex[byte & 15];
    }
    out[64] = '\0';
}

/* ---- Categories and the command table ---- */

enum acl_category {
    AC_KEYSPACE = 1 << 0,
    AC_READ = 1 << 1,
    AC_WRITE = 1 << 2,
    AC_SET = 1 << 3,
    AC_SORTEDSET = 1 << 4,
    AC_LIST = 1 << 5,
    AC_HASH = 1 << 6,
    AC_STRING = 1 << 7,
    AC_BITMAP = 1 << 8,
    AC_HYPERLOGLOG = 1 << 9,
    AC_GEO = 1 << 10,
    AC_STREAM = 1 << 11,
    AC_PUBSUB = 1 << 12,
    AC_ADMIN = 1 << 13,
    AC_FAST = 1 << 14,
    AC_SLOW = 1 << 15,
    AC_BLOCKING = 1 << 16,
    AC_DANGEROUS = 1 << 17,
    AC_CONNECTION = 1 << 18,
    AC_TRANSACTION = 1 << 19,
    AC_SCRIPTING = 1 << 20,
};

/* Redis's order (ACL CAT, COMMAND INFO, and the order ACL LIST tries). */
static const char *const category_names[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};
#define CATEGORY_COUNT ((int)(sizeof(category_names) / sizeof(category_names[0])))

struct acl_cmd {
    const char *name; /* "get", "config|get": lower case, sorted bytewise */
    uint32_t cats;
};

/* Redis 7.0.15's commands and subcommands with their categories (generated
 * from its COMMAND reply). */
/* clang-format off */
static const struct acl_cmd acl_cmds[] = {
    {"acl", AC_SLOW},
    {"acl|cat", AC_SLOW},
    {"acl|deluser", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|dryrun", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|genpass", AC_SLOW},
    {"acl|getuser", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|help", AC_SLOW},
    {"acl|list", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|load", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|log", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|save", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|setuser", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|users", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"acl|whoami", AC_SLOW},
    {"append", AC_WRITE | AC_STRING | AC_FAST},
    {"asking", AC_FAST | AC_CONNECTION},
    {"auth", AC_FAST | AC_CONNECTION},
    {"bgrewriteaof", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"bgsave", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"bitcount", AC_READ | AC_BITMAP | AC_SLOW},
    {"bitfield", AC_WRITE | AC_BITMAP | AC_SLOW},
    {"bitfield_ro", AC_READ | AC_BITMAP | AC_FAST},
    {"bitop", AC_WRITE | AC_BITMAP | AC_SLOW},
    {"bitpos", AC_READ | AC_BITMAP | AC_SLOW},
    {"blmove", AC_WRITE | AC_LIST | AC_SLOW | AC_BLOCKING},
    {"blmpop", AC_WRITE | AC_LIST | AC_SLOW | AC_BLOCKING},
    {"blpop", AC_WRITE | AC_LIST | AC_SLOW | AC_BLOCKING},
    {"brpop", AC_WRITE | AC_LIST | AC_SLOW | AC_BLOCKING},
    {"brpoplpush", AC_WRITE | AC_LIST | AC_SLOW | AC_BLOCKING},
    {"bzmpop", AC_WRITE | AC_SORTEDSET | AC_SLOW | AC_BLOCKING},
    {"bzpopmax", AC_WRITE | AC_SORTEDSET | AC_FAST | AC_BLOCKING},
    {"bzpopmin", AC_WRITE | AC_SORTEDSET | AC_FAST | AC_BLOCKING},
    {"client", AC_SLOW},
    {"client|caching", AC_SLOW | AC_CONNECTION},
    {"client|getname", AC_SLOW | AC_CONNECTION},
    {"client|getredir", AC_SLOW | AC_CONNECTION},
    {"client|help", AC_SLOW | AC_CONNECTION},
    {"client|id", AC_SLOW | AC_CONNECTION},
    {"client|info", AC_SLOW | AC_CONNECTION},
    {"client|kill", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"client|list", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"client|no-evict", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"client|pause", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"client|reply", AC_SLOW | AC_CONNECTION},
    {"client|setname", AC_SLOW | AC_CONNECTION},
    {"client|tracking", AC_SLOW | AC_CONNECTION},
    {"client|trackinginfo", AC_SLOW | AC_CONNECTION},
    {"client|unblock", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"client|unpause", AC_ADMIN | AC_SLOW | AC_DANGEROUS | AC_CONNECTION},
    {"cluster", AC_SLOW},
    {"cluster|addslots", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|addslotsrange", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|bumpepoch", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|count-failure-reports", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|countkeysinslot", AC_SLOW},
    {"cluster|delslots", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|delslotsrange", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|failover", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|flushslots", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|forget", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|getkeysinslot", AC_SLOW},
    {"cluster|help", AC_SLOW},
    {"cluster|info", AC_SLOW},
    {"cluster|keyslot", AC_SLOW},
    {"cluster|links", AC_SLOW},
    {"cluster|meet", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|myid", AC_SLOW},
    {"cluster|nodes", AC_SLOW},
    {"cluster|replicas", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|replicate", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|reset", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|saveconfig", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|set-config-epoch", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|setslot", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|shards", AC_SLOW},
    {"cluster|slaves", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"cluster|slots", AC_SLOW},
    {"command", AC_SLOW | AC_CONNECTION},
    {"command|count", AC_SLOW | AC_CONNECTION},
    {"command|docs", AC_SLOW | AC_CONNECTION},
    {"command|getkeys", AC_SLOW | AC_CONNECTION},
    {"command|getkeysandflags", AC_SLOW | AC_CONNECTION},
    {"command|help", AC_SLOW | AC_CONNECTION},
    {"command|info", AC_SLOW | AC_CONNECTION},
    {"command|list", AC_SLOW | AC_CONNECTION},
    {"config", AC_SLOW},
    {"config|get", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"config|help", AC_SLOW},
    {"config|resetstat", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"config|rewrite", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"config|set", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"copy", AC_KEYSPACE | AC_WRITE | AC_SLOW},
    {"dbsize", AC_KEYSPACE | AC_READ | AC_FAST},
    {"debug", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"decr", AC_WRITE | AC_STRING | AC_FAST},
    {"decrby", AC_WRITE | AC_STRING | AC_FAST},
    {"del", AC_KEYSPACE | AC_WRITE | AC_SLOW},
    {"discard", AC_FAST | AC_TRANSACTION},
    {"dump", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"echo", AC_FAST | AC_CONNECTION},
    {"eval", AC_SLOW | AC_SCRIPTING},
    {"eval_ro", AC_SLOW | AC_SCRIPTING},
    {"evalsha", AC_SLOW | AC_SCRIPTING},
    {"evalsha_ro", AC_SLOW | AC_SCRIPTING},
    {"exec", AC_SLOW | AC_TRANSACTION},
    {"exists", AC_KEYSPACE | AC_READ | AC_FAST},
    {"expire", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"expireat", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"expiretime", AC_KEYSPACE | AC_READ | AC_FAST},
    {"failover", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"fcall", AC_SLOW | AC_SCRIPTING},
    {"fcall_ro", AC_SLOW | AC_SCRIPTING},
    {"flushall", AC_KEYSPACE | AC_WRITE | AC_SLOW | AC_DANGEROUS},
    {"flushdb", AC_KEYSPACE | AC_WRITE | AC_SLOW | AC_DANGEROUS},
    {"function", AC_SLOW},
    {"function|delete", AC_WRITE | AC_SLOW | AC_SCRIPTING},
    {"function|dump", AC_SLOW | AC_SCRIPTING},
    {"function|flush", AC_WRITE | AC_SLOW | AC_SCRIPTING},
    {"function|help", AC_SLOW | AC_SCRIPTING},
    {"function|kill", AC_SLOW | AC_SCRIPTING},
    {"function|list", AC_SLOW | AC_SCRIPTING},
    {"function|load", AC_WRITE | AC_SLOW | AC_SCRIPTING},
    {"function|restore", AC_WRITE | AC_SLOW | AC_SCRIPTING},
    {"function|stats", AC_SLOW | AC_SCRIPTING},
    {"geoadd", AC_WRITE | AC_GEO | AC_SLOW},
    {"geodist", AC_READ | AC_GEO | AC_SLOW},
    {"geohash", AC_READ | AC_GEO | AC_SLOW},
    {"geopos", AC_READ | AC_GEO | AC_SLOW},
    {"georadius", AC_WRITE | AC_GEO | AC_SLOW},
    {"georadius_ro", AC_READ | AC_GEO | AC_SLOW},
    {"georadiusbymember", AC_WRITE | AC_GEO | AC_SLOW},
    {"georadiusbymember_ro", AC_READ | AC_GEO | AC_SLOW},
    {"geosearch", AC_READ | AC_GEO | AC_SLOW},
    {"geosearchstore", AC_WRITE | AC_GEO | AC_SLOW},
    {"get", AC_READ | AC_STRING | AC_FAST},
    {"getbit", AC_READ | AC_BITMAP | AC_FAST},
    {"getdel", AC_WRITE | AC_STRING | AC_FAST},
    {"getex", AC_WRITE | AC_STRING | AC_FAST},
    {"getrange", AC_READ | AC_STRING | AC_SLOW},
    {"getset", AC_WRITE | AC_STRING | AC_FAST},
    {"hdel", AC_WRITE | AC_HASH | AC_FAST},
    {"hello", AC_FAST | AC_CONNECTION},
    {"hexists", AC_READ | AC_HASH | AC_FAST},
    {"hget", AC_READ | AC_HASH | AC_FAST},
    {"hgetall", AC_READ | AC_HASH | AC_SLOW},
    {"hincrby", AC_WRITE | AC_HASH | AC_FAST},
    {"hincrbyfloat", AC_WRITE | AC_HASH | AC_FAST},
    {"hkeys", AC_READ | AC_HASH | AC_SLOW},
    {"hlen", AC_READ | AC_HASH | AC_FAST},
    {"hmget", AC_READ | AC_HASH | AC_FAST},
    {"hmset", AC_WRITE | AC_HASH | AC_FAST},
    {"hrandfield", AC_READ | AC_HASH | AC_SLOW},
    {"hscan", AC_READ | AC_HASH | AC_SLOW},
    {"hset", AC_WRITE | AC_HASH | AC_FAST},
    {"hsetnx", AC_WRITE | AC_HASH | AC_FAST},
    {"hstrlen", AC_READ | AC_HASH | AC_FAST},
    {"hvals", AC_READ | AC_HASH | AC_SLOW},
    {"incr", AC_WRITE | AC_STRING | AC_FAST},
    {"incrby", AC_WRITE | AC_STRING | AC_FAST},
    {"incrbyfloat", AC_WRITE | AC_STRING | AC_FAST},
    {"info", AC_SLOW | AC_DANGEROUS},
    {"keys", AC_KEYSPACE | AC_READ | AC_SLOW | AC_DANGEROUS},
    {"lastsave", AC_ADMIN | AC_FAST | AC_DANGEROUS},
    {"latency", AC_SLOW},
    {"latency|doctor", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"latency|graph", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"latency|help", AC_SLOW},
    {"latency|histogram", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"latency|history", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"latency|latest", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"latency|reset", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"lcs", AC_READ | AC_STRING | AC_SLOW},
    {"lindex", AC_READ | AC_LIST | AC_SLOW},
    {"linsert", AC_WRITE | AC_LIST | AC_SLOW},
    {"llen", AC_READ | AC_LIST | AC_FAST},
    {"lmove", AC_WRITE | AC_LIST | AC_SLOW},
    {"lmpop", AC_WRITE | AC_LIST | AC_SLOW},
    {"lolwut", AC_READ | AC_FAST},
    {"lpop", AC_WRITE | AC_LIST | AC_FAST},
    {"lpos", AC_READ | AC_LIST | AC_SLOW},
    {"lpush", AC_WRITE | AC_LIST | AC_FAST},
    {"lpushx", AC_WRITE | AC_LIST | AC_FAST},
    {"lrange", AC_READ | AC_LIST | AC_SLOW},
    {"lrem", AC_WRITE | AC_LIST | AC_SLOW},
    {"lset", AC_WRITE | AC_LIST | AC_SLOW},
    {"ltrim", AC_WRITE | AC_LIST | AC_SLOW},
    {"memory", AC_SLOW},
    {"memory|doctor", AC_SLOW},
    {"memory|help", AC_SLOW},
    {"memory|malloc-stats", AC_SLOW},
    {"memory|purge", AC_SLOW},
    {"memory|stats", AC_SLOW},
    {"memory|usage", AC_READ | AC_SLOW},
    {"mget", AC_READ | AC_STRING | AC_FAST},
    {"migrate", AC_KEYSPACE | AC_WRITE | AC_SLOW | AC_DANGEROUS},
    {"module", AC_SLOW},
    {"module|help", AC_SLOW},
    {"module|list", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"module|load", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"module|loadex", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"module|unload", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"monitor", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"move", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"mset", AC_WRITE | AC_STRING | AC_SLOW},
    {"msetnx", AC_WRITE | AC_STRING | AC_SLOW},
    {"multi", AC_FAST | AC_TRANSACTION},
    {"object", AC_SLOW},
    {"object|encoding", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"object|freq", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"object|help", AC_KEYSPACE | AC_SLOW},
    {"object|idletime", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"object|refcount", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"persist", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"pexpire", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"pexpireat", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"pexpiretime", AC_KEYSPACE | AC_READ | AC_FAST},
    {"pfadd", AC_WRITE | AC_HYPERLOGLOG | AC_FAST},
    {"pfcount", AC_READ | AC_HYPERLOGLOG | AC_SLOW},
    {"pfdebug", AC_WRITE | AC_HYPERLOGLOG | AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"pfmerge", AC_WRITE | AC_HYPERLOGLOG | AC_SLOW},
    {"pfselftest", AC_HYPERLOGLOG | AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"ping", AC_FAST | AC_CONNECTION},
    {"psetex", AC_WRITE | AC_STRING | AC_SLOW},
    {"psubscribe", AC_PUBSUB | AC_SLOW},
    {"psync", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"pttl", AC_KEYSPACE | AC_READ | AC_FAST},
    {"publish", AC_PUBSUB | AC_FAST},
    {"pubsub", AC_SLOW},
    {"pubsub|channels", AC_PUBSUB | AC_SLOW},
    {"pubsub|help", AC_SLOW},
    {"pubsub|numpat", AC_PUBSUB | AC_SLOW},
    {"pubsub|numsub", AC_PUBSUB | AC_SLOW},
    {"pubsub|shardchannels", AC_PUBSUB | AC_SLOW},
    {"pubsub|shardnumsub", AC_PUBSUB | AC_SLOW},
    {"punsubscribe", AC_PUBSUB | AC_SLOW},
    {"quit", AC_FAST | AC_CONNECTION},
    {"randomkey", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"readonly", AC_FAST | AC_CONNECTION},
    {"readwrite", AC_FAST | AC_CONNECTION},
    {"rename", AC_KEYSPACE | AC_WRITE | AC_SLOW},
    {"renamenx", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"replconf", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"replicaof", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"reset", AC_FAST | AC_CONNECTION},
    {"restore", AC_KEYSPACE | AC_WRITE | AC_SLOW | AC_DANGEROUS},
    {"restore-asking", AC_KEYSPACE | AC_WRITE | AC_SLOW | AC_DANGEROUS},
    {"role", AC_ADMIN | AC_FAST | AC_DANGEROUS},
    {"rpop", AC_WRITE | AC_LIST | AC_FAST},
    {"rpoplpush", AC_WRITE | AC_LIST | AC_SLOW},
    {"rpush", AC_WRITE | AC_LIST | AC_FAST},
    {"rpushx", AC_WRITE | AC_LIST | AC_FAST},
    {"sadd", AC_WRITE | AC_SET | AC_FAST},
    {"save", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"scan", AC_KEYSPACE | AC_READ | AC_SLOW},
    {"scard", AC_READ | AC_SET | AC_FAST},
    {"script", AC_SLOW},
    {"script|debug", AC_SLOW | AC_SCRIPTING},
    {"script|exists", AC_SLOW | AC_SCRIPTING},
    {"script|flush", AC_SLOW | AC_SCRIPTING},
    {"script|help", AC_SLOW | AC_SCRIPTING},
    {"script|kill", AC_SLOW | AC_SCRIPTING},
    {"script|load", AC_SLOW | AC_SCRIPTING},
    {"sdiff", AC_READ | AC_SET | AC_SLOW},
    {"sdiffstore", AC_WRITE | AC_SET | AC_SLOW},
    {"select", AC_FAST | AC_CONNECTION},
    {"set", AC_WRITE | AC_STRING | AC_SLOW},
    {"setbit", AC_WRITE | AC_BITMAP | AC_SLOW},
    {"setex", AC_WRITE | AC_STRING | AC_SLOW},
    {"setnx", AC_WRITE | AC_STRING | AC_FAST},
    {"setrange", AC_WRITE | AC_STRING | AC_SLOW},
    {"shutdown", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"sinter", AC_READ | AC_SET | AC_SLOW},
    {"sintercard", AC_READ | AC_SET | AC_SLOW},
    {"sinterstore", AC_WRITE | AC_SET | AC_SLOW},
    {"sismember", AC_READ | AC_SET | AC_FAST},
    {"slaveof", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"slowlog", AC_SLOW},
    {"slowlog|get", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"slowlog|help", AC_SLOW},
    {"slowlog|len", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"slowlog|reset", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"smembers", AC_READ | AC_SET | AC_SLOW},
    {"smismember", AC_READ | AC_SET | AC_FAST},
    {"smove", AC_WRITE | AC_SET | AC_FAST},
    {"sort", AC_WRITE | AC_SET | AC_SORTEDSET | AC_LIST | AC_SLOW | AC_DANGEROUS},
    {"sort_ro", AC_READ | AC_SET | AC_SORTEDSET | AC_LIST | AC_SLOW | AC_DANGEROUS},
    {"spop", AC_WRITE | AC_SET | AC_FAST},
    {"spublish", AC_PUBSUB | AC_FAST},
    {"srandmember", AC_READ | AC_SET | AC_SLOW},
    {"srem", AC_WRITE | AC_SET | AC_FAST},
    {"sscan", AC_READ | AC_SET | AC_SLOW},
    {"ssubscribe", AC_PUBSUB | AC_SLOW},
    {"strlen", AC_READ | AC_STRING | AC_FAST},
    {"subscribe", AC_PUBSUB | AC_SLOW},
    {"substr", AC_READ | AC_STRING | AC_SLOW},
    {"sunion", AC_READ | AC_SET | AC_SLOW},
    {"sunionstore", AC_WRITE | AC_SET | AC_SLOW},
    {"sunsubscribe", AC_PUBSUB | AC_SLOW},
    {"swapdb", AC_KEYSPACE | AC_WRITE | AC_FAST | AC_DANGEROUS},
    {"sync", AC_ADMIN | AC_SLOW | AC_DANGEROUS},
    {"time", AC_FAST},
    {"touch", AC_KEYSPACE | AC_READ | AC_FAST},
    {"ttl", AC_KEYSPACE | AC_READ | AC_FAST},
    {"type", AC_KEYSPACE | AC_READ | AC_FAST},
    {"unlink", AC_KEYSPACE | AC_WRITE | AC_FAST},
    {"unsubscribe", AC_PUBSUB | AC_SLOW},
    {"unwatch", AC_FAST | AC_TRANSACTION},
    {"wait", AC_SLOW | AC_CONNECTION},
    {"watch", AC_FAST | AC_TRANSACTION},
    {"xack", AC_WRITE | AC_STREAM | AC_FAST},
    {"xadd", AC_WRITE | AC_STREAM | AC_FAST},
    {"xautoclaim", AC_WRITE | AC_STREAM | AC_FAST},
    {"xclaim", AC_WRITE | AC_STREAM | AC_FAST},
    {"xdel", AC_WRITE | AC_STREAM | AC_FAST},
    {"xgroup", AC_SLOW},
    {"xgroup|create", AC_WRITE | AC_STREAM | AC_SLOW},
    {"xgroup|createconsumer", AC_WRITE | AC_STREAM | AC_SLOW},
    {"xgroup|delconsumer", AC_WRITE | AC_STREAM | AC_SLOW},
    {"xgroup|destroy", AC_WRITE | AC_STREAM | AC_SLOW},
    {"xgroup|help", AC_STREAM | AC_SLOW},
    {"xgroup|setid", AC_WRITE | AC_STREAM | AC_SLOW},
    {"xinfo", AC_SLOW},
    {"xinfo|consumers", AC_READ | AC_STREAM | AC_SLOW},
    {"xinfo|groups", AC_READ | AC_STREAM | AC_SLOW},
    {"xinfo|help", AC_STREAM | AC_SLOW},
    {"xinfo|stream", AC_READ | AC_STREAM | AC_SLOW},
    {"xlen", AC_READ | AC_STREAM | AC_FAST},
    {"xpending", AC_READ | AC_STREAM | AC_SLOW},
    {"xrange", AC_READ | AC_STREAM | AC_SLOW},
    {"xread", AC_READ | AC_STREAM | AC_SLOW | AC_BLOCKING},
    {"xreadgroup", AC_WRITE | AC_STREAM | AC_SLOW | AC_BLOCKING},
    {"xrevrange", AC_READ | AC_STREAM | AC_SLOW},
    {"xsetid", AC_WRITE | AC_STREAM | AC_FAST},
    {"xtrim", AC_WRITE | AC_STREAM | AC_SLOW},
    {"zadd", AC_WRITE | AC_SORTEDSET | AC_FAST},
    {"zcard", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zcount", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zdiff", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zdiffstore", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zincrby", AC_WRITE | AC_SORTEDSET | AC_FAST},
    {"zinter", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zintercard", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zinterstore", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zlexcount", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zmpop", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zmscore", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zpopmax", AC_WRITE | AC_SORTEDSET | AC_FAST},
    {"zpopmin", AC_WRITE | AC_SORTEDSET | AC_FAST},
    {"zrandmember", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrange", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrangebylex", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrangebyscore", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrangestore", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zrank", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zrem", AC_WRITE | AC_SORTEDSET | AC_FAST},
    {"zremrangebylex", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zremrangebyrank", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zremrangebyscore", AC_WRITE | AC_SORTEDSET | AC_SLOW},
    {"zrevrange", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrevrangebylex", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrevrangebyscore", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zrevrank", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zscan", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zscore", AC_READ | AC_SORTEDSET | AC_FAST},
    {"zunion", AC_READ | AC_SORTEDSET | AC_SLOW},
    {"zunionstore", AC_WRITE | AC_SORTEDSET | AC_SLOW},
};
/* clang-format on */

#define ACL_CMD_COUNT ((int)(sizeof(acl_cmds) / sizeof(acl_cmds[0])))
#define ACL_WORDS     ((ACL_CMD_COUNT + 63) / 64)

/* Entry i's parent (-1 for a top-level command), and where its subcommands
 * start and end in the table (they follow their parent's name). */
static int cmd_parent[ACL_CMD_COUNT];
static int cmd_sub_first[ACL_CMD_COUNT], cmd_sub_end[ACL_CMD_COUNT];

/* ember's command structs -> table index, sorted by pointer. */
struct cmd_map {
    const struct command *cmd;
    int id;
};
static struct cmd_map *cmd_map;
static int cmd_map_count;

/* Table index of a (lower-cased) full name, or -1. */
static int cmd_find(const char *name, size_t len)
{
    char buf[128];
    if (len == 0 || len >= sizeof(buf)) return -1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[len] = '\0';
    int lo = 0, hi = ACL_CMD_COUNT - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int r = strcmp(acl_cmds[mid].name, buf);
        if (r == 0) return mid;
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -1;
}

static int cmp_map(const void *a, const void *b)
{
    const struct cmd_map *x = a, *y = b;
    return x->cmd < y->cmd ? -1 : x->cmd > y->cmd;
}

static void map_command(struct command *cmd, void *arg)
{
    (void)arg;
    char full[160];
    int id = cmd_find(cmd->name, strlen(cmd->name));
    cmd_map = em_realloc(cmd_map, (size_t)(cmd_map_count + 1) * sizeof(*cmd_map));
    cmd_map[cmd_map_count++] = (struct cmd_map){cmd, id};
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        int n = snprintf(full, sizeof(full), "%s|%s", cmd->name, s->name);
        int sid = n > 0 && (size_t)n < sizeof(full) ? cmd_find(full, (size_t)n) : -1;
        cmd_map = em_realloc(cmd_map, (size_t)(cmd_map_count + 1) * sizeof(*cmd_map));
        cmd_map[cmd_map_count++] = (struct cmd_map){s, sid};
    }
}

static int cmd_id(const struct command *cmd)
{
    struct cmd_map key = {cmd, 0};
    const struct cmd_map *m =
        bsearch(&key, cmd_map, (size_t)cmd_map_count, sizeof(*cmd_map), cmp_map);
    return m != NULL ? m->id : -1;
}

static void build_tree(void)
{
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        const char *bar = strchr(acl_cmds[i].name, '|');
        cmd_parent[i] =
            bar != NULL ? cmd_find(acl_cmds[i].name, (size_t)(bar - acl_cmds[i].name)) : -1;
        cmd_sub_first[i] = cmd_sub_end[i] = 0;
    }
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        int p = cmd_parent[i];
        if (p < 0) continue;
        if (cmd_sub_end[p] == 0) cmd_sub_first[p] = i;
        cmd_sub_end[p] = i + 1;
    }
}

/* ---- Users and selectors ---- */

/* User-level flags (Redis's USER_FLAG_*). */
enum user_flag {
    USER_ON = 1 << 0,
    USER_NOPASS = 1 << 1,
    USER_SKIP_SANITIZE = 1 << 2,
    USER_SANITIZE = 1 << 3,
};

/* Selector flags (Redis's SELECTOR_FLAG_*). */
enum selector_flag {
    SEL_ALLKEYS = 1 << 0,
    SEL_ALLCHANNELS = 1 << 1,
    SEL_ALLCOMMANDS = 1 << 2, /* +@all: future commands too */
};

enum { PERM_READ = 1, PERM_WRITE = 2, PERM_ALL = 3 };

struct acl_pattern {
    char *text;
    size_t len;
    unsigned perm; /* keys only */
};

struct acl_firstarg {
    int id;
    char *arg;
    size_t len;
};

/* What a user may run, on which keys and channels (Redis's aclSelector).
 * Every user has a root selector; "(...)" rules add more. */
struct acl_selector {
    unsigned flags; /* enum selector_flag */
    int nkeys, nchannels;
    struct acl_pattern *keys, *channels;
    uint64_t allowed[ACL_WORDS];
    /* "+select|0": a first argument allowed for a command whose bit is off
     * (deprecated in Redis 7.0, still accepted), in the order added. */
    int nfirst;
    struct acl_firstarg *first;
};

struct acl_user {
    char *name;
    size_t name_len;
    unsigned flags; /* enum user_flag */
    int npass;
    char (*pass)[65]; /* hex digests */
    struct acl_selector root;
    int nselectors;
    struct acl_selector *selectors; /* the "(...)" ones, in the order added */
    bool unrestricted;              /* every command, key and channel: checks are skipped */
};

bool acl_enforced;

static struct acl_user **users; /* sorted by name */
static int user_count;
static struct acl_user *default_user;

static bool bit_get(const struct acl_selector *s, int id)
{
    return (s->allowed[id / 64] >> (id % 64)) & 1;
}

static void bit_set(struct acl_selector *s, int id, bool on)
{
    if (on) {
        s->allowed[id / 64] |= 1ULL << (id % 64);
    } else {
        s->allowed[id / 64] &= ~(1ULL << (id % 64));
    }
}

static bool selector_unrestricted(const struct acl_selector *s)
{
    unsigned all = SEL_ALLKEYS | SEL_ALLCHANNELS | SEL_ALLCOMMANDS;
    bool every = (s->flags & all) == all;
    for (int i = 0; every && i < ACL_CMD_COUNT; i++)
        every = bit_get(s, i);
    return every;
}

/* A user is unrestricted if one of its selectors is: that one alone
 * allows everything. */
static void user_refresh(struct acl_user *u)
{
    bool every = selector_unrestricted(&u->root);
    for (int i = 0; !every && i < u->nselectors; i++)
        every = selector_unrestricted(&u->selectors[i]);
    u->unrestricted = every;
}

/* Forgets the first arguments allowed for command `id` (every command if
 * id < 0). */
static void first_args_reset(struct acl_selector *s, int id)
{
    int k = 0;
    for (int i = 0; i < s->nfirst; i++) {
        if (id >= 0 && s->first[i].id != id) {
            s->first[k++] = s->first[i];
        } else {
            em_free(s->first[i].arg);
        }
    }
    s->nfirst = k;
    if (k == 0) {
        em_free(s->first);
        s->first = NULL;
    }
}

static void first_arg_add(struct acl_selector *s, int id, const char *arg, size_t len)
{
    for (int i = 0; i < s->nfirst; i++) {
        if (s->first[i].id == id && s->first[i].len == len &&
            strncasecmp(s->first[i].arg, arg, len) == 0) {
            return;
        }
    }
    s->first = em_realloc(s->first, (size_t)(s->nfirst + 1) * sizeof(*s->first));
    s->first[s->nfirst++] = (struct acl_firstarg){id, em_strndup(arg, len), len};
}

static bool first_arg_allowed(const struct acl_selector *s, int id, struct slice arg)
{
    for (int i = 0; i < s->nfirst; i++) {
        if (s->first[i].id == id && s->first[i].len == arg.len &&
            strncasecmp(s->first[i].arg, arg.ptr, arg.len) == 0) {
            return true;
        }
    }
    return false;
}

/* Redis's ACLChangeSelectorPerm: a command and, for a container, all its
 * subcommands. */
static void change_perm(struct acl_selector *s, int id, bool on)
{
    bit_set(s, id, on);
    first_args_reset(s, id);
    for (int k = cmd_sub_first[id]; k < cmd_sub_end[id]; k++) {
        if (cmd_parent[k] == id) bit_set(s, k, on);
    }
}

static void set_category(struct acl_selector *s, uint32_t cat, bool on)
{
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        if (acl_cmds[i].cats & cat) change_perm(s, i, on);
    }
}

static void count_category(const struct acl_selector *s, uint32_t cat, int *on, int *off)
{
    *on = *off = 0;
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        if (!(acl_cmds[i].cats & cat)) continue;
        if (bit_get(s, i)) {
            (*on)++;
        } else {
            (*off)++;
        }
    }
}

static void patterns_free(struct acl_pattern *p, int n)
{
    for (int i = 0; i < n; i++)
        em_free(p[i].text);
    em_free(p);
}

static void selector_clear_keys(struct acl_selector *s)
{
    patterns_free(s->keys, s->nkeys);
    s->keys = NULL;
    s->nkeys = 0;
}

static void selector_clear_channels(struct acl_selector *s)
{
    patterns_free(s->channels, s->nchannels);
    s->channels = NULL;
    s->nchannels = 0;
}

/* Frees what s owns and leaves it empty: no keys, no channels, no
 * commands (Redis's ACLCreateSelector(0) with acl-pubsub-default
 * resetchannels). */
static void selector_reset(struct acl_selector *s)
{
    first_args_reset(s, -1);
    selector_clear_keys(s);
    selector_clear_channels(s);
    memset(s, 0, sizeof(*s));
}

static struct acl_pattern *patterns_copy(const struct acl_pattern *p, int n)
{
    if (n == 0) return NULL;
    struct acl_pattern *out = em_malloc((size_t)n * sizeof(*out));
    for (int i = 0; i < n; i++) {
        out[i] = p[i];
        out[i].text = em_strndup(p[i].text, p[i].len);
    }
    return out;
}

/* dst (uninitialised) becomes a deep copy of src. */
static void selector_copy(struct acl_selector *dst, const struct acl_selector *src)
{
    *dst = *src;
    dst->keys = patterns_copy(src->keys, src->nkeys);
    dst->channels = patterns_copy(src->channels, src->nchannels);
    dst->first = NULL;
    dst->nfirst = 0;
    for (int i = 0; i < src->nfirst; i++)
        first_arg_add(dst, src->first[i].id, src->first[i].arg, src->first[i].len);
}

/* Redis's clearselectors: drops every selector but the root. */
static void user_clear_selectors(struct acl_user *u)
{
    for (int i = 0; i < u->nselectors; i++)
        selector_reset(&u->selectors[i]);
    em_free(u->selectors);
    u->selectors = NULL;
    u->nselectors = 0;
}

static void user_clear_passwords(struct acl_user *u)
{
    em_free(u->pass);
    u->pass = NULL;
    u->npass = 0;
}

/* Frees everything u owns but its name. */
static void user_clear(struct acl_user *u)
{
    selector_reset(&u->root);
    user_clear_selectors(u);
    user_clear_passwords(u);
}

static void user_destroy(struct acl_user *u)
{
    if (u == NULL) return;
    user_clear(u);
    em_free(u->name);
    em_free(u);
}

/* A new user as Redis makes one: off, no passwords, no keys, no channels
 * (acl-pubsub-default resetchannels), no commands, no extra selectors. */
static struct acl_user *user_create(const char *name, size_t len)
{
    struct acl_user *u = em_calloc(1, sizeof(*u));
    u->name = em_strndup(name, len);
    u->name_len = len;
    return u;
}

static struct acl_user *user_copy(const struct acl_user *u)
{
    struct acl_user *c = em_malloc(sizeof(*c));
    *c = *u;
    c->name = em_strndup(u->name, u->name_len);
    c->pass = NULL;
    if (u->npass > 0) {
        c->pass = em_malloc((size_t)u->npass * sizeof(*c->pass));
        memcpy(c->pass, u->pass, (size_t)u->npass * sizeof(*c->pass));
    }
    selector_copy(&c->root, &u->root);
    c->selectors = NULL;
    if (u->nselectors > 0) {
        c->selectors = em_malloc((size_t)u->nselectors * sizeof(*c->selectors));
        for (int i = 0; i < u->nselectors; i++)
            selector_copy(&c->selectors[i], &u->selectors[i]);
    }
    return c;
}

/* Moves src's settings into dst (dst keeps its identity: clients bound to
 * it see the change); frees src. */
static void user_take(struct acl_user *dst, struct acl_user *src)
{
    user_clear(dst);
    char *name = dst->name;
    em_free(src->name);
    *dst = *src;
    dst->name = name;
    em_free(src);
}

static int user_index(const char *name, size_t len, bool *found)
{
    int lo = 0, hi = user_count;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const struct acl_user *u = users[mid];
        size_t n = u->name_len < len ? u->name_len : len;
        int r = memcmp(u->name, name, n);
        if (r == 0) r = u->name_len < len ? -1 : u->name_len > len;
        if (r == 0) {
            *found = true;
            return mid;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

static struct acl_user *user_find(const char *name, size_t len)
{
    bool found;
    int i = user_index(name, len, &found);
    return found ? users[i] : NULL;
}

static void user_insert(struct acl_user *u)
{
    bool found;
    int i = user_index(u->name, u->name_len, &found);
    users = em_realloc(users, (size_t)(user_count + 1) * sizeof(*users));
    memmove(users + i + 1, users + i, (size_t)(user_count - i) * sizeof(*users));
    users[i] = u;
    user_count++;
}

/* After users change: checks are needed once any user is restricted. */
static void update_enforced(void)
{
    bool any = false;
    for (int i = 0; i < user_count && !any; i++)
        any = !users[i]->unrestricted;
    acl_enforced = any;
}

static void user_remove(struct acl_user *u)
{
    bool found;
    int i = user_index(u->name, u->name_len, &found);
    if (!found) return;
    memmove(users + i, users + i + 1, (size_t)(user_count - i - 1) * sizeof(*users));
    user_count--;
}

/* ---- Which user a client acts as ---- */

struct binding {
    uint64_t client_id; /* 0: empty slot */
    struct acl_user *user;
};

static struct binding *bindings;
static size_t binding_cap, binding_count;

static size_t binding_slot(uint64_t id)
{
    uint64_t h = id * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 20) & (binding_cap - 1);
}

static struct binding *binding_find(uint64_t id)
{
    if (binding_count == 0) return NULL;
    for (size_t i = binding_slot(id);; i = (i + 1) & (binding_cap - 1)) {
        if (bindings[i].client_id == id) return &bindings[i];
        if (bindings[i].client_id == 0) return NULL;
    }
}

static void binding_put_raw(uint64_t id, struct acl_user *u)
{
    size_t i = binding_slot(id);
    while (bindings[i].client_id != 0 && bindings[i].client_id != id)
        i = (i + 1) & (binding_cap - 1);
    if (bindings[i].client_id == 0) binding_count++;
    bindings[i] = (struct binding){id, u};
}

static bool client_alive(uint64_t id)
{
    for (const struct client *c = server.clients; c != NULL; c = c->next) {
        if (c->id == id) return true;
    }
    return false;
}

/* Rehashes into a table twice the live entries, dropping closed clients. */
static void bindings_rebuild(void)
{
    struct binding *old = bindings;
    size_t old_cap = binding_cap;
    size_t live = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].client_id != 0 && client_alive(old[i].client_id)) live++;
    }
    binding_cap = 16;
    while (binding_cap < (live + 1) * 4)
        binding_cap *= 2;
    bindings = em_calloc(binding_cap, sizeof(*bindings));
    binding_count = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].client_id != 0 && client_alive(old[i].client_id)) {
            binding_put_raw(old[i].client_id, old[i].user);
        }
    }
    em_free(old);
}

static void binding_set(uint64_t id, struct acl_user *u)
{
    if (binding_cap == 0 || (binding_count + 1) * 2 > binding_cap) bindings_rebuild();
    binding_put_raw(id, u);
}

/* Deletes by marking the user default: open addressing keeps the slot. */
static void binding_clear(uint64_t id)
{
    struct binding *b = binding_find(id);
    if (b != NULL) b->user = default_user;
}

static struct acl_user *client_user(const struct client *c)
{
    struct binding *b = binding_find(c->id);
    return b != NULL && b->user != NULL ? b->user : default_user;
}

/* The user whose permissions a command needs: none for the server's own
 * clients (the AOF loader, as Redis's fake client with a NULL user), which
 * may run everything the file holds whatever the default user may. */
static const struct acl_user *checked_user(const struct client *c)
{
    return (c->flags & CLIENT_INTERNAL) ? NULL : client_user(c);
}

void acl_client_reset(struct client *c)
{
    binding_clear(c->id);
}

const char *acl_client_user(const struct client *c)
{
    return client_user(c)->name;
}

/* A growing NUL-terminated string (descriptions, error lists). */
struct text {
    char *p;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
    if (t->p == NULL || t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = em_realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_cstr(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* ---- Rules (ACL SETUSER) ---- */

enum rule_error {
    RULE_OK = 0,
    RULE_SYNTAX,  /* EINVAL */
    RULE_UNKNOWN, /* ENOENT */
    RULE_AFTER_ALLKEYS,
    RULE_AFTER_ALLCHANNELS,
    RULE_NO_SUCH_PASS,
    RULE_BAD_HASH,
    RULE_FIRSTARG_SUB, /* ECHILD */
};

static const char *rule_error_text(enum rule_error e)
{
    switch (e) {
    case RULE_UNKNOWN:
        return "Unknown command or category name in ACL";
    case RULE_SYNTAX:
        return "Syntax error";
    case RULE_AFTER_ALLKEYS:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
               "not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RULE_AFTER_ALLCHANNELS:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
               "does not have any effect. Try 'resetchannels' to start with an empty list of "
               "channels";
    case RULE_NO_SUCH_PASS:
        return "The password you are trying to remove from the user does not exist";
    case RULE_BAD_HASH:
        return "The password hash must be exactly 64 characters and contain only lowercase "
               "hexadecimal characters";
    case RULE_FIRSTARG_SUB:
        return "Allowing first-arg of a subcommand is not supported";
    case RULE_OK:
        break;
    }
    return "Wrong format";
}

static bool has_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)p[i]) || p[i] == '\0') return true;
    }
    return false;
}

static bool is_hash(const char *p, size_t n)
{
    if (n != 64) return false;
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return false;
    }
    return true;
}

static bool word_is(const char *op, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(op, word, n) == 0;
}

static int find_pass(const struct acl_user *u, const char *hex)
{
    for (int i = 0; i < u->npass; i++) {
        if (memcmp(u->pass[i], hex, 64) == 0) return i;
    }
    return -1;
}

static enum rule_error add_pattern(struct acl_pattern **list, int *n, const char *p, size_t len,
                                   unsigned perm)
{
    if (has_space(p, len)) return RULE_SYNTAX;
    for (int i = 0; i < *n; i++) {
        if ((*list)[i].len == len && memcmp((*list)[i].text, p, len) == 0) {
            (*list)[i].perm |= perm;
            return RULE_OK;
        }
    }
    *list = em_realloc(*list, (size_t)(*n + 1) * sizeof(**list));
    (*list)[*n] = (struct acl_pattern){em_strndup(p, len), len, perm};
    (*n)++;
    return RULE_OK;
}

static enum rule_error rule_key_pattern(struct acl_selector *s, const char *op, size_t n)
{
    if (s->flags & SEL_ALLKEYS) return RULE_AFTER_ALLKEYS;
    unsigned perm = 0;
    size_t off = 1;
    if (op[0] == '%') {
        for (; off < n; off++) {
            char ch = (char)toupper((unsigned char)op[off]);
            if (ch == 'R' && !(perm & PERM_READ)) {
                perm |= PERM_READ;
            } else if (ch == 'W' && !(perm & PERM_WRITE)) {
                perm |= PERM_WRITE;
            } else if (op[off] == '~') {
                off++;
                break;
            } else {
                return RULE_SYNTAX;
            }
        }
    } else {
        perm = PERM_ALL;
    }
    enum rule_error e = add_pattern(&s->keys, &s->nkeys, op + off, n - off, perm);
    if (e == RULE_OK) s->flags &= ~(unsigned)SEL_ALLKEYS;
    return e;
}

/* +cmd, -cmd, +parent|sub, -parent|sub, and +cmd|firstarg for a command
 * without subcommands (Redis's order of checks and errors). */
static enum rule_error rule_command(struct acl_selector *s, const char *op, size_t n)
{
    const char *name = op + 1;
    size_t len = n - 1;
    const char *bar = NULL;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '|') {
            bar = name + i - 1;
            break;
        }
    }
    if (bar == NULL || op[0] == '-') {
        int id = cmd_find(name, len);
        if (id < 0) return RULE_UNKNOWN;
        change_perm(s, id, op[0] == '+');
        return RULE_OK;
    }
    int cmd = cmd_find(name, (size_t)(bar - name));
    if (cmd < 0) return RULE_UNKNOWN;
    if (cmd_parent[cmd] >= 0) return RULE_FIRSTARG_SUB;
    size_t sublen = len - (size_t)(bar - name) - 1;
    if (sublen == 0) return RULE_SYNTAX;
    if (cmd_sub_end[cmd] != 0) {
        int id = cmd_find(name, len);
        if (id < 0) return RULE_UNKNOWN;
        change_perm(s, id, true);
    } else {
        first_arg_add(s, cmd, bar + 1, sublen);
    }
    return RULE_OK;
}

static enum rule_error rule_password(struct acl_user *u, const char *op, size_t n)
{
    char hex[65];
    if (op[0] == '>' || op[0] == '<') {
        sha256_hex(op + 1, n - 1, hex);
    } else {
        if (!is_hash(op + 1, n - 1)) return RULE_BAD_HASH;
        memcpy(hex, op + 1, 64);
        hex[64] = '\0';
    }
    int at = find_pass(u, hex);
    if (op[0] == '>' || op[0] == '#') {
        if (at < 0) {
            u->pass = em_realloc(u->pass, (size_t)(u->npass + 1) * sizeof(*u->pass));
            memcpy(u->pass[u->npass++], hex, 65);
        }
        u->flags &= ~(unsigned)USER_NOPASS;
        return RULE_OK;
    }
    if (at < 0) return RULE_NO_SUCH_PASS;
    memmove(u->pass + at, u->pass + at + 1, (size_t)(u->npass - at - 1) * sizeof(*u->pass));
    u->npass--;
    return RULE_OK;
}

/* Applies one permission rule to a selector (Redis's ACLSetSelector): keys,
 * channels and commands. */
static enum rule_error selector_rule_apply(struct acl_selector *s, const char *op, size_t n)
{
    if (n == 0) return RULE_SYNTAX;
    if (word_is(op, n, "allkeys") || (n == 2 && op[0] == '~' && op[1] == '*')) {
        s->flags |= SEL_ALLKEYS;
        selector_clear_keys(s);
    } else if (word_is(op, n, "resetkeys")) {
        s->flags &= ~(unsigned)SEL_ALLKEYS;
        selector_clear_keys(s);
    } else if (word_is(op, n, "allchannels") || (n == 2 && op[0] == '&' && op[1] == '*')) {
        s->flags |= SEL_ALLCHANNELS;
        selector_clear_channels(s);
    } else if (word_is(op, n, "resetchannels")) {
        s->flags &= ~(unsigned)SEL_ALLCHANNELS;
        selector_clear_channels(s);
    } else if (word_is(op, n, "allcommands") || word_is(op, n, "+@all")) {
        memset(s->allowed, 0xff, sizeof(s->allowed));
        s->flags |= SEL_ALLCOMMANDS;
        first_args_reset(s, -1);
    } else if (word_is(op, n, "nocommands") || word_is(op, n, "-@all")) {
        memset(s->allowed, 0, sizeof(s->allowed));
        s->flags &= ~(unsigned)SEL_ALLCOMMANDS;
        first_args_reset(s, -1);
    } else if (op[0] == '~' || op[0] == '%') {
        return rule_key_pattern(s, op, n);
    } else if (op[0] == '&') {
        if (s->flags & SEL_ALLCHANNELS) return RULE_AFTER_ALLCHANNELS;
        enum rule_error e = add_pattern(&s->channels, &s->nchannels, op + 1, n - 1, PERM_ALL);
        if (e == RULE_OK) s->flags &= ~(unsigned)SEL_ALLCHANNELS;
        return e;
    } else if ((op[0] == '+' || op[0] == '-') && n >= 2 && op[1] == '@') {
        for (int i = 0; i < CATEGORY_COUNT; i++) {
            if (word_is(op + 2, n - 2, category_names[i])) {
                set_category(s, 1u << i, op[0] == '+');
                return RULE_OK;
            }
        }
        return RULE_UNKNOWN;
    } else if (op[0] == '+' || op[0] == '-') {
        return rule_command(s, op, n);
    } else {
        return RULE_SYNTAX;
    }
    return RULE_OK;
}

/* "(rule rule ...)": a new selector built from the rules between the
 * parentheses, split as Redis's aclCreateSelectorFromOpSet does with
 * sdssplitargs (quotes allowed; unbalanced quotes give an empty
 * selector, as in Redis). Added only if every rule applies. */
static enum rule_error rule_selector(struct acl_user *u, const char *op, size_t n)
{
    struct acl_selector sel = {0};
    char **argv = NULL;
    size_t *lens = NULL;
    int argc = split_args(op + 1, n - 2, &argv, &lens);
    enum rule_error e = RULE_OK;
    for (int i = 0; i < argc && e == RULE_OK; i++)
        e = selector_rule_apply(&sel, argv[i], lens[i]);
    if (argc > 0) split_args_free(argv, lens, argc);
    if (e != RULE_OK) {
        selector_reset(&sel);
        return e;
    }
    u->selectors = em_realloc(u->selectors, (size_t)(u->nselectors + 1) * sizeof(*u->selectors));
    u->selectors[u->nselectors++] = sel;
    return RULE_OK;
}

/* Applies one ACL SETUSER rule to u (Redis's ACLSetUser): user-level rules
 * here, a "(...)" selector, or a rule for the root selector. */
static enum rule_error rule_apply(struct acl_user *u, const char *op, size_t n)
{
    if (n == 0) return RULE_OK;
    if (word_is(op, n, "on")) {
        u->flags |= USER_ON;
    } else if (word_is(op, n, "off")) {
        u->flags &= ~(unsigned)USER_ON;
    } else if (word_is(op, n, "skip-sanitize-payload")) {
        u->flags = (u->flags | USER_SKIP_SANITIZE) & ~(unsigned)USER_SANITIZE;
    } else if (word_is(op, n, "sanitize-payload")) {
        u->flags = (u->flags | USER_SANITIZE) & ~(unsigned)USER_SKIP_SANITIZE;
    } else if (word_is(op, n, "nopass") || word_is(op, n, "resetpass")) {
        user_clear_passwords(u);
        if (word_is(op, n, "nopass")) {
            u->flags |= USER_NOPASS;
        } else {
            u->flags &= ~(unsigned)USER_NOPASS;
        }
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return rule_password(u, op, n);
    } else if (word_is(op, n, "clearselectors")) {
        user_clear_selectors(u);
    } else if (word_is(op, n, "reset")) {
        /* resetpass resetkeys resetchannels off sanitize-payload
         * clearselectors -@all */
        user_clear_passwords(u);
        user_clear_selectors(u);
        selector_reset(&u->root);
        u->flags = USER_SANITIZE;
    } else if (op[0] == '(' && op[n - 1] == ')') {
        return rule_selector(u, op, n);
    } else {
        return selector_rule_apply(&u->root, op, n);
    }
    return RULE_OK;
}

/* Redis's ACLMergeSelectorArguments: rules split at spaces (an aclfile
 * line, redis.conf, or ACL SETUSER "(~a" "+get)") are joined back from a
 * word starting with "(" to the next one ending with ")". Returns the
 * merged rules (free with merged_free()) and their count in *out_count,
 * or NULL when a "(" is never closed, with its index in *open_at. */
struct merged {
    char *p;
    size_t len;
};

static struct merged *merge_selector_args(const char *const *argv, const size_t *lens, int argc,
                                          int *out_count, int *open_at)
{
    struct merged *out = em_malloc((size_t)(argc > 0 ? argc : 1) * sizeof(*out));
    int n = 0, open = -1;
    struct text sel = {0};
    for (int j = 0; j < argc; j++) {
        const char *op = argv[j];
        size_t len = lens[j];
        if (len > 0 && op[0] == '(' && op[len - 1] != ')') {
            sel.len = 0; /* Redis starts over at a second "(" */
            text_add(&sel, op, len);
            open = j;
            continue;
        }
        if (open >= 0) {
            text_add(&sel, " ", 1);
            text_add(&sel, op, len);
            if (len > 0 && op[len - 1] == ')') {
                out[n++] = (struct merged){sel.p, sel.len};
                sel = (struct text){0};
                open = -1;
            }
            continue;
        }
        out[n++] = (struct merged){em_strndup(op, len), len};
    }
    if (open >= 0) {
        em_free(sel.p);
        for (int i = 0; i < n; i++)
            em_free(out[i].p);
        em_free(out);
        *open_at = open;
        return NULL;
    }
    *out_count = n;
    return out;
}

static void merged_free(struct merged *m, int n)
{
    for (int i = 0; i < n; i++)
        em_free(m[i].p);
    em_free(m);
}

/* ---- Describing a user (ACL LIST, ACL GETUSER) ---- */

static void describe_single(const struct acl_selector *s, struct acl_selector *fake, int k,
                            struct text *t)
{
    bool want = bit_get(s, k);
    if (bit_get(fake, k) == want) return;
    text_cstr(t, want ? "+" : "-");
    text_cstr(t, acl_cmds[k].name);
    text_cstr(t, " ");
    change_perm(fake, k, want);
}

/* Redis's ACLDescribeSelectorCommandRules: start from +@all or -@all, then
 * greedily add the category that fixes the most commands and breaks none
 * (fewest differences, then most matches), then single commands for what
 * is left. A scratch copy of the bitmap (`temp`) has each applied category
 * inverted, so it stops counting as a match. */
static void describe_commands(const struct acl_selector *s, struct text *t)
{
    bool additive = !(s->flags & SEL_ALLCOMMANDS);
    struct acl_selector fake = {0}, temp = {0};
    memset(fake.allowed, additive ? 0 : 0xff, sizeof(fake.allowed));
    memcpy(temp.allowed, s->allowed, sizeof(temp.allowed));
    text_cstr(t, additive ? "-@all " : "+@all ");
    bool applied[CATEGORY_COUNT] = {false};
    for (;;) {
        int best = -1, mindiff = INT32_MAX, maxsame = 0;
        for (int j = 0; j < CATEGORY_COUNT; j++) {
            if (applied[j]) continue;
            int on, off;
            count_category(&temp, 1u << j, &on, &off);
            int diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0) break;
        set_category(&fake, 1u << best, additive);
        set_category(&temp, 1u << best, !additive);
        text_cstr(t, additive ? "+@" : "-@");
        text_cstr(t, category_names[best]);
        text_cstr(t, " ");
        applied[best] = true;
    }
    /* Then single commands: each top-level one, then its subcommands. */
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        if (cmd_parent[i] >= 0) continue;
        describe_single(s, &fake, i, t);
        for (int k = cmd_sub_first[i]; k < cmd_sub_end[i]; k++) {
            if (cmd_parent[k] == i) describe_single(s, &fake, k, t);
        }
        for (int f = 0; f < s->nfirst && !bit_get(s, i); f++) {
            if (s->first[f].id != i) continue;
            text_cstr(t, "+");
            text_cstr(t, acl_cmds[i].name);
            text_cstr(t, "|");
            text_add(t, s->first[f].arg, s->first[f].len);
            text_cstr(t, " ");
        }
    }
    t->p[--t->len] = '\0'; /* the trailing space */
}

static void describe_key_pattern(const struct acl_pattern *p, struct text *t)
{
    if (p->perm == PERM_ALL) {
        text_cstr(t, "~");
    } else {
        text_cstr(t, "%");
        if (p->perm & PERM_READ) text_cstr(t, "R");
        if (p->perm & PERM_WRITE) text_cstr(t, "W");
        text_cstr(t, "~");
    }
    text_add(t, p->text, p->len);
}

static unsigned shown_flags(const struct acl_user *u)
{
    return u->flags;
}

static int shown_passwords(const struct acl_user *u, char (*one)[65], const char (**list)[65])
{
    (void)one;
    *list = (const char(*)[65])u->pass;
    return u->npass;
}

static void describe_flag_words(unsigned f, struct text *t, bool trailing)
{
    static const struct {
        unsigned flag;
        const char *name;
    } words[] = {{USER_ON, "on"},
                 {0, "off"},
                 {USER_NOPASS, "nopass"},
                 {USER_SKIP_SANITIZE, "skip-sanitize-payload"},
                 {USER_SANITIZE, "sanitize-payload"}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        bool set = words[i].flag != 0 ? (f & words[i].flag) != 0 : !(f & USER_ON);
        if (!set) continue;
        text_cstr(t, words[i].name);
        if (trailing) text_cstr(t, " ");
    }
}

/* Redis's ACLDescribeSelector: keys, channels, then commands. */
static void describe_selector(const struct acl_selector *s, struct text *t)
{
    if (s->flags & SEL_ALLKEYS) {
        text_cstr(t, "~* ");
    } else {
        for (int i = 0; i < s->nkeys; i++) {
            describe_key_pattern(&s->keys[i], t);
            text_cstr(t, " ");
        }
    }
    if (s->flags & SEL_ALLCHANNELS) {
        text_cstr(t, "&* ");
    } else {
        text_cstr(t, "resetchannels ");
        for (int i = 0; i < s->nchannels; i++) {
            text_cstr(t, "&");
            text_add(t, s->channels[i].text, s->channels[i].len);
            text_cstr(t, " ");
        }
    }
    describe_commands(s, t);
}

/* The rules that recreate u, as ACL LIST prints them after "user <name> ":
 * flags, passwords, the root selector, then " (...)" per selector. */
static void describe_user(const struct acl_user *u, struct text *t)
{
    describe_flag_words(shown_flags(u), t, true);
    char one[1][65];
    const char(*pass)[65];
    int np = shown_passwords(u, one, &pass);
    for (int i = 0; i < np; i++) {
        text_cstr(t, "#");
        text_add(t, pass[i], 64);
        text_cstr(t, " ");
    }
    describe_selector(&u->root, t);
    for (int i = 0; i < u->nselectors; i++) {
        text_cstr(t, " (");
        describe_selector(&u->selectors[i], t);
        text_cstr(t, ")");
    }
}

/* ---- Permission checks ---- */

/* Movable keys Redis finds with its key specs: a count argument followed
 * by that many keys, and a destination first for the *STORE forms. */
static const struct {
    const char *name;
    int numkeys_at;
    bool dest;
} movable[] = {
    {"zunionstore", 2, true}, {"zinterstore", 2, true}, {"zdiffstore", 2, true},
    {"zunion", 1, false},     {"zinter", 1, false},     {"zdiff", 1, false},
    {"zintercard", 1, false}, {"sintercard", 1, false}, {"lmpop", 1, false},
    {"zmpop", 1, false},      {"blmpop", 2, false},     {"bzmpop", 2, false},
    {"eval", 2, false},       {"evalsha", 2, false},    {"eval_ro", 2, false},
    {"evalsha_ro", 2, false}, {"fcall", 2, false},      {"fcall_ro", 2, false},
};

static bool key_allowed(const struct acl_selector *s, struct slice key, unsigned need)
{
    for (int i = 0; i < s->nkeys; i++) {
        const struct acl_pattern *p = &s->keys[i];
        if ((p->perm & need) != need) continue;
        if (glob_match(p->text, p->len, key.ptr, key.len, false)) return true;
    }
    return false;
}

/* Redis's ACLSelectorCheckKey: reading a key's value (ACCESS) needs R;
 * inserting, deleting or updating needs W; a key spec with none of these
 * (RENAME's OW destination has UPDATE, but a plain OW or RW would not)
 * needs only a matching pattern. */
static unsigned keyspec_need(uint16_t flags)
{
    unsigned need = 0;
    if (flags & KS_ACCESS) need |= PERM_READ;
    if (flags & (KS_INSERT | KS_DELETE | KS_UPDATE)) need |= PERM_WRITE;
    return need;
}

/* A key spec flagged VARIABLE_FLAGS: its flags as Redis's getkeys_proc
 * sets them for these arguments (setGetKeys, bitfieldGetKeys), or 0 when
 * ember does not know the command. */
static uint16_t variable_keyspec_flags(const struct command *cmd, const struct slice *argv,
                                       int argc)
{
    if (cmd->parent != NULL) return 0;
    if (strcmp(cmd->name, "set") == 0) {
        for (int i = 3; i < argc; i++) {
            if (slice_eq_nocase(argv[i], "get")) return KS_RW | KS_ACCESS | KS_UPDATE;
        }
        return KS_OW | KS_UPDATE;
    }
    if (strcmp(cmd->name, "bitfield") == 0) {
        for (int i = 2; i < argc; i++) {
            if (slice_eq_nocase(argv[i], "set") || slice_eq_nocase(argv[i], "incrby")) {
                return KS_RW | KS_ACCESS | KS_UPDATE;
            }
        }
        return KS_RO | KS_ACCESS;
    }
    return 0;
}

/* Keys found by Redis 7.0.15's key specs (command_meta.c), each checked
 * with its own spec's flags, as Redis does. Returns the denied key's
 * position, 0 if all are allowed, or -1 when the specs cannot say (no
 * metadata, arguments that do not fit, a spec whose flags depend on the
 * arguments such as SET ... GET, or an incomplete one without a getkeys
 * function). */
static int keys_denied_by_specs(const struct acl_selector *s, const struct command *cmd,
                                const struct slice *argv, int argc)
{
    char full[128];
    const struct command_meta *m = command_meta_find(command_fullname(cmd, full, sizeof(full)));
    if (m == NULL) return -1;
    struct meta_key stack_keys[32];
    struct meta_key *keys = argc <= 32 ? stack_keys : em_malloc((size_t)argc * sizeof(*keys));
    int n = command_get_keys(cmd, argc, argv, keys, argc <= 32 ? 32 : argc);
    int denied = n < 0 ? -1 : 0;
    for (int i = 0; i < n && denied == 0; i++) {
        uint16_t flags = keys[i].flags;
        if (flags & KS_VARIABLE_FLAGS) flags = variable_keyspec_flags(cmd, argv, argc);
        if (flags == 0 || (flags & KS_INCOMPLETE)) {
            denied = -1;
        } else if (!key_allowed(s, argv[keys[i].pos], keyspec_need(flags))) {
            denied = keys[i].pos;
        }
    }
    if (keys != stack_keys) em_free(keys);
    return denied;
}

/* The position in argv of the first key s may not use, or 0. Key specs
 * decide where they can; otherwise a write command needs W on every key and
 * a read-only one R. */
static int keys_denied_at(const struct acl_selector *s, const struct command *cmd,
                          const struct slice *argv, int argc)
{
    if (s->flags & SEL_ALLKEYS) return 0;
    int by_specs = keys_denied_by_specs(s, cmd, argv, argc);
    if (by_specs >= 0) return by_specs;
    unsigned need = 0;
    if (cmd->flags & CMD_WRITE) need |= PERM_WRITE;
    if (cmd->flags & CMD_READONLY) need |= PERM_READ;
    if (need == 0) need = PERM_READ;
    if (cmd->parent == NULL) {
        for (size_t m = 0; m < sizeof(movable) / sizeof(movable[0]); m++) {
            if (strcmp(cmd->name, movable[m].name) != 0) continue;
            long long n;
            int at = movable[m].numkeys_at;
            if (at >= argc || !str_to_ll(argv[at].ptr, argv[at].len, &n) || n < 0 ||
                n > argc - at - 1) {
                return 0; /* the command's own error */
            }
            if (movable[m].dest && !key_allowed(s, argv[1], need)) return 1;
            for (int i = at + 1; i <= at + n; i++) {
                if (!key_allowed(s, argv[i], need)) return i;
            }
            return 0;
        }
    }
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    if (last >= argc) last = argc - 1;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    for (int i = cmd->first_key; i <= last; i += step) {
        if (!key_allowed(s, argv[i], need)) return i;
    }
    return 0;
}

static bool channel_allowed(const struct acl_selector *s, struct slice ch, bool literal)
{
    for (int i = 0; i < s->nchannels; i++) {
        const struct acl_pattern *p = &s->channels[i];
        if (literal) {
            if (p->len == ch.len && memcmp(p->text, ch.ptr, ch.len) == 0) return true;
        } else if (glob_match(p->text, p->len, ch.ptr, ch.len, false)) {
            return true;
        }
    }
    return false;
}

/* PUBLISH/SPUBLISH check their channel, (S)SUBSCRIBE every channel,
 * PSUBSCRIBE every pattern, which must equal an allowed pattern. Returns
 * the position of the first channel s may not use, or 0. */
static int channels_denied_at(const struct acl_selector *s, const struct command *cmd,
                              const struct slice *argv, int argc)
{
    if ((s->flags & SEL_ALLCHANNELS) || cmd->parent != NULL) return 0;
    int first = 0, last = -1;
    bool literal = false;
    if (strcmp(cmd->name, "publish") == 0 || strcmp(cmd->name, "spublish") == 0) {
        first = last = 1;
    } else if (strcmp(cmd->name, "subscribe") == 0 || strcmp(cmd->name, "ssubscribe") == 0) {
        first = 1;
        last = argc - 1;
    } else if (strcmp(cmd->name, "psubscribe") == 0) {
        first = 1;
        last = argc - 1;
        literal = true;
    }
    for (int i = first; i >= 1 && i <= last && i < argc; i++) {
        if (!channel_allowed(s, argv[i], literal)) return i;
    }
    return 0;
}

enum acl_result { ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_CHANNEL, ACL_DENIED_AUTH };

/* Redis's ACLSelectorCheckCmd: the command, then its keys, then its
 * channels; *pos is the denied key's or channel's position in argv. */
static enum acl_result selector_check(const struct acl_selector *s, const struct command *cmd,
                                      const struct slice *argv, int argc, int *pos)
{
    *pos = 0;
    if (!(cmd->flags & CMD_NO_AUTH)) {
        int id = cmd_id(cmd);
        bool ok = id >= 0 ? bit_get(s, id) : (s->flags & SEL_ALLCOMMANDS) != 0;
        int at = cmd->parent != NULL ? 2 : 1;
        if (!ok && id >= 0 && argc > at) ok = first_arg_allowed(s, id, argv[at]);
        if (!ok) return ACL_DENIED_CMD;
    }
    if ((*pos = keys_denied_at(s, cmd, argv, argc)) != 0) return ACL_DENIED_KEY;
    if ((*pos = channels_denied_at(s, cmd, argv, argc)) != 0) return ACL_DENIED_CHANNEL;
    return ACL_OK;
}

/* Redis's ACLCheckAllUserCommandPerm: allowed if the root selector or any
 * one other selector allows all of it (command, keys and channels). Else
 * the denial to report: the command if no selector allowed it, otherwise
 * the worst reason (a channel over a key), then the latest position. */
static enum acl_result check_all(const struct acl_user *u, const struct command *cmd,
                                 const struct slice *argv, int argc, int *pos)
{
    *pos = 0;
    if (u == NULL || u->unrestricted) return ACL_OK; /* NULL: a server-made client */
    enum acl_result worst = ACL_DENIED_CMD;
    int worst_pos = 0;
    for (int i = -1; i < u->nselectors; i++) {
        const struct acl_selector *s = i < 0 ? &u->root : &u->selectors[i];
        int at;
        enum acl_result r = selector_check(s, cmd, argv, argc, &at);
        if (r == ACL_OK) return ACL_OK;
        if (r > worst || (r == worst && at > worst_pos)) {
            worst = r;
            worst_pos = at;
        }
    }
    *pos = worst_pos;
    return worst;
}

/* ---- ACL LOG ---- */

/* One denial, or several alike (same reason, context, object and user
 * within a minute: Redis's ACLLogMatchEntry) counted together. */
struct log_entry {
    long long count;
    enum acl_result reason;
    const char *context; /* "toplevel", "multi", "lua" */
    char *object, *username, *cinfo;
    size_t object_len, username_len;
    long long ctime_ms;
};

#define ACL_LOG_GROUPING   60000 /* ms */
#define ACL_LOG_MATCH_SCAN 10

static struct log_entry **acl_log; /* newest first */
static int acl_log_cap;
static int acl_log_len;

static void log_entry_destroy(struct log_entry *e)
{
    em_free(e->object);
    em_free(e->username);
    em_free(e->cinfo);
    em_free(e);
}

static void log_reset(void)
{
    for (int i = 0; i < acl_log_len; i++)
        log_entry_destroy(acl_log[i]);
    acl_log_len = 0;
}

static void copy_number(const char *name, const char *value, void *arg)
{
    (void)name;
    long long *out = arg;
    if (!str_to_ll(value, strlen(value), out)) *out = 128;
}

/* acllog-max-len (128 unless set): older entries are dropped past it. */
static int log_max_len(void)
{
    long long n = 128;
    config_get(&server.cfg, "acllog-max-len", copy_number, &n);
    return n < 0 ? 0 : n > 1000000 ? 1000000 : (int)n;
}

static bool bytes_eq(struct slice a, const char *p, size_t n)
{
    return a.len == n && memcmp(a.ptr, p, n) == 0;
}

/* Redis's addACLLogEntry. `who` is the client whose CLIENT LIST line is
 * kept (a script's caller for a denial inside the script). */
static void log_add(const struct client *who, enum acl_result reason, const char *context,
                    struct slice object, struct slice username)
{
    long long now = clock_ms();
    for (int i = 0; i < acl_log_len && i < ACL_LOG_MATCH_SCAN; i++) {
        struct log_entry *e = acl_log[i];
        if (e->reason != reason || strcmp(e->context, context) != 0 ||
            now - e->ctime_ms > ACL_LOG_GROUPING || !bytes_eq(object, e->object, e->object_len) ||
            !bytes_eq(username, e->username, e->username_len)) {
            continue;
        }
        em_free(e->cinfo);
        e->cinfo = client_info_string(who);
        e->ctime_ms = now;
        e->count++;
        memmove(acl_log + 1, acl_log, (size_t)i * sizeof(*acl_log));
        acl_log[0] = e;
        return;
    }
    struct log_entry *e = em_malloc(sizeof(*e));
    *e = (struct log_entry){.count = 1,
                            .reason = reason,
                            .context = context,
                            .object = em_strndup(object.ptr, object.len),
                            .object_len = object.len,
                            .username = em_strndup(username.ptr, username.len),
                            .username_len = username.len,
                            .cinfo = client_info_string(who),
                            .ctime_ms = now};
    if (acl_log_len == acl_log_cap) {
        acl_log_cap = acl_log_cap ? acl_log_cap * 2 : 16;
        acl_log = em_realloc(acl_log, (size_t)acl_log_cap * sizeof(*acl_log));
    }
    memmove(acl_log + 1, acl_log, (size_t)acl_log_len * sizeof(*acl_log));
    acl_log[0] = e;
    acl_log_len++;
    for (int max = log_max_len(); acl_log_len > max;)
        log_entry_destroy(acl_log[--acl_log_len]);
}

static struct slice user_slice(const struct acl_user *u)
{
    return (struct slice){u->name, u->name_len};
}

/* Logs a denial of cmd (the command's full name, or the key or channel at
 * argv[pos]). */
static void log_denial(const struct client *who, const struct acl_user *u, enum acl_result r,
                       const char *context, const struct command *cmd, const struct slice *argv,
                       int pos)
{
    char full[128];
    struct slice object = argv[pos];
    if (r == ACL_DENIED_CMD) {
        const char *name = command_fullname(cmd, full, sizeof(full));
        object = (struct slice){name, strlen(name)};
    }
    log_add(who, r, context, object, user_slice(u));
}

/* Checks the client's arguments against its user; a denial is logged
 * under `context`. */
static enum acl_result check_client(struct client *c, const struct command *cmd,
                                    const char *context)
{
    const struct acl_user *u = checked_user(c);
    int pos;
    enum acl_result r = check_all(u, cmd, c->argv, c->argc, &pos);
    if (r != ACL_OK) log_denial(c, u, r, context, cmd, c->argv, pos);
    return r;
}

bool acl_check_or_reply(struct client *c, const struct command *cmd)
{
    enum acl_result r = check_client(c, cmd, (c->flags & CLIENT_MULTI) ? "multi" : "toplevel");
    if (r == ACL_OK) return true;
    char msg[256], full[128];
    if (r == ACL_DENIED_CMD) {
        snprintf(msg, sizeof(msg), "NOPERM this user has no permissions to run the '%s' command",
                 command_fullname(cmd, full, sizeof(full)));
    } else {
        snprintf(msg, sizeof(msg),
                 "NOPERM this user has no permissions to access one of the %s used as arguments",
                 r == ACL_DENIED_KEY ? "keys" : "channels");
    }
    /* Redis's rejectCommand(): a refused EXEC discards the transaction. */
    if (cmd->parent == NULL && strcmp(cmd->name, "exec") == 0) {
        multi_release(c);
        c->flags &= ~(unsigned)CLIENT_MULTI;
        reply_error_fmt(c, "EXECABORT Transaction discarded because of: %s", msg);
        return false;
    }
    reply_error(c, msg);
    return false;
}

bool acl_exec_check_or_reply(struct client *c, const struct command *cmd)
{
    enum acl_result r = check_client(c, cmd, "multi");
    if (r == ACL_OK) return true;
    const char *reason = r == ACL_DENIED_CMD ? "no permission to execute the command or subcommand"
                         : r == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                                               : "no permission to access one of the channels "
                                                 "used as arguments";
    reply_error_fmt(c,
                    "NOPERM ACLs rules changed between the moment the transaction was accumulated "
                    "and the EXEC call. This command is no longer allowed for the following "
                    "reason: %s",
                    reason);
    return false;
}

const char *acl_script_check(struct client *caller, const struct command *cmd,
                             const struct slice *argv, int argc)
{
    const struct acl_user *u = checked_user(caller);
    int pos;
    enum acl_result r = check_all(u, cmd, argv, argc, &pos);
    if (r == ACL_OK) return NULL;
    log_denial(caller, u, r, "lua", cmd, argv, pos);
    switch (r) {
    case ACL_DENIED_CMD:
        return "The user executing the script can't run this command or subcommand";
    case ACL_DENIED_KEY:
        return "The user executing the script can't access at least one of the keys mentioned "
               "in the command arguments";
    case ACL_DENIED_CHANNEL:
        return "The user executing the script can't publish to the channel mentioned in the "
               "command";
    default:
        return "The user executing the script is lacking the permissions for the command";
    }
}

/* Redis's ACLSelectorHasUnrestrictedKeyAccess for reading: allkeys, or a
 * pattern "*" with R. */
static bool selector_reads_every_key(const struct acl_selector *s)
{
    if (s->flags & SEL_ALLKEYS) return true;
    for (int i = 0; i < s->nkeys; i++) {
        const struct acl_pattern *p = &s->keys[i];
        if ((p->perm & PERM_READ) && p->len == 1 && p->text[0] == '*') return true;
    }
    return false;
}

bool acl_full_key_access(const struct client *c, const struct command *cmd)
{
    /* Inside a script the command runs for the script's caller. */
    const struct client *who =
        server.script_caller != NULL && c != server.script_caller ? server.script_caller : c;
    const struct acl_user *u = checked_user(who);
    if (u == NULL || u->unrestricted) return true;
    for (int i = -1; i < u->nselectors; i++) {
        const struct acl_selector *s = i < 0 ? &u->root : &u->selectors[i];
        int at;
        if (selector_reads_every_key(s) &&
            selector_check(s, cmd, c->argv, c->argc, &at) == ACL_OK) {
            return true;
        }
    }
    return false;
}

bool acl_allowed(const struct client *caller, const struct command *cmd, const struct slice *argv,
                 int argc)
{
    int pos;
    return check_all(checked_user(caller), cmd, argv, argc, &pos) == ACL_OK;
}

int acl_command_categories(const char *fullname, const char **out, int max)
{
    int id = cmd_find(fullname, strlen(fullname));
    if (id < 0) return 0;
    int n = 0;
    for (int j = 0; j < CATEGORY_COUNT && n < max; j++) {
        if (acl_cmds[id].cats & (1u << j)) out[n++] = category_names[j];
    }
    return n;
}

/* ---- Authentication ---- */

/* Equal in time that depends on the length only (both are 64 hex digits). */
static bool digest_equal(const char *a, const char *b)
{
    unsigned char diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* requirepass as last applied to the default user: CONFIG SET requirepass
 * (config.c) only changes the string, and the next look at the default
 * user's passwords applies it as Redis's ACLUpdateDefaultUserPassword does
 * (resetpass, then >password, or nopass when empty). */
static char *applied_requirepass;

static void sync_requirepass(void)
{
    const char *now = server.cfg.requirepass != NULL ? server.cfg.requirepass : "";
    if (applied_requirepass != NULL && strcmp(applied_requirepass, now) == 0) return;
    em_free(applied_requirepass);
    applied_requirepass = em_strndup(now, strlen(now));
    rule_apply(default_user, "resetpass", 9);
    if (now[0] == '\0') {
        rule_apply(default_user, "nopass", 6);
    } else {
        char op[1 + 512];
        int n = snprintf(op, sizeof(op), ">%s", now);
        if (n > 0 && (size_t)n < sizeof(op)) {
            rule_apply(default_user, op, (size_t)n);
        } else {
            /* A password longer than the buffer: add its digest directly. */
            char hash[66];
            hash[0] = '#';
            sha256_hex(now, strlen(now), hash + 1);
            rule_apply(default_user, hash, 65);
        }
    }
}

bool acl_default_open(void)
{
    if (default_user == NULL) return true; /* before acl_setup(): unit tests */
    sync_requirepass();
    return (default_user->flags & (USER_ON | USER_NOPASS)) == (USER_ON | USER_NOPASS);
}

bool acl_authenticate(struct client *c, struct slice user, struct slice pass)
{
    sync_requirepass();
    struct acl_user *u = user_find(user.ptr, user.len);
    bool ok = u != NULL && (u->flags & USER_ON);
    if (ok && !(u->flags & USER_NOPASS)) {
        char hex[65];
        sha256_hex(pass.ptr, pass.len, hex);
        bool match = false;
        for (int i = 0; i < u->npass; i++) {
            match |= digest_equal(hex, u->pass[i]);
        }
        ok = match;
    }
    if (!ok) {
        log_add(c, ACL_DENIED_AUTH, (c->flags & CLIENT_MULTI) ? "multi" : "toplevel", c->argv[0],
                user);
        return false;
    }
    if (u == default_user) {
        binding_clear(c->id);
    } else {
        binding_set(c->id, u);
    }
    return true;
}

/* ---- Set-up ---- */

static char *aclfile_path(void);
static char *load_file(const char *path, struct client *caller);

/* The config file's `user` lines (Redis's ACLLoadConfiguredUsers): a later
 * line for the same user starts it over; a bad rule is logged and false
 * returned. */
static bool load_config_users(void)
{
    for (int i = 0; i < server.cfg.user_count; i++) {
        const struct config_user *line = &server.cfg.users[i];
        const char *name = line->argv[0];
        if (has_space(name, strlen(name))) {
            log_warn("Spaces not allowed in ACL usernames");
            return false;
        }
        struct acl_user *u = user_find(name, strlen(name));
        if (u == NULL) {
            u = user_create(name, strlen(name));
            user_insert(u);
        } else {
            rule_apply(u, "reset", 5);
        }
        int nrules = line->argc - 1, merged_count = 0, open_at = 0;
        size_t *lens = em_malloc((size_t)(nrules > 0 ? nrules : 1) * sizeof(*lens));
        for (int j = 0; j < nrules; j++)
            lens[j] = strlen(line->argv[1 + j]);
        struct merged *rules = merge_selector_args((const char *const *)line->argv + 1, lens,
                                                   nrules, &merged_count, &open_at);
        em_free(lens);
        if (rules == NULL) {
            /* Redis 7.0.15 stops with "Error in user declaration" too, but
             * names the wrong word and a stale error text. */
            log_warn("Error in user declaration '%s': Unmatched parenthesis in acl selector",
                     line->argv[1 + open_at]);
            return false;
        }
        for (int j = 0; j < merged_count; j++) {
            enum rule_error e = rule_apply(u, rules[j].p, rules[j].len);
            if (e != RULE_OK) {
                log_warn("Error loading ACL rule '%s' for the user named '%s': %s", rules[j].p,
                         name, rule_error_text(e));
                merged_free(rules, merged_count);
                return false;
            }
        }
        merged_free(rules, merged_count);
        user_refresh(u);
        if (!(u->flags & USER_ON)) {
            log_notice("The user '%s' is disabled (there is no 'on' modifier in the user "
                       "description). Make sure this is not a configuration error.",
                       name);
        }
    }
    update_enforced();
    return true;
}

void acl_setup(void)
{
    build_tree();
    command_foreach(map_command, NULL);
    qsort(cmd_map, (size_t)cmd_map_count, sizeof(*cmd_map), cmp_map);
    default_user = user_create("default", 7);
    rule_apply(default_user, "+@all", 5);
    rule_apply(default_user, "~*", 2);
    rule_apply(default_user, "&*", 2);
    default_user->flags |= USER_ON | USER_NOPASS;
    user_refresh(default_user);
    user_insert(default_user);
    update_enforced();
    sync_requirepass();
    char *path = aclfile_path();
    if (path != NULL && server.cfg.user_count > 0) {
        log_warn("Configuring Redis with users defined in redis.conf and at the same setting an "
                 "ACL file path is invalid. This setup is very likely to lead to configuration "
                 "errors and security holes, please define either an ACL file or declare users "
                 "directly in your redis.conf, but not both.");
        em_free(path);
        exit(1);
    }
    if (!load_config_users()) {
        log_warn("Critical error while loading ACLs. Exiting.");
        em_free(path);
        exit(1);
    }
    if (path != NULL) {
        /* Redis's ACLLoadUsersAtStartup: a bad file stops the start. */
        char *errors = load_file(path, NULL);
        if (errors != NULL) {
            log_warn("Aborting Redis startup because of ACL errors: %s", errors);
            em_free(errors);
        }
        em_free(path);
        if (errors != NULL) exit(1);
    }
}

void acl_teardown(void)
{
    for (int i = 0; i < user_count; i++)
        user_destroy(users[i]);
    em_free(users);
    users = NULL;
    user_count = 0;
    default_user = NULL;
    acl_enforced = false;
    em_free(applied_requirepass);
    applied_requirepass = NULL;
    log_reset();
    em_free(acl_log);
    acl_log = NULL;
    acl_log_cap = 0;
    em_free(bindings);
    bindings = NULL;
    binding_cap = binding_count = 0;
    em_free(cmd_map);
    cmd_map = NULL;
    cmd_map_count = 0;
}

/* ---- ACL commands ---- */

/* Redis's addReplySubcommandSyntaxError, for a known subcommand with
 * arguments its handler does not take. */
static void reply_subcommand_syntax_error(struct client *c)
{
    reply_error_fmt(c,
                    "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                    (int)(c->argv[1].len < 128 ? c->argv[1].len : 128), c->argv[1].ptr);
}

static bool valid_username(struct slice name)
{
    return !has_space(name.ptr, name.len);
}

/* ACL SETUSER username [rule ...]: all rules apply or none (they run on a
 * copy), and the user is created only if they all succeed. */
static void acl_setuser(struct client *c)
{
    sync_requirepass();
    struct slice name = c->argv[2];
    if (!valid_username(name)) {
        reply_error(c, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    int nrules = c->argc - 3, merged_count = 0, open_at = 0;
    const char **args = em_malloc((size_t)(nrules > 0 ? nrules : 1) * sizeof(*args));
    size_t *lens = em_malloc((size_t)(nrules > 0 ? nrules : 1) * sizeof(*lens));
    for (int j = 0; j < nrules; j++) {
        args[j] = c->argv[3 + j].ptr;
        lens[j] = c->argv[3 + j].len;
    }
    struct merged *rules = merge_selector_args(args, lens, nrules, &merged_count, &open_at);
    em_free(args);
    em_free(lens);
    if (rules == NULL) {
        struct slice at = c->argv[3 + open_at];
        reply_error_fmt(c, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.",
                        (int)at.len, at.ptr);
        return;
    }
    struct acl_user *u = user_find(name.ptr, name.len);
    struct acl_user *work = u != NULL ? user_copy(u) : user_create(name.ptr, name.len);
    for (int j = 0; j < merged_count; j++) {
        enum rule_error e = rule_apply(work, rules[j].p, rules[j].len);
        if (e != RULE_OK) {
            reply_error_fmt(c, "ERR Error in ACL SETUSER modifier '%.*s': %s", (int)rules[j].len,
                            rules[j].p, rule_error_text(e));
            user_destroy(work);
            merged_free(rules, merged_count);
            return;
        }
    }
    merged_free(rules, merged_count);
    user_refresh(work);
    if (u != NULL) {
        user_take(u, work);
    } else {
        user_insert(work);
    }
    update_enforced();
    reply_ok(c);
}

/* Closes the clients acting as u (the caller after this reply, as Redis
 * does) and forgets them. */
static void kill_clients_of(struct client *caller, const struct acl_user *u)
{
    for (struct client *x = server.clients; x != NULL; x = x->next) {
        if (client_user(x) != u) continue;
        if (x == caller) {
            client_close_after_reply(x);
        } else {
            client_close_asap(x);
        }
    }
    for (size_t i = 0; i < binding_cap; i++) {
        if (bindings[i].user == u) bindings[i].user = default_user;
    }
}

/* ACL DELUSER username [username ...] */
static void acl_deluser(struct client *c)
{
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (c->argv[j].len == 7 && memcmp(c->argv[j].ptr, "default", 7) == 0) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    for (int j = 2; j < c->argc; j++) {
        struct acl_user *u = user_find(c->argv[j].ptr, c->argv[j].len);
        if (u == NULL) continue;
        kill_clients_of(c, u);
        user_remove(u);
        user_destroy(u);
        deleted++;
    }
    update_enforced();
    reply_int(c, deleted);
}

/* ---- The ACL file (aclfile, ACL LOAD, ACL SAVE) ---- */

static void copy_config_value(const char *name, const char *value, void *arg)
{
    (void)name;
    char **out = arg;
    if (*out == NULL && value[0] != '\0') *out = em_strndup(value, strlen(value));
}

/* The aclfile directive's path, or NULL when none is configured. */
static char *aclfile_path(void)
{
    char *path = NULL;
    config_get(&server.cfg, "aclfile", copy_config_value, &path);
    return path;
}

static void errors_add(struct text *errors, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses one line of an ACL file into the users being built (Redis's
 * ACLLoadFromFile, whose messages these are). */
static void load_line(char *line, const char *path, int linenum, struct text *errors)
{
    size_t len = strlen(line);
    while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
        line[--len] = '\0';
    while (*line != '\0' && strchr(" \t\r\n", *line) != NULL)
        line++;
    if (*line == '\0') return;
    char *argv[1024];
    int argc = 0;
    for (char *p = line, *sp; argc < 1024; p = sp + 1) {
        sp = strchr(p, ' ');
        argv[argc++] = p;
        if (sp == NULL) break;
        *sp = '\0';
    }
    if (strcmp(argv[0], "user") != 0 || argc < 2) {
        errors_add(errors, "%s:%d should start with user keyword followed by the username. ", path,
                   linenum);
        return;
    }
    if (has_space(argv[1], strlen(argv[1]))) {
        errors_add(errors, "'%s:%d: username '%s' contains invalid characters. ", path, linenum,
                   argv[1]);
        return;
    }
    if (user_find(argv[1], strlen(argv[1])) != NULL) {
        errors_add(errors, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], linenum);
        return;
    }
    struct acl_user *u = user_create(argv[1], strlen(argv[1]));
    size_t lens[1024];
    for (int j = 2; j < argc; j++)
        lens[j] = strlen(argv[j]);
    int merged_count = 0, open_at;
    struct merged *rules = merge_selector_args((const char *const *)argv + 2, lens + 2, argc - 2,
                                               &merged_count, &open_at);
    if (rules == NULL) {
        /* No space after this one, as in Redis 7.0.15 (which crashes when
         * rules precede the "(": it then indexes the NULL list it got). */
        errors_add(errors, "%s:%d: Unmatched parenthesis in selector definition.", path, linenum);
        merged_count = 0; /* no rules to apply; the user is still created */
    }
    bool reported = false;
    for (int j = 0; j < merged_count; j++) {
        char *op = rules[j].p;
        size_t n = rules[j].len;
        while (n > 0 && strchr("\t\r\n", op[n - 1]) != NULL)
            n--;
        while (n > 0 && strchr("\t\r\n", *op) != NULL) {
            op++;
            n--;
        }
        enum rule_error e = rule_apply(u, op, n);
        if (e == RULE_UNKNOWN) {
            errors_add(errors, "%s:%d: Error in applying operation '%.*s': %s. ", path, linenum,
                       (int)n, op, rule_error_text(e));
        } else if (e != RULE_OK && !reported) {
            errors_add(errors, "%s:%d: %s. ", path, linenum, rule_error_text(e));
            reported = true;
        }
    }
    if (rules != NULL) merged_free(rules, merged_count);
    user_refresh(u);
    user_insert(u);
}

/* Replaces every user with the file's (the default user keeps its identity
 * and takes the file's settings, or the initial ones if the file has
 * none); clients of the users replaced are closed, as Redis does. All or
 * nothing: returns NULL, or the errors (caller frees) with nothing changed. */
static char *load_file(const char *path, struct client *caller)
{
    struct text errors = {0};
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        errors_add(&errors, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return errors.p;
    }
    struct acl_user **old = users;
    int old_count = user_count;
    users = NULL;
    user_count = 0;
    char *line = NULL;
    size_t cap = 0;
    int linenum = 0;
    while (getline(&line, &cap, f) != -1)
        load_line(line, path, ++linenum, &errors);
    free(line); /* getline's buffer comes from libc's malloc */
    fclose(f);
    if (errors.len > 0) {
        for (int i = 0; i < user_count; i++)
            user_destroy(users[i]);
        em_free(users);
        users = old;
        user_count = old_count;
        errors_add(&errors, "WARNING: ACL errors detected, no change to the previously active ACL "
                            "rules was performed");
        return errors.p;
    }
    struct acl_user *fresh = user_find("default", 7);
    if (fresh != NULL) {
        user_remove(fresh);
    } else {
        fresh = user_create("default", 7);
        rule_apply(fresh, "+@all", 5);
        rule_apply(fresh, "~*", 2);
        rule_apply(fresh, "&*", 2);
        fresh->flags |= USER_ON | USER_NOPASS;
    }
    user_refresh(fresh);
    user_take(default_user, fresh);
    user_insert(default_user);
    for (int i = 0; i < old_count; i++) {
        if (old[i] == default_user) continue;
        kill_clients_of(caller, old[i]);
        user_destroy(old[i]);
    }
    em_free(old);
    update_enforced();
    return NULL;
}

static void errors_add(struct text *errors, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) text_add(errors, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Writes every user as ACL LIST shows it to a temporary file, then renames
 * it over `path`, so a crash leaves the old file or the new one. */
static int save_file(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%lld", path, (int)getpid(), clock_ms());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        log_warn("Opening temp ACL file for ACL SAVE: %s", strerror(errno));
        return -1;
    }
    bool ok = true;
    for (int i = 0; i < user_count && ok; i++) {
        struct text t = {0};
        text_cstr(&t, "user ");
        text_add(&t, users[i]->name, users[i]->name_len);
        text_cstr(&t, " ");
        describe_user(users[i], &t);
        text_cstr(&t, "\n");
        ok = fwrite(t.p, 1, t.len, f) == t.len;
        em_free(t.p);
    }
    ok = fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) < 0) ok = false;
    if (!ok) {
        log_warn("Writing ACL file for ACL SAVE: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void acl_no_file(struct client *c);

char **acl_config_lines(int *count)
{
    char *path = aclfile_path();
    char **lines = em_malloc((size_t)(user_count + 1) * sizeof(*lines));
    *count = 0;
    if (path != NULL) { /* the users live in the ACL file: no `user` lines */
        em_free(path);
        return lines;
    }
    sync_requirepass();
    for (int i = 0; i < user_count; i++) {
        struct text t = {0};
        text_add(&t, users[i]->name, users[i]->name_len);
        text_cstr(&t, " ");
        describe_user(users[i], &t);
        lines[(*count)++] = t.p;
    }
    return lines;
}

void acl_config_lines_free(char **lines, int count)
{
    for (int i = 0; i < count; i++)
        em_free(lines[i]);
    em_free(lines);
}

/* ACL LOAD */
static void acl_load(struct client *c)
{
    char *path = aclfile_path();
    if (path == NULL) {
        acl_no_file(c);
        return;
    }
    sync_requirepass();
    char *errors = load_file(path, c);
    em_free(path);
    if (errors != NULL) {
        reply_error_fmt(c, "ERR %s", errors);
        em_free(errors);
        return;
    }
    reply_ok(c);
}

/* ACL SAVE */
static void acl_save(struct client *c)
{
    char *path = aclfile_path();
    if (path == NULL) {
        acl_no_file(c);
        return;
    }
    sync_requirepass();
    int rc = save_file(path);
    em_free(path);
    if (rc < 0) {
        reply_error(c, "ERR There was an error trying to save the ACLs. Please check the server "
                       "logs for more information");
        return;
    }
    reply_ok(c);
}

/* Redis's aclAddReplySelectorDescription: three map fields, "commands",
 * "keys" and "channels", for ACL GETUSER. */
static void reply_selector_fields(struct client *c, const struct acl_selector *s)
{
    struct text t = {0};
    reply_bulk_cstr(c, "commands");
    text_cstr(&t, "");
    describe_commands(s, &t);
    reply_bulk(c, t.p, t.len);
    t.len = 0;

    reply_bulk_cstr(c, "keys");
    text_cstr(&t, "");
    if (s->flags & SEL_ALLKEYS) {
        text_cstr(&t, "~*");
    } else {
        for (int i = 0; i < s->nkeys; i++) {
            if (i > 0) text_cstr(&t, " ");
            describe_key_pattern(&s->keys[i], &t);
        }
    }
    reply_bulk(c, t.p, t.len);
    t.len = 0;

    reply_bulk_cstr(c, "channels");
    text_cstr(&t, "");
    if (s->flags & SEL_ALLCHANNELS) {
        text_cstr(&t, "&*");
    } else {
        for (int i = 0; i < s->nchannels; i++) {
            if (i > 0) text_cstr(&t, " ");
            text_cstr(&t, "&");
            text_add(&t, s->channels[i].text, s->channels[i].len);
        }
    }
    reply_bulk(c, t.p, t.len);
    em_free(t.p);
}

/* ACL GETUSER username: a map of flags, passwords, the root selector's
 * commands, keys and channels, and "selectors": the others, a map each;
 * null if there is no such user. */
static void acl_getuser(struct client *c)
{
    sync_requirepass();
    const struct acl_user *u = user_find(c->argv[2].ptr, c->argv[2].len);
    if (u == NULL) {
        reply_null(c);
        return;
    }
    reply_map_len(c, 6);
    reply_bulk_cstr(c, "flags");
    struct text t = {0};
    unsigned f = shown_flags(u);
    int nflags = 0;
    text_cstr(&t, "");
    describe_flag_words(f, &t, true);
    for (size_t i = 0; i < t.len; i++)
        nflags += t.p[i] == ' ';
    reply_set_len(c, nflags);
    for (char *w = t.p, *sp; (sp = strchr(w, ' ')) != NULL; w = sp + 1)
        reply_bulk(c, w, (size_t)(sp - w));
    t.len = 0;

    reply_bulk_cstr(c, "passwords");
    char one[1][65];
    const char(*pass)[65];
    int np = shown_passwords(u, one, &pass);
    reply_array_len(c, np);
    for (int i = 0; i < np; i++)
        reply_bulk(c, pass[i], 64);

    em_free(t.p);
    reply_selector_fields(c, &u->root); /* at the top level too, as in Redis */
    reply_bulk_cstr(c, "selectors");
    reply_array_len(c, u->nselectors);
    for (int i = 0; i < u->nselectors; i++) {
        reply_map_len(c, 3);
        reply_selector_fields(c, &u->selectors[i]);
    }
}

/* ACL LIST: "user <name> <rules>" per user, by name. */
static void acl_list(struct client *c)
{
    sync_requirepass();
    reply_array_len(c, user_count);
    for (int i = 0; i < user_count; i++) {
        struct text t = {0};
        text_cstr(&t, "user ");
        text_add(&t, users[i]->name, users[i]->name_len);
        text_cstr(&t, " ");
        describe_user(users[i], &t);
        reply_bulk(c, t.p, t.len);
        em_free(t.p);
    }
}

static void acl_users(struct client *c)
{
    reply_array_len(c, user_count);
    for (int i = 0; i < user_count; i++)
        reply_bulk(c, users[i]->name, users[i]->name_len);
}

static void acl_whoami(struct client *c)
{
    reply_bulk_cstr(c, acl_client_user(c));
}

/* ACL CAT [category]: the categories, or the commands in one (top-level
 * commands and subcommands by full name). */
static void acl_cat(struct client *c)
{
    if (c->argc == 2) {
        reply_array_len(c, CATEGORY_COUNT);
        for (int j = 0; j < CATEGORY_COUNT; j++)
            reply_bulk_cstr(c, category_names[j]);
        return;
    }
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return;
    }
    int cat = -1;
    for (int j = 0; j < CATEGORY_COUNT; j++) {
        if (slice_eq_nocase(c->argv[2], category_names[j])) cat = j;
    }
    if (cat < 0) {
        reply_error_fmt(c, "ERR Unknown category '%.*s'", (int)c->argv[2].len, c->argv[2].ptr);
        return;
    }
    void *h = reply_defer_len(c);
    long long n = 0;
    for (int i = 0; i < ACL_CMD_COUNT; i++) {
        if (acl_cmds[i].cats & (1u << cat)) {
            reply_bulk_cstr(c, acl_cmds[i].name);
            n++;
        }
    }
    reply_set_array_len(c, h, n);
}

/* ACL GENPASS [bits]: random hex, 4 bits per digit, rounded up. */
static void acl_genpass(struct client *c)
{
    long long bits = 256;
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return;
    }
    if (c->argc == 3 && !arg_ll_or_reply(c, 2, &bits)) return;
    if (bits <= 0 || bits > 4096) {
        reply_error(c, "ERR ACL GENPASS argument must be the number of bits for the output "
                       "password, a positive number up to 4096");
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    unsigned char raw[512];
    char out[1025];
    random_bytes(raw, (chars + 1) / 2);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < chars; i++)
        out[i] = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    reply_bulk(c, out, chars);
}

/* ACL LOG [count | RESET]: the newest `count` (10) entries first. */
static void acl_log_cmd(struct client *c)
{
    long long count = 10;
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return;
    }
    if (c->argc == 3) {
        if (arg_is(c, 2, "reset")) {
            log_reset();
            reply_ok(c);
            return;
        }
        if (!arg_ll_or_reply(c, 2, &count)) return;
        if (count < 0) count = 0;
    }
    if (count > acl_log_len) count = acl_log_len;
    static const char *const reasons[] = {"unknown", "command", "key", "channel", "auth"};
    long long now = clock_ms();
    reply_array_len(c, count);
    for (int i = 0; i < count; i++) {
        const struct log_entry *e = acl_log[i];
        reply_map_len(c, 7);
        reply_bulk_cstr(c, "count");
        reply_int(c, e->count);
        reply_bulk_cstr(c, "reason");
        reply_bulk_cstr(c, reasons[e->reason]);
        reply_bulk_cstr(c, "context");
        reply_bulk_cstr(c, e->context);
        reply_bulk_cstr(c, "object");
        reply_bulk(c, e->object, e->object_len);
        reply_bulk_cstr(c, "username");
        reply_bulk(c, e->username, e->username_len);
        reply_bulk_cstr(c, "age-seconds");
        reply_double(c, (double)(now - e->ctime_ms) / 1000);
        reply_bulk_cstr(c, "client-info");
        reply_bulk_cstr(c, e->cinfo);
    }
}

/* Redis's lookupCommand(argv, argc): a container's subcommand when there
 * is a second argument, NULL if that names none. */
static const struct command *lookup_argv(const struct slice *argv, int argc)
{
    const struct command *cmd = command_lookup(argv[0]);
    if (cmd == NULL || cmd->subcommands == NULL || argc == 1) return cmd;
    for (const struct command *sub = cmd->subcommands; sub->name != NULL; sub++) {
        if (slice_eq_nocase(argv[1], sub->name)) return sub;
    }
    return NULL;
}

/* ACL DRYRUN username command [arg ...]: OK, or why the user may not run
 * it (a bulk string, as Redis replies). */
static void acl_dryrun(struct client *c)
{
    sync_requirepass();
    struct slice name = c->argv[2];
    const struct acl_user *u = user_find(name.ptr, name.len);
    if (u == NULL) {
        reply_error_fmt(c, "ERR User '%.*s' not found", (int)name.len, name.ptr);
        return;
    }
    const struct slice *argv = c->argv + 3;
    int argc = c->argc - 3;
    const struct command *cmd = lookup_argv(argv, argc);
    char full[128];
    if (cmd == NULL) {
        reply_error_fmt(c, "ERR Command '%.*s' not found", (int)argv[0].len, argv[0].ptr);
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_error_fmt(c, "ERR wrong number of arguments for '%s' command",
                        command_fullname(cmd, full, sizeof(full)));
        return;
    }
    int pos;
    enum acl_result r = check_all(u, cmd, argv, argc, &pos);
    char msg[512];
    int n = 0;
    if (r == ACL_DENIED_CMD) {
        n = snprintf(msg, sizeof(msg), "This user has no permissions to run the '%s' command",
                     command_fullname(cmd, full, sizeof(full)));
    } else if (r != ACL_OK) {
        int len = argv[pos].len < 256 ? (int)argv[pos].len : 256;
        n = snprintf(msg, sizeof(msg), "This user has no permissions to access the '%.*s' %s", len,
                     argv[pos].ptr, r == ACL_DENIED_KEY ? "key" : "channel");
    }
    if (r == ACL_OK || n <= 0) {
        reply_ok(c);
        return;
    }
    reply_bulk(c, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static void acl_no_file(struct client *c)
{
    reply_error(c, "ERR This Redis instance is not configured to use an ACL file. You may want to "
                   "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
                   "(assuming you have a Redis configuration file set) in order to store users in "
                   "the Redis configuration.");
}

static void acl_help(struct client *c)
{
    static const char *const lines[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        ("    Returns whether the user can execute the given command without executing the "
         "command."),
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

#define ACL_SUB(n, p, a, f, s, cx)                                                                 \
    {                                                                                              \
        .name = (n), .proc = (p), .arity = (a), .flags = (f), .group = "server", .summary = (s),   \
        .since = "6.0.0", .complexity = (cx)                                                       \
    }
#define ACL_ADMIN (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define ACL_PLAIN (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

/* clang-format off */
static struct command acl_subcommands[] = {
    ACL_SUB("cat", acl_cat, -2, ACL_PLAIN,
            "List the ACL categories or the commands inside a category",
            "O(1) since the categories and commands are a fixed set."),
    ACL_SUB("deluser", acl_deluser, -3, ACL_ADMIN,
            "Remove the specified ACL users and the associated rules",
            "O(1) amortized time considering the typical user."),
    {.name = "dryrun", .proc = acl_dryrun, .arity = -4, .flags = ACL_ADMIN, .group = "server",
     .summary = "Returns whether the user can execute the given command without executing the "
                "command.",
     .since = "7.0.0", .complexity = "O(1)."},
    ACL_SUB("genpass", acl_genpass, -2, ACL_PLAIN,
            "Generate a pseudorandom secure password to use for ACL users", "O(1)"),
    ACL_SUB("getuser", acl_getuser, 3, ACL_ADMIN, "Get the rules for a specific ACL user",
            "O(N). Where N is the number of password, command and pattern rules that the user "
            "has."),
    ACL_SUB("help", acl_help, 2, CMD_LOADING | CMD_STALE,
            "Show helpful text about the different subcommands", "O(1)"),
    ACL_SUB("list", acl_list, 2, ACL_ADMIN,
            "List the current ACL rules in ACL config file format",
            "O(N). Where N is the number of configured users."),
    ACL_SUB("log", acl_log_cmd, -2, ACL_ADMIN,
            "List latest events denied because of ACLs in place",
            "O(N) with N being the number of entries shown."),
    ACL_SUB("load", acl_load, 2, ACL_ADMIN, "Reload the ACLs from the configured ACL file",
            "O(N). Where N is the number of configured users."),
    ACL_SUB("save", acl_save, 2, ACL_ADMIN, "Save the current ACL rules in the configured ACL file",
            "O(N). Where N is the number of configured users."),
    ACL_SUB("setuser", acl_setuser, -3, ACL_ADMIN,
            "Modify or create the rules for a specific ACL user",
            "O(N). Where N is the number of rules provided."),
    ACL_SUB("users", acl_users, 2, ACL_ADMIN,
            "List the username of all the configured ACL rules",
            "O(N). Where N is the number of configured users."),
    ACL_SUB("whoami", acl_whoami, 2, ACL_PLAIN,
            "Return the name of the user associated to the current connection", "O(1)"),
    COMMAND_TABLE_END,
};

struct command acl_commands[] = {
    {.name = "acl", .proc = NULL, .arity = -2, .flags = CMD_SENTINEL, .group = "server",
     .summary = "A container for Access List Control commands", .since = "6.0.0",
     .complexity = "Depends on subcommand.", .subcommands = acl_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
