/* t_persist.c: SAVE, BGSAVE, save points, loading at start-up (persist.h).
 *
 * A save writes "temp-<pid>.rdb" in the working directory (`dir`), fsyncs
 * it and renames it over `dbfilename`, so a crash never leaves a half
 * written dump under the real name. BGSAVE forks: the child writes the
 * snapshot of its copy-on-write image and _exit()s; the parent keeps
 * serving and reaps it from the cron (persist_cron). */
#include "ember/persist.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/log.h"
#include "ember/rdb.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/util.h"

#include <errno.h>
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
} ps = {.last_bgsave_ok = true, .last_bgsave_sec = -1};

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
}

/* Writes the snapshot to a temp file named after `pid` and renames it over
 * dbfilename. Runs in the server (SAVE) or in the child (BGSAVE). */
static int write_snapshot(pid_t pid)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)pid);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        log_warn("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp,
                 server.cfg.dir, strerror(errno));
        return -1;
    }
    struct rdb_out out = {.fp = fp};
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
    if (write_snapshot(getpid()) != 0) return -1;
    save_done(dirty);
    log_notice("DB saved on disk");
    return 0;
}

static int bgsave_start(void)
{
    ps.last_try_ms = now_wall_ms();
    long long dirty = server.dirty;
    pid_t pid = fork();
    if (pid < 0) {
        ps.last_bgsave_ok = false;
        log_warn("Can't save in background: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        _exit(write_snapshot(getpid()) == 0 ? 0 : 1);
    }
    log_notice("Background saving started by pid %d", (int)pid);
    ps.child = pid;
    ps.child_start_ms = ps.last_try_ms;
    ps.dirty_at_fork = dirty;
    return 0;
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
    bgsave_reap(false);
    if (ps.child) return;
    long long now = now_wall_ms();
    /* After a failed BGSAVE, wait a little before trying again (Redis). */
    if (!ps.last_bgsave_ok && now - ps.last_try_ms < BGSAVE_RETRY_DELAY_S * 1000) return;
    if (save_point_due(now)) bgsave_start();
}

int persist_load_at_startup(void)
{
    char err[256] = "";
    long long t0 = now_wall_ms();
    long long n = rdb_load_file(&server.ks, server.cfg.dbfilename, now_wall_ms(), err, sizeof(err));
    if (n == -2) return 0;
    if (n < 0) {
        log_warn("Fatal error loading the DB: %s. Exiting.", err);
        return -1;
    }
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
    if (bgsave_start() == 0)
        reply_status(c, "Background saving started");
    else
        reply_error(c, "ERR");
}

struct command persist_commands[] = {
    {.name = "save",
     .proc = cmd_save,
     .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI,
     .group = "server",
     .summary = "Synchronously save the dataset to disk",
     .since = "1.0.0",
     .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "bgsave",
     .proc = cmd_bgsave,
     .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT,
     .group = "server",
     .summary = "Asynchronously save the dataset to disk",
     .since = "1.0.0",
     .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
