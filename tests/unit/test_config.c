/* test_config.c: redis.conf parsing, the command line, CONFIG SET/GET, and
 * the log line format.
 *
 * Every expected message below was copied from Redis 7.0.15 (redis-server
 * with the same bad file or arguments, redis-cli CONFIG SET), so these tests
 * pin ember to Redis's bytes. Config files are written to mkstemp() files in
 * /tmp. Loading `dir` chdir()s, so each test runs from the directory the
 * suite started in (restored by the teardown). */
#include "ember/config.h"
#include "ember/log.h"
#include "ember/mem.h"

#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define FATAL "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"

static char start_dir[PATH_MAX];

/* ---- Helpers ---- */

#define MAX_TMP 64
static char tmp_paths[MAX_TMP][64];
static int tmp_count;

/* Writes `text` to a new file in /tmp and returns its path (removed by the
 * teardown). */
static const char *write_tmp(const char *text)
{
    assert_true(tmp_count < MAX_TMP);
    char *path = tmp_paths[tmp_count++];
    snprintf(path, sizeof(tmp_paths[0]), "/tmp/ember_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static int load_text(struct config *cfg, const char *text, char *err)
{
    err[0] = '\0';
    return config_load_file(cfg, write_tmp(text), err, CONFIG_ERR_SIZE);
}

static int load_args(struct config *cfg, char *err, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    err[0] = '\0';
    return config_load_args(cfg, argc, argv, err, CONFIG_ERR_SIZE);
}

struct seen {
    char text[16384]; /* "name=value\n" for each visit */
    int count;
};

static void collect(const char *name, const char *value, void *arg)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%s=%s\n", name, value);
    s->count++;
}

/* CONFIG GET of one exact name: its value, or NULL. */
static const char *get(const struct config *cfg, const char *name)
{
    static struct seen s;
    memset(&s, 0, sizeof(s));
    config_get(cfg, name, collect, &s);
    if (s.count == 0) return NULL;
    assert_int_equal(s.count, 1);
    char *eq = strchr(s.text, '=');
    s.text[strlen(s.text) - 1] = '\0';
    return eq + 1;
}

static int setup(void **state)
{
    struct config *cfg = em_malloc(sizeof(*cfg));
    config_init(cfg);
    *state = cfg;
    return 0;
}

static int teardown(void **state)
{
    config_deinit(*state);
    em_free(*state);
    for (int i = 0; i < tmp_count; i++)
        unlink(tmp_paths[i]);
    tmp_count = 0;
    assert_int_equal(chdir(start_dir), 0);
    return 0;
}

/* ---- Defaults ---- */

static void test_defaults_fields(void **state)
{
    struct config *cfg = *state;
    assert_int_equal(cfg->bind_count, 2);
    assert_string_equal(cfg->bind[0], "127.0.0.1");
    assert_string_equal(cfg->bind[1], "-::1");
    assert_int_equal(cfg->port, 6379);
    assert_int_equal(cfg->tcp_backlog, 511);
    assert_int_equal(cfg->tcp_keepalive, 300);
    assert_int_equal(cfg->timeout, 0);
    assert_true(cfg->protected_mode);
    assert_null(cfg->requirepass);
    assert_int_equal(cfg->maxclients, 10000);
    assert_int_equal(cfg->proto_max_bulk_len, 512LL * 1024 * 1024);
    assert_int_equal(cfg->client_query_buffer_limit, 1024LL * 1024 * 1024);
    assert_int_equal(cfg->cobl_normal[0], 0);
    assert_int_equal(cfg->cobl_pubsub[0], 32LL * 1024 * 1024);
    assert_int_equal(cfg->cobl_pubsub[1], 8LL * 1024 * 1024);
    assert_int_equal(cfg->cobl_pubsub[2], 60);
    assert_int_equal(cfg->cobl_replica[0], 256LL * 1024 * 1024);
    assert_int_equal(cfg->databases, 16);
    assert_int_equal(cfg->hz, 10);
    assert_int_equal(cfg->loglevel, LOG_NOTICE);
    assert_string_equal(cfg->logfile, "");
    assert_false(cfg->daemonize);
    assert_null(cfg->pidfile);
    assert_string_equal(cfg->dir, start_dir);
    assert_string_equal(cfg->dbfilename, "dump.rdb");
    assert_false(cfg->enable_debug_command);
    assert_int_equal(cfg->debug_command, CONFIG_ALLOW_NO);
    assert_int_equal(cfg->maxmemory, 0);
    assert_int_equal(cfg->maxmemory_policy, MAXMEMORY_NOEVICTION);
    assert_int_equal(cfg->maxmemory_samples, 5);
    assert_int_equal(cfg->lfu_log_factor, 10);
    assert_int_equal(cfg->lfu_decay_time, 1);
    assert_int_equal(cfg->active_expire_effort, 1);
    assert_int_equal(cfg->list_max_listpack_size, -2);
    assert_int_equal(cfg->hash_max_listpack_entries, 512);
    assert_int_equal(cfg->hash_max_listpack_value, 64);
    assert_int_equal(cfg->set_max_intset_entries, 512);
    assert_int_equal(cfg->set_max_listpack_entries, 128);
    assert_int_equal(cfg->set_max_listpack_value, 64);
    assert_int_equal(cfg->zset_max_listpack_entries, 128);
    assert_int_equal(cfg->zset_max_listpack_value, 64);
    assert_false(cfg->appendonly);
    assert_string_equal(cfg->save, "3600 1 300 100 60 10000");
    assert_string_equal(cfg->notify_keyspace_events, "");
    assert_int_equal(cfg->notify_keyspace_flags, 0);
}

/* What `redis-cli CONFIG GET` printed for a Redis 7.0.15 started without a
 * file (bind aside: see config_init()). */
static void test_defaults_as_config_get(void **state)
{
    struct config *cfg = *state;
    assert_string_equal(get(cfg, "bind"), "127.0.0.1 -::1");
    assert_string_equal(get(cfg, "protected-mode"), "yes");
    assert_string_equal(get(cfg, "requirepass"), "");
    assert_string_equal(get(cfg, "pidfile"), "");
    assert_string_equal(get(cfg, "loglevel"), "notice");
    assert_string_equal(get(cfg, "maxmemory-policy"), "noeviction");
    assert_string_equal(get(cfg, "save"), "3600 1 300 100 60 10000");
    assert_string_equal(get(cfg, "proto-max-bulk-len"), "536870912");
    assert_string_equal(get(cfg, "client-query-buffer-limit"), "1073741824");
    assert_string_equal(get(cfg, "client-output-buffer-limit"),
                        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    assert_string_equal(get(cfg, "list-max-listpack-size"), "-2");
    assert_string_equal(get(cfg, "enable-debug-command"), "no");
    assert_string_equal(get(cfg, "notify-keyspace-events"), "");
    assert_string_equal(get(cfg, "dir"), start_dir);
}

/* ---- Types and syntax ---- */

static void test_types_from_file(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_text(cfg,
                               "# a comment\n"
                               "\n"
                               "   \t\n"
                               "  port 7000  \r\n"
                               "PROTECTED-MODE NO\n"
                               "appendonly YES\n"
                               "maxmemory-policy ALLKEYS-lfu\n"
                               "loglevel warning\n"
                               "list-max-listpack-size -5\n"
                               "requirepass \"with space\"\n"
                               "logfile 'single \\n kept'\n"
                               "dbfilename \"x\\x41y.rdb\"\n"
                               "enable-debug-command local\n",
                               err),
                     0);
    assert_int_equal(cfg->port, 7000);
    assert_false(cfg->protected_mode);
    assert_true(cfg->appendonly);
    assert_int_equal(cfg->maxmemory_policy, MAXMEMORY_ALLKEYS_LFU);
    assert_string_equal(get(cfg, "maxmemory-policy"), "allkeys-lfu");
    assert_int_equal(cfg->loglevel, LOG_WARNING);
    assert_int_equal(cfg->list_max_listpack_size, -5);
    assert_string_equal(cfg->requirepass, "with space");
    assert_string_equal(cfg->logfile, "single \\n kept");
    assert_string_equal(cfg->dbfilename, "xAy.rdb");
    assert_int_equal(cfg->debug_command, CONFIG_ALLOW_LOCAL);
    assert_false(cfg->enable_debug_command); /* "local" is not "everyone" */
    assert_string_equal(get(cfg, "enable-debug-command"), "local");
}

static void test_memory_units(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    static const struct {
        const char *text;
        long long bytes;
    } cases[] = {
        {"1gb", 1024LL * 1024 * 1024},
        {"1GB", 1024LL * 1024 * 1024},
        {"1g", 1000000000LL},
        {"100mb", 100LL << 20},
        {"100m", 100000000LL},
        {"1k", 1000},
        {"1kb", 1024},
        {"7b", 7},
        {"12345", 12345},
        {"0", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(config_set(cfg, "maxmemory", cases[i].text, err, sizeof(err)), 0);
        assert_int_equal(cfg->maxmemory, cases[i].bytes);
    }
    assert_int_equal(config_set(cfg, "maxmemory", "3mb", err, sizeof(err)), 0);
    assert_string_equal(get(cfg, "maxmemory"), "3145728"); /* CONFIG GET shows bytes */

    /* Memory sizes in int fields and in client-output-buffer-limit. */
    char text[] = "hash-max-listpack-value 1k\n"
                  "proto-max-bulk-len 2mb\n"
                  "client-output-buffer-limit pubsub 64mb 16mb 90 normal 1kb 1k 5\n";
    assert_int_equal(load_text(cfg, text, err), 0);
    assert_int_equal(cfg->hash_max_listpack_value, 1000);
    assert_int_equal(cfg->proto_max_bulk_len, 2LL << 20);
    assert_int_equal(cfg->cobl_pubsub[0], 64LL << 20);
    assert_int_equal(cfg->cobl_pubsub[2], 90);
    assert_string_equal(
        get(cfg, "client-output-buffer-limit"),
        "normal 1024 1000 5 slave 268435456 67108864 60 pubsub 67108864 16777216 90");

    /* A plain integer directive takes no unit. */
    assert_int_equal(config_set(cfg, "hash-max-listpack-entries", "1k", err, sizeof(err)), -1);
    assert_string_equal(err, "argument couldn't be parsed into an integer");
}

static void test_multi_arg_directives(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    /* Later lines win; bind replaces, save lines add up as in Redis. */
    assert_int_equal(load_text(cfg,
                               "bind 10.0.0.1\n"
                               "bind 127.0.0.1 \"-::1\" 192.168.1.1\n"
                               "save 900 1\n"
                               "save \"300 10\"\n"
                               "port 1\n"
                               "port 2\n",
                               err),
                     0);
    assert_int_equal(cfg->bind_count, 3);
    assert_string_equal(get(cfg, "bind"), "127.0.0.1 -::1 192.168.1.1");
    assert_string_equal(cfg->save, "900 1 300 10");
    assert_int_equal(cfg->port, 2);

    /* save "" clears; later lines start from nothing. */
    assert_int_equal(load_text(cfg, "save 1 1\nsave \"\"\nsave 5 5\n", err), 0);
    assert_string_equal(cfg->save, "5 5");
    assert_int_equal(load_text(cfg, "bind \"\"\n", err), 0);
    assert_int_equal(cfg->bind_count, 0);
    assert_string_equal(get(cfg, "bind"), "");
}

static void test_ignored_and_alias_directives(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_text(cfg,
                               "hash-max-ziplist-entries 100\n"
                               "HASH-MAX-ZIPLIST-VALUE 32\n"
                               "list-max-ziplist-size 8\n"
                               "zset-max-ziplist-entries 10\n"
                               "zset-max-ziplist-value 20\n"
                               "list-max-ziplist-entries 5\n" /* Redis 7 ignores these two */
                               "list-max-ziplist-value 5\n",
                               err),
                     0);
    assert_int_equal(cfg->hash_max_listpack_entries, 100);
    assert_int_equal(cfg->hash_max_listpack_value, 32);
    assert_int_equal(cfg->list_max_listpack_size, 8);
    assert_int_equal(cfg->zset_max_listpack_entries, 10);
    assert_int_equal(cfg->zset_max_listpack_value, 20);
}

static void test_hz_and_notify(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_text(cfg, "hz 1000\n", err), 0);
    assert_int_equal(cfg->hz, 500); /* Redis caps hz to 1..500 */
    assert_int_equal(config_set(cfg, "hz", "0", err, sizeof(err)), 0);
    assert_string_equal(get(cfg, "hz"), "1");

    /* Rendered as Redis's keyspaceEventsFlagsToString does. */
    static const char *const cases[][2] = {
        {"KEA", "AKE"},  {"g$lshzxetd", "A"}, {"g$lshzxet", "g$lshzxet"},
        {"nmKA", "AKm"}, {"Exn", "xnE"},      {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(config_set(cfg, "notify-keyspace-events", cases[i][0], err, sizeof(err)),
                         0);
        assert_string_equal(get(cfg, "notify-keyspace-events"), cases[i][1]);
    }
    assert_int_equal(config_set(cfg, "notify-keyspace-events", "KEA", err, sizeof(err)), 0);
    assert_int_equal(cfg->notify_keyspace_flags, NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT);
}

static void test_dir_changes_directory(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    /* A relative include after `dir` is found in the new directory. */
    const char *inc = write_tmp("timeout 42\n");
    char text[256];
    snprintf(text, sizeof(text), "dir /tmp\ninclude %s\n", inc + strlen("/tmp/"));
    assert_int_equal(load_text(cfg, text, err), 0);
    assert_int_equal(cfg->timeout, 42);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_string_equal(cfg->dir, cwd);
    assert_string_equal(get(cfg, "dir"), cwd);
}

/* ---- include ---- */

static void test_include(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    const char *inner = write_tmp("timeout 7\nhz 20\n");
    char text[256];
    /* A directive after the include overrides the included value. */
    snprintf(text, sizeof(text), "timeout 3\ninclude %s\nhz 30\n", inner);
    assert_int_equal(load_text(cfg, text, err), 0);
    assert_int_equal(cfg->timeout, 7);
    assert_int_equal(cfg->hz, 30);

    /* A glob includes each match, in order; one matching nothing is skipped. */
    char dir[] = "/tmp/ember_test_inc_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const parts[][2] = {{"a.conf", "hz 40\n"}, {"b.conf", "timeout 8\n"}};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof(text), "%s/%s", dir, parts[i][0]);
        FILE *fp = fopen(text, "w");
        assert_non_null(fp);
        fputs(parts[i][1], fp);
        fclose(fp);
    }
    snprintf(text, sizeof(text), "include %s/*.conf\ninclude %s/none*.conf\n", dir, dir);
    int rc = load_text(cfg, text, err);
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof(text), "%s/%s", dir, parts[i][0]);
        unlink(text);
    }
    rmdir(dir);
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->hz, 40);
    assert_int_equal(cfg->timeout, 8);

    /* The included file reports its own line numbers. */
    const char *bad = write_tmp("# one\nhz x\n");
    snprintf(text, sizeof(text), "port 1\ninclude %s\n", bad);
    assert_int_equal(load_text(cfg, text, err), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 2\n"
                                   ">>> 'hz x'\n"
                                   "argument couldn't be parsed into an integer");

    assert_int_equal(load_text(cfg, "include /nonexistent/ember.conf\n", err), -1);
    assert_string_equal(err, "Fatal error, can't open config file '/nonexistent/ember.conf': "
                             "No such file or directory");
}

