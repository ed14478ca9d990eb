/* diag.c: MONITOR, SLOWLOG, LATENCY and latency histograms (see diag.h).
 *
 * Histograms: each command gets, on first use, 40 power-of-two buckets of
 * microseconds (bucket i counts durations below 2^i us), the shape of
 * Redis's hdr_histogram log iteration that LATENCY HISTOGRAM prints. */
#include "ember/diag.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/mem.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define HIST_BUCKETS        40
#define SLOWLOG_ARGS_MAX    32
#define SLOWLOG_ARG_BYTES   128
#define LATENCY_HISTORY_MAX 160

struct slowlog_entry {
    long long id;
    long long time; /* unix seconds */
    long long duration_us;
    int argc;
    struct slice *argv; /* owned copies, already shortened */
    char addr[64];
    char *name;
};

struct latency_sample {
    long long time; /* unix seconds */
    long long ms;
};

struct latency_event {
    const char *name;
    struct latency_sample history[LATENCY_HISTORY_MAX];
    int idx; /* next slot */
    int len;
    long long max_ms;
};

static struct {
    struct client **monitors;
    int monitor_count;
    int monitor_cap;
    struct slowlog_entry *slowlog; /* ring, newest last */
    long long slowlog_len;
    long long slowlog_cap;
    long long slowlog_start;
    long long slowlog_next_id;
    struct latency_event events[2]; /* "command", "fast-command" */
} ds;

void diag_setup(void)
{
    memset(&ds, 0, sizeof(ds));
    ds.events[0].name = "command";
    ds.events[1].name = "fast-command";
}

static void slowlog_free_entry(struct slowlog_entry *e)
{
    for (int i = 0; i < e->argc; i++)
        em_free((char *)e->argv[i].ptr);
    em_free(e->argv);
    em_free(e->name);
}

static void slowlog_reset(void)
{
    for (long long i = 0; i < ds.slowlog_len; i++) {
        slowlog_free_entry(&ds.slowlog[(ds.slowlog_start + i) % ds.slowlog_cap]);
    }
    ds.slowlog_len = 0;
    ds.slowlog_start = 0;
}

static void free_histograms(struct command *cmd, void *arg)
{
    (void)arg;
    em_free(cmd->latency_hist);
    cmd->latency_hist = NULL;
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        free_histograms(s, NULL);
    }
}

void diag_teardown(void)
{
    slowlog_reset();
    em_free(ds.slowlog);
    em_free(ds.monitors);
    command_foreach(free_histograms, NULL);
    memset(&ds, 0, sizeof(ds));
}

/* ---- MONITOR ---- */

/* Redis's sdscatrepr: quoted, with \n \r \t \a \b, \" \\ and \xHH. */
static void append_repr(char **buf, size_t *len, size_t *cap, struct slice s)
{
    size_t need = *len + s.len * 4 + 3;
    if (need > *cap) {
        *cap = need * 2;
        *buf = em_realloc(*buf, *cap);
    }
    char *p = *buf + *len;
    *p++ = '"';
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        switch (ch) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = (char)ch;
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        case '\a':
            *p++ = '\\';
            *p++ = 'a';
            break;
        case '\b':
            *p++ = '\\';
            *p++ = 'b';
            break;
        default:
            if (ch >= 0x20 && ch < 0x7f) {
                *p++ = (char)ch;
            } else {
                p += sprintf(p, "\\x%02x", ch);
            }
        }
    }
    *p++ = '"';
    *len = (size_t)(p - *buf);
}

static void feed_monitors(struct client *c)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    size_t cap = 256, len;
    char *buf = em_malloc(cap);
    len = (size_t)snprintf(buf, cap, "+%ld.%06ld [%d %s]", (long)tv.tv_sec, (long)tv.tv_usec,
                           c->db != NULL ? c->db->id : 0, c->addr);
    for (int i = 0; i < c->argc; i++) {
        buf[len++] = ' ';
        append_repr(&buf, &len, &cap, c->argv[i]);
    }
    if (len + 2 > cap) buf = em_realloc(buf, len + 2);
    buf[len++] = '\r';
    buf[len++] = '\n';
    for (int i = 0; i < ds.monitor_count; i++)
        reply_raw(ds.monitors[i], buf, len);
    em_free(buf);
}

