/* config.c: redis.conf, the command line, CONFIG GET and CONFIG SET.
 *
 * One static table (`directives` below) describes every option: its name as
 * Redis spells it, an alias if Redis 7 keeps one (list-max-ziplist-size for
 * list-max-listpack-size...), its type, limits, default, and whether CONFIG
 * SET may change it. Everything else reads that table:
 *  - config_init() feeds each default, written as in redis.conf, through the
 *    same setter a config line uses, so a default cannot skip validation.
 *  - A config file is text: lines trimmed, '#' comments and blank lines
 *    skipped, each line split like Redis's sdssplitargs (quotes, escapes),
 *    the directive name folded to lower case and looked up. `include` loads
 *    another file (or glob) on the spot, with its own line numbers.
 *  - The command line is first turned into config lines exactly as Redis's
 *    main() does ("--port 7000" becomes `port "7000"`), then parsed as text
 *    that continues the file's numbering, so errors read the same.
 *  - CONFIG SET and CONFIG GET go through the same setters and renderers.
 *
 * Messages are Redis 7.0.15's, byte for byte, checked against the real
 * server: the FATAL CONFIG FILE ERROR layout and each value's reason.
 *
 * This file holds data only: no libuv, no client, no server. Applying a new
 * value (a log level, a port) is the caller's job. The one side effect kept
 * is Redis's own: `dir` chdir()s at once, so later relative paths follow. */
#include "ember/config.h"

#include "ember/log.h"
#include "ember/mem.h"
#include "ember/util.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The version Redis's messages carry; clients and scripts match on them. */
#define CONFIG_REDIS_VERSION "7.0.15"
#define FATAL_HEADER         "*** FATAL CONFIG FILE ERROR (Redis " CONFIG_REDIS_VERSION ") ***\n"
/* Redis recurses on `include` without a limit and overflows its stack on a
 * loop; we stop here and say why. */
#define INCLUDE_MAX_DEPTH 16
/* Room for one reason (the longest is an enum's list of names). */
#define REASON_SIZE 512

/* ---- A growable string ---- */

struct buf {
    char *ptr;
    size_t len;
    size_t cap;
};

static void buf_catlen(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->ptr = em_realloc(b->ptr, cap);
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

static void buf_cat(struct buf *b, const char *s)
{
    buf_catlen(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) buf_catlen(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void buf_release(struct buf *b)
{
    em_free(b->ptr);
    *b = (struct buf){0};
}

/* Redis's sdscatrepr: the quoted form main() gives command-line values. */
static void buf_cat_repr(struct buf *b, const char *s)
{
    buf_cat(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '\\':
        case '"':
            buf_printf(b, "\\%c", c);
            break;
        case '\n':
            buf_cat(b, "\\n");
            break;
        case '\r':
            buf_cat(b, "\\r");
            break;
        case '\t':
            buf_cat(b, "\\t");
            break;
        case '\a':
            buf_cat(b, "\\a");
            break;
        case '\b':
            buf_cat(b, "\\b");
            break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                buf_catlen(b, (const char *)&c, 1);
            } else {
                buf_printf(b, "\\x%02x", c);
            }
        }
    }
    buf_cat(b, "\"");
}

static void replace_str(char **field, const char *value)
{
    em_free(*field);
    *field = value == NULL ? NULL : em_strndup(value, strlen(value));
}

/* ---- The directive table ---- */

enum directive_type {
    T_BOOL,    /* yes/no */
    T_INT,     /* plain integer (Redis's string2ll), range-checked */
    T_MEMORY,  /* integer with an optional unit: 1k, 1kb, 100mb, 1gb */
    T_ENUM,    /* one of a list of words */
    T_STRING,  /* any text */
    T_SPECIAL, /* its own setter and renderer */
};

#define D_IMMUTABLE  0u        /* CONFIG SET refuses it: fixed at start-up */
#define D_MUTABLE    (1u << 0) /* CONFIG SET may change it */
#define D_PROTECTED  (1u << 1) /* CONFIG SET refuses it (Redis's PROTECTED_CONFIG) */
#define D_MULTI_ARG  (1u << 2) /* takes several words: bind, save, client-output-buffer-limit */
#define D_EMPTY_NULL (1u << 3) /* a string where "" is stored as NULL */

struct enum_name {
    const char *name;
    int value;
};

/* A special directive's setter: argv holds its words (argc may be 0).
 * `loading` is true while reading a file or the command line. Returns NULL, or
 * the reason it refused (static text or written into reason[REASON_SIZE]). */
typedef const char *special_set_fn(struct config *cfg, char **argv, int argc, bool loading,
                                   char *reason);
typedef void special_get_fn(const struct config *cfg, struct buf *out);
/* Extra validation after the type's own: NULL or the reason. */
typedef const char *check_fn(const char *arg, long long parsed);
/* Runs after a value is stored, to derive or cap other fields. */
typedef void apply_fn(struct config *cfg);

struct directive {
    const char *name;
    const char *alias;
    enum directive_type type;
    unsigned flags;
    size_t offset; /* of the field in struct config; unused for T_SPECIAL */
    size_t size;   /* of that field: bool, int or long long */
    long long min, max;
    const char *def; /* the default, written as in redis.conf */
    const struct enum_name *enums;
    special_set_fn *set;
    special_get_fn *get;
    check_fn *check;
    apply_fn *apply;
};

#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

static const struct enum_name loglevel_enum[] = {
    {"debug", LOG_DEBUG},
    {"verbose", LOG_VERBOSE},
    {"notice", LOG_NOTICE},
    {"warning", LOG_WARNING},
    {NULL, 0},
};

static const struct enum_name maxmemory_policy_enum[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU},
    {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM},
    {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU},
    {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM},
    {"noeviction", MAXMEMORY_NOEVICTION},
    {NULL, 0},
};

static const struct enum_name appendfsync_enum[] = {
    {"always", 0},
    {"everysec", 1},
    {"no", 2},
    {NULL, 0},
};

static const struct enum_name protected_action_enum[] = {
    {"no", CONFIG_ALLOW_NO},
    {"yes", CONFIG_ALLOW_YES},
    {"local", CONFIG_ALLOW_LOCAL},
    {NULL, 0},
};

/* Enumerations of the passive directives (see below); the values only need
 * to differ. */
static const struct enum_name supervised_enum[] = {
    {"upstart", 0}, {"systemd", 1}, {"auto", 2}, {"no", 3}, {NULL, 0},
};

static const struct enum_name syslog_facility_enum[] = {
    {"user", 0},   {"local0", 1}, {"local1", 2}, {"local2", 3}, {"local3", 4},
    {"local4", 5}, {"local5", 6}, {"local6", 7}, {"local7", 8}, {NULL, 0},
};

static const struct enum_name repl_diskless_load_enum[] = {
    {"disabled", 0},
    {"on-empty-db", 1},
    {"swapdb", 2},
    {NULL, 0},
};

static const struct enum_name oom_score_adj_enum[] = {
    {"no", 0}, {"yes", 1}, {"relative", 2}, {"absolute", 3}, {NULL, 0},
};

static const struct enum_name acl_pubsub_default_enum[] = {
    {"allchannels", 0},
    {"resetchannels", 1},
    {NULL, 0},
};

static const struct enum_name sanitize_dump_payload_enum[] = {
    {"no", 0},
    {"yes", 1},
    {"clients", 2},
    {NULL, 0},
};

static const struct enum_name enable_protected_configs_enum[] = {
    {"no", 0},
    {"yes", 1},
    {"local", 2},
    {NULL, 0},
};

static const struct enum_name enable_module_command_enum[] = {
    {"no", 0},
    {"yes", 1},
    {"local", 2},
    {NULL, 0},
};

static const struct enum_name cluster_preferred_endpoint_type_enum[] = {
    {"ip", 0},
    {"hostname", 1},
    {"unknown-endpoint", 2},
    {NULL, 0},
};

static const struct enum_name propagation_error_behavior_enum[] = {
    {"ignore", 0},
    {"panic", 1},
    {"panic-on-replicas", 2},
    {NULL, 0},
};

static const struct enum_name tls_auth_clients_enum[] = {
    {"no", 0},
    {"yes", 1},
    {"optional", 2},
    {NULL, 0},
};

static special_set_fn set_bind, set_save, set_dir, set_notify, set_cobl;
static special_get_fn get_bind, get_save, get_dir, get_notify, get_cobl;
static special_set_fn set_maxmemory_clients, set_oom_values, set_percentiles, set_replicaof;
static special_get_fn get_maxmemory_clients, get_oom_values, get_percentiles, get_replicaof;
static special_set_fn set_sigint, set_sigterm;
static special_get_fn get_sigint, get_sigterm;
static check_fn check_daemonize, check_dbfilename, check_aof_filename, check_aof_dirname;
static apply_fn apply_hz, apply_debug_command;
static check_fn check_proc_title;

/* Row constructors, after Redis's createIntConfig() and friends: name,
 * alias, flags, field, then limits, default and hooks. */
#define BOOL_CONFIG(nm, fl, fld, dflt, chk)                                                        \
    {                                                                                              \
        .name = nm, .type = T_BOOL, .flags = fl, FIELD(fld), .def = dflt, .check = chk             \
    }
#define INT_CONFIG(nm, al, fl, fld, lo, hi, dflt, app)                                             \
    {                                                                                              \
        .name = nm, .alias = al, .type = T_INT, .flags = fl, FIELD(fld), .min = lo, .max = hi,     \
        .def = dflt, .apply = app                                                                  \
    }
#define MEMORY_CONFIG(nm, al, fl, fld, lo, hi, dflt)                                               \
    {                                                                                              \
        .name = nm, .alias = al, .type = T_MEMORY, .flags = fl, FIELD(fld), .min = lo, .max = hi,  \
        .def = dflt                                                                                \
    }
#define ENUM_CONFIG(nm, fl, fld, dflt, names, app)                                                 \
    {                                                                                              \
        .name = nm, .type = T_ENUM, .flags = fl, FIELD(fld), .def = dflt, .enums = names,          \
        .apply = app                                                                               \
    }
#define STRING_CONFIG(nm, fl, fld, dflt, chk)                                                      \
    {                                                                                              \
        .name = nm, .type = T_STRING, .flags = fl, FIELD(fld), .def = dflt, .check = chk           \
    }
#define SPECIAL_CONFIG(nm, fl, dflt, setter, getter)                                               \
    {                                                                                              \
        .name = nm, .type = T_SPECIAL, .flags = fl, .def = dflt, .set = setter, .get = getter      \
    }

