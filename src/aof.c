/* aof.c: the write stream and the append-only file.
 *
 * Propagation (see aof.h): command_call() brackets each handler with
 * propagate_call_begin/end. A level records whether a nested call ran (EXEC,
 * scripts: then the level itself is not recorded, its nested calls are) and
 * whether the handler rewrote what to record. Recorded commands are encoded
 * at once into `pend` (their argv is borrowed); the end of the outermost
 * call hands them to stream_feed(), the one sink, with SELECT when the db
 * changes and MULTI/EXEC around several.
 *
 * The file, as Redis 7.0 lays it out:
 *  - <appenddirname>/<appendfilename>.manifest lists the files; it is
 *    replaced atomically (temp file, fsync, rename, fsync of the dir).
 *  - the base file is an RDB image (rdb.c's writer), the incremental files
 *    hold commands in RESP.
 *  - BGREWRITEAOF opens a new incremental file at once (listed in the
 *    manifest before the fork), so writes after the fork land there and no
 *    rewrite buffer is needed; a forked child writes the new base; when it
 *    is done the manifest names the new base and the new incremental file
 *    only, and the older files are deleted.
 *
 * Durability: the stream is buffered during a loop turn; net.c calls
 * aof_flush_before_replies() before it writes replies, which writes the
 * buffer and, with appendfsync always, fdatasyncs it: no reply leaves before
 * its write is on disk, with one write and one fsync for all the turn's
 * clients. With everysec a small thread fdatasyncs at most once a second;
 * with no, the kernel decides. */
#include "ember/aof.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/dict.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/persist.h"
#include "ember/rdb.h"
#include "ember/reply.h"
#include "ember/script.h"
#include "ember/server.h"
#include "ember/set.h"
#include "ember/zset.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Growable byte buffer ---- */

struct bytes {
    char *p;
    size_t len, cap;
};

