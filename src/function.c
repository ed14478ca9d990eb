/* function.c: Redis 7 functions: FUNCTION LOAD/DELETE/LIST/FLUSH/STATS/
 * KILL/DUMP/RESTORE, FCALL and FCALL_RO.
 *
 * A library is the code given to FUNCTION LOAD, starting with a shebang
 * ("#!lua name=mylib"). Loading runs the code once in the functions VM with
 * load-time globals (script_vm_load): its redis.register_function() calls
 * add functions to the library being loaded (`fn.loading`). Only when the
 * whole chunk ran, registered something, and no function name collides with
 * another library's is the library linked in; with REPLACE the old library
 * is set aside first and put back on failure, as Redis does.
 *
 * Function names are case-insensitive and library names case-sensitive,
 * as Redis's dicts for them are. FCALL looks the function up in a Lua table (lower-cased
 * name -> light userdata of its struct function) and calls the callback
 * kept in the Lua registry. */
#include "ember/script.h"

#include "ember/client.h"
#include "ember/command.h"
#include "ember/mem.h"
#include "ember/rdb.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>
#include <strings.h>

#define FUNCTION_LOAD_TIMEOUT_MS 500
#define FUNCTION_NAME_MAX        256

struct function {
    char *name;
    char *desc; /* or NULL */
    unsigned flags;
    int ref; /* the callback, in the Lua registry */
    struct library *lib;
    struct function *next;
};

struct library {
    char *name;
    char *code; /* the whole payload, shebang included */
    size_t code_len;
    struct function *funcs;
    int nfuncs;
    struct library *next;
};

static struct {
    struct script_vm *vm;
    int index_ref; /* lower-cased function name -> struct function */
    struct library *libs;
    struct library *loading; /* the library FUNCTION LOAD is running */
    long long nfuncs;
    long long nlibs;
    size_t code_bytes;
} fn;

static int register_function(lua_State *L);

static struct script_vm *functions_vm(void)
{
    if (fn.vm != NULL) return fn.vm;
    fn.vm = script_vm_create(SCRIPT_VM_FUNCTIONS, register_function);
    lua_State *L = script_vm_lua(fn.vm);
    lua_newtable(L);
    fn.index_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return fn.vm;
}

/* ---- Libraries ---- */

static void library_destroy(struct library *lib, bool unref)
{
    if (lib == NULL) return;
    struct function *f = lib->funcs;
    while (f != NULL) {
        struct function *next = f->next;
        if (unref && fn.vm != NULL) luaL_unref(script_vm_lua(fn.vm), LUA_REGISTRYINDEX, f->ref);
        em_free(f->name);
        em_free(f->desc);
        em_free(f);
        f = next;
    }
    em_free(lib->name);
    em_free(lib->code);
    em_free(lib);
}

static void free_all_libraries(bool unref)
{
    struct library *lib = fn.libs;
    while (lib != NULL) {
        struct library *next = lib->next;
        library_destroy(lib, unref);
        lib = next;
    }
    fn.libs = NULL;
    fn.nfuncs = 0;
    fn.nlibs = 0;
    fn.code_bytes = 0;
}

void function_teardown(void)
{
    free_all_libraries(false);
    script_vm_destroy(fn.vm);
    memset(&fn, 0, sizeof(fn));
}

size_t function_vm_memory(void)
{
    return script_vm_memory(fn.vm);
}

size_t function_memory(void)
{
    return fn.code_bytes;
}

long long function_count(void)
{
    return fn.nfuncs;
}

long long function_library_count(void)
{
    return fn.nlibs;
}

static struct library *library_find(const char *name, size_t len)
{
    for (struct library *lib = fn.libs; lib != NULL; lib = lib->next) {
        if (strlen(lib->name) == len && memcmp(lib->name, name, len) == 0) return lib;
    }
    return NULL;
}

