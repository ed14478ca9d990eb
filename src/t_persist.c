/* t_persist.c: SAVE, BGSAVE, save points, loading at start-up (persist.h),
 * and DUMP/RESTORE, which share the RDB value codec.
 *
 * A save writes "temp-<pid>.rdb" in the working directory (`dir`), fsyncs
 * it and renames it over `dbfilename`, so a crash never leaves a half
 * written dump under the real name. BGSAVE forks: the child writes the
 * snapshot of its copy-on-write image and _exit()s; the parent keeps
 * serving and reaps it from the cron (persist_cron). Before it exits, the
 * child sends its private dirty memory (the copy-on-write cost of the save,
 * from /proc/self/smaps_rollup) through a pipe, as Redis's child reports
 * rdb_last_cow_size. */
#include "ember/persist.h"

#include "ember/aof.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/evict.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/rdb.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BGSAVE_RETRY_DELAY_S 5 /* Redis's CONFIG_BGSAVE_RETRY_DELAY */

static struct {
    pid_t child;              /* the BGSAVE child, or 0 */
    long long child_start_ms; /* when it was forked */
    long long dirty_at_fork;  /* server.dirty when it was forked */
    long long dirty_at_save;  /* server.dirty at the last successful save */
    long long last_save_ms;   /* 0 until the first save: start-up time */
    long long last_try_ms;    /* last BGSAVE attempt (retry delay) */
    long long last_bgsave_sec;
    bool last_bgsave_ok;
    long long saves;
    int cow_pipe;       /* read end of the child's reports, or -1 */
    long long cur_keys; /* the running child's last progress report */
    long long cur_cow, cur_cow_peak, cur_cow_ms;
    long long last_cow_size;   /* bytes the last BGSAVE child dirtied */
    long long save_keys_total; /* keys when the running BGSAVE forked */
    long long latest_fork_usec;
    long long total_forks;
    long long load_keys_loaded, load_keys_expired;
    bool bgsave_scheduled; /* BGSAVE SCHEDULE while an AOF rewrite ran */
} ps = {.last_bgsave_ok = true, .last_bgsave_sec = -1, .cow_pipe = -1};

static long long now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void persist_status(struct persist_status *out)
{
    out->changes_since_last_save = server.dirty - ps.dirty_at_save;
    out->bgsave_in_progress = ps.child != 0;
    out->last_save_time = (ps.last_save_ms ? ps.last_save_ms : server.start_ms) / 1000;
    out->last_bgsave_ok = ps.last_bgsave_ok;
    out->last_bgsave_time_sec = ps.last_bgsave_sec;
    out->current_bgsave_time_sec = ps.child ? (now_wall_ms() - ps.child_start_ms) / 1000 : -1;
    out->saves = ps.saves;
    out->save_keys_total = ps.child ? ps.save_keys_total : 0;
    out->save_keys_processed = ps.child ? ps.cur_keys : 0;
    out->fork_perc = ps.child && ps.save_keys_total
                         ? 100.0 * (double)ps.cur_keys / (double)ps.save_keys_total
                         : 0;
    out->cow_size = ps.child ? ps.cur_cow : 0;
    out->cow_peak = ps.child ? ps.cur_cow_peak : 0;
    out->cow_size_age = ps.child && ps.cur_cow_ms ? (now_wall_ms() - ps.cur_cow_ms) / 1000 : 0;
    out->last_cow_size = ps.last_cow_size;
    out->last_load_keys_loaded = ps.load_keys_loaded;
    out->last_load_keys_expired = ps.load_keys_expired;
    out->latest_fork_usec = ps.latest_fork_usec;
    out->total_forks = ps.total_forks;
}

/* Private_Dirty of this process in bytes (Redis's zmalloc_get_private_dirty),
 * or 0 if /proc does not say. */
static long long private_dirty_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Private_Dirty:", 14) == 0) {
            kb = strtoll(line + 14, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

/* What a BGSAVE child tells its parent: progress about once a second while
 * it writes, then its final copy-on-write size (Redis's child info pipe). */
enum { CHILD_PROGRESS = 1, CHILD_DONE = 2 };

struct child_report {
    long long kind, keys, cow;
};

struct child_ctx {
    int fd;
    long long last_ms;
};

static void child_send(int fd, long long kind, long long keys)
{
    if (fd < 0) return;
    struct child_report r = {kind, keys, private_dirty_bytes()};
    /* A short write means the parent is gone or not reading: nothing to do. */
    if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) return;
}

static void child_progress(void *arg, long long keys)
{
    struct child_ctx *cx = arg;
    long long now = now_wall_ms();
    if (now - cx->last_ms < 1000) return;
    cx->last_ms = now;
    child_send(cx->fd, CHILD_PROGRESS, keys);
}

