/* fuzz_rdb.c: libFuzzer target for the RDB codec (rdb.h): the reader of
 * DUMP payloads and of whole RDB files, which take bytes from clients
 * (RESTORE) and from disk.
 *
 * The first input byte picks the form, the rest is the data:
 *  - even: a DUMP payload body (type byte and value, no footer), given to
 *    rdb_parse_value() so the fuzzer need not forge checksums. What it
 *    accepts must DUMP, and that payload must RESTORE (version and CRC
 *    checked) and DUMP again to as many bytes (the elements are the same;
 *    only the order of a set or hash may differ); with bit 1 of the first
 *    byte the dumps are LZF-compressed;
 *  - odd: an RDB file, given to rdb_load() with the checksum check off (as
 *    rdbchecksum no does). What it loads must save and load back to the
 *    same number of keys.
 * Small encoding limits make the loaded values convert between their
 * compact and plain forms. */
#include "ember/config.h"
#include "ember/db.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/mem.h"
#include "ember/object.h"
#include "ember/rdb.h"
#include "ember/server.h"
#include "ember/set.h"
#include "ember/util.h"
#include "ember/zset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_rdb: check failed at line %d: %s\n", __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NOW_MS 1700000000000LL
#define DBS    4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keyspace ks_a, ks_b;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t seed[16] = {0};
    hash_set_seed(seed);
    config_init(&server.cfg);
    server.cfg.rdbchecksum = false;
    server.cfg.hash_max_listpack_entries = 4;
    server.cfg.zset_max_listpack_entries = 4;
    server.cfg.set_max_intset_entries = 4;
    server.cfg.set_max_listpack_entries = 4;
    server.cfg.list_max_listpack_size = 3;
    t_list_setup();
    t_set_setup();
    t_hash_setup();
    t_zset_setup();
    keyspace_init(&ks_a, DBS, 1);
    keyspace_init(&ks_b, DBS, 2);
    clock_freeze(NOW_MS);
    return 0;
}

static void dump(const struct dict_node *o, bool compress, struct rdb_out *out)
{
    *out = (struct rdb_out){.compress = compress};
    rdb_dump_value(out, o);
}

static void fuzz_payload(const uint8_t *p, size_t n, bool compress)
{
    struct slice key = {"k", 1};
    struct dict_node *o;
    if (rdb_parse_value(p, n, key, &o) != 0) {
        CHECK(o == NULL);
        return;
    }
    struct rdb_out d1, d2;
    dump(o, compress, &d1);
    struct dict_node *again;
    CHECK(rdb_restore_value(d1.buf, d1.len, key, &again) == 0);
    CHECK(obj_type(again) == obj_type(o));
    dump(again, false, &d2);
    if (!compress) CHECK(d2.len == d1.len);
    rdb_out_free(&d1);
    rdb_out_free(&d2);
    obj_destroy(o);
    obj_destroy(again);
}

static long long keys_in(struct keyspace *ks)
{
    long long n = 0;
    for (int i = 0; i < ks->count; i++)
        n += (long long)db_size(&ks->dbs[i]);
    return n;
}

static void flush_all(struct keyspace *ks)
{
    for (int i = 0; i < ks->count; i++)
        db_flush(&ks->dbs[i]);
}

static void fuzz_file(const uint8_t *p, size_t n)
{
    char err[256];
    long long loaded = rdb_load(&ks_a, p, n, NOW_MS, err, sizeof(err));
    if (loaded >= 0) {
        /* Keys of one name in one db count once. */
        long long keys = keys_in(&ks_a);
        CHECK(keys <= loaded);
        struct rdb_out out = {0};
        CHECK(rdb_save(&out, &ks_a, NOW_MS) == 0);
        server.cfg.rdbchecksum = true; /* what the writer wrote must verify */
        CHECK(rdb_load(&ks_b, out.buf, out.len, NOW_MS, err, sizeof(err)) == keys);
        server.cfg.rdbchecksum = false;
        CHECK(keys_in(&ks_b) == keys);
        rdb_out_free(&out);
    }
    flush_all(&ks_a);
    flush_all(&ks_b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1)
        fuzz_file(data + 1, size - 1);
    else
        fuzz_payload(data + 1, size - 1, (data[0] & 2) != 0);
    return 0;
}
