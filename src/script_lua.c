/* script_lua.c: the Lua runtime behind EVAL and FCALL (see script.h).
 *
 * The sandbox. Redis 7.0.15 runs a patched Lua whose tables can be made
 * read-only; Debian's liblua5.1 cannot, so the same effect is built from
 * proxies. The thread's global table (LUA_GLOBALSINDEX, what every chunk and
 * loadstring() sees) is an empty proxy whose metatable sends reads to the
 * real globals table and refuses writes. Every library table (string, math,
 * redis, ...) is replaced by such a proxy as well, and the handful of
 * functions that bypass metamethods (rawset, rawget, next, pairs, ipairs,
 * getmetatable, setmetatable, table.insert/remove/sort) are wrapped so that
 * they see through the proxies or refuse to modify them, with Redis's error
 * texts:
 *
 *     script ----> proxy _G --__index--> real globals --__index--> error fn
 *                       |                  redis = proxy --> real redis table
 *                       +--__newindex: "Attempt to modify a readonly table"
 *
 * Chunks are always parsed as text (a leading ESC is never taken as
 * bytecode), as in Redis, whose Lua cannot load bytecode.
 *
 * One invocation at a time (`current`, Redis's curr_run_ctx): it selects
 * the caller's db on the VM's own client, runs the function under an error
 * handler that records where an error happened, and a count hook that
 * checks the clock every 100,000 instructions. Past busy-reply-threshold it
 * enters the busy state: other clients are served -BUSY by
 * net_poll_while_busy(), and SCRIPT KILL / FUNCTION KILL mark the run to
 * stop at the next hook.
 *
 * redis.call() builds argv from the Lua stack (strings borrowed in place,
 * numbers formatted "%.17g"), applies Redis's script checks, runs the
 * command on the VM's client with command_call() and parses the bytes it
 * queued back into Lua values. */
#include "ember/script.h"

#include "ember/acl.h"
#include "ember/client.h"
#include "ember/command.h"
#include "ember/evict.h"
#include "ember/log.h"
#include "ember/mem.h"
#include "ember/net.h"
#include "ember/reply.h"
#include "ember/server.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Invariants stay checked in release builds (no shared header has
 * STYLE.md's em_assert yet). */
#define script_assert(cond)                                                                        \
    do {                                                                                           \
        if (!(cond)) assert_failed(#cond, __LINE__);                                               \
    } while (0)

static void assert_failed(const char *what, int line)
{
    log_warn("script_lua.c:%d: assertion failed: %s", line, what);
    abort();
}

/* lua-cjson and lua-bitop (Debian's libraries). */
int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);

#define SCRIPT_REDIS_VERSION     "7.0.15"
#define SCRIPT_REDIS_VERSION_NUM 0x0007000f
#define SCRIPT_HOOK_COUNT        100000
#define SCRIPT_GC_PERIOD         50
#define SCRIPT_ARGV_STACK        16

struct script_vm {
    lua_State *L;
    struct client *fake; /* runs redis.call(); never connected */
    enum script_vm_kind kind;
    size_t mem;
    int gc_count;
    int globals_ref;  /* the real globals table */
    int proxy_mt_ref; /* the proxy _G's metatable (its __index switches for loading) */
    int load_env_ref; /* functions VM: what library code sees while loading */
    int errh_ref;     /* the error handler */
};

enum run_flag {
    RUN_READ_ONLY = 1 << 0,
    RUN_ALLOW_OOM = 1 << 1,
    RUN_WRITE_DIRTY = 1 << 2,
    RUN_TIMEDOUT = 1 << 3,
    RUN_KILLED = 1 << 4,
    RUN_OOM_AT_START = 1 << 5,
    RUN_LOADING = 1 << 6, /* FUNCTION LOAD running library code */
};

/* The one invocation in progress (Redis's curr_run_ctx). */
struct script_run {
    struct script_vm *vm;
    struct client *caller;
    const char *funcname;
    unsigned flags;
    bool eval;
    long long start_us;
    long long timeout_ms; /* loading: give up after this long */
};

static struct script_run *current;
/* total_error_replies when the last EVAL/FCALL started (INFO commandstats). */
static long long current_errors_at_start;
static int call_depth; /* redis.call() re-entered from a hook: refused */

/* Registry keys: addresses of these bytes. */
static char key_proxies;   /* proxy -> real table */
static char key_visible;   /* real metatable -> what getmetatable() shows (false: nil) */
static char key_redis_api; /* the runtime redis table (functions VM) */

/* ---- Small helpers ---- */

/* The error reply as a Lua table, Redis's luaPushErrorBuff: "-CODE msg"
 * keeps its code, anything else gets "ERR"; CR/LF trimmed from both ends of
 * the message. */
static void push_error_table(lua_State *L, const char *s, size_t len)
{
    const char *code = "ERR";
    size_t code_len = 3;
    if (len > 0 && s[0] == '-') {
        const char *sp = memchr(s, ' ', len);
        if (sp != NULL) {
            code = s + 1;
            code_len = (size_t)(sp - s - 1);
            len -= (size_t)(sp + 1 - s);
            s = sp + 1;
        } else {
            s++;
            len--;
        }
    }
    while (len > 0 && (s[0] == '\r' || s[0] == '\n')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    lua_newtable(L);
    lua_pushliteral(L, "err");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, code_len);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, s, len);
    luaL_pushresult(&b);
    lua_rawset(L, -3);
}

static void push_error(lua_State *L, const char *msg)
{
    push_error_table(L, msg, strlen(msg));
}

/* Raises the error table on the top of the stack. */
static int raise_error(lua_State *L)
{
    return lua_error(L);
}

/* SHA1 (FIPS 180-1), for script digests and redis.sha1hex(). */
struct sha1 {
    uint32_t h[5];
    uint64_t len;
    uint8_t buf[64];
    size_t used;
};

static uint32_t rol32(uint32_t v, int n)
{
    return (v << n) | (v >> (32 - n));
}

static void sha1_block(struct sha1 *s, const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    }
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_update(struct sha1 *s, const uint8_t *p, size_t len)
{
    s->len += len;
    while (len > 0) {
        size_t n = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->buf + s->used, p, n);
        s->used += n;
        p += n;
        len -= n;
        if (s->used == 64) {
            sha1_block(s, s->buf);
            s->used = 0;
        }
    }
}

void script_sha1(uint8_t out[20], const void *p, size_t len)
{
    struct sha1 s = {.h = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}};
    sha1_update(&s, (const uint8_t *)p, len);
    uint64_t bits = s.len * 8;
    uint8_t pad = 0x80;
    sha1_update(&s, &pad, 1);
    pad = 0;
    while (s.used != 56)
        sha1_update(&s, &pad, 1);
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(&s, lenbuf, 8);
    for (int i = 0; i < 20; i++)
        out[i] = (uint8_t)(s.h[i / 4] >> (24 - 8 * (i % 4)));
}

void script_sha1hex(char out[41], const char *p, size_t len)
{
    uint8_t raw[20];
    script_sha1(raw, p, len);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[40] = '\0';
}

/* ---- Flags ---- */

