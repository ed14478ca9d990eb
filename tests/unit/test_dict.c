/* test_dict.c: the hash table alone: lookups during a rehash, the scan
 * guarantee across resizes, bucket marks, and a seeded fuzz against a model. */
#include "ember/dict.h"
#include "ember/mem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

/* Test nodes: key plus a one-byte "marked" payload. */
static struct dict_node *node_make(const char *key, bool marked)
{
    size_t klen = strlen(key);
    struct dict_node *n = em_malloc(DICT_NODE_HDR + dict_key_size(klen) + 1);
    n->next = NULL;
    n->meta = 0;
    uint8_t *p = dict_node_set_key(n, key, klen);
    *p = marked ? 1 : 0;
    return n;
}

static bool node_marked(const struct dict_node *n)
{
    return *dict_node_payload(n) == 1;
}

static void node_destroy(struct dict_node *n, void *ctx)
{
    (void)ctx;
    em_free(n);
}

static const struct dict_type test_type = {.destroy = node_destroy, .is_marked = node_marked};

static void add_key(struct dict *d, const char *key, bool marked)
{
    dict_insert(d, dict_hash(key, strlen(key)), node_make(key, marked));
}

static struct dict_node *find_key(struct dict *d, const char *key)
{
    return dict_find(d, dict_hash(key, strlen(key)), key, strlen(key), NULL);
}

static bool del_key(struct dict *d, const char *key)
{
    struct dict_pos pos;
    struct dict_node *n = dict_find(d, dict_hash(key, strlen(key)), key, strlen(key), &pos);
    if (n == NULL) return false;
    em_free(dict_unlink(d, &pos));
    return true;
}

static void fill(struct dict *d, int from, int to, bool marked)
{
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        add_key(d, key, marked);
    }
}

static int setup(void **state)
{
    static const uint8_t seed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    hash_set_seed(seed);
    struct dict *d = em_malloc(sizeof(*d));
    dict_init(d, &test_type);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dict *d = *state;
    dict_deinit(d, NULL);
    em_free(d);
    return 0;
}

static void test_find_during_rehash(void **state)
{
    struct dict *d = *state;
    /* Fill exactly to a power of two so the next insert starts a resize. */
    fill(d, 0, 1024, false);
    while (dict_is_rehashing(d))
        dict_rehash(d, 100);
    add_key(d, "trigger", false);
    assert_true(dict_is_rehashing(d));
    char key[32];
    for (int i = 0; i < 1024; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_non_null(find_key(d, key));
    }
    assert_non_null(find_key(d, "trigger"));
    assert_null(find_key(d, "absent"));
    assert_int_equal(dict_size(d), 1025);
}

static void test_delete_during_rehash(void **state)
{
    struct dict *d = *state;
    fill(d, 0, 2048, false);
    add_key(d, "trigger", false);
    char key[32];
    for (int i = 0; i < 2048; i += 2) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_true(del_key(d, key));
    }
    while (dict_rehash(d, 10)) {
    }
    assert_int_equal(dict_size(d), 1025);
    for (int i = 0; i < 2048; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        if (i % 2 == 0) {
            assert_null(find_key(d, key));
        } else {
            assert_non_null(find_key(d, key));
        }
    }
}

static void test_shrink(void **state)
{
    struct dict *d = *state;
    fill(d, 0, 4096, false);
    while (dict_rehash(d, 100)) {
    }
    size_t big = d->t[0].size;
    char key[32];
    for (int i = 0; i < 4090; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_true(del_key(d, key));
    }
    dict_maybe_shrink(d);
    while (dict_rehash(d, 100)) {
    }
    assert_true(d->t[0].size < big);
    for (int i = 4090; i < 4096; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        assert_non_null(find_key(d, key));
    }
}

/* ---- Scan ---- */

struct seen {
    unsigned char *hits; /* per key index */
    int n;
};

static void count_hit(struct dict_node *node, void *arg)
{
    struct seen *s = arg;
    struct slice k = dict_node_key(node);
    int idx = atoi(k.ptr + 4); /* "key:<n>" */
    if (idx >= 0 && idx < s->n && s->hits[idx] < 255) s->hits[idx]++;
}

/* Every key present for the whole scan is returned at least once, while the
 * table grows (and rehashes) between cursor calls. */
static void test_scan_guarantee_while_growing(void **state)
{
    struct dict *d = *state;
    const int base = 500, extra = 5000;
    fill(d, 0, base, false);
    struct seen s = {calloc((size_t)(base + extra), 1), base + extra};
    unsigned long long cursor = 0;
    int added = base;
    do {
        cursor = dict_scan(d, cursor, count_hit, &s);
        /* Grow between calls: forces resizes with the cursor mid-way. */
        if (added < base + extra) {
            fill(d, added, added + 50, false);
            added += 50;
        }
    } while (cursor != 0);
    for (int i = 0; i < base; i++)
        assert_true(s.hits[i] >= 1);
    free(s.hits);
}