/* Passive directives: stored in slots of passive_num / passive_str. */
#define NUM_SLOT(i)                                                                                \
    .offset = offsetof(struct config, passive_num) + (size_t)(i) * sizeof(long long),              \
    .size = sizeof(long long)
#define STR_SLOT(i)                                                                                \
    .offset = offsetof(struct config, passive_str) + (size_t)(i) * sizeof(char *),                 \
    .size = sizeof(char *)
#define PASSIVE_BOOL(nm, al, fl, slot, dflt)                                                       \
    {                                                                                              \
        .name = nm, .alias = al, .type = T_BOOL, .flags = fl, NUM_SLOT(slot), .def = dflt          \
    }
#define PASSIVE_NUM(nm, al, ty, fl, slot, lo, hi, dflt)                                            \
    {                                                                                              \
        .name = nm, .alias = al, .type = ty, .flags = fl, NUM_SLOT(slot), .min = lo, .max = hi,    \
        .def = dflt                                                                                \
    }
#define PASSIVE_ENUM(nm, fl, slot, dflt, names)                                                    \
    {                                                                                              \
        .name = nm, .type = T_ENUM, .flags = fl, NUM_SLOT(slot), .def = dflt, .enums = names       \
    }
#define PASSIVE_STR(nm, al, fl, slot, dflt)                                                        \
    {                                                                                              \
        .name = nm, .alias = al, .type = T_STRING, .flags = fl, STR_SLOT(slot), .def = dflt        \
    }
/* Multi-word passive directives keep their CONFIG GET text in these slots. */
#define STR_SLOT_OOM_VALUES  (CONFIG_PASSIVE_STR - 1)
#define STR_SLOT_PERCENTILES (CONFIG_PASSIVE_STR - 2)
#define STR_SLOT_REPLICAOF   (CONFIG_PASSIVE_STR - 3)
#define STR_SLOT_SIGINT      (CONFIG_PASSIVE_STR - 4)
#define STR_SLOT_SIGTERM     (CONFIG_PASSIVE_STR - 5)
#define NUM_SLOT_MM_CLIENTS  (CONFIG_PASSIVE_NUM - 1)

#define MUT D_MUTABLE
#define IMM D_IMMUTABLE
#define MB  (1024 * 1024)

/* In redis.conf's order. Limits and mutability are Redis 7.0's, except bind
 * and port, which ember cannot re-listen on at run time. */
