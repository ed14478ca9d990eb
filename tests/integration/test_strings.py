"""String commands through redis-py: each command, its options and its errors,
plus what the differential scripts cannot see (dirty counting, keyspace
hits/misses, in-place growth, lazy expiry) and a seeded random walk compared
against the reference redis-server.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import random
import time

import pytest
import redis

WRONGTYPE = r"^WRONGTYPE Operation against a key holding the wrong kind of value$"
NOT_INT = r"^value is not an integer or out of range$"
NOT_FLOAT = r"^value is not a valid float$"
SYNTAX = r"^syntax error$"


def err(pattern):
    return pytest.raises(redis.ResponseError, match=pattern)


def call(r, *args):
    """execute_command without redis-py's reply callbacks (a bytes command
    name matches none), so replies arrive as the server sent them."""
    return r.execute_command(args[0].encode(), *args[1:])


def make_list(r, key):
    """A non-string key for WRONGTYPE checks (skips while lists are missing)."""
    try:
        r.rpush(key, "a")
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("RPUSH not implemented yet: no non-string key to test WRONGTYPE with")
        raise


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def hits_misses(r):
    s = r.info("stats")
    return s["keyspace_hits"], s["keyspace_misses"]


# ---- GET / SET ----


def test_get_set(r):
    assert r.get("k") is None
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True) is True
    assert r.set("new", "w", xx=True) is None
    assert r.exists("new") == 0
    assert r.set("k", "x", get=True) == "w"
    assert r.set("nosuch", "x", get=True) is None
    assert r.get("nosuch") == "x"
    assert call(r, "SET", "k", "y", "NX", "GET") == "x"
    assert r.get("k") == "x"


def test_set_option_errors(r):
    for opts in (["NX", "XX"], ["EX", "10", "PX", "100"], ["EX", "10", "KEEPTTL"], ["EX"],
                 ["BOGUS"], ["PERSIST"], ["EXAT", "1", "PXAT", "1"]):
        with err(SYNTAX):
            r.execute_command("SET", "k", "v", *opts)
    for opts in (["EX", "0"], ["PX", "-1"], ["EXAT", "0"], ["EX", "9223372036854775807"]):
        with err(r"^invalid expire time in 'set' command$"):
            r.execute_command("SET", "k", "v", *opts)
    with err(NOT_INT):
        r.execute_command("SET", "k", "v", "EX", "1.5")
    assert r.exists("k") == 0
    # repeating an option is allowed, as in Redis
    assert call(r, "SET", "k", "v", "EX", "10", "EX", "20", "NX", "NX") == "OK"


def test_set_px_expires_and_keepttl(r):
    r.set("k", "v", px=100)
    r.set("k", "w", keepttl=True)
    time.sleep(0.25)
    assert r.get("k") is None
    r.set("k", "v", px=100)
    r.set("k", "w")  # drops the TTL
    time.sleep(0.25)
    assert r.get("k") == "w"


def test_get_wrongtype(r):
    make_list(r, "l")
    with err(WRONGTYPE):
        r.get("l")
    with err(WRONGTYPE):
        r.set("l", "v", get=True)
    assert r.type("l") == "list"
    assert r.set("l", "v") is True
    assert r.get("l") == "v"


# ---- SETNX / SETEX / PSETEX / GETSET / GETDEL ----


def test_setnx(r):
    assert r.setnx("k", "a") is True
    assert r.setnx("k", "b") is False
    assert r.get("k") == "a"
    with err(r"^wrong number of arguments for 'setnx' command$"):
        r.execute_command("SETNX", "k")


def test_setex_psetex(r):
    assert r.setex("k", 100, "v") is True
    assert r.get("k") == "v"
    assert r.psetex("p", 100, "v") is True
    time.sleep(0.25)
    assert r.get("p") is None
    assert r.get("k") == "v"
    for bad in ("0", "-1"):
        with err(r"^invalid expire time in 'setex' command$"):
            r.execute_command("SETEX", "k", bad, "v")
        with err(r"^invalid expire time in 'psetex' command$"):
            r.execute_command("PSETEX", "k", bad, "v")
    with err(r"^invalid expire time in 'setex' command$"):
        r.execute_command("SETEX", "k", "9223372036854775807", "v")
    with err(NOT_INT):
        r.execute_command("SETEX", "k", "abc", "v")
    with err(r"^wrong number of arguments for 'psetex' command$"):
        r.execute_command("PSETEX", "k", "10")


def test_getset(r):
    assert r.getset("k", "a") is None
    assert r.getset("k", "b") == "a"
    assert r.get("k") == "b"
    r.set("t", "v", px=100)
    assert r.getset("t", "w") == "v"  # drops the TTL
    time.sleep(0.25)
    assert r.get("t") == "w"


def test_getdel(r):
    r.set("k", "v")
    assert r.getdel("k") == "v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None
    make_list(r, "l")
    with err(WRONGTYPE):
        r.getdel("l")
    assert r.exists("l") == 1


# ---- GETEX ----


def test_getex_options(r):
    r.set("k", "v")
    assert r.getex("k") == "v"
    assert r.getex("k", px=100) == "v"
    assert r.getex("k", persist=True) == "v"
    time.sleep(0.25)
    assert r.get("k") == "v"
    assert r.getex("k", ex=100) == "v"
    assert r.getex("k", pxat=int(time.time() * 1000) + 100) == "v"
    time.sleep(0.25)
    assert r.get("k") is None
    r.set("k", "v")
    assert r.getex("k", exat=int(time.time()) + 1000) == "v"
    assert r.getex("nosuch", ex=10) is None


def test_getex_past_deadline_deletes(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "EXAT", "1") == "v"
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "PXAT", str(int(time.time() * 1000) - 10)) == "v"
    assert r.exists("k") == 0


def test_getex_errors(r):
    r.set("k", "v")
    for opts in (["PERSIST", "EX", "10"], ["EX", "10", "PERSIST"], ["EX", "1", "PX", "1"],
                 ["KEEPTTL"], ["NX"], ["GET"], ["EX"], ["BOGUS"]):
        with err(SYNTAX):
            r.execute_command("GETEX", "k", *opts)
    for opts in (["EX", "0"], ["PX", "-1"], ["EXAT", "0"], ["PXAT", "-5"],
                 ["EX", "9223372036854775807"]):
        with err(r"^invalid expire time in 'getex' command$"):
            r.execute_command("GETEX", "k", *opts)
    with err(NOT_INT):
        r.execute_command("GETEX", "k", "EX", "x")
    # the TTL is only checked for an existing key
    assert r.execute_command("GETEX", "nosuch", "EX", "0") is None
    assert r.execute_command("GETEX", "nosuch", "EX", "x") is None
    assert r.get("k") == "v"
    make_list(r, "l")
    with err(WRONGTYPE):
        r.execute_command("GETEX", "l", "EX", "0")


# ---- MGET / MSET / MSETNX ----


def test_mget_mset(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c", "a") == ["1", "2", None, "1"]
    with err(r"^wrong number of arguments for 'mset' command$"):
        r.execute_command("MSET", "a", "1", "b")
    with err(r"^wrong number of arguments for 'msetnx' command$"):
        r.execute_command("MSETNX", "a", "1", "b")
    r.set("t", "v", px=100)
    r.mset({"t": "w"})
    time.sleep(0.25)
    assert r.get("t") == "w"


def test_mget_other_types_are_nil(r):
    r.set("a", "1")
    make_list(r, "l")
    assert r.mget("a", "l") == ["1", None]


def test_msetnx(r):
    assert r.msetnx({"x": "1", "y": "2"}) is True
    assert r.msetnx({"y": "3", "z": "4"}) is False
    assert r.mget("x", "y", "z") == ["1", "2", None]
    assert r.execute_command("MSETNX", "d", "1", "d", "2") == 1
    assert r.get("d") == "2"


# ---- APPEND / STRLEN / GETRANGE / SETRANGE ----


def test_append_strlen(r):
    assert r.append("k", "hello") == 5
    assert r.append("k", " world") == 11
    assert r.get("k") == "hello world"
    assert r.strlen("k") == 11
    assert r.strlen("nosuch") == 0
    assert r.append("e", "") == 0
    assert r.exists("e") == 1
    r.set("n", 123)
    assert r.append("n", "45") == 5
    assert r.get("n") == "12345"
    assert r.object("encoding", "n") == "raw"
    make_list(r, "l")
    with err(WRONGTYPE):
        r.append("l", "x")
    with err(WRONGTYPE):
        r.strlen("l")


def test_append_many_matches_model_and_grows_amortised(rb):
    model = bytearray()
    rng = random.Random(7)
    pipe = rb.pipeline(transaction=False)
    for i in range(3000):
        piece = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 9)))
        model += piece
        pipe.append(b"k", piece)
    lengths = pipe.execute()
    assert lengths[-1] == len(model)
    assert rb.get(b"k") == bytes(model)
    # Doubling growth: at most about twice the length is reserved.
    usage = rb.memory_usage(b"k")
    assert len(model) < usage <= 2 * len(model) + 256


def test_incr_on_int_keeps_its_size(r):
    r.set("n", 1000)
    before = r.memory_usage("n")
    for _ in range(100):
        r.incr("n")
    assert r.memory_usage("n") == before
    assert r.object("encoding", "n") == "int"


def test_getrange_substr(r):
    r.set("s", "This is a string")
    assert r.getrange("s", 0, 3) == "This"
    assert r.getrange("s", -3, -1) == "ing"
    assert r.getrange("s", 0, -1) == "This is a string"
    assert r.getrange("s", 10, 100) == "string"
    assert r.getrange("s", 100, 200) == ""
    assert r.getrange("s", 5, 3) == ""
    assert r.getrange("s", -1, -5) == ""
    assert r.getrange("s", -100, 2) == "Thi"
    assert r.getrange("nosuch", 0, -1) == ""
    assert r.execute_command("SUBSTR", "s", 0, 3) == "This"
    r.set("n", 12345)
    assert r.getrange("n", 1, -2) == "234"
    with err(NOT_INT):
        r.getrange("s", "a", 1)
    make_list(r, "l")
    with err(WRONGTYPE):
        r.getrange("l", 0, 1)


def test_setrange(r):
    r.set("s", "Hello World")
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == "Hello Redis"
    assert r.setrange("s", 13, "!") == 14
    assert r.get("s") == "Hello Redis\x00\x00!"
    assert r.setrange("p", 3, "ab") == 5
    assert r.get("p") == "\x00\x00\x00ab"
    assert r.object("encoding", "p") == "raw"
    assert r.setrange("q", 5, "") == 0
    assert r.exists("q") == 0
    assert r.setrange("s", 100, "") == 14
    r.set("n", 12345)
    assert r.setrange("n", 1, "x") == 5
    assert r.get("n") == "1x345"
    with err(r"^offset is out of range$"):
        r.setrange("s", -1, "x")
    with err(r"^string exceeds maximum allowed size \(proto-max-bulk-len\)$"):
        r.setrange("s", 536870912, "x")
    with err(r"^string exceeds maximum allowed size \(proto-max-bulk-len\)$"):
        r.setrange("nosuch", 9223372036854775807, "x")
    with err(NOT_INT):
        r.setrange("s", "x", "x")
    assert r.exists("nosuch") == 0


def test_setrange_wrongtype(r):
    make_list(r, "l")
    with err(WRONGTYPE):
        r.setrange("l", 0, "x")
    with err(WRONGTYPE):
        r.setrange("l", 0, "")


def test_append_setrange_keep_ttl(r):
    r.set("a", "v", px=150)
    r.append("a", "x")
    r.set("b", "v", px=150)
    r.setrange("b", 10, "x")
    r.set("c", "1", px=150)
    r.incr("c")
    r.set("d", "1", px=150)
    r.incrbyfloat("d", 1.5)
    assert r.mget("a", "b", "c", "d") == ["vx", "v" + "\x00" * 9 + "x", "2", "2.5"]
    time.sleep(0.3)
    assert r.mget("a", "b", "c", "d") == [None, None, None, None]


def test_append_limit(r):
    r.config_set("proto-max-bulk-len", "1mb")
    try:
        r.set("k", "x" * (1024 * 1024 - 1))
        assert r.append("k", "y") == 1024 * 1024
        with err(r"^string exceeds maximum allowed size \(proto-max-bulk-len\)$"):
            r.append("k", "z")
        assert r.strlen("k") == 1024 * 1024
    finally:
        r.config_set("proto-max-bulk-len", "512mb")


# ---- INCR family ----


def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decrby("n", 20) == -10
    assert r.object("encoding", "n") == "int"
    r.set("n", 9223372036854775806)
    assert r.incr("n") == 9223372036854775807
    with err(r"^increment or decrement would overflow$"):
        r.incr("n")
    r.set("n", -9223372036854775808)
    with err(r"^increment or decrement would overflow$"):
        r.decr("n")
    with err(r"^decrement would overflow$"):
        r.decrby("n", -9223372036854775808)
    assert r.get("n") == "-9223372036854775808"


def test_incr_not_integer(r):
    for v in ("abc", "", " 1", "1 ", "+1", "01", "1.0", "9223372036854775808"):
        r.set("s", v)
        with err(NOT_INT):
            r.incr("s")
        assert r.get("s") == v
    r.set("n", 1)
    with err(NOT_INT):
        r.incrby("n", "1.5")
    make_list(r, "l")
    with err(WRONGTYPE):
        r.incr("l")


def test_incr_on_raw_string_becomes_int(r):
    r.set("n", "1")
    r.append("n", "0")
    assert r.object("encoding", "n") == "raw"
    assert r.incr("n") == 11
    assert r.object("encoding", "n") == "int"


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert call(r, "INCRBYFLOAT", "f", "0.1") == "10.6"
    assert call(r, "INCRBYFLOAT", "f", "-5") == "5.6"
    assert call(r, "INCRBYFLOAT", "f", "2.0e1") == "25.6"
    assert call(r, "INCRBYFLOAT", "g", "3") == "3"
    assert r.object("encoding", "g") == "embstr"
    assert call(r, "INCRBYFLOAT", "h", "-0") == "0"
    with err(r"^increment would produce NaN or Infinity$"):
        r.execute_command("INCRBYFLOAT", "f", "inf")
    with err(NOT_FLOAT):
        r.execute_command("INCRBYFLOAT", "f", "abc")
    r.set("s", "abc")
    with err(NOT_FLOAT):
        r.incrbyfloat("s", 1)
    make_list(r, "l")
    with err(WRONGTYPE):
        r.incrbyfloat("l", 1)


# ---- LCS ----


def test_lcs(r):
    r.mset({"k1": "ohmytext", "k2": "mynewtext"})
    assert r.execute_command("LCS", "k1", "k2") == "mytext"
    assert r.execute_command("LCS", "k1", "k2", "LEN") == 6
    assert r.execute_command("LCS", "k1", "k2", "IDX") == [
        "matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]
    assert r.execute_command("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        "matches", [[[4, 7], [5, 8], 4]], "len", 6]
    assert r.execute_command("LCS", "k1", "nosuch") == ""
    with err(r"^If you want both the length and indexes, please just use IDX\.$"):
        r.execute_command("LCS", "k1", "k2", "LEN", "IDX")
    with err(SYNTAX):
        r.execute_command("LCS", "k1", "k2", "MINMATCHLEN")
    with err(NOT_INT):
        r.execute_command("LCS", "k1", "k2", "MINMATCHLEN", "x")
    make_list(r, "l")
    with err(r"^The specified keys must contain string values$"):
        r.execute_command("LCS", "k1", "l")


def test_lcs_memory_limit(r):
    r.config_set("proto-max-bulk-len", "1mb")
    try:
        r.mset({"a": "a" * 600, "b": "b" * 600})
        with err(r"^Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len$"):
            r.execute_command("LCS", "a", "b")
    finally:
        r.config_set("proto-max-bulk-len", "512mb")
    assert r.execute_command("LCS", "a", "b", "LEN") == 0


# ---- Encodings ----


def test_encodings(r):
    cases = [("SET", "12"), ("SET", "abc"), ("SET", "x" * 45)]
    expect = ["int", "embstr", "raw"]
    for (cmd, v), enc in zip(cases, expect):
        r.execute_command(cmd, "k", v)
        assert r.object("encoding", "k") == enc
    r.set("k", "abc")
    r.append("k", "")
    assert r.object("encoding", "k") == "raw"
    r.set("k", "abc")
    r.setrange("k", 0, "x")
    assert r.object("encoding", "k") == "raw"
    r.append("new", "12")
    assert r.object("encoding", "new") == "int"


# ---- Bookkeeping: dirty and keyspace hits/misses ----


def test_dirty_counts_changed_keys(r):
    steps = [
        (("SET", "a", "1"), 1),
        (("SET", "a", "2", "NX"), 0),
        (("MSET", "a", "1", "b", "2", "c", "3"), 3),
        (("MSETNX", "a", "1", "z", "2"), 0),
        (("MSETNX", "y", "1", "z", "2"), 2),
        (("APPEND", "a", "x"), 1),
        (("SETRANGE", "a", "0", ""), 0),
        (("SETRANGE", "a", "0", "y"), 1),
        (("INCR", "b"), 1),
        (("INCRBYFLOAT", "b", "1"), 1),
        (("GETEX", "a"), 0),
        (("GETEX", "a", "PERSIST"), 0),
        (("GETEX", "a", "EX", "100"), 1),
        (("GETEX", "a", "PERSIST"), 1),
        (("GETDEL", "nosuch"), 0),
        (("GETDEL", "a"), 1),
        (("GETSET", "a", "v"), 1),
        (("SETNX", "a", "v"), 0),
        (("GET", "a"), 0),
        (("LCS", "a", "b"), 0),
    ]
    for cmd, delta in steps:
        before = dirty(r)
        r.execute_command(*cmd)
        assert dirty(r) - before == delta, cmd


def test_keyspace_hits_and_misses(r):
    r.set("a", "1")
    steps = [
        (("GET", "a"), (1, 0)),
        (("GET", "nosuch"), (0, 1)),
        (("MGET", "a", "nosuch", "a"), (2, 1)),
        (("STRLEN", "a"), (1, 0)),
        (("GETRANGE", "nosuch", "0", "1"), (0, 1)),
        (("LCS", "a", "nosuch"), (1, 1)),
        (("GETEX", "a"), (1, 0)),
        (("SET", "a", "2", "GET"), (1, 0)),
        (("SET", "a", "3"), (0, 0)),
        (("INCR", "a"), (0, 0)),
        (("APPEND", "a", "1"), (0, 0)),
        (("GETSET", "a", "4"), (1, 0)),
        (("GETDEL", "a"), (1, 0)),
    ]
    for cmd, (dh, dm) in steps:
        h0, m0 = hits_misses(r)
        r.execute_command(*cmd)
        h1, m1 = hits_misses(r)
        assert (h1 - h0, m1 - m0) == (dh, dm), cmd


# ---- Arity ----


@pytest.mark.parametrize("cmd,args", [
    ("get", []), ("setnx", ["k"]), ("setex", ["k", "1"]), ("psetex", ["k"]), ("getset", ["k"]),
    ("getdel", []), ("getex", []), ("mget", []), ("mset", ["k"]), ("msetnx", ["k"]),
    ("append", ["k"]), ("strlen", []), ("getrange", ["k", "0"]), ("substr", ["k"]),
    ("setrange", ["k", "0"]), ("incr", []), ("decr", ["a", "b"]), ("incrby", ["k"]),
    ("decrby", ["k", "1", "2"]), ("incrbyfloat", ["k"]), ("lcs", ["k"]),
])
def test_arity(r, cmd, args):
    with err(rf"^wrong number of arguments for '{cmd}' command$"):
        r.execute_command(cmd.upper(), *args)


# ---- Seeded random walk against the reference server ----


def random_command(rng):
    key = rng.choice([b"a", b"b", b"c"])
    small = lambda: bytes(rng.choice(b"ab01\x00-.") for _ in range(rng.randrange(0, 6)))
    num = lambda: str(rng.choice([0, 1, -1, 7, 100, -3, 2 ** 62, -(2 ** 62)])).encode()
    choices = [
        lambda: (b"APPEND", key, small()),
        lambda: (b"SETRANGE", key, str(rng.randrange(0, 12)).encode(), small()),
        lambda: (b"GETRANGE", key, str(rng.randrange(-15, 15)).encode(),
                 str(rng.randrange(-15, 15)).encode()),
        lambda: (b"INCRBY", key, num()),
        lambda: (b"DECRBY", key, num()),
        lambda: (b"INCRBYFLOAT", key, rng.choice([b"1.5", b"-0.25", b"3", b"1e3", b"0.1"])),
        lambda: (b"SET", key, rng.choice([small(), num()])),
        lambda: (b"GETSET", key, num()),
        lambda: (b"GET", key),
        lambda: (b"STRLEN", key),
        lambda: (b"GETDEL", key),
        lambda: (b"MSETNX", key, small(), b"c", num()),
        lambda: (b"MGET", b"a", b"b", b"c"),
        lambda: (b"LCS", b"a", key),
        lambda: (b"LCS", b"a", b"b", b"IDX", b"WITHMATCHLEN"),
        lambda: (b"OBJECT", b"ENCODING", key),
    ]
    return rng.choice(choices)()


def outcome(client, cmd):
    try:
        return ("ok", client.execute_command(*cmd))
    except redis.ResponseError as e:
        return ("err", str(e))


def test_random_walk_matches_redis(rb, redis_ref):
    ref = redis_ref.client(decode=False)
    try:
        rng = random.Random(20240501)
        for i in range(3000):
            cmd = random_command(rng)
            want = outcome(ref, cmd)
            got = outcome(rb, cmd)
            assert got == want, f"step {i}: {cmd!r}"
    finally:
        ref.close()