/* Writes the snapshot to a temp file named after `pid` and renames it over
 * dbfilename. Runs in the server (SAVE) or in the child (BGSAVE, which
 * passes its report pipe as `cx`; NULL otherwise). */
static int write_snapshot(pid_t pid, struct child_ctx *cx)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)pid);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        log_warn("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp,
                 server.cfg.dir, strerror(errno));
        return -1;
    }
    struct rdb_out out = {.fp = fp,
                          .compress = server.cfg.rdbcompression,
                          .no_crc = !server.cfg.rdbchecksum,
                          .progress = cx ? child_progress : NULL,
                          .progress_arg = cx};
    int rc = rdb_save(&out, &server.ks, now_wall_ms());
    rdb_out_free(&out);
    if (rc == 0 && fflush(fp) != 0) rc = -1;
    if (rc == 0 && fsync(fileno(fp)) != 0) rc = -1;
    if (fclose(fp) != 0) rc = -1;
    if (rc == 0 && rename(tmp, server.cfg.dbfilename) != 0) rc = -1;
    if (rc != 0) {
        log_warn("Write error saving DB on disk: %s", strerror(errno));
        unlink(tmp);
    }
    return rc;
}

static void save_done(long long dirty_before)
{
    ps.dirty_at_save = dirty_before;
    ps.last_save_ms = now_wall_ms();
    ps.saves++;
}

int persist_save_sync(void)
{
    long long dirty = server.dirty;
    if (write_snapshot(getpid(), NULL) != 0) return -1;
    save_done(dirty);
    log_notice("DB saved on disk");
    return 0;
}

static long long keyspace_keys(void)
{
    long long n = 0;
    for (int i = 0; i < server.ks.count; i++)
        n += (long long)dict_size(&server.ks.dbs[i].dict);
    return n;
}

static int bgsave_start(void)
{
    ps.last_try_ms = now_wall_ms();
    long long dirty = server.dirty;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) fds[0] = fds[1] = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        ps.last_bgsave_ok = false;
        log_warn("Can't save in background: fork: %s", strerror(errno));
        if (fds[0] >= 0) close(fds[0]);
        if (fds[1] >= 0) close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        if (fds[1] >= 0) fcntl(fds[1], F_SETFL, O_NONBLOCK); /* never wait on the parent */
        struct child_ctx cx = {fds[1], now_wall_ms()};
        int rc = write_snapshot(getpid(), &cx);
        if (rc == 0) child_send(fds[1], CHILD_DONE, 0);
        _exit(rc == 0 ? 0 : 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ps.latest_fork_usec =
        (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    ps.total_forks++;
    if (fds[1] >= 0) close(fds[1]);
    if (fds[0] >= 0) fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ps.cow_pipe = fds[0];
    ps.cur_keys = ps.cur_cow = ps.cur_cow_peak = ps.cur_cow_ms = 0;
    log_notice("Background saving started by pid %d", (int)pid);
    ps.child = pid;
    ps.child_start_ms = ps.last_try_ms;
    ps.dirty_at_fork = dirty;
    ps.save_keys_total = keyspace_keys();
    return 0;
}

/* Takes in what the child reported since the last call. */
static void read_child_reports(void)
{
    struct child_report r;
    while (ps.cow_pipe >= 0 && read(ps.cow_pipe, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
        if (r.kind == CHILD_PROGRESS) {
            ps.cur_keys = r.keys;
            ps.cur_cow = r.cow;
            ps.cur_cow_ms = now_wall_ms();
            if (r.cow > ps.cur_cow_peak) ps.cur_cow_peak = r.cow;
        } else if (r.kind == CHILD_DONE) {
            ps.last_cow_size = r.cow;
            log_notice("Fork CoW for RDB: current %lld MB, peak %lld MB, average %lld MB",
                       r.cow / (1024 * 1024), r.cow / (1024 * 1024), r.cow / (1024 * 1024));
        }
    }
}

/* The ended child's last reports, then the pipe goes. */
static void close_child_reports(void)
{
    if (ps.cow_pipe < 0) return;
    read_child_reports();
    close(ps.cow_pipe);
    ps.cow_pipe = -1;
}

/* Collects the child if it ended; `block` waits for it. */
static void bgsave_reap(bool block)
{
    if (!ps.child) return;
    int status;
    pid_t r = waitpid(ps.child, &status, block ? 0 : WNOHANG);
    if (r == 0) return;
    if (r < 0 && errno == EINTR) return;
    bool ok = r == ps.child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    close_child_reports();
    ps.last_bgsave_sec = (now_wall_ms() - ps.child_start_ms) / 1000;
    if (ok) {
        save_done(ps.dirty_at_fork);
        ps.last_bgsave_ok = true;
        log_notice("Background saving terminated with success");
    } else {
        ps.last_bgsave_ok = false;
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)ps.child);
        unlink(tmp);
        log_warn("Background saving error");
    }
    ps.child = 0;
}

