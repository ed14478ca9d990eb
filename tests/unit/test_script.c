/* test_script.c: unit tests for the scripting runtime (script_lua.c).
 *
 * The RESP -> Lua conversion redis.call() applies is fuzzed: seeded random
 * reply trees (every RESP2 and RESP3 type, binary payloads, nesting) are
 * encoded, converted with script_reply_to_lua(), and the Lua value is walked
 * against the tree by Redis's rules. Every proper prefix of each encoding is
 * converted too: it must stay within its bytes (run under Asan). SHA1 has
 * known answers. */
#include "ember/script.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <setjmp.h> /* stdarg, stddef and setjmp must precede cmocka.h */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- A tiny seeded generator ---- */

static uint64_t rng_state;

static uint64_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int below(int n)
{
    return (int)(next_rand() % (uint64_t)n);
}

/* ---- Reply trees ---- */

enum kind {
    K_INT,
    K_BULK,
    K_NULL_BULK,
    K_NULL_ARRAY,
    K_STATUS,
    K_ERROR,
    K_ARRAY, /* RESP2 */
    K_MAP,
    K_SET,
    K_NULL,
    K_BOOL,
    K_DOUBLE,
    K_BIG,
    K_VERBATIM,
    K_ATTR, /* RESP3 */
    K_COUNT
};

#define MAX_CHILDREN 6
#define MAX_TEXT     48

struct node {
    enum kind kind;
    long long num;
    double d;
    char text[MAX_TEXT];
    size_t len;
    int n; /* children (maps: keys at even, values at odd) */
    struct node *child[2 * MAX_CHILDREN];
};

static int unique_counter;

static void random_text(struct node *x, bool line_safe)
{
    x->len = (size_t)below(MAX_TEXT - 8);
    for (size_t i = 0; i < x->len; i++) {
        char ch = (char)below(256);
        if (line_safe && (ch == '\r' || ch == '\n')) ch = 'x';
        x->text[i] = ch;
    }
}

static struct node *gen(int depth, bool resp3);

/* Map keys and set members: distinct strings, so lookups are exact. */
static struct node *unique_bulk(void)
{
    struct node *x = calloc(1, sizeof(*x));
    x->kind = K_BULK;
    x->len = (size_t)snprintf(x->text, sizeof(x->text), "u%d", unique_counter++);
    return x;
}

static struct node *gen(int depth, bool resp3)
{
    struct node *x = calloc(1, sizeof(*x));
    int kinds = resp3 ? K_COUNT : K_ARRAY + 1;
    x->kind = (enum kind)below(kinds);
    if (depth >= 4 && (x->kind == K_ARRAY || x->kind >= K_MAP)) x->kind = K_BULK;
    switch (x->kind) {
    case K_INT:
        x->num = (long long)(next_rand() >> below(64));
        if (below(2)) x->num = -x->num;
        break;
    case K_BULK:
        random_text(x, false);
        break;
    case K_STATUS:
    case K_BIG:
        random_text(x, true);
        break;
    case K_ERROR:
        random_text(x, true);
        if (below(2)) memcpy(x->text, "CODE msg", x->len >= 8 ? 8 : x->len);
        break;
    case K_VERBATIM:
        random_text(x, false);
        break;
    case K_BOOL:
        x->num = below(2);
        break;
    case K_DOUBLE:
        x->d = (double)(int)below(100000) / 64.0 - 500.0;
        break;
    case K_ARRAY:
        x->n = below(MAX_CHILDREN + 1);
        for (int i = 0; i < x->n; i++)
            x->child[i] = gen(depth + 1, resp3);
        break;
    case K_MAP:
        x->n = below(MAX_CHILDREN + 1);
        for (int i = 0; i < x->n; i++) {
            x->child[2 * i] = unique_bulk();
            x->child[2 * i + 1] = gen(depth + 1, resp3);
        }
        break;
    case K_SET:
        x->n = below(MAX_CHILDREN + 1);
        for (int i = 0; i < x->n; i++)
            x->child[i] = unique_bulk();
        break;
    case K_ATTR: /* one attribute pair, then the reply it decorates */
        x->n = 3;
        x->child[0] = unique_bulk();
        x->child[1] = gen(depth + 1, resp3);
        x->child[2] = gen(depth + 1, resp3);
        break;
    default:
        break;
    }
    return x;
}