/* Pushes the lower-cased name (the index key). */
static void push_index_key(lua_State *L, const char *name, size_t len)
{
    char buf[FUNCTION_NAME_MAX];
    if (len > sizeof(buf)) len = sizeof(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    lua_pushlstring(L, buf, len);
}

static struct function *function_find(const char *name, size_t len)
{
    if (fn.vm == NULL || len > FUNCTION_NAME_MAX) return NULL;
    lua_State *L = script_vm_lua(fn.vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn.index_ref);
    push_index_key(L, name, len);
    lua_rawget(L, -2);
    struct function *f = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return f;
}

/* Links a library and indexes its functions. */
static void library_link(struct library *lib)
{
    lua_State *L = script_vm_lua(fn.vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn.index_ref);
    for (struct function *f = lib->funcs; f != NULL; f = f->next) {
        push_index_key(L, f->name, strlen(f->name));
        lua_pushlightuserdata(L, f);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    lib->next = fn.libs;
    fn.libs = lib;
    fn.nlibs++;
    fn.nfuncs += lib->nfuncs;
    fn.code_bytes += lib->code_len;
}

static void library_unlink(struct library *lib)
{
    lua_State *L = script_vm_lua(fn.vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn.index_ref);
    for (struct function *f = lib->funcs; f != NULL; f = f->next) {
        push_index_key(L, f->name, strlen(f->name));
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    for (struct library **p = &fn.libs; *p != NULL; p = &(*p)->next) {
        if (*p == lib) {
            *p = lib->next;
            break;
        }
    }
    lib->next = NULL;
    fn.nlibs--;
    fn.nfuncs -= lib->nfuncs;
    fn.code_bytes -= lib->code_len;
}

/* Redis's functionsVerifyName: letters, digits and '_', at least one. */
static bool name_valid(const char *s, size_t len)
{
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_') return false;
    }
    return true;
}

/* Redis's functionExtractLibMetaData: the engine and name from the
 * shebang. Returns the name (em_malloc'd) or NULL with *err set. */
static char *parse_metadata(const char *code, size_t len, const char **err, char *errbuf,
                            size_t errlen)
{
    if (len < 2 || memcmp(code, "#!", 2) != 0) {
        *err = "ERR Missing library metadata";
        return NULL;
    }
    size_t nul = strnlen(code, len);
    const char *nl = memchr(code, '\n', nul);
    if (nl == NULL) {
        *err = "ERR Invalid library metadata";
        return NULL;
    }
    char **parts;
    size_t *lens;
    int n = split_args(code, (size_t)(nl - code), &parts, &lens);
    if (n <= 0) {
        if (n == 0) split_args_free(parts, lens, 0);
        *err = "ERR Invalid library metadata";
        return NULL;
    }
    char *name = NULL;
    *err = NULL;
    for (int i = 1; i < n && *err == NULL; i++) {
        if (strncasecmp(parts[i], "name=", 5) == 0) {
            if (name != NULL) {
                *err = "ERR Invalid metadata value, name argument was given multiple times";
                break;
            }
            name = em_strndup(parts[i] + 5, lens[i] - 5);
            continue;
        }
        snprintf(errbuf, errlen, "ERR Invalid metadata value given: %s", parts[i]);
        *err = errbuf;
    }
    if (*err == NULL && name == NULL) *err = "ERR Library name was not given";
    if (*err == NULL && !name_valid(name, strlen(name))) {
        *err = "ERR Library names can only contain letters, numbers, or underscores(_) and must "
               "be at least one character long";
    }
    if (*err == NULL && strcasecmp(parts[0] + 2, "lua") != 0) {
        snprintf(errbuf, errlen, "ERR Engine '%s' not found", parts[0] + 2);
        *err = errbuf;
    }
    split_args_free(parts, lens, n);
    if (*err != NULL) {
        em_free(name);
        return NULL;
    }
    return name;
}

/* Compiles and runs a library's code in the functions VM: the library it
 * registered, not linked yet (its functions may still collide with other
 * libraries'), or NULL with *err (em_malloc'd) set. */
static struct library *library_build(const char *code, size_t len, long long timeout_ms, char **err)
{
    char errbuf[512];
    const char *e;
    char *name = parse_metadata(code, len, &e, errbuf, sizeof(errbuf));
    if (name == NULL) {
        *err = em_strndup(e, strlen(e));
        return NULL;
    }
    struct script_vm *vm = functions_vm();
    lua_State *L = script_vm_lua(vm);
    struct library *lib = em_calloc(1, sizeof(*lib));
    lib->name = name;
    lib->code = em_strndup(code, len);
    lib->code_len = len;
    /* The code after the shebang line, its newline kept for line numbers. */
    size_t shebang_len = (size_t)((const char *)memchr(code, '\n', len) - code);
    if (!script_vm_compile(vm, code + shebang_len, len - shebang_len, "@user_function")) {
        snprintf(errbuf, sizeof(errbuf), "ERR Error compiling function: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        *err = em_strndup(errbuf, strlen(errbuf));
        library_destroy(lib, true);
        return NULL;
    }
    fn.loading = lib;
    char *load_err = NULL;
    bool loaded = script_vm_load(vm, timeout_ms, &load_err);
    fn.loading = NULL;
    if (!loaded) {
        size_t n = strlen(load_err) + 64;
        *err = em_malloc(n);
        snprintf(*err, n, "ERR Error registering functions: %s", load_err);
        em_free(load_err);
        library_destroy(lib, true);
        return NULL;
    }
    if (lib->nfuncs == 0) {
        *err = em_strndup("ERR No functions registered", 27);
        library_destroy(lib, true);
        return NULL;
    }
    return lib;
}

/* NULL if none of lib's functions exists already, else the error. */
static char *collision(const struct library *lib)
{
    for (const struct function *f = lib->funcs; f != NULL; f = f->next) {
        if (function_find(f->name, strlen(f->name)) != NULL) {
            char buf[FUNCTION_NAME_MAX + 64];
            snprintf(buf, sizeof(buf), "ERR Function %s already exists", f->name);
            return em_strndup(buf, strlen(buf));
        }
    }
    return NULL;
}

/* Redis's functionsCreateWithLibraryCtx (FUNCTION LOAD). Returns the new
 * library, linked, or NULL with *err (em_malloc'd) set. With `replace` an
 * existing library of that name is set aside first and put back on
 * failure. */
static struct library *library_create(const char *code, size_t len, bool replace,
                                      long long timeout_ms, char **err)
{
    char errbuf[512];
    const char *e;
    char *name = parse_metadata(code, len, &e, errbuf, sizeof(errbuf));
    if (name == NULL) {
        *err = em_strndup(e, strlen(e));
        return NULL;
    }
    functions_vm();
    struct library *old = library_find(name, strlen(name));
    if (old != NULL && !replace) {
        snprintf(errbuf, sizeof(errbuf), "ERR Library '%s' already exists", name);
        em_free(name);
        *err = em_strndup(errbuf, strlen(errbuf));
        return NULL;
    }
    em_free(name);
    if (old != NULL) library_unlink(old);
    struct library *lib = library_build(code, len, timeout_ms, err);
    if (lib != NULL && (*err = collision(lib)) != NULL) {
        library_destroy(lib, true);
        lib = NULL;
    }
    if (lib == NULL) {
        if (old != NULL) library_link(old);
        return NULL;
    }
    if (old != NULL) library_destroy(old, true);
    library_link(lib);
    return lib;
}

void function_each_library(void (*cb)(const char *code, size_t len, void *arg), void *arg)
{
    for (const struct library *lib = fn.libs; lib != NULL; lib = lib->next)
        cb(lib->code, lib->code_len, arg);
}

bool function_load_library(const char *code, size_t len, char **err)
{
    *err = NULL;
    return library_create(code, len, true, 0, err) != NULL;
}

/* ---- redis.register_function (load time only) ---- */

struct register_args {
    const char *name;
    size_t name_len;
    const char *desc;
    unsigned flags;
    int ref;
};

/* The flags table: an array of flag names. */
static bool read_flags(lua_State *L, unsigned *flags)
{
    unsigned f = 0;
    for (int j = 1;; j++) {
        lua_pushnumber(L, j);
        lua_gettable(L, -2);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        size_t len;
        const char *s = lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : NULL;
        unsigned one;
        bool known = s != NULL && script_flag_parse(s, len, true, &one);
        lua_pop(L, 1);
        if (!known) return false;
        f |= one;
    }
    *flags = f;
    return true;
}

/* redis.register_function{function_name=..., callback=..., flags=...,
 * description=...}. Returns NULL or the error text. */
static const char *read_named_args(lua_State *L, struct register_args *a)
{
    if (!lua_istable(L, 1)) {
        return "calling redis.register_function with a single argument is only applicable to "
               "Lua table (representing named arguments).";
    }
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (!lua_isstring(L, -2)) {
            return "named argument key given to redis.register_function is not a string";
        }
        const char *key = lua_tostring(L, -2);
        if (strcasecmp(key, "function_name") == 0) {
            if (!lua_isstring(L, -1)) {
                return "function_name argument given to redis.register_function must be a string";
            }
            a->name = lua_tolstring(L, -1, &a->name_len);
        } else if (strcasecmp(key, "description") == 0) {
            if (!lua_isstring(L, -1)) {
                return "description argument given to redis.register_function must be a string";
            }
            a->desc = lua_tostring(L, -1);
        } else if (strcasecmp(key, "callback") == 0) {
            if (!lua_isfunction(L, -1)) {
                return "callback argument given to redis.register_function must be a function";
            }
            if (a->ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, a->ref);
            a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
            continue; /* luaL_ref popped the value */
        } else if (strcasecmp(key, "flags") == 0) {
            if (!lua_istable(L, -1)) {
                return "flags argument to redis.register_function must be a table representing "
                       "function flags";
            }
            if (!read_flags(L, &a->flags)) return "unknown flag given";
        } else {
            return "unknown argument given to redis.register_function";
        }
        lua_pop(L, 1);
    }
    if (a->name == NULL) return "redis.register_function must get a function name argument";
    if (a->ref == LUA_NOREF) return "redis.register_function must get a callback argument";
    return NULL;
}

static const char *read_register_args(lua_State *L, struct register_args *a)
{
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
    if (argc == 1) return read_named_args(L, a);
    if (!lua_isstring(L, 1)) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2)) {
        return "second argument to redis.register_function must be a function";
    }
    a->name = lua_tolstring(L, 1, &a->name_len);
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return NULL;
}

