"""SORT and SORT_RO: the same commands on ember and on the reference
redis-server give the same raw reply bytes (options, errors and their order,
BY/GET patterns, STORE), plus dirty counts, events, encodings and a seeded
random walk. Sets whose order is their hash table's (BY nosort without STORE)
are compared as sorted replies only."""

import random

import pytest
import redis

from test_bitops import Pair, events
from test_cluster import node, ref_node  # noqa: F401 - fixtures


@pytest.fixture
def pair(ember, redis_ref):
    p = Pair(ember, redis_ref)
    yield p
    p.close()


def test_sort_values(r):
    r.rpush("l", 3, 1, 2, 10)
    assert r.sort("l") == ["1", "2", "3", "10"]
    assert r.sort("l", desc=True) == ["10", "3", "2", "1"]
    assert r.sort("l", alpha=True) == ["1", "10", "2", "3"]
    assert r.sort("l", start=1, num=2) == ["2", "3"]
    r.mset({"w_1": "4", "w_2": "3", "w_3": "2", "w_10": "1"})
    assert r.sort("l", by="w_*") == ["10", "3", "2", "1"]
    r.hset("h_1", "f", "x1")
    assert r.sort("l", by="w_*", get=["#", "h_*->f"]) == ["10", None, "3", None, "2", None, "1", "x1"]
    assert r.sort("l", by="nosort") == ["3", "1", "2", "10"]
    assert r.sort("l", store="dst") == 4
    assert r.lrange("dst", 0, -1) == ["1", "2", "3", "10"]
    assert r.execute_command("SORT_RO", "l", "DESC", "LIMIT", "0", "1") == ["10"]
    assert r.sort("missing") == []
    assert r.sort("missing", store="dst") == 0
    assert r.exists("dst") == 0  # an empty result deletes the destination


def test_sort_zset_becomes_skiplist(r):
    r.zadd("z", {"a": 3, "b": 2, "c": 1})
    assert r.object("encoding", "z") == "listpack"
    assert r.sort("z", by="nosort") == ["c", "b", "a"]  # the zset's own order
    assert r.sort("z", by="nosort", desc=True, start=1, num=5) == ["b", "c"]
    assert r.object("encoding", "z") == "skiplist"


