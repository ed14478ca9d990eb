/* t_string.c: string commands.
 *
 * Values live inside the keyspace entry (object.h): integers as int64, other
 * strings inline. GET copies the bytes once, from the entry into the reply
 * block. */
#include "ember/client.h"
#include "ember/command.h"
#include "ember/db.h"
#include "ember/object.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <limits.h>

/* Looks `key` up for reading; replies the null bulk if missing or
 * WRONGTYPE if not a string, returning NULL in both cases. */
static struct dict_node *lookup_string_or_reply(struct client *c, struct slice key,
                                                struct db_ref *ref, bool *missing)
{
    struct dict_node *o = db_find(c->db, key, ref);
    db_count_lookup(c->db, o != NULL);
    *missing = o == NULL;
    if (o == NULL) {
        reply_null(c);
        return NULL;
    }
    if (obj_type(o) != OBJ_STRING) {
        reply_wrongtype(c);
        return NULL;
    }
    return o;
}

static void reply_string_value(struct client *c, const struct dict_node *o)
{
    char buf[UTIL_LL_STR_SIZE];
    reply_bulk_slice(c, obj_string(o, buf));
}

/* GET key */
static void cmd_get(struct client *c)
{
    struct db_ref ref;
    bool missing;
    struct dict_node *o = lookup_string_or_reply(c, c->argv[1], &ref, &missing);
    if (o != NULL) reply_string_value(c, o);
}

/* ---- SET and its option parser (shared with GETEX later) ---- */

enum set_flag {
    SET_NX = 1 << 0,
    SET_XX = 1 << 1,
    SET_GET = 1 << 2,
    SET_KEEPTTL = 1 << 3,
    SET_EX = 1 << 4,
    SET_PX = 1 << 5,
    SET_EXAT = 1 << 6,
    SET_PXAT = 1 << 7,
};
#define SET_ANY_TTL (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* Redis's parseExtendedStringArgumentsOrReply for SET: options from argv[3]
 * on. Returns false after replying a syntax error. *expire_arg gets the
 * index of the TTL argument (0 if none). */
static bool parse_set_options(struct client *c, unsigned *flags, int *expire_arg)
{
    *flags = 0;
    *expire_arg = 0;
    for (int j = 3; j < c->argc; j++) {
        bool has_next = j + 1 < c->argc;
        if (arg_is(c, j, "nx") && !(*flags & SET_XX)) {
            *flags |= SET_NX;
        } else if (arg_is(c, j, "xx") && !(*flags & SET_NX)) {
            *flags |= SET_XX;
        } else if (arg_is(c, j, "get")) {
            *flags |= SET_GET;
        } else if (arg_is(c, j, "keepttl") && !(*flags & SET_ANY_TTL)) {
            *flags |= SET_KEEPTTL;
        } else if (arg_is(c, j, "ex") && !(*flags & (SET_KEEPTTL | (SET_ANY_TTL & ~SET_EX))) &&
                   has_next) {
            *flags |= SET_EX;
            *expire_arg = ++j;
        } else if (arg_is(c, j, "px") && !(*flags & (SET_KEEPTTL | (SET_ANY_TTL & ~SET_PX))) &&
                   has_next) {
            *flags |= SET_PX;
            *expire_arg = ++j;
        } else if (arg_is(c, j, "exat") && !(*flags & (SET_KEEPTTL | (SET_ANY_TTL & ~SET_EXAT))) &&
                   has_next) {
            *flags |= SET_EXAT;
            *expire_arg = ++j;
        } else if (arg_is(c, j, "pxat") && !(*flags & (SET_KEEPTTL | (SET_ANY_TTL & ~SET_PXAT))) &&
                   has_next) {
            *flags |= SET_PXAT;
            *expire_arg = ++j;
        } else {
            reply_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Redis's getExpireMillisecondsOrReply: the absolute deadline in ms. */
static bool expire_ms_or_reply(struct client *c, int i, bool seconds, bool relative,
                               long long *out)
{
    long long v;
    if (!arg_ll_or_reply(c, i, &v)) return false;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) goto invalid;
    if (seconds) v *= 1000;
    if (relative) {
        if (v > LLONG_MAX - clock_ms()) goto invalid;
        v += clock_ms();
    }
    *out = v;
    return true;
invalid:
    reply_error_fmt(c, "ERR invalid expire time in '%s' command", c->cmd->name);
    return false;
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
static void cmd_set(struct client *c)
{
    unsigned flags;
    int expire_arg;
    if (!parse_set_options(c, &flags, &expire_arg)) return;
    long long when = -1;
    if (expire_arg != 0 &&
        !expire_ms_or_reply(c, expire_arg, flags & (SET_EX | SET_EXAT), flags & (SET_EX | SET_PX),
                            &when)) {
        return;
    }

    struct db_ref ref;
    struct dict_node *old = db_find(c->db, c->argv[1], &ref);
    if (flags & SET_GET) {
        if (old == NULL) {
            reply_null(c);
        } else if (obj_type(old) != OBJ_STRING) {
            reply_wrongtype(c);
            return;
        } else {
            reply_string_value(c, old);
        }
    }
    if ((flags & SET_NX && old != NULL) || (flags & SET_XX && old == NULL)) {
        if (!(flags & SET_GET)) reply_null(c);
        return;
    }
    if (old != NULL && (flags & SET_KEEPTTL)) when = obj_expire(old);
    struct dict_node *o = obj_create_string(c->argv[1], c->argv[2], when);
    if (old == NULL) {
        db_insert(c->db, &ref, o);
    } else {
        obj_set_lru(o, obj_lru(old));
        db_replace(c->db, &ref, o);
        obj_destroy(old);
    }
    db_touch(c->db, c->argv[1]);
    server.dirty++;
    if (!(flags & SET_GET)) reply_ok(c);
}

/* clang-format off */
struct command string_commands[] = {
    {.name = "get", .proc = cmd_get, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string",
     .summary = "Get the value of a key", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "set", .proc = cmd_set, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM,
     .first_key = 1, .last_key = 1, .key_step = 1, .group = "string",
     .summary = "Set the string value of a key", .since = "1.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};
/* clang-format on */
