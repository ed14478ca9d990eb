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
    int maxclients;
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    /* client-output-buffer-limit, normal and pubsub classes: hard, soft
     * (bytes, 0 = none) and soft seconds */
    long long cobl_normal[3];
    long long cobl_pubsub[3];
    /* General */
    int databases;
    int hz;
    int loglevel; /* enum log_level */
    char *logfile; /* "" = stdout */
    bool daemonize; /* accepted only as "no" */
    char *pidfile;
    char *dir;
    char *dbfilename;
    bool enable_debug_command;
    /* Memory */
    long long maxmemory;
    int maxmemory_policy; /* enum maxmemory_policy */
    int maxmemory_samples;
    int lfu_log_factor;
    int lfu_decay_time;
    int active_expire_effort; /* 1..10 */
    /* Encodings */
    int list_max_listpack_size; /* negative: size classes as in Redis */
    int hash_max_listpack_entries;
    int hash_max_listpack_value;
    int set_max_intset_entries;
    int set_max_listpack_entries;
    int set_max_listpack_value;
    int zset_max_listpack_entries;
    int zset_max_listpack_value;
    /* Persistence (accepted; see README for what is implemented) */
    bool appendonly;
    char *save; /* as given, e.g. "3600 1 300 100 60 10000", "" = none */
    char *notify_keyspace_events;
};

/* Fills `cfg` with Redis 7's defaults (bind "127.0.0.1 -::1", port 6379,
 * databases 16, hz 10, maxclients 10000, ...). */
void config_init(struct config *cfg);
/* Frees the strings `cfg` owns. */
void config_deinit(struct config *cfg);

/* Loads a redis.conf-syntax file (quoted arguments, size units, `include`)
 * into `cfg`. Returns 0, or -1 with a message in err (size errlen) formatted
 * as Redis prints it on start-up:
 *
 *   *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *   Reading the configuration file, at line 2
 *   >>> 'port 99999'
 *   argument must be between 0 and 65535 inclusive
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Applies directives given as "--name value ..." command-line words (argv
 * already stripped of the program name and config path), with the same
 * error format as a file (Redis reports them as "at line N" of the combined
 * text). Returns 0 or -1. */
int config_load_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* CONFIG SET one directive at run time. Returns 0, or -1 with Redis's reason
 * in err (e.g. "argument must be between 1 and 500 inclusive"); directives
 * that cannot change at run time give -1 with a reason too. The caller wraps
 * the reason in "ERR CONFIG SET failed (possibly related to argument
 * '<name>') - <reason>". `name` is matched case-insensitively. */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Calls fn(name, value, arg) for each directive whose name matches the glob
 * `pattern` (case-insensitive), in table order, with the value rendered as
 * CONFIG GET shows it ("yes"/"no", sizes in bytes, "3600 1 300 100 60 10000"
 * for save). Each directive is reported once, under its canonical name. */
typedef void config_visit_fn(const char *name, const char *value, void *arg);
void config_get(const struct config *cfg, const char *pattern, config_visit_fn *fn, void *arg);

/* True if `name` is a directive this build knows (CONFIG SET of an unknown
 * one answers "ERR Unknown option or number of arguments for CONFIG SET -
 * '<name>'"). */
bool config_known(const char *name);

#endif
