/* script.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.
 *
 * The script cache lives inside the EVAL VM (script_lua.c): a registry
 * table maps each script's SHA1 (40 lower-case hex digits) to its compiled
 * function, and a second one to the flags of scripts that declared them in
 * a shebang ("#!lua flags=no-writes"); a script without one runs in Redis
 * 6's compatibility mode. EVALSHA therefore costs a table lookup, then the
 * call. The VM is created on first use and SCRIPT FLUSH simply destroys it,
 * as Redis's scriptingReset does. */
#include "ember/script.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/mem.h"
#include "ember/reply.h"

#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include <strings.h>

static struct {
    struct script_vm *vm;
    int funcs_ref; /* sha -> function */
    int flags_ref; /* sha -> flags, for scripts with a shebang */
    long long count;
    size_t body_bytes;
} eval;

static struct script_vm *eval_vm(void)
{
    if (eval.vm != NULL) return eval.vm;
    eval.vm = script_vm_create(SCRIPT_VM_EVAL, NULL);
    lua_State *L = script_vm_lua(eval.vm);
    lua_newtable(L);
    eval.funcs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    eval.flags_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return eval.vm;
}

void script_teardown(void)
{
    script_vm_destroy(eval.vm);
    memset(&eval, 0, sizeof(eval));
}

size_t script_eval_memory(void)
{
    return script_vm_memory(eval.vm);
}

size_t script_cache_memory(void)
{
    return eval.body_bytes;
}

long long script_cache_count(void)
{
    return eval.count;
}

/* ---- Shebang ---- */

/* Redis's evalExtractShebangFlags: "#!lua [flags=a,b]" on the first line.
 * Sets *flags (SCRIPT_FLAG_EVAL_COMPAT without a shebang) and *shebang_len;
 * false with the error replied. */
static bool shebang_flags_or_reply(struct client *c, struct slice body, unsigned *flags,
                                   size_t *shebang_len)
{
    *flags = SCRIPT_FLAG_EVAL_COMPAT;
    *shebang_len = 0;
    if (body.len < 2 || memcmp(body.ptr, "#!", 2) != 0) return true;
    /* Redis looks for the newline with strchr: a NUL ends the search. */
    size_t nul = strnlen(body.ptr, body.len);
    const char *nl = memchr(body.ptr, '\n', nul);
    if (nl == NULL) {
        reply_error(c, "ERR Invalid script shebang");
        return false;
    }
    char **parts;
    size_t *lens;
    int n = split_args(body.ptr, (size_t)(nl - body.ptr), &parts, &lens);
    if (n <= 0) {
        if (n == 0) split_args_free(parts, lens, 0);
        reply_error(c, "ERR Invalid engine in script shebang");
        return false;
    }
    bool ok = true;
    if (strcmp(parts[0], "#!lua") != 0) {
        reply_error_fmt(c, "ERR Unexpected engine in script shebang: %s", parts[0]);
        ok = false;
    }
    unsigned f = 0;
    for (int j = 1; ok && j < n; j++) {
        if (strncmp(parts[j], "flags=", 6) != 0) {
            reply_error_fmt(c, "ERR Unknown lua shebang option: %s", parts[j]);
            ok = false;
            break;
        }
        const char *p = parts[j] + 6;
        const char *end = parts[j] + lens[j];
        while (ok && p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma != NULL ? comma : end;
            unsigned one;
            if (!script_flag_parse(p, (size_t)(stop - p), false, &one)) {
                reply_error_fmt(c, "ERR Unexpected flag in script shebang: %.*s", (int)(stop - p),
                                p);
                ok = false;
                break;
            }
            f |= one;
            p = comma != NULL ? comma + 1 : end;
            /* sdssplitlen: a trailing separator leaves an empty last part */
            if (comma != NULL && p == end) {
                reply_error(c, "ERR Unexpected flag in script shebang: ");
                ok = false;
            }
        }
    }
    split_args_free(parts, lens, n);
    if (!ok) return false;
    *flags = f;
    *shebang_len = (size_t)(nl - body.ptr);
    return true;
}

/* ---- The cache ---- */

