/* command.c: command lookup, dispatch and the argument helpers.
 *
 * The per-family tables (string_commands, list_commands, ...) are joined at
 * start-up into one open-addressing index keyed by a case-insensitive hash
 * of the name, so lookup costs a short hash and one or two compares.
 *
 * Dispatch order, as in Redis's processCommand: lookup (unknown command),
 * arity, subcommand, then the handler. Afterwards, if the handler changed
 * the keyspace (server.dirty moved), command_after_write() sees it: the one
 * place every write passes, for the future log and replica stream. */
#include "ember/command.h"

#include "ember/acl.h"
#include "ember/aof.h"
#include "ember/auth.h"
#include "ember/blocking.h"
#include "ember/client.h"
#include "ember/cluster.h"
#include "ember/command_meta.h"
#include "ember/diag.h"
#include "ember/evict.h"
#include "ember/mem.h"
#include "ember/multi.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/tracking.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct command *const families[] = {
    string_commands,  keys_commands,   expire_commands, list_commands,     hash_commands,
    set_commands,     zset_commands,   multi_commands,  pubsub_commands,   auth_commands,
    diag_commands,    server_commands, script_commands, function_commands, cluster_commands,
    persist_commands, acl_commands,    aof_commands,    bitops_commands,   sort_commands,
};
#define FAMILY_COUNT (sizeof(families) / sizeof(families[0]))

#define INDEX_SIZE 1024 /* a power of two, well above the command count */

/* A slot keys its command by the name's first 8 bytes in lower case (a
 * little-endian word, zero-padded) and its length: most names fit, so a
 * lookup is one hash of one word and one compare; longer names compare
 * their tail too. */
struct index_slot {
    uint64_t head;
    size_t len;
    struct command *cmd;
};

static struct index_slot index_slots[INDEX_SIZE];
static int total_commands;

static inline unsigned char ascii_lower(char ch)
{
    unsigned char u = (unsigned char)ch;
    return (unsigned)(u - 'A') < 26u ? (unsigned char)(u | 0x20) : u;
}

/* ASCII upper-case letters of a word's bytes to lower case, all at once
 * (each byte's low 7 bits plus a bias set bit 7 for >= 'A' and for > 'Z';
 * no carry crosses bytes; bytes >= 0x80 are left alone). */
static inline uint64_t lower8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t low7 = x & (0x7f * ones);
    uint64_t ge_a = low7 + (0x80 - 'A') * ones;
    uint64_t gt_z = low7 + (0x7f - 'Z') * ones;
    uint64_t upper = ge_a & ~gt_z & ~x & (0x80 * ones);
    return x | (upper >> 2);
}

static inline uint64_t load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The first min(len, 8) bytes of p (len >= 1) as a little-endian word,
 * zero-padded, in lower case. Reads only p[0..len): a name may end its
 * buffer. Short names take overlapping loads, which agree where they meet. */
static inline uint64_t name_head(const char *p, size_t len)
{
    uint64_t w;
    if (len >= 8) {
        memcpy(&w, p, 8);
    } else if (len >= 4) {
        w = load32(p) | load32(p + len - 4) << (8 * (len - 4));
    } else {
        w = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[len / 2] << (8 * (len / 2)) |
            (uint64_t)(unsigned char)p[len - 1] << (8 * (len - 1));
    }
    return lower8(w);
}

static inline size_t name_slot(uint64_t head, size_t len)
{
    return (size_t)(((head ^ len) * 0x9E3779B97F4A7C15ULL) >> 54) & (INDEX_SIZE - 1);
}

/* The bytes after the first 8: `name` is a table's name, in lower case. */
static bool tail_is(const char *name, const char *p, size_t len)
{
    for (size_t i = 8; i < len; i++) {
        if ((unsigned char)name[i] != ascii_lower(p[i])) return false;
    }
    return true;
}

void command_setup(void)
{
    memset(index_slots, 0, sizeof(index_slots));
    total_commands = 0;
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        for (struct command *cmd = families[f]; cmd->name != NULL; cmd++) {
            size_t len = strlen(cmd->name);
            uint64_t head = name_head(cmd->name, len);
            size_t i = name_slot(head, len);
            while (index_slots[i].cmd != NULL)
                i = (i + 1) & (INDEX_SIZE - 1);
            index_slots[i] = (struct index_slot){head, len, cmd};
            total_commands++;
            cmd->meta = command_meta_find(cmd->name);
            for (struct command *sub = cmd->subcommands; sub != NULL && sub->name != NULL; sub++) {
                char full[128];
                sub->parent = cmd->name;
                sub->meta = command_meta_find(command_fullname(sub, full, sizeof(full)));
            }
        }
    }
}

