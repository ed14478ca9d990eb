/* main.c: command line and configuration -> server_init() -> server_run().
 *
 *   ember-server [config-file] [--directive value ...]
 *
 * as redis-server: the first argument is a config file unless it starts
 * with "--"; directives on the command line override the file. */
#include "ember/config.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/server.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EMBER_REDIS_VERSION "7.0.15"

static void print_version(void)
{
    printf("ember server v=%s (redis %s compatible) malloc=%s bits=%d\n", EMBER_VERSION,
           EMBER_REDIS_VERSION, mem_allocator_name(), (int)(sizeof(long) * 8));
}

static void print_help(void)
{
    fprintf(stderr, "Usage: ./ember-server [/path/to/redis.conf] [options] [-]\n"
                    "       ./ember-server - (read config from stdin)\n"
                    "       ./ember-server -v or --version\n"
                    "       ./ember-server -h or --help\n"
                    "\n"
                    "Examples:\n"
                    "       ./ember-server (run the server with default config)\n"
                    "       ./ember-server /etc/redis/6379.conf\n"
                    "       ./ember-server --port 7777\n"
                    "       ./ember-server /etc/myredis.conf --loglevel verbose -\n"
                    "       ./ember-server /etc/myredis.conf --loglevel verbose\n"
                    "\n"
                    "The configuration file uses redis.conf syntax; see redis.conf.example\n"
                    "for every directive ember understands.\n");
}

static char *absolute_path(const char *p)
{
    char buf[PATH_MAX];
    if (realpath(p, buf) == NULL) return em_strndup(p, strlen(p));
    return em_strndup(buf, strlen(buf));
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        print_version();
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        print_help();
        return 0;
    }

    /* As Redis's main(): SORT ... ALPHA compares with strcoll() in the
     * environment's collation. */
    setlocale(LC_COLLATE, "");
    config_init(&server.cfg);
    server.executable = absolute_path(argv[0]);
    char err[2048];
    int first_opt = 1;
    if (argc >= 2 && strncmp(argv[1], "--", 2) != 0) {
        server.config_file = absolute_path(argv[1]);
        if (config_load_file(&server.cfg, argv[1], err, sizeof(err)) < 0) {
            fprintf(stderr, "\n%s\n", err);
            config_deinit(&server.cfg);
            return 1;
        }
        first_opt = 2;
    }
    if (argc > first_opt) {
        if (config_load_args(&server.cfg, argc - first_opt, argv + first_opt, err, sizeof(err)) <
            0) {
            fprintf(stderr, "\n%s\n", err);
            config_deinit(&server.cfg);
            return 1;
        }
    }
    if (config_check(&server.cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n%s\n", err);
        config_deinit(&server.cfg);
        return 1;
    }
    if (log_setup((enum log_level)server.cfg.loglevel, server.cfg.logfile) < 0) {
        fprintf(stderr, "Can't open the log file: %s\n", server.cfg.logfile);
        config_deinit(&server.cfg);
        return 1;
    }

    log_notice("oO0OoO0OoO0Oo ember is starting oO0OoO0OoO0Oo");
    log_notice("ember version=%s (redis %s compatible), bits=%d, pid=%d, just started",
               EMBER_VERSION, EMBER_REDIS_VERSION, (int)(sizeof(long) * 8), (int)getpid());
    if (server.config_file == NULL) {
        log_warn("Warning: no config file specified, using the default config. In order to "
                 "specify a config file use %s /path/to/redis.conf",
                 argv[0]);
    } else {
        log_notice("Configuration loaded");
    }
    if (server_init() < 0) {
        server_deinit();
        log_teardown();
        return 1;
    }
    log_notice("Running mode=standalone, port=%d.", server.cfg.port);
    log_notice("Server initialized");
    int code = server_run();
    server_deinit();
    log_teardown();
    return code;
}