static const struct directive directives[] = {
    /* NETWORK */
    SPECIAL_CONFIG("bind", IMM | D_MULTI_ARG, "127.0.0.1 -::1", set_bind, get_bind),
    BOOL_CONFIG("protected-mode", MUT, protected_mode, "yes", NULL),
    INT_CONFIG("port", NULL, IMM, port, 0, 65535, "6379", NULL),
    INT_CONFIG("tcp-backlog", NULL, IMM, tcp_backlog, 0, INT_MAX, "511", NULL),
    INT_CONFIG("timeout", NULL, MUT, timeout, 0, INT_MAX, "0", NULL),
    INT_CONFIG("tcp-keepalive", NULL, MUT, tcp_keepalive, 0, INT_MAX, "300", NULL),
    /* GENERAL */
    BOOL_CONFIG("daemonize", IMM, daemonize, "no", check_daemonize),
    STRING_CONFIG("pidfile", IMM | D_EMPTY_NULL, pidfile, "", NULL),
    ENUM_CONFIG("loglevel", MUT, loglevel, "notice", loglevel_enum, NULL),
    STRING_CONFIG("logfile", IMM, logfile, "", NULL),
    INT_CONFIG("databases", NULL, IMM, databases, 1, INT_MAX, "16", NULL),
    ENUM_CONFIG("enable-debug-command", IMM, debug_command, "no", protected_action_enum,
                apply_debug_command),
    /* SNAPSHOTTING */
    SPECIAL_CONFIG("save", MUT | D_MULTI_ARG, "3600 1 300 100 60 10000", set_save, get_save),
    BOOL_CONFIG("rdbcompression", MUT, rdbcompression, "yes", NULL),
    BOOL_CONFIG("rdbchecksum", IMM, rdbchecksum, "yes", NULL),
    STRING_CONFIG("dbfilename", D_PROTECTED, dbfilename, "dump.rdb", check_dbfilename),
    SPECIAL_CONFIG("dir", D_PROTECTED, "./", set_dir, get_dir),
    /* SECURITY */
    STRING_CONFIG("requirepass", MUT | D_EMPTY_NULL, requirepass, "", NULL),
    /* CLIENTS */
    INT_CONFIG("maxclients", NULL, MUT, maxclients, 1, UINT_MAX, "10000", NULL),
    /* MEMORY MANAGEMENT */
    MEMORY_CONFIG("maxmemory", NULL, MUT, maxmemory, 0, LLONG_MAX, "0"),
    ENUM_CONFIG("maxmemory-policy", MUT, maxmemory_policy, "noeviction", maxmemory_policy_enum,
                NULL),
    INT_CONFIG("maxmemory-samples", NULL, MUT, maxmemory_samples, 1, INT_MAX, "5", NULL),
    INT_CONFIG("active-expire-effort", NULL, MUT, active_expire_effort, 1, 10, "1", NULL),
    /* APPEND ONLY MODE */
    BOOL_CONFIG("appendonly", MUT, appendonly, "no", NULL),
    STRING_CONFIG("appendfilename", IMM, appendfilename, "appendonly.aof", check_aof_filename),
    STRING_CONFIG("appenddirname", IMM, appenddirname, "appendonlydir", check_aof_dirname),
    ENUM_CONFIG("appendfsync", MUT, appendfsync, "everysec", appendfsync_enum, NULL),
    BOOL_CONFIG("no-appendfsync-on-rewrite", MUT, no_appendfsync_on_rewrite, "no", NULL),
    INT_CONFIG("auto-aof-rewrite-percentage", NULL, MUT, auto_aof_rewrite_percentage, 0, INT_MAX,
               "100", NULL),
    MEMORY_CONFIG("auto-aof-rewrite-min-size", NULL, MUT, auto_aof_rewrite_min_size, 0, LLONG_MAX,
                  "64mb"),
    BOOL_CONFIG("aof-load-truncated", MUT, aof_load_truncated, "yes", NULL),
    BOOL_CONFIG("aof-use-rdb-preamble", MUT, aof_use_rdb_preamble, "yes", NULL),
    BOOL_CONFIG("aof-rewrite-incremental-fsync", MUT, aof_rewrite_incremental_fsync, "yes", NULL),
    BOOL_CONFIG("aof-timestamp-enabled", MUT, aof_timestamp_enabled, "no", NULL),
    /* EVENT NOTIFICATION */
    SPECIAL_CONFIG("notify-keyspace-events", MUT, "", set_notify, get_notify),
    /* ADVANCED CONFIG */
    INT_CONFIG("hash-max-listpack-entries", "hash-max-ziplist-entries", MUT,
               hash_max_listpack_entries, 0, LONG_MAX, "512", NULL),
    MEMORY_CONFIG("hash-max-listpack-value", "hash-max-ziplist-value", MUT, hash_max_listpack_value,
                  0, LONG_MAX, "64"),
    INT_CONFIG("list-max-listpack-size", "list-max-ziplist-size", MUT, list_max_listpack_size,
               INT_MIN, INT_MAX, "-2", NULL),
    INT_CONFIG("set-max-intset-entries", NULL, MUT, set_max_intset_entries, 0, LONG_MAX, "512",
               NULL),
    INT_CONFIG("set-max-listpack-entries", NULL, MUT, set_max_listpack_entries, 0, LONG_MAX, "128",
               NULL),
    MEMORY_CONFIG("set-max-listpack-value", NULL, MUT, set_max_listpack_value, 0, LONG_MAX, "64"),
    INT_CONFIG("zset-max-listpack-entries", "zset-max-ziplist-entries", MUT,
               zset_max_listpack_entries, 0, LONG_MAX, "128", NULL),
    MEMORY_CONFIG("zset-max-listpack-value", "zset-max-ziplist-value", MUT, zset_max_listpack_value,
                  0, LONG_MAX, "64"),
    SPECIAL_CONFIG("client-output-buffer-limit", MUT | D_MULTI_ARG,
                   "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60", set_cobl, get_cobl),
    MEMORY_CONFIG("client-query-buffer-limit", NULL, MUT, client_query_buffer_limit, MB, LONG_MAX,
                  "1gb"),
    MEMORY_CONFIG("proto-max-bulk-len", NULL, MUT, proto_max_bulk_len, MB, LONG_MAX, "512mb"),
    INT_CONFIG("hz", NULL, MUT, hz, 0, INT_MAX, "10", apply_hz),
    INT_CONFIG("lfu-log-factor", NULL, MUT, lfu_log_factor, 0, INT_MAX, "10", NULL),
    INT_CONFIG("lfu-decay-time", NULL, MUT, lfu_decay_time, 0, INT_MAX, "1", NULL),
    INT_CONFIG("slowlog-log-slower-than", NULL, MUT, slowlog_log_slower_than, -1, LLONG_MAX,
               "10000", NULL),
    INT_CONFIG("slowlog-max-len", NULL, MUT, slowlog_max_len, 0, LONG_MAX, "128", NULL),
    INT_CONFIG("latency-monitor-threshold", NULL, MUT, latency_monitor_threshold, 0, LLONG_MAX, "0",
               NULL),
    BOOL_CONFIG("latency-tracking", MUT, latency_tracking, "yes", NULL),
    BOOL_CONFIG("cluster-enabled", IMM, cluster_enabled, "no", NULL),
    INT_CONFIG("busy-reply-threshold", "lua-time-limit", MUT, busy_reply_threshold, 0, LONG_MAX,
               "5000", NULL),
    INT_CONFIG("tracking-table-max-keys", NULL, MUT, tracking_table_max_keys, 0, LONG_MAX,
               "1000000", NULL),
    /* Passive: Redis 7.0's other directives, accepted with Redis's types,
     * limits and defaults, stored and shown, acting on nothing (README). */
    PASSIVE_BOOL("activerehashing", NULL, MUT, 0, "yes"),
    PASSIVE_BOOL("stop-writes-on-bgsave-error", NULL, MUT, 1, "yes"),
    PASSIVE_BOOL("rdb-del-sync-files", NULL, MUT, 2, "no"),
    PASSIVE_BOOL("rdb-save-incremental-fsync", NULL, MUT, 3, "yes"),
    PASSIVE_BOOL("dynamic-hz", NULL, MUT, 4, "yes"),
    PASSIVE_BOOL("lazyfree-lazy-eviction", NULL, MUT, 5, "no"),
    PASSIVE_BOOL("lazyfree-lazy-expire", NULL, MUT, 6, "no"),
    PASSIVE_BOOL("lazyfree-lazy-server-del", NULL, MUT, 7, "no"),
    PASSIVE_BOOL("lazyfree-lazy-user-del", NULL, MUT, 8, "no"),
    PASSIVE_BOOL("lazyfree-lazy-user-flush", NULL, MUT, 9, "no"),
    PASSIVE_BOOL("activedefrag", NULL, MUT, 10, "no"),
    PASSIVE_BOOL("jemalloc-bg-thread", NULL, MUT, 11, "yes"),
    PASSIVE_BOOL("crash-log-enabled", NULL, MUT, 12, "yes"),
    PASSIVE_BOOL("crash-memcheck-enabled", NULL, MUT, 13, "yes"),
    PASSIVE_BOOL("aof-disable-auto-gc", NULL, MUT, 14, "no"),
    PASSIVE_BOOL("io-threads-do-reads", NULL, IMM, 15, "no"),
    PASSIVE_BOOL("always-show-logo", NULL, IMM, 16, "no"),
    PASSIVE_BOOL("set-proc-title", NULL, IMM, 17, "yes"),
    PASSIVE_BOOL("syslog-enabled", NULL, IMM, 18, "no"),
    PASSIVE_BOOL("disable-thp", NULL, IMM, 19, "yes"),
    PASSIVE_BOOL("repl-disable-tcp-nodelay", NULL, MUT, 20, "no"),
    PASSIVE_BOOL("repl-diskless-sync", NULL, MUT, 21, "yes"),
    PASSIVE_BOOL("replica-lazy-flush", "slave-lazy-flush", MUT, 22, "no"),
    PASSIVE_BOOL("replica-serve-stale-data", "slave-serve-stale-data", MUT, 23, "yes"),
    PASSIVE_BOOL("replica-read-only", "slave-read-only", MUT, 24, "yes"),
    PASSIVE_BOOL("replica-ignore-maxmemory", "slave-ignore-maxmemory", MUT, 25, "yes"),
    PASSIVE_BOOL("replica-announced", NULL, MUT, 26, "yes"),
    PASSIVE_BOOL("replica-ignore-disk-write-errors", NULL, MUT, 27, "no"),
    PASSIVE_BOOL("cluster-require-full-coverage", NULL, MUT, 28, "yes"),
    PASSIVE_BOOL("cluster-replica-no-failover", "cluster-slave-no-failover", MUT, 29, "no"),
    PASSIVE_BOOL("cluster-allow-reads-when-down", NULL, MUT, 30, "no"),
    PASSIVE_BOOL("cluster-allow-pubsubshard-when-down", NULL, MUT, 31, "yes"),
    PASSIVE_BOOL("cluster-allow-replica-migration", NULL, MUT, 32, "yes"),
    PASSIVE_BOOL("tls-cluster", NULL, MUT, 33, "no"),
    PASSIVE_BOOL("tls-replication", NULL, MUT, 34, "no"),
    PASSIVE_BOOL("tls-prefer-server-ciphers", NULL, MUT, 35, "no"),
    PASSIVE_BOOL("tls-session-caching", NULL, MUT, 36, "yes"),
    PASSIVE_NUM("maxmemory-eviction-tenacity", NULL, T_INT, MUT, 37, 0, 100, "10"),
    PASSIVE_NUM("list-compress-depth", NULL, T_INT, MUT, 38, 0, INT_MAX, "0"),
    PASSIVE_NUM("io-threads", NULL, T_INT, IMM, 39, 1, 128, "1"),
    PASSIVE_NUM("active-defrag-cycle-min", NULL, T_INT, MUT, 40, 1, 99, "1"),
    PASSIVE_NUM("active-defrag-cycle-max", NULL, T_INT, MUT, 41, 1, 99, "25"),
    PASSIVE_NUM("active-defrag-threshold-lower", NULL, T_INT, MUT, 42, 0, 1000, "10"),
    PASSIVE_NUM("active-defrag-threshold-upper", NULL, T_INT, MUT, 43, 0, 1000, "100"),
    PASSIVE_NUM("active-defrag-max-scan-fields", NULL, T_INT, MUT, 44, 1, LONG_MAX, "1000"),
    PASSIVE_NUM("acllog-max-len", NULL, T_INT, MUT, 45, 0, LONG_MAX, "128"),
    PASSIVE_NUM("stream-node-max-entries", NULL, T_INT, MUT, 47, 0, LLONG_MAX, "100"),
    PASSIVE_NUM("shutdown-timeout", NULL, T_INT, MUT, 48, 0, INT_MAX, "10"),
    PASSIVE_NUM("min-replicas-to-write", "min-slaves-to-write", T_INT, MUT, 49, 0, INT_MAX, "0"),
    PASSIVE_NUM("min-replicas-max-lag", "min-slaves-max-lag", T_INT, MUT, 50, 0, INT_MAX, "10"),
    PASSIVE_NUM("replica-priority", "slave-priority", T_INT, MUT, 51, 0, INT_MAX, "100"),
    PASSIVE_NUM("replica-announce-port", "slave-announce-port", T_INT, MUT, 52, 0, 65535, "0"),
    PASSIVE_NUM("repl-diskless-sync-delay", NULL, T_INT, MUT, 53, 0, INT_MAX, "5"),
    PASSIVE_NUM("repl-diskless-sync-max-replicas", NULL, T_INT, MUT, 54, 0, INT_MAX, "0"),
    PASSIVE_NUM("repl-timeout", NULL, T_INT, MUT, 55, 1, INT_MAX, "60"),
    PASSIVE_NUM("repl-ping-replica-period", "repl-ping-slave-period", T_INT, MUT, 56, 1, INT_MAX,
                "10"),
    PASSIVE_NUM("repl-backlog-ttl", NULL, T_INT, MUT, 57, 0, LONG_MAX, "3600"),
    PASSIVE_NUM("cluster-node-timeout", NULL, T_INT, MUT, 58, 0, LLONG_MAX, "15000"),
    PASSIVE_NUM("cluster-port", NULL, T_INT, IMM, 59, 0, 65535, "0"),
    PASSIVE_NUM("cluster-announce-port", NULL, T_INT, MUT, 60, 0, 65535, "0"),
    PASSIVE_NUM("cluster-announce-bus-port", NULL, T_INT, MUT, 61, 0, 65535, "0"),
    PASSIVE_NUM("cluster-announce-tls-port", NULL, T_INT, MUT, 62, 0, 65535, "0"),
    PASSIVE_NUM("cluster-replica-validity-factor", "cluster-slave-validity-factor", T_INT, MUT, 63,
                0, INT_MAX, "10"),
    PASSIVE_NUM("cluster-migration-barrier", NULL, T_INT, MUT, 64, 0, INT_MAX, "1"),
    PASSIVE_NUM("socket-mark-id", NULL, T_INT, MUT, 65, 0, UINT_MAX, "0"),
    PASSIVE_NUM("tls-port", NULL, T_INT, MUT, 66, 0, 65535, "0"),
    PASSIVE_NUM("tls-session-cache-size", NULL, T_INT, MUT, 67, 0, INT_MAX, "20480"),
    PASSIVE_NUM("tls-session-cache-timeout", NULL, T_INT, MUT, 68, 0, INT_MAX, "300"),
    PASSIVE_NUM("unixsocketperm", NULL, T_INT, IMM, 69, 0, 0777, "0"),
    PASSIVE_NUM("repl-backlog-size", NULL, T_MEMORY, MUT, 70, 1, LLONG_MAX, "1mb"),
    PASSIVE_NUM("active-defrag-ignore-bytes", NULL, T_MEMORY, MUT, 71, 1, LLONG_MAX, "100mb"),
    PASSIVE_NUM("stream-node-max-bytes", NULL, T_MEMORY, MUT, 72, 0, LONG_MAX, "4096"),
    PASSIVE_NUM("hll-sparse-max-bytes", NULL, T_MEMORY, MUT, 73, 0, LONG_MAX, "3000"),
    PASSIVE_NUM("cluster-link-sendbuf-limit", NULL, T_MEMORY, MUT, 74, 0, LLONG_MAX, "0"),
    PASSIVE_ENUM("supervised", IMM, 75, "no", supervised_enum),
    PASSIVE_ENUM("syslog-facility", IMM, 76, "local0", syslog_facility_enum),
    PASSIVE_ENUM("repl-diskless-load", MUT, 77, "disabled", repl_diskless_load_enum),
    PASSIVE_ENUM("oom-score-adj", MUT, 78, "no", oom_score_adj_enum),
    PASSIVE_ENUM("acl-pubsub-default", MUT, 79, "resetchannels", acl_pubsub_default_enum),
    PASSIVE_ENUM("sanitize-dump-payload", MUT, 80, "no", sanitize_dump_payload_enum),
    PASSIVE_ENUM("enable-protected-configs", IMM, 81, "no", enable_protected_configs_enum),
    PASSIVE_ENUM("enable-module-command", IMM, 82, "no", enable_module_command_enum),
    PASSIVE_ENUM("cluster-preferred-endpoint-type", MUT, 83, "ip",
                 cluster_preferred_endpoint_type_enum),
    PASSIVE_ENUM("propagation-error-behavior", MUT, 84, "ignore", propagation_error_behavior_enum),
    PASSIVE_ENUM("tls-auth-clients", MUT, 85, "yes", tls_auth_clients_enum),
    PASSIVE_STR("aclfile", NULL, IMM, 0, ""),
    PASSIVE_STR("unixsocket", NULL, IMM | D_EMPTY_NULL, 1, ""),
    PASSIVE_STR("masterauth", NULL, MUT | D_EMPTY_NULL, 2, ""),
    PASSIVE_STR("masteruser", NULL, MUT | D_EMPTY_NULL, 3, ""),
    PASSIVE_STR("replica-announce-ip", "slave-announce-ip", MUT | D_EMPTY_NULL, 4, ""),
    PASSIVE_STR("cluster-announce-ip", NULL, MUT | D_EMPTY_NULL, 5, ""),
    PASSIVE_STR("cluster-announce-hostname", NULL, MUT | D_EMPTY_NULL, 6, ""),
    PASSIVE_STR("cluster-config-file", NULL, IMM, 7, "nodes.conf"),
    PASSIVE_STR("syslog-ident", NULL, IMM, 8, "redis"),
    PASSIVE_STR("server_cpulist", NULL, IMM | D_EMPTY_NULL, 9, ""),
    PASSIVE_STR("bio_cpulist", NULL, IMM | D_EMPTY_NULL, 10, ""),
    PASSIVE_STR("aof_rewrite_cpulist", NULL, IMM | D_EMPTY_NULL, 11, ""),
    PASSIVE_STR("bgsave_cpulist", NULL, IMM | D_EMPTY_NULL, 12, ""),
    PASSIVE_STR("ignore-warnings", NULL, MUT, 13, ""),
    {.name = "proc-title-template",
     .type = T_STRING,
     .flags = MUT,
     STR_SLOT(14),
     .def = "{title} {listen-addr} {server-mode}",
     .check = check_proc_title},
    PASSIVE_STR("bind-source-addr", NULL, MUT | D_EMPTY_NULL, 15, ""),
    SPECIAL_CONFIG("shutdown-on-sigint", MUT | D_MULTI_ARG, "default", set_sigint, get_sigint),
    SPECIAL_CONFIG("shutdown-on-sigterm", MUT | D_MULTI_ARG, "default", set_sigterm, get_sigterm),
    PASSIVE_STR("tls-cert-file", NULL, MUT | D_EMPTY_NULL, 18, ""),
    PASSIVE_STR("tls-key-file", NULL, MUT | D_EMPTY_NULL, 19, ""),
    PASSIVE_STR("tls-key-file-pass", NULL, MUT | D_EMPTY_NULL, 20, ""),
    PASSIVE_STR("tls-client-cert-file", NULL, MUT | D_EMPTY_NULL, 21, ""),
    PASSIVE_STR("tls-client-key-file", NULL, MUT | D_EMPTY_NULL, 22, ""),
    PASSIVE_STR("tls-client-key-file-pass", NULL, MUT | D_EMPTY_NULL, 23, ""),
    PASSIVE_STR("tls-dh-params-file", NULL, MUT | D_EMPTY_NULL, 24, ""),
    PASSIVE_STR("tls-ca-cert-file", NULL, MUT | D_EMPTY_NULL, 25, ""),
    PASSIVE_STR("tls-ca-cert-dir", NULL, MUT | D_EMPTY_NULL, 26, ""),
    PASSIVE_STR("tls-protocols", NULL, MUT | D_EMPTY_NULL, 27, ""),
    PASSIVE_STR("tls-ciphers", NULL, MUT | D_EMPTY_NULL, 28, ""),
    PASSIVE_STR("tls-ciphersuites", NULL, MUT | D_EMPTY_NULL, 29, ""),
    SPECIAL_CONFIG("maxmemory-clients", MUT, "0", set_maxmemory_clients, get_maxmemory_clients),
    SPECIAL_CONFIG("oom-score-adj-values", MUT | D_MULTI_ARG, "0 200 800", set_oom_values,
                   get_oom_values),
    SPECIAL_CONFIG("latency-tracking-info-percentiles", MUT | D_MULTI_ARG, "50 99 99.9",
                   set_percentiles, get_percentiles),
    {.name = "replicaof",
     .alias = "slaveof",
     .type = T_SPECIAL,
     .flags = IMM | D_MULTI_ARG,
     .def = "",
     .set = set_replicaof,
     .get = get_replicaof},
};