/* Leaves b->p non-NULL, even for more == 0, so callers may memcpy into it. */
static void bytes_reserve(struct bytes *b, size_t more)
{
    if (b->p != NULL && b->len + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    b->p = em_realloc(b->p, cap);
    b->cap = cap;
}

static void bytes_cat(struct bytes *b, const void *p, size_t n)
{
    if (n == 0) return; /* p may be NULL then, and memcpy(x, NULL, 0) is undefined */
    bytes_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void bytes_free(struct bytes *b)
{
    em_free(b->p);
    memset(b, 0, sizeof(*b));
}

/* "<prefix><n>\r\n" */
static void bytes_cat_num(struct bytes *b, char prefix, long long n)
{
    char tmp[32];
    tmp[0] = prefix;
    int len = ll_to_str(tmp + 1, sizeof(tmp) - 3, n);
    tmp[1 + len] = '\r';
    tmp[2 + len] = '\n';
    bytes_cat(b, tmp, (size_t)len + 3);
}

static void encode_command(struct bytes *b, int argc, const struct slice *argv)
{
    bytes_cat_num(b, '*', argc);
    for (int i = 0; i < argc; i++) {
        bytes_cat_num(b, '$', (long long)argv[i].len);
        bytes_reserve(b, argv[i].len + 2);
        memcpy(b->p + b->len, argv[i].ptr, argv[i].len);
        memcpy(b->p + b->len + argv[i].len, "\r\n", 2);
        b->len += argv[i].len + 2;
    }
}

static struct slice cslice(const char *s)
{
    return (struct slice){s, strlen(s)};
}

/* ---- State ---- */

enum aof_state { AOF_OFF = 0, AOF_ON, AOF_WAIT_REWRITE };

struct aof_file {
    char *name;
    long long seq;
    char type; /* 'b' base, 'h' history, 'i' incremental */
};

struct manifest {
    struct aof_file *base; /* NULL: none */
    struct aof_file *incr;
    int incr_count;
    struct aof_file *history;
    int history_count;
    long long base_seq, incr_seq; /* the highest ever used */
};

struct pending_op {
    int dbid;
    size_t start, end; /* in pend */
};

#define PROPAGATE_MAX_DEPTH 32

struct call_level {
    bool rewritten;
    bool nested;
    int op_mark; /* op_count when the call began */
};

static struct {
    /* Propagation */
    struct bytes pend;
    struct pending_op *ops;
    int op_count, op_cap;
    struct call_level levels[PROPAGATE_MAX_DEPTH];
    int depth;
    bool loading; /* replaying the AOF: record nothing */

    /* The file */
    enum aof_state state;
    struct manifest mf;
    bool mf_loaded;
    int fd; /* the incremental file being appended, -1 */
    struct bytes buf;
    int selected_db;   /* the db the file's last command ran in, -1 after a new file */
    long long last_ts; /* aof-timestamp-enabled: the last #TS written */
    long long current_size, base_size;
    long long incr_size; /* bytes in the current incremental file */
    bool last_write_ok;
    int last_write_errno;
    bool unsynced;             /* written but not fsynced */
    long long postponed_since; /* everysec: a write held back while the thread fsyncs */
    long long delayed_fsyncs;

    /* everysec fsync thread */
    pthread_t thread;
    bool thread_started, thread_stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fsync_fd; /* a request, -1 when none */
    bool fsync_busy;
    long long last_fsync_ms;

    /* Rewrite */
    pid_t child;
    long long child_start_ms;
    bool rewrite_scheduled;
    long long last_rewrite_sec;
    bool last_rewrite_ok;
    long long rewrites, rewrite_failures;
    long long last_cron_ms;
    long long new_incr_seq; /* the incremental file opened for this rewrite */
    bool base_is_rdb;       /* aof-use-rdb-preamble when the base was started */
} aof = {.fd = -1,
         .selected_db = -1,
         .fsync_fd = -1,
         .last_write_ok = true,
         .last_rewrite_ok = true,
         .last_rewrite_sec = -1};

/* ---- The stream ---- */

static bool aof_writing(void)
{
    return aof.state != AOF_OFF && aof.fd >= 0;
}

/* The one sink of the write stream: one command (RESP bytes) run in db
 * `dbid`. Replication would read here too. */
static void stream_feed(int dbid, const char *resp, size_t len)
{
    if (!aof_writing()) return;
    if (server.cfg.aof_timestamp_enabled) {
        long long ts = clock_ms() / 1000;
        if (ts != aof.last_ts) {
            char line[48];
            int n = snprintf(line, sizeof(line), "#TS:%lld\r\n", ts);
            bytes_cat(&aof.buf, line, (size_t)n);
            aof.last_ts = ts;
        }
    }
    if (dbid >= 0 && dbid != aof.selected_db) {
        char num[24];
        int n = ll_to_str(num, sizeof(num), dbid);
        struct slice sel[2] = {cslice("SELECT"), {num, (size_t)n}};
        encode_command(&aof.buf, 2, sel);
        aof.selected_db = dbid;
    }
    bytes_cat(&aof.buf, resp, len);
}

static bool recording(void)
{
    return !aof.loading && aof.state != AOF_OFF;
}

static void push_op(int dbid, int argc, const struct slice *argv)
{
    if (aof.op_count == aof.op_cap) {
        aof.op_cap = aof.op_cap ? aof.op_cap * 2 : 16;
        aof.ops = em_realloc(aof.ops, sizeof(*aof.ops) * (size_t)aof.op_cap);
    }
    struct pending_op *op = &aof.ops[aof.op_count++];
    op->dbid = dbid;
    op->start = aof.pend.len;
    encode_command(&aof.pend, argc, argv);
    op->end = aof.pend.len;
}

static void emit_pending(void)
{
    if (aof.op_count == 0) return;
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
    static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
    bool wrap = aof.op_count > 1;
    if (wrap) stream_feed(aof.ops[0].dbid, multi, sizeof(multi) - 1);
    for (int i = 0; i < aof.op_count; i++) {
        struct pending_op *op = &aof.ops[i];
        stream_feed(op->dbid, aof.pend.p + op->start, op->end - op->start);
    }
    if (wrap) stream_feed(-1, exec, sizeof(exec) - 1);
    aof.op_count = 0;
    aof.pend.len = 0;
}

void propagate_call_begin(void)
{
    if (aof.depth > 0 && aof.depth <= PROPAGATE_MAX_DEPTH) {
        aof.levels[aof.depth - 1].nested = true;
    }
    if (aof.depth < PROPAGATE_MAX_DEPTH) {
        aof.levels[aof.depth] = (struct call_level){false, false, aof.op_count};
    }
    aof.depth++;
}

void propagate_call_end(struct client *c, bool wrote)
{
    if (aof.depth == 0) return; /* unbalanced: never expected */
    aof.depth--;
    if (recording() && aof.depth < PROPAGATE_MAX_DEPTH) {
        struct call_level *l = &aof.levels[aof.depth];
        if (wrote && !l->rewritten && !l->nested) push_op(c->db->id, c->argc, c->argv);
        if (!wrote && l->rewritten && l->op_mark < aof.op_count) {
            /* A rewrite recorded by a call that changed nothing after all. */
            aof.pend.len = aof.ops[l->op_mark].start;
            aof.op_count = l->op_mark;
        }
    }
    if (aof.depth == 0) {
        if (recording()) {
            emit_pending();
        } else {
            aof.op_count = 0;
            aof.pend.len = 0;
        }
    }
}

void propagate_rewrite(struct client *c, int argc, const struct slice *argv)
{
    if (aof.depth > 0 && aof.depth <= PROPAGATE_MAX_DEPTH) {
        aof.levels[aof.depth - 1].rewritten = true;
    }
    if (recording()) push_op(c->db->id, argc, argv);
}

void propagate_also(struct client *c, int argc, const struct slice *argv)
{
    if (recording()) push_op(c->db->id, argc, argv);
}

void propagate_set_pxat(struct client *c, struct slice key, struct slice val, long long when)
{
    char num[UTIL_LL_STR_SIZE];
    struct slice argv[5] = {SLICE_LIT("SET"),
                            key,
                            val,
                            SLICE_LIT("PXAT"),
                            {num, (size_t)ll_to_str(num, sizeof(num), when)}};
    propagate_rewrite(c, 5, argv);
}

void propagate_pexpireat(struct client *c, struct slice key, long long when, int first)
{
    char num[UTIL_LL_STR_SIZE];
    struct slice argv[8] = {
        SLICE_LIT("PEXPIREAT"), key, {num, (size_t)ll_to_str(num, sizeof(num), when)}};
    int argc = 3;
    for (int i = first; i < c->argc && argc < 8; i++)
        argv[argc++] = c->argv[i];
    propagate_rewrite(c, argc, argv);
}

void propagate_del(struct client *c, struct slice key)
{
    struct slice argv[2] = {SLICE_LIT("DEL"), key};
    propagate_rewrite(c, 2, argv);
}

void propagate_deleted(struct db *db, struct slice key)
{
    if (!recording()) return;
    struct slice argv[2] = {cslice("DEL"), key};
    push_op(db->id, 2, argv);
    if (aof.depth == 0) emit_pending();
}

/* ---- Paths and the manifest ---- */

static void dir_path(char *out, size_t size)
{
    snprintf(out, size, "%s", server.cfg.appenddirname);
}

static void file_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", server.cfg.appenddirname, name);
}

static char *file_name(long long seq, char type)
{
    char buf[512];
    if (type == 'b') {
        /* the base's format as the child that writes it was told */
        snprintf(buf, sizeof(buf), "%s.%lld.base.%s", server.cfg.appendfilename, seq,
                 aof.base_is_rdb ? "rdb" : "aof");
    } else {
        snprintf(buf, sizeof(buf), "%s.%lld.incr.aof", server.cfg.appendfilename, seq);
    }
    return em_strndup(buf, strlen(buf));
}

static void manifest_clear(struct manifest *m)
{
    if (m->base) em_free(m->base->name);
    em_free(m->base);
    for (int i = 0; i < m->incr_count; i++)
        em_free(m->incr[i].name);
    for (int i = 0; i < m->history_count; i++)
        em_free(m->history[i].name);
    em_free(m->incr);
    em_free(m->history);
    memset(m, 0, sizeof(*m));
}

static void list_add(struct aof_file **arr, int *count, const char *name, long long seq, char type)
{
    *arr = em_realloc(*arr, sizeof(**arr) * (size_t)(*count + 1));
    (*arr)[*count] = (struct aof_file){em_strndup(name, strlen(name)), seq, type};
    (*count)++;
}

/* Parses the manifest text: lines "file <name> seq <n> type <b|h|i>" (keys
 * in any order, names possibly quoted, '#' comments). 0, or -1 with err. */
static int manifest_parse(struct manifest *m, const char *text, size_t len, char *err,
                          size_t errlen)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll > 0 && p[ll - 1] == '\r') ll--;
        if (ll == 0 || p[0] == '#') {
            p = le + 1;
            continue;
        }
        char **argv;
        size_t *lens;
        int argc = split_args(p, ll, &argv, &lens);
        if (argc < 0 || argc % 2 != 0) {
            if (argc >= 0) split_args_free(argv, lens, argc);
            snprintf(err, errlen, "Invalid AOF manifest file format");
            return -1;
        }
        const char *name = NULL;
        long long seq = -1;
        char type = 0;
        for (int i = 0; i < argc; i += 2) {
            if (!strcasecmp(argv[i], "file")) name = argv[i + 1];
            if (!strcasecmp(argv[i], "seq")) str_to_ll(argv[i + 1], lens[i + 1], &seq);
            if (!strcasecmp(argv[i], "type") && lens[i + 1] == 1) type = argv[i + 1][0];
        }
        if (name == NULL || seq < 0 || (type != 'b' && type != 'h' && type != 'i') ||
            strchr(name, '/') != NULL) {
            split_args_free(argv, lens, argc);
            snprintf(err, errlen, "Invalid AOF manifest file format");
            return -1;
        }
        if (type == 'b') {
            if (m->base != NULL) {
                split_args_free(argv, lens, argc);
                snprintf(err, errlen, "Found duplicate base file information");
                return -1;
            }
            m->base = em_malloc(sizeof(*m->base));
            *m->base = (struct aof_file){em_strndup(name, strlen(name)), seq, 'b'};
            if (seq > m->base_seq) m->base_seq = seq;
        } else if (type == 'i') {
            if (seq <= m->incr_seq) {
                split_args_free(argv, lens, argc);
                snprintf(err, errlen, "Found a non-monotonic sequence number");
                return -1;
            }
            list_add(&m->incr, &m->incr_count, name, seq, 'i');
            m->incr_seq = seq;
        } else {
            list_add(&m->history, &m->history_count, name, seq, 'h');
        }
        split_args_free(argv, lens, argc);
        p = le + 1;
    }
    if (m->base == NULL && m->incr_count == 0) {
        snprintf(err, errlen, "Found an empty AOF manifest");
        return -1;
    }
    return 0;
}

