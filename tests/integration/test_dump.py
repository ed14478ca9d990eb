"""DUMP and RESTORE (issue 11): payloads move between ember and redis-server
7.0.15 both ways for every type and encoding; options (REPLACE, ABSTTL,
IDLETIME, FREQ) and every error reply byte for byte as Redis."""
import struct
import time

import pytest
import redis

# Values in each encoding Redis 7.0 picks under its default limits.
VALUES = {
    "str": ("string", "hello"),
    "int": ("string", "12345"),
    "neg": ("string", "-70000"),
    "i64": ("string", str(2**62)),
    "lzf": ("string", "abc" * 40),
    "incompressible": ("string", bytes(range(256)).hex()),
    "bin": ("string", b"\x00\xff\r\n" * 8),
    "empty": ("string", ""),
    "list_lp": ("list", ["a", "b", "3", "-70000", "x" * 70]),
    "list_ql": ("list", [f"element-{i}" for i in range(300)]),
    "list_lzf": ("list", ["abc" * 30, "xyz" * 40, "1"]),
    "zset_lzf": ("zset", [("m" * 80, 1.0), ("n" * 90, 2.0)]),
    "set_int": ("set", ["1", "2", "300", "-5", "70000", str(2**40)]),
    "set_lp": ("set", ["a", "b", "c"]),
    "set_ht": ("set", [f"m{i}" for i in range(600)]),
    "zset_lp": ("zset", [("a", 1.5), ("b", -2.0), ("c", float("inf")), ("d", 0.1)]),
    "zset_sl": ("zset", [(f"m{i}", i / 7) for i in range(200)]),
    "hash_lp": ("hash", {"f1": "v1", "f2": "2", "f3": "-3"}),
    "hash_ht": ("hash", {f"f{i}": f"v{i}" * 3 for i in range(600)}),
    "hash_long": ("hash", {"f": "x" * 100}),
}


def put(c, key, spec):
    t, v = spec
    if t == "string":
        c.set(key, v)
    elif t == "list":
        c.rpush(key, *v)
    elif t == "set":
        c.sadd(key, *v)
    elif t == "zset":
        c.zadd(key, dict(v))
    else:
        c.hset(key, mapping=v)


def read(c, key):
    t = c.type(key)
    if t == b"string":
        return t, c.get(key)
    if t == b"list":
        return t, c.lrange(key, 0, -1)
    if t == b"set":
        return t, sorted(c.smembers(key))
    if t == b"zset":
        return t, c.zrange(key, 0, -1, withscores=True)
    if t == b"hash":
        return t, sorted(c.hgetall(key).items())
    return t, None


@pytest.fixture
def pair(ember, redis_ref):
    e, r = ember.client(decode=False), redis_ref.client(decode=False)
    e.flushall()
    r.flushall()
    for k, spec in VALUES.items():
        put(e, k, spec)
        put(r, k, spec)
    yield e, r
    e.close()
    r.close()


@pytest.mark.parametrize("key", sorted(VALUES))
def test_redis_payload_restores_in_ember(pair, key):
    e, r = pair
    payload = r.dump(key)
    assert e.restore("copy", 0, payload) in (True, b"OK")
    assert read(e, "copy") == read(r, key)
    assert e.object("encoding", "copy") == r.object("encoding", key)


@pytest.mark.parametrize("key", sorted(VALUES))
def test_ember_payload_restores_in_redis(pair, key):
    e, r = pair
    payload = e.dump(key)
    assert r.restore("copy", 0, payload) in (True, b"OK")
    assert read(r, "copy") == read(e, key)
    # ember's own payload comes back too
    assert e.restore("copy", 0, payload) in (True, b"OK")
    assert read(e, "copy") == read(e, key)


def test_string_payloads_are_byte_identical(pair):
    """Plain and integer strings encode the same bytes as Redis (LZF output may
    differ: any valid LZF stream is accepted by both)."""
    e, r = pair
    for k in ("str", "int", "neg", "i64", "incompressible", "empty"):
        assert e.dump(k) == r.dump(k), k


def test_lzf_payload_is_compressed(pair):
    e, _ = pair
    p = e.dump("lzf")
    assert p[1] == 0xC3  # RDB_ENC_LZF
    assert len(p) < 120
    e.config_set("rdbcompression", "no")
    try:
        assert len(e.dump("lzf")) == 1 + 2 + 120 + 10
    finally:
        e.config_set("rdbcompression", "yes")


def test_dump_missing_key(r):
    assert r.dump("nope") is None


def both(ember, redis_ref, *cmds):
    """The raw replies of ember and redis-server to the same commands."""
    out = []
    for srv in (ember, redis_ref):
        with srv.raw() as c:
            out.append([c.call(*cmd) for cmd in cmds])
    return out


