/* server.c: the global server state, start-up, the cron and shutdown.
 *
 * server_cron() runs hz times a second from net.c's timer. Each tick it:
 *  - refreshes the LRU clock and the memory peak;
 *  - runs the active expire cycle under a CPU budget of 25% of the tick
 *    (scaled by active-expire-effort, as Redis does);
 *  - spends up to 1 ms per db on incremental rehashing and shrinks tables
 *    that emptied out;
 *  - closes clients idle past `timeout`;
 *  - goes on evicting while used memory is over maxmemory. */
#include "ember/server.h"

#include "ember/acl.h"
#include "ember/aof.h"
#include "ember/blocking.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/diag.h"
#include "ember/evict.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/net.h"
#include "ember/persist.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/script.h"
#include "ember/set.h"
#include "ember/tracking.h"
#include "ember/zset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct server server;

void server_link_client(struct client *c)
{
    c->prev = NULL;
    c->next = server.clients;
    if (server.clients != NULL) server.clients->prev = c;
    server.clients = c;
    server.client_count++;
}

void server_unlink_client(struct client *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        server.clients = c->next;
    }
    if (c->next != NULL) c->next->prev = c->prev;
    server.client_count--;
    /* Drop it from the pending-write list if it is there. */
    if (c->flags & CLIENT_PENDING_WRITE) {
        struct client **p = &server.pending_writes;
        while (*p != NULL && *p != c)
            p = &(*p)->pending_next;
        if (*p == c) *p = c->pending_next;
        c->flags &= ~(unsigned)CLIENT_PENDING_WRITE;
    }
}

static void make_run_id(char *out)
{
    uint8_t raw[20];
    random_bytes(raw, sizeof(raw));
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        out[i * 2] = hex[raw[i] >> 4];
        out[i * 2 + 1] = hex[raw[i] & 15];
    }
    out[40] = '\0';
}

static void on_key_touched(struct db *db, struct slice key, void *ctx)
{
    (void)ctx;
    multi_touch_key(db, key);
    if (tracking_live) tracking_touch_key(db, key);
}

static void on_key_expired(struct db *db, struct slice key, void *ctx)
{
    (void)ctx;
    notify_keyspace_event(NOTIFY_EXPIRED, "expired", key, db->id);
    propagate_deleted(db, key); /* the AOF records an expiry as DEL */
}

static void on_db_flush(struct db *db, void *ctx)
{
    (void)ctx;
    multi_touch_db(db);
    if (tracking_live) tracking_flush_db(db);
}

static void on_key_ready(struct db *db, struct slice key, void *ctx)
{
    (void)ctx;
    blocking_signal_key(db, key);
}

int server_init_embedded(void)
{
    uint8_t seed[16];
    random_bytes(seed, sizeof(seed));
    hash_set_seed(seed);
    clock_update();
    clock_ticks_init();
    server.pid = (int)getpid();
    server.start_ms = clock_ms();
    make_run_id(server.run_id);
    uint64_t rng_seed_value;
    random_bytes(&rng_seed_value, sizeof(rng_seed_value));
    keyspace_init(&server.ks, server.cfg.databases, rng_seed_value);
    server.read_buf_size = 64 * 1024;
    server.read_buf = em_malloc(server.read_buf_size);
    command_setup();
    acl_setup(); /* maps the command table */
    t_list_setup();
    t_set_setup();
    t_hash_setup();
    t_zset_setup();
    blocking_setup();
    multi_setup();
    pubsub_setup();
    diag_setup();
    server.ks.on_ready = on_key_ready;
    server.ks.on_touch = on_key_touched;
    server.ks.on_flush = on_db_flush;
    server.ks.on_expired = on_key_expired;
    evict_apply_config(); /* LFU or LRU stamps from the first key on */
    return 0;
}

/* Redis's adjustOpenFilesLimit: maxclients needs that many descriptors
 * plus a reserve; raise the limit if allowed, else lower maxclients (with
 * Redis's log lines), so clients past the limit get the maxclients error
 * instead of a bare close when accept() runs out of descriptors. */