/* Adds the function to the library being loaded (Redis's
 * functionLibCreateFunction). */
static const char *add_function(struct library *lib, const struct register_args *a)
{
    if (!name_valid(a->name, a->name_len)) {
        return "Library names can only contain letters, numbers, or underscores(_) and must be "
               "at least one character long";
    }
    for (struct function *f = lib->funcs; f != NULL; f = f->next) {
        if (strlen(f->name) == a->name_len && strncasecmp(f->name, a->name, a->name_len) == 0) {
            return "Function already exists in the library";
        }
    }
    struct function *f = em_calloc(1, sizeof(*f));
    f->name = em_strndup(a->name, a->name_len);
    f->desc = a->desc != NULL ? em_strndup(a->desc, strlen(a->desc)) : NULL;
    f->flags = a->flags;
    f->ref = a->ref;
    f->lib = lib;
    /* Appended, so FUNCTION LIST shows them in registration order. */
    struct function **tail = &lib->funcs;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = f;
    lib->nfuncs++;
    return NULL;
}

static int register_function(lua_State *L)
{
    if (fn.loading == NULL) {
        script_push_error(L, "redis.register_function can only be called on FUNCTION LOAD "
                             "command");
        return lua_error(L);
    }
    struct register_args a = {.ref = LUA_NOREF};
    const char *err = read_register_args(L, &a);
    if (err == NULL) err = add_function(fn.loading, &a);
    if (err != NULL) {
        if (a.ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, a.ref);
        script_push_error(L, err);
        return lua_error(L);
    }
    return 0;
}