/* Pushes the cached function for `sha` (40 lower-case digits) and sets
 * *flags; pushes nothing and returns false if it is not cached. */
static bool cache_lookup(lua_State *L, const char *sha, unsigned *flags)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, eval.funcs_ref);
    lua_pushlstring(L, sha, 40);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 2);
        return false;
    }
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, eval.flags_ref);
    lua_pushlstring(L, sha, 40);
    lua_rawget(L, -2);
    *flags = lua_isnil(L, -1) ? SCRIPT_FLAG_EVAL_COMPAT : (unsigned)lua_tonumber(L, -1);
    lua_pop(L, 2);
    return true;
}

/* Redis's luaCreateFunction: compiles and caches `body` under `sha`,
 * leaving the function pushed. False with the error replied. */
static bool cache_add_or_reply(struct client *c, struct slice body, const char *sha,
                               unsigned *flags)
{
    struct script_vm *vm = eval_vm();
    lua_State *L = script_vm_lua(vm);
    if (cache_lookup(L, sha, flags)) return true;
    size_t shebang_len;
    if (!shebang_flags_or_reply(c, body, flags, &shebang_len)) return false;
    /* The shebang line is skipped but its newline kept, so line numbers in
     * errors are the user's. */
    if (!script_vm_compile(vm, body.ptr + shebang_len, body.len - shebang_len, "@user_script")) {
        reply_error_fmt(c, "ERR Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, eval.funcs_ref);
    lua_pushlstring(L, sha, 40);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if (!(*flags & SCRIPT_FLAG_EVAL_COMPAT)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, eval.flags_ref);
        lua_pushlstring(L, sha, 40);
        lua_pushnumber(L, *flags);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    eval.count++;
    eval.body_bytes += body.len + 40;
    return true;
}

/* A 40-byte SHA in lower case; false if the argument is not 40 bytes. */
static bool sha_arg(struct slice s, char out[41])
{
    if (s.len != 40) return false;
    for (int i = 0; i < 40; i++) {
        char ch = s.ptr[i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    out[40] = '\0';
    return true;
}

/* ---- EVAL and friends ---- */

/* Redis's evalGenericCommand. */
static void eval_generic(struct client *c, bool evalsha, bool ro)
{
    char sha[41];
    if (evalsha && !sha_arg(c->argv[1], sha)) {
        reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    long long numkeys;
    if (!arg_ll_or_reply(c, 2, &numkeys)) return;
    if (numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return;
    }
    unsigned flags;
    if (evalsha) {
        if (eval.vm == NULL || !cache_lookup(script_vm_lua(eval.vm), sha, &flags)) {
            reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        script_sha1hex(sha, c->argv[1].ptr, c->argv[1].len);
        if (!cache_add_or_reply(c, c->argv[1], sha, &flags)) return;
    }
    struct script_call call = {
        .caller = c,
        .funcname = sha,
        .flags = flags,
        .ro = ro,
        .eval = true,
        .keys = c->argv + 3,
        .nkeys = (int)numkeys,
        .args = c->argv + 3 + numkeys,
        .nargs = c->argc - 3 - (int)numkeys,
    };
    script_vm_call(eval.vm, &call);
}

/* EVAL script numkeys [key ...] [arg ...] */
static void cmd_eval(struct client *c)
{
    eval_generic(c, false, false);
}

static void cmd_evalsha(struct client *c)
{
    eval_generic(c, true, false);
}

static void cmd_eval_ro(struct client *c)
{
    eval_generic(c, false, true);
}

static void cmd_evalsha_ro(struct client *c)
{
    eval_generic(c, true, true);
}

/* ---- SCRIPT ---- */

static void cmd_script_help(struct client *c)
{
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

/* SCRIPT FLUSH [ASYNC|SYNC]: both free at once (the cache is one VM). */
static void cmd_script_flush(struct client *c)
{
    if (c->argc > 3 || (c->argc == 3 && !arg_is(c, 2, "sync") && !arg_is(c, 2, "async"))) {
        reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    script_teardown();
    reply_ok(c);
}

/* SCRIPT EXISTS sha1 [sha1 ...] */
static void cmd_script_exists(struct client *c)
{
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        char sha[41];
        unsigned flags;
        bool found = eval.vm != NULL && sha_arg(c->argv[j], sha) &&
                     cache_lookup(script_vm_lua(eval.vm), sha, &flags);
        if (found) lua_pop(script_vm_lua(eval.vm), 1);
        reply_int(c, found ? 1 : 0);
    }
}

/* SCRIPT LOAD script */
static void cmd_script_load(struct client *c)
{
    char sha[41];
    unsigned flags;
    script_sha1hex(sha, c->argv[2].ptr, c->argv[2].len);
    if (!cache_add_or_reply(c, c->argv[2], sha, &flags)) return;
    lua_pop(script_vm_lua(eval.vm), 1);
    reply_bulk(c, sha, 40);
}

static void cmd_script_kill(struct client *c)
{
    script_kill(c, true);
}

/* SCRIPT DEBUG: the Lua debugger (LDB) is not implemented; NO is accepted. */
static void cmd_script_debug(struct client *c)
{
    if (arg_is(c, 2, "no")) {
        reply_ok(c);
    } else if (arg_is(c, 2, "yes") || arg_is(c, 2, "sync")) {
        reply_error(c, "ERR SCRIPT DEBUG is not supported by this server");
    } else {
        reply_error(c, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
}

/* clang-format off */
static struct command script_subcommands[] = {
    {.name = "help", .proc = cmd_script_help, .arity = 2,
     .flags = CMD_LOADING | CMD_STALE, .group = "scripting",
     .summary = "Show helpful text about the different subcommands", .since = "5.0.0",
     .complexity = "O(1)"},
    {.name = "flush", .proc = cmd_script_flush, .arity = -2, .flags = CMD_NOSCRIPT,
     .group = "scripting", .summary = "Remove all the scripts from the script cache.",
     .since = "2.6.0", .complexity = "O(N) with N being the number of scripts in cache"},
    {.name = "exists", .proc = cmd_script_exists, .arity = -3, .flags = CMD_NOSCRIPT,
     .group = "scripting", .summary = "Check existence of scripts in the script cache.",
     .since = "2.6.0",
     .complexity = "O(N) with N being the number of scripts to check (so checking a single "
                   "script is an O(1) operation)."},
    {.name = "load", .proc = cmd_script_load, .arity = 3, .flags = CMD_NOSCRIPT | CMD_STALE,
     .group = "scripting", .summary = "Load the specified Lua script into the script cache.",
     .since = "2.6.0", .complexity = "O(N) with N being the length in bytes of the script body."},
    {.name = "kill", .proc = cmd_script_kill, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .group = "scripting",
     .summary = "Kill the script currently in execution.", .since = "2.6.0",
     .complexity = "O(1)"},
    {.name = "debug", .proc = cmd_script_debug, .arity = 3, .flags = CMD_NOSCRIPT,
     .group = "scripting", .summary = "Set the debug mode for executed scripts.",
     .since = "3.2.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

/* EVAL's keys are the numkeys arguments after the script (movable keys;
 * Redis reports 0 0 0 and a key spec). */
struct command script_commands[] = {
    {.name = "eval", .proc = cmd_eval, .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Execute a Lua script server side", .since = "2.6.0",
     .complexity = "Depends on the script that is executed."},
    {.name = "evalsha", .proc = cmd_evalsha, .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Execute a Lua script server side", .since = "2.6.0",
     .complexity = "Depends on the script that is executed."},
    {.name = "eval_ro", .proc = cmd_eval_ro, .arity = -3,
     .flags = CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Execute a read-only Lua script server side", .since = "7.0.0",
     .complexity = "Depends on the script that is executed."},
    {.name = "evalsha_ro", .proc = cmd_evalsha_ro, .arity = -3,
     .flags = CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Execute a read-only Lua script server side", .since = "7.0.0",
     .complexity = "Depends on the script that is executed."},
    {.name = "script", .proc = NULL, .arity = -2, .flags = 0, .group = "scripting",
     .summary = "A container for Lua scripts management commands", .since = "2.6.0",
     .complexity = "Depends on subcommand.", .subcommands = script_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