static void manifest_line(struct bytes *b, const struct aof_file *f)
{
    char line[600];
    int n = snprintf(line, sizeof(line), "file %s seq %lld type %c\n", f->name, f->seq, f->type);
    if (n < 0) return;
    /* A name too long for the line is cut, never read past (file names
     * stop at 255 bytes, so this does not happen). */
    bytes_cat(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes a whole file: temp, fsync, rename, fsync of the dir. */
static int write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    char dir[1024];
    dir_path(dir, sizeof(dir));
    fsync_dir(dir);
    return 0;
}

static int manifest_persist(const struct manifest *m)
{
    struct bytes b = {0};
    if (m->base) manifest_line(&b, m->base);
    for (int i = 0; i < m->history_count; i++)
        manifest_line(&b, &m->history[i]);
    for (int i = 0; i < m->incr_count; i++)
        manifest_line(&b, &m->incr[i]);
    char name[512], path[1024];
    snprintf(name, sizeof(name), "%s.manifest", server.cfg.appendfilename);
    file_path(path, sizeof(path), name);
    int rc = write_file_atomic(path, b.p ? b.p : "", b.len);
    bytes_free(&b);
    if (rc != 0) log_warn("Error writing the AOF manifest %s: %s", path, strerror(errno));
    return rc;
}

static bool read_whole(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return false;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *p = em_malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            p = em_realloc(p, cap);
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            em_free(p);
            close(fd);
            return false;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *out = p;
    *len = n;
    return true;
}

/* Loads the manifest from disk into aof.mf. 1 loaded, 0 none, -1 bad. */
static int manifest_load(void)
{
    char name[512], path[1024];
    snprintf(name, sizeof(name), "%s.manifest", server.cfg.appendfilename);
    file_path(path, sizeof(path), name);
    char *text;
    size_t len;
    if (!read_whole(path, &text, &len)) {
        if (errno == ENOENT) return 0;
        log_warn("Fatal error: can't open the AOF manifest %s for reading: %s", path,
                 strerror(errno));
        return -1;
    }
    char err[256];
    manifest_clear(&aof.mf);
    int rc = manifest_parse(&aof.mf, text, len, err, sizeof(err));
    em_free(text);
    if (rc < 0) {
        log_warn("%s in %s", err, path);
        manifest_clear(&aof.mf);
        return -1;
    }
    aof.mf_loaded = true;
    return 1;
}

/* Deletes the files the manifest lists as history, then drops them from it
 * (Redis's aofDelHistoryFiles). */
static void delete_history(void)
{
    if (aof.mf.history_count == 0) return;
    for (int i = 0; i < aof.mf.history_count; i++) {
        char path[1024];
        file_path(path, sizeof(path), aof.mf.history[i].name);
        if (unlink(path) == 0) log_notice("Removing the history file %s", aof.mf.history[i].name);
        em_free(aof.mf.history[i].name);
    }
    aof.mf.history_count = 0;
    manifest_persist(&aof.mf);
}

static int ensure_dir(void)
{
    char dir[1024];
    dir_path(dir, sizeof(dir));
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_warn("Can't create the append-only dir %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static long long file_size(const char *name)
{
    char path[1024];
    file_path(path, sizeof(path), name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- The fsync thread (everysec) ---- */

static void *fsync_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&aof.mu);
    for (;;) {
        while (aof.fsync_fd < 0 && !aof.thread_stop)
            pthread_cond_wait(&aof.cv, &aof.mu);
        if (aof.fsync_fd < 0 && aof.thread_stop) break;
        int fd = aof.fsync_fd;
        aof.fsync_busy = true;
        pthread_mutex_unlock(&aof.mu);
        fdatasync(fd);
        pthread_mutex_lock(&aof.mu);
        aof.fsync_fd = -1;
        aof.fsync_busy = false;
        pthread_cond_broadcast(&aof.cv);
    }
    pthread_mutex_unlock(&aof.mu);
    return NULL;
}

static void thread_start(void)
{
    if (aof.thread_started) return;
    pthread_mutex_init(&aof.mu, NULL);
    pthread_cond_init(&aof.cv, NULL);
    aof.thread_stop = false;
    if (pthread_create(&aof.thread, NULL, fsync_main, NULL) != 0) {
        log_warn("Can't start the AOF fsync thread: everysec fsyncs in the main thread");
        pthread_mutex_destroy(&aof.mu);
        pthread_cond_destroy(&aof.cv);
        return;
    }
    aof.thread_started = true;
}

/* Waits until no fsync runs or is queued (before closing a file). */
static void thread_drain(void)
{
    if (!aof.thread_started) return;
    pthread_mutex_lock(&aof.mu);
    while (aof.fsync_fd >= 0 || aof.fsync_busy)
        pthread_cond_wait(&aof.cv, &aof.mu);
    pthread_mutex_unlock(&aof.mu);
}

static void thread_stop(void)
{
    if (!aof.thread_started) return;
    pthread_mutex_lock(&aof.mu);
    aof.thread_stop = true;
    pthread_cond_broadcast(&aof.cv);
    pthread_mutex_unlock(&aof.mu);
    pthread_join(aof.thread, NULL);
    pthread_mutex_destroy(&aof.mu);
    pthread_cond_destroy(&aof.cv);
    aof.thread_started = false;
}

/* Asks the thread for an fsync unless one is already under way. */
static void request_fsync(void)
{
    if (!aof.thread_started) {
        fdatasync(aof.fd);
        aof.unsynced = false;
        aof.last_fsync_ms = clock_ms();
        return;
    }
    pthread_mutex_lock(&aof.mu);
    if (aof.fsync_fd < 0 && !aof.fsync_busy) {
        aof.fsync_fd = aof.fd;
        pthread_cond_signal(&aof.cv);
        aof.unsynced = false;
        aof.last_fsync_ms = clock_ms();
    }
    pthread_mutex_unlock(&aof.mu);
}

/* ---- Writing ---- */

enum { FSYNC_ALWAYS = 0, FSYNC_EVERYSEC = 1, FSYNC_NO = 2 };

/* Writes the buffer; with `force_sync` or appendfsync always also fsyncs. */
static bool fsync_running(void)
{
    if (!aof.thread_started) return false;
    pthread_mutex_lock(&aof.mu);
    bool busy = aof.fsync_busy || aof.fsync_fd >= 0;
    pthread_mutex_unlock(&aof.mu);
    return busy;
}

static void flush_buffer(bool force_sync)
{
    if (aof.fd < 0) {
        aof.buf.len = 0;
        return;
    }
    /* everysec: a write() while the thread fsyncs the same file can wait for
     * the fsync; as Redis does, hold the buffer back for up to 2 s instead. */
    if (!force_sync && server.cfg.appendfsync == FSYNC_EVERYSEC && aof.buf.len > 0 &&
        fsync_running()) {
        long long now = clock_ms();
        if (aof.postponed_since == 0) aof.postponed_since = now;
        if (now - aof.postponed_since < 2000) return;
        aof.delayed_fsyncs++;
        log_notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF "
                   "buffer without waiting for fsync to complete, this may slow down Redis.");
    }
    aof.postponed_since = 0;
    size_t off = 0;
    while (off < aof.buf.len) {
        ssize_t w = write(aof.fd, aof.buf.p + off, aof.buf.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            aof.last_write_ok = false;
            aof.last_write_errno = errno;
            log_warn("Error writing to the AOF file: %s", strerror(errno));
            if (server.cfg.appendfsync == FSYNC_ALWAYS) {
                log_warn("Can't recover from AOF write error when the AOF fsync policy is "
                         "'always'. Exiting...");
                exit(1);
            }
            /* Keep the unwritten tail for the next turn. */
            memmove(aof.buf.p, aof.buf.p + off, aof.buf.len - off);
            aof.buf.len -= off;
            return;
        }
        off += (size_t)w;
        aof.current_size += w;
        aof.incr_size += w;
    }
    if (off > 0) {
        aof.unsynced = true;
        if (!aof.last_write_ok) log_warn("AOF write error looks solved, Redis can write again.");
        aof.last_write_ok = true;
    }
    aof.buf.len = 0;
    if (!aof.unsynced) return;
    /* no-appendfsync-on-rewrite: while a child writes, leave the disk to it
     * (what was written is fsynced once the option or the child goes). */
    if (!force_sync && server.cfg.no_appendfsync_on_rewrite && aof.child) return;
    if (force_sync || server.cfg.appendfsync == FSYNC_ALWAYS) {
        thread_drain();
        if (fdatasync(aof.fd) != 0) {
            log_warn("Can't persist the AOF for fsync error when the AOF fsync policy is "
                     "'always': %s. Exiting...",
                     strerror(errno));
            exit(1);
        }
        aof.unsynced = false;
        aof.last_fsync_ms = clock_ms();
    }
}

static void close_incr(void)
{
    if (aof.fd < 0) return;
    flush_buffer(false);
    thread_drain();
    fdatasync(aof.fd);
    close(aof.fd);
    aof.fd = -1;
    aof.unsynced = false;
}

/* Opens (creating or appending) the incremental file `name`. */
static int open_incr(const char *name)
{
    char path[1024];
    file_path(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) {
        log_warn("Can't open the append-only file %s: %s", path, strerror(errno));
        return -1;
    }
    close_incr();
    aof.fd = fd;
    aof.selected_db = -1;
    aof.last_ts = 0;
    aof.incr_size = file_size(name);
    return 0;
}

/* ---- The base file ---- */

static int write_base_commands(FILE *fp, long long now);

/* Writes the keyspace to `path` (temp, fsync, rename): an RDB image, or
 * commands with aof-use-rdb-preamble no. */
static int write_base(const char *tmp, const char *path)
{
    FILE *fp = fopen(tmp, "wb");
    if (fp == NULL) {
        log_warn("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s",
                 strerror(errno));
        return -1;
    }
    struct rdb_out out = {
        .fp = fp, .compress = server.cfg.rdbcompression, .no_crc = !server.cfg.rdbchecksum};
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    int rc = server.cfg.aof_use_rdb_preamble ? rdb_save(&out, &server.ks, now)
                                             : write_base_commands(fp, now);
    rdb_out_free(&out);
    if (rc == 0 && fflush(fp) != 0) rc = -1;
    if (rc == 0 && fsync(fileno(fp)) != 0) rc = -1;
    if (fclose(fp) != 0) rc = -1;
    if (rc == 0 && path != NULL && rename(tmp, path) != 0) rc = -1;
    if (rc != 0) {
        log_warn("Write error writing append only file on disk: %s", strerror(errno));
        unlink(tmp);
    }
    return rc;
}

/* ---- The base file in command form (aof-use-rdb-preamble no) ---- */

/* Redis's AOF_REWRITE_ITEMS_PER_CMD: a container is rebuilt by commands of
 * at most this many elements each. */
#define REWRITE_ITEMS_PER_CMD 64

/* Collects one command's arguments: `words` leading words, then elements,
 * emitted (and the buffer spilled to fp past 64 KB) every ITEMS elements. */
struct cmd_writer {
    struct bytes *out;
    FILE *fp;
    struct bytes args; /* the arguments' bytes, back to back */
    size_t lens[2 + 2 * REWRITE_ITEMS_PER_CMD];
    int argc, lead, items, per_item;
    bool failed;
};

static void cw_spill(struct cmd_writer *w, bool all)
{
    if (w->out->len == 0 || (!all && w->out->len < 65536)) return;
    if (fwrite(w->out->p, 1, w->out->len, w->fp) != w->out->len) w->failed = true;
    w->out->len = 0;
}

static void cw_arg(struct cmd_writer *w, struct slice a)
{
    bytes_cat(&w->args, a.ptr, a.len);
    w->lens[w->argc++] = a.len;
}

static void cw_emit(struct cmd_writer *w)
{
    if (w->items == 0) return;
    struct slice argv[2 + 2 * REWRITE_ITEMS_PER_CMD];
    size_t off = 0;
    for (int i = 0; i < w->argc; i++) {
        argv[i] = (struct slice){w->args.p + off, w->lens[i]};
        off += w->lens[i];
    }
    encode_command(w->out, w->argc, argv);
    /* Keep the leading words (name, key) for the next batch. */
    size_t keep = 0;
    for (int i = 0; i < w->lead; i++)
        keep += w->lens[i];
    w->args.len = keep;
    w->argc = w->lead;
    w->items = 0;
    cw_spill(w, false);
}

static void cw_begin(struct cmd_writer *w, const char *name, struct slice key, int per_item)
{
    w->args.len = 0;
    w->argc = 0;
    w->items = 0;
    w->per_item = per_item;
    cw_arg(w, cslice(name));
    cw_arg(w, key);
    w->lead = 2;
}

static void cw_item(struct cmd_writer *w, struct slice a, const struct slice *b)
{
    cw_arg(w, a);
    if (b != NULL) cw_arg(w, *b);
    if (++w->items == REWRITE_ITEMS_PER_CMD) cw_emit(w);
}

static void rewrite_value(struct cmd_writer *w, struct dict_node *n)
{
    struct slice key = dict_node_key(n);
    char buf[UTIL_LL_STR_SIZE], dbuf[64];
    struct lp_value v;
    switch (obj_type(n)) {
    case OBJ_STRING: {
        cw_begin(w, "SET", key, 1);
        cw_item(w, obj_string(n, buf), NULL);
        break;
    }
    case OBJ_LIST: {
        cw_begin(w, "RPUSH", key, 1);
        struct list_iter it;
        list_iter_init(&it, obj_ptr(n), 0, true);
        while (list_iter_next(&it, &v))
            cw_item(w, lp_value_slice(&v, buf), NULL);
        break;
    }
    case OBJ_SET: {
        cw_begin(w, "SADD", key, 1);
        struct set st = set_of_obj(n);
        struct set_iter it;
        set_iter_init(&it, &st);
        while (set_iter_next(&it, &v))
            cw_item(w, lp_value_slice(&v, buf), NULL);
        set_iter_deinit(&it);
        break;
    }
    case OBJ_ZSET: {
        cw_begin(w, "ZADD", key, 2);
        struct zset_iter it;
        struct slice m;
        double score;
        zset_iter_rank(&it, obj_ptr(n), 0, false);
        while (zset_iter_next(&it, &m, &score)) {
            struct slice sc = {dbuf, (size_t)d_to_str(dbuf, sizeof(dbuf), score)};
            cw_item(w, sc, &m);
        }
        break;
    }
    case OBJ_HASH: {
        cw_begin(w, "HMSET", key, 2);
        struct hash h = {obj_ptr(n), obj_enc(n)};
        struct hash_iter it;
        struct slice f, hv;
        hash_iter_init(&it, &h);
        while (hash_iter_next(&it, &f, &hv))
            cw_item(w, f, &hv);
        hash_iter_deinit(&it);
        break;
    }
    default:
        return;
    }
    cw_emit(w);
}

/* Writes the keyspace as commands (SELECT, SET/RPUSH/SADD/ZADD/HMSET in
 * batches, PEXPIREAT), as Redis's rewriteAppendOnlyFileRio does. */
static int write_base_commands(FILE *fp, long long now)
{
    struct bytes out = {0};
    struct cmd_writer w = {.out = &out, .fp = fp};
    for (int i = 0; i < server.ks.count && !w.failed; i++) {
        struct db *db = &server.ks.dbs[i];
        if (db_size(db) == 0) continue;
        char num[UTIL_LL_STR_SIZE];
        struct slice sel[2] = {SLICE_LIT("SELECT"), {num, (size_t)ll_to_str(num, sizeof(num), i)}};
        encode_command(&out, 2, sel);
        struct dict_iter it;
        struct dict_node *n;
        dict_iter_init(&it, &db->dict);
        while ((n = dict_iter_next(&it)) != NULL && !w.failed) {
            long long when = obj_expire(n);
            if (when >= 0 && when < now) continue;
            rewrite_value(&w, n);
            if (when >= 0) {
                char t[UTIL_LL_STR_SIZE];
                struct slice px[3] = {SLICE_LIT("PEXPIREAT"),
                                      dict_node_key(n),
                                      {t, (size_t)ll_to_str(t, sizeof(t), when)}};
                encode_command(&out, 3, px);
            }
        }
        dict_iter_deinit(&it);
    }
    cw_spill(&w, true);
    bytes_free(&out);
    bytes_free(&w.args);
    return w.failed ? -1 : 0;
}

/* With no AOF at all: a base of the current (start-up) dataset and a first
 * incremental file, as Redis 7.0 does on start. */
static int create_initial_files(void)
{
    if (ensure_dir() < 0) return -1;
    manifest_clear(&aof.mf);
    long long seq = 1;
    aof.base_is_rdb = server.cfg.aof_use_rdb_preamble;
    char *base = file_name(seq, 'b');
    char path[1024], tmp[1100];
    file_path(path, sizeof(path), base);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (write_base(tmp, path) < 0) {
        em_free(base);
        return -1;
    }
    log_notice("Creating AOF base file %s on server start", base);
    aof.mf.base = em_malloc(sizeof(*aof.mf.base));
    *aof.mf.base = (struct aof_file){base, seq, 'b'};
    aof.mf.base_seq = seq;
    char *incr = file_name(seq, 'i');
    list_add(&aof.mf.incr, &aof.mf.incr_count, incr, seq, 'i');
    aof.mf.incr_seq = seq;
    int rc = open_incr(incr);
    log_notice("Creating AOF incr file %s on server start", incr);
    em_free(incr);
    if (rc < 0 || manifest_persist(&aof.mf) < 0) return -1;
    aof.mf_loaded = true;
    aof.base_size = aof.current_size = file_size(base);
    return 0;
}

/* ---- Loading ---- */

static struct client *load_client;

long long aof_parse_command(const char *p, size_t len, struct slice **argv, int *cap, int *argc)
{
    const char *end = p + len, *q = p;
    if (len == 0) return 0;
    if (q[0] != '*') return -1; /* as Redis: a line that is not "*N" is bad format */
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    if (nl == NULL) return 0;
    if (nl - q < 2 || nl[-1] != '\r') return -1;
    long long n;
    if (!str_to_ll(q + 1, (size_t)(nl - q - 2), &n) || n < 1 || n > 1024 * 1024) return -1;
    q = nl + 1;
    if (n > *cap) {
        *cap = (int)n;
        *argv = em_realloc(*argv, sizeof(**argv) * (size_t)n);
    }
    for (long long i = 0; i < n; i++) {
        if (q >= end) return 0;
        if (q[0] != '$') return -1;
        nl = memchr(q, '\n', (size_t)(end - q));
        if (nl == NULL) return 0;
        long long bl;
        if (nl - q < 2 || nl[-1] != '\r') return -1;
        if (!str_to_ll(q + 1, (size_t)(nl - q - 2), &bl) || bl < 0) return -1;
        q = nl + 1;
        if ((size_t)(end - q) < (size_t)bl + 2) return 0;
        if (q[bl] != '\r' || q[bl + 1] != '\n') return -1;
        (*argv)[i] = (struct slice){q, (size_t)bl};
        q += bl + 2;
    }
    *argc = (int)n;
    return q - p;
}

/* What a file may replay: writes and the commands that frame or select
 * them. Anything else (SHUTDOWN, CONFIG, DEBUG...) never comes from a
 * server's log and is skipped, so a crafted file cannot stop the server. */
static bool replayable(const struct command *cmd, int argc, const struct slice *argv)
{
    static const char *const names[] = {"multi", "exec", "select", "eval", "evalsha", "fcall"};
    if (cmd->subcommands != NULL && argc >= 2) { /* FUNCTION LOAD: the subcommand's flags */
        for (const struct command *sub = cmd->subcommands; sub->name != NULL; sub++) {
            if (slice_eq_nocase(argv[1], sub->name)) return (sub->flags & CMD_WRITE) != 0;
        }
        return false;
    }
    if (cmd->flags & CMD_WRITE) return true;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(cmd->name, names[i]) == 0) return true;
    }
    return false;
}