void diag_forget(struct client *c)
{
    for (int i = 0; i < ds.monitor_count; i++) {
        if (ds.monitors[i] == c) {
            memmove(&ds.monitors[i], &ds.monitors[i + 1],
                    (size_t)(ds.monitor_count - i - 1) * sizeof(c));
            ds.monitor_count--;
            return;
        }
    }
}

/* MONITOR */
static void cmd_monitor(struct client *c)
{
    if (c->flags & CLIENT_MONITOR) return; /* Redis ignores a second MONITOR */
    if (ds.monitor_count == ds.monitor_cap) {
        ds.monitor_cap = ds.monitor_cap ? ds.monitor_cap * 2 : 4;
        ds.monitors = em_realloc(ds.monitors, (size_t)ds.monitor_cap * sizeof(*ds.monitors));
    }
    ds.monitors[ds.monitor_count++] = c;
    c->flags |= CLIENT_MONITOR;
    reply_ok(c);
}

/* ---- SLOWLOG ---- */

static void slowlog_add(struct client *c, long long usec)
{
    long long max = server.cfg.slowlog_max_len;
    if (max <= 0) return;
    if (ds.slowlog_cap != max) {
        /* Resize the ring, keeping the newest entries. */
        struct slowlog_entry *ring = em_calloc((size_t)max, sizeof(*ring));
        long long keep = ds.slowlog_len < max ? ds.slowlog_len : max;
        for (long long i = 0; i < ds.slowlog_len; i++) {
            struct slowlog_entry *e = &ds.slowlog[(ds.slowlog_start + i) % ds.slowlog_cap];
            if (i < ds.slowlog_len - keep) {
                slowlog_free_entry(e);
            } else {
                ring[i - (ds.slowlog_len - keep)] = *e;
            }
        }
        em_free(ds.slowlog);
        ds.slowlog = ring;
        ds.slowlog_cap = max;
        ds.slowlog_len = keep;
        ds.slowlog_start = 0;
    }
    if (ds.slowlog_len == ds.slowlog_cap) {
        slowlog_free_entry(&ds.slowlog[ds.slowlog_start]);
        ds.slowlog_start = (ds.slowlog_start + 1) % ds.slowlog_cap;
        ds.slowlog_len--;
    }
    struct slowlog_entry *e = &ds.slowlog[(ds.slowlog_start + ds.slowlog_len) % ds.slowlog_cap];
    ds.slowlog_len++;
    e->id = ds.slowlog_next_id++;
    e->time = clock_ms() / 1000;
    e->duration_us = usec;
    int argc = c->argc > SLOWLOG_ARGS_MAX ? SLOWLOG_ARGS_MAX : c->argc;
    e->argc = argc;
    e->argv = em_malloc((size_t)argc * sizeof(*e->argv));
    for (int i = 0; i < argc; i++) {
        char buf[SLOWLOG_ARG_BYTES + 64];
        struct slice a = c->argv[i];
        size_t len;
        if (argc == SLOWLOG_ARGS_MAX && i == argc - 1) {
            len = (size_t)snprintf(buf, sizeof(buf), "... (%d more arguments)", c->argc - argc + 1);
        } else if (a.len > SLOWLOG_ARG_BYTES) {
            memcpy(buf, a.ptr, SLOWLOG_ARG_BYTES);
            len = SLOWLOG_ARG_BYTES + (size_t)snprintf(buf + SLOWLOG_ARG_BYTES, 64,
                                                       "... (%zu more bytes)",
                                                       a.len - SLOWLOG_ARG_BYTES);
        } else {
            memcpy(buf, a.ptr, a.len);
            len = a.len;
        }
        e->argv[i] = (struct slice){em_strndup(buf, len), len};
    }
    snprintf(e->addr, sizeof(e->addr), "%s", c->addr);
    e->name = em_strndup(c->name ? c->name : "", c->name ? strlen(c->name) : 0);
}