static void test_scan_guarantee_while_shrinking(void **state)
{
    struct dict *d = *state;
    const int keep = 100, total = 8000;
    fill(d, 0, total, false);
    while (dict_rehash(d, 100)) {
    }
    struct seen s = {calloc((size_t)total, 1), total};
    unsigned long long cursor = 0;
    int next_del = keep;
    char key[32];
    do {
        cursor = dict_scan(d, cursor, count_hit, &s);
        for (int k = 0; k < 200 && next_del < total; k++, next_del++) {
            snprintf(key, sizeof(key), "key:%d", next_del);
            del_key(d, key);
        }
        dict_maybe_shrink(d);
        dict_rehash(d, 5);
    } while (cursor != 0);
    for (int i = 0; i < keep; i++)
        assert_true(s.hits[i] >= 1);
    free(s.hits);
}

static void test_scan_empty(void **state)
{
    struct dict *d = *state;
    struct seen s = {NULL, 0};
    assert_int_equal(dict_scan(d, 0, count_hit, &s), 0);
}

/* ---- Marks ---- */

struct marked_ctx {
    int visited;
    bool delete;
};

static void visit_marked(struct dict *d, struct dict_node *n, struct dict_pos *pos, void *arg)
{
    struct marked_ctx *m = arg;
    assert_true(node_marked(n));
    m->visited++;
    if (m->delete) em_free(dict_unlink(d, pos));
}

static void test_marked_walk_visits_only_marked(void **state)
{
    struct dict *d = *state;
    fill(d, 0, 5000, false);
    fill(d, 5000, 5100, true); /* 100 marked among 5100 */
    while (dict_rehash(d, 100)) {
    }
    struct marked_ctx m = {0, true};
    size_t cursor = 0;
    int calls = 0;
    while (dict_next_marked(d, &cursor, visit_marked, &m) > 0)
        calls++;
    assert_int_equal(m.visited, 100);
    assert_int_equal(dict_size(d), 5000);
    /* Every mark is now clear: the next walk finds nothing. */
    assert_int_equal(dict_next_marked(d, &cursor, visit_marked, &m), -1);
}

static void test_marks_survive_rehash(void **state)
{
    struct dict *d = *state;
    fill(d, 0, 64, true);
    fill(d, 64, 2000, false); /* several resizes with marked nodes moving */
    while (dict_rehash(d, 100)) {
    }
    struct marked_ctx m = {0, false};
    size_t cursor = 0;
    int guard = 0;
    /* Without deleting, a full round visits each marked node once. */
    while (m.visited < 64 && guard++ < 10000)
        dict_next_marked(d, &cursor, visit_marked, &m);
    assert_int_equal(m.visited, 64);
}

/* ---- Fuzz against a model ---- */

static void test_fuzz_against_model(void **state)
{
    struct dict *d = *state;
    enum { N = 3000 };
    static bool present[N];
    memset(present, 0, sizeof(present));
    struct rng r;
    rng_seed(&r, 42);
    char key[32];
    for (int step = 0; step < 200000; step++) {
        int k = (int)rng_below(&r, N);
        snprintf(key, sizeof(key), "key:%d", k);
        switch (rng_below(&r, 3)) {
        case 0:
            if (!present[k]) {
                add_key(d, key, rng_below(&r, 2) == 0);
                present[k] = true;
            }
            break;
        case 1:
            assert_int_equal(del_key(d, key), present[k]);
            present[k] = false;
            break;
        default:
            assert_int_equal(find_key(d, key) != NULL, present[k]);
        }
        if (step % 997 == 0) dict_maybe_shrink(d);
    }
    size_t count = 0;
    for (int i = 0; i < N; i++)
        count += present[i];
    assert_int_equal(dict_size(d), count);
    /* A full iteration sees exactly the model's keys. */
    struct dict_iter it;
    dict_iter_init(&it, d);
    size_t seen = 0;
    for (struct dict_node *n = dict_iter_next(&it); n != NULL; n = dict_iter_next(&it)) {
        struct slice ks = dict_node_key(n);
        assert_true(present[atoi(ks.ptr + 4)]);
        seen++;
    }
    dict_iter_deinit(&it);
    assert_int_equal(seen, count);
}

static void test_random_returns_members(void **state)
{
    struct dict *d = *state;
    struct rng r;
    rng_seed(&r, 7);
    assert_null(dict_random(d, &r));
    fill(d, 0, 300, false);
    for (int i = 0; i < 1000; i++) {
        struct dict_node *n = dict_random(d, &r);
        assert_non_null(n);
        struct slice k = dict_node_key(n);
        assert_true(atoi(k.ptr + 4) < 300);
    }
}

static void test_long_keys(void **state)
{
    struct dict *d = *state;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    add_key(d, big, false);
    struct dict_node *n = find_key(d, big);
    assert_non_null(n);
    assert_int_equal(dict_node_key(n).len, sizeof(big) - 1);
    big[500] = 'y';
    assert_null(find_key(d, big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_during_rehash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_during_rehash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_while_growing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_while_shrinking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marked_walk_visits_only_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marks_survive_rehash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_against_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_returns_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
