/* digest.c: DEBUG DIGEST / DIGEST-VALUE (digest.h), as Redis's debug.c
 * computes them. */
#include "ember/digest.h"

#include "ember/db.h"
#include "ember/dict.h"
#include "ember/hash.h"
#include "ember/list.h"
#include "ember/object.h"
#include "ember/script.h"
#include "ember/set.h"
#include "ember/zset.h"

#include <stdio.h>
#include <string.h>

/* digest ^= SHA1(p): order-independent. */
static void xor_digest(uint8_t digest[DIGEST_LEN], const void *p, size_t len)
{
    uint8_t h[DIGEST_LEN];
    script_sha1(h, p, len);
    for (int i = 0; i < DIGEST_LEN; i++)
        digest[i] ^= h[i];
}

/* digest = SHA1(digest ^ SHA1(p)): order matters. */
static void mix_digest(uint8_t digest[DIGEST_LEN], const void *p, size_t len)
{
    xor_digest(digest, p, len);
    script_sha1(digest, digest, DIGEST_LEN);
}

static void mix_slice(uint8_t digest[DIGEST_LEN], struct slice s)
{
    mix_digest(digest, s.ptr, s.len);
}

static void mix_lp_value(uint8_t digest[DIGEST_LEN], const struct lp_value *v)
{
    char buf[UTIL_LL_STR_SIZE];
    mix_slice(digest, lp_value_slice(v, buf));
}

/* A member and its score, hashed together and XORed in (zsets, hashes). */
static void xor_pair(uint8_t digest[DIGEST_LEN], struct slice a, struct slice b)
{
    uint8_t ele[DIGEST_LEN] = {0};
    mix_slice(ele, a);
    mix_slice(ele, b);
    xor_digest(digest, ele, DIGEST_LEN);
}

/* Redis's xorObjectDigest: the type, the contents, "!!expire!!" if the key
 * has a deadline. */
static void object_digest(const struct dict_node *o, uint8_t digest[DIGEST_LEN])
{
    enum obj_type type = obj_type(o);
    uint8_t aux[4] = {0, 0, 0, (uint8_t)type}; /* htonl(type) */
    mix_digest(digest, aux, sizeof(aux));
    switch (type) {
    case OBJ_STRING: {
        char buf[UTIL_LL_STR_SIZE];
        mix_slice(digest, obj_string(o, buf));
        break;
    }
    case OBJ_LIST: {
        struct list_iter it;
        struct lp_value v;
        list_iter_init(&it, obj_ptr(o), 0, true);
        while (list_iter_next(&it, &v))
            mix_lp_value(digest, &v);
        break;
    }
    case OBJ_SET: {
        struct set s = set_of_obj(o);
        struct set_iter it;
        struct lp_value v;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &v)) {
            char buf[UTIL_LL_STR_SIZE];
            struct slice m = lp_value_slice(&v, buf);
            xor_digest(digest, m.ptr, m.len);
        }
        set_iter_deinit(&it);
        break;
    }
    case OBJ_ZSET: {
        struct zset_iter it;
        struct slice member;
        double score;
        zset_iter_rank(&it, obj_ptr(o), 0, false);
        while (zset_iter_next(&it, &member, &score)) {
            char buf[64];
            int n = snprintf(buf, sizeof(buf), "%.17g", score);
            xor_pair(digest, member, (struct slice){buf, (size_t)n});
        }
        break;
    }
    case OBJ_HASH: {
        struct hash h = {obj_ptr(o), obj_enc(o)};
        struct hash_iter it;
        struct slice field, val;
        hash_iter_init(&it, &h);
        while (hash_iter_next(&it, &field, &val))
            xor_pair(digest, field, val);
        hash_iter_deinit(&it);
        break;
    }
    }
    if (obj_has_ttl(o)) xor_digest(digest, "!!expire!!", 10);
}

void digest_value(const struct dict_node *o, uint8_t out[DIGEST_LEN])
{
    memset(out, 0, DIGEST_LEN);
    object_digest(o, out);
}

void digest_dataset(const struct keyspace *ks, uint8_t out[DIGEST_LEN])
{
    memset(out, 0, DIGEST_LEN);
    for (int j = 0; j < ks->count; j++) {
        struct dict *d = &ks->dbs[j].dict;
        if (dict_size(d) == 0) continue;
        uint8_t aux[4] = {(uint8_t)(j >> 24), (uint8_t)(j >> 16), (uint8_t)(j >> 8), (uint8_t)j};
        mix_digest(out, aux, sizeof(aux));
        struct dict_iter it;
        dict_iter_init(&it, d);
        for (struct dict_node *o; (o = dict_iter_next(&it)) != NULL;) {
            uint8_t kv[DIGEST_LEN] = {0};
            mix_slice(kv, dict_node_key(o));
            object_digest(o, kv);
            xor_digest(out, kv, DIGEST_LEN);
        }
        dict_iter_deinit(&it);
    }
}