#define DIRECTIVE_COUNT (sizeof(directives) / sizeof(directives[0]))

/* Directives Redis 7 still reads from a file and ignores (its
 * deprecated_configs), always with exactly one argument. */
static const char *const ignored_directives[] = {
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
};

static const struct directive *lookup(const char *name)
{
    for (size_t i = 0; i < DIRECTIVE_COUNT; i++) {
        const struct directive *d = &directives[i];
        if (strcasecmp(name, d->name) == 0) return d;
        if (d->alias != NULL && strcasecmp(name, d->alias) == 0) return d;
    }
    return NULL;
}

bool config_known(const char *name)
{
    return lookup(name) != NULL;
}

/* ---- Typed fields ---- */

static void *field_ptr(struct config *cfg, const struct directive *d)
{
    return (char *)cfg + d->offset;
}

static const void *field_cptr(const struct config *cfg, const struct directive *d)
{
    return (const char *)cfg + d->offset;
}

/* Numbers live in int or long long fields. Redis keeps a few int-sized
 * settings in wider types (maxclients up to 2^32-1, *-entries up to
 * LONG_MAX); an int field holds at most INT_MAX of such a value, which is
 * past anything ember could honour. */
static void store_number(struct config *cfg, const struct directive *d, long long v)
{
    void *p = field_ptr(cfg, d);
    if (d->size == sizeof(long long)) {
        memcpy(p, &v, sizeof(v));
    } else {
        int i = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
        memcpy(p, &i, sizeof(i));
    }
}

static long long load_number(const struct config *cfg, const struct directive *d)
{
    const void *p = field_cptr(cfg, d);
    if (d->size == sizeof(long long)) {
        long long v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    int i;
    memcpy(&i, p, sizeof(i));
    return i;
}

/* Redis 7.0 reads sizes with memtoull, which refuses a sign; mem_to_ll is
 * Redis's memtoll and accepts one, so the sign is checked here. */
static bool parse_memory(const char *s, long long *out)
{
    if (s[0] == '-') return false;
    bool ok;
    long long v = mem_to_ll(s, &ok);
    if (!ok) return false;
    *out = v;
    return true;
}

static const char *parse_enum(const struct directive *d, const char *arg, int *out, char *reason)
{
    for (const struct enum_name *e = d->enums; e->name != NULL; e++) {
        if (strcasecmp(arg, e->name) == 0) {
            *out = e->value;
            return NULL;
        }
    }
    struct buf msg = {0};
    buf_cat(&msg, "argument(s) must be one of the following: ");
    for (const struct enum_name *e = d->enums; e->name != NULL; e++) {
        if (e != d->enums) buf_cat(&msg, ", ");
        buf_cat(&msg, e->name);
    }
    snprintf(reason, REASON_SIZE, "%s", msg.ptr);
    buf_release(&msg);
    return reason;
}

/* Parses and stores one value of a non-special directive. */
static const char *set_typed(struct config *cfg, const struct directive *d, const char *arg,
                             char *reason)
{
    long long v = 0;
    int e = 0;
    const char *why;

    switch (d->type) {
    case T_BOOL:
        if (strcasecmp(arg, "yes") == 0) {
            v = 1;
        } else if (strcasecmp(arg, "no") != 0) {
            return "argument must be 'yes' or 'no'";
        }
        break;
    case T_INT:
    case T_MEMORY:
        if (d->type == T_INT && !str_to_ll(arg, strlen(arg), &v)) {
            return "argument couldn't be parsed into an integer";
        }
        if (d->type == T_MEMORY && !parse_memory(arg, &v)) return "argument must be a memory value";
        if (v < d->min || v > d->max) {
            snprintf(reason, REASON_SIZE, "argument must be between %lld and %lld inclusive",
                     d->min, d->max);
            return reason;
        }
        break;
    case T_ENUM:
        if ((why = parse_enum(d, arg, &e, reason)) != NULL) return why;
        v = e;
        break;
    case T_STRING:
    case T_SPECIAL:
        break;
    }
    if (d->check != NULL && (why = d->check(arg, v)) != NULL) return why;

    if (d->type == T_BOOL) {
        bool b = v != 0;
        memcpy(field_ptr(cfg, d), &b, sizeof(b));
    } else if (d->type == T_STRING) {
        bool none = arg[0] == '\0' && (d->flags & D_EMPTY_NULL);
        replace_str(field_ptr(cfg, d), none ? NULL : arg);
    } else {
        store_number(cfg, d, v);
    }
    return NULL;
}

/* Sets a directive from its argument words. */
static const char *set_value(struct config *cfg, const struct directive *d, char **argv, int argc,
                             bool loading, char *reason)
{
    const char *why;
    if (d->type == T_SPECIAL) {
        why = d->set(cfg, argv, argc, loading, reason);
    } else {
        why = argc == 1 ? set_typed(cfg, d, argv[0], reason) : "wrong number of arguments";
    }
    if (why == NULL && d->apply != NULL) d->apply(cfg);
    return why;
}

/* Renders a value as CONFIG GET shows it. */
static void render(const struct config *cfg, const struct directive *d, struct buf *out)
{
    out->len = 0;
    buf_cat(out, "");
    switch (d->type) {
    case T_BOOL: {
        bool b;
        memcpy(&b, field_cptr(cfg, d), sizeof(b));
        buf_cat(out, b ? "yes" : "no");
        break;
    }
    case T_INT:
    case T_MEMORY:
        buf_printf(out, "%lld", load_number(cfg, d));
        break;
    case T_ENUM: {
        long long v = load_number(cfg, d);
        for (const struct enum_name *e = d->enums; e->name != NULL; e++) {
            if (e->value == v) {
                buf_cat(out, e->name);
                break;
            }
        }
        break;
    }
    case T_STRING: {
        const char *s;
        memcpy(&s, field_cptr(cfg, d), sizeof(s));
        if (s != NULL) buf_cat(out, s);
        break;
    }
    case T_SPECIAL:
        d->get(cfg, out);
        break;
    }
}

/* ---- Checks and derived fields ---- */

static const char *check_daemonize(const char *arg, long long parsed)
{
    (void)arg;
    /* ember never forks. Ignoring "yes" would leave a supervisor set up for
     * a forking daemon (systemd Type=forking, an init script) waiting for a
     * parent that never exits; refusing says at once what to change. */
    if (parsed) {
        return "ember does not daemonize: run it in the foreground under a supervisor "
               "(systemd, a container, nohup) and set 'daemonize no'";
    }
    return NULL;
}

/* Redis's isValidAOFfilename / isValidAOFdirname. */
static const char *check_aof_filename(const char *arg, long long parsed)
{
    (void)parsed;
    if (!strcmp(arg, "") || !strcmp(arg, ".") || !strcmp(arg, "..") || strchr(arg, '/') != NULL) {
        return "appendfilename can't be a path, just a filename";
    }
    return NULL;
}

static const char *check_aof_dirname(const char *arg, long long parsed)
{
    (void)parsed;
    if (!strcmp(arg, "") || !strcmp(arg, ".") || !strcmp(arg, "..") || strchr(arg, '/') != NULL) {
        return "appenddirname can't be a path, just a dirname";
    }
    return NULL;
}

static const char *check_dbfilename(const char *arg, long long parsed)
{
    (void)parsed;
    if (strchr(arg, '/') != NULL || strchr(arg, '\\') != NULL) {
        return "dbfilename can't be a path, just a filename";
    }
    return NULL;
}

/* Redis takes any hz but caps it (CONFIG_MIN_HZ, CONFIG_MAX_HZ): hz is a hint. */
static void apply_hz(struct config *cfg)
{
    if (cfg->hz < 1) cfg->hz = 1;
    if (cfg->hz > 500) cfg->hz = 500;
}

static void apply_debug_command(struct config *cfg)
{
    cfg->enable_debug_command = cfg->debug_command == CONFIG_ALLOW_YES;
}

/* ---- Special directives ---- */

static const char *set_bind(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)loading;
    (void)reason;
    if (argc > CONFIG_MAX_BIND) return "Too many bind addresses specified.";
    /* A single empty argument means no address at all. */
    if (argc == 1 && argv[0][0] == '\0') argc = 0;
    for (int i = 0; i < cfg->bind_count; i++) {
        em_free(cfg->bind[i]);
        cfg->bind[i] = NULL;
    }
    for (int i = 0; i < argc; i++) {
        cfg->bind[i] = em_strndup(argv[i], strlen(argv[i]));
    }
    cfg->bind_count = argc;
    return NULL;
}