/* ---- FCALL ---- */

static void fcall_generic(struct client *c, bool ro)
{
    struct function *f = function_find(c->argv[1].ptr, c->argv[1].len);
    if (f == NULL) {
        reply_error(c, "ERR Function not found");
        return;
    }
    long long numkeys;
    if (!str_to_ll(c->argv[2].ptr, c->argv[2].len, &numkeys)) {
        reply_error(c, "ERR Bad number of keys provided");
        return;
    }
    if (numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return;
    }
    lua_State *L = script_vm_lua(fn.vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->ref);
    struct script_call call = {
        .caller = c,
        .funcname = f->name,
        .flags = f->flags,
        .ro = ro,
        .eval = false,
        .keys = c->argv + 3,
        .nkeys = (int)numkeys,
        .args = c->argv + 3 + numkeys,
        .nargs = c->argc - 3 - (int)numkeys,
    };
    script_vm_call(fn.vm, &call);
}

/* FCALL function numkeys [key ...] [arg ...] */
static void cmd_fcall(struct client *c)
{
    fcall_generic(c, false);
}

static void cmd_fcall_ro(struct client *c)
{
    fcall_generic(c, true);
}

/* ---- FUNCTION ---- */

/* FUNCTION LOAD [REPLACE] code */
static void cmd_function_load(struct client *c)
{
    bool replace = false;
    int pos = 2;
    while (pos < c->argc - 1) {
        if (!arg_is(c, pos, "replace")) {
            reply_error_fmt(c, "ERR Unknown option given: %.*s", (int)c->argv[pos].len,
                            c->argv[pos].ptr);
            return;
        }
        replace = true;
        pos++;
    }
    char *err = NULL;
    struct library *lib =
        library_create(c->argv[pos].ptr, c->argv[pos].len, replace, FUNCTION_LOAD_TIMEOUT_MS, &err);
    if (lib == NULL) {
        reply_error(c, err);
        em_free(err);
        return;
    }
    server.dirty++;
    reply_bulk_cstr(c, lib->name);
}

/* FUNCTION DELETE library-name */
static void cmd_function_delete(struct client *c)
{
    struct library *lib = library_find(c->argv[2].ptr, c->argv[2].len);
    if (lib == NULL) {
        reply_error(c, "ERR Library not found");
        return;
    }
    library_unlink(lib);
    library_destroy(lib, true);
    server.dirty++;
    reply_ok(c);
}