static const struct {
    const char *name;
    unsigned flag;
} flag_names[] = {
    {"no-writes", SCRIPT_FLAG_NO_WRITES},
    {"allow-oom", SCRIPT_FLAG_ALLOW_OOM},
    {"allow-stale", SCRIPT_FLAG_ALLOW_STALE},
    {"no-cluster", SCRIPT_FLAG_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT},
};
#define FLAG_NAME_COUNT (sizeof(flag_names) / sizeof(flag_names[0]))

bool script_flag_parse(const char *name, size_t len, bool nocase, unsigned *flag)
{
    for (size_t i = 0; i < FLAG_NAME_COUNT; i++) {
        if (strlen(flag_names[i].name) != len) continue;
        if (nocase ? strncasecmp(flag_names[i].name, name, len) == 0
                   : memcmp(flag_names[i].name, name, len) == 0) {
            *flag = flag_names[i].flag;
            return true;
        }
    }
    return false;
}

int script_flags_reply(struct client *c, unsigned flags)
{
    int n = 0;
    for (size_t i = 0; i < FLAG_NAME_COUNT; i++) {
        if (flags & flag_names[i].flag) n++;
    }
    reply_set_len(c, n);
    for (size_t i = 0; i < FLAG_NAME_COUNT; i++) {
        if (flags & flag_names[i].flag) reply_status(c, flag_names[i].name);
    }
    return n;
}

/* ---- math.random: Redis's rand.c, the lrand48 sequence ----
 *
 * One state for the whole server, shared by EVAL and functions, starting
 * where Redis's does (rand.c's static x[] = {0x330E, 0xABCD, 0x1234}) and
 * moved only by math.random/math.randomseed, so a fresh server gives the
 * same sequence as Redis 7.0. */

static uint64_t rand48_state = 0x1234ABCD330EULL;

static void rand48_seed(int32_t seed)
{
    rand48_state = ((uint64_t)(uint32_t)seed << 16 | 0x330E) & 0xFFFFFFFFFFFFULL;
}

static int32_t rand48_next(void)
{
    rand48_state = (rand48_state * 0x5DEECE66DULL + 0xB) & 0xFFFFFFFFFFFFULL;
    return (int32_t)(rand48_state >> 17);
}

static int math_random(lua_State *L)
{
    /* Redis's redis_math_random: the '%' keeps r below 1. */
    lua_Number r = (lua_Number)(rand48_next() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L)
{
    rand48_seed(luaL_checkint(L, 1));
    return 0;
}

/* ---- The sandbox: read-only proxies ---- */

static int readonly_newindex(lua_State *L)
{
    return luaL_error(L, "Attempt to modify a readonly table");
}

/* Raised from C functions (rawset, setmetatable): no position, as Redis. */
static int readonly_error(lua_State *L)
{
    lua_pushliteral(L, "Attempt to modify a readonly table");
    return lua_error(L);
}

static int nonexistent_global(lua_State *L)
{
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                      lua_tostring(L, 2));
}

/* Pushes the real table behind the proxy at `idx`, or nothing (returns
 * false) when it is not a proxy. */
static bool proxy_target(lua_State *L, int idx)
{
    if (!lua_istable(L, idx)) return false;
    lua_pushvalue(L, idx);
    lua_rawget(L, lua_upvalueindex(1));
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static bool is_proxy(lua_State *L, int idx)
{
    if (!proxy_target(L, idx)) return false;
    lua_pop(L, 1);
    return true;
}

/* Replaces the table on the top of the stack by a read-only proxy of it
 * (the stack must hold the proxies table at `proxies`). */
static void make_proxy(lua_State *L, int proxies, int visible, int index_at)
{
    lua_newtable(L); /* real proxy */
    lua_newtable(L); /* real proxy mt */
    if (index_at != 0) {
        lua_pushvalue(L, index_at);
    } else {
        lua_pushvalue(L, -3);
    }
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 0); /* getmetatable(proxy) shows nil */
    lua_rawset(L, visible);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -3);
    lua_rawset(L, proxies); /* proxies[proxy] = real */
    lua_remove(L, -2);
}

static int sb_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_proxy(L, 1)) return readonly_error(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sb_rawget(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    if (proxy_target(L, 1)) lua_replace(L, 1);
    lua_rawget(L, 1);
    return 1;
}

static int sb_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (proxy_target(L, 1)) lua_replace(L, 1);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int sb_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(2)); /* our next */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int sb_ipairs_aux(lua_State *L)
{
    int i = luaL_checkint(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (proxy_target(L, 1)) lua_replace(L, 1);
    i++;
    lua_pushinteger(L, i);
    lua_rawgeti(L, 1, i);
    return lua_isnil(L, -1) ? 0 : 2;
}

static int sb_ipairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(2)); /* our ipairs_aux */
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

