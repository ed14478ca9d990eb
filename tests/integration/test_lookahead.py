"""The pipeline look-ahead (client.c) against redis-server, byte for byte.

ember peeks at the next commands of a pipelined batch to prefetch their keys
and hashes each key once, but only over tables of 32,768 buckets or more, so
these tests load 40,000 keys first. Then the same random pipelines go to
ember and to redis-server, cut into random pieces (so frames straddle reads
and land in the client's own query buffer), and every reply byte must match:
reads and writes of the same key one after the other, keys with a TTL, DEL,
SELECT between databases, MULTI/EXEC, empty frames, inline commands, binary
and empty keys, commands without a key.
"""

import random

from harness import encode_command


KEYS = 40_000


def load(srv):
    with srv.raw() as c:
        for start in range(0, KEYS, 5000):
            args = ["MSET"]
            for i in range(start, min(start + 5000, KEYS)):
                args += [f"key:{i:012d}", f"v{i}"]
            assert c.call(*args) == b"+OK\r\n"


def random_command(rng):
    key = f"key:{rng.randrange(KEYS + 2000):012d}"  # some never existed
    k = rng.random()
    if k < 0.30:
        return encode_command("GET", key), 1
    if k < 0.45:
        return encode_command("SET", key, f"n{rng.randrange(1000)}"), 1
    if k < 0.50:
        return encode_command("DEL", key), 1
    if k < 0.55:
        return encode_command("INCR", f"ctr:{rng.randrange(50)}"), 1
    if k < 0.60:
        return encode_command("EXISTS", key, f"key:{rng.randrange(KEYS):012d}"), 1
    if k < 0.63:
        return encode_command("SET", key, "t", "PX", 100000), 1
    if k < 0.66:
        return encode_command("SELECT", rng.choice([0, 0, 0, 1])), 1
    if k < 0.69:
        return b"*0\r\n", 0  # an empty frame: no reply
    if k < 0.72:
        return f"GET {key}\r\n".encode(), 1  # inline
    if k < 0.75:
        return encode_command("PING"), 1
    if k < 0.78:
        return encode_command("GET", b""), 1
    if k < 0.81:
        return encode_command("SET", b"\x00\xff\r\n", key), 1
    if k < 0.84:
        return encode_command("APPEND", key, "x"), 1
    if k < 0.86:
        return (encode_command("MULTI") + encode_command("GET", key) + encode_command("SET", key, "m")
                + encode_command("EXEC")), 4
    if k < 0.90:
        return encode_command("STRLEN", key), 1
    return encode_command("TYPE", key), 1


def test_random_pipelines_match_redis(start_ember, redis_ref):
    ember = start_ember()
    for srv in (ember, redis_ref):
        load(srv)
    rng = random.Random(20261125)
    for round_ in range(30):
        parts, replies = [], 0
        for _ in range(rng.choice([2, 16, 64, 300])):
            frame, n = random_command(rng)
            parts.append(frame)
            replies += n
        parts.append(encode_command("SELECT", 0))  # leave every round in db 0
        replies += 1
        pipeline = b"".join(parts)
        ncuts = min(rng.choice([0, 1, 5, 40]), len(pipeline) - 1)
        cuts = sorted(rng.sample(range(1, len(pipeline)), ncuts))
        got = {}
        for name, srv in (("ember", ember), ("redis", redis_ref)):
            with srv.raw() as c:
                pos = 0
                for cut in cuts + [len(pipeline)]:
                    c.send(pipeline[pos:cut])
                    pos = cut
                got[name] = b"".join(c.read_replies(replies))
        assert got["ember"] == got["redis"], f"round {round_}"
    # Same keyspace afterwards, key by key (every key the rounds could touch).
    names = [f"key:{i:012d}" for i in range(KEYS + 2000)]
    e, r = ember.client(), redis_ref.client()
    for i in range(0, len(names), 4000):
        assert e.mget(names[i:i + 4000]) == r.mget(names[i:i + 4000])


def test_pipeline_one_byte_at_a_time_over_a_big_table(start_ember):
    srv = start_ember()
    load(srv)
    pipeline = b"".join(encode_command("GET", f"key:{i:012d}") for i in range(200))
    with srv.raw() as c:
        for b in range(len(pipeline)):
            c.send(pipeline[b:b + 1])
        assert c.read_replies(200) == [b"$%d\r\nv%d\r\n" % (len(f"v{i}"), i) for i in range(200)]