/* True if one of the `save` points ("secs changes ...") is reached. */
static bool save_point_due(long long now_ms)
{
    const char *p = server.cfg.save;
    long long changes = server.dirty - ps.dirty_at_save;
    long long since = now_ms - (ps.last_save_ms ? ps.last_save_ms : server.start_ms);
    if (!p || changes <= 0) return false;
    while (*p) {
        char *end;
        long long secs = strtoll(p, &end, 10);
        if (end == p) break;
        p = end;
        long long need = strtoll(p, &end, 10);
        if (end == p) break;
        p = end;
        if (changes >= need && since > secs * 1000) return true;
    }
    return false;
}

void persist_cron(void)
{
    read_child_reports();
    bgsave_reap(false);
    if (ps.child || aof_rewrite_in_progress()) return;
    if (ps.bgsave_scheduled) {
        ps.bgsave_scheduled = false;
        bgsave_start();
        return;
    }
    long long now = now_wall_ms();
    /* After a failed BGSAVE, wait a little before trying again (Redis). */
    if (!ps.last_bgsave_ok && now - ps.last_try_ms < BGSAVE_RETRY_DELAY_S * 1000) return;
    if (save_point_due(now)) bgsave_start();
}

int persist_load_at_startup(void)
{
    char err[256] = "";
    long long t0 = now_wall_ms();
    long long expired = 0;
    long long n = rdb_load_file_counted(&server.ks, server.cfg.dbfilename, now_wall_ms(), &expired,
                                        err, sizeof(err));
    if (n == -2) return 0;
    if (n < 0) {
        log_warn("Fatal error loading the DB: %s. Exiting.", err);
        return -1;
    }
    ps.load_keys_loaded = n;
    ps.load_keys_expired = expired;
    log_notice("Done loading RDB, keys loaded: %lld, keys expired: %lld.", n, expired);
    ps.dirty_at_save = server.dirty;
    log_notice("DB loaded from disk: %.3f seconds", (double)(now_wall_ms() - t0) / 1000.0);
    return 0;
}

void persist_save_on_shutdown(void)
{
    if (ps.child) {
        log_warn("There is a child saving an .rdb. Killing it!");
        kill(ps.child, SIGUSR1);
        bgsave_reap(true);
    }
    if (!server.cfg.save || !server.cfg.save[0]) return;
    log_notice("Saving the final RDB snapshot before exiting.");
    if (persist_save_sync() != 0) log_warn("Error trying to save the DB, can't exit.");
}

/* ---- Commands ---- */

/* SAVE */
static void cmd_save(struct client *c)
{
    if (ps.child) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (persist_save_sync() == 0)
        reply_ok(c);
    else
        reply_error(c, "ERR");
}