static int sb_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushvalue(L, -1);
    lua_rawget(L, lua_upvalueindex(2)); /* visible[mt] */
    if (!lua_isnil(L, -1)) {
        if (lua_isboolean(L, -1)) lua_pushnil(L);
        return 1;
    }
    lua_pop(L, 1);
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (is_proxy(L, 1)) return readonly_error(L);
    if (luaL_getmetafield(L, 1, "__metatable"))
        luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* table.insert on a library table: refused; else the original. (remove
 * and sort see an empty array in a proxy and write nothing, as they find
 * none in Redis's library tables.) */
static int sb_table_modifier(lua_State *L)
{
    if (is_proxy(L, 1)) return readonly_error(L);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Chunks are text only: a leading ESC would make stock Lua read bytecode,
 * which Redis's Lua cannot load; a space in front keeps the parser's
 * message ("unexpected symbol near 'char(27)'") and the line numbers. */
static int load_text(lua_State *L, const char *s, size_t len, const char *chunkname)
{
    if (len > 0 && s[0] == '\033') {
        char *buf = em_malloc(len + 1);
        buf[0] = ' ';
        memcpy(buf + 1, s, len);
        int rc = luaL_loadbuffer(L, buf, len + 1, chunkname);
        em_free(buf);
        return rc;
    }
    return luaL_loadbuffer(L, s, len, chunkname);
}

static int load_result(lua_State *L, int status)
{
    if (status == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int sb_loadstring(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *chunkname = luaL_optstring(L, 2, s);
    return load_result(L, load_text(L, s, len, chunkname));
}

static int sb_load(lua_State *L)
{
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_Buffer b;
    lua_settop(L, 2);
    luaL_buffinit(L, &b);
    for (;;) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            luaL_pushresult(&b);
            lua_pushnil(L);
            lua_pushliteral(L, "reader function must return a string");
            return 2;
        }
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    return load_result(L, load_text(L, s, len, chunkname));
}

/* ---- RESP reply -> Lua ---- */

struct reply_cursor {
    const char *p;
    const char *end;
};

static long long cursor_number(struct reply_cursor *r)
{
    const char *nl = memchr(r->p, '\r', (size_t)(r->end - r->p));
    if (nl == NULL) nl = r->end;
    long long v = 0;
    (void)str_to_ll(r->p, (size_t)(nl - r->p), &v);
    r->p = nl + 2 <= r->end ? nl + 2 : r->end;
    return v;
}

/* A line's text: from p up to CR; advances past CRLF. */
static struct slice cursor_line(struct reply_cursor *r)
{
    const char *nl = memchr(r->p, '\r', (size_t)(r->end - r->p));
    if (nl == NULL) nl = r->end;
    struct slice s = {r->p, (size_t)(nl - r->p)};
    r->p = nl + 2 <= r->end ? nl + 2 : r->end;
    return s;
}

static struct slice cursor_bulk(struct reply_cursor *r, long long len)
{
    if (len < 0 || len > r->end - r->p) len = r->end - r->p;
    struct slice s = {r->p, (size_t)len};
    r->p += len;
    r->p = r->p + 2 <= r->end ? r->p + 2 : r->end;
    return s;
}

static void need_stack(lua_State *L, int n)
{
    if (!lua_checkstack(L, n)) {
        script_assert(!"lua stack limit reach when parsing redis.call reply");
    }
}

/* Pushes one reply as Redis's redisProtocolToLuaType does; with L NULL the
 * reply is skipped (attributes). */
static void parse_reply(lua_State *L, struct reply_cursor *r);

static void parse_aggregate(lua_State *L, struct reply_cursor *r, char type, long long n)
{
    if (type == '*') {
        if (n < 0) {
            if (L != NULL) lua_pushboolean(L, 0);
            return;
        }
        if (L != NULL) {
            need_stack(L, 2);
            lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);
        }
        for (long long j = 0; j < n && r->p < r->end; j++) {
            parse_reply(L, r);
            if (L != NULL) lua_rawseti(L, -2, (int)(j + 1));
        }
        return;
    }
    if (type == '|') { /* attribute: skipped, then the reply itself */
        for (long long j = 0; j < 2 * n && r->p < r->end; j++)
            parse_reply(NULL, r);
        parse_reply(L, r);
        return;
    }
    /* '%' map -> {map={k=v}}, '~' set -> {set={m=true}} */
    if (L != NULL) {
        need_stack(L, 3);
        lua_newtable(L);
        lua_pushstring(L, type == '%' ? "map" : "set");
        lua_newtable(L);
    }
    for (long long j = 0; j < n && r->p < r->end; j++) {
        parse_reply(L, r);
        if (type == '%') {
            parse_reply(L, r);
        } else if (L != NULL) {
            need_stack(L, 1);
            lua_pushboolean(L, 1);
        }
        if (L != NULL) lua_settable(L, -3);
    }
    if (L != NULL) lua_settable(L, -3);
}

static void push_field_table(lua_State *L, const char *field, struct slice s)
{
    need_stack(L, 3);
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushlstring(L, s.ptr, s.len);
    lua_settable(L, -3);
}

static void parse_reply(lua_State *L, struct reply_cursor *r)
{
    if (r->p >= r->end) {
        if (L != NULL) lua_pushnil(L);
        return;
    }
    char type = *r->p++;
    switch (type) {
    case ':': {
        long long v = cursor_number(r);
        if (L != NULL) lua_pushnumber(L, (lua_Number)v);
        return;
    }
    case '$': {
        long long len = cursor_number(r);
        if (len < 0) {
            if (L != NULL) lua_pushboolean(L, 0);
            return;
        }
        struct slice s = cursor_bulk(r, len);
        if (L != NULL) lua_pushlstring(L, s.ptr, s.len);
        return;
    }
    case '+': {
        struct slice s = cursor_line(r);
        if (L != NULL) push_field_table(L, "ok", s);
        return;
    }
    case '-': {
        struct slice s = cursor_line(r);
        if (L == NULL) return;
        need_stack(L, 3);
        char buf[512];
        char *msg = s.len + 1 <= sizeof(buf) ? buf : em_malloc(s.len + 1);
        msg[0] = '-';
        memcpy(msg + 1, s.ptr, s.len);
        push_error_table(L, msg, s.len + 1);
        if (msg != buf) em_free(msg);
        /* The command already counted this error (Redis's flag). */
        lua_pushliteral(L, "ignore_error_stats_update");
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
        return;
    }
    case '*':
    case '%':
    case '~':
    case '|':
        parse_aggregate(L, r, type, cursor_number(r));
        return;
    case '_':
        cursor_line(r);
        if (L != NULL) lua_pushnil(L);
        return;
    case '#': {
        struct slice s = cursor_line(r);
        if (L != NULL) lua_pushboolean(L, s.len > 0 && s.ptr[0] == 't');
        return;
    }
    case ',': {
        struct slice s = cursor_line(r);
        if (L == NULL) return;
        char buf[UTIL_D_STR_SIZE];
        size_t n = s.len < sizeof(buf) - 1 ? s.len : sizeof(buf) - 1;
        memcpy(buf, s.ptr, n);
        buf[n] = '\0';
        need_stack(L, 3);
        lua_newtable(L);
        lua_pushliteral(L, "double");
        lua_pushnumber(L, strtod(buf, NULL));
        lua_settable(L, -3);
        return;
    }
    case '(': {
        struct slice s = cursor_line(r);
        if (L != NULL) push_field_table(L, "big_number", s);
        return;
    }
    case '=': {
        struct slice s = cursor_bulk(r, cursor_number(r));
        if (L == NULL) return;
        /* "txt:payload": {verbatim_string={format="txt", string="payload"}} */
        struct slice fmt = {s.ptr, s.len >= 4 ? 3 : 0};
        struct slice body = {s.ptr + (s.len >= 4 ? 4 : 0), s.len >= 4 ? s.len - 4 : s.len};
        need_stack(L, 5);
        lua_newtable(L);
        lua_pushliteral(L, "verbatim_string");
        lua_newtable(L);
        lua_pushliteral(L, "string");
        lua_pushlstring(L, body.ptr, body.len);
        lua_settable(L, -3);
        lua_pushliteral(L, "format");
        lua_pushlstring(L, fmt.ptr, fmt.len);
        lua_settable(L, -3);
        lua_settable(L, -3);
        return;
    }
    default:
        if (L != NULL) lua_pushnil(L);
        r->p = r->end;
        return;
    }
}

/* Pushes the reply the VM's client has queued and empties its output
 * (keeping one block for the next call). Returns true if it was an error. */
static bool take_reply(lua_State *L, struct client *f)
{
    struct reply_block *b = f->reply_head;
    bool is_error;
    if (b == NULL) {
        lua_pushnil(L);
        return false;
    }
    if (b->next == NULL) {
        struct reply_cursor r = {b->data, b->data + b->len};
        is_error = b->len > 0 && b->data[0] == '-';
        parse_reply(L, &r);
        b->len = 0;
        f->reply_bytes = 0;
        return is_error;
    }
    size_t total = 0;
    for (struct reply_block *x = b; x != NULL; x = x->next)
        total += x->len;
    char *joined = em_malloc(total > 0 ? total : 1);
    size_t off = 0;
    for (struct reply_block *x = b; x != NULL; x = x->next) {
        memcpy(joined + off, x->data, x->len);
        off += x->len;
    }
    reply_release(f);
    struct reply_cursor r = {joined, joined + total};
    is_error = total > 0 && joined[0] == '-';
    parse_reply(L, &r);
    em_free(joined);
    return is_error;
}

void script_reply_to_lua(lua_State *L, const char *p, size_t len)
{
    struct reply_cursor r = {p, p + len};
    parse_reply(L, &r);
}

/* ---- Lua -> reply ---- */

/* (long long) of a Lua number as x86-64 converts it (NaN and out-of-range
 * values give LLONG_MIN), without the undefined behaviour of the cast. */
static long long number_to_ll(lua_Number n)
{
    if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0)) return LLONG_MIN;
    return (long long)n;
}

