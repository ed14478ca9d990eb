/* digest.h: DEBUG DIGEST and DEBUG DIGEST-VALUE, Redis's dataset checksum.
 *
 * A SHA1-based digest of what a client can observe: every db, key, type,
 * value and whether the key has a deadline, independent of encodings and of
 * the order of unordered collections, computed the way Redis's debug.c
 * does (mix = XOR the SHA1 of the data in, then re-hash; xor = XOR only,
 * for members of sets and hashes, whose order is not part of the value).
 * Tests compare digests before and after a restart, a reload or a
 * replication to prove a dataset survived. */
#ifndef EMBER_DIGEST_H
#define EMBER_DIGEST_H

#include <stdint.h>

struct dict_node;
struct keyspace;

#define DIGEST_LEN 20

/* The whole keyspace; all zeros when it is empty (as Redis). */
void digest_dataset(const struct keyspace *ks, uint8_t out[DIGEST_LEN]);

/* One value (type and contents, without key or deadline). */
void digest_value(const struct dict_node *o, uint8_t out[DIGEST_LEN]);

#endif
