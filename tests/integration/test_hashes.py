"""Hash commands through redis-py: every command, option and error, the
encodings and their conversion (thresholds set by CONFIG SET and on the
command line), shared field lists, RESP3 shapes, bookkeeping (hits and
misses, dirty, WATCH, keyspace events), randomness that the differential
script (diff/hashes.txt) can only compare by shape, and a seeded random walk
compared with redis-server.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import collections
import random

import pytest
import redis

from harness import SELFTEST, RawConn, resp_parse

WRONGTYPE = r"^WRONGTYPE Operation against a key holding the wrong kind of value"


def err(pattern):
    return pytest.raises(redis.ResponseError, match=pattern)


def call(r, *args):
    """execute_command without redis-py's reply callbacks (a bytes command
    name matches none), so replies arrive as the server sent them."""
    return r.execute_command(args[0].encode(), *args[1:])


def port_of(r):
    return r.connection_pool.connection_kwargs["port"]


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def hits_misses(r):
    s = r.info("stats")
    return s["keyspace_hits"], s["keyspace_misses"]


def enc(r, key):
    return r.object("encoding", key)


# ---------------------------------------------------------------------------
# Setting and reading


def test_hset_hget(r):
    assert r.hset("h", "f1", "v1") == 1
    assert call(r, "HSET", "h", "f2", "v2", "f3", "v3") == 2
    assert call(r, "HSET", "h", "f1", "new", "f4", "v4") == 1
    assert call(r, "HSET", "h", "f5", "a", "f5", "b") == 1
    assert r.hget("h", "f1") == "new"
    assert r.hget("h", "f5") == "b"
    assert r.hget("h", "nofield") is None
    assert r.hget("nosuch", "f") is None
    assert r.hlen("h") == 5
    assert r.hlen("nosuch") == 0
    assert r.type("h") == "hash"
    assert enc(r, "h") == "listpack"


def test_hmset_and_hsetnx(r):
    assert call(r, "HMSET", "h", "a", "1", "b", "2") == "OK"
    assert r.hgetall("h") == {"a": "1", "b": "2"}
    assert r.hsetnx("h", "a", "x") == 0
    assert r.hget("h", "a") == "1"
    assert r.hsetnx("h", "c", "3") == 1
    assert r.hsetnx("new", "f", "v") == 1
    assert r.hgetall("new") == {"f": "v"}
    with err(r"^wrong number of arguments for 'hmset' command"):
        call(r, "HMSET", "h", "a", "1", "b")


def test_hmget_hexists_hstrlen(r):
    r.hset("h", mapping={"a": "1", "b": "hello", "n": "-12345", "e": ""})
    assert r.hmget("h", "a", "z", "b", "a") == ["1", None, "hello", "1"]
    assert r.hmget("nosuch", "a", "b") == [None, None]
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "z") is False
    assert r.hexists("nosuch", "a") is False
    assert r.hstrlen("h", "b") == 5
    assert r.hstrlen("h", "n") == 6
    assert r.hstrlen("h", "e") == 0
    assert r.hstrlen("h", "z") == 0
    assert r.hstrlen("nosuch", "z") == 0


def test_getall_keys_vals_keep_insertion_order(r):
    fields = [f"f{i}" for i in range(20)]
    for i, f in enumerate(fields):
        r.hset("h", f, str(i * 7))
    r.hdel("h", "f3", "f11")
    r.hset("h", "f5", "changed")
    r.hset("h", "f3", "back")
    want = [f for f in fields if f not in ("f3", "f11")] + ["f3"]
    assert r.hkeys("h") == want
    values = r.hvals("h")
    assert values[want.index("f5")] == "changed" and values[-1] == "back"
    assert list(r.hgetall("h").keys()) == want
    assert r.hkeys("nosuch") == [] and r.hvals("nosuch") == [] and r.hgetall("nosuch") == {}


def test_integer_like_fields_and_values_keep_their_text(rb):
    texts = [b"0", b"-1", b"127", b"128", b"-4096", b"32768", b"9223372036854775807",
             b"-9223372036854775808", b"9223372036854775808", b"007", b"+1", b"-0", b" 1",
             b"1.5", b""]
    for i, t in enumerate(texts):
        rb.hset(b"h", t, t + b"v")
        rb.hset(b"v", b"f%d" % i, t)
    assert rb.hkeys(b"h") == texts
    assert [rb.hget(b"h", t) for t in texts] == [t + b"v" for t in texts]
    assert rb.hvals(b"v") == texts
    assert rb.hget(b"h", b"01") is None


def test_binary_fields_and_values(rb):
    f, v = b"\x00\xff\r\n", b"\r\n\x00"
    assert rb.hset(b"h", f, v) == 1
    assert rb.hget(b"h", f) == v
    assert rb.hgetall(b"h") == {f: v}
    assert rb.hset(b"h", b"", b"") == 1
    assert rb.hget(b"h", b"") == b""


def test_hdel_and_emptied_hash_disappears(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("nosuch", "a") == 0
    assert r.hdel("h", "zz") == 0
    assert r.hdel("h", "a", "a", "zz") == 1
    assert r.hlen("h") == 2
    assert r.hdel("h", "b", "c", "b") == 2
    assert r.exists("h") == 0
    # A table-encoded hash goes the same way.
    r.hset("t", mapping={f"f{i}": i for i in range(600)})
    assert enc(r, "t") == "hashtable"
    assert r.hdel("t", *[f"f{i}" for i in range(600)], "extra") == 600
    assert r.exists("t") == 0


# ---------------------------------------------------------------------------
# Counters


def test_hincrby(r):
    assert r.hincrby("c", "n", 5) == 5
    assert r.hincrby("c", "n", -15) == -10
    assert r.hget("c", "n") == "-10"
    assert r.hincrby("c", "big", 2**63 - 1) == 2**63 - 1
    with err(r"^increment or decrement would overflow$"):
        r.hincrby("c", "big", 1)
    assert r.hincrby("c", "small", -(2**63)) == -(2**63)
    with err(r"^increment or decrement would overflow$"):
        r.hincrby("c", "small", -1)
    assert r.hincrby("c", "small", 2**63 - 1) == -1
    for bad in ("hello", " 1", "007", "-0", "1.0", ""):
        r.hset("c", "s", bad)
        with err(r"^hash value is not an integer$"):
            r.hincrby("c", "s", 1)
    for bad in ("x", "1.5", "9223372036854775808", ""):
        with err(r"^value is not an integer or out of range$"):
            call(r, "HINCRBY", "c", "n", bad)
    assert r.hget("c", "n") == "-10"


def test_hincrbyfloat(r):
    cases = [("10.5", "10.5"), ("0.1", "10.6"), ("-5.6", "5"), ("5e3", "5005"),
             ("-5005", "0"), ("1.0e-3", "0.001"), (".5", "0.501")]
    for incr, want in cases:
        assert call(r, "HINCRBYFLOAT", "f", "a", incr) == want
    assert call(r, "HINCRBYFLOAT", "f", "e", "1e17") == "100000000000000000"
    assert r.hset("f", "n", "12") == 1
    assert call(r, "HINCRBYFLOAT", "f", "n", "1.5") == "13.5"
    with err(r"^value is NaN or Infinity$"):
        call(r, "HINCRBYFLOAT", "f", "a", "inf")
    with err(r"^value is NaN or Infinity$"):
        call(r, "HINCRBYFLOAT", "f", "a", "-inf")
    for bad in ("nan", "abc", "", " 1", "1 "):
        with err(r"^value is not a valid float$"):
            call(r, "HINCRBYFLOAT", "f", "a", bad)
    call(r, "HINCRBYFLOAT", "f", "big", "1e4932")
    with err(r"^increment would produce NaN or Infinity$"):
        call(r, "HINCRBYFLOAT", "f", "big", "1e4932")
    for bad in ("notanumber", " 1", ""):
        r.hset("f", "s", bad)
        with err(r"^hash value is not a float$"):
            call(r, "HINCRBYFLOAT", "f", "s", "1")


def test_counter_errors_on_a_new_key_leave_nothing(r):
    with err(r"^value is not an integer or out of range$"):
        call(r, "HINCRBY", "k", "f", "x")
    with err(r"^value is NaN or Infinity$"):
        call(r, "HINCRBYFLOAT", "k", "f", "inf")
    assert r.exists("k") == 0


# ---------------------------------------------------------------------------
# HRANDFIELD


def test_hrandfield_single(r):
    assert r.hrandfield("nosuch") is None
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    seen = collections.Counter(r.hrandfield("h") for _ in range(300))
    assert set(seen) == {"a", "b", "c"}


@pytest.mark.parametrize("size", [5, 600])  # listpack, hashtable (past 512 entries)
def test_hrandfield_count(r, size):
    fields = {f"f{i}": str(i) for i in range(size)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == ("listpack" if size <= 512 else "hashtable")
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("nosuch", 5) == []
    assert r.hrandfield("nosuch", -5, withvalues=True) == []
    # Distinct: min(count, size) different fields.
    for count in (1, 2, size - 1, size, size + 1, size * 3):
        got = r.hrandfield("h", count)
        assert len(got) == min(count, size)
        assert len(set(got)) == len(got) and set(got) <= set(fields)
    # count >= size: the whole hash, in hash order for a listpack.
    whole = r.hrandfield("h", size + 10)
    if size <= 512:
        assert whole == list(fields)
    # Negative: exactly -count picks, repeats allowed.
    got = r.hrandfield("h", -size * 4)
    assert len(got) == size * 4 and set(got) <= set(fields)
    assert len(set(got)) < len(got)
    # WITHVALUES: flat field/value pairs in RESP2, each value the field's.
    flat = call(r, "HRANDFIELD", "h", "-50", "WITHVALUES")
    assert len(flat) == 100
    for f, v in zip(flat[::2], flat[1::2]):
        assert fields[f] == v
    flat = call(r, "HRANDFIELD", "h", "3", "withvalues")
    assert len(flat) == 6 and len(set(flat[::2])) == 3


@pytest.mark.parametrize("size", [6, 600])
def test_hrandfield_is_roughly_uniform(r, size):
    r.hset("h", mapping={f"f{i}": "v" for i in range(size)})
    picks = collections.Counter()
    rounds = 20
    for _ in range(rounds):
        picks.update(r.hrandfield("h", -size * 10))
    expected = rounds * 10
    assert set(picks) == {f"f{i}" for i in range(size)}
    for f, n in picks.items():
        # Listpack picks are uniform; tables sample a run of buckets as
        # Redis's dictGetFairRandomKey does, which is only roughly so.
        lo, hi = (0.6, 1.5) if size <= 512 else (0.15, 3.5)
        assert expected * lo < n < expected * hi, (f, n)
    # Distinct samples cover every field over many calls too.
    distinct = collections.Counter()
    for _ in range(rounds * 4):
        distinct.update(r.hrandfield("h", max(1, size // 3)))
    assert len(distinct) == size


def test_hrandfield_errors(r):
    r.hset("h", "a", "1")
    with err(r"^value is not an integer or out of range$"):
        r.hrandfield("h", "x")
    with err(r"^value is not an integer or out of range$"):
        call(r, "HRANDFIELD", "h", "9223372036854775808")
    with err(r"^value is out of range, value must between -9223372036854775807 and "
             r"9223372036854775807$"):
        call(r, "HRANDFIELD", "h", "-9223372036854775808")
    for n in ("4611686018427387904", "-4611686018427387904", "-9223372036854775807"):
        with err(r"^value is out of range$"):
            call(r, "HRANDFIELD", "h", n, "WITHVALUES")
    with err(r"^syntax error$"):
        call(r, "HRANDFIELD", "h", "1", "WITHVALUE")
    with err(r"^syntax error$"):
        call(r, "HRANDFIELD", "h", "1", "WITHVALUES", "x")
    # The count is parsed before the option, the option before the range.
    with err(r"^value is not an integer or out of range$"):
        call(r, "HRANDFIELD", "h", "x", "WITHVALUE")
    with err(r"^syntax error$"):
        call(r, "HRANDFIELD", "h", "4611686018427387904", "WITHVALUE")
    # The bound still allows the largest count: it returns the whole hash.
    assert call(r, "HRANDFIELD", "h", "4611686018427387903", "WITHVALUES") == ["a", "1"]


# ---------------------------------------------------------------------------
# HSCAN


def scan_all(r, key, **kw):
    cursor, pairs, calls = 0, {}, 0
    while True:
        cursor, chunk = r.hscan(key, cursor, **kw)
        pairs.update(chunk)
        calls += 1
        if cursor == 0:
            return pairs, calls


def test_hscan_listpack_is_one_call(r):
    r.hset("h", mapping={"f1": "v1", "f2": "v2", "g1": "w1", "1": "int"})
    assert call(r, "HSCAN", "h", "0") == ["0", ["f1", "v1", "f2", "v2", "g1", "w1", "1", "int"]]
    assert call(r, "HSCAN", "h", "0", "COUNT", "1")[1] == call(r, "HSCAN", "h", "0")[1]
    assert call(r, "HSCAN", "h", "0", "MATCH", "f*") == ["0", ["f1", "v1", "f2", "v2"]]
    assert call(r, "HSCAN", "h", "0", "MATCH", "1") == ["0", ["1", "int"]]
    assert call(r, "HSCAN", "h", "0", "MATCH", "zz*") == ["0", []]
    # Any cursor gives the whole listpack again.
    assert call(r, "HSCAN", "h", "12345")[0] == "0"
    assert call(r, "HSCAN", "nosuch", "0") == ["0", []]


def test_hscan_hashtable_walks_with_cursor(r):
    fields = {f"field:{i}": f"value:{i}" for i in range(1000)}
    r.hset("h", mapping=fields)
    assert enc(r, "h") == "hashtable"
    pairs, calls = scan_all(r, "h", count=10)
    assert pairs == fields
    assert calls > 10  # a real walk, not one reply
    pairs, _ = scan_all(r, "h", match="field:1*", count=50)
    assert pairs == {f: v for f, v in fields.items() if f.startswith("field:1")}
    cursor, chunk = r.hscan("h", 0, count=100000)
    assert cursor == 0 and chunk == fields


def test_hscan_sees_survivors_across_changes(r):
    r.hset("h", mapping={f"f{i}": "v" for i in range(600)})
    assert enc(r, "h") == "hashtable"
    cursor, seen = 0, set()
    step = 0
    while True:
        cursor, chunk = r.hscan("h", cursor, count=20)
        seen.update(chunk)
        step += 1
        # Grow and shrink the table while the walk goes on.
        if step == 3:
            r.hset("h", mapping={f"new{i}": "v" for i in range(2000)})
        if step == 6:
            r.hdel("h", *[f"new{i}" for i in range(2000)])
        if cursor == 0:
            break
    assert {f"f{i}" for i in range(600)} <= seen


def test_hscan_errors(r):
    r.hset("h", "a", "1")
    for bad in ("x", "1 ", " 1", "18446744073709551616"):
        with err(r"^invalid cursor$"):
            call(r, "HSCAN", "h", bad)
    for args in (["COUNT", "0"], ["COUNT", "-1"], ["COUNT"], ["MATCH"], ["TYPE", "string"],
                 ["foo", "bar"]):
        with err(r"^syntax error$"):
            call(r, "HSCAN", "h", "0", *args)
    with err(r"^value is not an integer or out of range$"):
        call(r, "HSCAN", "h", "0", "COUNT", "x")
    # A missing key answers before the options are read, as in Redis.
    assert call(r, "HSCAN", "nosuch", "0", "COUNT", "0") == ["0", []]


# ---------------------------------------------------------------------------
# Errors common to every command


def test_wrongtype_everywhere(r):
    r.set("s", "v")
    for cmd in (["HSET", "s", "f", "v"], ["HMSET", "s", "f", "v"], ["HSETNX", "s", "f", "v"],
                ["HGET", "s", "f"], ["HMGET", "s", "f"], ["HGETALL", "s"], ["HKEYS", "s"],
                ["HVALS", "s"], ["HLEN", "s"], ["HEXISTS", "s", "f"], ["HSTRLEN", "s", "f"],
                ["HDEL", "s", "f"], ["HINCRBY", "s", "f", "1"], ["HINCRBYFLOAT", "s", "f", "1"],
                ["HRANDFIELD", "s"], ["HRANDFIELD", "s", "2"], ["HSCAN", "s", "0"]):
        with err(WRONGTYPE):
            call(r, *cmd)
    assert r.get("s") == "v"
    r.hset("h", "f", "v")
    with err(WRONGTYPE):
        r.get("h")
    with err(WRONGTYPE):
        r.rpush("h", "x")


def test_arity(r):
    for cmd in (["HSET", "h"], ["HSET", "h", "f"], ["HSET", "h", "f", "v", "g"],
                ["HMSET", "h", "f"], ["HSETNX", "h", "f"], ["HGET", "h"], ["HMGET", "h"],
                ["HGETALL"], ["HKEYS", "a", "b"], ["HVALS"], ["HLEN", "a", "b"], ["HDEL", "h"],
                ["HEXISTS", "h"], ["HSTRLEN", "h"], ["HINCRBY", "h", "f"],
                ["HINCRBYFLOAT", "h", "f", "1", "2"], ["HRANDFIELD"], ["HSCAN", "h"]):
        name = cmd[0].lower()
        with err(rf"^wrong number of arguments for '{name}' command$"):
            call(r, *cmd)
    assert r.exists("h") == 0


def test_command_info(r):
    with RawConn(port_of(r)) as c:
        got = c.call("COMMAND", "INFO", "hset")
        assert b"$4\r\nhset\r\n:-4\r\n" in got and b"denyoom" in got and b"fast" in got
        got = c.call("COMMAND", "INFO", "hgetall")
        assert b"$7\r\nhgetall\r\n:2\r\n" in got and b"readonly" in got
        got = c.call("COMMAND", "INFO", "hscan")
        assert b"$5\r\nhscan\r\n:-3\r\n" in got


# ---------------------------------------------------------------------------
# Encodings


def test_conversion_on_entries_via_config_set(r):
    r.config_set("hash-max-listpack-entries", 4)
    try:
        r.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
        assert enc(r, "h") == "listpack"
        r.hset("h", "a", "again")
        assert enc(r, "h") == "listpack"
        r.hset("h", "e", 5)
        assert enc(r, "h") == "hashtable"
        assert r.hgetall("h") == {"a": "again", "b": "2", "c": "3", "d": "4", "e": "5"}
        r.hdel("h", "a", "b", "c", "d")
        assert enc(r, "h") == "hashtable"  # no way back, as in Redis
        r.config_set("hash-max-listpack-entries", 0)
        r.hset("z", "a", "b")
        assert enc(r, "z") == "hashtable"
    finally:
        r.config_set("hash-max-listpack-entries", 128)


def test_conversion_on_length(r):
    r.hset("v64", "f", "x" * 64)
    assert enc(r, "v64") == "listpack"
    r.hset("v64", "f", "x" * 65)
    assert enc(r, "v64") == "hashtable"
    r.hset("f65", "y" * 65, "v")
    assert enc(r, "f65") == "hashtable"
    # One long argument converts before anything is set (Redis's look-ahead).
    r.hset("look", mapping={"a": "1", "b": "z" * 65})
    assert enc(r, "look") == "hashtable"
    r.hsetnx("nx", "f", "n" * 65)
    assert enc(r, "nx") == "hashtable"
    # A counter whose result is long converts too.
    call(r, "HINCRBYFLOAT", "fl", "a", "1e400")
    assert enc(r, "fl") == "hashtable"
    r.config_set("hash-max-listpack-value", 0)
    try:
        r.hset("e", "", "")
        assert enc(r, "e") == "listpack"
        r.hset("e", "a", "")
        assert enc(r, "e") == "hashtable"
    finally:
        r.config_set("hash-max-listpack-value", 64)


def test_thresholds_from_the_command_line(start_ember):
    srv = start_ember("--hash-max-listpack-entries", "2", "--hash-max-listpack-value", "3")
    c = srv.client()
    try:
        c.hset("h", mapping={"a": "1", "b": "2"})
        assert c.object("encoding", "h") == "listpack"
        c.hset("h", "c", "3")
        assert c.object("encoding", "h") == "hashtable"
        c.hset("v", "f", "abcd")
        assert c.object("encoding", "v") == "hashtable"
        assert c.config_get("hash-max-listpack-*") == {"hash-max-listpack-entries": "2",
                                                       "hash-max-listpack-value": "3"}
    finally:
        c.close()


def test_big_hash_against_model(r):
    rnd = random.Random(5)
    model = {}
    for i in range(3000):
        f = f"f{rnd.randrange(2000)}"
        v = str(rnd.randrange(10**6)) if rnd.random() < 0.5 else "x" * rnd.randrange(100)
        assert r.hset("big", f, v) == (0 if f in model else 1)
        model[f] = v
    for f in rnd.sample(sorted(model), 500):
        assert r.hdel("big", f) == 1
        del model[f]
    assert enc(r, "big") == "hashtable"
    assert r.hlen("big") == len(model)
    assert r.hgetall("big") == model
    assert sorted(r.hkeys("big")) == sorted(model)
    assert sorted(r.hvals("big")) == sorted(model.values())
    assert scan_all(r, "big", count=7)[0] == model
    for f in rnd.sample(sorted(model), 50):
        assert r.hstrlen("big", f) == len(model[f])
        r.hincrbyfloat("big", f + "n", 1.5)


def test_memory_usage_grows_with_the_hash(r):
    r.hset("h", "a", "1")
    small = r.memory_usage("h")
    r.hset("h", mapping={f"f{i}": "x" * 50 for i in range(100)})
    mid = r.memory_usage("h")
    r.hset("h", mapping={f"g{i}": "x" * 50 for i in range(1000)})
    assert enc(r, "h") == "hashtable"
    assert small < mid < r.memory_usage("h")
    assert r.memory_usage("h") > 1000 * 50


# ---------------------------------------------------------------------------
# Shared field lists


def used_memory(r):
    return r.info("memory")["used_memory"]


def test_records_with_the_same_fields(r):
    fields = ["name", "email", "created_at", "country", "plan"]
    for i in range(200):
        r.hset(f"user:{i}", mapping={f: f"{f}-{i}" for f in fields})
    for i in (0, 1, 99, 199):
        assert r.hgetall(f"user:{i}") == {f: f"{f}-{i}" for f in fields}
        assert r.hkeys(f"user:{i}") == fields
        assert enc(r, f"user:{i}") == "listpack"
    # Each record changes on its own.
    r.hset("user:5", "email", "new@example.com")
    r.hincrby("user:6", "visits", 3)
    r.hdel("user:7", "country")
    assert r.hget("user:5", "email") == "new@example.com"
    assert r.hget("user:4", "email") == "email-4"
    assert r.hkeys("user:6") == fields + ["visits"]
    assert r.hkeys("user:7") == ["name", "email", "created_at", "plan"]
    assert r.hkeys("user:8") == fields
    assert r.hrandfield("user:9", 10, withvalues=True) == [x for f in fields
                                                          for x in (f, f"{f}-9")]
    assert r.hscan("user:10", 0) == (0, {f: f"{f}-10" for f in fields})
    # Copies and renames keep their values.
    r.copy("user:11", "copy")
    r.rename("user:12", "renamed")
    r.delete("user:11")
    assert r.hgetall("copy") == {f: f"{f}-11" for f in fields}
    assert r.hgetall("renamed") == {f: f"{f}-12" for f in fields}
    r.flushall()
    assert r.dbsize() == 0


@pytest.mark.skipif(SELFTEST, reason="ember's own encoding")
def test_shared_fields_save_memory(r):
    """Keys with the same field list cost less than keys whose fields are
    all their own (same number and size of strings)."""
    n = 3000
    base = used_memory(r)
    if base == 0:
        pytest.skip("no allocator statistics (the Asan build uses libc malloc)")
    for i in range(n):
        r.hset(f"k:{i:06d}", mapping={f"field:{j}": f"val:{i * 10 + j:012d}" for j in range(10)})
    shared = (used_memory(r) - base) / n
    r.flushall()
    base = used_memory(r)
    for i in range(n):
        r.hset(f"k:{i:06d}", mapping={f"f{i:04d}:{j}": f"val:{i * 10 + j:012d}"
                                      for j in range(10)})
    own = (used_memory(r) - base) / n
    assert shared < own * 0.8, (shared, own)


# ---------------------------------------------------------------------------
# RESP3


def test_resp3_shapes(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    with RawConn(port_of(r)) as c:
        c.call("HELLO", "3")
        assert c.call("HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        assert c.call("HGETALL", "nosuch") == b"%0\r\n"
        assert c.call("HKEYS", "h") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        assert c.call("HMGET", "h", "a", "z") == b"*2\r\n$1\r\n1\r\n_\r\n"
        assert c.call("HGET", "h", "z") == b"_\r\n"
        assert c.call("HRANDFIELD", "nosuch") == b"_\r\n"
        assert c.call("HRANDFIELD", "h", "5", "WITHVALUES") == (
            b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n")
        assert c.call("HRANDFIELD", "h", "5") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        got = c.call("HRANDFIELD", "h", "-3", "WITHVALUES")
        assert got.startswith(b"*3\r\n*2\r\n") and got.count(b"*2\r\n") == 3
        assert c.call("HRANDFIELD", "nosuch", "3") == b"*0\r\n"
        assert c.call("HSCAN", "h", "0") == (
            b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")


# ---------------------------------------------------------------------------
# Bookkeeping


def test_read_commands_count_hits_and_misses(r):
    r.hset("h", "a", "1")
    h, m = hits_misses(r)
    for cmd in (["HGET", "h", "a"], ["HMGET", "h", "a"], ["HGETALL", "h"], ["HKEYS", "h"],
                ["HVALS", "h"], ["HLEN", "h"], ["HEXISTS", "h", "a"], ["HSTRLEN", "h", "a"],
                ["HRANDFIELD", "h"], ["HSCAN", "h", "0"]):
        call(r, *cmd)
        call(r, cmd[0], "nosuch", *cmd[2:])
    assert hits_misses(r) == (h + 10, m + 10)
    # Writes do not count.
    r.hset("h", "b", "2")
    r.hdel("h", "b")
    r.hincrby("h", "n", 1)
    assert hits_misses(r) == (h + 10, m + 10)


def test_dirty_counts_changes(r):
    d = dirty(r)
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert dirty(r) == d + 3
    r.hset("h", "a", "1")  # an update of the same value still counts
    assert dirty(r) == d + 4
    r.hsetnx("h", "a", "x")
    r.hdel("h", "zz")
    r.hdel("nosuch", "a")
    r.hget("h", "a")
    assert dirty(r) == d + 4
    r.hdel("h", "a", "b", "zz")
    assert dirty(r) == d + 6
    r.hincrby("h", "c", 1)
    r.hincrbyfloat("h", "c", 1.5)
    r.hsetnx("h", "new", "1")
    assert dirty(r) == d + 9


def test_watch_sees_hash_changes(r):
    r.hset("h", "a", "1")
    other = redis.Redis(port=port_of(r), decode_responses=True)
    try:
        for change in (lambda: other.hset("h", "b", "2"), lambda: other.hdel("h", "b"),
                       lambda: other.hincrby("h", "n", 1), lambda: other.hsetnx("h", "x", "1"),
                       lambda: other.hincrbyfloat("h", "n", 0.5)):
            p = r.pipeline(transaction=True)
            p.watch("h")
            change()
            p.multi()
            p.hlen("h")
            with pytest.raises(redis.WatchError):
                p.execute()
        # Reads and failed writes leave the watch intact.
        p = r.pipeline(transaction=True)
        p.watch("h")
        other.hget("h", "a")
        other.hsetnx("h", "a", "z")
        other.hdel("h", "nofield")
        p.multi()
        p.hlen("h")
        assert p.execute() == [3]
    finally:
        other.close()


def collect_events(server, commands):
    """The keyspace/keyevent notifications `commands` produce, in order (a
    message on channel END, subscribed last, marks the end)."""
    c = server.client()
    sub = server.client().pubsub()
    try:
        c.config_set("notify-keyspace-events", "KEA")
        sub.psubscribe("__key*__:*")
        sub.subscribe("END")
        for _ in range(2):
            assert sub.get_message(timeout=1) is not None
        for cmd in commands:
            try:
                c.execute_command(*cmd)
            except redis.ResponseError:
                pass
        c.execute_command("PUBLISH", "END", "x")
        events = []
        while True:
            m = sub.get_message(timeout=2)
            assert m is not None, "no end marker"
            if m["type"] == "message":
                return events
            if m["type"] == "pmessage":
                events.append((m["channel"], m["data"]))
    finally:
        c.config_set("notify-keyspace-events", "")
        sub.close()
        c.close()


def test_keyspace_events_match_redis(ember, redis_ref):
    commands = [
        ("HSET", "h", "a", "1", "b", "2"), ("HMSET", "h", "c", "3"), ("HSETNX", "h", "a", "x"),
        ("HSETNX", "h", "d", "4"), ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "n", "1.5"),
        ("HINCRBY", "h", "a", "x"), ("HDEL", "h", "zz"), ("HDEL", "h", "a", "b"),
        ("HDEL", "h", "c", "d", "n"), ("HSET", "s", "f", "v"), ("HGET", "s", "f"),
        ("HINCRBYFLOAT", "s", "f", "1"), ("HSET", "s", "g", "x" * 100), ("HDEL", "s", "f", "g"),
    ]
    assert collect_events(ember, commands) == collect_events(redis_ref, commands)


# ---------------------------------------------------------------------------
# Random walk compared with redis-server


def random_command(rnd):
    keys = ["k1", "k2", "k3"]
    fields = ["a", "b", "c", "d", "e", "f", "1", "-7", "long" * 20]
    vals = ["x", "1", "-12", "3.5", "", "9223372036854775807", "v" * 70, "007"]
    k = rnd.choice(keys)
    f = rnd.choice(fields)
    v = rnd.choice(vals)
    pairs = []
    for _ in range(rnd.randrange(1, 4)):
        pairs += [rnd.choice(fields), rnd.choice(vals)]
    return rnd.choice([
        ["HSET", k, f, v], ["HSET", k] + pairs, ["HMSET", k] + pairs, ["HSETNX", k, f, v],
        ["HDEL", k, f], ["HDEL", k, f, rnd.choice(fields), rnd.choice(fields)],
        ["HGET", k, f], ["HMGET", k, f, rnd.choice(fields)], ["HLEN", k], ["HEXISTS", k, f],
        ["HSTRLEN", k, f], ["HINCRBY", k, f, str(rnd.randrange(-100, 100))],
        ["HINCRBYFLOAT", k, f, rnd.choice(["0.5", "-1.25", "1e3", "3"])],
        ["HGETALL", k], ["HKEYS", k], ["HVALS", k], ["HRANDFIELD", k, "100"],
        ["HRANDFIELD", k, "100", "WITHVALUES"], ["HRANDFIELD", k, "0"], ["HSCAN", k, "0"],
        ["OBJECT", "ENCODING", k], ["EXISTS", k], ["TYPE", k], ["DEL", k],
    ])


def canonical(cmd, reply, encoding):
    """Replies whose order depends on the table's layout compare as sorted
    pairs (HGETALL, HRANDFIELD ... WITHVALUES, HSCAN) or sorted lists."""
    if encoding != b"hashtable" or not isinstance(reply, list):
        return reply
    name = cmd[0]
    if name == "HSCAN":
        reply = reply[1]
        name = "HGETALL"
    if name == "HGETALL" or (name == "HRANDFIELD" and "WITHVALUES" in cmd):
        return sorted(zip(reply[::2], reply[1::2]))
    if name in ("HKEYS", "HVALS", "HRANDFIELD"):
        return sorted(reply)
    return reply


@pytest.mark.parametrize("entries", [128, 4])
def test_random_walk_against_redis(ember, redis_ref, entries):
    rnd = random.Random(20261125 + entries)
    with RawConn(ember.port) as e, RawConn(redis_ref.port) as ref:
        for c in (e, ref):
            assert c.call("CONFIG", "SET", "hash-max-listpack-entries", str(entries)) == b"+OK\r\n"
        try:
            for step in range(3000):
                cmd = random_command(rnd)
                k = cmd[2] if cmd[0] == "OBJECT" else cmd[1]
                encoding = ref.call("OBJECT", "ENCODING", k)
                got_raw, want_raw = e.call(*cmd), ref.call(*cmd)
                if got_raw == want_raw:
                    continue
                got, want = (canonical(cmd, resp_value(x), encoding.split(b"\r\n")[1]
                                       if encoding.startswith(b"$") else b"")
                             for x in (got_raw, want_raw))
                assert got == want, f"step {step}: {cmd}: ember {got_raw!r} redis {want_raw!r}"
        finally:
            for c in (e, ref):
                c.call("CONFIG", "SET", "hash-max-listpack-entries", "128")


def resp_value(raw):
    node, _ = resp_parse(raw)

    def plain(n):
        if isinstance(n.value, list):
            return [plain(x) for x in n.value]
        return bytes(n.raw)

    return plain(node)