/* Pushes t[field] (t at stack index `t`, no metamethods) if it has the
 * Lua type `type`; otherwise pushes nothing and returns false. */
static bool field_of_type(lua_State *L, int t, const char *field, int type)
{
    lua_pushstring(L, field);
    lua_rawget(L, t < 0 ? t - 1 : t);
    if (lua_type(L, -1) == type) return true;
    lua_pop(L, 1);
    return false;
}

/* Replies a copy of s with CR and LF turned into spaces, for a status. */
static void reply_status_mapped(struct client *c, const char *s, size_t len, bool big_number)
{
    char buf[256];
    char *m = len + 1 <= sizeof(buf) ? buf : em_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        m[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    m[len] = '\0';
    if (!big_number) {
        reply_status(c, m);
    } else if (c->resp >= 3) {
        /* RESP3 big number: reply.c has no helper for this one type. */
        reply_raw(c, "(", 1);
        reply_raw(c, m, len);
        reply_raw(c, "\r\n", 2);
    } else {
        reply_bulk(c, m, len);
    }
    if (m != buf) em_free(m);
}

/* True if the error table at `t` carries ignore_error_stats_update: the
 * error was counted when the command inside the script replied it. */
static bool error_already_counted(lua_State *L, int t)
{
    lua_getfield(L, t, "ignore_error_stats_update");
    bool counted = lua_isboolean(L, -1) && lua_toboolean(L, -1);
    lua_pop(L, 1);
    return counted;
}

/* Replies an error, counting it in INFO errorstats unless it was counted
 * already (Redis's ERR_REPLY_FLAG_NO_STATS_UPDATE): then only the running
 * command's failed_calls moves, as in Redis's afterErrorReply. */
static void reply_script_error(struct client *c, const char *msg, bool counted)
{
    if (!counted) {
        reply_error(c, msg);
        return;
    }
    /* reply.c has no uncounted error reply: the same bytes by hand, CR and
     * LF turned into spaces as reply_error() does. */
    size_t len = strlen(msg);
    char stack[512];
    char *buf = len + 3 <= sizeof(stack) ? stack : em_malloc(len + 3);
    buf[0] = '-';
    for (size_t i = 0; i < len; i++)
        buf[i + 1] = (msg[i] == '\r' || msg[i] == '\n') ? ' ' : msg[i];
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    reply_raw(c, buf, len + 3);
    if (buf != stack) em_free(buf);
    /* command_call() counts EVAL as failed when the error count moved
     * during it (errors of commands inside the script); only if it did not
     * is the failure counted here. */
    if (c->cmd != NULL && current_errors_at_start == server.stats.total_error_replies) {
        ((struct command *)c->cmd)->failed_calls++;
    }
}

static void reply_error_from_table(struct client *c, lua_State *L)
{
    /* Stack: table, err string. Redis uses the C string (up to a NUL). */
    const char *msg = lua_tostring(L, -1);
    reply_script_error(c, msg, error_already_counted(L, -2));
    lua_pop(L, 1);
}

static void reply_lua_value(struct client *c, lua_State *L, int script_resp);

static void reply_lua_table(struct client *c, lua_State *L, int script_resp)
{
    size_t len;
    if (field_of_type(L, -1, "err", LUA_TSTRING)) {
        reply_error_from_table(c, L);
        return;
    }
    if (field_of_type(L, -1, "ok", LUA_TSTRING)) {
        const char *s = lua_tostring(L, -1);
        reply_status_mapped(c, s, strlen(s), false);
        lua_pop(L, 1);
        return;
    }
    if (field_of_type(L, -1, "double", LUA_TNUMBER)) {
        reply_double(c, lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
    }
    if (field_of_type(L, -1, "big_number", LUA_TSTRING)) {
        const char *s = lua_tolstring(L, -1, &len);
        reply_status_mapped(c, s, len, true);
        lua_pop(L, 1);
        return;
    }
    if (field_of_type(L, -1, "verbatim_string", LUA_TTABLE)) {
        if (field_of_type(L, -1, "format", LUA_TSTRING)) {
            const char *fmt = lua_tostring(L, -1);
            if (field_of_type(L, -2, "string", LUA_TSTRING)) {
                const char *s = lua_tolstring(L, -1, &len);
                reply_verbatim(c, s, len, fmt);
                lua_pop(L, 3);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (field_of_type(L, -1, "map", LUA_TTABLE)) {
        void *h = reply_defer_len(c);
        long long n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            reply_lua_value(c, L, script_resp); /* key */
            reply_lua_value(c, L, script_resp); /* value */
            n++;
        }
        reply_set_map_len(c, h, n);
        lua_pop(L, 1);
        return;
    }
    if (field_of_type(L, -1, "set", LUA_TTABLE)) {
        void *h = reply_defer_len(c);
        long long n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            reply_lua_value(c, L, script_resp);
            n++;
        }
        reply_set_set_len(c, h, n);
        lua_pop(L, 1);
        return;
    }
    /* An array: up to the first nil. */
    void *h = reply_defer_len(c);
    long long n = 0;
    for (int j = 1;; j++) {
        lua_rawgeti(L, -1, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        reply_lua_value(c, L, script_resp);
        n++;
    }
    reply_set_array_len(c, h, n);
}

/* Replies the value on the top of the stack (and pops it), Redis's
 * luaReplyToRedisReply. */
static void reply_lua_value(struct client *c, lua_State *L, int script_resp)
{
    if (!lua_checkstack(L, 4)) {
        reply_error(c, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    size_t len;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        const char *s = lua_tolstring(L, -1, &len);
        reply_bulk(c, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1)) {
                reply_int(c, 1);
            } else {
                reply_null(c);
            }
        } else {
            reply_bool(c, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER:
        reply_int(c, number_to_ll(lua_tonumber(L, -1)));
        break;
    case LUA_TTABLE:
        reply_lua_table(c, L, script_resp);
        break;
    default:
        reply_null(c);
        break;
    }
    lua_pop(L, 1);
}

/* ---- Running commands: redis.call / redis.pcall ---- */

static struct command *lookup_for_script(const struct slice *argv, int argc)
{
    struct command *cmd = command_lookup(argv[0]);
    if (cmd == NULL || cmd->subcommands == NULL || argc == 1) return cmd;
    for (struct command *sub = cmd->subcommands; sub->name != NULL; sub++) {
        if (strlen(sub->name) == argv[1].len &&
            strncasecmp(sub->name, argv[1].ptr, argv[1].len) == 0) {
            return sub;
        }
    }
    return NULL;
}

/* Why a command may not run from this script, or NULL. */
static const char *refusal(const struct script_run *run, const struct command *cmd, int argc)
{
    if (cmd == NULL) return "Unknown Redis command called from script";
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        return "Wrong number of args calling Redis command from script";
    }
    if (cmd->flags & CMD_NOSCRIPT) return "This Redis command is not allowed from script";
    if ((run->flags & RUN_READ_ONLY) && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) {
        return "Write commands are not allowed from read-only scripts.";
    }
    if (!(run->flags & (RUN_ALLOW_OOM | RUN_WRITE_DIRTY)) && (run->flags & RUN_OOM_AT_START) &&
        server.cfg.maxmemory > 0 && (cmd->flags & CMD_DENYOOM)) {
        return "-OOM command not allowed when used memory > 'maxmemory'.";
    }
    return NULL;
}

/* Redis's scriptCall: the checks, then the command on the VM's client.
 * Returns NULL when it ran (its reply queued), else the error to push; a
 * refusal is counted here, once, as Redis counts it on its Lua client. */
static const char *exec_command(struct script_run *run, struct slice *argv, int argc)
{
    struct command *cmd = lookup_for_script(argv, argc);
    const char *err = refusal(run, cmd, argc);
    if (err == NULL && acl_enforced) err = acl_script_check(run->caller, cmd, argv, argc);
    if (err != NULL) {
        server.stats.total_error_replies++;
        server_count_error(err[0] == '-' ? err + 1 : "ERR");
        if (cmd != NULL) cmd->rejected_calls++;
        return err;
    }
    if (cmd->flags & CMD_WRITE) run->flags |= RUN_WRITE_DIRTY;
    struct client *f = run->vm->fake;
    f->argc = argc;
    f->argv = argv;
    command_call(f, cmd);
    f->argc = 0;
    f->argv = NULL;
    f->flags &= ~(unsigned)(CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY);
    return NULL;
}

/* Turns the arguments on the stack into strings in place and points argv
 * at them (valid while they stay on the stack). False if one is neither a
 * string nor a number. */
static bool stack_to_argv(lua_State *L, int argc, struct slice *argv)
{
    char dbuf[64];
    for (int j = 1; j <= argc; j++) {
        if (lua_type(L, j) == LUA_TNUMBER) {
            /* "%.17g", not Lua's "%.14g", so no precision is lost. */
            int n = snprintf(dbuf, sizeof(dbuf), "%.17g", (double)lua_tonumber(L, j));
            lua_pushlstring(L, dbuf, (size_t)n);
            lua_replace(L, j);
        } else if (lua_type(L, j) != LUA_TSTRING) {
            return false;
        }
        argv[j - 1].ptr = lua_tolstring(L, j, &argv[j - 1].len);
    }
    return true;
}

static int redis_generic_call(lua_State *L, bool raise)
{
    struct script_run *run = current;
    if (run == NULL || (run->flags & RUN_LOADING)) {
        push_error(L, "redis.call/pcall can only be called inside a script invocation");
        return raise_error(L);
    }
    int argc = lua_gettop(L);
    if (argc == 0) {
        push_error(L, "Please specify at least one argument for this redis lib call");
        return raise ? raise_error(L) : 1;
    }
    struct slice stack_argv[SCRIPT_ARGV_STACK];
    struct slice *argv =
        argc <= SCRIPT_ARGV_STACK ? stack_argv : em_malloc(sizeof(*argv) * (size_t)argc);
    if (!stack_to_argv(L, argc, argv)) {
        if (argv != stack_argv) em_free(argv);
        lua_settop(L, 0);
        push_error(L, "Lua redis lib command arguments must be strings or integers");
        return raise ? raise_error(L) : 1;
    }
    if (call_depth > 0) {
        const char *w = "luaRedisGenericCommand() recursive call detected. Are you doing funny "
                        "stuff with Lua debug hooks?";
        log_warn("%s", w);
        if (argv != stack_argv) em_free(argv);
        push_error(L, w);
        return 1;
    }
    call_depth++;
    const char *err = exec_command(run, argv, argc);
    bool is_error = true;
    if (err != NULL) {
        push_error(L, err);
        lua_pushliteral(L, "ignore_error_stats_update");
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    } else {
        is_error = take_reply(L, run->vm->fake);
    }
    call_depth--;
    if (argv != stack_argv) em_free(argv);
    if (raise && is_error) return raise_error(L);
    return 1;
}

static int redis_call(lua_State *L)
{
    return redis_generic_call(L, true);
}

static int redis_pcall(lua_State *L)
{
    return redis_generic_call(L, false);
}

/* Lua's pcall, except that an error table {err=...} is returned as its
 * message, as Redis 7 does for compatibility with older scripts. */
static int sb_pcall(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc == 0) return 0; /* Redis's wrapper returns nothing here */
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1)) {
                lua_replace(L, -2);
            } else {
                lua_pop(L, 1);
            }
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

static int redis_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        push_error(L, "wrong number of arguments");
        return raise_error(L);
    }
    size_t len = 0;
    const char *s = lua_tolstring(L, 1, &len);
    char digest[41];
    script_sha1hex(digest, s != NULL ? s : "", s != NULL ? len : 0);
    lua_pushstring(L, digest);
    return 1;
}