static void get_bind(const struct config *cfg, struct buf *out)
{
    for (int i = 0; i < cfg->bind_count; i++) {
        if (i > 0) buf_cat(out, " ");
        buf_cat(out, cfg->bind[i]);
    }
}

/* save <seconds> <changes> [<seconds> <changes> ...], or save "" for none.
 * While loading, the first save line replaces the default and later ones
 * append (redis.conf used to carry three lines); CONFIG SET replaces. */
static const char *set_save(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)reason;
    bool clear = argc == 1 && argv[0][0] == '\0';
    if (clear) argc = 0;
    if (argc % 2 != 0) return "Invalid save parameters";
    for (int j = 0; j < argc; j++) {
        char *end;
        long long v = strtoll(argv[j], &end, 10);
        if (*end != '\0' || (j % 2 == 0 && v < 1) || (j % 2 == 1 && v < 0)) {
            return "Invalid save parameters";
        }
    }

    struct buf s = {0};
    buf_cat(&s, "");
    bool append = loading && cfg->save_loaded && !clear;
    if (append && cfg->save != NULL) buf_cat(&s, cfg->save);
    if (loading) cfg->save_loaded = true;
    for (int j = 0; j < argc; j += 2) {
        if (s.len > 0) buf_cat(&s, " ");
        /* Redis keeps changes in an int, and shows what it kept. */
        buf_printf(&s, "%lld %d", strtoll(argv[j], NULL, 10), (int)strtoll(argv[j + 1], NULL, 10));
    }
    em_free(cfg->save);
    cfg->save = s.ptr;
    return NULL;
}

static void get_save(const struct config *cfg, struct buf *out)
{
    if (cfg->save != NULL) buf_cat(out, cfg->save);
}

static const char *set_dir(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)loading;
    if (argc != 1) return "wrong number of arguments";
    if (chdir(argv[0]) != 0) {
        snprintf(reason, REASON_SIZE, "%s", strerror(errno));
        return reason;
    }
    /* Keep the absolute path: CONFIG GET shows it, and the caller may
     * chdir() to it again without going one level deeper. */
    char *cwd = getcwd(NULL, 0);
    replace_str(&cfg->dir, cwd != NULL ? cwd : argv[0]);
    free(cwd); /* getcwd() allocates with libc's malloc */
    return NULL;
}

static void get_dir(const struct config *cfg, struct buf *out)
{
    if (cfg->dir != NULL) buf_cat(out, cfg->dir);
}

/* notify-keyspace-events: Redis's keyspaceEventsStringToFlags. */
static int notify_parse(const char *s)
{
    static const char classes[] = "g$lshzxeKEtmdn";
    static const int bits[] = {NOTIFY_GENERIC,  NOTIFY_STRING,   NOTIFY_LIST,    NOTIFY_SET,
                               NOTIFY_HASH,     NOTIFY_ZSET,     NOTIFY_EXPIRED, NOTIFY_EVICTED,
                               NOTIFY_KEYSPACE, NOTIFY_KEYEVENT, NOTIFY_STREAM,  NOTIFY_KEY_MISS,
                               NOTIFY_MODULE,   NOTIFY_NEW};
    int flags = 0;
    for (; *s; s++) {
        const char *at = strchr(classes, *s);
        if (*s == 'A') {
            flags |= NOTIFY_ALL;
        } else if (at != NULL) {
            flags |= bits[at - classes];
        } else {
            return -1;
        }
    }
    return flags;
}

/* Redis's keyspaceEventsFlagsToString, including its quirk: with every
 * class set it writes "A" and drops "n", which "A" does not cover. */
static void notify_render(int flags, struct buf *out)
{
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        buf_cat(out, "A");
    } else {
        static const char classes[] = "g$lshzxetdn";
        static const int bits[] = {NOTIFY_GENERIC, NOTIFY_STRING, NOTIFY_LIST,    NOTIFY_SET,
                                   NOTIFY_HASH,    NOTIFY_ZSET,   NOTIFY_EXPIRED, NOTIFY_EVICTED,
                                   NOTIFY_STREAM,  NOTIFY_MODULE, NOTIFY_NEW};
        for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
            if (flags & bits[i]) buf_catlen(out, &classes[i], 1);
        }
    }
    if (flags & NOTIFY_KEYSPACE) buf_cat(out, "K");
    if (flags & NOTIFY_KEYEVENT) buf_cat(out, "E");
    if (flags & NOTIFY_KEY_MISS) buf_cat(out, "m");
}

static const char *set_notify(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)loading;
    (void)reason;
    if (argc != 1) return "wrong number of arguments";
    int flags = notify_parse(argv[0]);
    if (flags < 0) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    struct buf s = {0};
    buf_cat(&s, "");
    notify_render(flags, &s);
    em_free(cfg->notify_keyspace_events);
    cfg->notify_keyspace_events = s.ptr;
    cfg->notify_keyspace_flags = flags;
    return NULL;
}

static void get_notify(const struct config *cfg, struct buf *out)
{
    if (cfg->notify_keyspace_events != NULL) buf_cat(out, cfg->notify_keyspace_events);
}

/* The three limits of a client class, or NULL if Redis refuses the name
 * (unknown, or "master", which has no limit). */
static long long *cobl_class(struct config *cfg, const char *name)
{
    if (strcasecmp(name, "normal") == 0) return cfg->cobl_normal;
    if (strcasecmp(name, "slave") == 0 || strcasecmp(name, "replica") == 0) {
        return cfg->cobl_replica;
    }
    if (strcasecmp(name, "pubsub") == 0) return cfg->cobl_pubsub;
    return NULL;
}

/* client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...]:
 * every group is checked before any is applied, as in Redis. */
static const char *set_cobl(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)loading;
    (void)reason;
    if (argc % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
    for (int j = 0; j < argc; j += 4) {
        long long hard, soft;
        char *end;
        if (cobl_class(cfg, argv[j]) == NULL) {
            return "Invalid client class specified in buffer limit configuration.";
        }
        /* Redis reads the seconds with strtoll into an int. */
        int secs = (int)strtoll(argv[j + 3], &end, 10);
        if (!parse_memory(argv[j + 1], &hard) || !parse_memory(argv[j + 2], &soft) || secs < 0 ||
            *end != '\0') {
            return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        }
    }
    for (int j = 0; j < argc; j += 4) {
        long long *limits = cobl_class(cfg, argv[j]);
        parse_memory(argv[j + 1], &limits[0]);
        parse_memory(argv[j + 2], &limits[1]);
        limits[2] = (int)strtoll(argv[j + 3], NULL, 10);
    }
    return NULL;
}

static void get_cobl(const struct config *cfg, struct buf *out)
{
    const long long *n = cfg->cobl_normal, *r = cfg->cobl_replica, *p = cfg->cobl_pubsub;
    buf_printf(out, "normal %lld %lld %lld slave %lld %lld %lld pubsub %lld %lld %lld", n[0], n[1],
               n[2], r[0], r[1], r[2], p[0], p[1], p[2]);
}

/* ---- Defaults ---- */

/* Splits at single spaces, as Redis's CONFIG SET does for multi-word values
 * (sdssplitlen: "" gives no word, "a  b" gives "a", "", "b"). */
/* Redis's validateProcTitleTemplate: every {variable} known, braces closed,
 * and something left once {title} (empty here) is expanded and spaces are
 * trimmed. The variables expand as on a standalone server without a unix
 * socket: listen-addr, port and tls-port to text, the others to nothing. */
static const char *check_proc_title(const char *arg, long long parsed)
{
    (void)parsed;
    static const char *const empty_vars[] = {"title", "server-mode", "unixsocket", "config-file"};
    static const char *const text_vars[] = {"listen-addr", "port", "tls-port"};
    const char *bad = "template format is invalid or contains unknown variables";
    bool content = false;
    for (const char *p = arg; *p;) {
        if (*p != '{') {
            content |= *p != ' ';
            p++;
            continue;
        }
        if (p[1] == '\0') return bad;
        if (p[1] == '{') {
            content = true;
            p += 2;
            continue;
        }
        const char *end = strchr(p + 1, '}');
        if (end == NULL) return bad;
        size_t len = (size_t)(end - p - 1);
        bool known = false;
        for (size_t i = 0; i < 4 && !known; i++)
            known = strlen(empty_vars[i]) == len && memcmp(empty_vars[i], p + 1, len) == 0;
        for (size_t i = 0; i < 3 && !known; i++) {
            known = strlen(text_vars[i]) == len && memcmp(text_vars[i], p + 1, len) == 0;
            content |= known;
        }
        if (!known) return bad;
        p = end + 1;
    }
    return content ? NULL : bad;
}

/* ---- Passive multi-word directives ---- */

static char **str_slot(struct config *cfg, int slot)
{
    return &cfg->passive_str[slot];
}

/* maxmemory-clients: bytes, or "N%" of maxmemory, kept as -N (Redis's
 * PERCENT_CONFIG). */
static const char *set_maxmemory_clients(struct config *cfg, char **argv, int argc, bool loading,
                                         char *reason)
{
    (void)loading;
    if (argc != 1) return "wrong number of arguments";
    const char *s = argv[0];
    size_t len = strlen(s);
    long long v;
    if (len > 0 && s[len - 1] == '%') {
        if (!str_to_ll(s, len - 1, &v) || v < 0)
            return "argument must be a memory or percent value";
        v = -v;
    } else if (!parse_memory(s, &v)) {
        return "argument must be a memory or percent value";
    }
    if (v < -100) {
        snprintf(reason, REASON_SIZE, "percentage argument must be less or equal to 100");
        return reason;
    }
    cfg->passive_num[NUM_SLOT_MM_CLIENTS] = v;
    return NULL;
}

