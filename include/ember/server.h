/* server.h: the one global server state, start-up, shutdown and the cron.
 *
 * Everything the server owns hangs off `server`: configuration, the
 * keyspace, the clients, statistics and the event loop (kept opaque here so
 * only net.c and server.c include libuv). */
#ifndef EMBER_SERVER_H
#define EMBER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/config.h"
#include "ember/db.h"

struct client;

struct server_stats {
    long long total_connections_received;
    long long total_commands_processed;
    long long rejected_connections;
    long long total_net_input_bytes;
    long long total_net_output_bytes;
    long long total_error_replies;
    long long unexpected_error_replies;
    long long expire_cycle_cpu_us;
};

/* INFO errorstats: replies counted by error code (the first word). */
#define SERVER_ERRORSTATS_MAX 128
struct error_stat {
    char code[32];
    long long count;
};

/* INFO's instantaneous_* figures: samples taken every 100 ms by the cron. */
#define SERVER_METRIC_SAMPLES 16
struct inst_metric {
    long long last_sample_ms;
    long long last_sample_count;
    long long samples[SERVER_METRIC_SAMPLES];
    int idx;
};

enum inst_metric_kind { METRIC_COMMANDS = 0, METRIC_NET_INPUT, METRIC_NET_OUTPUT, METRIC_COUNT };

struct server {
    struct config cfg;
    struct keyspace ks;
    struct server_stats stats;
    struct error_stat errorstats[SERVER_ERRORSTATS_MAX];
    int errorstat_count;
    struct inst_metric metrics[METRIC_COUNT];
    long long stat_reset_ms;
    char *config_file; /* absolute path, or NULL */
    char *executable;  /* absolute path */
    char run_id[41];
    long long start_ms;
    /* Writes since start-up: handlers add the number of keys they changed
     * (Redis's server.dirty); dispatch sees a write happened when it moves. */
    long long dirty;
    int pid;
    uint64_t next_client_id;
    /* Clients: every connection, and those with output to flush. */
    struct client *clients;
    int client_count;
    struct client *pending_writes;
    /* A read buffer shared by all clients: complete commands are executed
     * from it without copying (client.h). */
    char *read_buf;
    size_t read_buf_size;
    size_t peak_memory;
    long long cron_loops;
    /* A script running past busy-reply-threshold: other clients get -BUSY
     * (busy_message) for commands not flagged CMD_ALLOW_BUSY. */
    bool script_busy;
    bool active_expire_off; /* DEBUG SET-ACTIVE-EXPIRE 0: only lazy expiry */
    const char *busy_message;
    struct client *script_caller;
    bool shutdown_asap;
    int shutdown_save; /* SHUTDOWN SAVE (1) / NOSAVE (-1) / default (0): save if save points */
    int shutdown_exit_code;
    void *loop; /* uv_loop_t *, owned by net.c */
    void *net;  /* net.c's private state */
};

extern struct server server;

/* Sets up everything after the configuration is loaded; returns 0 or -1
 * (after logging why). */
int server_init(void);
/* server_init() without the event loop and listeners, for in-process
 * harnesses (the fuzzers): clients come from client_create(), get bytes
 * through client_feed() and their replies stay queued (reply_release()
 * drops them). Commands that need the loop (SHUTDOWN, CONFIG SET hz) must
 * not run. Undone by server_deinit(). Returns 0 or -1. */
int server_init_embedded(void);
/* Runs the event loop until shutdown; returns the exit code. */
int server_run(void);
/* Frees everything server_init() made. */
void server_deinit(void);

/* The periodic task (hz times a second): expiry, rehashing, client timeouts,
 * stats. Called by net.c's timer. */
void server_cron(void);
/* Called by net.c once per loop iteration before it sleeps. */
void server_before_sleep(void);
/* Asks the loop to stop after this iteration (SHUTDOWN, SIGTERM). */
void server_request_shutdown(int exit_code);

/* Counts an error reply under its code (INFO errorstats). */
void server_count_error(const char *msg);
/* Per-second rate of a metric over the last samples (INFO). */
long long server_inst_metric(enum inst_metric_kind kind);
/* Zeroes the statistics (CONFIG RESETSTAT). */
void server_reset_stats(void);

/* Client registry, used by net.c. */
void server_link_client(struct client *c);
void server_unlink_client(struct client *c);

#endif