static int redis_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error(L, "wrong number or type of arguments");
        return 1;
    }
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len > 0 && s[0] == '-') {
        push_error_table(L, s, strlen(s));
    } else {
        lua_pushliteral(L, "-");
        lua_pushvalue(L, 1);
        lua_concat(L, 2);
        const char *m = lua_tostring(L, -1);
        push_error_table(L, m, strlen(m));
    }
    return 1;
}

static int redis_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error(L, "wrong number or type of arguments");
        return 1;
    }
    lua_newtable(L);
    lua_pushliteral(L, "ok");
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    return 1;
}

static int redis_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2) {
        push_error(L, "redis.log() requires two arguments or more.");
        return raise_error(L);
    }
    if (!lua_isnumber(L, 1)) {
        push_error(L, "First argument must be a number (log level).");
        return raise_error(L);
    }
    int level = (int)lua_tonumber(L, 1);
    if (level < LOG_DEBUG || level > LOG_WARNING) {
        push_error(L, "Invalid debug level.");
        return raise_error(L);
    }
    if (level < (int)log_get_level()) return 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (s == NULL) continue;
        if (j != 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
    }
    luaL_pushresult(&b);
    log_write((enum log_level)level, "%s", lua_tostring(L, -1));
    return 0;
}

static int redis_setresp(lua_State *L)
{
    if (current == NULL || (current->flags & RUN_LOADING)) {
        push_error(L, "redis.setresp can only be called inside a script invocation");
        return raise_error(L);
    }
    if (lua_gettop(L) != 1) {
        push_error(L, "redis.setresp() requires one argument.");
        return raise_error(L);
    }
    int resp = (int)lua_tonumber(L, 1);
    if (resp != 2 && resp != 3) {
        push_error(L, "RESP version must be 2 or 3.");
        return raise_error(L);
    }
    current->vm->fake->resp = resp;
    return 0;
}

/* Replication is not implemented: the flags are checked, then ignored. */
static int redis_set_repl(lua_State *L)
{
    if (current == NULL || (current->flags & RUN_LOADING)) {
        push_error(L, "redis.set_repl can only be called inside a script invocation");
        return raise_error(L);
    }
    if (lua_gettop(L) != 1) {
        push_error(L, "redis.set_repl() requires two arguments.");
        return raise_error(L);
    }
    int flags = (int)lua_tonumber(L, -1);
    if ((flags & ~3) != 0) {
        push_error(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                      "REPL_NONE.");
        return raise_error(L);
    }
    return 0;
}