static void slowlog_get(struct client *c)
{
    long long count = 10;
    if (c->argc == 3) {
        if (!str_to_ll(c->argv[2].ptr, c->argv[2].len, &count) || count < -1) {
            reply_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
        if (count == -1) count = ds.slowlog_len;
    }
    if (count > ds.slowlog_len) count = ds.slowlog_len;
    reply_array_len(c, count);
    for (long long i = 0; i < count; i++) {
        /* Newest first. */
        struct slowlog_entry *e =
            &ds.slowlog[(ds.slowlog_start + ds.slowlog_len - 1 - i) % ds.slowlog_cap];
        reply_array_len(c, 6);
        reply_int(c, e->id);
        reply_int(c, e->time);
        reply_int(c, e->duration_us);
        reply_array_len(c, e->argc);
        for (int j = 0; j < e->argc; j++)
            reply_bulk_slice(c, e->argv[j]);
        reply_bulk_cstr(c, e->addr);
        reply_bulk_cstr(c, e->name);
    }
}

static void slowlog_len(struct client *c)
{
    reply_int(c, ds.slowlog_len);
}

static void slowlog_reset_cmd(struct client *c)
{
    slowlog_reset();
    reply_ok(c);
}

static void help_reply(struct client *c, const char *const *lines)
{
    long long n = 0;
    while (lines[n] != NULL)
        n++;
    reply_array_len(c, n);
    for (long long i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

static void slowlog_help(struct client *c)
{
    static const char *const lines[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Print this help.",
        NULL,
    };
    help_reply(c, lines);
}

/* ---- LATENCY ---- */

static void latency_add(int event, long long ms)
{
    struct latency_event *e = &ds.events[event];
    long long now = clock_ms() / 1000;
    int prev = (e->idx + LATENCY_HISTORY_MAX - 1) % LATENCY_HISTORY_MAX;
    if (e->len > 0 && e->history[prev].time == now) {
        /* One sample per second: keep the worst (Redis does the same). */
        if (ms > e->history[prev].ms) e->history[prev].ms = ms;
    } else {
        e->history[e->idx] = (struct latency_sample){now, ms};
        e->idx = (e->idx + 1) % LATENCY_HISTORY_MAX;
        if (e->len < LATENCY_HISTORY_MAX) e->len++;
    }
    if (ms > e->max_ms) e->max_ms = ms;
}

static void latency_latest(struct client *c)
{
    int n = 0;
    for (int i = 0; i < 2; i++)
        n += ds.events[i].len > 0;
    reply_array_len(c, n);
    for (int i = 0; i < 2; i++) {
        struct latency_event *e = &ds.events[i];
        if (e->len == 0) continue;
        struct latency_sample *last =
            &e->history[(e->idx + LATENCY_HISTORY_MAX - 1) % LATENCY_HISTORY_MAX];
        reply_array_len(c, 4);
        reply_bulk_cstr(c, e->name);
        reply_int(c, last->time);
        reply_int(c, last->ms);
        reply_int(c, e->max_ms);
    }
}

static struct latency_event *find_event(struct slice name)
{
    for (int i = 0; i < 2; i++) {
        if (slice_eq_nocase(name, ds.events[i].name)) return &ds.events[i];
    }
    return NULL;
}

static void latency_history(struct client *c)
{
    struct latency_event *e = find_event(c->argv[2]);
    if (e == NULL || e->len == 0) {
        reply_empty_array(c);
        return;
    }
    reply_array_len(c, e->len);
    int first = (e->idx + LATENCY_HISTORY_MAX - e->len) % LATENCY_HISTORY_MAX;
    for (int i = 0; i < e->len; i++) {
        struct latency_sample *s = &e->history[(first + i) % LATENCY_HISTORY_MAX];
        reply_array_len(c, 2);
        reply_int(c, s->time);
        reply_int(c, s->ms);
    }
}

static void latency_reset(struct client *c)
{
    long long reset = 0;
    for (int i = 0; i < 2; i++) {
        struct latency_event *e = &ds.events[i];
        bool named = c->argc == 2;
        for (int j = 2; j < c->argc && !named; j++)
            named = slice_eq_nocase(c->argv[j], e->name);
        if (!named || e->len == 0) continue;
        e->len = e->idx = 0;
        e->max_ms = 0;
        reset++;
    }
    reply_int(c, reset);
}

static void latency_doctor(struct client *c)
{
    static const char msg[] =
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
        "in the slightest bit. I honestly think you ought to sleep a little better.\n";
    reply_verbatim(c, msg, sizeof(msg) - 1, "txt");
}

/* The histogram of one command as LATENCY HISTOGRAM prints it: calls, then
 * the cumulative count at each power-of-two bucket where it grows. */
static void reply_histogram(struct client *c, const struct command *cmd)
{
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_int(c, cmd->calls);
    reply_bulk_cstr(c, "histogram_usec");
    void *h = reply_defer_len(c);
    long long pairs = 0, cumulative = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        if (cmd->latency_hist[i] == 0) continue;
        cumulative += (long long)cmd->latency_hist[i];
        reply_int(c, 1LL << i);
        reply_int(c, cumulative);
        pairs++;
    }
    reply_set_map_len(c, h, pairs);
}

struct hist_walk {
    struct client *c;
    long long n;
};

static void count_hist(struct command *cmd, void *arg)
{
    struct hist_walk *w = arg;
    if (cmd->latency_hist != NULL) w->n++;
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        count_hist(s, arg);
    }
}

static void emit_hist(struct command *cmd, void *arg)
{
    struct hist_walk *w = arg;
    if (cmd->latency_hist != NULL) {
        char full[128];
        reply_bulk_cstr(w->c, command_fullname(cmd, full, sizeof(full)));
        reply_histogram(w->c, cmd);
    }
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        emit_hist(s, arg);
    }
}