def test_errors_match_redis(ember, redis_ref):
    r = redis_ref.client(decode=False)
    r.flushall()
    r.set("src", "value")
    good = r.dump("src")
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    bad_ver = good[:-10] + b"\x0b\x00" + good[-8:]
    # a well-formed footer around a bad body
    body = b"\x02\x05"  # a set of 5 elements, cut short
    ember.client().flushall()
    cmds = [
        ("SET", "exists", "v"),
        ("RESTORE", "exists", "0", good),
        ("RESTORE", "k", "-1", good),
        ("RESTORE", "k", "abc", good),
        ("RESTORE", "k", "0", bad_crc),
        ("RESTORE", "k", "0", bad_ver),
        ("RESTORE", "k", "0", b"short"),
        ("RESTORE", "k", "0", good, "BOGUS"),
        ("RESTORE", "k", "0", good, "IDLETIME"),
        ("RESTORE", "k", "0", good, "IDLETIME", "-1"),
        ("RESTORE", "k", "0", good, "IDLETIME", "x"),
        ("RESTORE", "k", "0", good, "FREQ", "256"),
        ("RESTORE", "k", "0", good, "FREQ", "-1"),
        ("RESTORE", "k", "0", good, "FREQ", "1", "IDLETIME", "1"),
        ("RESTORE", "k", "0", good, "IDLETIME", "1", "FREQ", "1"),
        ("RESTORE", "exists", "-1", good, "REPLACE"),
        ("RESTORE", "k", "0"),
        ("DUMP",),
        ("DUMP", "a", "b"),
        ("RESTORE", "k", "0", good, "REPLACE", "ABSTTL", "IDLETIME", "5"),
        ("GET", "k"),
        ("RESTORE", "k", "0", good),
        ("RESTORE", "k2", "0", good, "FREQ", "10"),
        ("DUMP", "nope"),
    ]
    e_out, r_out = both(ember, redis_ref, *cmds)
    for cmd, a, b in zip(cmds, e_out, r_out):
        assert a == b, (cmd[:2], a, b)
    # a bad body inside a valid footer: "Bad data format"
    crc_payload = body + b"\x0a\x00"
    crc = _crc64(crc_payload)
    payload = crc_payload + struct.pack("<Q", crc)
    e_out, r_out = both(ember, redis_ref, ("RESTORE", "bad", "0", payload))
    assert e_out == r_out == [b"-ERR Bad data format\r\n"]


def _crc64(data):
    """Redis's crc64 (Jones polynomial, reflected, init 0), bit by bit."""
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def test_crc64_test_vector():
    assert _crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_ttl_replace_and_absttl(r):
    r.set("src", "v")
    p = r.dump("src")
    assert r.restore("a", 100000, p)
    assert 90000 < r.pttl("a") <= 100000
    with pytest.raises(redis.ResponseError, match="^BUSYKEY Target key name already exists."):
        r.restore("a", 0, p)
    assert r.restore("a", 0, p, replace=True)
    assert r.pttl("a") == -1
    when = int(time.time() * 1000) + 50000
    assert r.restore("b", when, p, absttl=True)
    assert 40000 < r.pttl("b") <= 50000
    # A deadline already past: nothing is created, an existing key is deleted.
    assert r.restore("c", 1, p, absttl=True)
    assert r.exists("c") == 0
    assert r.restore("a", 1, p, replace=True, absttl=True)
    assert r.exists("a") == 0


def test_idletime_sets_object_idletime(r):
    r.set("src", "v")
    p = r.dump("src")
    assert r.execute_command("RESTORE", "k", 0, p, "IDLETIME", 1000)
    assert 1000 <= r.object("idletime", "k") <= 1002


def test_freq_sets_object_freq_under_lfu(r):
    r.set("src", "v")
    p = r.dump("src")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert r.execute_command("RESTORE", "k", 0, p, "FREQ", 100)
        assert r.object("freq", "k") == 100
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_restore_notifies_keyspace(r):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        p.get_message(timeout=1)
        r.set("src", "v")
        r.restore("k", 0, r.dump("src"))
        events = []
        deadline = time.time() + 5
        while "restore" not in events and time.time() < deadline:
            m = p.get_message(timeout=0.5)
            if m and m["type"] == "pmessage":
                events.append(m["channel"].split(":", 1)[1])
        assert "restore" in events
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_command_info_matches_redis(ember, redis_ref):
    e_out, r_out = both(ember, redis_ref, ("COMMAND", "INFO", "dump", "restore"))
    e = ember.client().execute_command("COMMAND", "INFO", "dump", "restore")
    r = redis_ref.client().execute_command("COMMAND", "INFO", "dump", "restore")
    for a, b in zip(e, r):
        assert a[:6] == b[:6]  # name, arity, flags, first/last key, step