static void free_node(struct node *x)
{
    int total = x->kind == K_MAP ? 2 * x->n : x->n;
    for (int i = 0; i < total; i++)
        free_node(x->child[i]);
    free(x);
}

/* ---- Encoding ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, len);
    b->len += len;
}

static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)n);
}

static void encode(struct buf *b, const struct node *x)
{
    switch (x->kind) {
    case K_INT:
        putf(b, ":%lld\r\n", x->num);
        break;
    case K_BULK:
        putf(b, "$%zu\r\n", x->len);
        put(b, x->text, x->len);
        put(b, "\r\n", 2);
        break;
    case K_NULL_BULK:
        put(b, "$-1\r\n", 5);
        break;
    case K_NULL_ARRAY:
        put(b, "*-1\r\n", 5);
        break;
    case K_STATUS:
    case K_ERROR:
    case K_BIG:
        put(b, x->kind == K_STATUS ? "+" : x->kind == K_ERROR ? "-" : "(", 1);
        put(b, x->text, x->len);
        put(b, "\r\n", 2);
        break;
    case K_ARRAY:
    case K_SET:
        putf(b, "%c%d\r\n", x->kind == K_ARRAY ? '*' : '~', x->n);
        for (int i = 0; i < x->n; i++)
            encode(b, x->child[i]);
        break;
    case K_MAP:
        putf(b, "%%%d\r\n", x->n);
        for (int i = 0; i < 2 * x->n; i++)
            encode(b, x->child[i]);
        break;
    case K_NULL:
        put(b, "_\r\n", 3);
        break;
    case K_BOOL:
        put(b, x->num ? "#t\r\n" : "#f\r\n", 4);
        break;
    case K_DOUBLE:
        putf(b, ",%.17g\r\n", x->d);
        break;
    case K_VERBATIM:
        putf(b, "=%zu\r\ntxt:", x->len + 4);
        put(b, x->text, x->len);
        put(b, "\r\n", 2);
        break;
    case K_ATTR:
        put(b, "|1\r\n", 4);
        encode(b, x->child[0]);
        encode(b, x->child[1]);
        encode(b, x->child[2]);
        break;
    default:
        fail();
    }
}

/* ---- Checking the Lua value (on the top of the stack) ---- */

