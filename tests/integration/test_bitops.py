"""Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO):
each sequence runs on ember and on the reference redis-server and the raw reply
bytes must match, plus what the replies cannot show (encodings, dirty counts,
keyspace events, the AOF) and a seeded random walk."""

import random
import time

import pytest

from harness import Server, ember_binary


class Pair:
    """Raw connections to ember and to redis; `both` sends one command to each
    and asserts the exact reply bytes are equal."""

    def __init__(self, ember, redis_ref):
        self.e = ember.raw()
        self.r = redis_ref.raw()

    def both(self, *cmd):
        want = self.r.call(*cmd)
        got = self.e.call(*cmd)
        assert got == want, f"{cmd!r}: ember {got!r}, redis {want!r}"
        return got

    def run(self, cmds):
        return [self.both(*c) for c in cmds]

    def close(self):
        self.e.close()
        self.r.close()


@pytest.fixture
def pair(ember, redis_ref):
    p = Pair(ember, redis_ref)
    yield p
    p.close()


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


# ---- exact replies, written out ----


def test_setbit_getbit(rb):
    r = rb
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 1) == 1
    assert r.setbit("k", 7, 0) == 1
    assert r.getbit("k", 7) == 0
    assert r.setbit("k", 0, 1) == 0
    assert r.get("k") == b"\x80"
    assert r.setbit("k", 17, 1) == 0
    assert r.strlen("k") == 3
    assert r.getbit("k", 17) == 1
    assert r.getbit("k", 1000) == 0
    assert r.getbit("missing", 0) == 0
    assert r.exists("missing") == 0
    r.set("n", "1")  # '1' is 0x31 = 00110001
    assert [r.getbit("n", i) for i in range(8)] == [0, 0, 1, 1, 0, 0, 0, 1]