static void get_maxmemory_clients(const struct config *cfg, struct buf *out)
{
    long long v = cfg->passive_num[NUM_SLOT_MM_CLIENTS];
    if (v < 0) {
        buf_printf(out, "%lld%%", -v);
    } else {
        buf_printf(out, "%lld", v);
    }
}

static void set_words(struct config *cfg, int slot, char **argv, int argc)
{
    struct buf b = {0};
    buf_cat(&b, "");
    for (int i = 0; i < argc; i++) {
        if (i > 0) buf_cat(&b, " ");
        buf_cat(&b, argv[i]);
    }
    replace_str(str_slot(cfg, slot), b.ptr);
    buf_release(&b);
}

static void get_words(const struct config *cfg, int slot, struct buf *out)
{
    if (cfg->passive_str[slot] != NULL) buf_cat(out, cfg->passive_str[slot]);
}

/* oom-score-adj-values: three integers in -2000..2000. */
static const char *set_oom_values(struct config *cfg, char **argv, int argc, bool loading,
                                  char *reason)
{
    (void)loading;
    (void)reason;
    if (argc != 3) return "wrong number of arguments";
    char *norm[3];
    char nums[3][24];
    for (int i = 0; i < 3; i++) {
        long long v;
        if (!str_to_ll(argv[i], strlen(argv[i]), &v) || v < -2000 || v > 2000) {
            return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
        }
        snprintf(nums[i], sizeof(nums[i]), "%lld", v);
        norm[i] = nums[i];
    }
    set_words(cfg, STR_SLOT_OOM_VALUES, norm, 3);
    return NULL;
}

static void get_oom_values(const struct config *cfg, struct buf *out)
{
    get_words(cfg, STR_SLOT_OOM_VALUES, out);
}

/* latency-tracking-info-percentiles: numbers in 0..100, shown as Redis
 * prints them ("%f" without trailing zeros); "" for none. */
static const char *set_percentiles(struct config *cfg, char **argv, int argc, bool loading,
                                   char *reason)
{
    (void)loading;
    (void)reason;
    if (argc == 1 && argv[0][0] == '\0') argc = 0;
    struct buf b = {0};
    buf_cat(&b, "");
    for (int i = 0; i < argc; i++) {
        double d;
        if (!str_to_d(argv[i], strlen(argv[i]), &d) || d < 0.0 || d > 100.0) {
            buf_release(&b);
            return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        }
        char num[64];
        int n = snprintf(num, sizeof(num), "%f", d);
        while (n > 0 && num[n - 1] == '0')
            num[--n] = '\0';
        if (n > 0 && num[n - 1] == '.') num[--n] = '\0';
        if (i > 0) buf_cat(&b, " ");
        buf_cat(&b, num);
    }
    replace_str(str_slot(cfg, STR_SLOT_PERCENTILES), b.ptr);
    buf_release(&b);
    return NULL;
}

static void get_percentiles(const struct config *cfg, struct buf *out)
{
    get_words(cfg, STR_SLOT_PERCENTILES, out);
}

/* replicaof host port | no one: stored and shown; ember never replicates. */
static const char *set_replicaof(struct config *cfg, char **argv, int argc, bool loading,
                                 char *reason)
{
    (void)loading;
    (void)reason;
    if (argc == 1 && argv[0][0] == '\0') argc = 0;
    if (argc != 0 && argc != 2) return "wrong number of arguments";
    if (argc == 2 && strcasecmp(argv[0], "no") == 0 && strcasecmp(argv[1], "one") == 0) argc = 0;
    if (argc == 2) {
        long long port;
        if (!str_to_ll(argv[1], strlen(argv[1]), &port) || port < 0 || port > 65535) {
            return "Invalid master port";
        }
    }
    set_words(cfg, STR_SLOT_REPLICAOF, argv, argc);
    return NULL;
}

static void get_replicaof(const struct config *cfg, struct buf *out)
{
    get_words(cfg, STR_SLOT_REPLICAOF, out);
}

/* shutdown-on-sigint / -sigterm: a set of flags (Redis's multi-value enum),
 * shown in table order; "default" alone when none. */
static const char *set_shutdown_flags(struct config *cfg, int slot, char **argv, int argc,
                                      char *reason)
{
    static const char *const names[] = {"default", "save", "nosave", "now", "force"};
    unsigned flags = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = 0;
        while (k < 5 && strcasecmp(argv[i], names[k]) != 0)
            k++;
        if (k == 5) {
            snprintf(reason, REASON_SIZE,
                     "argument(s) must be one of the following: default, "
                     "save, nosave, now, force");
            return reason;
        }
        flags |= 1u << k;
    }
    if ((flags & 2u) && (flags & 4u))
        return "shutdown options SAVE and NOSAVE can't be used simultaneously";
    char *words[5];
    int n = 0;
    for (int k = 1; k < 5; k++) {
        if (flags & (1u << k)) words[n++] = (char *)names[k];
    }
    if (n == 0) words[n++] = (char *)names[0];
    set_words(cfg, slot, words, n);
    return NULL;
}

static const char *set_sigint(struct config *cfg, char **argv, int argc, bool loading, char *reason)
{
    (void)loading;
    return set_shutdown_flags(cfg, STR_SLOT_SIGINT, argv, argc, reason);
}

static const char *set_sigterm(struct config *cfg, char **argv, int argc, bool loading,
                               char *reason)
{
    (void)loading;
    return set_shutdown_flags(cfg, STR_SLOT_SIGTERM, argv, argc, reason);
}

static void get_sigint(const struct config *cfg, struct buf *out)
{
    get_words(cfg, STR_SLOT_SIGINT, out);
}

static void get_sigterm(const struct config *cfg, struct buf *out)
{
    get_words(cfg, STR_SLOT_SIGTERM, out);
}

static int split_spaces(const char *s, char ***argv_out)
{
    int argc = 0;
    char **argv = NULL;
    if (s[0] != '\0') {
        for (const char *p = s;; p++) {
            const char *end = strchr(p, ' ');
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
            argv = em_realloc(argv, sizeof(*argv) * (size_t)(argc + 1));
            argv[argc++] = em_strndup(p, n);
            if (end == NULL) break;
            p = end;
        }
    }
    *argv_out = argv;
    return argc;
}

static void free_words(char **argv, int argc)
{
    for (int i = 0; i < argc; i++)
        em_free(argv[i]);
    em_free(argv);
}

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < DIRECTIVE_COUNT; i++) {
        const struct directive *d = &directives[i];
        char reason[REASON_SIZE];
        char **argv;
        int argc;
        if (d->flags & D_MULTI_ARG) {
            argc = split_spaces(d->def, &argv);
        } else {
            argv = em_malloc(sizeof(*argv));
            argv[0] = em_strndup(d->def, strlen(d->def));
            argc = 1;
        }
        const char *why = set_value(cfg, d, argv, argc, false, reason);
        free_words(argv, argc);
        if (why != NULL && d->type == T_SPECIAL && d->set == set_dir) {
            /* The working directory is gone; nothing to fix here. */
            replace_str(&cfg->dir, ".");
        } else if (why != NULL) {
            /* A default the table itself rejects is a bug in this file. */
            fprintf(stderr, "config: bad default for %s: %s\n", d->name, why);
            abort();
        }
    }
}