#define RESERVED_FDS 32

static int adjust_open_files_limit(void)
{
    rlim_t want = (rlim_t)server.cfg.maxclients + RESERVED_FDS;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
        log_warn("Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the "
                 "max clients configuration accordingly.",
                 strerror(errno));
        server.cfg.maxclients = 1024 - RESERVED_FDS;
        return 0;
    }
    rlim_t old = lim.rlim_cur;
    if (old >= want) return 0;
    rlim_t best = want;
    int err = 0;
    while (best > old) {
        lim.rlim_cur = lim.rlim_max = best;
        if (setrlimit(RLIMIT_NOFILE, &lim) != -1) break;
        err = errno;
        if (best < 16) {
            best = old;
            break;
        }
        best -= 16;
    }
    if (best < old) best = old;
    if (best >= want) {
        log_notice("Increased maximum number of open files to %llu (it was originally set to "
                   "%llu).",
                   (unsigned long long)want, (unsigned long long)old);
        return 0;
    }
    int requested = server.cfg.maxclients;
    if (best <= RESERVED_FDS) {
        log_warn("Your current 'ulimit -n' of %llu is not enough for the server to start. Please "
                 "increase your open file limit to at least %llu. Exiting.",
                 (unsigned long long)old, (unsigned long long)want);
        return -1;
    }
    server.cfg.maxclients = (int)(best - RESERVED_FDS);
    log_warn("You requested maxclients of %d requiring at least %llu max file descriptors.",
             requested, (unsigned long long)want);
    log_warn("Server can't set maximum open files to %llu because of OS error: %s.",
             (unsigned long long)want, strerror(err));
    log_warn("Current maximum open files is %llu. maxclients has been reduced to %d to "
             "compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
             (unsigned long long)best, server.cfg.maxclients);
    return 0;
}

int server_init(void)
{
    if (adjust_open_files_limit() < 0) return -1;
    if (server_init_embedded() < 0) return -1;
    /* The AOF when appendonly is on (it wins over the dump), else the dump;
     * Redis exits on a bad file too. */
    if (aof_setup() < 0) return -1;
    return net_setup() < 0 ? -1 : 0;
}

void server_deinit(void)
{
    /* Scripts first: their internal clients use the state torn down below. */
    script_teardown();
    function_teardown();
    blocking_teardown();
    multi_teardown();
    pubsub_teardown();
    tracking_teardown();
    diag_teardown();
    aof_teardown();
    acl_teardown();
    evict_teardown();
    keyspace_deinit(&server.ks);
    hash_teardown(); /* shared field lists outlive the hashes that used them */
    em_free(server.read_buf);
    server.read_buf = NULL;
    em_free(server.config_file);
    em_free(server.executable);
    config_deinit(&server.cfg);
}

void server_request_shutdown(int exit_code)
{
    server.shutdown_asap = true;
    server.shutdown_exit_code = exit_code;
    net_stop();
}

static void close_idle_clients(void)
{
    if (server.cfg.timeout <= 0) return;
    long long now = clock_ms();
    long long limit = (long long)server.cfg.timeout * 1000;
    for (struct client *c = server.clients; c != NULL; c = c->next) {
        if (now - c->last_interaction_ms > limit && !(c->flags & CLIENT_CLOSING)) {
            log_verbose("Closing idle client");
            client_close_asap(c);
        }
    }
}

void server_count_error(const char *msg)
{
    size_t len = strcspn(msg, " ");
    if (len >= sizeof(server.errorstats[0].code)) len = sizeof(server.errorstats[0].code) - 1;
    for (int i = 0; i < server.errorstat_count; i++) {
        struct error_stat *e = &server.errorstats[i];
        if (strlen(e->code) == len && memcmp(e->code, msg, len) == 0) {
            e->count++;
            return;
        }
    }
    if (server.errorstat_count == SERVER_ERRORSTATS_MAX) return; /* Redis stops at 128 too */
    struct error_stat *e = &server.errorstats[server.errorstat_count++];
    memcpy(e->code, msg, len);
    e->code[len] = '\0';
    e->count = 1;
}