/* FUNCTION FLUSH [ASYNC|SYNC] */
static void cmd_function_flush(struct client *c)
{
    if (c->argc > 3) {
        reply_error_fmt(c,
                        "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "FUNCTION HELP.",
                        (int)c->argv[1].len, c->argv[1].ptr);
        return;
    }
    if ((c->argc == 3 && !arg_is(c, 2, "sync") && !arg_is(c, 2, "async"))) {
        reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    function_teardown();
    server.dirty++;
    reply_ok(c);
}

static void reply_library(struct client *c, const struct library *lib, bool with_code)
{
    reply_map_len(c, with_code ? 4 : 3);
    reply_bulk_cstr(c, "library_name");
    reply_bulk_cstr(c, lib->name);
    reply_bulk_cstr(c, "engine");
    reply_bulk_cstr(c, "LUA");
    reply_bulk_cstr(c, "functions");
    reply_array_len(c, lib->nfuncs);
    for (const struct function *f = lib->funcs; f != NULL; f = f->next) {
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, f->name);
        reply_bulk_cstr(c, "description");
        if (f->desc != NULL) {
            reply_bulk_cstr(c, f->desc);
        } else {
            reply_null(c);
        }
        reply_bulk_cstr(c, "flags");
        script_flags_reply(c, f->flags);
    }
    if (with_code) {
        reply_bulk_cstr(c, "library_code");
        reply_bulk(c, lib->code, lib->code_len);
    }
}

/* FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
static void cmd_function_list(struct client *c)
{
    bool with_code = false;
    int pattern_at = 0; /* argv index of the LIBRARYNAME pattern, 0 if none */
    for (int i = 2; i < c->argc; i++) {
        if (!with_code && arg_is(c, i, "withcode")) {
            with_code = true;
            continue;
        }
        if (pattern_at == 0 && arg_is(c, i, "libraryname")) {
            if (i >= c->argc - 1) {
                reply_error(c, "ERR library name argument was not given");
                return;
            }
            pattern_at = ++i;
            continue;
        }
        reply_error_fmt(c, "ERR Unknown argument %.*s", (int)c->argv[i].len, c->argv[i].ptr);
        return;
    }
    void *h = reply_defer_len(c);
    long long n = 0;
    for (const struct library *lib = fn.libs; lib != NULL; lib = lib->next) {
        if (pattern_at != 0 && !glob_match(c->argv[pattern_at].ptr, c->argv[pattern_at].len,
                                           lib->name, strlen(lib->name), true)) {
            continue;
        }
        reply_library(c, lib, with_code);
        n++;
    }
    reply_set_array_len(c, h, n);
}

/* FUNCTION STATS */
static void cmd_function_stats(struct client *c)
{
    const char *name;
    const struct client *caller;
    long long ms;
    bool is_eval;
    bool running = script_running_info(&name, &caller, &ms, &is_eval);
    if (running && is_eval) {
        reply_error(c, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                       "SHUTDOWN NOSAVE.");
        return;
    }
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "running_script");
    if (!running) {
        reply_null(c);
    } else {
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, name);
        reply_bulk_cstr(c, "command");
        reply_array_len(c, caller->argc);
        for (int i = 0; i < caller->argc; i++)
            reply_bulk_slice(c, caller->argv[i]);
        reply_bulk_cstr(c, "duration_ms");
        reply_int(c, ms);
    }
    reply_bulk_cstr(c, "engines");
    reply_map_len(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_int(c, fn.nlibs);
    reply_bulk_cstr(c, "functions_count");
    reply_int(c, fn.nfuncs);
}

static void cmd_function_kill(struct client *c)
{
    script_kill(c, false);
}

/* ---- FUNCTION DUMP / RESTORE ----
 *
 * The payload is Redis's: per library the RDB opcode FUNCTION2 (245) and
 * its code as an RDB string, then the RDB version (2 bytes, little endian)
 * and the CRC64 of everything before (8 bytes, little endian). DUMP writes
 * the strings uncompressed (Redis LZF-compresses those it can shrink, so
 * the bytes can differ); RESTORE reads both forms. */

#define RDB_OPCODE_FUNCTION2       245
#define RDB_OPCODE_FUNCTION_PRE_GA 246

struct bytes {
    uint8_t *p;
    size_t len, cap;
};

static void bytes_put(struct bytes *b, const void *p, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->p = em_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, len);
    b->len += len;
}