void config_deinit(struct config *cfg)
{
    for (int i = 0; i < cfg->user_count; i++) {
        for (int j = 0; j < cfg->users[i].argc; j++)
            em_free(cfg->users[i].argv[j]);
        em_free(cfg->users[i].argv);
    }
    em_free(cfg->users);
    for (int i = 0; i < cfg->bind_count; i++)
        em_free(cfg->bind[i]);
    em_free(cfg->requirepass);
    em_free(cfg->logfile);
    em_free(cfg->pidfile);
    em_free(cfg->dir);
    em_free(cfg->dbfilename);
    em_free(cfg->appendfilename);
    em_free(cfg->appenddirname);
    em_free(cfg->save);
    em_free(cfg->notify_keyspace_events);
    for (int i = 0; i < CONFIG_PASSIVE_STR; i++)
        em_free(cfg->passive_str[i]);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- Loading text: files and the command line ---- */

struct loader {
    struct config *cfg;
    char *err;
    size_t errlen;
    int depth; /* include nesting */
};

static int load_path(struct loader *ld, const char *path, int *newlines);

static int fail_line(struct loader *ld, int linenum, const char *line, const char *reason)
{
    snprintf(ld->err, ld->errlen,
             FATAL_HEADER "Reading the configuration file, at line %d\n>>> '%s'\n%s", linenum, line,
             reason);
    return -1;
}

static bool is_ignored_directive(const char *name, int argc)
{
    for (size_t i = 0; i < sizeof(ignored_directives) / sizeof(ignored_directives[0]); i++) {
        if (argc == 2 && strcmp(name, ignored_directives[i]) == 0) return true;
    }
    return false;
}

/* Applies one split config line (argv[0] already lower-cased). Returns NULL
 * or the reason to report against the line. */
static const char *load_directive(struct loader *ld, char **argv, size_t *lens, int argc,
                                  char *reason)
{
    const struct directive *d = lookup(argv[0]);
    if (d == NULL && strcmp(argv[0], "user") == 0 && argc >= 2) {
        /* Kept for acl_setup(), which reports bad rules (Redis's
         * ACLAppendUserForLoading). */
        struct config *cfg = ld->cfg;
        cfg->users = em_realloc(cfg->users, (size_t)(cfg->user_count + 1) * sizeof(*cfg->users));
        struct config_user *u = &cfg->users[cfg->user_count++];
        u->argc = argc - 1;
        u->argv = em_malloc((size_t)u->argc * sizeof(*u->argv));
        for (int i = 1; i < argc; i++)
            u->argv[i - 1] = em_strndup(argv[i], lens[i]);
        return NULL;
    }
    if (d == NULL) {
        if (is_ignored_directive(argv[0], argc)) return NULL;
        return "Bad directive or wrong number of arguments";
    }
    if (!(d->flags & D_MULTI_ARG) && argc != 2) return "wrong number of arguments";

    /* A multi-word directive given as one non-empty word is split again, so
     * `--save "900 1 300 10"` and `save "900 1"` work; "" stays one word. */
    if ((d->flags & D_MULTI_ARG) && argc == 2 && lens[1] > 0) {
        char **words = NULL;
        size_t *wlens = NULL;
        int n = split_args(argv[1], lens[1], &words, &wlens);
        if (n < 0) n = 0; /* Redis's sdssplitargs yields no words then */
        const char *why = set_value(ld->cfg, d, words, n, true, reason);
        if (n > 0) split_args_free(words, wlens, n);
        return why;
    }
    return set_value(ld->cfg, d, argv + 1, argc - 1, true, reason);
}

/* Parses one line of config text, [line, line_end) with line_end writable. */
static int load_line(struct loader *ld, char *line, char *line_end, int linenum)
{
    /* Trim as Redis's sdstrim(line, " \t\r\n"). */
    while (line < line_end && strchr(" \t\r\n", *line) != NULL)
        line++;
    while (line_end > line && strchr(" \t\r\n", line_end[-1]) != NULL)
        line_end--;
    *line_end = '\0';
    if (line == line_end || line[0] == '#') return 0;

    char **argv;
    size_t *lens;
    int argc = split_args(line, (size_t)(line_end - line), &argv, &lens);
    if (argc < 0) return fail_line(ld, linenum, line, "Unbalanced quotes in configuration line");
    if (argc == 0) return 0;
    for (char *c = argv[0]; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    }

    int rc = 0;
    if (strcmp(argv[0], "include") == 0 && argc == 2) {
        if (ld->depth >= INCLUDE_MAX_DEPTH) {
            rc = fail_line(ld, linenum, line, "include nesting too deep (an include loop?)");
        } else {
            int ignored;
            ld->depth++;
            rc = load_path(ld, argv[1], &ignored); /* reports its own errors */
            ld->depth--;
        }
    } else {
        char reason[REASON_SIZE];
        const char *why = load_directive(ld, argv, lens, argc, reason);
        if (why != NULL) rc = fail_line(ld, linenum, line, why);
    }
    split_args_free(argv, lens, argc);
    return rc;
}

/* Parses config text, NUL-terminated at text[len] and modified in place,
 * whose first line is numbered first_line. Lines are what Redis's
 * sdssplitlen(text, "\n") gives, so "a\n" is two lines, the second empty. */
static int load_text(struct loader *ld, char *text, size_t len, int first_line)
{
    char *end = text + len;
    for (int linenum = first_line;; linenum++) {
        char *nl = memchr(text, '\n', (size_t)(end - text));
        int rc = load_line(ld, text, nl != NULL ? nl : end, linenum);
        if (rc != 0 || nl == NULL) return rc;
        text = nl + 1;
    }
}

static int read_file(struct loader *ld, const char *path, struct buf *text)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(ld->err, ld->errlen, "Fatal error, can't open config file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_catlen(text, chunk, n);
    fclose(fp);
    return 0;
}

/* Loads a file, or every file a glob matches, concatenated as Redis does (a
 * glob matching nothing loads nothing). Sets *newlines to the number of
 * lines the text had, for the command line's numbering. */
static int load_path(struct loader *ld, const char *path, int *newlines)
{
    struct buf text = {0};
    int rc = 0;
    buf_cat(&text, "");
    if (strpbrk(path, "*?[") != NULL) {
        glob_t g;
        if (glob(path, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc && rc == 0; i++) {
                rc = read_file(ld, g.gl_pathv[i], &text);
            }
            globfree(&g);
        }
    } else {
        rc = read_file(ld, path, &text);
    }
    *newlines = 0;
    for (size_t i = 0; i < text.len; i++)
        *newlines += text.ptr[i] == '\n';
    if (rc == 0) rc = load_text(ld, text.ptr, text.len, 1);
    buf_release(&text);
    return rc;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    struct loader ld = {.cfg = cfg, .err = err, .errlen = errlen};
    int newlines;
    int rc = load_path(&ld, path, &newlines);
    cfg->load_lines = newlines;
    return rc;
}

/* Turns command-line words into config lines as Redis's main() does: a word
 * starting with "--" opens a line (unless the previous option still lacks an
 * argument), other words are appended quoted. "--save" with nothing after it
 * means `save ""`. */
static void args_to_text(int argc, char **argv, struct buf *out)
{
    bool handled_last = true;
    for (int j = 0; j < argc; j++) {
        const char *a = argv[j];
        if (!(handled_last && a[0] == '-' && a[1] == '-')) {
            buf_cat_repr(out, a);
            buf_cat(out, " ");
            handled_last = true;
            continue;
        }
        if (out->len > 0) buf_cat(out, "\n");
        buf_cat(out, a + 2);
        buf_cat(out, " ");

        char **words;
        size_t *lens;
        int n = split_args(a, strlen(a), &words, &lens);
        if (n > 0) split_args_free(words, lens, n);
        handled_last = n != 1; /* "--port 6380" as one word carries its value */
        if (n == 1 && strcasecmp(a, "--save") == 0) {
            bool next_is_option = j + 1 < argc && argv[j + 1][0] == '-' && argv[j + 1][1] == '-';
            if (next_is_option || j + 1 == argc) {
                buf_cat(out, "\"\"");
                handled_last = next_is_option;
            }
        }
    }
}

int config_load_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    if (argc <= 0) return 0;
    struct loader ld = {.cfg = cfg, .err = err, .errlen = errlen};
    struct buf text = {0};
    buf_cat(&text, "");
    args_to_text(argc, argv, &text);
    /* Redis appends "\n" and the options to the file's text: they start on
     * the line after the file's last (line 2 without a file). */
    int rc = load_text(&ld, text.ptr, text.len, cfg->load_lines + 2);
    buf_release(&text);
    return rc;
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->logfile != NULL && cfg->logfile[0] != '\0') {
        FILE *fp = fopen(cfg->logfile, "a");
        if (fp == NULL) {
            snprintf(err, errlen, FATAL_HEADER "Can't open the log file: %s", strerror(errno));
            return -1;
        }
        fclose(fp);
    }
    return 0;
}

/* ---- CONFIG SET / CONFIG GET ---- */

int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const struct directive *d = lookup(name);
    if (d == NULL) {
        snprintf(err, errlen, "Unknown option or number of arguments for CONFIG SET - '%s'", name);
        return -1;
    }
    if (d->flags & D_PROTECTED) {
        snprintf(err, errlen, "%s", "can't set protected config");
        return -1;
    }
    if (!(d->flags & D_MUTABLE)) {
        snprintf(err, errlen, "%s", "can't set immutable config");
        return -1;
    }

    char reason[REASON_SIZE];
    char **argv;
    int argc;
    if (d->flags & D_MULTI_ARG) {
        argc = split_spaces(value, &argv);
    } else {
        argv = em_malloc(sizeof(*argv));
        argv[0] = em_strndup(value, strlen(value));
        argc = 1;
    }
    const char *why = set_value(cfg, d, argv, argc, false, reason);
    free_words(argv, argc);
    if (why != NULL) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    return 0;
}

void config_get(const struct config *cfg, const char *pattern, config_visit_fn *fn, void *arg)
{
    struct buf value = {0};
    if (strpbrk(pattern, "[*?") == NULL) {
        const struct directive *d = lookup(pattern);
        if (d != NULL) {
            render(cfg, d, &value);
            fn(pattern, value.ptr, arg);
        }
        buf_release(&value);
        return;
    }
    size_t plen = strlen(pattern);
    for (size_t i = 0; i < DIRECTIVE_COUNT; i++) {
        const struct directive *d = &directives[i];
        const char *names[2] = {d->name, d->alias};
        for (int k = 0; k < 2; k++) {
            if (names[k] == NULL) continue;
            if (!glob_match(pattern, plen, names[k], strlen(names[k]), true)) continue;
            render(cfg, d, &value);
            fn(names[k], value.ptr, arg);
        }
    }
    buf_release(&value);
}

/* ---- CONFIG REWRITE ----
 *
 * Redis's rewriteConfig(), step for step, so the file reads as Redis would
 * leave it:
 *  1. The old file is read line by line (trimmed). Comments and blank lines
 *     stay. A directive line is kept and remembered under its directive's
 *     name (an alias counts as the name it stands for); a line that does not
 *     parse or names no known directive is kept commented out as
 *     "# ??? <line>".
 *  2. Each directive renders its current value as config lines. The first
 *     old line of that directive is replaced in place; without one, the line
 *     is appended after a "# Generated by CONFIG REWRITE" line, but only if
 *     the value differs from the default (save, dir and
 *     latency-tracking-info-percentiles are always written, as in Redis
 *     7.0). Further old lines of a rewritten directive are blanked.
 *  3. Runs of blank lines collapse into one; the text goes to a temporary
 *     file that is fsync'ed and renamed over the old one. */

#define REWRITE_SIGNATURE "# Generated by CONFIG REWRITE"

struct rw_option {
    char *name;
    int *lines; /* old line numbers not yet reused, in file order */
    int count;
};

struct rw_state {
    char **lines; /* owned */
    int count;
    int cap;
    struct rw_option *options;
    int option_count;
    const char **processed; /* directive names rewritten (static strings) */
    int processed_count;
    bool needs_signature;
};

static void rw_append(struct rw_state *st, char *line)
{
    if (st->count == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->lines = em_realloc(st->lines, (size_t)st->cap * sizeof(*st->lines));
    }
    st->lines[st->count++] = line;
}

static struct rw_option *rw_option(struct rw_state *st, const char *name, bool create)
{
    for (int i = 0; i < st->option_count; i++) {
        if (strcmp(st->options[i].name, name) == 0) return &st->options[i];
    }
    if (!create) return NULL;
    st->options = em_realloc(st->options, (size_t)(st->option_count + 1) * sizeof(*st->options));
    struct rw_option *o = &st->options[st->option_count++];
    *o = (struct rw_option){.name = em_strndup(name, strlen(name))};
    return o;
}

static void rw_mark_processed(struct rw_state *st, const char *name)
{
    for (int i = 0; i < st->processed_count; i++) {
        if (strcmp(st->processed[i], name) == 0) return;
    }
    st->processed =
        em_realloc(st->processed, (size_t)(st->processed_count + 1) * sizeof(*st->processed));
    st->processed[st->processed_count++] = name;
}

/* Redis's rewriteConfigRewriteLine: takes ownership of `line`. */
static void rw_line(struct rw_state *st, const char *name, char *line, bool force)
{
    rw_mark_processed(st, name);
    struct rw_option *o = rw_option(st, name, false);
    if (o != NULL && o->count > 0) {
        int at = o->lines[0];
        memmove(o->lines, o->lines + 1, (size_t)(o->count - 1) * sizeof(*o->lines));
        o->count--;
        em_free(st->lines[at]);
        st->lines[at] = line;
        return;
    }
    if (!force) {
        em_free(line);
        return;
    }
    if (st->needs_signature) {
        rw_append(st, em_strndup(REWRITE_SIGNATURE, strlen(REWRITE_SIGNATURE)));
        st->needs_signature = false;
    }
    rw_append(st, line);
}