static void check_string_field(lua_State *L, const char *field, const char *want, size_t len)
{
    lua_getfield(L, -1, field);
    assert_int_equal(lua_type(L, -1), LUA_TSTRING);
    size_t got_len;
    const char *got = lua_tolstring(L, -1, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    lua_pop(L, 1);
}

/* The error table Redis builds: the first word is the code unless there is
 * no space ("ERR " then), CR/LF trimmed. */
static void expected_error(const struct node *x, char *out, size_t *len)
{
    const char *sp = memchr(x->text, ' ', x->len);
    if (sp == NULL) {
        memcpy(out, "ERR ", 4);
        memcpy(out + 4, x->text, x->len);
        *len = x->len + 4;
    } else {
        *len = x->len;
        memcpy(out, x->text, x->len);
    }
}

static void check(lua_State *L, const struct node *x)
{
    switch (x->kind) {
    case K_INT:
        assert_int_equal(lua_type(L, -1), LUA_TNUMBER);
        assert_true(lua_tonumber(L, -1) == (lua_Number)x->num);
        break;
    case K_BULK: {
        assert_int_equal(lua_type(L, -1), LUA_TSTRING);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        assert_int_equal(len, x->len);
        assert_memory_equal(s, x->text, len);
        break;
    }
    case K_NULL_BULK:
    case K_NULL_ARRAY:
        assert_int_equal(lua_type(L, -1), LUA_TBOOLEAN);
        assert_false(lua_toboolean(L, -1));
        break;
    case K_STATUS:
        check_string_field(L, "ok", x->text, x->len);
        break;
    case K_ERROR: {
        char want[MAX_TEXT + 8];
        size_t len;
        expected_error(x, want, &len);
        check_string_field(L, "err", want, len);
        lua_getfield(L, -1, "ignore_error_stats_update");
        assert_true(lua_toboolean(L, -1));
        lua_pop(L, 1);
        break;
    }
    case K_BIG:
        check_string_field(L, "big_number", x->text, x->len);
        break;
    case K_VERBATIM:
        lua_getfield(L, -1, "verbatim_string");
        check_string_field(L, "format", "txt", 3);
        check_string_field(L, "string", x->text, x->len);
        lua_pop(L, 1);
        break;
    case K_ARRAY:
        assert_int_equal(lua_type(L, -1), LUA_TTABLE);
        for (int i = 0; i < x->n; i++) {
            lua_rawgeti(L, -1, i + 1);
            if (x->child[i]->kind == K_NULL) {
                assert_true(lua_isnil(L, -1));
            } else {
                check(L, x->child[i]);
            }
            lua_pop(L, 1);
        }
        break;
    case K_MAP:
    case K_SET: {
        lua_getfield(L, -1, x->kind == K_MAP ? "map" : "set");
        assert_int_equal(lua_type(L, -1), LUA_TTABLE);
        int count = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            count++;
            lua_pop(L, 1);
        }
        int expect_count = 0;
        for (int i = 0; i < x->n; i++) {
            const struct node *key = x->kind == K_MAP ? x->child[2 * i] : x->child[i];
            const struct node *val = x->kind == K_MAP ? x->child[2 * i + 1] : NULL;
            while (val != NULL && val->kind == K_ATTR)
                val = val->child[2]; /* the value an attribute decorates */
            lua_pushlstring(L, key->text, key->len);
            lua_rawget(L, -2);
            if (val == NULL) {
                assert_true(lua_toboolean(L, -1));
                expect_count++;
            } else if (val->kind == K_NULL) {
                assert_true(lua_isnil(L, -1)); /* a nil value leaves no entry */
            } else {
                check(L, val);
                expect_count++;
            }
            lua_pop(L, 1);
        }
        assert_int_equal(count, expect_count);
        lua_pop(L, 1);
        break;
    }
    case K_NULL:
        assert_true(lua_isnil(L, -1));
        break;
    case K_BOOL:
        assert_int_equal(lua_type(L, -1), LUA_TBOOLEAN);
        assert_int_equal(lua_toboolean(L, -1), x->num);
        break;
    case K_DOUBLE:
        lua_getfield(L, -1, "double");
        assert_int_equal(lua_type(L, -1), LUA_TNUMBER);
        assert_true(lua_tonumber(L, -1) == x->d);
        lua_pop(L, 1);
        break;
    case K_ATTR:
        check(L, x->child[2]);
        break;
    default:
        fail();
    }
}

/* ---- Tests ---- */