static void test_include_loop_stops(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    const char *self = write_tmp("");
    FILE *fp = fopen(self, "w");
    assert_non_null(fp);
    fprintf(fp, "include %s\n", self);
    fclose(fp);
    assert_int_equal(config_load_file(cfg, self, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "include nesting too deep"));
}

/* ---- Error messages, byte for byte ---- */

static void test_file_errors_exact(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    static const char *const cases[][2] = {
        {"# c\nport 99999\n", FATAL "Reading the configuration file, at line 2\n"
                                    ">>> 'port 99999'\n"
                                    "argument must be between 0 and 65535 inclusive"},
        {"foo bar\n", FATAL "Reading the configuration file, at line 1\n"
                            ">>> 'foo bar'\n"
                            "Bad directive or wrong number of arguments"},
        {"port\n", FATAL "Reading the configuration file, at line 1\n"
                         ">>> 'port'\n"
                         "wrong number of arguments"},
        {"  port   \"99999\"  \t\n", FATAL "Reading the configuration file, at line 1\n"
                                           ">>> 'port   \"99999\"'\n"
                                           "argument must be between 0 and 65535 inclusive"},
        {"port \"1\n", FATAL "Reading the configuration file, at line 1\n"
                             ">>> 'port \"1'\n"
                             "Unbalanced quotes in configuration line"},
        {"daemonize maybe\n", FATAL "Reading the configuration file, at line 1\n"
                                    ">>> 'daemonize maybe'\n"
                                    "argument must be 'yes' or 'no'"},
        {"maxmemory -1\n", FATAL "Reading the configuration file, at line 1\n"
                                 ">>> 'maxmemory -1'\n"
                                 "argument must be a memory value"},
        {"maxmemory-policy lru\n",
         FATAL "Reading the configuration file, at line 1\n"
               ">>> 'maxmemory-policy lru'\n"
               "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
               "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
               "noeviction"},
        {"save 1\n", FATAL "Reading the configuration file, at line 1\n"
                           ">>> 'save 1'\n"
                           "Invalid save parameters"},
        {"dbfilename a/b\n", FATAL "Reading the configuration file, at line 1\n"
                                   ">>> 'dbfilename a/b'\n"
                                   "dbfilename can't be a path, just a filename"},
        {"dir /nonexistent\n", FATAL "Reading the configuration file, at line 1\n"
                                     ">>> 'dir /nonexistent'\n"
                                     "No such file or directory"},
        {"client-output-buffer-limit master 1 2 3\n",
         FATAL "Reading the configuration file, at line 1\n"
               ">>> 'client-output-buffer-limit master 1 2 3'\n"
               "Invalid client class specified in buffer limit configuration."},
        {"notify-keyspace-events Q\n", FATAL "Reading the configuration file, at line 1\n"
                                             ">>> 'notify-keyspace-events Q'\n"
                                             "Invalid event class character. Use "
                                             "'Ag$lshzxeKEtmdn'."},
        {"bind a b c d e f g h i j k l m n o p q\n",
         FATAL "Reading the configuration file, at line 1\n"
               ">>> 'bind a b c d e f g h i j k l m n o p q'\n"
               "Too many bind addresses specified."},
        {"list-max-ziplist-entries 5 6\n", FATAL "Reading the configuration file, at line 1\n"
                                                 ">>> 'list-max-ziplist-entries 5 6'\n"
                                                 "Bad directive or wrong number of arguments"},
        {"maxclients 0\n", FATAL "Reading the configuration file, at line 1\n"
                                 ">>> 'maxclients 0'\n"
                                 "argument must be between 1 and 4294967295 inclusive"},
        {"enable-debug-command maybe\n", FATAL "Reading the configuration file, at line 1\n"
                                               ">>> 'enable-debug-command maybe'\n"
                                               "argument(s) must be one of the following: no, "
                                               "yes, local"},
        {"port 1\r\nhz 0x10\n", FATAL "Reading the configuration file, at line 2\n"
                                      ">>> 'hz 0x10'\n"
                                      "argument couldn't be parsed into an integer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(load_text(cfg, cases[i][0], err), -1);
        assert_string_equal(err, cases[i][1]);
        assert_int_equal(chdir(start_dir), 0);
    }
}

/* ember refuses to daemonize rather than ignore it. */
static void test_daemonize_yes_refused(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_text(cfg, "daemonize no\n", err), 0);
    assert_int_equal(load_text(cfg, "daemonize yes\n", err), -1);
    assert_non_null(strstr(err, ">>> 'daemonize yes'\nember does not daemonize"));
}