static int redis_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static int redis_breakpoint(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int redis_debug(lua_State *L)
{
    (void)L;
    return 0;
}

/* Whether the script's user may run the command with these arguments. */
static int redis_acl_check_cmd(lua_State *L)
{
    if (current == NULL || (current->flags & RUN_LOADING)) {
        push_error(L, "redis.acl_check_cmd can only be called inside a script invocation");
        return raise_error(L);
    }
    int argc = lua_gettop(L);
    if (argc < 1) { /* lua_gettop() is never negative */
        push_error(L, "Please specify at least one argument for this redis lib call");
        return raise_error(L);
    }
    struct slice stack_argv[SCRIPT_ARGV_STACK];
    struct slice *argv =
        argc <= SCRIPT_ARGV_STACK ? stack_argv : em_malloc(sizeof(*argv) * (size_t)argc);
    bool ok = stack_to_argv(L, argc, argv);
    struct command *cmd = ok ? lookup_for_script(argv, argc) : NULL;
    bool allowed = cmd == NULL || !acl_enforced || acl_allowed(current->caller, cmd, argv, argc);
    if (argv != stack_argv) em_free(argv);
    if (!ok) {
        push_error(L, "Lua redis lib command arguments must be strings or integers");
        return raise_error(L);
    }
    if (cmd == NULL) {
        push_error(L, "Invalid command passed to redis.acl_check_cmd()");
        return raise_error(L);
    }
    lua_pushboolean(L, allowed);
    return 1;
}

/* ---- Building a VM ---- */

static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    size_t *mem = ud;
    if (nsize == 0) {
        if (ptr != NULL) {
            *mem -= osize;
            em_free(ptr);
        }
        return NULL;
    }
    void *p = em_realloc(ptr, nsize);
    *mem += nsize;
    *mem -= ptr != NULL ? osize : 0;
    return p;
}

static void set_cfunction(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, name);
}

static void set_number(lua_State *L, const char *name, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void set_log_api(lua_State *L)
{
    set_cfunction(L, "log", redis_log);
    set_number(L, "LOG_DEBUG", LOG_DEBUG);
    set_number(L, "LOG_VERBOSE", LOG_VERBOSE);
    set_number(L, "LOG_NOTICE", LOG_NOTICE);
    set_number(L, "LOG_WARNING", LOG_WARNING);
    lua_pushliteral(L, SCRIPT_REDIS_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    set_number(L, "REDIS_VERSION_NUM", SCRIPT_REDIS_VERSION_NUM);
}

/* Pushes the runtime `redis` table (real, not yet proxied). */
static void push_redis_api(lua_State *L, bool eval)
{
    lua_newtable(L);
    set_cfunction(L, "call", redis_call);
    set_cfunction(L, "pcall", redis_pcall);
    set_cfunction(L, "sha1hex", redis_sha1hex);
    set_cfunction(L, "error_reply", redis_error_reply);
    set_cfunction(L, "status_reply", redis_status_reply);
    set_cfunction(L, "setresp", redis_setresp);
    set_cfunction(L, "set_repl", redis_set_repl);
    set_cfunction(L, "acl_check_cmd", redis_acl_check_cmd);
    set_log_api(L);
    set_number(L, "REPL_NONE", 0);
    set_number(L, "REPL_AOF", 1);
    set_number(L, "REPL_SLAVE", 2);
    set_number(L, "REPL_REPLICA", 2);
    set_number(L, "REPL_ALL", 3);
    if (eval) {
        set_cfunction(L, "replicate_commands", redis_replicate_commands);
        set_cfunction(L, "breakpoint", redis_breakpoint);
        set_cfunction(L, "debug", redis_debug);
    }
}

/* Redis's __redis__err__handler, in C: turns any error into a table
 * {err=..., source=..., line=...} naming where the script was (for an error
 * raised by a C function, its Lua caller). */
static int error_handler(lua_State *L)
{
    lua_Debug ar;
    bool found = lua_getstack(L, 1, &ar) && lua_getinfo(L, "nSl", &ar);
    if (found && strcmp(ar.what, "C") == 0) {
        found = lua_getstack(L, 2, &ar) && lua_getinfo(L, "nSl", &ar);
    }
    lua_settop(L, 1);
    if (!lua_istable(L, 1)) {
        lua_newtable(L);
        lua_pushliteral(L, "err");
        lua_pushliteral(L, "ERR ");
        switch (lua_type(L, 1)) {
        case LUA_TSTRING:
        case LUA_TNUMBER:
            lua_pushvalue(L, 1);
            break;
        case LUA_TNIL:
            lua_pushliteral(L, "nil");
            break;
        case LUA_TBOOLEAN:
            lua_pushstring(L, lua_toboolean(L, 1) ? "true" : "false");
            break;
        default:
            lua_pushfstring(L, "%s: %p", luaL_typename(L, 1), lua_topointer(L, 1));
            break;
        }
        lua_concat(L, 2);
        lua_rawset(L, -3);
        lua_replace(L, 1);
    }
    if (found) {
        lua_pushliteral(L, "source");
        lua_pushstring(L, ar.source);
        lua_rawset(L, 1);
        lua_pushliteral(L, "line");
        lua_pushnumber(L, ar.currentline);
        lua_rawset(L, 1);
    }
    return 1;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

/* Replaces G[name] (G at index g) by a C closure with the two upvalues
 * (proxies table, `second`) pushed by the caller: stack ... p second. */
static void wrap_global(lua_State *L, int g, const char *name, lua_CFunction fn)
{
    lua_pushcclosure(L, fn, 2);
    lua_setfield(L, g, name);
}

/* Installs the sandbox's own versions of the functions that see through
 * metatables. Stack indexes: g real globals, p proxies, v visible. */
static void install_wrappers(lua_State *L, int g, int p, int v)
{
    static const char *const removed[] = {"dofile",  "loadfile", "print",  "newproxy",
                                          "getfenv", "setfenv",  "module", "require"};
    for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
        lua_pushnil(L);
        lua_setfield(L, g, removed[i]);
    }
    lua_pushcfunction(L, sb_loadstring);
    lua_setfield(L, g, "loadstring");
    lua_pushcfunction(L, sb_load);
    lua_setfield(L, g, "load");
    lua_pushcfunction(L, sb_pcall);
    lua_setfield(L, g, "pcall");

    lua_pushvalue(L, p);
    lua_pushnil(L);
    wrap_global(L, g, "rawset", sb_rawset);
    lua_pushvalue(L, p);
    lua_pushnil(L);
    wrap_global(L, g, "rawget", sb_rawget);
    lua_pushvalue(L, p);
    lua_pushnil(L);
    wrap_global(L, g, "setmetatable", sb_setmetatable);
    lua_pushvalue(L, p);
    lua_pushvalue(L, v);
    wrap_global(L, g, "getmetatable", sb_getmetatable);
    lua_pushvalue(L, p);
    lua_pushnil(L);
    lua_pushcclosure(L, sb_next, 2);
    lua_pushvalue(L, -1);
    lua_setfield(L, g, "next");
    lua_pushvalue(L, p);
    lua_insert(L, -2);
    wrap_global(L, g, "pairs", sb_pairs);
    lua_pushvalue(L, p);
    lua_pushvalue(L, p);
    lua_pushnil(L);
    lua_pushcclosure(L, sb_ipairs_aux, 2);
    wrap_global(L, g, "ipairs", sb_ipairs);

    lua_getfield(L, g, "table");
    static const char *const modifiers[] = {"insert"};
    for (size_t i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++) {
        lua_pushvalue(L, p);
        lua_getfield(L, -2, modifiers[i]);
        lua_pushcclosure(L, sb_table_modifier, 2);
        lua_setfield(L, -2, modifiers[i]);
    }
    lua_pop(L, 1);

    lua_getfield(L, g, "math");
    lua_pushcfunction(L, math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

/* G[name] = proxy(G[name]). */
static void protect_global(lua_State *L, int g, int p, int v, const char *name)
{
    lua_getfield(L, g, name);
    make_proxy(L, p, v, 0);
    lua_setfield(L, g, name);
}

/* The table scripts see as getmetatable(_G): read-only, with an __index
 * function, like Redis's. */
static void push_visible_globals_mt(lua_State *L, int p, int v)
{
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    make_proxy(L, p, v, 0);
}

/* A table whose missing keys raise the nonexistent-global error. */
static void set_nonexistent_mt(lua_State *L, int t)
{
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, t);
}

/* Functions VM: what library code sees while FUNCTION LOAD runs it: only
 * redis.register_function, redis.log and the version. */
static int make_load_env(lua_State *L, int p, int v, lua_CFunction register_fn)
{
    lua_newtable(L);
    int env = lua_gettop(L);
    lua_newtable(L);
    set_log_api(L);
    lua_pushcfunction(L, register_fn);
    lua_setfield(L, -2, "register_function");
    set_nonexistent_mt(L, lua_gettop(L));
    make_proxy(L, p, v, 0);
    lua_setfield(L, env, "redis");
    set_nonexistent_mt(L, env);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

struct script_vm *script_vm_create(enum script_vm_kind kind, int (*register_fn)(lua_State *))
{
    struct script_vm *vm = em_calloc(1, sizeof(*vm));
    vm->kind = kind;
    vm->L = lua_newstate(vm_alloc, &vm->mem);
    script_assert(vm->L != NULL);
    lua_State *L = vm->L;
    bool eval = kind == SCRIPT_VM_EVAL;

    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, "bit", luaopen_bit);
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_setglobal(L, "cjson");

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    int g = lua_gettop(L);
    lua_newtable(L);
    int p = lua_gettop(L);
    lua_pushlightuserdata(L, &key_proxies);
    lua_pushvalue(L, p);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    int v = lua_gettop(L);
    lua_pushlightuserdata(L, &key_visible);
    lua_pushvalue(L, v);
    lua_rawset(L, LUA_REGISTRYINDEX);

    install_wrappers(L, g, p, v);
    push_redis_api(L, eval);
    lua_setfield(L, g, "redis");
    static const char *const libs[] = {"string", "math", "table", "coroutine",
                                       "cjson",  "bit",  "redis"};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        protect_global(L, g, p, v, libs[i]);

    /* "abc":upper() finds methods through the string proxy; the string
     * metatable itself is shown read-only. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, g, "string");
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -1);
    make_proxy(L, p, v, 0);
    lua_rawset(L, v);
    lua_pop(L, 2);

    lua_pushcfunction(L, error_handler);
    if (eval) {
        lua_pushvalue(L, -1);
        lua_setfield(L, g, "__redis__err__handler");
    }
    vm->errh_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (!eval) {
        lua_getfield(L, g, "redis");
        lua_pushlightuserdata(L, &key_redis_api);
        lua_insert(L, -2);
        lua_rawset(L, LUA_REGISTRYINDEX);
        vm->load_env_ref = make_load_env(L, p, v, register_fn);
    }

    /* The proxy _G: reads go to the real globals, writes are refused. */
    lua_newtable(L);
    int pg = lua_gettop(L);
    lua_newtable(L);
    lua_pushvalue(L, g);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, -1);
    push_visible_globals_mt(L, p, v);
    lua_rawset(L, v);
    lua_pushvalue(L, -1);
    vm->proxy_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, pg);
    lua_pushvalue(L, pg);
    lua_pushvalue(L, g);
    lua_rawset(L, p); /* the proxy _G is a proxy too (for rawset & co) */
    lua_pushvalue(L, pg);
    lua_setfield(L, g, "_G");
    set_nonexistent_mt(L, g);

    lua_pushvalue(L, g);
    vm->globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, pg);
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_settop(L, 0);

    vm->fake = client_create();
    /* Never queued for writing (its output is read back by redis.call),
     * always authenticated, and never blocking (as a client in MULTI). */
    vm->fake->flags |= CLIENT_PENDING_WRITE | CLIENT_AUTHENTICATED | CLIENT_MULTI;
    return vm;
}