static void fuzz(bool resp3, uint64_t seed, int rounds)
{
    rng_state = seed;
    lua_State *L = luaL_newstate();
    for (int r = 0; r < rounds; r++) {
        struct node *tree = gen(0, resp3);
        struct buf b = {0};
        encode(&b, tree);
        int top = lua_gettop(L);
        script_reply_to_lua(L, b.p, b.len);
        assert_int_equal(lua_gettop(L), top + 1);
        check(L, tree);
        lua_settop(L, top);
        /* Every proper prefix: one value pushed, no read past the end. */
        for (size_t cut = 0; cut < b.len; cut += 1 + (size_t)below(7)) {
            char *copy = malloc(cut + 1);
            memcpy(copy, b.p, cut);
            script_reply_to_lua(L, copy, cut);
            assert_int_equal(lua_gettop(L), top + 1);
            lua_settop(L, top);
            free(copy);
        }
        free(b.p);
        free_node(tree);
        if (r % 64 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
    }
    lua_close(L);
}

static void test_resp2_replies_to_lua(void **state)
{
    (void)state;
    fuzz(false, 0x9E3779B97F4A7C15ULL, 3000);
}

static void test_resp3_replies_to_lua(void **state)
{
    (void)state;
    fuzz(true, 0xD1B54A32D192ED03ULL, 3000);
}

/* Fixed cases whose Lua shapes are easy to get wrong. */
static void test_reply_edge_cases(void **state)
{
    (void)state;
    lua_State *L = luaL_newstate();
    /* An error without a code gets "ERR"; CR/LF inside stay, at the ends go. */
    script_reply_to_lua(L, "-WRONGTYPE Operation\r\n", 22);
    check_string_field(L, "err", "WRONGTYPE Operation", 19);
    lua_pop(L, 1);
    script_reply_to_lua(L, "-oops\r\n", 7);
    check_string_field(L, "err", "ERR oops", 8);
    lua_pop(L, 1);
    /* An empty array is an empty table, a null array false. */
    script_reply_to_lua(L, "*0\r\n", 4);
    assert_true(lua_istable(L, -1));
    assert_int_equal(lua_objlen(L, -1), 0);
    lua_pop(L, 1);
    script_reply_to_lua(L, "*-1\r\n", 5);
    assert_true(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    /* Integers are doubles in Lua 5.1: 2^53 + 1 rounds. */
    script_reply_to_lua(L, ":9007199254740993\r\n", 19);
    assert_true(lua_tonumber(L, -1) == 9007199254740992.0);
    lua_pop(L, 1);
    /* A bulk length beyond the bytes: clamped, never read past. */
    script_reply_to_lua(L, "$100\r\nabc", 9);
    assert_int_equal(lua_objlen(L, -1), 3);
    lua_pop(L, 1);
    /* A huge array count on a truncated reply stops at the end. */
    script_reply_to_lua(L, "*2000000000\r\n:1\r\n", 17);
    assert_true(lua_istable(L, -1));
    lua_pop(L, 1);
    lua_close(L);
}

static void test_sha1_known_answers(void **state)
{
    (void)state;
    char out[41];
    script_sha1hex(out, "", 0);
    assert_string_equal(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    script_sha1hex(out, "abc", 3);
    assert_string_equal(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    script_sha1hex(out, two_blocks, strlen(two_blocks));
    assert_string_equal(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* The digest EVAL uses for "return 1" (SCRIPT LOAD on redis-server). */
    script_sha1hex(out, "return 1", 8);
    assert_string_equal(out, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    char big[1000];
    memset(big, 'a', sizeof(big));
    script_sha1hex(out, big, sizeof(big));
    assert_string_equal(out, "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

static void test_flag_names(void **state)
{
    (void)state;
    unsigned f;
    assert_true(script_flag_parse("no-writes", 9, false, &f));
    assert_int_equal(f, SCRIPT_FLAG_NO_WRITES);
    assert_false(script_flag_parse("NO-WRITES", 9, false, &f));
    assert_true(script_flag_parse("NO-WRITES", 9, true, &f));
    assert_true(script_flag_parse("allow-cross-slot-keys", 21, false, &f));
    assert_int_equal(f, SCRIPT_FLAG_ALLOW_CROSS_SLOT);
    assert_false(script_flag_parse("no-write", 8, true, &f));
    assert_false(script_flag_parse("", 0, true, &f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resp2_replies_to_lua), cmocka_unit_test(test_resp3_replies_to_lua),
        cmocka_unit_test(test_reply_edge_cases),     cmocka_unit_test(test_sha1_known_answers),
        cmocka_unit_test(test_flag_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
