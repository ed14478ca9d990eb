/* expire.c: the time-to-live commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT
 * (with NX, XX, GT, LT), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST.
 *
 * A deadline is an absolute Unix time in milliseconds stored in the key's
 * own entry (object.h); db_set_expire() adds, changes or removes it and
 * keeps the db's count of keys with a deadline. The machinery that deletes
 * keys once their deadline passes lives in db.c: lazily on every lookup,
 * and actively in db_expire_cycle(), which the cron runs. A key is expired
 * when now > deadline, so a key whose deadline is "now" still exists; a new
 * deadline at or before now, though, deletes the key at once (Redis's
 * checkAlreadyExpired), and the command replies 1 as if it had set it.
 *
 * "Now" is the cached clock (clock_ms()), fixed for the whole command, as
 * Redis's commandTimeSnapshot(). */
#include "ember/aof.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/config.h"
#include "ember/db.h"
#include "ember/object.h"
#include "ember/pubsub.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <limits.h>

/* Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): expires the key if its
 * deadline passed and counts a hit or miss, without refreshing the LRU
 * clock. (t_keys.c has the same helper; see the TODO there.) */
static struct dict_node *lookup_notouch(struct db *db, struct slice key)
{
    struct dict_node *o = db_peek(db, key);
    if (o == NULL) {
        struct db_ref ref;
        db_find(db, key, &ref);
    }
    db_count_lookup(db, o != NULL);
    return o;
}

/* ---- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ---- */

enum expire_flag {
    EXPIRE_NX = 1 << 0, /* only if the key has no deadline */
    EXPIRE_XX = 1 << 1, /* only if it has one */
    EXPIRE_GT = 1 << 2, /* only if later than the current one (none counts as infinite) */
    EXPIRE_LT = 1 << 3, /* only if earlier than the current one */
};

/* Redis's parseExtendedExpireArgumentsOrReply: options from argv[3] on, any
 * case, repeats allowed; an unknown word is reported before conflicts. */