/* RDB's length encoding: 6, 14, 32 or 64 bits. */
static void bytes_put_len(struct bytes *b, uint64_t len)
{
    uint8_t buf[9];
    size_t n;
    if (len < 64) {
        buf[0] = (uint8_t)len;
        n = 1;
    } else if (len < 16384) {
        buf[0] = (uint8_t)(0x40 | (len >> 8));
        buf[1] = (uint8_t)len;
        n = 2;
    } else if (len <= UINT32_MAX) {
        buf[0] = 0x80;
        for (int i = 0; i < 4; i++)
            buf[1 + i] = (uint8_t)(len >> (24 - 8 * i));
        n = 5;
    } else {
        buf[0] = 0x81;
        for (int i = 0; i < 8; i++)
            buf[1 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 9;
    }
    bytes_put(b, buf, n);
}

static void cmd_function_dump(struct client *c)
{
    struct bytes b = {0};
    for (const struct library *lib = fn.libs; lib != NULL; lib = lib->next) {
        uint8_t op = RDB_OPCODE_FUNCTION2;
        bytes_put(&b, &op, 1);
        bytes_put_len(&b, lib->code_len);
        bytes_put(&b, lib->code, lib->code_len);
    }
    uint8_t version[2] = {RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff};
    bytes_put(&b, version, 2);
    uint64_t crc = rdb_crc64(0, b.p, b.len);
    uint8_t crcbuf[8];
    for (int i = 0; i < 8; i++)
        crcbuf[i] = (uint8_t)(crc >> (8 * i));
    bytes_put(&b, crcbuf, 8);
    reply_bulk(c, (const char *)b.p, b.len);
    em_free(b.p);
}

struct reader {
    const uint8_t *p, *end;
};

/* An RDB length; *special is set for the encoded-string forms (11xxxxxx). */
static bool read_len(struct reader *r, uint64_t *len, bool *special)
{
    if (r->p >= r->end) return false;
    uint8_t b = *r->p++;
    *special = false;
    switch (b >> 6) {
    case 0:
        *len = b & 0x3F;
        return true;
    case 1:
        if (r->p >= r->end) return false;
        *len = ((uint64_t)(b & 0x3F) << 8) | *r->p++;
        return true;
    case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (n == 0 || r->end - r->p < n) return false;
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
            v = (v << 8) | *r->p++;
        *len = v;
        return true;
    }
    default:
        *special = true;
        *len = b & 0x3F;
        return true;
    }
}

/* LZF decompression (liblzf's lzf_decompress): false on corrupt input. */
static bool lzf_expand(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
    const uint8_t *ip = in, *in_end = in + inlen;
    uint8_t *op = out, *out_end = out + outlen;
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) { /* a literal run of ctrl + 1 bytes */
            ctrl++;
            if ((size_t)(out_end - op) < ctrl || (size_t)(in_end - ip) < ctrl) return false;
            memcpy(op, ip, ctrl);
            op += ctrl;
            ip += ctrl;
            continue;
        }
        size_t len = ctrl >> 5; /* a back reference */
        if (len == 7) {
            if (ip >= in_end) return false;
            len += *ip++;
        }
        if (ip >= in_end) return false;
        size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
        len += 2;
        if ((size_t)(op - out) < back || (size_t)(out_end - op) < len) return false;
        const uint8_t *ref = op - back;
        for (size_t i = 0; i < len; i++)
            *op++ = *ref++;
    }
    return op == out_end;
}

/* An RDB string (raw, integer-encoded or LZF), em_malloc'd; NULL if bad. */
static char *read_string(struct reader *r, size_t *out_len)
{
    uint64_t len;
    bool special;
    if (!read_len(r, &len, &special)) return NULL;
    if (!special) {
        if ((uint64_t)(r->end - r->p) < len) return NULL;
        char *s = em_strndup((const char *)r->p, (size_t)len);
        r->p += len;
        *out_len = (size_t)len;
        return s;
    }
    if (len <= 2) { /* INT8, INT16, INT32, little endian */
        int n = 1 << len;
        if (r->end - r->p < n) return NULL;
        int64_t v = 0;
        for (int i = 0; i < n; i++)
            v |= (int64_t)r->p[i] << (8 * i);
        if (v & ((int64_t)1 << (8 * n - 1))) v -= (int64_t)1 << (8 * n); /* sign */
        r->p += n;
        char buf[UTIL_LL_STR_SIZE];
        *out_len = (size_t)ll_to_str(buf, sizeof(buf), (long long)v);
        return em_strndup(buf, *out_len);
    }
    uint64_t clen, ulen;
    if (len != 3 || !read_len(r, &clen, &special) || special || !read_len(r, &ulen, &special) ||
        special || (uint64_t)(r->end - r->p) < clen || ulen > (1ULL << 32)) {
        return NULL;
    }
    char *s = em_malloc((size_t)ulen + 1);
    if (!lzf_expand(r->p, (size_t)clen, (uint8_t *)s, (size_t)ulen)) {
        em_free(s);
        return NULL;
    }
    s[ulen] = '\0';
    r->p += clen;
    *out_len = (size_t)ulen;
    return s;
}

/* The format of 7.0's release candidates (opcode 246): name, engine, an
 * optional description, then the code without its shebang, which is put
 * back ("#!<engine> name=<name>\n"). */