void script_vm_destroy(struct script_vm *vm)
{
    if (vm == NULL) return;
    script_assert(current == NULL || current->vm != vm);
    lua_close(vm->L);
    vm->fake->flags &= ~(unsigned)CLIENT_PENDING_WRITE;
    client_destroy(vm->fake);
    em_free(vm);
}

lua_State *script_vm_lua(struct script_vm *vm)
{
    return vm->L;
}

size_t script_vm_memory(const struct script_vm *vm)
{
    return vm != NULL ? vm->mem : 0;
}

bool script_vm_compile(struct script_vm *vm, const char *code, size_t len, const char *chunkname)
{
    return load_text(vm->L, code, len, chunkname) == 0;
}

/* ---- One invocation ---- */

/* busy-reply-threshold (alias lua-time-limit); 0 disables the busy state
 * and with it SCRIPT KILL, as in Redis. */
static long long busy_threshold_ms(void)
{
    return server.cfg.busy_reply_threshold;
}

static long long run_elapsed_ms(const struct script_run *run)
{
    return (clock_mono_us() - run->start_us) / 1000;
}

/* Every SCRIPT_HOOK_COUNT instructions: the clock, the busy state, kills. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct script_run *run = current;
    if (run == NULL) return;
    if (run->flags & RUN_LOADING) {
        if (run->timeout_ms > 0 && run_elapsed_ms(run) > run->timeout_ms) {
            lua_sethook(L, count_hook, LUA_MASKLINE, 0);
            push_error(L, "FUNCTION LOAD timeout");
            raise_error(L);
        }
        return;
    }
    if (!(run->flags & RUN_TIMEDOUT)) {
        long long elapsed = run_elapsed_ms(run);
        if (elapsed < busy_threshold_ms()) return;
        log_warn("Slow script detected: still in execution after %lld milliseconds. You can try "
                 "killing the script using the %s command. Script name is: %s.",
                 elapsed, run->eval ? "SCRIPT KILL" : "FUNCTION KILL", run->funcname);
        run->flags |= RUN_TIMEDOUT;
        server.script_busy = true;
        server.busy_message = run->eval ? NULL
                                        : "BUSY Redis is busy running a script. You can only "
                                          "call FUNCTION KILL or SHUTDOWN NOSAVE.";
    }
    net_poll_while_busy();
    if ((run->flags & RUN_KILLED) || server.shutdown_asap) {
        log_warn("Lua script killed by user with SCRIPT KILL.");
        /* From now on the hook fires on every line, so a pcall in the
         * script cannot swallow the error and carry on. */
        lua_sethook(L, count_hook, LUA_MASKLINE, 0);
        push_error(L, "Script killed by user with SCRIPT KILL...");
        raise_error(L);
    }
}