struct command *command_lookup(struct slice name)
{
    if (name.len == 0 || name.len > 64) return NULL;
    uint64_t head = name_head(name.ptr, name.len);
    for (size_t i = name_slot(head, name.len); index_slots[i].cmd != NULL;
         i = (i + 1) & (INDEX_SIZE - 1)) {
        const struct index_slot *s = &index_slots[i];
        if (s->head == head && s->len == name.len &&
            (name.len <= 8 || tail_is(s->cmd->name, name.ptr, name.len))) {
            return s->cmd;
        }
    }
    return NULL;
}

int command_get_keys(const struct command *cmd, int argc, const struct slice *argv,
                     struct meta_key *out, int max)
{
    int n = cmd->meta != NULL ? command_meta_get_keys(cmd->meta, argc, argv, out, max) : -1;
    if (n < 0 && cmd->getkeys != NULL) n = cmd->getkeys(argc, argv, out, max);
    return n;
}

void command_foreach(void (*fn)(struct command *cmd, void *arg), void *arg)
{
    for (size_t f = 0; f < FAMILY_COUNT; f++) {
        for (struct command *cmd = families[f]; cmd->name != NULL; cmd++)
            fn(cmd, arg);
    }
}

int command_count(void)
{
    return total_commands;
}

const char *command_fullname(const struct command *cmd, char *buf, size_t len)
{
    if (cmd->parent == NULL) return cmd->name;
    snprintf(buf, len, "%s|%s", cmd->parent, cmd->name);
    return buf;
}

/* ---- Errors before execution ---- */

/* Redis prints arguments with %s: they stop at a NUL byte. */
static int cstr_len(struct slice s, int max)
{
    const char *nul = memchr(s.ptr, '\0', s.len);
    size_t len = nul != NULL ? (size_t)(nul - s.ptr) : s.len;
    return (int)(len < (size_t)max ? len : (size_t)max);
}

static void reply_unknown_command(struct client *c)
{
    char args[512];
    size_t used = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && used < 128; i++) {
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         cstr_len(c->argv[i], 128 - (int)used), c->argv[i].ptr);
        if (n < 0) break;
        used += (size_t)n;
        if (used >= sizeof(args)) used = sizeof(args) - 1;
    }
    reply_error_fmt(c, "ERR unknown command '%.*s', with args beginning with: %s",
                    cstr_len(c->argv[0], 128), c->argv[0].ptr, args);
}

void reply_arity_error(struct client *c)
{
    char buf[128];
    reply_error_fmt(c, "ERR wrong number of arguments for '%s' command",
                    command_fullname(c->cmd, buf, sizeof(buf)));
}

static bool arity_ok(const struct command *cmd, int argc)
{
    return (cmd->arity > 0 && argc == cmd->arity) || (cmd->arity < 0 && argc >= -cmd->arity);
}

static struct command *find_subcommand(struct command *parent, struct slice name)
{
    for (struct command *sub = parent->subcommands; sub->name != NULL; sub++) {
        if (strlen(sub->name) == name.len && strncasecmp(sub->name, name.ptr, name.len) == 0) {
            return sub;
        }
    }
    return NULL;
}

/* The one place every write passes after it executes: records its effect
 * in the write stream (aof.h), which the AOF and later replication read.
 * Called after every call, `wrote` saying whether the keyspace changed, so
 * nested calls (EXEC, scripts) and keys expired on the way are grouped. */
static void command_after_write(struct client *c, bool wrote)
{
    propagate_call_end(c, wrote);
}

/* Commands that run at once inside MULTI instead of being queued. */
static bool runs_inside_multi(const struct command *cmd)
{
    static const char *const names[] = {"exec", "discard", "multi", "watch", "quit", "reset"};
    if (cmd->parent != NULL) return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(cmd->name, names[i]) == 0) return true;
    }
    return false;
}

void command_call(struct client *c, struct command *cmd)
{
    c->cmd = cmd;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags = (c->flags & ~(unsigned)CLIENT_REPLY_SKIP_NEXT) | CLIENT_REPLY_SKIP;
    }
    long long dirty = server.dirty;
    long long errors = server.stats.total_error_replies;
    bool track = tracking_live != 0; /* the only cost of CLIENT TRACKING when unused */
    if (track) tracking_command_begin(c);
    c->last_cmd = cmd;
    propagate_call_begin();
    uint64_t start = clock_ticks();
    cmd->proc(c);
    uint64_t end = clock_ticks();
    long long ns = end > start ? clock_ticks_ns(end - start) : 0; /* CPUs' TSCs may differ */
    long long usec = ns / 1000;
    cmd->duration_ns += ns;
    cmd->calls++;
    if (server.stats.total_error_replies != errors) cmd->failed_calls++;
    c->flags &= ~(unsigned)CLIENT_REPLY_SKIP;
    c->commands_processed++;
    server.stats.total_commands_processed++;
    command_after_write(c, server.dirty != dirty);
    if (track) tracking_command_end(c, cmd);
    diag_after_command(c, cmd, usec);
}