static void run_loaded(int argc, struct slice *argv)
{
    struct client *f = load_client;
    struct command *cmd = command_lookup(argv[0]);
    if (cmd == NULL || !replayable(cmd, argc, argv)) return;
    f->argc = argc;
    f->argv = argv;
    if ((cmd->flags & CMD_BLOCKING) && !(f->flags & CLIENT_MULTI) &&
        (cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity)) {
        /* A blocking pop replays as its non-blocking form: never wait. */
        f->flags |= CLIENT_MULTI;
        command_call(f, cmd);
        f->flags &= ~(unsigned)CLIENT_MULTI;
    } else {
        command_dispatch(f);
    }
    reply_release(f);
    f->argc = 0;
    f->argv = NULL;
}

enum { LOAD_OK = 0, LOAD_TRUNCATED = 1, LOAD_FAILED = -1 };

/* Replays an incremental (or command-form base) file. `last`: the final
 * file, where a truncated tail may be cut off. */
static int load_commands(const char *name, const char *data, size_t len, bool last,
                         long long *count)
{
    char path[1024];
    file_path(path, sizeof(path), name);
    struct slice *argv = NULL;
    int cap = 0, argc = 0;
    size_t off = 0, before_multi = 0;
    bool in_multi = false;
    int rc = LOAD_OK;
    while (off < len) {
        if (data[off] == '#') { /* annotation line (#TS:...) */
            const char *nl = memchr(data + off, '\n', len - off);
            if (nl == NULL) break;
            off = (size_t)(nl - data) + 1;
            continue;
        }
        long long n = aof_parse_command(data + off, len - off, &argv, &cap, &argc);
        if (n < 0) {
            log_warn("Bad file format reading the append only file %s: make a backup of your AOF "
                     "file, then use ./redis-check-aof --fix <filename.manifest>",
                     name);
            rc = LOAD_FAILED;
            goto out;
        }
        if (n == 0) break;
        if (command_lookup(argv[0]) == NULL) {
            log_warn("Unknown command '%.*s' reading the append only file %s",
                     (int)(argv[0].len > 64 ? 64 : argv[0].len), argv[0].ptr, name);
            rc = LOAD_FAILED;
            goto out;
        }
        if (slice_eq_nocase(argv[0], "multi")) {
            in_multi = true;
            before_multi = off;
        } else if (slice_eq_nocase(argv[0], "exec")) {
            in_multi = false;
        }
        run_loaded(argc, argv);
        (*count)++;
        off += (size_t)n;
    }
    if (off < len || in_multi) {
        /* Redis: a tail cut off only in the last file; a MULTI without its
         * EXEC is reverted to before the MULTI. */
        size_t valid = in_multi && off == len ? before_multi : off;
        if (in_multi && off < len) valid = before_multi;
        if (!last || !server.cfg.aof_load_truncated) {
            if (off < len) {
                log_warn("Unexpected end of file reading the append only file %s. You can: 1) "
                         "Make a backup of your AOF file, then use ./redis-check-aof --fix "
                         "<filename.manifest>. 2) Alternatively you can set the "
                         "'aof-load-truncated' configuration option to yes and restart the "
                         "server.",
                         name);
            } else {
                log_warn("Revert incomplete MULTI/EXEC transaction in AOF file %s", name);
            }
            rc = LOAD_FAILED;
            goto out;
        }
        log_warn("!!! Warning: short read while loading the AOF file %s!!!", name);
        log_warn("!!! Truncating the AOF %s at offset %zu !!!", name, valid);
        if (truncate(path, (off_t)valid) != 0) {
            log_warn("Error truncating the AOF file %s: %s", name, strerror(errno));
            rc = LOAD_FAILED;
            goto out;
        }
        log_warn("AOF %s loaded anyway because aof-load-truncated is enabled", name);
        rc = LOAD_TRUNCATED;
        if (in_multi) {
            /* The transaction's commands ran queued, never executed: drop
             * the MULTI state. */
            struct slice d = SLICE_LIT("DISCARD");
            load_client->argc = 1;
            load_client->argv = &d;
            command_dispatch(load_client);
            reply_release(load_client);
            load_client->argc = 0;
            load_client->argv = NULL;
        }
    }
out:
    em_free(argv);
    return rc;
}