def test_bitcount_bitpos_values(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.execute_command("BITCOUNT", "s", "-1", "-2") == 0
    r.set("z", b"\xff\xf0\x00")
    assert r.bitpos("z", 0) == 12
    assert r.bitpos("z", 1, 2) == -1
    assert r.execute_command("BITPOS", "z", "0", "2", "-1", "BIT") == 12
    assert r.execute_command("BITPOS", "z", "1", "2", "-1", "BIT") == 2
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16  # padded with zeros on the right
    assert r.bitpos("ones", 0, 0, -1) == -1  # explicit end: no padding
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1


def test_bitop_values_and_encoding(rb):
    r = rb
    r.set("a", "abc")
    r.set("b", "a")
    assert r.bitop("AND", "d", "a", "b") == 3
    assert r.get("d") == b"a\x00\x00"
    assert r.object("encoding", "d") == b"raw"
    assert r.bitop("NOT", "d", "b") == 1
    assert r.get("d") == b"\x9e"
    r.expire("d", 100)
    assert r.bitop("OR", "d", "a", "missing") == 3
    assert r.ttl("d") == -1  # stored as SET would: the TTL is gone
    assert r.bitop("XOR", "d", "missing", "missing2") == 0
    assert r.exists("d") == 0  # an empty result deletes the destination


def test_setbit_string_encodings(r):
    assert r.setbit("new", 0, 1) == 0
    assert r.object("encoding", "new") == "raw"
    r.set("emb", "abc")
    assert r.object("encoding", "emb") == "embstr"
    assert r.setbit("emb", 1, 1) == 1  # no change, but the value is unshared
    assert r.object("encoding", "emb") == "raw"
    assert r.get("emb") == "abc"
    r.set("int", "123")
    assert r.object("encoding", "int") == "int"
    assert r.getbit("int", 2) == 1
    assert r.object("encoding", "int") == "int"  # reads leave it alone
    assert r.setbit("int", 7, 0) == 1
    assert r.get("int") == "023"
    assert r.object("encoding", "int") == "raw"
    r.set("ttl", "x", ex=100)
    r.setbit("ttl", 100, 1)
    assert 0 < r.ttl("ttl") <= 100  # growth keeps the deadline
    # growth by many small steps keeps the earlier bytes
    for i in range(0, 4000, 37):
        r.setbit("grow", i, 1)
    assert r.bitcount("grow") == len(range(0, 4000, 37))
    assert r.strlen("grow") == 3996 // 8 + 1


def test_bitfield_values(r):
    assert r.execute_command("BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0") == [0, 255]
    assert r.execute_command("BITFIELD", "bf", "INCRBY", "u8", "0", "10") == [9]
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000") == [255]
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1") == [None]
    assert r.execute_command("BITFIELD", "bf", "GET", "i8", "0", "GET", "u4", "#1") == [-1, 15]
    assert r.execute_command("BITFIELD_RO", "bf", "GET", "u8", "0") == [255]
    assert r.execute_command("BITFIELD", "bf") == []
    assert r.execute_command("BITFIELD", "missing", "GET", "i64", "0") == [0]
    assert r.exists("missing") == 0


# ---- differential: the same commands, the same bytes ----

EDGE_CASES = [
    # SETBIT / GETBIT argument checks, in Redis's order
    ("SETBIT", "k", "-1", "1"), ("SETBIT", "k", "x", "1"), ("SETBIT", "k", "4294967296", "1"),
    ("SETBIT", "k", "0", "2"), ("SETBIT", "k", "0", "-1"), ("SETBIT", "k", "0", "x"),
    ("SETBIT", "k", "0", " 1"), ("SETBIT", "k", "+1", "1"), ("SETBIT", "k", "x", "2"),
    ("SETBIT", "k", "9", "1"), ("SETBIT", "k", "9", "1"), ("SETBIT", "k", "9", "0"),
    ("GETBIT", "k", "4294967295"), ("GETBIT", "k", "4294967296"), ("GETBIT", "k", "-1"),
    ("GETBIT", "k", "9"), ("GETBIT", "k", "100"), ("GET", "k"), ("STRLEN", "k"),
    ("RPUSH", "list", "a"), ("SETBIT", "list", "0", "1"), ("SETBIT", "list", "-1", "1"),
    ("SETBIT", "list", "0", "5"), ("GETBIT", "list", "0"), ("GETBIT", "list", "x"),
    # BITCOUNT: key looked up first, then the range
    ("BITCOUNT", "nokey", "a", "b"), ("BITCOUNT", "nokey", "1"), ("BITCOUNT", "list"),
    ("BITCOUNT", "list", "a", "b"), ("SET", "s", "foobar"), ("BITCOUNT", "s"),
    ("BITCOUNT", "s", "1"), ("BITCOUNT", "s", "1", "2", "3"), ("BITCOUNT", "s", "1", "2", "BYTE", "x"),
    ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "1", "a"), ("BITCOUNT", "s", "-1", "-2", "xx"),
    ("BITCOUNT", "s", "1", "2", "bits"), ("BITCOUNT", "s", "0", "-1", "bit"),
    ("BITCOUNT", "s", "-100", "100"), ("BITCOUNT", "s", "-100", "100", "BIT"),
    ("BITCOUNT", "s", "3", "1"), ("BITCOUNT", "s", "5", "5", "BIT"), ("BITCOUNT", "s", "7", "8", "BIT"),
    ("BITCOUNT", "s", "-9", "-1", "BIT"), ("BITCOUNT", "s", "9223372036854775807", "-1"),
    ("BITCOUNT", "s", "-9223372036854775808", "9223372036854775807", "BIT"),
    ("SET", "e", ""), ("BITCOUNT", "e"), ("BITCOUNT", "e", "0", "-1"), ("BITCOUNT", "e", "0", "0", "BIT"),
    ("SET", "i", "12345"), ("BITCOUNT", "i"), ("BITCOUNT", "i", "1", "2"),
    # BITPOS
    ("BITPOS", "s", "2"), ("BITPOS", "s", "x"), ("BITPOS", "nokey", "1", "x"), ("BITPOS", "nokey", "0"),
    ("BITPOS", "list", "1"), ("BITPOS", "list", "2"), ("BITPOS", "s", "1", "x"),
    ("BITPOS", "s", "1", "0", "x"), ("BITPOS", "s", "1", "0", "1", "x"), ("BITPOS", "s", "1", "0", "x", "x"),
    ("BITPOS", "s", "1", "0", "1", "BIT", "x"), ("BITPOS", "s", "1"), ("BITPOS", "s", "0"),
    ("BITPOS", "s", "1", "2"), ("BITPOS", "s", "0", "2", "-1"), ("BITPOS", "s", "1", "-1"),
    ("BITPOS", "s", "1", "3", "1"), ("BITPOS", "s", "1", "7", "7", "BIT"), ("BITPOS", "s", "0", "7", "7", "BIT"),
    ("BITPOS", "s", "1", "2", "-1", "bit"), ("BITPOS", "s", "0", "13", "14", "BIT"),
    ("SET", "ff", "\xff\xff\xff"), ("BITPOS", "ff", "0"), ("BITPOS", "ff", "0", "1"), ("BITPOS", "ff", "0", "1", "-1"),
    ("BITPOS", "ff", "0", "3", "BIT"), ("BITPOS", "ff", "0", "3", "-1", "BIT"), ("BITPOS", "ff", "0", "0", "-1", "BIT"),
    ("BITPOS", "ff", "1", "5", "20", "BIT"), ("BITPOS", "ff", "0", "-5", "-2", "BIT"),
    ("BITPOS", "e", "0"), ("BITPOS", "e", "1"), ("BITPOS", "e", "0", "0"), ("BITPOS", "i", "1", "1"),
    ("BITPOS", "s", "0", "100"), ("BITPOS", "s", "1", "-100", "-50"),
    # BITOP
    ("BITOP", "nand", "d", "s"), ("BITOP", "NOT", "d", "s", "s"), ("BITOP", "not", "d", "s"), ("GET", "d"),
    ("BITOP", "and", "d", "s", "list"), ("BITOP", "and", "d", "nokey", "list"), ("BITOP", "OR", "d", "s", "i", "e"),
    ("GET", "d"), ("BITOP", "XOR", "d", "s", "i"), ("GET", "d"), ("BITOP", "and", "d", "e", "nokey"), ("EXISTS", "d"),
    ("BITOP", "and", "list", "s"), ("TYPE", "list"), ("OBJECT", "ENCODING", "list"),
    ("BITOP", "and", "list", "nokey"), ("EXISTS", "list"), ("BITOP", "or", "s", "s"), ("GET", "s"),
    # BITFIELD parsing and errors
    ("BITFIELD", "bf", "GET"), ("BITFIELD", "bf", "GET", "u8"), ("BITFIELD", "bf", "FOO", "u8", "0"),
    ("BITFIELD", "bf", "GET", "u64", "0"), ("BITFIELD", "bf", "GET", "i65", "0"), ("BITFIELD", "bf", "GET", "i0", "0"),
    ("BITFIELD", "bf", "GET", "U8", "0"), ("BITFIELD", "bf", "GET", "x8", "0"), ("BITFIELD", "bf", "GET", "u", "0"),
    ("BITFIELD", "bf", "GET", "u8", "-1"), ("BITFIELD", "bf", "GET", "u8", "#-1"), ("BITFIELD", "bf", "GET", "u8", "##1"),
    ("BITFIELD", "bf", "GET", "u8", "4294967296"), ("BITFIELD", "bf", "GET", "u8", "#536870912"),
    ("BITFIELD", "bf", "GET", "u8", "#536870911"), ("BITFIELD", "bf", "GET", "i64", "4294967295"),
    ("BITFIELD", "bf", "SET", "u8", "0"), ("BITFIELD", "bf", "SET", "u8", "0", "x"),
    ("BITFIELD", "bf", "INCRBY", "u8", "0", "1.5"), ("BITFIELD", "bf", "OVERFLOW"),
    ("BITFIELD", "bf", "OVERFLOW", "BOGUS", "GET", "u8", "0"), ("BITFIELD", "bf", "GET", "u8", "0", "OVERFLOW", "x"),
    ("BITFIELD", "bf", "OVERFLOW", "WRAP"), ("EXISTS", "bf"), ("BITFIELD", "list", "GET", "u8", "0"),
    ("BITFIELD", "list", "SET", "u8", "0", "1"), ("BITFIELD", "list", "SET", "x8", "0", "1"),
    ("BITFIELD", "list"), ("BITFIELD_RO", "list", "GET", "u8", "0"),
    ("BITFIELD_RO", "bf", "SET", "u8", "0", "1"), ("BITFIELD_RO", "bf", "INCRBY", "u8", "0", "x"),
    ("BITFIELD_RO", "bf", "OVERFLOW", "SAT"), ("BITFIELD_RO", "bf", "OVERFLOW", "SAT", "GET", "u8", "0"),
    ("BITFIELD_RO", "list", "SET", "u8", "0", "1"), ("EXISTS", "bf"),
    # BITFIELD arithmetic: wrap, saturate, fail, signed and unsigned limits
    ("BITFIELD", "bf", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1", "GET", "i8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000", "INCRBY", "i8", "0", "1000"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0", "-1"),
    ("BITFIELD", "bf", "SET", "u8", "0", "256", "SET", "u8", "0", "-1", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "300", "SET", "u8", "0", "-5", "GET", "u8", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "300", "SET", "i8", "0", "-129", "SET", "i8", "0", "-128"),
    ("BITFIELD", "bf", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-9223372036854775808"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "9223372036854775807"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-9223372036854775808"),
    ("BITFIELD", "bf", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1", "GET", "u63", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-1", "INCRBY", "u63", "0", "9223372036854775807"),
    ("BITFIELD", "bf", "SET", "u63", "0", "-1", "OVERFLOW", "SAT", "SET", "u63", "0", "-1", "GET", "u63", "0"),
    ("BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u1", "3", "3", "INCRBY", "i1", "3", "1", "INCRBY", "i1", "3", "-3"),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u2", "5", "-9223372036854775808", "INCRBY", "i2", "5", "9223372036854775807"),
    ("BITFIELD", "bf", "SET", "i5", "#3", "-7", "GET", "i5", "15", "GET", "u5", "#3", "GET", "i64", "#0", "GET", "u63", "1"),
    ("BITFIELD", "bf", "INCRBY", "i13", "#7", "-100", "GET", "u64", "0"), ("GET", "bf"),
    ("BITFIELD", "bf", "GET", "i64", "60", "GET", "u63", "65", "GET", "i64", "#100"),
    ("BITFIELD", "bf", "SET", "u8", "#100", "1"), ("STRLEN", "bf"),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "#200", "256"), ("STRLEN", "bf"), ("EXISTS", "bf"),
    ("BITFIELD", "fail", "OVERFLOW", "FAIL", "SET", "u8", "#2", "256"), ("EXISTS", "fail"), ("GET", "fail"),
    ("SET", "num", "1234"), ("BITFIELD", "num", "GET", "u16", "0", "GET", "i8", "#3", "GET", "u8", "#4"),
    ("BITFIELD", "num", "SET", "u8", "0", "57"), ("OBJECT", "ENCODING", "num"), ("GET", "num"),
    ("BITFIELD_RO", "num", "GET", "i16", "#1"),
]


