/* rdb.h: the RDB (version 10) snapshot format, as Redis 7.0 writes it.
 *
 * The writer emits the plain encodings (strings, RDB_TYPE_LIST, SET, HASH,
 * ZSET_2), AUX fields, SELECTDB/RESIZEDB per non-empty db, EXPIRETIME_MS per
 * key with a deadline, EOF and the CRC64 (Redis's Jones polynomial) of all
 * bytes before it. It writes to a growable buffer or through to a FILE.
 *
 * The reader takes a whole file in memory and accepts what the writer
 * writes plus the forms Redis 7.0 writes for small values (intset,
 * listpack, quicklist 2, ziplist for hashes/zsets/lists). Expired keys are
 * skipped, as a Redis master skips them. */
#ifndef EMBER_RDB_H
#define EMBER_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct keyspace;

#define RDB_VERSION 10

/* Redis's crc64 (Jones, reflected, init 0): crc64(0, "123456789", 9) is
 * 0xe9c6d914c4b8d9ca. */
uint64_t rdb_crc64(uint64_t crc, const void *p, size_t n);

/* Where written bytes go: the buffer, flushed to `fp` when set. */
struct rdb_out {
    uint8_t *buf;
    size_t len, cap;
    FILE *fp; /* NULL: keep everything in buf */
    uint64_t crc;
    bool failed; /* a write to fp failed */
};

/* Writes every db of `ks` as one RDB file (header to checksum). `now_ms`
 * drops keys already expired. Returns 0, or -1 if writing to fp failed. */
int rdb_save(struct rdb_out *out, struct keyspace *ks, long long now_ms);
/* Frees the buffer of an rdb_out. */
void rdb_out_free(struct rdb_out *out);

/* Loads an RDB image into `ks` (keys already present are replaced).
 * Returns the number of keys loaded, or -1 with a reason in err. */
long long rdb_load(struct keyspace *ks, const uint8_t *p, size_t len, long long now_ms, char *err,
                   size_t errlen);
/* The same for a file; -2 if the file does not exist. */
long long rdb_load_file(struct keyspace *ks, const char *path, long long now_ms, char *err,
                        size_t errlen);

#endif