static int load_file(const struct aof_file *f, bool last, long long *count)
{
    char path[1024];
    file_path(path, sizeof(path), f->name);
    char *data;
    size_t len;
    if (!read_whole(path, &data, &len)) {
        if (errno == ENOENT && f->type == 'i' && last) {
            log_warn("The AOF file %s doesn't exist", f->name);
            return LOAD_OK;
        }
        log_warn("Fatal error: can't open the append log file %s for reading: %s", f->name,
                 strerror(errno));
        return LOAD_FAILED;
    }
    int rc;
    if (len >= 5 && memcmp(data, "REDIS", 5) == 0) {
        char err[256];
        struct timeval tv;
        gettimeofday(&tv, NULL);
        long long now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
        long long n = rdb_load(&server.ks, (const uint8_t *)data, len, now, err, sizeof(err));
        if (n < 0) {
            log_warn("Bad file format reading the RDB preamble of the AOF file %s: %s", f->name,
                     err);
            rc = LOAD_FAILED;
        } else {
            log_notice("Reading RDB base file on AOF loading...");
            *count += n;
            rc = LOAD_OK;
        }
    } else {
        rc = load_commands(f->name, data, len, last, count);
    }
    em_free(data);
    return rc;
}

static int load_all(void)
{
    long long count = 0;
    int total = (aof.mf.base ? 1 : 0) + aof.mf.incr_count;
    aof.loading = true;
    load_client = client_create();
    load_client->flags |= CLIENT_PENDING_WRITE | CLIENT_AUTHENTICATED | CLIENT_INTERNAL;
    int rc = LOAD_OK, idx = 0;
    long long start = clock_mono_us();
    if (aof.mf.base) {
        rc = load_file(aof.mf.base, ++idx == total, &count);
    }
    for (int i = 0; rc >= 0 && i < aof.mf.incr_count; i++) {
        rc = load_file(&aof.mf.incr[i], ++idx == total, &count);
    }
    load_client->flags &= ~(unsigned)(CLIENT_PENDING_WRITE | CLIENT_MULTI);
    client_destroy(load_client);
    load_client = NULL;
    aof.loading = false;
    if (rc < 0) return -1;
    log_notice("DB loaded from append only file: %.3f seconds",
               (double)(clock_mono_us() - start) / 1e6);
    return 0;
}