static void test_missing_file(void **state)
{
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(config_load_file(*state, "/nonexistent.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "Fatal error, can't open config file '/nonexistent.conf': "
                             "No such file or directory");
}

static void test_check_logfile(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(config_check(cfg, err, sizeof(err)), 0);
    assert_int_equal(load_text(cfg, "logfile /nonexistent/x.log\n", err), 0);
    assert_int_equal(config_check(cfg, err, sizeof(err)), -1);
    assert_string_equal(err, FATAL "Can't open the log file: No such file or directory");
}

static void test_long_error_is_cut(void **state)
{
    char err[40];
    assert_int_equal(config_load_file(*state, write_tmp("port x\n"), err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* ---- The command line ---- */

static void test_args_override_file(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_text(cfg, "port 1\nhz 5\nsave 900 1\n", err), 0);
    assert_int_equal(load_args(cfg, err, 9, "--port", "7000", "--bind", "a", "b", "--save", "60 5",
                               "--maxmemory", "1mb"),
                     0);
    assert_int_equal(cfg->port, 7000);
    assert_int_equal(cfg->hz, 5);
    assert_string_equal(get(cfg, "bind"), "a b");
    assert_string_equal(cfg->save, "900 1 60 5"); /* one load: save lines add up */
    assert_int_equal(cfg->maxmemory, 1 << 20);
}

static void test_args_save_empty(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(load_args(cfg, err, 2, "--save", ""), 0);
    assert_string_equal(cfg->save, "");
    config_deinit(cfg);
    config_init(cfg);
    /* "--save" followed by an option or nothing means save "". */
    assert_int_equal(load_args(cfg, err, 3, "--save", "--port", "7001"), 0);
    assert_string_equal(cfg->save, "");
    assert_int_equal(cfg->port, 7001);
    config_deinit(cfg);
    config_init(cfg);
    assert_int_equal(load_args(cfg, err, 3, "--port", "7002", "--save"), 0);
    assert_string_equal(cfg->save, "");
    /* One word holding name and value. */
    assert_int_equal(load_args(cfg, err, 2, "--port 7003", "--hz=5x"), -1);
    assert_int_equal(cfg->port, 7003);
}

static void test_args_errors_exact(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    /* Without a file, options start at line 2, values shown quoted. */
    assert_int_equal(load_args(cfg, err, 2, "--port", "99999"), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 2\n"
                                   ">>> 'port \"99999\"'\n"
                                   "argument must be between 0 and 65535 inclusive");
    assert_int_equal(load_args(cfg, err, 6, "--port", "7000", "--bind", "a", "b", "--hz"), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 4\n"
                                   ">>> 'hz'\n"
                                   "wrong number of arguments");
    /* An option still waiting for its value takes "--hz" as that value. */
    assert_int_equal(load_args(cfg, err, 3, "--port", "--hz", "5"), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 2\n"
                                   ">>> 'port \"--hz\" \"5\"'\n"
                                   "wrong number of arguments");
    assert_int_equal(load_args(cfg, err, 2, "--notify-keyspace-events", "a\"b\t"), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 2\n"
                                   ">>> 'notify-keyspace-events \"a\\\"b\\t\"'\n"
                                   "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    assert_int_equal(load_args(cfg, err, 1, "--foo"), -1);
    assert_string_equal(err, FATAL "Reading the configuration file, at line 2\n"
                                   ">>> 'foo'\n"
                                   "Bad directive or wrong number of arguments");
}

static void test_args_line_numbers_follow_file(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    /* Redis appends "\n" + options to the file's text. */
    static const struct {
        const char *file;
        int line;
    } cases[] = {{"port 1\nhz 5\n", 4}, {"port 1\nhz 5", 3}, {"port 1\n\n\n", 5}, {"", 2}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[256];
        assert_int_equal(load_text(cfg, cases[i].file, err), 0);
        assert_int_equal(load_args(cfg, err, 2, "--port", "99999"), -1);
        snprintf(want, sizeof(want),
                 FATAL "Reading the configuration file, at line %d\n"
                       ">>> 'port \"99999\"'\n"
                       "argument must be between 0 and 65535 inclusive",
                 cases[i].line);
        assert_string_equal(err, want);
    }
}

/* ---- CONFIG SET / CONFIG GET ---- */

static void test_config_set_errors(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    static const char *const cases[][3] = {
        {"hz", "abc", "argument couldn't be parsed into an integer"},
        {"hz", "-1", "argument must be between 0 and 2147483647 inclusive"},
        {"timeout", "01", "argument couldn't be parsed into an integer"},
        {"timeout", "+1", "argument couldn't be parsed into an integer"},
        {"timeout", "", "argument couldn't be parsed into an integer"},
        {"maxclients", "0", "argument must be between 1 and 4294967295 inclusive"},
        {"maxmemory", "1x", "argument must be a memory value"},
        {"maxmemory", "1.5gb", "argument must be a memory value"},
        {"proto-max-bulk-len", "100",
         "argument must be between 1048576 and 9223372036854775807 inclusive"},
        {"hash-max-listpack-entries", "-1",
         "argument must be between 0 and 9223372036854775807 inclusive"},
        {"zset-max-listpack-value", "-5", "argument must be a memory value"},
        {"list-max-listpack-size", "-99999999999",
         "argument must be between -2147483648 and 2147483647 inclusive"},
        {"active-expire-effort", "11", "argument must be between 1 and 10 inclusive"},
        {"protected-mode", "maybe", "argument must be 'yes' or 'no'"},
        {"save", "1 2 3", "Invalid save parameters"},
        {"save", "1  2", "Invalid save parameters"}, /* split at single spaces */
        {"save", "-1 5", "Invalid save parameters"},
        {"client-output-buffer-limit", "normal 1 2",
         "Wrong number of arguments in buffer limit configuration."},
        {"client-output-buffer-limit", "normal a 2 3",
         "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
        {"client-output-buffer-limit", "normal 1 2 -1",
         "Error in hard, soft or soft_seconds setting in buffer limit configuration."},
        {"daemonize", "yes", "can't set immutable config"},
        {"databases", "4", "can't set immutable config"},
        {"logfile", "x", "can't set immutable config"},
        {"enable-debug-command", "yes", "can't set immutable config"},
        {"port", "7000", "can't set immutable config"}, /* ember cannot re-listen */
        {"dir", "/tmp", "can't set protected config"},
        {"dbfilename", "x.rdb", "can't set protected config"},
        {"foo", "bar", "Unknown option or number of arguments for CONFIG SET - 'foo'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(config_set(cfg, cases[i][0], cases[i][1], err, sizeof(err)), -1);
        assert_string_equal(err, cases[i][2]);
    }
    assert_false(config_known("foo"));
    assert_true(config_known("HASH-MAX-ZIPLIST-ENTRIES"));
    /* Nothing changed. */
    assert_int_equal(cfg->hz, 10);
    assert_string_equal(cfg->save, "3600 1 300 100 60 10000");
    assert_int_equal(cfg->cobl_normal[0], 0);
}

static void test_config_set_values(void **state)
{
    struct config *cfg = *state;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(config_set(cfg, "MAXMEMORY-POLICY", "ALLKEYS-LRU", err, sizeof(err)), 0);
    assert_string_equal(get(cfg, "maxmemory-policy"), "allkeys-lru");
    assert_int_equal(config_set(cfg, "loglevel", "WARNING", err, sizeof(err)), 0);
    assert_int_equal(cfg->loglevel, LOG_WARNING);
    assert_int_equal(config_set(cfg, "requirepass", "s3cret", err, sizeof(err)), 0);
    assert_string_equal(cfg->requirepass, "s3cret");
    assert_int_equal(config_set(cfg, "requirepass", "", err, sizeof(err)), 0);
    assert_null(cfg->requirepass);
    assert_string_equal(get(cfg, "requirepass"), "");
    /* CONFIG SET replaces the save list, and shows numbers as Redis keeps them. */
    assert_int_equal(config_set(cfg, "save", "0900 1 60 5", err, sizeof(err)), 0);
    assert_string_equal(get(cfg, "save"), "900 1 60 5");
    assert_int_equal(config_set(cfg, "save", "", err, sizeof(err)), 0);
    assert_string_equal(get(cfg, "save"), "");
    assert_int_equal(config_set(cfg, "client-output-buffer-limit",
                                "replica 1mb 2 3 NORMAL 1k 2kb 0", err, sizeof(err)),
                     0);
    assert_string_equal(get(cfg, "client-output-buffer-limit"),
                        "normal 1000 2048 0 slave 1048576 2 3 pubsub 33554432 8388608 60");
    assert_int_equal(config_set(cfg, "maxclients", "4294967295", err, sizeof(err)), 0);
    assert_int_equal(cfg->maxclients, INT_MAX);
    assert_int_equal(config_set(cfg, "list-max-ziplist-size", "-3", err, sizeof(err)), 0);
    assert_int_equal(cfg->list_max_listpack_size, -3);
}

static void test_config_get_patterns(void **state)
{
    struct config *cfg = *state;
    struct seen s;

    memset(&s, 0, sizeof(s));
    config_get(cfg, "maxmemory*", collect, &s);
    assert_string_equal(s.text, "maxmemory=0\n"
                                "maxmemory-policy=noeviction\n"
                                "maxmemory-samples=5\n"
                                "maxmemory-eviction-tenacity=10\n"
                                "maxmemory-clients=0\n");

    /* A glob reports aliases too, as Redis 7.0 does. */
    memset(&s, 0, sizeof(s));
    config_get(cfg, "*max-*-entries*", collect, &s);
    assert_string_equal(s.text, "hash-max-listpack-entries=512\n"
                                "hash-max-ziplist-entries=512\n"
                                "set-max-intset-entries=512\n"
                                "set-max-listpack-entries=128\n"
                                "zset-max-listpack-entries=128\n"
                                "zset-max-ziplist-entries=128\n");

    memset(&s, 0, sizeof(s));
    config_get(cfg, "P?RT", collect, &s);
    assert_string_equal(s.text, "port=6379\n");

    memset(&s, 0, sizeof(s));
    config_get(cfg, "[bh]*", collect, &s);
    assert_string_equal(s.text, "bind=127.0.0.1 -::1\n"
                                "hash-max-listpack-entries=512\n"
                                "hash-max-ziplist-entries=512\n"
                                "hash-max-listpack-value=64\n"
                                "hash-max-ziplist-value=64\n"
                                "hz=10\n"
                                "busy-reply-threshold=5000\n"
                                "hll-sparse-max-bytes=3000\n"
                                "bio_cpulist=\n"
                                "bgsave_cpulist=\n"
                                "bind-source-addr=\n");

    /* An exact name answers under the name as asked. */
    memset(&s, 0, sizeof(s));
    config_get(cfg, "LIST-MAX-ZIPLIST-SIZE", collect, &s);
    assert_string_equal(s.text, "LIST-MAX-ZIPLIST-SIZE=-2\n");

    memset(&s, 0, sizeof(s));
    config_get(cfg, "nosuch", collect, &s);
    config_get(cfg, "nosuch*", collect, &s);
    assert_int_equal(s.count, 0);

    /* "*" visits every directive and alias: 62 names and aliases ember acts on, plus
     * 119 passive directives and 13 aliases of theirs. */
    memset(&s, 0, sizeof(s));
    config_get(cfg, "*", collect, &s);
    assert_int_equal(s.count, 194);
}

/* Setting every directive to what CONFIG GET shows leaves it unchanged. */
static void test_get_set_round_trip(void **state)
{
    struct config *cfg = *state;
    struct seen s;
    char err[CONFIG_ERR_SIZE];
    assert_int_equal(
        config_set(cfg, "client-output-buffer-limit", "normal 1 2 3", err, sizeof(err)), 0);
    memset(&s, 0, sizeof(s));
    config_get(cfg, "*", collect, &s);
    char *save = NULL;
    for (char *line = strtok_r(s.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        *eq = '\0';
        if (config_set(cfg, line, eq + 1, err, sizeof(err)) != 0) {
            /* Only the directives CONFIG SET refuses whatever the value. */
            assert_true(strstr(err, "can't set") != NULL);
        }
        assert_string_equal(get(cfg, line), eq + 1);
    }
}

/* ---- The example file ---- */

/* redis.conf.example sits at the project root: found from this file's
 * path (absolute under CMake) or, failing that, the working directory. */
static void example_path(char *out, size_t size)
{
    const char *src = __FILE__;
    const char *tail = strstr(src, "tests/unit/test_config.c");
    int root_len = tail != NULL ? (int)(tail - src) : 0;
    snprintf(out, size, "%.*sredis.conf.example", root_len, src);
}

static void test_example_file_loads(void **state)
{
    struct config *cfg = *state;
    char path[PATH_MAX], err[CONFIG_ERR_SIZE];
    example_path(path, sizeof(path));
    assert_int_equal(config_load_file(cfg, path, err, sizeof(err)), 0);

    /* It sets every directive to its default. */
    struct config fresh;
    config_init(&fresh);
    struct seen a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    config_get(cfg, "*", collect, &a);
    config_get(&fresh, "*", collect, &b);
    assert_string_equal(a.text, b.text);
    config_deinit(&fresh);

    /* And it documents every directive. */
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char text[64 * 1024];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    char *save = NULL;
    for (char *line = strtok_r(a.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        *strchr(line, '=') = '\0';
        if (strstr(text, line) == NULL) fail_msg("redis.conf.example lacks %s", line);
    }
}

/* ---- log.c: the line format logfile selects ---- */

static void test_log_line_format(void **state)
{
    (void)state;
    const char *path = write_tmp("");
    assert_int_equal(log_setup(LOG_NOTICE, path), 0);
    log_debug("dropped %d", 1);
    log_verbose("dropped %d", 2);
    log_notice("hello %s", "world");
    log_warn("careful");
    log_set_level(LOG_DEBUG);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_debug("dbg");
    log_verbose("vrb");
    log_set_level(LOG_NOTHING);
    log_warn("dropped too");
    log_teardown();
    assert_int_equal(log_setup(LOG_NOTICE, "/nonexistent/dir/x.log"), -1);

    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char text[1024];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);

    regex_t re;
    const char *pat = "^([0-9]+):M [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                      "\\.[0-9]{3} \\* hello world\n"
                      "[0-9]+:M [^\n]* # careful\n"
                      "[0-9]+:M [^\n]* \\. dbg\n"
                      "[0-9]+:M [^\n]* - vrb\n$";
    assert_int_equal(regcomp(&re, pat, REG_EXTENDED), 0);
    regmatch_t m[2];
    int rc = regexec(&re, text, 2, m, 0);
    regfree(&re);
    if (rc != 0) fail_msg("log text did not match:\n%s", text);
    assert_int_equal(atoi(text), (int)getpid());
}

static void test_log_long_message_cut(void **state)
{
    (void)state;
    const char *path = write_tmp("");
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(log_setup(LOG_NOTICE, path), 0);
    log_notice("%s", big);
    log_teardown();
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[4096];
    assert_non_null(fgets(line, sizeof(line), fp));
    fclose(fp);
    /* Redis's LOG_MAX_LEN: 1023 bytes of message, then the newline. */
    assert_int_equal(strlen(strrchr(line, ' ') + 1), 1023 + 1);
}

int main(void)
{
    assert_non_null(getcwd(start_dir, sizeof(start_dir)));
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults_fields),
        T(test_defaults_as_config_get),
        T(test_types_from_file),
        T(test_memory_units),
        T(test_multi_arg_directives),
        T(test_ignored_and_alias_directives),
        T(test_hz_and_notify),
        T(test_dir_changes_directory),
        T(test_include),
        T(test_include_loop_stops),
        T(test_file_errors_exact),
        T(test_daemonize_yes_refused),
        T(test_missing_file),
        T(test_check_logfile),
        T(test_long_error_is_cut),
        T(test_args_override_file),
        T(test_args_save_empty),
        T(test_args_errors_exact),
        T(test_args_line_numbers_follow_file),
        T(test_config_set_errors),
        T(test_config_set_values),
        T(test_config_get_patterns),
        T(test_get_set_round_trip),
        T(test_example_file_loads),
        T(test_log_line_format),
        T(test_log_long_message_cut),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