/* LATENCY HISTOGRAM [command ...] */
static void latency_histogram(struct client *c)
{
    if (c->argc == 2) {
        struct hist_walk w = {c, 0};
        command_foreach(count_hist, &w);
        reply_map_len(c, w.n);
        command_foreach(emit_hist, &w);
        return;
    }
    long long n = 0;
    for (int j = 2; j < c->argc; j++) {
        struct command *cmd = command_lookup(c->argv[j]);
        n += cmd != NULL && cmd->latency_hist != NULL;
    }
    reply_map_len(c, n);
    for (int j = 2; j < c->argc; j++) {
        struct command *cmd = command_lookup(c->argv[j]);
        if (cmd == NULL || cmd->latency_hist == NULL) continue;
        reply_bulk_cstr(c, cmd->name);
        reply_histogram(c, cmd);
    }
}

static void latency_help(struct client *c)
{
    static const char *const lines[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the "
        "specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HELP",
        "    Print this help.",
        NULL,
    };
    help_reply(c, lines);
}

/* ---- The hook ---- */

static int bucket_of(long long usec)
{
    int b = 0;
    while (b < HIST_BUCKETS - 1 && (1LL << b) <= usec)
        b++;
    return b;
}

void diag_after_command(struct client *c, struct command *cmd, long long usec)
{
    if (server.cfg.latency_tracking) {
        if (cmd->latency_hist == NULL) {
            cmd->latency_hist = em_calloc(HIST_BUCKETS, sizeof(*cmd->latency_hist));
        }
        cmd->latency_hist[bucket_of(usec)]++;
    }
    if (server.cfg.slowlog_log_slower_than >= 0 && usec >= server.cfg.slowlog_log_slower_than &&
        strcmp(cmd->name, "auth") != 0 && strcmp(cmd->name, "hello") != 0 &&
        strcmp(cmd->name, "exec") != 0) {
        slowlog_add(c, usec);
    }
    long long threshold = server.cfg.latency_monitor_threshold;
    if (threshold > 0 && usec / 1000 >= threshold) {
        latency_add((cmd->flags & CMD_FAST) ? 1 : 0, usec / 1000);
    }
    if (ds.monitor_count > 0 && !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) &&
        !(c->flags & CLIENT_MONITOR)) {
        feed_monitors(c);
    }
}