/* BGSAVE [SCHEDULE] */
static void cmd_bgsave(struct client *c)
{
    if (c->argc > 1 && !(c->argc == 2 && arg_is(c, 1, "schedule"))) {
        reply_syntax_error(c);
        return;
    }
    if (ps.child) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (aof_rewrite_in_progress()) { /* one child at a time, as Redis */
        if (c->argc == 2) {
            ps.bgsave_scheduled = true;
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                           "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
        return;
    }
    if (bgsave_start() == 0)
        reply_status(c, "Background saving started");
    else
        reply_error(c, "ERR");
}

/* DUMP key: the value in Redis's payload format (see rdb.h), or nil. */
static void cmd_dump(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    db_count_lookup(c->db, o != NULL);
    if (o == NULL) {
        reply_null(c);
        return;
    }
    struct rdb_out out = {.compress = server.cfg.rdbcompression};
    rdb_dump_value(&out, o);
    reply_bulk(c, (const char *)out.buf, out.len);
    rdb_out_free(&out);
}

struct restore_opts {
    bool replace, absttl;
    long long idle, freq; /* -1: not given */
};

/* RESTORE's options from argv[4] on, as Redis parses them: IDLETIME and FREQ
 * exclude each other (the second is a syntax error). */
static bool restore_opts_or_reply(struct client *c, struct restore_opts *op)
{
    *op = (struct restore_opts){.idle = -1, .freq = -1};
    for (int j = 4; j < c->argc; j++) {
        bool more = j + 1 < c->argc;
        if (arg_is(c, j, "replace")) {
            op->replace = true;
        } else if (arg_is(c, j, "absttl")) {
            op->absttl = true;
        } else if (arg_is(c, j, "idletime") && more && op->freq == -1) {
            if (!arg_ll_or_reply(c, ++j, &op->idle)) return false;
            if (op->idle < 0) {
                reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return false;
            }
        } else if (arg_is(c, j, "freq") && more && op->idle == -1) {
            if (!arg_ll_or_reply(c, ++j, &op->freq)) return false;
            if (op->freq < 0 || op->freq > 255) {
                reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return false;
            }
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Redis's objectSetLRUOrLFU: FREQ sets the LFU counter under an LFU policy,
 * IDLETIME back-dates the LRU clock otherwise; the other one is ignored. */
static void restore_set_lru(struct dict_node *o, const struct restore_opts *op)
{
    if (server.ks.lfu) {
        if (op->freq >= 0) obj_set_lru(o, evict_lfu_minutes(clock_ms()) << 8 | (uint32_t)op->freq);
        return;
    }
    if (op->idle < 0) return;
    long long now = server.ks.lru_clock, abs = now - op->idle;
    /* The clock wraps: the best left is half a period in the past. */
    if (abs < 0) abs = (now + OBJ_LRU_MAX / 2) % OBJ_LRU_MAX;
    obj_set_lru(o, (uint32_t)abs);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
 * [FREQ frequency]: the checks in Redis's order (options, existing key,
 * TTL, payload), then the key; a deadline already past only deletes. */
static void cmd_restore(struct client *c)
{
    struct restore_opts op;
    if (!restore_opts_or_reply(c, &op)) return;
    struct slice key = c->argv[1];
    struct db_ref ref;
    if (!op.replace && db_find(c->db, key, &ref) != NULL) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    long long ttl;
    if (!arg_ll_or_reply(c, 2, &ttl)) return;
    if (ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    struct dict_node *o;
    int rc = rdb_restore_value((const uint8_t *)c->argv[3].ptr, c->argv[3].len, key, &o);
    if (rc == RDB_BAD_PAYLOAD) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    if (rc != 0) {
        reply_error(c, "ERR Bad data format");
        return;
    }
    bool deleted = op.replace && db_delete(c->db, key);
    if (ttl && !op.absttl) ttl += clock_ms();
    if (ttl && ttl <= clock_ms()) {
        if (deleted) {
            db_touch(c->db, key);
            notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
            propagate_del(c, key);
            server.dirty++;
        }
        obj_destroy(o);
        reply_ok(c);
        return;
    }
    if (ttl && !op.absttl) {
        /* Logged with the absolute deadline, as Redis rewrites it, so a
         * replay does not restart the TTL. */
        char when[UTIL_LL_STR_SIZE];
        int wlen = ll_to_str(when, sizeof(when), ttl);
        struct slice *argv = em_malloc(((size_t)c->argc + 1) * sizeof(*argv));
        memcpy(argv, c->argv, (size_t)c->argc * sizeof(*argv));
        argv[2] = (struct slice){when, (size_t)wlen};
        argv[c->argc] = (struct slice){"ABSTTL", 6};
        propagate_rewrite(c, c->argc + 1, argv); /* copies */
        em_free(argv);
    }
    if (ttl) o = obj_with_expire(o, ttl);
    db_find(c->db, key, &ref); /* the slot to insert at */
    db_insert(c->db, &ref, o);
    restore_set_lru(o, &op);
    db_touch(c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "restore", key, c->db->id);
    reply_ok(c);
    server.dirty++;
}

struct command persist_commands[] = {
    {.name = "save",
     .proc = cmd_save,
     .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI,
     .group = "server",
     .summary = "Synchronously save the dataset to disk",
     .since = "1.0.0",
     .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "bgsave",
     .proc = cmd_bgsave,
     .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING,
     .group = "server",
     .summary = "Asynchronously save the dataset to disk",
     .since = "1.0.0",
     .complexity = "O(1)"},
    {.name = "dump",
     .proc = cmd_dump,
     .arity = 2,
     .flags = CMD_READONLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .group = "generic",
     .summary = "Return a serialized version of the value stored at the specified key.",
     .since = "2.6.0",
     .complexity = "O(1) to access the key and additional O(N*M) to serialize it, where N is the "
                   "number of Redis objects composing the value and M their average size. For "
                   "small string values the time complexity is thus O(1)+O(1*M) where M is "
                   "small, so simply O(1)."},
    {.name = "restore",
     .proc = cmd_restore,
     .arity = -4,
     .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .group = "generic",
     .summary = "Create a key using the provided serialized value, previously obtained using DUMP.",
     .since = "2.6.0",
     .complexity = "O(1) to create the new key and additional O(N*M) to reconstruct the "
                   "serialized value, where N is the number of Redis objects composing the value "
                   "and M their average size. For small string values the time complexity is "
                   "thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set "
                   "values the complexity is O(N*M*log(N)) because inserting values into sorted "
                   "sets is O(log(N))."},
    COMMAND_TABLE_END,
};