static bool rw_kept_directive(const char *name)
{
    static const char *const kept[] = {"include", "rename-command", "user", "loadmodule",
                                       "sentinel"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        if (strcasecmp(name, kept[i]) == 0) return true;
    }
    return false;
}

static char *str_trim_dup(const char *s, size_t len)
{
    const char *ws = "\r\n\t ";
    while (len > 0 && strchr(ws, s[0]) != NULL) {
        s++;
        len--;
    }
    while (len > 0 && strchr(ws, s[len - 1]) != NULL)
        len--;
    return em_strndup(s, len);
}

/* Step 1: the old file's lines. A missing file is an empty one. */
static int rw_read_old(struct rw_state *st, const char *path)
{
    st->needs_signature = true;
    FILE *fp = fopen(path, "r");
    if (fp == NULL) return errno == ENOENT ? 0 : -1;
    struct buf text = {0};
    buf_cat(&text, "");
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_catlen(&text, chunk, n);
    bool failed = ferror(fp) != 0;
    fclose(fp);
    if (failed) {
        buf_release(&text);
        return -1;
    }
    const char *p = text.ptr, *end = text.ptr + text.len;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = str_trim_dup(p, len);
        if (line[0] == '#' || line[0] == '\0') {
            if (strcmp(line, REWRITE_SIGNATURE) == 0) st->needs_signature = false;
            rw_append(st, line);
        } else {
            char **argv;
            size_t *lens;
            int argc = split_args(line, strlen(line), &argv, &lens);
            const struct directive *d = argc > 0 ? lookup(argv[0]) : NULL;
            if (argc <= 0 || (d == NULL && !rw_kept_directive(argv[0]))) {
                struct buf aux = {0};
                buf_cat(&aux, "# ??? ");
                buf_cat(&aux, line);
                em_free(line);
                rw_append(st, aux.ptr);
            } else {
                char lower[64];
                snprintf(lower, sizeof(lower), "%s", d != NULL ? d->name : argv[0]);
                for (char *q = lower; *q; q++)
                    *q = (char)tolower((unsigned char)*q);
                struct rw_option *o = rw_option(st, lower, true);
                o->lines = em_realloc(o->lines, (size_t)(o->count + 1) * sizeof(*o->lines));
                o->lines[o->count++] = st->count;
                rw_append(st, line);
            }
            if (argc > 0) split_args_free(argv, lens, argc);
        }
        if (nl == NULL) break;
        p = nl + 1;
    }
    buf_release(&text);
    return 0;
}

/* Redis's rewriteConfigFormatMemory. */
static void format_memory(struct buf *out, long long bytes)
{
    const long long gb = 1024LL * 1024 * 1024, mb = 1024LL * 1024, kb = 1024;
    if (bytes != 0 && bytes % gb == 0) {
        buf_printf(out, "%lldgb", bytes / gb);
    } else if (bytes != 0 && bytes % mb == 0) {
        buf_printf(out, "%lldmb", bytes / mb);
    } else if (bytes != 0 && bytes % kb == 0) {
        buf_printf(out, "%lldkb", bytes / kb);
    } else {
        buf_printf(out, "%lld", bytes);
    }
}

/* "name value" as a fresh string. */
static char *rw_make(const char *name, const char *value)
{
    struct buf b = {0};
    buf_cat(&b, name);
    buf_cat(&b, " ");
    buf_cat(&b, value);
    return b.ptr;
}

static void rw_cobl(struct rw_state *st, const struct config *cfg, const struct config *def)
{
    static const char *const classes[] = {"normal", "replica", "pubsub"};
    const long long *now[] = {cfg->cobl_normal, cfg->cobl_replica, cfg->cobl_pubsub};
    const long long *dflt[] = {def->cobl_normal, def->cobl_replica, def->cobl_pubsub};
    for (int i = 0; i < 3; i++) {
        struct buf b = {0};
        buf_printf(&b, "client-output-buffer-limit %s ", classes[i]);
        format_memory(&b, now[i][0]);
        buf_cat(&b, " ");
        format_memory(&b, now[i][1]);
        buf_printf(&b, " %lld", now[i][2]);
        rw_line(st, "client-output-buffer-limit", b.ptr,
                memcmp(now[i], dflt[i], 3 * sizeof(**now)));
    }
}

static void rw_save(struct rw_state *st, const struct config *cfg)
{
    const char *s = cfg->save != NULL ? cfg->save : "";
    if (s[0] == '\0') {
        rw_line(st, "save", rw_make("save", "\"\""), true);
    }
    while (*s != '\0') {
        long long secs = strtoll(s, (char **)&s, 10);
        long long changes = strtoll(s, (char **)&s, 10);
        struct buf b = {0};
        buf_printf(&b, "save %lld %lld", secs, changes);
        rw_line(st, "save", b.ptr, true);
        while (*s == ' ')
            s++;
    }
    rw_mark_processed(st, "save");
}

/* Step 2 for one directive. */
static void rw_directive(struct rw_state *st, const struct config *cfg, const struct config *def,
                         const struct directive *d)
{
    struct buf now = {0}, was = {0}, line = {0};
    render(cfg, d, &now);
    render(def, d, &was);
    bool force = strcmp(now.ptr, was.ptr) != 0;
    buf_cat(&line, d->name);
    buf_cat(&line, " ");
    if (d->type == T_SPECIAL && d->set == set_save) {
        rw_save(st, cfg);
        goto out;
    } else if (d->type == T_SPECIAL && d->set == set_cobl) {
        rw_cobl(st, cfg, def);
        goto out;
    } else if (d->type == T_SPECIAL && d->set == set_replicaof) {
        if (now.len == 0) {
            rw_mark_processed(st, d->name);
            goto out;
        }
        buf_cat(&line, now.ptr);
        force = true;
    } else if (d->type == T_STRING) {
        const char *s;
        memcpy(&s, field_cptr(cfg, d), sizeof(s));
        if (s == NULL) {
            rw_mark_processed(st, d->name);
            goto out;
        }
        buf_cat_repr(&line, s);
    } else if (d->type == T_SPECIAL && (d->set == set_dir || d->set == set_notify)) {
        buf_cat_repr(&line, now.ptr);
        if (d->set == set_dir) force = true;
    } else if (d->type == T_MEMORY) {
        format_memory(&line, load_number(cfg, d));
    } else if (d->type == T_SPECIAL && d->set == set_maxmemory_clients &&
               cfg->passive_num[NUM_SLOT_MM_CLIENTS] >= 0) {
        format_memory(&line, cfg->passive_num[NUM_SLOT_MM_CLIENTS]);
    } else if (d->type == T_SPECIAL && d->set == set_percentiles && now.len == 0) {
        buf_cat(&line, "\"\"");
        force = true;
    } else {
        buf_cat(&line, now.ptr);
        if (d->type == T_SPECIAL && d->set == set_percentiles) force = true;
    }
    rw_line(st, d->name, line.ptr, force);
    line.ptr = NULL;
out:
    buf_release(&now);
    buf_release(&was);
    buf_release(&line);
}

/* Blanks the old lines of rewritten directives that were not reused. */
static void rw_remove_orphaned(struct rw_state *st)
{
    for (int i = 0; i < st->option_count; i++) {
        struct rw_option *o = &st->options[i];
        bool rewritten = false;
        for (int k = 0; k < st->processed_count && !rewritten; k++)
            rewritten = strcmp(st->processed[k], o->name) == 0;
        if (!rewritten) continue;
        for (int k = 0; k < o->count; k++) {
            em_free(st->lines[o->lines[k]]);
            st->lines[o->lines[k]] = em_strndup("", 0);
        }
        o->count = 0;
    }
}

static int rw_write(const struct rw_state *st, const char *path)
{
    struct buf content = {0};
    buf_cat(&content, "");
    bool was_empty = false;
    for (int i = 0; i < st->count; i++) {
        if (st->lines[i][0] == '\0') {
            if (was_empty) continue;
            was_empty = true;
        } else {
            was_empty = false;
        }
        buf_cat(&content, st->lines[i]);
        buf_cat(&content, "\n");
    }
    /* Through a symlink, the file it points to is the one replaced. */
    char real[PATH_MAX];
    if (realpath(path, real) != NULL) path = real;
    struct buf tmp = {0};
    buf_printf(&tmp, "%s.tmp-ember-%d", path, (int)getpid());
    int rc = -1;
    /* The new file keeps the old one's permissions (it may hold passwords). */
    struct stat old;
    bool had_mode = stat(path, &old) == 0;
    FILE *fp = fopen(tmp.ptr, "w");
    if (fp != NULL) {
        bool ok = (!had_mode || fchmod(fileno(fp), old.st_mode & 07777) == 0) &&
                  fwrite(content.ptr, 1, content.len, fp) == content.len && fflush(fp) == 0 &&
                  fsync(fileno(fp)) == 0;
        ok = fclose(fp) == 0 && ok;
        if (ok && rename(tmp.ptr, path) == 0) {
            rc = 0;
        } else {
            int saved = errno;
            unlink(tmp.ptr);
            errno = saved;
        }
    }
    buf_release(&tmp);
    buf_release(&content);
    return rc;
}

static void rw_free(struct rw_state *st)
{
    for (int i = 0; i < st->count; i++)
        em_free(st->lines[i]);
    em_free(st->lines);
    for (int i = 0; i < st->option_count; i++) {
        em_free(st->options[i].name);
        em_free(st->options[i].lines);
    }
    em_free(st->options);
    em_free(st->processed);
}

int config_rewrite(const struct config *cfg, const char *path, const char *const *user_lines,
                   int user_count, char *err, size_t errlen)
{
    struct rw_state st = {0};
    int rc = rw_read_old(&st, path);
    if (rc < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        rw_free(&st);
        return -1;
    }
    struct config def;
    config_init(&def);
    for (size_t i = 0; i < DIRECTIVE_COUNT; i++)
        rw_directive(&st, cfg, &def, &directives[i]);
    config_deinit(&def);
    for (int i = 0; i < user_count; i++)
        rw_line(&st, "user", rw_make("user", user_lines[i]), true);
    if (user_lines != NULL) rw_mark_processed(&st, "user");
    rw_remove_orphaned(&st);
    rc = rw_write(&st, path);
    if (rc < 0) snprintf(err, errlen, "%s", strerror(errno));
    rw_free(&st);
    return rc;
}