/* ---- Start-up and shutdown ---- */

static long long wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static long long total_size(void)
{
    long long n = aof.mf.base ? file_size(aof.mf.base->name) : 0;
    for (int i = 0; i < aof.mf.incr_count; i++)
        n += file_size(aof.mf.incr[i].name);
    return n;
}

static int start_on(void)
{
    if (!aof.mf_loaded || (aof.mf.base == NULL && aof.mf.incr_count == 0)) {
        if (create_initial_files() < 0) return -1;
    } else if (aof.mf.incr_count == 0) {
        long long seq = ++aof.mf.incr_seq;
        char *incr = file_name(seq, 'i');
        list_add(&aof.mf.incr, &aof.mf.incr_count, incr, seq, 'i');
        int rc = open_incr(incr);
        em_free(incr);
        if (rc < 0 || manifest_persist(&aof.mf) < 0) return -1;
    } else if (open_incr(aof.mf.incr[aof.mf.incr_count - 1].name) < 0) {
        return -1;
    }
    aof.state = AOF_ON;
    delete_history();
    aof.current_size = aof.base_size = total_size();
    aof.last_fsync_ms = clock_ms();
    thread_start();
    return 0;
}

int aof_setup(void)
{
    if (manifest_load() < 0 && server.cfg.appendonly) return -1;
    if (!server.cfg.appendonly) return persist_load_at_startup();
    if (aof.mf_loaded && load_all() < 0) return -1;
    return start_on();
}

