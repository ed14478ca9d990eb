/* config.h: server settings, from redis.conf syntax, the command line and
 * CONFIG SET.
 *
 * One table in config.c describes every directive: its name (and aliases),
 * type, limits, default, and whether CONFIG SET may change it at run time.
 * The file parser, the command-line parser, CONFIG GET and CONFIG SET all read
 * that table, so a directive is added in one place. */
#ifndef EMBER_CONFIG_H
#define EMBER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_MAX_BIND 16

/* Room for any message config_load_file() and friends write (the caller may
 * pass less; messages are cut to fit). */
#define CONFIG_ERR_SIZE 1024

/* enable-debug-command, as Redis's protected_action_enum. */
enum config_protected_action {
    CONFIG_ALLOW_NO = 0, /* never */
    CONFIG_ALLOW_YES,    /* always */
    CONFIG_ALLOW_LOCAL,  /* only from loopback and unix-socket connections */
};

/* notify-keyspace-events classes, as Redis's NOTIFY_* bits. */
#define NOTIFY_KEYSPACE (1 << 0)  /* K */
#define NOTIFY_KEYEVENT (1 << 1)  /* E */
#define NOTIFY_GENERIC  (1 << 2)  /* g */
#define NOTIFY_STRING   (1 << 3)  /* $ */
#define NOTIFY_LIST     (1 << 4)  /* l */
#define NOTIFY_SET      (1 << 5)  /* s */
#define NOTIFY_HASH     (1 << 6)  /* h */
#define NOTIFY_ZSET     (1 << 7)  /* z */
#define NOTIFY_EXPIRED  (1 << 8)  /* x */
#define NOTIFY_EVICTED  (1 << 9)  /* e */
#define NOTIFY_STREAM   (1 << 10) /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m */
#define NOTIFY_MODULE   (1 << 12) /* d */
#define NOTIFY_NEW      (1 << 13) /* n */
#define NOTIFY_ALL                                                                                 \
    (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET |       \
     NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE) /* A */

enum maxmemory_policy {
    MAXMEMORY_NOEVICTION = 0,
    MAXMEMORY_ALLKEYS_LRU,
    MAXMEMORY_VOLATILE_LRU,
    MAXMEMORY_ALLKEYS_LFU,
    MAXMEMORY_VOLATILE_LFU,
    MAXMEMORY_ALLKEYS_RANDOM,
    MAXMEMORY_VOLATILE_RANDOM,
    MAXMEMORY_VOLATILE_TTL,
};

#define CONFIG_PASSIVE_NUM 96
#define CONFIG_PASSIVE_STR 40

/* A `user` line of the config file: its words after "user" (the name, then
 * ACL rules). */
struct config_user {
    char **argv;
    int argc;
};

struct config {
    /* Network */
    char *bind[CONFIG_MAX_BIND]; /* em_malloc'd; a leading '-' marks an optional address */
    int bind_count;
    int port;
    int tcp_backlog;
    int tcp_keepalive; /* seconds, 0 = off */
    int timeout;       /* idle seconds before a client is closed, 0 = never */
    bool protected_mode;
    char *requirepass; /* NULL or "" = no password */
    /* Limits */
    int maxclients; /* Redis allows up to 2^32-1; kept here capped at INT_MAX */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    /* client-output-buffer-limit, per class: hard, soft (bytes, 0 = none)
     * and soft seconds */
    long long cobl_normal[3];
    long long cobl_pubsub[3];
    long long cobl_replica[3]; /* the "slave"/"replica" class: parsed and shown, unused */
    /* General */
    int databases;
    int hz;         /* capped to 1..500 when set, as Redis does */
    int loglevel;   /* enum log_level */
    char *logfile;  /* "" = stdout */
    bool daemonize; /* accepted only as "no" */
    char *pidfile;  /* NULL = none */
    char *dir;      /* absolute; setting it chdir()s, as in Redis */
    char *dbfilename;
    bool enable_debug_command; /* true only for "yes"; see debug_command for "local" */
    int debug_command;         /* enum config_protected_action */
    /* Memory */
    long long maxmemory;
    int maxmemory_policy; /* enum maxmemory_policy */
    int maxmemory_samples;
    int lfu_log_factor;
    int lfu_decay_time;
    int active_expire_effort; /* 1..10 */
    /* Diagnostics */
    long long slowlog_log_slower_than; /* microseconds; -1 disables, 0 logs all */
    long long slowlog_max_len;
    long long latency_monitor_threshold; /* milliseconds, 0 = off */
    bool latency_tracking;               /* INFO latencystats, LATENCY HISTOGRAM */
    bool cluster_enabled;                /* cluster-enabled: one node owning all slots */
    long long tracking_table_max_keys;   /* CLIENT TRACKING's key table, 0 = no limit */
    long long busy_reply_threshold;      /* ms a script runs before -BUSY (lua-time-limit) */
    /* Encodings (Redis allows up to LONG_MAX; kept here capped at INT_MAX) */
    int list_max_listpack_size; /* negative: size classes as in Redis */
    int hash_max_listpack_entries;
    int hash_max_listpack_value;
    int set_max_intset_entries;
    int set_max_listpack_entries; /* these two are Redis 7.2's (7.0 lacks them) */
    int set_max_listpack_value;
    int zset_max_listpack_entries;
    int zset_max_listpack_value;
    /* Persistence (accepted; see README for what is implemented) */
    bool appendonly;
    int appendfsync;      /* 0 always, 1 everysec, 2 no (aof.c) */
    char *appendfilename; /* "appendonly.aof": the prefix of the AOF files' names */
    char *appenddirname;  /* "appendonlydir", relative to dir */
    bool no_appendfsync_on_rewrite;
    int auto_aof_rewrite_percentage;
    long long auto_aof_rewrite_min_size;
    bool aof_load_truncated;
    bool aof_use_rdb_preamble;
    bool aof_rewrite_incremental_fsync;
    bool aof_timestamp_enabled;
    bool rdbcompression;          /* LZF for strings over 20 bytes in dumps */
    bool rdbchecksum;             /* CRC64 written and checked */
    char *save;                   /* as CONFIG GET shows it, "3600 1 300 100 60 10000"; "" = none */
    char *notify_keyspace_events; /* as CONFIG GET shows it, e.g. "AKE" */
    int notify_keyspace_flags;    /* the same as NOTIFY_* bits */
    /* Redis 7.0 directives ember accepts, validates and shows in CONFIG GET
     * but does not act on (replication, cluster bus, TLS, threads, defrag,
     * lazyfree...): config.c's "passive" rows, listed in the README. Numbers
     * and yes/no values live in passive_num, strings in passive_str. */
    long long passive_num[CONFIG_PASSIVE_NUM];
    char *passive_str[CONFIG_PASSIVE_STR];
    /* `user` lines in file order; acl_setup() applies them at start-up. */
    struct config_user *users;
    int user_count;
    /* Loader state, config.c's own: how many lines the main file had (the
     * command line continues its numbering) and whether a `save` line was
     * read yet (the first one replaces the default, later ones append). */
    int load_lines;
    bool save_loaded;
};

