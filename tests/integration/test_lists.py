"""List commands through redis-py: every command, option and error, the
behaviour the differential script (diff/lists.txt) cannot show (blocking pops
served by another client, fairness, MULTI, long lists across many nodes,
bookkeeping), and a seeded random walk compared with redis-server.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import random
import socket
import threading
import time

import pytest
import redis

from harness import RawConn

WRONGTYPE = r"^WRONGTYPE Operation against a key holding the wrong kind of value"


def err(pattern):
    return pytest.raises(redis.ResponseError, match=pattern)


def call(r, *args):
    """execute_command without redis-py's reply callbacks (a bytes command
    name matches none), so replies arrive as the server sent them."""
    return r.execute_command(args[0].encode(), *args[1:])


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def hits_misses(r):
    s = r.info("stats")
    return s["keyspace_hits"], s["keyspace_misses"]


# ---------------------------------------------------------------------------
# Push, pop, length


def test_push_order_and_length(r):
    assert r.rpush("l", "a", "b") == 2
    assert r.lpush("l", "x", "y") == 4
    assert r.lrange("l", 0, -1) == ["y", "x", "a", "b"]
    assert r.llen("l") == 4
    assert r.llen("nosuch") == 0
    assert r.type("l") == "list"
    assert r.object("encoding", "l") == "quicklist"


def test_pushx_only_touches_existing_lists(r):
    assert r.lpushx("l", "a") == 0
    assert call(r, "RPUSHX", "l", "a", "b") == 0
    assert r.exists("l") == 0
    r.rpush("l", "m")
    assert call(r, "LPUSHX", "l", "a", "b") == 3
    assert call(r, "RPUSHX", "l", "y", "z") == 5
    assert r.lrange("l", 0, -1) == ["b", "a", "m", "y", "z"]


def test_pop_without_count(r):
    r.rpush("l", "a", "b", "c")
    assert r.lpop("l") == "a"
    assert r.rpop("l") == "c"
    assert r.rpop("l") == "b"
    assert r.exists("l") == 0  # an emptied list disappears
    assert r.lpop("l") is None
    assert r.rpop("l") is None


def test_pop_with_count(r, rb):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l", 2) == ["a", "b"]
    assert r.rpop("l", 2) == ["e", "d"]
    assert call(r, "LPOP", "l", 0) == []
    assert r.rpop("l", 10) == ["c"]
    assert r.exists("l") == 0
    # A missing key with a count is the nil array (*-1), count 0 included.
    with RawConn(rb.connection_pool.connection_kwargs["port"]) as c:
        assert c.call("LPOP", "nosuch", "3") == b"*-1\r\n"
        assert c.call("RPOP", "nosuch", "0") == b"*-1\r\n"
        assert c.call("LPOP", "nosuch") == b"$-1\r\n"
        c.call("RPUSH", "k", "v")
        assert c.call("LPOP", "k", "0") == b"*0\r\n"


def test_pop_errors(r):
    r.rpush("l", "a")
    for bad in ("-1", "abc", "1.5", "9223372036854775808"):
        with err(r"^value is out of range, must be positive$"):
            call(r, "LPOP", "l", bad)
    with err(r"^wrong number of arguments for 'lpop' command$"):
        call(r, "LPOP", "l", "1", "2")
    with err(r"^wrong number of arguments for 'rpop' command$"):
        call(r, "RPOP")
    r.set("s", "v")
    with err(WRONGTYPE):
        call(r, "LPOP", "s", "0")
    # The count is parsed before the key is looked at.
    with err(r"^value is out of range"):
        call(r, "RPOP", "s", "-1")


def test_wrongtype_everywhere(r):
    r.set("s", "v")
    r.rpush("l", "a")
    for cmd in (["LPUSH", "s", "a"], ["RPUSH", "s", "a"], ["LPUSHX", "s", "a"],
                ["RPUSHX", "s", "a"], ["LPOP", "s"], ["RPOP", "s"], ["LLEN", "s"],
                ["LRANGE", "s", 0, -1], ["LINDEX", "s", 0], ["LSET", "s", 0, "x"],
                ["LINSERT", "s", "BEFORE", "a", "b"], ["LREM", "s", 0, "a"],
                ["LTRIM", "s", 0, 1], ["LPOS", "s", "a"], ["LMOVE", "s", "l", "LEFT", "LEFT"],
                ["LMOVE", "l", "s", "LEFT", "LEFT"], ["RPOPLPUSH", "s", "l"],
                ["RPOPLPUSH", "l", "s"], ["LMPOP", 1, "s", "LEFT"], ["BLPOP", "s", 0],
                ["BRPOP", "nosuch", "s", 0], ["BLMOVE", "s", "l", "LEFT", "LEFT", 0],
                ["BRPOPLPUSH", "l", "s", 0], ["BLMPOP", 0, 2, "nosuch", "s", "LEFT"]):
        with err(WRONGTYPE):
            call(r, *cmd)
    # A failed move popped nothing.
    assert r.lrange("l", 0, -1) == ["a"]


def test_arity(r):
    for name, args in (("lpush", ["k"]), ("rpushx", ["k"]), ("llen", []), ("lrange", ["k", 0]),
                       ("lindex", ["k"]), ("lset", ["k", 0]), ("linsert", ["k", "before", "a"]),
                       ("lrem", ["k", 0]), ("ltrim", ["k", 0]), ("lpos", ["k"]),
                       ("lmove", ["a", "b", "left"]), ("rpoplpush", ["a"]), ("lmpop", [1, "k"]),
                       ("blpop", ["k"]), ("blmove", ["a", "b", "left", "left"]),
                       ("brpoplpush", ["a", "b"]), ("blmpop", [0, 1, "k"])):
        with err(rf"^wrong number of arguments for '{name}' command$"):
            call(r, name.upper(), *args)


# ---------------------------------------------------------------------------
# Reading


def lrange_model(items, start, stop):
    n = len(items)
    if start < 0:
        start += n
    if stop < 0:
        stop += n
    start = max(start, 0)
    if start > stop or start >= n:
        return []
    return items[start:min(stop, n - 1) + 1]


def test_lrange_all_ranges(r):
    items = [str(i) for i in range(7)]
    r.rpush("l", *items)
    for start in range(-9, 10):
        for stop in range(-9, 10):
            assert r.lrange("l", start, stop) == lrange_model(items, start, stop), (start, stop)
    assert r.lrange("l", -(2**63), 2**63 - 1) == items
    assert r.lrange("nosuch", 0, -1) == []
    for bad in ("a", "1.0", " 1", "9223372036854775808"):
        with err(r"^value is not an integer or out of range$"):
            r.lrange("l", bad, 1)
        with err(r"^value is not an integer or out of range$"):
            r.lrange("nosuch", 0, bad)  # parsed before the lookup


def test_lindex(r):
    r.rpush("l", "a", "b", "c")
    assert [r.lindex("l", i) for i in range(-4, 4)] == [None, "a", "b", "c", "a", "b", "c", None]
    assert r.lindex("l", 2**63 - 1) is None
    assert r.lindex("l", -(2**63)) is None
    assert r.lindex("nosuch", 0) is None
    assert r.lindex("nosuch", "abc") is None  # the key is looked up first
    with err(r"^value is not an integer or out of range$"):
        r.lindex("l", "abc")


def test_lpos(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-3) == 2
    assert r.lpos("l", "c", rank=4) is None
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 6]
    assert r.lpos("l", "c", count=2, rank=-1) == [7, 6]
    assert r.lpos("l", "c", count=0, maxlen=7) == [2, 6]
    assert r.lpos("l", "c", count=0, rank=-1, maxlen=2) == [7, 6]
    assert r.lpos("l", "c", maxlen=1) is None
    assert r.lpos("l", "x", count=5) == []
    assert r.lpos("l", "1") == 3  # integer elements
    assert r.lpos("l", "01") is None
    assert r.lpos("nosuch", "a") is None
    assert r.lpos("nosuch", "a", count=0) == []
    # Options may repeat; the last one wins.
    assert call(r, "LPOS", "l", "c", "RANK", "2", "RANK", "1") == 2
    # RANK LLONG_MIN counts from the tail and never reaches COUNT (Redis's
    # -LONG_MIN wraps).
    assert call(r, "LPOS", "l", "c", "RANK", -(2**63)) == 7
    assert call(r, "LPOS", "l", "c", "RANK", -(2**63), "COUNT", 1) == [7, 6, 2]


def test_lpos_errors(r):
    r.rpush("l", "a")
    with err(r"^RANK can't be zero: use 1 to start from the first match, 2 from the second "
             r"\.\.\. or use negative to start from the end of the list$"):
        call(r, "LPOS", "l", "a", "RANK", "0")
    with err(r"^value is not an integer or out of range$"):
        call(r, "LPOS", "l", "a", "RANK", "x")
    for bad in ("-1", "x"):
        with err(r"^COUNT can't be negative$"):
            call(r, "LPOS", "l", "a", "COUNT", bad)
        with err(r"^MAXLEN can't be negative$"):
            call(r, "LPOS", "l", "a", "MAXLEN", bad)
    for tail in (["RANK"], ["FOO", "1"], ["COUNT", "1", "x"]):
        with err(r"^syntax error$"):
            call(r, "LPOS", "l", "a", *tail)
    # Options are checked before the key.
    with err(r"^RANK can't be zero"):
        call(r, "LPOS", "nosuch", "a", "RANK", "0")


def test_read_commands_count_hits_and_misses(r):
    r.rpush("l", "a")
    for cmd in (["LLEN", "l"], ["LRANGE", "l", 0, -1], ["LINDEX", "l", 0], ["LPOS", "l", "a"]):
        h, m = hits_misses(r)
        call(r, *cmd)
        assert hits_misses(r) == (h + 1, m)
        cmd[1] = "nosuch"
        call(r, *cmd)
        assert hits_misses(r) == (h + 1, m + 1)


# ---------------------------------------------------------------------------
# Changing in place


def test_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 0, "x") is True
    assert r.lset("l", -1, "z") is True
    assert r.lset("l", 1, "12345") is True
    assert r.lrange("l", 0, -1) == ["x", "12345", "z"]
    with err(r"^index out of range$"):
        r.lset("l", 3, "v")
    with err(r"^index out of range$"):
        r.lset("l", -4, "v")
    with err(r"^no such key$"):
        r.lset("nosuch", 0, "v")
    with err(r"^no such key$"):
        r.lset("nosuch", "abc", "v")  # the key is looked up first
    with err(r"^value is not an integer or out of range$"):
        r.lset("l", "abc", "v")


def test_linsert(r):
    r.rpush("l", "a", "b", "a")
    assert r.linsert("l", "BEFORE", "a", "x") == 4
    assert r.linsert("l", "after", "a", "y") == 5
    assert r.lrange("l", 0, -1) == ["x", "a", "y", "b", "a"]
    assert r.linsert("l", "AFTER", "zz", "q") == -1
    assert r.linsert("nosuch", "BEFORE", "a", "q") == 0
    assert r.exists("nosuch") == 0
    r.rpush("n", 1, 2, 3)
    assert r.linsert("n", "BEFORE", 3, 100) == 4
    assert r.lrange("n", 0, -1) == ["1", "2", "100", "3"]
    with err(r"^syntax error$"):
        r.execute_command("LINSERT", "l", "MIDDLE", "a", "b")
    with err(r"^syntax error$"):
        r.execute_command("LINSERT", "nosuch", "MIDDLE", "a", "b")


def test_lrem(r):
    r.rpush("l", "a", "b", "a", "c", "a", "b")
    assert r.lrem("l", 1, "a") == 1
    assert r.lrange("l", 0, -1) == ["b", "a", "c", "a", "b"]
    assert r.lrem("l", -1, "b") == 1
    assert r.lrange("l", 0, -1) == ["b", "a", "c", "a"]
    assert r.lrem("l", 0, "a") == 2
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrange("l", 0, -1) == ["b", "c"]
    assert r.lrem("l", -(2**63), "b") == 1
    assert r.lrem("l", 0, "c") == 1
    assert r.exists("l") == 0
    assert r.lrem("nosuch", 0, "a") == 0
    with err(r"^value is not an integer or out of range$"):
        r.lrem("nosuch", "x", "a")


def test_ltrim(r):
    items = [str(i) for i in range(7)]
    for start in range(-9, 10, 2):
        for stop in range(-9, 10, 3):
            r.delete("l")
            r.rpush("l", *items)
            assert r.ltrim("l", start, stop) is True
            want = lrange_model(items, start, stop)
            assert r.lrange("l", 0, -1) == want
            assert r.exists("l") == (1 if want else 0)
    assert r.ltrim("nosuch", 0, 1) is True
    with err(r"^value is not an integer or out of range$"):
        r.ltrim("nosuch", 0, "x")


# ---------------------------------------------------------------------------
# Moving


def test_lmove_directions(r):
    for wf, wt, src_after, dst_after in (
            ("LEFT", "LEFT", ["b", "c"], ["a", "x"]),
            ("LEFT", "RIGHT", ["b", "c"], ["x", "a"]),
            ("RIGHT", "LEFT", ["a", "b"], ["c", "x"]),
            ("RIGHT", "RIGHT", ["a", "b"], ["x", "c"])):
        r.delete("s", "d")
        r.rpush("s", "a", "b", "c")
        r.rpush("d", "x")
        assert r.lmove("s", "d", wf, wt) == ("a" if wf == "LEFT" else "c")
        assert r.lrange("s", 0, -1) == src_after
        assert r.lrange("d", 0, -1) == dst_after


def test_lmove_same_key_and_creation(r):
    r.rpush("l", "a", "b", "c")
    assert r.rpoplpush("l", "l") == "c"
    assert r.lrange("l", 0, -1) == ["c", "a", "b"]
    assert r.lmove("l", "l", "LEFT", "RIGHT") == "c"
    assert r.lrange("l", 0, -1) == ["a", "b", "c"]
    assert r.lmove("l", "l", "LEFT", "LEFT") == "a"
    assert r.lrange("l", 0, -1) == ["a", "b", "c"]
    big = "x" * 1000
    r.rpush("l", big)
    assert r.lmove("l", "l", "RIGHT", "LEFT") == big
    assert r.lindex("l", 0) == big
    # Destination created, emptied source deleted.
    r.delete("one")
    r.rpush("one", "v")
    assert r.rpoplpush("one", "new") == "v"
    assert r.exists("one") == 0
    assert r.lrange("new", 0, -1) == ["v"]
    assert r.rpoplpush("nosuch", "new") is None
    assert r.lmove("nosuch", "new", "LEFT", "LEFT") is None
    # A single-element list rotated onto itself survives.
    assert r.lmove("new", "new", "LEFT", "RIGHT") == "v"
    assert r.lrange("new", 0, -1) == ["v"]
    with err(r"^syntax error$"):
        r.execute_command("LMOVE", "l", "new", "UP", "LEFT")
    with err(r"^syntax error$"):
        r.execute_command("LMOVE", "nosuch", "new", "LEFT", "DOWN")


def test_lmpop(r):
    r.rpush("b", "1", "2", "3")
    assert r.lmpop(2, "a", "b", direction="LEFT") == ["b", ["1"]]
    assert r.lmpop(2, "a", "b", direction="RIGHT", count=5) == ["b", ["3", "2"]]
    assert r.exists("b") == 0
    assert r.lmpop(2, "a", "b", direction="LEFT") is None
    r.rpush("a", "x")
    assert call(r, "LMPOP", 1, "a", "left", "count", 1) == ["a", ["x"]]
    for args, msg in (([0, "a", "LEFT"], r"^numkeys should be greater than 0$"),
                      ([-1, "a", "LEFT"], r"^numkeys should be greater than 0$"),
                      (["x", "a", "LEFT"], r"^numkeys should be greater than 0$"),
                      ([1, "a", "MIDDLE"], r"^syntax error$"),
                      ([2, "a", "LEFT"], r"^syntax error$"),
                      ([2**63 - 1, "a", "LEFT"], r"^syntax error$"),
                      ([1, "a", "LEFT", "COUNT", 0], r"^count should be greater than 0$"),
                      ([1, "a", "LEFT", "COUNT", -1], r"^count should be greater than 0$"),
                      ([1, "a", "LEFT", "COUNT", "x"], r"^count should be greater than 0$"),
                      ([1, "a", "LEFT", "COUNT", 1, "COUNT", 1], r"^syntax error$"),
                      ([1, "a", "LEFT", "COUNT"], r"^syntax error$"),
                      ([1, "a", "LEFT", "FOO"], r"^syntax error$")):
        with err(msg):
            call(r, "LMPOP", *args)


# ---------------------------------------------------------------------------
# Values: binary, integer-like, big


def test_binary_and_integer_like_values(rb):
    vals = [b"", b"a\x00b", b"\r\n", b"\xff\xfe", b"0", b"-0", b"007", b"+1", b" 1",
            b"127", b"128", b"-4096", b"-4097", b"32767", b"32768", b"8388607", b"8388608",
            b"2147483647", b"2147483648", b"9223372036854775807", b"-9223372036854775808",
            b"9223372036854775808", b"1.5", b"1e3"]
    rb.rpush("l", *vals)
    assert rb.lrange("l", 0, -1) == vals
    assert [rb.lindex("l", i) for i in range(len(vals))] == vals
    for i, v in enumerate(vals):
        assert rb.lpos("l", v) == i
    assert rb.lrem("l", 0, b"-0") == 1
    assert rb.lrem("l", 0, b"0") == 1


def test_big_elements(rb):
    big = [bytes([65 + i]) * n for i, n in enumerate((5000, 70000, 300000, 10))]
    rb.rpush("l", *big)
    assert rb.lrange("l", 0, -1) == big
    assert rb.lpop("l") == big[0]
    rb.linsert("l", "BEFORE", big[2], b"mid")
    assert rb.lrange("l", 0, -1) == [big[1], b"mid", big[2], big[3]]
    rb.lset("l", 1, big[0])
    assert rb.lindex("l", 1) == big[0]


# ---------------------------------------------------------------------------
# Long lists: many nodes, checked against a model


@pytest.mark.parametrize("fill", ["-2", "3", "-1"])
def test_long_list_against_model(r, fill):
    try:
        r.config_set("list-max-listpack-size", fill)
    except redis.ResponseError:
        pytest.skip("CONFIG SET list-max-listpack-size not supported")
    rnd = random.Random(int(fill) + 100)
    model = []
    vals = ["a", "b", "c", "10", "-3", "x" * 40, "y" * 300]
    chunk = [rnd.choice(vals) for _ in range(3000)]
    r.rpush("l", *chunk)
    model += chunk
    for step in range(400):
        op = rnd.randrange(9)
        v = rnd.choice(vals)
        if op == 0:
            n = rnd.randrange(1, 50)
            items = [rnd.choice(vals) for _ in range(n)]
            if rnd.random() < 0.5:
                r.lpush("l", *items)
                model[:0] = items[::-1]
            else:
                r.rpush("l", *items)
                model += items
        elif op == 1:
            n = rnd.randrange(1, 40)
            if rnd.random() < 0.5:
                assert r.lpop("l", n) == model[:n]
                del model[:n]
            else:
                got = r.rpop("l", n)
                assert got == model[::-1][:n]
                del model[len(model) - len(got):]
        elif op == 2:
            i = rnd.randrange(-len(model), len(model))
            assert r.lindex("l", i) == model[i]
        elif op == 3:
            i = rnd.randrange(-len(model), len(model))
            r.lset("l", i, v)
            model[i] = v
        elif op == 4:
            pivot = rnd.choice(vals)
            where = rnd.choice(["BEFORE", "AFTER"])
            got = r.linsert("l", where, pivot, v)
            if pivot in model:
                j = model.index(pivot) + (where == "AFTER")
                model.insert(j, v)
                assert got == len(model)
            else:
                assert got == -1
        elif op == 5:
            count = rnd.randrange(-5, 6)
            removed = r.lrem("l", count, v)
            idx = [j for j, x in enumerate(model) if x == v]
            if count < 0:
                idx = idx[::-1][:-count]
            elif count > 0:
                idx = idx[:count]
            for j in sorted(idx, reverse=True):
                del model[j]
            assert removed == len(idx)
        elif op == 6:
            start = rnd.randrange(-len(model) - 5, len(model) + 5)
            stop = rnd.randrange(-len(model) - 5, len(model) + 5)
            assert r.lrange("l", start, stop) == lrange_model(model, start, stop)
        elif op == 7 and len(model) > 2000:
            start = rnd.randrange(0, 200)
            stop = -rnd.randrange(1, 200)
            r.ltrim("l", start, stop)
            model = lrange_model(model, start, stop)
        elif op == 8:
            rank = rnd.choice([1, 2, -1, -2])
            want = [j for j, x in enumerate(model) if x == v]
            if rank < 0:
                want = want[::-1]
            want = want[abs(rank) - 1:abs(rank) - 1 + 3]
            assert r.lpos("l", v, rank=rank, count=3) == want
        assert r.llen("l") == len(model)
    assert r.lrange("l", 0, -1) == model


# ---------------------------------------------------------------------------
# Blocking pops


def port_of(r):
    return r.connection_pool.connection_kwargs["port"]


def wait_blocked(r, n, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.info("clients").get("blocked_clients") == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"expected {n} blocked clients, INFO says "
                         f"{r.info('clients').get('blocked_clients')}")


def test_blpop_serves_immediately(r):
    r.rpush("b", "1", "2")
    assert r.blpop(["a", "b"], 0) == ("b", "1")
    assert r.brpop(["a", "b"], 0) == ("b", "2")
    assert r.exists("b") == 0


def test_blocking_timeout_errors(r):
    for args, msg in ((["BLPOP", "k", "x"], r"^timeout is not a float or out of range$"),
                      (["BLPOP", "k", "-1"], r"^timeout is negative$"),
                      (["BRPOP", "k", "nan"], r"^timeout is not a float or out of range$"),
                      (["BLMOVE", "a", "b", "LEFT", "UP", "x"], r"^syntax error$"),
                      (["BLMOVE", "a", "b", "LEFT", "LEFT", "x"],
                       r"^timeout is not a float or out of range$"),
                      (["BRPOPLPUSH", "a", "b", "-0.5"], r"^timeout is negative$"),
                      (["BLMPOP", "x", "0", "k", "LEFT"], r"^numkeys should be greater than 0$"),
                      (["BLMPOP", "-1", "1", "k", "LEFT"], r"^timeout is negative$"),
                      (["BLMPOP", "0", "1", "k", "UP"], r"^syntax error$"),
                      (["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"],
                       r"^count should be greater than 0$")):
        with err(msg):
            call(r, *args)


def test_blocking_timeout_overflow_is_negative(r):
    for v in ("inf", "+inf", "-inf", "1e16", "9223372036854775807"):
        with err(r"^timeout is negative$"):
            call(r, "BLPOP", "k", v)


def test_blpop_times_out(r):
    t0 = time.monotonic()
    assert r.blpop(["nosuch"], 0.2) is None
    assert time.monotonic() - t0 >= 0.15
    with RawConn(port_of(r)) as c:
        assert c.call("BRPOP", "nosuch", "0.1") == b"*-1\r\n"
        # Timed-out moves answer the null array too (in MULTI: the null bulk).
        assert c.call("BLMOVE", "nosuch", "d", "LEFT", "LEFT", "0.1") == b"*-1\r\n"
        assert c.call("BRPOPLPUSH", "nosuch", "d", "0.1") == b"*-1\r\n"
        assert c.call("BLMPOP", "0.1", "1", "nosuch", "LEFT") == b"*-1\r\n"


def test_blpop_woken_by_push(r):
    with RawConn(port_of(r)) as c:
        c.send_command("BLPOP", "a", "b", "0")
        wait_blocked(r, 1)
        assert r.rpush("b", "x", "y") == 2
        assert c.read_reply() == b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n"
    assert r.lrange("b", 0, -1) == ["y"]
    wait_blocked(r, 0)


def test_blocked_clients_served_in_order(r):
    conns = [RawConn(port_of(r)) for _ in range(3)]
    try:
        for c in conns:
            c.send_command("BRPOP", "q", "0")
            wait_blocked(r, conns.index(c) + 1)
        r.rpush("q", "1", "2")
        # The first two blocked get one element each; the third waits.
        assert conns[0].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n2\r\n"
        assert conns[1].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n1\r\n"
        wait_blocked(r, 1)
        assert r.exists("q") == 0
        r.lpush("q", "3")
        assert conns[2].read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\n3\r\n"
    finally:
        for c in conns:
            c.close()


def test_blmove_and_brpoplpush_woken(r):
    with RawConn(port_of(r)) as c:
        c.send_command("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        wait_blocked(r, 1)
        r.rpush("src", "a", "b")
        assert c.read_reply() == b"$1\r\nb\r\n"
        assert r.lrange("dst", 0, -1) == ["b"]
        c.send_command("BRPOPLPUSH", "other", "dst", "0")
        wait_blocked(r, 1)
        r.lpush("other", "z")
        assert c.read_reply() == b"$1\r\nz\r\n"
        assert r.lrange("dst", 0, -1) == ["z", "b"]
        assert r.exists("other") == 0


def test_blmove_chain(r):
    """A pushed element can travel through two blocked BLMOVEs."""
    with RawConn(port_of(r)) as c1, RawConn(port_of(r)) as c2:
        c1.send_command("BLMOVE", "a", "b", "LEFT", "LEFT", "0")
        wait_blocked(r, 1)
        c2.send_command("BLMOVE", "b", "c", "LEFT", "LEFT", "0")
        wait_blocked(r, 2)
        r.rpush("a", "v")
        assert c1.read_reply() == b"$1\r\nv\r\n"
        assert c2.read_reply() == b"$1\r\nv\r\n"
    assert r.lrange("c", 0, -1) == ["v"]
    assert r.exists("a", "b") == 0


def test_blmpop_woken(r):
    with RawConn(port_of(r)) as c:
        c.send_command("BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2")
        wait_blocked(r, 1)
        r.rpush("y", "1", "2", "3")
        assert c.read_reply() == b"*2\r\n$1\r\ny\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
    assert r.lrange("y", 0, -1) == ["1"]


def test_blocking_inside_multi_does_not_block(r):
    with RawConn(port_of(r)) as c:
        assert c.call("MULTI") == b"+OK\r\n"
        for cmd in (["BLPOP", "nosuch", "0"], ["BRPOPLPUSH", "nosuch", "d", "0"],
                    ["BLMOVE", "nosuch", "d", "LEFT", "RIGHT", "0"],
                    ["BLMPOP", "0", "1", "nosuch", "LEFT"], ["RPUSH", "k", "v"],
                    ["BRPOP", "k", "0"]):
            assert c.call(*cmd) == b"+QUEUED\r\n"
        # Moves reply the null bulk here, pops the null array.
        assert c.call("EXEC") == (b"*6\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n"
                                  b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
    assert r.info("clients")["blocked_clients"] == 0


# ---------------------------------------------------------------------------
# Bookkeeping


def test_dirty_counts_changes(r):
    d = dirty(r)
    r.rpush("l", "a", "b", "c")
    assert dirty(r) == d + 3
    r.lpop("l", 2)
    assert dirty(r) >= d + 5
    d = dirty(r)
    r.lpushx("nosuch", "a")
    r.lrem("l", 0, "zz")
    r.linsert("l", "BEFORE", "zz", "q")
    r.lpop("nosuch")
    assert dirty(r) == d


def test_watch_sees_list_changes(r):
    r.rpush("l", "a")
    other = redis.Redis(port=port_of(r), decode_responses=True)
    try:
        for change in (lambda: other.rpush("l", "b"), lambda: other.lpop("l"),
                       lambda: other.lset("l", 0, "z"), lambda: other.ltrim("l", 0, 0),
                       lambda: other.rpoplpush("l", "l")):
            p = r.pipeline(transaction=True)
            p.watch("l")
            change()
            p.multi()
            p.llen("l")
            with pytest.raises(redis.WatchError):
                p.execute()
    finally:
        other.close()


def test_command_info(r):
    with RawConn(port_of(r)) as c:
        got = c.call("COMMAND", "INFO", "blpop")
        assert b"$5\r\nblpop\r\n:-3\r\n" in got and b"blocking" in got
        got = c.call("COMMAND", "INFO", "rpush")
        assert b"$5\r\nrpush\r\n:-3\r\n" in got and b"denyoom" in got


# ---------------------------------------------------------------------------
# Random walk compared with redis-server


def random_command(rnd):
    keys = ["k1", "k2", "k3"]
    vals = ["a", "b", "c", "1", "-1", "", "xyz" * 10]
    k = rnd.choice(keys)
    v = rnd.choice(vals)
    n = str(rnd.randrange(-6, 7))
    m = str(rnd.randrange(-6, 7))
    end = rnd.choice(["LEFT", "RIGHT"])
    return rnd.choice([
        ["LPUSH", k, v, rnd.choice(vals)], ["RPUSH", k, v], ["LPUSHX", k, v], ["RPUSHX", k, v],
        ["LPOP", k], ["RPOP", k], ["LPOP", k, str(rnd.randrange(0, 4))],
        ["RPOP", k, str(rnd.randrange(0, 4))], ["LLEN", k], ["LRANGE", k, n, m],
        ["LINDEX", k, n], ["LSET", k, n, v], ["LINSERT", k, rnd.choice(["BEFORE", "AFTER"]),
                                              rnd.choice(vals), v],
        ["LREM", k, n, v], ["LTRIM", k, n, m], ["LPOS", k, v],
        ["LPOS", k, v, "RANK", rnd.choice(["1", "-1", "2", "-2"]), "COUNT", str(rnd.randrange(3))],
        ["LPOS", k, v, "MAXLEN", str(rnd.randrange(4))],
        ["LMOVE", k, rnd.choice(keys), end, rnd.choice(["LEFT", "RIGHT"])],
        ["RPOPLPUSH", k, rnd.choice(keys)],
        ["LMPOP", "2", k, rnd.choice(keys), end, "COUNT", str(rnd.randrange(1, 4))],
        ["BLPOP", k, rnd.choice(keys), "0.01"], ["BRPOP", k, "0.01"],
        ["EXISTS", k], ["TYPE", k],
    ])


def test_random_walk_against_redis(ember, redis_ref):
    rnd = random.Random(20261125)
    with RawConn(ember.port) as e, RawConn(redis_ref.port) as ref:
        for step in range(3000):
            cmd = random_command(rnd)
            got, want = e.call(*cmd), ref.call(*cmd)
            assert got == want, f"step {step}: {cmd}: ember {got!r} redis {want!r}"