static void kill_child(void)
{
    if (!aof.child) return;
    kill(aof.child, SIGUSR1);
    int status;
    waitpid(aof.child, &status, 0);
    char tmp[1100], name[64];
    snprintf(name, sizeof(name), "temp-rewriteaof-bg-%d.aof", (int)aof.child);
    file_path(tmp, sizeof(tmp), name);
    unlink(tmp);
    aof.child = 0;
}

void aof_teardown(void)
{
    kill_child();
    if (aof.fd >= 0) {
        flush_buffer(true);
        close_incr();
    }
    thread_stop();
    manifest_clear(&aof.mf);
    bytes_free(&aof.buf);
    bytes_free(&aof.pend);
    em_free(aof.ops);
    aof.ops = NULL;
    aof.op_cap = aof.op_count = 0;
    aof.state = AOF_OFF;
}

/* ---- Rewrite ---- */

bool aof_rewrite_in_progress(void)
{
    return aof.child != 0;
}

/* function_each_library callback: "FUNCTION LOAD REPLACE <code>" at the
 * head of the new incremental file. The RDB base carries no functions yet
 * (rdb.c skips them), so the file that follows it restores them. */
static void feed_library(const char *code, size_t len, void *arg)
{
    (void)arg;
    struct bytes b = {0};
    struct slice argv[4] = {
        SLICE_LIT("FUNCTION"), SLICE_LIT("LOAD"), SLICE_LIT("REPLACE"), {code, len}};
    encode_command(&b, 4, argv);
    stream_feed(-1, b.p, b.len);
    bytes_free(&b);
}

static int rewrite_start(void)
{
    if (aof.child) return -1;
    if (ensure_dir() < 0) return -1;
    /* Everything so far is in the old files; writes from now on go to a new
     * incremental file, which the manifest lists before the fork (unless
     * the AOF is just being turned on: then nothing is listed until the
     * base exists). */
    if (aof.fd >= 0) flush_buffer(true);
    long long unlisted = aof.state == AOF_WAIT_REWRITE ? aof.new_incr_seq : 0;
    aof.new_incr_seq = 0;
    if (aof.state != AOF_OFF) {
        long long seq = ++aof.mf.incr_seq;
        char *incr = file_name(seq, 'i');
        if (open_incr(incr) < 0) {
            em_free(incr);
            return -1;
        }
        aof.new_incr_seq = seq;
        function_each_library(feed_library, NULL);
        if (unlisted != 0) { /* a failed attempt's file: the new fork covers it */
            char *old = file_name(unlisted, 'i'), path[1024];
            file_path(path, sizeof(path), old);
            unlink(path);
            em_free(old);
        }
        if (aof.state == AOF_ON) {
            list_add(&aof.mf.incr, &aof.mf.incr_count, incr, seq, 'i');
            manifest_persist(&aof.mf);
        }
        em_free(incr);
    }
    aof.child_start_ms = wall_ms();
    aof.base_is_rdb = server.cfg.aof_use_rdb_preamble;
    pid_t pid = fork();
    if (pid < 0) {
        log_warn("Can't rewrite append only file in background: fork: %s", strerror(errno));
        aof.last_rewrite_ok = false;
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        char tmp[1100], name[64];
        snprintf(name, sizeof(name), "temp-rewriteaof-bg-%d.aof", (int)getpid());
        file_path(tmp, sizeof(tmp), name);
        _exit(write_base(tmp, NULL) == 0 ? 0 : 1);
    }
    log_notice("Background append only file rewriting started by pid %d", (int)pid);
    aof.child = pid;
    aof.rewrite_scheduled = false;
    return 0;
}

/* The child finished well: the new base replaces the old files. */
static void rewrite_done_ok(pid_t pid)
{
    char tmp[1100], name[64], path[1024];
    snprintf(name, sizeof(name), "temp-rewriteaof-bg-%d.aof", (int)pid);
    file_path(tmp, sizeof(tmp), name);
    long long seq = ++aof.mf.base_seq;
    char *base = file_name(seq, 'b');
    file_path(path, sizeof(path), base);
    if (rename(tmp, path) != 0) {
        log_warn("Error trying to rename the temporary AOF base file %s into %s: %s", name, base,
                 strerror(errno));
        em_free(base);
        unlink(tmp);
        aof.last_rewrite_ok = false;
        aof.rewrite_failures++;
        return;
    }
    struct manifest *m = &aof.mf;
    if (m->base) {
        list_add(&m->history, &m->history_count, m->base->name, m->base->seq, 'h');
        em_free(m->base->name);
        em_free(m->base);
    }
    m->base = em_malloc(sizeof(*m->base));
    *m->base = (struct aof_file){base, seq, 'b'};
    /* Every incremental file before the one opened at the fork is now in
     * the base. */
    int keep = 0;
    for (int i = 0; i < m->incr_count; i++) {
        if (aof.new_incr_seq != 0 && m->incr[i].seq >= aof.new_incr_seq) {
            m->incr[keep++] = m->incr[i];
        } else {
            list_add(&m->history, &m->history_count, m->incr[i].name, m->incr[i].seq, 'h');
            em_free(m->incr[i].name);
        }
    }
    m->incr_count = keep;
    if (aof.state == AOF_WAIT_REWRITE && aof.new_incr_seq != 0) {
        char *incr = file_name(aof.new_incr_seq, 'i');
        list_add(&m->incr, &m->incr_count, incr, aof.new_incr_seq, 'i');
        em_free(incr);
    }
    if (manifest_persist(m) < 0) {
        aof.last_rewrite_ok = false;
        aof.rewrite_failures++;
        return;
    }
    if (aof.state == AOF_WAIT_REWRITE) {
        aof.state = AOF_ON;
        log_notice("Background AOF rewrite finished successfully");
    }
    aof.mf_loaded = true;
    delete_history();
    aof.base_size = aof.current_size = total_size();
    aof.last_rewrite_ok = true;
    aof.rewrites++;
    aof.rewrite_failures = 0;
    log_notice("Background AOF rewrite terminated with success");
}

