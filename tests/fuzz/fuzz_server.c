/* fuzz_server.c: libFuzzer target for the whole command path: parser,
 * dispatch, every handler, the keyspace, blocking, MULTI, pub/sub, replies.
 *
 * The server runs in process without sockets (server_init_embedded()). Each
 * input drives two clients that are not attached to a connection: the input
 * is a byte stream for client 0; every 0xFF byte ends a segment and switches
 * to the other client, so BLPOP on one side and LPUSH on the other, WATCH
 * and a foreign write, SUBSCRIBE and PUBLISH all meet. Each segment goes
 * through client_read_buffer()/client_feed() as net.c would deliver it; then
 * the loop's before-sleep work runs (blocked clients, timeouts), replies are
 * discarded and the frozen clock moves on 100 ms, so TTLs and blocking
 * timeouts expire deterministically. At the end both clients are destroyed,
 * every db flushed and, if the input mentions ACL, the users rebuilt, so
 * inputs do not leak state into each other (and LeakSanitizer sees anything
 * left behind).
 *
 * Guard rails, so a finding is a bug and not a legitimate way to make Redis
 * slow or big: proto-max-bulk-len is 1 MB (it also bounds SETRANGE, APPEND
 * and friends), output buffers close a client past 4 MB, and commands that
 * need the event loop, sleep, fork, write files, switch global state or run
 * scripts answer an error here (SHUTDOWN, DEBUG, CONFIG SET/REWRITE, SAVE,
 * BGSAVE, CLIENT PAUSE, EVAL*, FCALL*, FUNCTION). DUMP/RESTORE stay: RESTORE
 * parses untrusted RDB payloads. */
#include "ember/acl.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/log.h"
#include "ember/net.h"
#include "ember/reply.h"
#include "ember/server.h"
#include "ember/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CLIENTS   2
#define FUZZ_SEPARATOR 0xFF
#define FUZZ_START_MS  1700000000000LL
#define FUZZ_STEP_MS   100

static void cmd_denied(struct client *c)
{
    reply_error(c, "ERR command disabled in the fuzzer");
}

static void deny(const char *name, const char *sub)
{
    struct command *cmd = command_lookup((struct slice){name, strlen(name)});
    if (cmd == NULL) return;
    if (sub == NULL) {
        cmd->proc = cmd_denied;
        return;
    }
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        if (strcmp(s->name, sub) == 0) s->proc = cmd_denied;
    }
}

/* COMMAND and COMMAND DOCS without names reply every command's metadata, a
 * fixed dump of ~100 KB that test_command_meta.py checks byte for byte;
 * here they took a quarter of the run's time. With names they still run. */
static command_proc *command_all_proc, *command_docs_proc;

static void cmd_command_named(struct client *c)
{
    if (c->argc == 1) {
        cmd_denied(c);
    } else {
        command_all_proc(c);
    }
}

static void cmd_command_docs_named(struct client *c)
{
    if (c->argc == 2) {
        cmd_denied(c);
    } else {
        command_docs_proc(c);
    }
}

static void limit_command_dumps(void)
{
    struct command *cmd = command_lookup(SLICE_LIT("command"));
    if (cmd == NULL) return;
    command_all_proc = cmd->proc;
    if (cmd->proc != NULL) cmd->proc = cmd_command_named;
    for (struct command *s = cmd->subcommands; s != NULL && s->name != NULL; s++) {
        if (strcmp(s->name, "docs") == 0 && s->proc != NULL) {
            command_docs_proc = s->proc;
            s->proc = cmd_command_docs_named;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config_init(&server.cfg);
    server.cfg.proto_max_bulk_len = 1024 * 1024;
    server.cfg.cobl_normal[0] = 4 * 1024 * 1024;
    server.cfg.cobl_pubsub[0] = 4 * 1024 * 1024;
    if (log_setup(LOG_WARNING, "/dev/null") < 0) abort();
    if (server_init_embedded() < 0) abort();
    uint8_t seed[16] = {0};
    hash_set_seed(seed);
    rng_seed(&server.ks.rng, 1);
    /* The loop, files, forks, sleeps and global switches: not fuzzable here. */
    deny("shutdown", NULL);
    deny("debug", NULL);
    deny("config", "set");
    deny("config", "rewrite");
    deny("save", NULL);
    deny("bgsave", NULL);
    deny("client", "pause");
    limit_command_dumps();
    /* Scripts may loop forever by design (Redis answers BUSY until SCRIPT
     * KILL); they need a harness of their own. */
    static const char *const scripting[] = {"eval",  "evalsha",  "eval_ro", "evalsha_ro",
                                            "fcall", "fcall_ro", "function"};
    for (size_t i = 0; i < sizeof(scripting) / sizeof(scripting[0]); i++)
        deny(scripting[i], NULL);
    return 0;
}

static bool mentions_acl(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        if ((p[i] | 0x20) == 'a' && (p[i + 1] | 0x20) == 'c' && (p[i + 2] | 0x20) == 'l')
            return true;
    }
    return false;
}

static bool closing(const struct client *c)
{
    return (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSING)) != 0;
}

/* Delivers bytes the way net.c does: into client_read_buffer(), at most its
 * room per read. */
static void deliver(struct client *c, const uint8_t *p, size_t n)
{
    while (n > 0 && !closing(c)) {
        size_t room;
        char *buf = client_read_buffer(c, &room);
        size_t k = n < room ? n : room;
        memcpy(buf, p, k);
        client_feed(c, buf, k);
        p += k;
        n -= k;
    }
}

/* What one loop iteration does after the reads: wake blocked clients, time
 * them out, then "flush" (drop) every reply. */
static void end_iteration(struct client **cl)
{
    server_before_sleep();
    net_flush_pending(); /* no connections: just empties the pending list */
    for (int i = 0; i < FUZZ_CLIENTS; i++)
        reply_release(cl[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long long now = FUZZ_START_MS;
    clock_freeze(now);
    struct client *cl[FUZZ_CLIENTS];
    for (int i = 0; i < FUZZ_CLIENTS; i++) {
        cl[i] = client_create();
        snprintf(cl[i]->addr, sizeof(cl[i]->addr), "127.0.0.1:%d", 50000 + i);
        snprintf(cl[i]->laddr, sizeof(cl[i]->laddr), "127.0.0.1:6379");
        server_link_client(cl[i]);
    }

    int cur = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != FUZZ_SEPARATOR) continue;
        deliver(cl[cur], data + start, i - start);
        end_iteration(cl);
        now += FUZZ_STEP_MS;
        clock_freeze(now);
        if (((i - start) & 7) == 0) server_cron(); /* now and then: active expiry, rehash */
        cur = (cur + 1) % FUZZ_CLIENTS;
        start = i + 1;
    }

    for (int i = 0; i < FUZZ_CLIENTS; i++) {
        server_unlink_client(cl[i]);
        client_destroy(cl[i]);
    }
    server.pending_writes = NULL;
    for (int i = 0; i < server.ks.count; i++)
        db_flush(&server.ks.dbs[i]);
    if (mentions_acl(data, size)) {
        /* Users and the default user's permissions are global: start over. */
        acl_teardown();
        acl_setup();
    }
    clock_unfreeze();
    return 0;
}