static char *read_pre_ga(struct reader *r, size_t *code_len, const char **msg)
{
    size_t name_len, engine_len, desc_len, body_len;
    char *name = read_string(r, &name_len);
    char *engine = name != NULL ? read_string(r, &engine_len) : NULL;
    char *code = NULL;
    uint64_t has_desc = 0;
    bool special;
    if (name == NULL) {
        *msg = "ERR Failed loading library name";
    } else if (engine == NULL) {
        *msg = "ERR Failed loading engine name";
    } else if (!read_len(r, &has_desc, &special) || special) {
        *msg = "ERR Failed loading library description indicator";
    } else {
        char *desc = has_desc ? read_string(r, &desc_len) : NULL;
        char *body = has_desc && desc == NULL ? NULL : read_string(r, &body_len);
        if (has_desc && desc == NULL) {
            *msg = "ERR Failed loading library description";
        } else if (body == NULL) {
            *msg = "ERR Failed loading library blob";
        } else {
            size_t n = engine_len + name_len + body_len + 16;
            code = em_malloc(n);
            int head = snprintf(code, n, "#!%s name=%s\n", engine, name);
            memcpy(code + head, body, body_len);
            *code_len = (size_t)head + body_len;
        }
        em_free(desc);
        em_free(body);
    }
    em_free(name);
    em_free(engine);
    return code;
}

static void free_library_list(struct library *list)
{
    while (list != NULL) {
        struct library *next = list->next;
        library_destroy(list, true);
        list = next;
    }
}

/* Redis's verifyDumpPayload then the loop of functionRestoreCommand: the
 * payload's libraries, built but not linked (NULL-terminated list), or NULL
 * with *err set. */
static struct library *restore_parse(struct slice data, char **err)
{
    const uint8_t *p = (const uint8_t *)data.ptr;
    size_t len = data.len;
    uint64_t stored = 0;
    if (len >= 10) {
        for (int i = 0; i < 8; i++)
            stored |= (uint64_t)p[len - 8 + i] << (8 * i);
    }
    if (len < 10 || (p[len - 10] | (p[len - 9] << 8)) > RDB_VERSION ||
        stored != rdb_crc64(0, p, len - 8)) {
        *err = em_strndup("ERR DUMP payload version or checksum are wrong", 46);
        return NULL;
    }
    /* As Redis's rio over the whole payload, reads may run into the
     * footer; a new library starts only while more than it remains. */
    struct reader r = {p, p + len};
    struct library *list = NULL;
    while (r.end - r.p > 10) {
        uint8_t type = *r.p++;
        size_t code_len = 0;
        const char *msg = NULL;
        char *code = NULL;
        if (type == RDB_OPCODE_FUNCTION_PRE_GA) {
            code = read_pre_ga(&r, &code_len, &msg);
        } else if (type == RDB_OPCODE_FUNCTION2) {
            code = read_string(&r, &code_len);
            if (code == NULL) msg = "ERR Failed loading library payload";
        } else {
            msg = "ERR given type is not a function";
        }
        if (msg != NULL) {
            *err = em_strndup(msg, strlen(msg));
            free_library_list(list);
            return NULL;
        }
        struct library *lib = library_build(code, code_len, 0, err);
        em_free(code);
        if (lib == NULL) {
            free_library_list(list);
            return NULL;
        }
        /* Collisions inside the payload itself, as Redis's fresh context
         * would see them. */
        char buf[FUNCTION_NAME_MAX + 64];
        for (struct library *o = list; o != NULL && *err == NULL; o = o->next) {
            if (strcmp(o->name, lib->name) == 0) {
                snprintf(buf, sizeof(buf), "ERR Library '%s' already exists", lib->name);
                *err = em_strndup(buf, strlen(buf));
            }
            for (struct function *f = lib->funcs; f != NULL && *err == NULL; f = f->next) {
                for (struct function *g = o->funcs; g != NULL && *err == NULL; g = g->next) {
                    if (strcasecmp(f->name, g->name) == 0) {
                        snprintf(buf, sizeof(buf), "ERR Function %s already exists", f->name);
                        *err = em_strndup(buf, strlen(buf));
                    }
                }
            }
        }
        lib->next = list;
        list = lib;
        if (*err != NULL) {
            free_library_list(list);
            return NULL;
        }
    }
    return list;
}

/* Redis's libraryJoin: links `list` into the current libraries; with
 * `replace`, same-named libraries are replaced (and restored on failure). */
static char *restore_join(struct library *list, bool replace)
{
    struct library *old = NULL;
    char buf[FUNCTION_NAME_MAX + 64];
    char *err = NULL;
    for (struct library *lib = list; lib != NULL && err == NULL; lib = lib->next) {
        struct library *same = library_find(lib->name, strlen(lib->name));
        if (same == NULL) continue;
        if (!replace) {
            snprintf(buf, sizeof(buf), "ERR Library %s already exists", lib->name);
            err = em_strndup(buf, strlen(buf));
            break;
        }
        library_unlink(same);
        same->next = old;
        old = same;
    }
    for (struct library *lib = list; lib != NULL && err == NULL; lib = lib->next)
        err = collision(lib);
    if (err != NULL) {
        while (old != NULL) {
            struct library *next = old->next;
            library_link(old);
            old = next;
        }
        return err;
    }
    free_library_list(old);
    while (list != NULL) {
        struct library *next = list->next;
        library_link(list);
        list = next;
    }
    return NULL;
}

/* FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] */
static void cmd_function_restore(struct client *c)
{
    if (c->argc > 4) {
        reply_error_fmt(c,
                        "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "FUNCTION HELP.",
                        (int)c->argv[1].len, c->argv[1].ptr);
        return;
    }
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    if (c->argc == 4) {
        if (arg_is(c, 3, "append")) {
            policy = APPEND;
        } else if (arg_is(c, 3, "replace")) {
            policy = REPLACE;
        } else if (arg_is(c, 3, "flush")) {
            policy = FLUSH;
        } else {
            reply_error(c, "ERR Wrong restore policy given, value should be either FLUSH, "
                           "APPEND or REPLACE.");
            return;
        }
    }
    char *err = NULL;
    struct library *list = restore_parse(c->argv[2], &err);
    if (err == NULL && policy == FLUSH) {
        while (fn.libs != NULL) {
            struct library *lib = fn.libs;
            library_unlink(lib);
            library_destroy(lib, true);
        }
    }
    if (err == NULL) {
        err = restore_join(list, policy == REPLACE);
        if (err != NULL) free_library_list(list);
    }
    if (err != NULL) {
        reply_error(c, err);
        em_free(err);
        return;
    }
    server.dirty++;
    reply_ok(c);
}

static void cmd_function_help(struct client *c)
{
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME "
        "argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored "
        "using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a "
        "restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
        "abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
        "replace the old",
        "      libraries with the new libraries (notice that even on this option there is a "
        "chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    reply_array_len(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        reply_status(c, lines[i]);
}

/* clang-format off */
static struct command function_subcommands[] = {
    {.name = "load", .proc = cmd_function_load, .arity = -3,
     .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, .group = "scripting",
     .summary = "Create a function with the given arguments (name, code, description)",
     .since = "7.0.0", .complexity = "O(1) (considering compilation time is redundant)"},
    {.name = "delete", .proc = cmd_function_delete, .arity = 3,
     .flags = CMD_WRITE | CMD_NOSCRIPT, .group = "scripting",
     .summary = "Delete a function by name", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "list", .proc = cmd_function_list, .arity = -2, .flags = CMD_NOSCRIPT,
     .group = "scripting", .summary = "List information about all the functions",
     .since = "7.0.0", .complexity = "O(N) where N is the number of functions"},
    {.name = "stats", .proc = cmd_function_stats, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .group = "scripting",
     .summary = "Return information about the function currently running (name, description, "
                "duration)", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "kill", .proc = cmd_function_kill, .arity = 2,
     .flags = CMD_NOSCRIPT | CMD_ALLOW_BUSY, .group = "scripting",
     .summary = "Kill the function currently in execution.", .since = "7.0.0",
     .complexity = "O(1)"},
    {.name = "flush", .proc = cmd_function_flush, .arity = -2,
     .flags = CMD_WRITE | CMD_NOSCRIPT, .group = "scripting",
     .summary = "Deleting all functions", .since = "7.0.0",
     .complexity = "O(N) where N is the number of functions deleted"},
    {.name = "dump", .proc = cmd_function_dump, .arity = 2, .flags = CMD_NOSCRIPT,
     .group = "scripting", .summary = "Dump all functions into a serialized binary payload",
     .since = "7.0.0", .complexity = "O(N) where N is the number of functions"},
    {.name = "restore", .proc = cmd_function_restore, .arity = -3,
     .flags = CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT, .group = "scripting",
     .summary = "Restore all the functions on the given payload", .since = "7.0.0",
     .complexity = "O(N) where N is the number of functions on the payload"},
    {.name = "help", .proc = cmd_function_help, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .group = "scripting", .summary = "Show helpful text about the different subcommands",
     .since = "7.0.0", .complexity = "O(1)"},
    COMMAND_TABLE_END,
};

struct command function_commands[] = {
    {.name = "fcall", .proc = cmd_fcall, .arity = -3,
     .flags = CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Invoke a function", .since = "7.0.0",
     .complexity = "Depends on the function that is executed."},
    {.name = "fcall_ro", .proc = cmd_fcall_ro, .arity = -3,
     .flags = CMD_READONLY | CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_NO_MANDATORY_KEYS,
     .group = "scripting",
     .summary = "Invoke a read-only function", .since = "7.0.0",
     .complexity = "Depends on the function that is executed."},
    {.name = "function", .proc = NULL, .arity = -2, .flags = 0, .group = "scripting",
     .summary = "A container for function commands", .since = "7.0.0",
     .complexity = "Depends on subcommand.", .subcommands = function_subcommands},
    COMMAND_TABLE_END,
};
/* clang-format on */