def test_edge_cases_match_redis(pair):
    pair.run(EDGE_CASES)


def test_arity_errors_match_redis(pair):
    pair.run([("SETBIT", "k", "1"), ("GETBIT", "k"), ("BITCOUNT",), ("BITPOS", "k"),
              ("BITOP", "and", "d"), ("BITFIELD",), ("BITFIELD_RO",), ("SETBIT", "k", "1", "1", "1")])


def test_proto_max_bulk_len_bounds_offsets(pair, ember, redis_ref):
    e, r = ember.client(), redis_ref.client()
    old_e, old_r = e.config_get("proto-max-bulk-len"), redis_ref.client().config_get("proto-max-bulk-len")
    try:
        pair.both("CONFIG", "SET", "proto-max-bulk-len", "1mb")
        pair.run([("SETBIT", "k", "8388608", "1"), ("SETBIT", "k", "8388607", "1"), ("STRLEN", "k"),
                  ("GETBIT", "k", "8388608"), ("BITFIELD", "k", "GET", "u8", "#1048576"),
                  ("BITFIELD", "k", "SET", "u8", "#1048575", "1"), ("BITFIELD", "k", "SET", "u8", "8388607", "1"),
                  ("STRLEN", "k"), ("BITCOUNT", "k")])
    finally:
        e.config_set("proto-max-bulk-len", old_e["proto-max-bulk-len"])
        r.config_set("proto-max-bulk-len", old_r["proto-max-bulk-len"])
        e.close()
        r.close()