static long long metric_value(enum inst_metric_kind kind)
{
    switch (kind) {
    case METRIC_COMMANDS:
        return server.stats.total_commands_processed;
    case METRIC_NET_INPUT:
        return server.stats.total_net_input_bytes;
    case METRIC_NET_OUTPUT:
        return server.stats.total_net_output_bytes;
    case METRIC_COUNT:
        break;
    }
    return 0;
}

/* Redis's trackInstantaneousMetric: a rate per second from two samples. */
static void track_metrics(void)
{
    long long now = clock_ms();
    for (int k = 0; k < METRIC_COUNT; k++) {
        struct inst_metric *m = &server.metrics[k];
        long long value = metric_value((enum inst_metric_kind)k);
        if (now - m->last_sample_ms < 100) continue;
        long long elapsed = now - m->last_sample_ms;
        long long ops = value - m->last_sample_count;
        m->samples[m->idx] = m->last_sample_ms == 0 ? 0 : ops * 1000 / (elapsed > 0 ? elapsed : 1);
        m->idx = (m->idx + 1) % SERVER_METRIC_SAMPLES;
        m->last_sample_ms = now;
        m->last_sample_count = value;
    }
}

long long server_inst_metric(enum inst_metric_kind kind)
{
    long long sum = 0;
    for (int i = 0; i < SERVER_METRIC_SAMPLES; i++)
        sum += server.metrics[kind].samples[i];
    return sum / SERVER_METRIC_SAMPLES;
}

void server_reset_stats(void)
{
    memset(&server.stats, 0, sizeof(server.stats));
    memset(&server.ks.stats, 0, sizeof(server.ks.stats));
    memset(server.errorstats, 0, sizeof(server.errorstats));
    server.errorstat_count = 0;
    memset(server.metrics, 0, sizeof(server.metrics));
    server.stat_reset_ms = clock_ms();
}

void server_cron(void)
{
    server.cron_loops++;
    clock_ticks_refine();
    persist_cron();
    track_metrics();
    server.ks.lru_clock = (uint32_t)((clock_ms() / 1000) & OBJ_LRU_MAX);

    /* Active expiry: Redis gives the slow cycle 25% of a tick's time at
     * effort 1, plus a little more per effort step. */
    int effort = server.cfg.active_expire_effort;
    long long tick_us = 1000000 / (server.cfg.hz > 0 ? server.cfg.hz : 10);
    long long budget = tick_us * (25 + 2 * (effort - 1)) / 100;
    struct expire_cycle_stats es;
    long long t0 = clock_mono_us();
    if (!server.active_expire_off) db_expire_cycle(&server.ks, effort, budget, &es);
    server.stats.expire_cycle_cpu_us += clock_mono_us() - t0;

    for (int i = 0; i < server.ks.count; i++) {
        struct dict *d = &server.ks.dbs[i].dict;
        dict_maybe_shrink(d);
        if (dict_is_rehashing(d)) dict_rehash_us(d, 1000);
    }
    close_idle_clients();
    evict_cron(); /* finishes eviction that no command arrives to drive */
    size_t used = evict_used_memory();
    if (used > server.peak_memory) server.peak_memory = used;
}

void server_before_sleep(void)
{
    blocking_handle_timeouts();
    blocking_handle_ready();
    if (tracking_live) tracking_before_sleep();
}

int server_run(void)
{
    log_notice("Ready to accept connections tcp");
    net_run();
    log_warn("User requested shutdown...");
    if (server.shutdown_save > 0) {
        persist_save_sync();
    } else if (server.shutdown_save == 0) {
        persist_save_on_shutdown(); /* when save points are configured */
    }
    net_teardown();
    log_warn("%s is now ready to exit, bye bye...", "ember");
    return server.shutdown_exit_code;
}