/* A command refused before it ran; inside MULTI it also dooms EXEC. */
static void rejected(struct client *c, struct command *cmd)
{
    if (cmd != NULL) cmd->rejected_calls++;
    multi_flag_error(c);
}

void command_dispatch(struct client *c)
{
    struct command *cmd = command_lookup(c->argv[0]);
    if (cmd == NULL) {
        reply_unknown_command(c);
        rejected(c, NULL);
        return;
    }
    c->cmd = cmd;
    if (!arity_ok(cmd, c->argc)) {
        reply_arity_error(c);
        rejected(c, cmd);
        return;
    }
    if (cmd->subcommands != NULL && (c->argc >= 2 || cmd->proc == NULL)) {
        struct command *sub = find_subcommand(cmd, c->argv[1]);
        if (sub == NULL) {
            char upper[64];
            size_t n = strlen(cmd->name);
            for (size_t i = 0; i <= n && i < sizeof(upper); i++) {
                upper[i] = (char)toupper((unsigned char)cmd->name[i]);
            }
            upper[sizeof(upper) - 1] = '\0';
            reply_error_fmt(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                            cstr_len(c->argv[1], 128), c->argv[1].ptr, upper);
            rejected(c, cmd);
            return;
        }
        cmd = sub;
        c->cmd = cmd;
        if (!arity_ok(cmd, c->argc)) {
            reply_arity_error(c);
            rejected(c, cmd);
            return;
        }
    }
    if (server.script_busy && c != server.script_caller && !(cmd->flags & CMD_ALLOW_BUSY)) {
        reply_error(c, server.busy_message != NULL
                           ? server.busy_message
                           : "BUSY Redis is busy running a script. You can only call SCRIPT "
                             "KILL or SHUTDOWN NOSAVE.");
        rejected(c, cmd);
        return;
    }
    /* Redis's authRequired(): a client that connected while the default
     * user had a password needs AUTH, unless the password is gone since. */
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH) && auth_required()) {
        reply_error(c, "NOAUTH Authentication required.");
        rejected(c, cmd);
        return;
    }
    if (acl_enforced && !acl_check_or_reply(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    /* RESP2 clients in subscribed mode may only (un)subscribe and ping. */
    if (c->resp == 2 && c->pubsub != NULL && pubsub_count(c) > 0 &&
        !pubsub_allowed_in_subscribed_mode(cmd)) {
        char full[128];
        reply_error_fmt(c,
                        "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                        "QUIT / RESET are allowed in this context",
                        command_fullname(cmd, full, sizeof(full)));
        rejected(c, cmd);
        return;
    }
    if (server.cfg.cluster_enabled && !cluster_check_keys_or_reply(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    /* CLIENT PAUSE: the command waits, then runs as if just received. */
    if (blocking_is_paused_for(c, cmd) && !(c->flags & CLIENT_MULTI)) {
        blocking_postpone(c);
        return;
    }
    /* maxmemory: evict first; refuse growing commands if that fails. */
    if (server.cfg.maxmemory > 0 && !evict_before_command(c, cmd)) {
        rejected(c, cmd);
        return;
    }
    if (c->flags & CLIENT_MULTI) {
        if (cmd->flags & CMD_NO_MULTI) {
            reply_error(c, "ERR Command not allowed inside a transaction");
            rejected(c, cmd);
            return;
        }
        if (!runs_inside_multi(cmd)) {
            multi_queue(c, cmd);
            return;
        }
    }
    command_call(c, cmd);
    /* Serve clients blocked on keys this command filled, before the next
     * command runs (Redis: handleClientsBlockedOnKeys in processCommand). */
    blocking_handle_ready();
}

/* ---- Argument helpers ---- */

bool arg_ll_or_reply(struct client *c, int i, long long *out)
{
    if (str_to_ll(c->argv[i].ptr, c->argv[i].len, out)) return true;
    reply_not_integer(c);
    return false;
}

bool arg_ll_range_or_reply(struct client *c, int i, long long min, long long max, long long *out,
                           const char *msg)
{
    long long v;
    if (!str_to_ll(c->argv[i].ptr, c->argv[i].len, &v) || v < min || v > max) {
        if (msg != NULL) {
            reply_error(c, msg);
        } else {
            reply_not_integer(c);
        }
        return false;
    }
    *out = v;
    return true;
}

bool arg_double_or_reply(struct client *c, int i, double *out)
{
    if (str_to_d(c->argv[i].ptr, c->argv[i].len, out)) return true;
    reply_not_float(c);
    return false;
}

bool arg_is(const struct client *c, int i, const char *word)
{
    return slice_eq_nocase(c->argv[i], word);
}