/* Fills `cfg` with Redis 7's defaults (bind "127.0.0.1 -::1", port 6379,
 * databases 16, hz 10, maxclients 10000, ...), dir being the current
 * directory. Redis's own built-in bind is "* -::*", guarded by protected
 * mode; ember binds loopback until told otherwise, as redis.conf does. */
void config_init(struct config *cfg);
/* Frees the strings `cfg` owns. */
void config_deinit(struct config *cfg);

/* Loads a redis.conf-syntax file (quoted arguments, size units, `include`)
 * into `cfg`. Returns 0, or -1 with a message in err (size errlen, at most
 * CONFIG_ERR_SIZE used) formatted as Redis prints it on start-up:
 *
 *   *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *   Reading the configuration file, at line 2
 *   >>> 'port 99999'
 *   argument must be between 0 and 65535 inclusive
 *
 * Redis writes an empty line before it and a newline after it, to stderr,
 * then exits 1: fprintf(stderr, "\n%s\n", err) gives the same bytes. A file
 * that cannot be opened gives instead the one line Redis logs as a warning,
 * "Fatal error, can't open config file '<path>': <strerror>".
 *
 * As in Redis, `path` and `include` may be globs (an include matching no file
 * is skipped), an included file reports its own line numbers, the first
 * `save` line replaces the default and later ones append, and `dir` changes
 * the working directory at once (later relative paths follow it). */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Applies directives given as "--name value ..." command-line words (argv
 * already stripped of the program name and config path), with the same
 * error format as a file (Redis reports them as "at line N" of the combined
 * text). Returns 0 or -1. */
int config_load_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* The checks Redis makes once the whole configuration is read: today, that
 * a logfile can be opened for appending. Returns 0, or -1 with err as
 * "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nCan't open the log file:
 * <strerror>" (no line part, as in Redis). Call it after config_load_args(). */
int config_check(const struct config *cfg, char *err, size_t errlen);

/* CONFIG SET one directive at run time. Returns 0, or -1 with Redis's reason
 * in err (e.g. "argument must be between 1 and 10 inclusive"); directives
 * that cannot change at run time give -1 with a reason too. The caller wraps
 * the reason in "ERR CONFIG SET failed (possibly related to argument
 * '<name>') - <reason>". `name` is matched case-insensitively; for a name
 * config_known() rejects, err is the whole "Unknown option or number of
 * arguments for CONFIG SET - '<name>'". Multi-word values (save, bind,
 * client-output-buffer-limit) are split at single spaces, as Redis does.
 * Side effects are the caller's: after a successful set it applies the new
 * value (log_set_level() for loglevel, ...). */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Calls fn(name, value, arg) for each directive whose name matches the glob
 * `pattern` (case-insensitive), in table order, with the value rendered as
 * CONFIG GET shows it ("yes"/"no", sizes in bytes, "3600 1 300 100 60 10000"
 * for save). As in Redis 7.0, a pattern without glob characters is looked
 * up directly and reported under the name as asked (CONFIG GET PORT answers
 * "PORT"; an alias answers under the alias, which redis-py's dict lookups
 * rely on), while a glob reports every matching name, aliases included.
 * Several patterns in one CONFIG GET are the caller's to de-duplicate. */
typedef void config_visit_fn(const char *name, const char *value, void *arg);
void config_get(const struct config *cfg, const char *pattern, config_visit_fn *fn, void *arg);

/* True if `name` is a directive this build knows (CONFIG SET of an unknown
 * one answers "ERR Unknown option or number of arguments for CONFIG SET -
 * '<name>'"). */
bool config_known(const char *name);

/* CONFIG REWRITE: rewrites the config file at `path` to hold `cfg` the way
 * Redis 7.0 does (comments and unknown lines kept, the latter as "# ??? ";
 * changed directives updated in place; new ones appended after a
 * "# Generated by CONFIG REWRITE" line; leftover duplicates blanked). A
 * missing file is created. `user_lines` (user_count of them, each the rules
 * after "user ") replace the file's `user` lines; NULL leaves those alone.
 * The file is replaced atomically (temporary file, fsync, rename). Returns 0,
 * or -1 with strerror's text in err. */
int config_rewrite(const struct config *cfg, const char *path, const char *const *user_lines,
                   int user_count, char *err, size_t errlen);

#endif