def test_dirty_counts_match_redis(ember, redis_ref):
    cmds = [("SETBIT", "k", "3", "1"), ("SETBIT", "k", "3", "1"), ("SETBIT", "k", "3", "0"),
            ("SETBIT", "k", "30", "0"), ("SETBIT", "k", "2", "0"),
            ("BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "0", "5", "INCRBY", "u8", "0", "0"),
            ("BITFIELD", "k", "SET", "u8", "#10", "0", "SET", "u8", "0", "5"),
            ("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "255"),
            ("BITFIELD", "k", "GET", "u8", "0"), ("BITOP", "or", "d", "k"), ("BITOP", "or", "d", "none"),
            ("BITOP", "or", "d", "none")]
    counts = []
    for srv in (ember, redis_ref):
        c = srv.client()
        seen = []
        for cmd in cmds:
            before = dirty(c)
            c.execute_command(*cmd)
            seen.append(dirty(c) - before)
        counts.append(seen)
        c.close()
    assert counts[0] == counts[1]
    assert counts[0][:2] == [1, 0]


def events(server, commands):
    r = server.client()
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__key*__:*")
    deadline = time.time() + 5
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m is not None and m["type"] == "psubscribe":
            break
    for c in commands:
        r.execute_command(*c)
    r.set("end", "1")
    got = []
    deadline = time.time() + 5
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m is None:
            continue
        if m["type"] == "pmessage":
            got.append((m["channel"], m["data"]))
            if m["channel"] == "__keyevent@0__:set" and m["data"] == "end":
                break
    p.close()
    r.config_set("notify-keyspace-events", "")
    r.close()
    return got


def test_notifications_match_redis(ember, redis_ref):
    cmds = [("SETBIT", "a", "1", "1"), ("SETBIT", "a", "1", "1"), ("BITFIELD", "a", "SET", "u4", "0", "3"),
            ("BITFIELD", "a", "GET", "u4", "0"), ("BITFIELD", "a", "SET", "u4", "0", "3"),
            ("BITOP", "not", "b", "a"), ("BITOP", "and", "b", "none"), ("BITOP", "and", "b", "none")]
    mine = events(ember, cmds)
    theirs = events(redis_ref, cmds)
    assert ("__keyevent@0__:setbit", "a") in theirs
    assert mine == theirs


def test_bit_writes_survive_aof_restart(tmp_path):
    srv = Server("ember-aof", ember_binary(), ["--appendonly", "yes", "--save", ""], tmp_path / "e")
    srv.start()
    try:
        c = srv.client(decode=False)
        c.setbit("k", 100, 1)
        c.setbit("k", 3, 1)
        c.execute_command("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "#5", "300",
                          "OVERFLOW", "FAIL", "INCRBY", "u8", "#5", "1")
        c.set("s", "xyz")
        c.execute_command("BITOP", "XOR", "d", "k", "s")
        want = {k: c.get(k) for k in (b"k", b"d", b"s")}
        c.close()
        assert srv.stop() == 0
        srv.start()
        c = srv.client(decode=False)
        assert {k: c.get(k) for k in want} == want
        assert c.object("encoding", "k") == b"raw"
        c.close()
    finally:
        srv.stop_and_check()


def random_bit_command(rng):
    key = rng.choice(["a", "b", "c", "l"])
    off = lambda: str(rng.choice([rng.randrange(0, 64), rng.randrange(0, 300), rng.randrange(-3, 3)]))
    idx = lambda: str(rng.randrange(-40, 40))
    kind = rng.randrange(9)
    if kind == 0:
        return ("SETBIT", key, off(), rng.choice(["0", "1", "1", "2"]))
    if kind == 1:
        return ("GETBIT", key, off())
    if kind == 2:
        args = [idx(), idx()] if rng.random() < 0.7 else []
        if args and rng.random() < 0.5:
            args.append(rng.choice(["BIT", "BYTE"]))
        return ("BITCOUNT", key, *args)
    if kind == 3:
        args = [rng.choice(["0", "1"])]
        n = rng.randrange(4)
        if n >= 1:
            args.append(idx())
        if n >= 2:
            args.append(idx())
        if n >= 3:
            args.append(rng.choice(["BIT", "BYTE"]))
        return ("BITPOS", key, *args)
    if kind == 4:
        op = rng.choice(["AND", "OR", "XOR", "NOT"])
        srcs = [rng.choice(["a", "b", "c", "none"]) for _ in range(1 if op == "NOT" else rng.randrange(1, 4))]
        return ("BITOP", op, rng.choice(["a", "b", "c"]), *srcs)
    if kind == 5:
        return ("SET", key, rng.choice(["", "x", "12345", "\xff\x00abc", "hello world"]))
    if kind == 6:
        return ("APPEND", key, rng.choice(["z", "\x80\x01"]))
    args = []
    for _ in range(rng.randrange(1, 5)):
        sign = rng.choice("iu")
        bits = rng.randrange(1, 65 if sign == "i" else 64)
        o = ("#" + str(rng.randrange(0, 8))) if rng.random() < 0.3 else str(rng.randrange(0, 90))
        sub = rng.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
        if sub == "OVERFLOW":
            args += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
        elif sub == "GET":
            args += ["GET", f"{sign}{bits}", o]
        else:
            v = rng.choice([rng.randrange(-300, 300), rng.randrange(-2**63, 2**63), 2**63 - 1, -2**63])
            args += [sub, f"{sign}{bits}", o, str(v)]
    return ("BITFIELD_RO" if kind == 8 else "BITFIELD", key, *args)


def test_random_walk_matches_redis(pair):
    rng = random.Random(7001)
    pair.both("RPUSH", "l", "x")
    for i in range(600):
        cmd = random_bit_command(rng)
        pair.both(*cmd)
        if i % 50 == 0:
            for k in ("a", "b", "c"):
                pair.both("GET", k)
                pair.both("OBJECT", "ENCODING", k)