static void push_string_array(lua_State *L, const struct slice *elems, int n)
{
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
        lua_pushlstring(L, elems[j].ptr, elems[j].len);
        lua_rawseti(L, -2, j + 1);
    }
}

/* The field `name` of the table on the top as a C string, or NULL. */
static const char *error_field(lua_State *L, const char *name)
{
    lua_getfield(L, -1, name);
    const char *s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays alive: the table still holds it */
    return s;
}

/* Replies the error a run ended with (the value on the top; popped). */
static void reply_run_error(struct client *c, lua_State *L, const char *funcname)
{
    if (!lua_istable(L, -1)) {
        const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
        reply_error_fmt(c, "ERR Error running script %s, %.100s\n", funcname, msg);
        lua_pop(L, 1);
        return;
    }
    const char *msg = error_field(L, "err");
    const char *source = error_field(L, "source");
    const char *line = error_field(L, "line");
    bool counted = error_already_counted(L, -1);
    if (msg == NULL) msg = "ERR unknown error";
    if (source == NULL || line == NULL) {
        reply_script_error(c, msg, counted);
    } else {
        size_t n = strlen(msg) + strlen(funcname) + strlen(source) + strlen(line) + 32;
        char *full = em_malloc(n);
        snprintf(full, n, "%s script: %s, on %s:%s.", msg, funcname, source, line);
        reply_script_error(c, full, counted);
        em_free(full);
    }
    lua_pop(L, 1);
}

static void run_begin(struct script_run *run)
{
    current = run;
    run->start_us = clock_mono_us();
}

static void run_end(struct script_run *run)
{
    if (run->flags & RUN_TIMEDOUT) {
        server.script_busy = false;
        server.busy_message = NULL;
    }
    server.script_caller = NULL;
    current = NULL;
}

void script_vm_call(struct script_vm *vm, const struct script_call *call)
{
    lua_State *L = vm->L;
    struct client *c = call->caller;
    bool compat = (call->flags & SCRIPT_FLAG_EVAL_COMPAT) != 0;
    bool oom = server.cfg.maxmemory > 0 && evict_used_memory() > (size_t)server.cfg.maxmemory;
    if (!compat && !(call->flags & SCRIPT_FLAG_NO_WRITES) && call->ro) {
        lua_pop(L, 1);
        reply_error(c, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    if (!compat && oom && !(call->flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
        lua_pop(L, 1);
        reply_error(c, "OOM allow-oom flag is not set on the script, can not run it when used "
                       "memory > 'maxmemory'");
        return;
    }
    if (!compat && (call->flags & SCRIPT_FLAG_NO_CLUSTER) && server.cfg.cluster_enabled) {
        lua_pop(L, 1);
        reply_error(c, "ERR Can not run script on cluster, 'no-cluster' flag is set.");
        return;
    }
    struct script_run run = {.vm = vm, .caller = c, .funcname = call->funcname, .eval = call->eval};
    if (call->ro || (!compat && (call->flags & SCRIPT_FLAG_NO_WRITES))) run.flags |= RUN_READ_ONLY;
    if (!compat && (call->flags & SCRIPT_FLAG_ALLOW_OOM)) run.flags |= RUN_ALLOW_OOM;
    if (oom) run.flags |= RUN_OOM_AT_START;
    vm->fake->db = c->db;
    vm->fake->resp = 2;
    server.script_caller = c;
    current_errors_at_start = server.stats.total_error_replies;

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->errh_ref);
    lua_insert(L, -2);
    int errh = lua_gettop(L) - 1;
    int nargs = 0;
    if (call->eval) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, vm->globals_ref);
        lua_pushliteral(L, "KEYS");
        push_string_array(L, call->keys, call->nkeys);
        lua_rawset(L, -3);
        lua_pushliteral(L, "ARGV");
        push_string_array(L, call->args, call->nargs);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    } else {
        push_string_array(L, call->keys, call->nkeys);
        push_string_array(L, call->args, call->nargs);
        nargs = 2;
    }
    run_begin(&run);
    if (busy_threshold_ms() > 0) lua_sethook(L, count_hook, LUA_MASKCOUNT, SCRIPT_HOOK_COUNT);
    int err = lua_pcall(L, nargs, 1, errh);
    lua_sethook(L, NULL, 0, 0);
    /* A GC step now and then, so Lua never runs a full cycle mid-script. */
    if (++vm->gc_count == SCRIPT_GC_PERIOD) {
        lua_gc(L, LUA_GCSTEP, SCRIPT_GC_PERIOD);
        vm->gc_count = 0;
    }
    if (err) {
        reply_run_error(c, L, call->funcname);
    } else {
        reply_lua_value(c, L, vm->fake->resp);
    }
    lua_pop(L, 1); /* the error handler */
    run_end(&run);
}

bool script_vm_load(struct script_vm *vm, long long timeout_ms, char **err)
{
    lua_State *L = vm->L;
    /* Library code sees the load API instead of the runtime globals. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->proxy_mt_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->load_env_ref);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->errh_ref);
    lua_insert(L, -2);
    int errh = lua_gettop(L) - 1;
    struct script_run run = {.vm = vm, .flags = RUN_LOADING, .timeout_ms = timeout_ms};
    run_begin(&run);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, SCRIPT_HOOK_COUNT);
    int rc = lua_pcall(L, 0, 0, errh);
    lua_sethook(L, NULL, 0, 0);
    current = NULL;
    if (rc != 0) {
        const char *msg = lua_istable(L, -1) ? error_field(L, "err") : lua_tostring(L, -1);
        *err = em_strndup(msg != NULL ? msg : "", msg != NULL ? strlen(msg) : 0);
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* the error handler */

    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->proxy_mt_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->globals_ref);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    return rc == 0;
}

void script_push_error(lua_State *L, const char *msg)
{
    push_error(L, msg);
}

/* ---- State of the running script ---- */

bool script_is_running(void)
{
    return current != NULL;
}

bool script_running_info(const char **name, const struct client **caller, long long *ms,
                         bool *is_eval)
{
    if (current == NULL || (current->flags & RUN_LOADING)) return false;
    *name = current->funcname;
    *caller = current->caller;
    *ms = run_elapsed_ms(current);
    *is_eval = current->eval;
    return true;
}

void script_kill(struct client *c, bool is_eval)
{
    struct script_run *run = current;
    if (run == NULL || (run->flags & RUN_LOADING)) {
        reply_error(c, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (run->flags & RUN_WRITE_DIRTY) {
        reply_error(c, "UNKILLABLE Sorry the script already executed write commands against the "
                       "dataset. You can either wait the script termination or kill the server "
                       "in a hard way using the SHUTDOWN NOSAVE command.");
        return;
    }
    if (is_eval && !run->eval) {
        reply_error(c, "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                       "SHUTDOWN NOSAVE.");
        return;
    }
    if (!is_eval && run->eval) {
        reply_error(c, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                       "SHUTDOWN NOSAVE.");
        return;
    }
    run->flags |= RUN_KILLED;
    reply_ok(c);
}
