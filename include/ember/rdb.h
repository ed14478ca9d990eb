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

#include "ember/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dict_node;
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
    bool failed;   /* a write to fp failed */
    bool compress; /* LZF-compress strings over 20 bytes when it saves space (rdbcompression) */
    bool no_crc;   /* write a zero checksum and skip computing it (rdbchecksum no) */
    /* If set, rdb_save calls it every 1024 keys with the keys written so far
     * (a BGSAVE child reports its progress to the parent through it). */
    void (*progress)(void *arg, long long keys);
    void *progress_arg;
};

/* Writes every db of `ks` as one RDB file (header to checksum). `now_ms`
 * drops keys already expired. Returns 0, or -1 if writing to fp failed. */
int rdb_save(struct rdb_out *out, struct keyspace *ks, long long now_ms);
/* Frees the buffer of an rdb_out. */
void rdb_out_free(struct rdb_out *out);

/* Loads an RDB image into `ks` (keys already present are replaced).
 * Returns the number of keys loaded, or -1 with a reason in err. The
 * checksum is checked unless it is zero or server.cfg.rdbchecksum is off. */
long long rdb_load(struct keyspace *ks, const uint8_t *p, size_t len, long long now_ms, char *err,
                   size_t errlen);
/* The same for a file; -2 if the file does not exist. */
long long rdb_load_file(struct keyspace *ks, const char *path, long long now_ms, char *err,
                        size_t errlen);
/* rdb_load_file that also adds to *expired the keys it dropped because
 * their deadline had passed (INFO's rdb_last_load_keys_expired). */
long long rdb_load_file_counted(struct keyspace *ks, const char *path, long long now_ms,
                                long long *expired, char *err, size_t errlen);

/* ---- DUMP / RESTORE payloads: type byte, value, RDB version (2 bytes,
 * little endian), CRC64 of everything before (8 bytes, little endian) ---- */

#define RDB_BAD_PAYLOAD (-1) /* "DUMP payload version or checksum are wrong" */
#define RDB_BAD_DATA    (-2) /* "Bad data format" */

/* Appends the DUMP payload of entry `o` (its value, not its key or TTL) to
 * `out`, which must have no fp. The checksum is always written. */
void rdb_dump_value(struct rdb_out *out, const struct dict_node *o);
/* Checks a payload's version and checksum, then rebuilds the value as a
 * new entry named `key` without deadline in *out (caller owns it). Returns
 * 0, RDB_BAD_PAYLOAD or RDB_BAD_DATA (*out is then NULL). */
int rdb_restore_value(const uint8_t *p, size_t len, struct slice key, struct dict_node **out);
/* The same without the footer: `p` is the type byte and value only (the
 * fuzz target's entry point; RESTORE uses rdb_restore_value). */
int rdb_parse_value(const uint8_t *p, size_t len, struct slice key, struct dict_node **out);

#endif