/* Percentile from the histogram: the upper bound of the bucket where the
 * cumulative count reaches it. */
static double percentile(const struct command *cmd, double pct)
{
    long long total = 0;
    for (int i = 0; i < HIST_BUCKETS; i++)
        total += (long long)cmd->latency_hist[i];
    long long want = (long long)((double)total * pct / 100.0 + 0.999999);
    long long cum = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        cum += (long long)cmd->latency_hist[i];
        if (cum >= want && cum > 0) return (double)(1LL << i);
    }
    return 0;
}

struct stats_walk {
    diag_print_fn *fn;
    void *arg;
};

static void stat_line(struct command *cmd, void *arg)
{
    struct stats_walk *w = arg;
    if (cmd->latency_hist != NULL) {
        char full[128], line[256];
        snprintf(line, sizeof(line), "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f",
                 command_fullname(cmd, full, sizeof(full)), percentile(cmd, 50),
                 percentile(cmd, 99), percentile(cmd, 99.9));
        w->fn(w->arg, line);
    }
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        stat_line(s, arg);
    }
}

void diag_latencystats(diag_print_fn *fn, void *arg)
{
    struct stats_walk w = {fn, arg};
    command_foreach(stat_line, &w);
}

/* clang-format off */
static struct command slowlog_subcommands[] = {
    {.name = "get", .proc = slowlog_get, .arity = -2,
     .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Get the slow log's entries", .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries returned"},
    {.name = "len", .proc = slowlog_len, .arity = 2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Get the slow log's length", .since = "2.2.12",
     .complexity = "O(1)"},
    {.name = "reset", .proc = slowlog_reset_cmd, .arity = 2,
     .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Clear all entries from the slow log", .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries in the slowlog"},
    {.name = "help", .proc = slowlog_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

static struct command latency_subcommands[] = {
    {.name = "latest", .proc = latency_latest, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Return the latest latency samples for all events.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "history", .proc = latency_history, .arity = 3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Return timestamp-latency samples for the event.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "reset", .proc = latency_reset, .arity = -2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Reset latency data for one or more events.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "doctor", .proc = latency_doctor, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Return a human readable latency analysis report.", .since = "2.8.13",
     .complexity = "O(1)"},
    {.name = "histogram", .proc = latency_histogram, .arity = -2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Return the cumulative distribution of latencies of a subset of commands or "
                "all.",
     .since = "7.0.0", .complexity = "O(N) where N is the number of commands with latency "
                                     "information being retrieved."},
    {.name = "help", .proc = latency_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "server", .summary = "Show helpful text about the different subcommands.",
     .since = "2.8.13", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

struct command diag_commands[] = {
    {.name = "monitor", .proc = cmd_monitor, .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, .group = "server",
     .summary = "Listen for all requests received by the server in real time", .since = "1.0.0",
     .complexity = NULL},
    {.name = "slowlog", .proc = NULL, .arity = -2, .flags = 0, .group = "server",
     .summary = "A container for slow log commands", .since = "2.2.12",
     .complexity = "Depends on subcommand.", .subcommands = slowlog_subcommands},
    {.name = "latency", .proc = NULL, .arity = -2, .flags = 0, .group = "server",
     .summary = "A container for latency diagnostics commands", .since = "2.8.13",
     .complexity = "Depends on subcommand.", .subcommands = latency_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