static bool parse_expire_flags_or_reply(struct client *c, unsigned *flags)
{
    *flags = 0;
    for (int i = 3; i < c->argc; i++) {
        if (arg_is(c, i, "nx")) {
            *flags |= EXPIRE_NX;
        } else if (arg_is(c, i, "xx")) {
            *flags |= EXPIRE_XX;
        } else if (arg_is(c, i, "gt")) {
            *flags |= EXPIRE_GT;
        } else if (arg_is(c, i, "lt")) {
            *flags |= EXPIRE_LT;
        } else {
            /* Redis prints the option with %s: it stops at a NUL byte. */
            reply_error_fmt(c, "ERR Unsupported option %.*s", (int)c->argv[i].len, c->argv[i].ptr);
            return false;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/* Whether the options allow replacing deadline `cur` (-1: none) by `when`. */
static bool expire_allowed(unsigned flags, long long cur, long long when)
{
    if ((flags & EXPIRE_NX) && cur != -1) return false;
    if ((flags & EXPIRE_XX) && cur == -1) return false;
    if ((flags & EXPIRE_GT) && (cur == -1 || when <= cur)) return false;
    if ((flags & EXPIRE_LT) && cur != -1 && when >= cur) return false;
    return true;
}

/* The four setters (Redis's expireGenericCommand): argv[2] is a time in
 * seconds or ms, relative to `basetime` (now, or 0 for the *AT forms).
 * Negative values are allowed (they delete the key); only overflow of the
 * unit conversion or of the addition is an error. */
static void expire_generic(struct client *c, long long basetime, bool seconds)
{
    unsigned flags;
    long long when;
    if (!parse_expire_flags_or_reply(c, &flags) || !arg_ll_or_reply(c, 2, &when)) return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) goto invalid;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) goto invalid;
    when += basetime;

    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    if (o == NULL || !expire_allowed(flags, obj_expire(o), when)) {
        reply_int(c, 0);
        return;
    }
    bool del = when <= clock_ms();
    if (del) {
        db_delete_at(c->db, &ref);
    } else {
        db_set_expire(c->db, &ref, o, when);
    }
    db_touch(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, del ? "del" : "expire", c->argv[1], c->db->id);
    server.dirty++;
    /* Logged as Redis 7.0 does: DEL for a deadline already past, else
     * PEXPIREAT with an absolute deadline (PEXPIREAT itself as is). */
    if (del) {
        propagate_del(c, c->argv[1]);
    } else if (seconds || basetime != 0) {
        propagate_pexpireat(c, c->argv[1], when, 3);
    }
    reply_int(c, 1);
    return;
invalid:
    reply_error_fmt(c, "ERR invalid expire time in '%s' command", c->cmd->name);
}

/* EXPIRE key seconds [NX|XX|GT|LT] */
static void cmd_expire(struct client *c)
{
    expire_generic(c, clock_ms(), true);
}

/* PEXPIRE key milliseconds [NX|XX|GT|LT] */
static void cmd_pexpire(struct client *c)
{
    expire_generic(c, clock_ms(), false);
}

/* EXPIREAT key unix-time-seconds [NX|XX|GT|LT] */
static void cmd_expireat(struct client *c)
{
    expire_generic(c, 0, true);
}

/* PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] */
static void cmd_pexpireat(struct client *c)
{
    expire_generic(c, 0, false);
}

/* ---- TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST ---- */

/* The four readers (Redis's ttlGenericCommand): -2 if the key is missing,
 * -1 if it has no deadline, else the time left (or the deadline itself, if
 * `absolute`), never negative; seconds are rounded half up. */
static void ttl_generic(struct client *c, bool ms, bool absolute)
{
    struct dict_node *o = lookup_notouch(c->db, c->argv[1]);
    if (o == NULL) {
        reply_int(c, -2);
        return;
    }
    long long when = obj_expire(o);
    if (when == -1) {
        reply_int(c, -1);
        return;
    }
    long long ttl = absolute ? when : when - clock_ms();
    if (ttl < 0) ttl = 0;
    /* (ttl + 500) / 1000 without overflowing near LLONG_MAX. */
    reply_int(c, ms ? ttl : ttl / 1000 + (ttl % 1000 >= 500));
}

/* TTL key */
static void cmd_ttl(struct client *c)
{
    ttl_generic(c, false, false);
}

/* PTTL key */
static void cmd_pttl(struct client *c)
{
    ttl_generic(c, true, false);
}

/* EXPIRETIME key */
static void cmd_expiretime(struct client *c)
{
    ttl_generic(c, false, true);
}

/* PEXPIRETIME key */
static void cmd_pexpiretime(struct client *c)
{
    ttl_generic(c, true, true);
}

/* PERSIST key: removes the deadline; 1 if there was one. */
static void cmd_persist(struct client *c)
{
    struct db_ref ref;
    struct dict_node *o = db_find(c->db, c->argv[1], &ref);
    if (o == NULL || !obj_has_ttl(o)) {
        reply_int(c, 0);
        return;
    }
    db_set_expire(c->db, &ref, o, -1);
    db_touch(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "persist", c->argv[1], c->db->id);
    server.dirty++;
    reply_int(c, 1);
}

/* clang-format off */
struct command expire_commands[] = {
    {.name = "expire", .proc = cmd_expire, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Set a key's time to live in seconds",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "pexpire", .proc = cmd_pexpire, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Set a key's time to live in milliseconds",
     .since = "2.6.0", .complexity = "O(1)"},
    {.name = "expireat", .proc = cmd_expireat, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Set the expiration for a key as a UNIX timestamp",
     .since = "1.2.0", .complexity = "O(1)"},
    {.name = "pexpireat", .proc = cmd_pexpireat, .arity = -3, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
     .since = "2.6.0", .complexity = "O(1)"},
    {.name = "ttl", .proc = cmd_ttl, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Get the time to live for a key in seconds",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "pttl", .proc = cmd_pttl, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Get the time to live for a key in milliseconds",
     .since = "2.6.0", .complexity = "O(1)"},
    {.name = "expiretime", .proc = cmd_expiretime, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Get the expiration Unix timestamp for a key",
     .since = "7.0.0", .complexity = "O(1)"},
    {.name = "pexpiretime", .proc = cmd_pexpiretime, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Get the expiration Unix timestamp for a key in milliseconds",
     .since = "7.0.0", .complexity = "O(1)"},
    {.name = "persist", .proc = cmd_persist, .arity = 2, .flags = CMD_WRITE | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "generic",
     .summary = "Remove the expiration from a key",
     .since = "2.2.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
/* clang-format on */
