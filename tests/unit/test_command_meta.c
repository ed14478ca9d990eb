/* test_command_meta.c: unit tests for command_meta.c's lookups and key-spec
 * walk.
 *
 * Expected keys were checked against redis-server 7.0.15 with COMMAND
 * GETKEYS (the same cases run byte for byte in
 * tests/integration/diff/21b_command_metadata.txt); these pin the walk's
 * edge cases without a server: counts that are bad, zero or too large,
 * several specs, and the step of MSET's range. */
#include "ember/command_meta.h"

#include <setjmp.h> /* stdarg, stddef and setjmp must precede cmocka.h */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define MAX_ARGS 16

/* Splits a space-separated command line into argv (no quoting needed here). */
static int split(char *line, struct slice *argv)
{
    int argc = 0;
    for (char *tok = strtok(line, " "); tok != NULL && argc < MAX_ARGS; tok = strtok(NULL, " ")) {
        argv[argc++] = (struct slice){tok, strlen(tok)};
    }
    return argc;
}

/* The key positions command_meta_get_keys finds in `line` for `name`, as a
 * string "1,3,5", or "invalid" (-1). */
static const char *keys_of(const char *name, const char *line)
{
    static char out[64];
    char buf[256];
    struct slice argv[MAX_ARGS];
    struct meta_key keys[MAX_ARGS];
    strcpy(buf, line);
    int argc = split(buf, argv);
    const struct command_meta *m = command_meta_find(name);
    assert_non_null(m);
    int n = command_meta_get_keys(m, argc, argv, keys, MAX_ARGS);
    if (n < 0) return "invalid";
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char pos[8];
        snprintf(pos, sizeof(pos), "%s%d", i ? "," : "", keys[i].pos);
        strcat(out, pos);
    }
    return out;
}

static void test_find(void **state)
{
    (void)state;
    assert_non_null(command_meta_find("get"));
    assert_non_null(command_meta_find("config|get"));
    assert_null(command_meta_find("GET")); /* callers pass lower case */
    assert_null(command_meta_find("nosuch"));
    assert_null(command_meta_find("config|nosuch"));
    assert_null(command_meta_find(""));
}

static void test_flags_derived_from_specs(void **state)
{
    (void)state;
    assert_false(command_meta_movablekeys(command_meta_find("get")));
    assert_false(command_meta_movablekeys(command_meta_find("mset")));
    assert_true(command_meta_movablekeys(command_meta_find("eval")));
    assert_true(command_meta_movablekeys(command_meta_find("zunionstore")));
    assert_false(command_meta_movablekeys(NULL));
    assert_true(command_meta_has_keys(command_meta_find("get")));
    assert_false(command_meta_has_keys(command_meta_find("ping")));
    assert_false(command_meta_has_keys(command_meta_find("spublish"))); /* channels only */
    assert_false(command_meta_has_keys(NULL));
}

static void test_index_and_range(void **state)
{
    (void)state;
    assert_string_equal(keys_of("get", "get k"), "1");
    assert_string_equal(keys_of("mset", "mset a 1 b 2 c 3"), "1,3,5");
    assert_string_equal(keys_of("del", "del a b c"), "1,2,3");
    assert_string_equal(keys_of("blpop", "blpop a b 0"), "1,2");
    assert_string_equal(keys_of("lmove", "lmove a b left right"), "1,2");
    assert_string_equal(keys_of("object|encoding", "object encoding k"), "2");
}

static void test_keynum(void **state)
{
    (void)state;
    assert_string_equal(keys_of("eval", "eval s 2 a b c"), "3,4");
    assert_string_equal(keys_of("eval", "eval s 0"), "invalid");
    assert_string_equal(keys_of("eval", "eval s x"), "invalid");
    assert_string_equal(keys_of("eval", "eval s -1 a"), "invalid");
    assert_string_equal(keys_of("eval", "eval s 5 a"), "invalid");
    assert_string_equal(keys_of("zunionstore", "zunionstore d 2 a b weights 1 2"), "1,3,4");
    assert_string_equal(keys_of("lmpop", "lmpop 2 a b left"), "2,3");
    assert_string_equal(keys_of("blmpop", "blmpop 0 2 a b left"), "3,4");
}

/* Several specs: their keys in spec order. (No command ember has uses a
 * keyword begin_search; that path waits for XREAD, SORT ... STORE, MIGRATE.) */
static void test_several_specs(void **state)
{
    (void)state;
    assert_string_equal(keys_of("zrangestore", "zrangestore d s 0 1"), "1,2");
    assert_string_equal(keys_of("smove", "smove a b m"), "1,2");
    assert_string_equal(keys_of("sintercard", "sintercard 2 a b limit 1"), "2,3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_flags_derived_from_specs),
        cmocka_unit_test(test_index_and_range),
        cmocka_unit_test(test_keynum),
        cmocka_unit_test(test_several_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