SETUP = [
    ("RPUSH", "l", "3", "1", "2", "10", "-5", "2.5", "1e3", "2"),
    ("RPUSH", "words", "banana", "apple", "cherry", "Apple", "10", "b\x00z"),
    ("SADD", "si", "5", "3", "9", "1", "7"),
    ("SADD", "ss", "x", "y", "z", "w"),
    ("ZADD", "z", "1", "c", "2", "a", "3", "b", "3", "d"),
    ("ZADD", "zn", "5", "10", "1", "20", "3", "3"),
    ("MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "-1", "w_-5", "abc", "w_c", "1", "w_a", "2"),
    ("MSET", "a_banana", "3", "a_apple", "1", "a_cherry", "2"),
    ("HSET", "h_3", "f", "three", "n", "3"), ("HSET", "h_1", "f", "one", "n", "9"),
    ("HSET", "h_2", "f", "two", "n", "1"), ("SET", "str", "x"), ("HSET", "hash", "a", "1"),
    ("RPUSH", "bad", "1", "x"),
]

EDGE_CASES = [
    ("SORT", "l"), ("SORT", "l", "DESC"), ("SORT", "l", "ASC", "DESC", "ASC"), ("SORT", "l", "ALPHA"),
    ("SORT", "l", "ALPHA", "DESC"), ("SORT", "l", "LIMIT", "1", "3"), ("SORT", "l", "LIMIT", "-5", "3"),
    ("SORT", "l", "LIMIT", "2", "-1"), ("SORT", "l", "LIMIT", "100", "2"), ("SORT", "l", "LIMIT", "7", "5"),
    ("SORT", "l", "LIMIT", "0", "0"), ("SORT", "l", "LIMIT", "2", "9223372036854775807"),
    ("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807"),
    ("SORT", "l", "LIMIT", "x", "1"), ("SORT", "l", "LIMIT", "1", "x"), ("SORT", "l", "LIMIT", "1"),
    ("SORT", "l", "LIMIT"), ("SORT", "l", "BY"), ("SORT", "l", "GET"), ("SORT", "l", "STORE"),
    ("SORT", "l", "FOO"), ("SORT", "str"), ("SORT", "hash"), ("SORT", "str", "FOO"), ("SORT", "str", "LIMIT", "x", "1"),
    ("SORT", "missing"), ("SORT", "missing", "GET", "#", "GET", "w_*"), ("SORT_RO", "l", "STORE", "d"),
    ("SORT_RO", "l"), ("SORT_RO", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"),
    ("SORT", "bad"), ("SORT", "bad", "ALPHA"), ("SORT", "bad", "STORE", "d"), ("EXISTS", "d"),
    ("SORT", "bad", "BY", "nosort"), ("SORT", "bad", "BY", "w_*"),
    ("SORT", "words", "ALPHA"), ("SORT", "words", "ALPHA", "DESC"), ("SORT", "words"),
    ("SORT", "words", "BY", "a_*"), ("SORT", "words", "BY", "a_*", "ALPHA"),
    ("SORT", "words", "ALPHA", "STORE", "d"), ("LRANGE", "d", "0", "-1"), ("OBJECT", "ENCODING", "d"),
    # BY patterns
    ("SORT", "l", "BY", "w_*"), ("SORT", "l", "BY", "w_*", "DESC"), ("SORT", "si", "BY", "w_*"),
    ("SORT", "l", "BY", "w_*", "ALPHA"), ("SORT", "l", "BY", "w_*", "ALPHA", "DESC"),
    ("SORT", "si", "BY", "h_*->n"), ("SORT", "si", "BY", "h_*->n", "DESC"), ("SORT", "si", "BY", "h_*->f", "ALPHA"),
    ("SORT", "si", "BY", "h_*->"), ("SORT", "si", "BY", "h_*->nope"), ("SORT", "si", "BY", "str"),
    ("SORT", "l", "BY", "nosort"), ("SORT", "l", "BY", "nosort", "DESC"), ("SORT", "l", "BY", "nosort", "LIMIT", "2", "3"),
    ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "2", "3"), ("SORT", "l", "BY", "nosort", "LIMIT", "20", "3"),
    ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "-2", "100"), ("SORT", "l", "BY", "nosort", "ALPHA"),
    ("SORT", "l", "BY", "w_*", "LIMIT", "1", "2"), ("SORT", "l", "BY", "w_*", "BY", "nosort"),
    ("SORT", "si", "BY", "nosort"), ("SORT", "si", "BY", "nosort", "DESC"), ("SORT", "si", "BY", "nosort", "STORE", "d"),
    ("LRANGE", "d", "0", "-1"), ("SORT", "ss", "BY", "nosort", "STORE", "d"), ("LRANGE", "d", "0", "-1"),
    ("SORT", "ss", "BY", "nosort", "DESC", "STORE", "d", "LIMIT", "1", "2"), ("LRANGE", "d", "0", "-1"),
    ("SORT", "z"), ("SORT", "z", "ALPHA"), ("SORT", "z", "BY", "nosort"), ("SORT", "z", "BY", "nosort", "DESC"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "1", "2"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
    ("SORT", "z", "BY", "nosort", "LIMIT", "9", "2"), ("SORT", "z", "BY", "w_*"),
    ("SORT", "zn"), ("SORT", "zn", "BY", "nosort", "DESC"), ("OBJECT", "ENCODING", "z"), ("OBJECT", "ENCODING", "zn"),
    # GET patterns
    ("SORT", "si", "GET", "#"), ("SORT", "si", "GET", "w_*"), ("SORT", "si", "GET", "h_*->f", "GET", "#", "GET", "x"),
    ("SORT", "si", "GET", "h_*->f", "GET", "h_*->n", "LIMIT", "1", "2", "DESC"), ("SORT", "si", "GET", "*"),
    ("SORT", "si", "GET", "##"), ("SORT", "si", "GET", "*->f"), ("SORT", "si", "GET", "h_*->f->x"),
    ("SORT", "si", "GET", "h_*", "GET", "str"), ("SORT", "l", "GET", "w_*", "BY", "nosort", "LIMIT", "0", "3"),
    ("SORT", "si", "GET", "h_*->f", "STORE", "d"), ("LRANGE", "d", "0", "-1"),
    ("SORT", "si", "GET", "w_*", "GET", "#", "STORE", "d", "LIMIT", "5", "5"), ("EXISTS", "d"),
    ("SORT", "l", "STORE", "d"), ("LRANGE", "d", "0", "-1"), ("SORT", "l", "STORE", "l"), ("LRANGE", "l", "0", "-1"),
    ("SET", "d2", "x"), ("EXPIRE", "d2", "100"), ("SORT", "si", "STORE", "d2"), ("TTL", "d2"), ("TYPE", "d2"),
    ("SORT", "si", "LIMIT", "0", "0", "STORE", "d2"), ("EXISTS", "d2"), ("SORT", "si", "LIMIT", "0", "0", "STORE", "d2"),
    ("SORT", "missing", "STORE", "str"), ("EXISTS", "str"),
    ("SORT",), ("SORT_RO",),
]


def test_edge_cases_match_redis(pair):
    pair.run(SETUP)
    pair.run(EDGE_CASES)


def test_numeric_parsing_matches_redis(pair):
    pair.both("RPUSH", "n", "1", " 2", "0x10", "inf", "-inf", "1e-400", "3abc")
    for v in ["1", " 2", "0x10", "inf", "-inf", "", "1e5", "-0"]:
        pair.both("DEL", "m")
        pair.both("RPUSH", "m", v, "4")
        pair.both("SORT", "m")
    for bad in ["1e-400", "3abc", "nan", "1e400", "x"]:
        pair.both("DEL", "m")
        pair.both("RPUSH", "m", bad, "4")
        pair.both("SORT", "m")
        pair.both("SORT", "m", "ALPHA")
    pair.both("SORT", "n")


def test_sort_on_sets_of_strings_sorted(pair):
    """BY nosort on a hash-table set: the order is the table's, so compare as sets."""
    pair.run(SETUP)
    got = pair.e.call("SORT", "ss", "BY", "nosort")
    want = pair.r.call("SORT", "ss", "BY", "nosort")
    assert sorted(got.split(b"\r\n")) == sorted(want.split(b"\r\n"))


def test_dirty_and_events_match_redis(ember, redis_ref):
    cmds = [("RPUSH", "l", "2", "1"), ("SORT", "l", "STORE", "d"), ("SORT", "l", "STORE", "d", "LIMIT", "0", "0"),
            ("SORT", "l", "STORE", "d", "LIMIT", "0", "0"), ("SORT", "l", "GET", "#", "GET", "x*", "STORE", "e"),
            ("SORT", "l")]
    counts = []
    for srv in (ember, redis_ref):
        c = srv.client()
        seen = []
        for cmd in cmds:
            before = c.info("persistence")["rdb_changes_since_last_save"]
            c.execute_command(*cmd)
            seen.append(c.info("persistence")["rdb_changes_since_last_save"] - before)
        counts.append(seen)
        c.flushall()
        c.close()
    assert counts[0] == counts[1] == [2, 2, 1, 0, 4, 0]
    mine, theirs = events(ember, cmds), events(redis_ref, cmds)
    assert ("__keyevent@0__:sortstore", "d") in theirs
    assert mine == theirs


def test_sort_in_cluster_mode_refuses_patterns(node, ref_node):
    e, r = node.client(), ref_node.client()
    try:
        for cmd in [("SORT", "l", "BY", "w_*"), ("SORT", "l", "GET", "#"), ("SORT_RO", "l", "GET", "x"),
                    ("SORT", "l", "LIMIT", "x", "1", "GET", "#"), ("SORT", "l", "BY", "nosort")]:
            outs = []
            for c in (e, r):
                try:
                    outs.append(("ok", c.execute_command(*cmd)))
                except redis.ResponseError as ex:
                    outs.append(("err", str(ex)))
            assert outs[0] == outs[1], cmd
        assert outs[0][0] == "ok"
    finally:
        e.close()
        r.close()


def random_sort_command(rng):
    key = rng.choice(["l", "l", "z", "si", "none", "str"])
    args = []
    for _ in range(rng.randrange(0, 5)):
        k = rng.randrange(8)
        if k == 0:
            args.append(rng.choice(["ASC", "DESC"]))
        elif k == 1:
            args.append("ALPHA")
        elif k == 2:
            args += ["LIMIT", str(rng.randrange(-3, 12)), str(rng.randrange(-2, 12))]
        elif k == 3:
            args += ["BY", rng.choice(["w_*", "nosort", "h_*->n"])]
        elif k == 4:
            args += ["GET", rng.choice(["#", "w_*", "h_*->f", "u_*"])]
        elif k == 5:
            args += ["STORE", rng.choice(["d", "l"])]
        else:
            args.append(rng.choice(["DESC", "ALPHA"]))
    return ("SORT" if rng.random() < 0.8 else "SORT_RO", key, *args)


def test_random_walk_matches_redis(pair):
    rng = random.Random(4242)
    for i in range(400):
        if i % 40 == 0:
            pair.both("DEL", "l", "z")
            vals = [str(rng.randrange(-20, 20)) for _ in range(rng.randrange(0, 12))]
            if vals:
                pair.both("RPUSH", "l", *vals)
                pair.both("ZADD", "z", *[x for v in vals for x in (str(rng.randrange(0, 5)), v)])
                pair.both("SADD", "si", *vals)
            for v in vals:
                # unique weights and fields, so ALPHA BY never meets a tie
                pair.both("SET", f"w_{v}", str(rng.randrange(-9, 9)) + "." + v.replace("-", "9"))
                pair.both("HSET", f"h_{v}", "n", str(rng.randrange(100)) + "." + v.replace("-", "9"), "f", "f" + v)
            pair.both("SET", "str", "x")
        cmd = random_sort_command(rng)
        pair.both(*cmd)
        pair.both("LRANGE", "d", "0", "-1")


def test_store_destination_is_a_key(pair):
    """SORT's STORE destination is found as Redis's sortGetKeys finds it (the
    last STORE; LIMIT, BY and GET arguments skipped): COMMAND GETKEYS lists
    it, and ACL key patterns judge it as a write."""
    pair.run([
        ("COMMAND", "GETKEYS", "SORT", "src", "STORE", "dst"),
        ("COMMAND", "GETKEYSANDFLAGS", "SORT", "src", "LIMIT", "0", "1", "STORE", "a", "STORE", "b"),
        ("COMMAND", "GETKEYS", "SORT", "src", "BY", "store", "GET", "store"),
        ("COMMAND", "GETKEYS", "SORT", "src", "STORE"),
        ("RPUSH", "src:l", "3", "1", "2"),
        ("ACL", "SETUSER", "sorter", "on", "nopass", "+@all", "%R~src:*", "%RW~out:*"),
        ("AUTH", "sorter", "x"),
        ("SORT", "src:l", "STORE", "out:d"),
        ("SORT", "src:l", "STORE", "src:d"),
        ("SORT", "src:l", "STORE", "elsewhere"),
        ("SORT", "src:l", "LIMIT", "0", "2"),
        ("AUTH", "default", "x"),
        ("LRANGE", "out:d", "0", "-1"),
        ("EXISTS", "src:d", "elsewhere"),
        ("ACL", "DELUSER", "sorter"),
    ])


def test_store_destination_counts_for_cluster_slots(node, ref_node):
    e, r = node.raw(), ref_node.raw()
    try:
        for cmd in [("SORT", "{a}l", "STORE", "{a}d"), ("SORT", "{a}l", "STORE", "{b}d"),
                    ("SORT", "{a}l", "LIMIT", "0", "1", "STORE", "{b}d")]:
            assert e.call(*cmd) == r.call(*cmd), cmd
        assert e.call("SORT", "{a}l", "STORE", "{b}d").startswith(b"-CROSSSLOT")
    finally:
        e.close()
        r.close()


@pytest.mark.parametrize("rules", [
    ("~*",), ("allkeys",), ("%R~*",), ("%W~*",), ("~l*", "~w_*"), ("~l*", "(~* +@all)"),
    ("~l*", "(~* -sort)"), ("~l*", "~w_*", "(%R~* +@all)"),
])
def test_by_and_get_patterns_need_every_key(pair, rules):
    """BY and GET patterns read keys no argument names: Redis allows them only
    to a user whose selector for SORT allows every key."""
    pair.run([
        ("RPUSH", "l", "2", "1"), ("SET", "w_1", "9"), ("SET", "w_2", "8"),
        ("ACL", "SETUSER", "s", "reset", "on", "nopass", "+@all", *rules),
        ("AUTH", "s", "x"),
        ("SORT", "l", "BY", "w_*"),
        ("SORT", "l", "GET", "#"),
        ("SORT_RO", "l", "BY", "w_*", "GET", "w_*"),
        ("SORT", "l", "BY", "nosort"),
        ("SORT", "l"),
        ("EVAL", "return redis.pcall('SORT', KEYS[1], 'BY', 'w_*')", "1", "l"),
        ("AUTH", "default", "x"),
        ("ACL", "DELUSER", "s"),
    ])