static void rewrite_reap(void)
{
    if (!aof.child) return;
    int status;
    pid_t r = waitpid(aof.child, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) return;
    pid_t pid = aof.child;
    aof.child = 0;
    aof.last_rewrite_sec = (wall_ms() - aof.child_start_ms) / 1000;
    if (r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rewrite_done_ok(pid);
        return;
    }
    char tmp[1100], name[64];
    snprintf(name, sizeof(name), "temp-rewriteaof-bg-%d.aof", (int)pid);
    file_path(tmp, sizeof(tmp), name);
    unlink(tmp);
    aof.last_rewrite_ok = false;
    aof.rewrite_failures++;
    log_warn("Background AOF rewrite terminated with error");
    /* Turning the AOF on waits for a base: try again (Redis schedules it). */
    if (aof.state == AOF_WAIT_REWRITE) aof.rewrite_scheduled = true;
}

static void cron(void)
{
    rewrite_reap();
    struct persist_status ps;
    persist_status(&ps);
    if (aof.child || ps.bgsave_in_progress) return;
    if (aof.rewrite_scheduled) {
        rewrite_start();
        return;
    }
    if (aof.state == AOF_ON && server.cfg.auto_aof_rewrite_percentage > 0 &&
        aof.current_size > server.cfg.auto_aof_rewrite_min_size) {
        long long base = aof.base_size ? aof.base_size : 1;
        long long growth = (aof.current_size * 100 / base) - 100;
        if (growth >= server.cfg.auto_aof_rewrite_percentage) {
            log_notice("Starting automatic rewriting of AOF on %lld%% growth", growth);
            rewrite_start();
        }
    }
}

void aof_flush_before_replies(void)
{
    long long now = clock_ms();
    /* Never fork or switch files in the middle of a command (a busy script
     * lets the loop turn): its effects are not emitted yet, and a base
     * taken now would hold half of them. */
    if (aof.depth == 0 && (now - aof.last_cron_ms >= 100 || now < aof.last_cron_ms)) {
        aof.last_cron_ms = now;
        cron();
    }
    if (aof.fd < 0) return;
    flush_buffer(false);
    if (server.cfg.appendfsync == FSYNC_EVERYSEC && aof.unsynced &&
        now - aof.last_fsync_ms >= 1000) {
        request_fsync();
    }
}

int aof_apply_config(void)
{
    if (server.cfg.appendonly && aof.state == AOF_OFF) {
        if (manifest_load() < 0) return -1;
        aof.state = AOF_WAIT_REWRITE;
        if (aof.child) {
            /* A rewrite without the AOF on runs: redo it once it ends. */
            kill_child();
        }
        if (aof.depth > 1) { /* inside EXEC: start once the transaction is done */
            aof.rewrite_scheduled = true;
            thread_start();
            return 0;
        }
        if (rewrite_start() < 0) {
            close_incr();
            aof.state = AOF_OFF;
            return -1;
        }
        thread_start();
        aof.last_fsync_ms = clock_ms();
        return 0;
    }
    if (!server.cfg.appendonly && aof.state != AOF_OFF) {
        if (aof.fd >= 0) flush_buffer(true);
        close_incr();
        if (aof.state == AOF_WAIT_REWRITE) kill_child();
        aof.state = AOF_OFF;
    }
    return 0;
}

/* ---- INFO and BGREWRITEAOF ---- */

int aof_info(char *buf, size_t size)
{
    long long cur = aof.child ? (wall_ms() - aof.child_start_ms) / 1000 : -1;
    int n = snprintf(buf, size,
                     "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\n"
                     "aof_rewrite_scheduled:%d\r\naof_last_rewrite_time_sec:%lld\r\n"
                     "aof_current_rewrite_time_sec:%lld\r\naof_last_bgrewrite_status:%s\r\n"
                     "aof_rewrites:%lld\r\naof_rewrites_consecutive_failures:%lld\r\n"
                     "aof_last_write_status:%s\r\naof_last_cow_size:0\r\n"
                     "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                     aof.state != AOF_OFF ? 1 : 0, aof.child ? 1 : 0, aof.rewrite_scheduled ? 1 : 0,
                     aof.last_rewrite_sec, cur, aof.last_rewrite_ok ? "ok" : "err", aof.rewrites,
                     aof.rewrite_failures, aof.last_write_ok ? "ok" : "err");
    if (aof.state != AOF_OFF && n >= 0 && (size_t)n < size) {
        n += snprintf(buf + n, size - (size_t)n,
                      "aof_current_size:%lld\r\naof_base_size:%lld\r\naof_pending_rewrite:%d\r\n"
                      "aof_buffer_length:%zu\r\naof_pending_bio_fsync:%d\r\n"
                      "aof_delayed_fsync:%lld\r\n",
                      aof.current_size, aof.base_size, aof.rewrite_scheduled ? 1 : 0, aof.buf.len,
                      aof.fsync_busy ? 1 : 0, aof.delayed_fsyncs);
    }
    return n;
}

/* BGREWRITEAOF */
static void cmd_bgrewriteaof(struct client *c)
{
    if (aof.child) {
        reply_error(c, "ERR Background append only file rewriting already in progress");
        return;
    }
    struct persist_status ps;
    persist_status(&ps);
    /* Inside EXEC the transaction's earlier writes are not in the stream
     * yet: fork once it ends (Redis schedules it too). */
    if (ps.bgsave_in_progress || aof.depth > 1) {
        aof.rewrite_scheduled = true;
        reply_status(c, "Background append only file rewriting scheduled");
        return;
    }
    if (rewrite_start() < 0) {
        reply_error(c, "ERR Can't execute an AOF background rewriting. Please check the server "
                       "logs for more information.");
        return;
    }
    reply_status(c, "Background append only file rewriting started");
}

struct command aof_commands[] = {
    {.name = "bgrewriteaof",
     .proc = cmd_bgrewriteaof,
     .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING,
     .group = "server",
     .summary = "Asynchronously rewrite the append-only file",
     .since = "1.0.0",
     .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
