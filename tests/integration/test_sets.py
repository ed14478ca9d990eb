"""Set commands through redis-py: every command, option and error, the behaviour
the differential script (diff/sets.txt) cannot show (random picks checked for
membership, distinctness and spread; the three storage forms and their
conversions; SSCAN over a big table; bookkeeping and keyspace notifications
compared with redis-server), and seeded random walks against redis-server.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import collections
import random
import time

import pytest
import redis

from harness import RawConn, resp_parse

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


def enc(r, key):
    return r.object("encoding", key)


def fill(r, key, members):
    members = list(members)
    for i in range(0, len(members), 500):
        r.sadd(key, *members[i:i + 500])


INTS = [str(i) for i in range(40)]
STRS = [f"m{i}" for i in range(40)]
# One set per storage form: an intset, a small string set (packed, reported
# "hashtable"), a big one (a real table).
FORMS = {
    "intset": [str(i) for i in range(-20, 20)],
    "small": [f"s{i}" for i in range(40)],
    "table": [f"t{i}" for i in range(600)],
}


# ---------------------------------------------------------------------------
# SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS


def test_sadd_counts_new_members(r):
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.sadd("s", "c") == 0
    assert r.scard("s") == 3
    assert r.smembers("s") == {"a", "b", "c"}
    assert r.type("s") == "set"


def test_integers_and_text_are_one_member(r):
    r.sadd("s", "12", "-7")
    assert r.sadd("s", "12") == 0
    assert r.sismember("s", "12") and r.sismember("s", "-7")
    # Not canonical integers: different members.
    assert r.sadd("s", "012", "+12", "-0", "12.0", " 12") == 5
    assert r.scard("s") == 7
    assert r.smembers("s") == {"12", "-7", "012", "+12", "-0", "12.0", " 12"}
    assert r.smismember("s", "12", "012", "13") == [1, 1, 0]


def test_srem(r):
    r.sadd("s", "a", "b", "c")
    assert r.srem("s", "x") == 0
    assert r.srem("s", "a", "a", "x") == 1
    assert r.srem("nosuch", "a") == 0
    assert r.srem("s", "b", "c", "d") == 2
    assert r.exists("s") == 0


@pytest.mark.parametrize("form", sorted(FORMS))
def test_reads_in_every_form(r, form):
    members = FORMS[form]
    fill(r, "s", members)
    assert r.scard("s") == len(members)
    assert r.smembers("s") == set(members)
    assert all(r.smismember("s", *members[:50]))
    assert r.smismember("s", "nope", members[0]) == [0, 1]
    assert r.sismember("s", members[-1]) and not r.sismember("s", "nope")
    # Remove all but one, then the last: the key goes.
    assert r.srem("s", *members[1:]) == len(members) - 1
    assert r.smembers("s") == {members[0]}
    assert r.srem("s", members[0]) == 1
    assert r.exists("s") == 0


def test_missing_key_reads(r):
    assert r.scard("nosuch") == 0
    assert r.smembers("nosuch") == set()
    assert r.sismember("nosuch", "a") == 0
    assert r.smismember("nosuch", "a", "b") == [0, 0]
    assert r.srandmember("nosuch") is None
    assert r.srandmember("nosuch", 3) == []
    assert r.spop("nosuch") is None
    assert call(r, "SPOP", "nosuch", "3") == []


def test_binary_members(rb):
    vals = [b"a\x00b", b"\r\n", b"\xff\xfe", b"", b"x" * 100]
    assert rb.sadd("s", *vals) == 5
    assert rb.smembers("s") == set(vals)
    assert rb.sismember("s", b"a\x00b") and not rb.sismember("s", b"a\x00c")
    assert rb.sismember("s", b"")
    assert set(rb.sinter("s", "s")) == set(vals)


# ---------------------------------------------------------------------------
# Encodings and conversions


def test_intset_until_a_string(r):
    r.sadd("s", "1", "2")
    assert enc(r, "s") == "intset"
    r.sadd("s", "a")
    assert enc(r, "s") == "hashtable"
    r.srem("s", "a")
    assert enc(r, "s") == "hashtable"  # never converts back


def test_intset_limit(r):
    fill(r, "s", [str(i) for i in range(512)])
    assert enc(r, "s") == "intset"
    r.sadd("s", "511")
    assert enc(r, "s") == "intset"
    r.sadd("s", "512")
    assert enc(r, "s") == "hashtable"
    assert r.scard("s") == 513
    assert r.sismember("s", "0") and r.sismember("s", "512")


def test_intset_limit_config(r):
    r.config_set("set-max-intset-entries", "3")
    try:
        r.sadd("s", "1", "2", "3")
        assert enc(r, "s") == "intset"
        r.sadd("s", "4")
        assert enc(r, "s") == "hashtable"
        assert r.smembers("s") == {"1", "2", "3", "4"}
    finally:
        r.config_set("set-max-intset-entries", "512")


def test_intset_widths(r):
    vals = ["1", "-32768", "32767", "32768", "-2147483649", "9223372036854775807",
            "-9223372036854775808"]
    r.sadd("s", *vals)
    assert enc(r, "s") == "intset"
    assert call(r, "SMEMBERS", "s") == sorted(vals, key=int)
    assert r.sismember("s", "9223372036854775807")
    assert not r.sismember("s", "9223372036854775808")
    r.sadd("s", "9223372036854775808")
    assert enc(r, "s") == "hashtable"
    assert r.scard("s") == 8


@pytest.mark.parametrize("members", [
    [f"m{i}" for i in range(129)],         # past set-max-listpack-entries
    ["short", "x" * 65],                    # past set-max-listpack-value
    [str(i) for i in range(100)] + ["a"],  # an intset meeting a string
    ["y" * 300, "z"],                       # long from the start
])
def test_string_sets_report_hashtable(r, members):
    fill(r, "s", members)
    assert enc(r, "s") == "hashtable"
    assert r.smembers("s") == set(members)
    assert r.scard("s") == len(members)


def test_conversion_keeps_members(rb):
    ints = [str(i).encode() for i in range(100)]
    rb.sadd("s", *ints)
    rb.sadd("s", b"\x00bin")
    rb.sadd("s", *[b"k%d" % i for i in range(200)])
    got = rb.smembers("s")
    assert got == set(ints) | {b"\x00bin"} | {b"k%d" % i for i in range(200)}


# ---------------------------------------------------------------------------
# SPOP


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("count", [1, 3, 35, 39, 40, 100])
def test_spop_count_every_branch(r, form, count):
    members = set(FORMS["small" if form == "small" else form][:40])
    fill(r, "s", members)
    got = call(r, "SPOP", "s", str(count))
    assert len(got) == min(count, 40)
    assert len(set(got)) == len(got)
    assert set(got) <= members
    left = r.smembers("s")
    assert left == members - set(got)
    if count >= 40:
        assert r.exists("s") == 0


def test_spop_big_table(r):
    members = {f"t{i}" for i in range(1000)}
    fill(r, "s", members)
    got = set(call(r, "SPOP", "s", "100"))  # remove one by one
    got |= set(call(r, "SPOP", "s", "880"))  # keep 20, rebuild
    assert len(got) == 980
    assert r.smembers("s") == members - got
    assert enc(r, "s") == "hashtable"


def test_spop_rebuild_of_integers_is_an_intset(r):
    fill(r, "s", [str(i) for i in range(600)])
    assert enc(r, "s") == "hashtable"
    call(r, "SPOP", "s", "590")
    assert r.scard("s") == 10
    assert enc(r, "s") == "intset"  # as Redis 7.0: the survivors start an intset


def test_spop_single(r):
    r.sadd("s", "a", "b", "c")
    seen = {r.spop("s") for _ in range(3)}
    assert seen == {"a", "b", "c"}
    assert r.exists("s") == 0
    assert r.spop("s") is None


def test_spop_errors(r):
    r.sadd("s", "1")
    for bad in ("-1", "abc", "1.5", "9223372036854775808", ""):
        with err(r"^value is out of range, must be positive$"):
            call(r, "SPOP", "s", bad)
    with err(r"^syntax error$"):
        call(r, "SPOP", "s", "1", "2")
    assert call(r, "SPOP", "s", "0") == []
    assert r.scard("s") == 1


# ---------------------------------------------------------------------------
# SRANDMEMBER


@pytest.mark.parametrize("form", sorted(FORMS))
def test_srandmember_counts(r, form):
    members = FORMS[form]
    fill(r, "s", members)
    n = len(members)
    assert r.srandmember("s") in members
    assert r.srandmember("s", 0) == []
    for k in (1, 2, n // 3, n // 3 + 1, n - 1):
        got = r.srandmember("s", k)
        assert len(got) == k and len(set(got)) == k and set(got) <= set(members)
    assert sorted(r.srandmember("s", n)) == sorted(members)
    assert sorted(r.srandmember("s", n + 5)) == sorted(members)
    got = r.srandmember("s", -(n * 2))
    assert len(got) == n * 2 and set(got) <= set(members)
    assert r.scard("s") == n  # nothing removed


@pytest.mark.parametrize("form", ["intset", "small"])
def test_srandmember_spread(r, form):
    members = FORMS[form][:10]
    r.sadd("s", *members)
    counts = collections.Counter(r.srandmember("s", -20000))
    assert set(counts) == set(members)
    assert all(1500 < c < 2500 for c in counts.values()), counts
    # Distinct draws: every member equally likely to be chosen, and to come first.
    chosen, first = collections.Counter(), collections.Counter()
    for _ in range(2000):
        got = r.srandmember("s", 3)
        chosen.update(got)
        first[got[0]] += 1
    assert all(450 < c < 750 for c in chosen.values()), chosen
    assert all(120 < c < 290 for c in first.values()), first


def test_srandmember_errors(r):
    r.sadd("s", "1")
    with err(r"^value is not an integer or out of range$"):
        r.srandmember("s", "abc")
    with err(r"^value is out of range, value must between -9223372036854775807 and "
             r"9223372036854775807$"):
        r.srandmember("s", "-9223372036854775808")
    with err(r"^syntax error$"):
        call(r, "SRANDMEMBER", "s", "1", "2")


# ---------------------------------------------------------------------------
# SMOVE


def test_smove(r):
    r.sadd("a", "1", "2", "x")
    r.sadd("b", "3")
    assert r.smove("a", "b", "1") == 1
    assert r.smembers("a") == {"2", "x"} and r.smembers("b") == {"1", "3"}
    assert r.smove("a", "b", "nope") == 0
    assert r.smove("nosuch", "b", "1") == 0
    assert r.smove("a", "a", "2") == 1 and r.smove("a", "a", "nope") == 0
    assert r.smove("a", "new", "x") == 1
    assert enc(r, "new") == "hashtable"
    assert r.smove("a", "new2", "2") == 1
    assert enc(r, "new2") == "intset"
    assert r.exists("a") == 0
    r.sadd("c", "3")
    assert r.smove("c", "b", "3") == 1  # already there: still 1
    assert r.smembers("b") == {"1", "3"} and r.exists("c") == 0


def test_smove_into_big_and_out_of_big(r):
    fill(r, "big", [f"t{i}" for i in range(300)])
    r.sadd("small", "a")
    assert r.smove("big", "small", "t7") == 1
    assert r.smove("small", "big", "a") == 1
    assert r.scard("big") == 300 and r.smembers("small") == {"t7"}


# ---------------------------------------------------------------------------
# Algebra


def algebra_sets(r, rnd):
    """Keys k0..k4 in mixed forms, returned as a model dict."""
    model = {}
    pools = [[str(i) for i in range(30)], [f"s{i}" for i in range(30)],
             [str(i) for i in range(700)], [f"t{i}" for i in range(400)] + [str(i) for i in range(50)]]
    for i in range(5):
        pool = rnd.choice(pools)
        members = set(rnd.sample(pool, rnd.randrange(0, min(len(pool), 200))))
        r.delete(f"k{i}")
        if members:
            fill(r, f"k{i}", members)
        model[f"k{i}"] = members
    return model


def test_algebra_against_model(r):
    rnd = random.Random(6)
    for _ in range(40):
        model = algebra_sets(r, rnd)
        keys = rnd.sample(sorted(model) + ["nosuch"], rnd.randrange(1, 5))
        sets = [model.get(k, set()) for k in keys]
        inter = set.intersection(*sets)
        union = set.union(*sets)
        diff = sets[0].difference(*sets[1:])
        assert r.sinter(*keys) == inter
        assert r.sunion(*keys) == union
        assert r.sdiff(*keys) == diff
        assert r.sintercard(len(keys), keys) == len(inter)
        lim = rnd.randrange(0, 5)
        assert r.sintercard(len(keys), keys, limit=lim) == (min(lim, len(inter)) if lim else len(inter))
        for cmd, want in (("SINTERSTORE", inter), ("SUNIONSTORE", union), ("SDIFFSTORE", diff)):
            assert call(r, cmd, "dst", *keys) == len(want)
            assert r.smembers("dst") == want
            assert r.exists("dst") == (1 if want else 0)


def test_store_overwrites_any_type_and_ttl(r):
    r.sadd("a", "1", "2")
    r.set("dst", "v", ex=100)
    assert r.sunionstore("dst", "a") == 2
    assert r.type("dst") == "set" and r.ttl("dst") == -1
    r.rpush("dst2", "x")
    assert r.sinterstore("dst2", "a", "nosuch") == 0
    assert r.exists("dst2") == 0


def test_store_onto_a_source(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "2", "3", "4")
    assert r.sinterstore("a", "a", "b") == 2
    assert r.smembers("a") == {"2", "3"}
    assert r.sdiffstore("b", "b", "a") == 1
    assert r.smembers("b") == {"4"}
    assert r.sunionstore("b", "a", "b") == 3
    assert r.sdiffstore("b", "b", "b") == 0
    assert r.exists("b") == 0


def test_store_result_encoding(r):
    r.sadd("i", "1", "2", "3")
    r.sadd("h", "a", "1", "2")
    assert r.sinterstore("d", "h", "i") == 2
    assert enc(r, "d") == "intset"
    assert r.sunionstore("d", "h") == 3
    assert enc(r, "d") == "hashtable"
    assert r.sdiffstore("d", "h", "i") == 1
    assert enc(r, "d") == "hashtable"


def test_sintercard_errors(r):
    r.sadd("a", "1")
    for bad in ("0", "-1", "x", "1.5"):
        with err(r"^numkeys should be greater than 0$"):
            call(r, "SINTERCARD", bad, "a")
    with err(r"^Number of keys can't be greater than number of args$"):
        call(r, "SINTERCARD", "3", "a", "b")
    for bad in ("-1", "x", "9223372036854775808"):
        with err(r"^LIMIT can't be negative$"):
            call(r, "SINTERCARD", "1", "a", "LIMIT", bad)
    with err(r"^syntax error$"):
        call(r, "SINTERCARD", "1", "a", "LIMIT")
    with err(r"^syntax error$"):
        call(r, "SINTERCARD", "1", "a", "b")


# ---------------------------------------------------------------------------
# SSCAN


def sscan_all(r, key, **kw):
    cursor, seen, calls = 0, [], 0
    while True:
        cursor, batch = r.sscan(key, cursor, **kw)
        seen += batch
        calls += 1
        if cursor == 0:
            return seen, calls


@pytest.mark.parametrize("form", ["intset", "small"])
def test_sscan_compact_sets_in_one_call(r, form):
    members = FORMS[form]
    r.sadd("s", *members)
    cursor, batch = r.sscan("s", 0, count=1)
    assert cursor == 0 and sorted(batch) == sorted(members)
    cursor, batch = r.sscan("s", 12345)
    assert cursor == 0 and sorted(batch) == sorted(members)


def test_sscan_table(r):
    members = [f"t{i}" for i in range(2000)]
    fill(r, "s", members)
    seen, calls = sscan_all(r, "s", count=50)
    assert set(seen) == set(members) and calls > 10
    seen, _ = sscan_all(r, "s", match="t1*", count=100)
    assert set(seen) == {m for m in members if m.startswith("t1")}


def test_sscan_while_changing(r):
    fill(r, "s", [f"t{i}" for i in range(1000)])
    cursor, seen = 0, set()
    added = 0
    while True:
        cursor, batch = r.sscan("s", cursor, count=30)
        seen.update(batch)
        # Growing the table mid-walk (rehashing) must not lose old members.
        r.sadd("s", *[f"n{added + i}" for i in range(40)])
        added += 40
        if cursor == 0:
            break
    assert {f"t{i}" for i in range(1000)} <= seen


def test_sscan_errors(r):
    r.sadd("s", "a")
    with err(r"^invalid cursor$"):
        call(r, "SSCAN", "s", "x")
    with err(r"^syntax error$"):
        call(r, "SSCAN", "s", "0", "COUNT", "0")
    with err(r"^value is not an integer or out of range$"):
        call(r, "SSCAN", "s", "0", "COUNT", "x")
    with err(r"^syntax error$"):
        call(r, "SSCAN", "s", "0", "TYPE", "set")
    # Options are checked only for an existing set, as in Redis.
    assert call(r, "SSCAN", "nosuch", "0", "COUNT", "0") == ["0", []]


# ---------------------------------------------------------------------------
# Keys holding sets: COPY, RENAME, expiry


@pytest.mark.parametrize("form", sorted(FORMS))
def test_copy_and_rename(r, form):
    members = FORMS[form]
    fill(r, "s", members)
    assert r.copy("s", "c") == 1
    r.sadd("c", "extra")
    r.srem("s", members[0])
    assert r.smembers("c") == set(members) | {"extra"}
    assert r.smembers("s") == set(members[1:])
    assert enc(r, "c") == "hashtable"
    assert r.copy("s", "i") == 1
    assert enc(r, "i") == enc(r, "s")
    r.rename("s", "t")
    assert r.smembers("t") == set(members[1:]) and r.exists("s") == 0
    assert enc(r, "t") == ("intset" if form == "intset" else "hashtable")


def test_expired_set_is_gone(r):
    r.sadd("s", "a", "b")
    r.pexpire("s", 1)
    time.sleep(0.05)
    assert r.scard("s") == 0
    assert r.sadd("s", "c") == 1
    assert r.smembers("s") == {"c"} and r.ttl("s") == -1


# ---------------------------------------------------------------------------
# Types and arity


def test_wrongtype_everywhere(r):
    r.set("str", "v")
    r.sadd("s", "a")
    for cmd in (["SADD", "str", "a"], ["SREM", "str", "a"], ["SCARD", "str"],
                ["SMEMBERS", "str"], ["SISMEMBER", "str", "a"], ["SMISMEMBER", "str", "a"],
                ["SPOP", "str"], ["SPOP", "str", "1"], ["SRANDMEMBER", "str"],
                ["SRANDMEMBER", "str", "1"], ["SMOVE", "str", "s", "a"], ["SMOVE", "s", "str", "a"],
                ["SINTER", "nosuch", "str"], ["SINTERCARD", "2", "nosuch", "str"],
                ["SINTERSTORE", "d", "nosuch", "str"], ["SUNION", "s", "str"],
                ["SUNIONSTORE", "d", "str"], ["SDIFF", "nosuch", "str"],
                ["SDIFFSTORE", "d", "s", "str"], ["SSCAN", "str", "0"]):
        with err(WRONGTYPE):
            call(r, *cmd)
    assert r.get("str") == "v" and r.smembers("s") == {"a"}
    assert r.exists("d") == 0


def test_arity(r):
    for cmd in (["SADD", "s"], ["SREM", "s"], ["SCARD"], ["SMEMBERS"], ["SISMEMBER", "s"],
                ["SMISMEMBER", "s"], ["SPOP"], ["SRANDMEMBER"], ["SMOVE", "a", "b"],
                ["SINTER"], ["SINTERCARD", "1"], ["SINTERSTORE", "d"], ["SUNION"],
                ["SUNIONSTORE", "d"], ["SDIFF"], ["SDIFFSTORE", "d"], ["SSCAN", "s"]):
        name = cmd[0].lower()
        with err(rf"^wrong number of arguments for '{name}' command$"):
            call(r, *cmd)


def test_command_info(r):
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        got = c.call("COMMAND", "INFO", "smove")
        assert got.startswith(b"*1\r\n*10\r\n$5\r\nsmove\r\n:4\r\n") and b":1\r\n:2\r\n:1\r\n" in got
        got = c.call("COMMAND", "INFO", "sintercard")
        assert b"$10\r\nsintercard\r\n:-3\r\n" in got and b":0\r\n:0\r\n:0\r\n" in got


# ---------------------------------------------------------------------------
# Bookkeeping compared with redis-server: dirty, hits/misses, notifications


BOOKKEEPING = [
    ["SADD", "a", "1", "2", "3"], ["SADD", "a", "3"], ["SADD", "b", "x", "y"],
    ["SREM", "a", "9"], ["SREM", "a", "1", "9"], ["SCARD", "a"], ["SCARD", "nosuch"],
    ["SISMEMBER", "a", "2"], ["SMISMEMBER", "nosuch", "1"], ["SMEMBERS", "b"],
    ["SRANDMEMBER", "a"], ["SRANDMEMBER", "a", "5"], ["SRANDMEMBER", "nosuch", "-2"],
    ["SMOVE", "a", "b", "2"], ["SMOVE", "a", "b", "9"], ["SMOVE", "b", "c", "x"],
    ["SMOVE", "nosuch", "b", "x"], ["SINTER", "b", "c"], ["SINTERCARD", "2", "b", "nosuch"],
    ["SINTERSTORE", "d", "b", "c"], ["SINTERSTORE", "d", "b", "nosuch"],
    ["SINTERSTORE", "d", "b", "nosuch"], ["SUNIONSTORE", "d", "b", "c"],
    ["SDIFFSTORE", "d", "b", "b"], ["SDIFFSTORE", "d", "b", "b"], ["SUNION", "b", "nosuch"],
    ["SDIFF", "nosuch", "b"], ["SSCAN", "b", "0"], ["SSCAN", "nosuch", "0"],
    ["SADD", "p", "1", "2", "3", "4", "5", "6"], ["SPOP", "p", "0"], ["SPOP", "p", "2"],
    ["SPOP", "p", "10"], ["SPOP", "nosuch"], ["SPOP", "nosuch", "3"], ["SADD", "p", "a"],
    ["SPOP", "p"], ["SPOP", "p", "5"], ["SREM", "c", "x"], ["SUNIONSTORE", "e", "a"],
]


def stats(c):
    info = {}
    for name in ("persistence", "stats"):
        raw = c.call("INFO", name).split(b"\r\n", 1)[1]
        for line in raw.decode().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                info[k] = v
    return (int(info["rdb_changes_since_last_save"]), int(info["keyspace_hits"]),
            int(info["keyspace_misses"]))


def test_dirty_and_hits_like_redis(ember, redis_ref):
    with RawConn(ember.port) as e, RawConn(redis_ref.port) as ref:
        for cmd in BOOKKEEPING:
            e0, r0 = stats(e), stats(ref)
            e.call(*cmd)
            ref.call(*cmd)
            e1, r1 = stats(e), stats(ref)
            # INFO itself counts nothing; compare the command's deltas.
            got = tuple(b - a for a, b in zip(e0, e1))
            want = tuple(b - a for a, b in zip(r0, r1))
            assert got == want, f"{cmd}: ember (dirty, hits, misses) +{got}, redis +{want}"


def events_of(srv, commands):
    """The (channel, message) pairs of every keyspace event `commands` cause."""
    with RawConn(srv.port) as c, RawConn(srv.port) as sub:
        assert c.call("CONFIG", "SET", "notify-keyspace-events", "KEA") == b"+OK\r\n"
        sub.call("PSUBSCRIBE", "__key*__:*")
        for cmd in commands:
            c.call(*cmd)
        c.call("SADD", "zz-end", "1")  # its keyevent message ends the list
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        got = []
        while len(got) < 1000:
            node = sub.read_node()
            channel, payload = node.value[-2].value, node.value[-1].value
            if payload == b"zz-end":
                break
            got.append((channel, payload))
        return got


def test_notifications_like_redis(ember, redis_ref):
    cmds = BOOKKEEPING
    assert events_of(ember, cmds) == events_of(redis_ref, cmds)


def test_watch_sees_set_changes(r):
    r.sadd("s", "a", "b")
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], decode_responses=True)
    try:
        for change in (lambda: other.sadd("s", "c"), lambda: other.srem("s", "c"),
                       lambda: other.spop("s"), lambda: other.smove("s", "t", "a"),
                       lambda: other.sunionstore("s", "t")):
            r.sadd("s", "a", "b")
            p = r.pipeline(transaction=True)
            p.watch("s")
            change()
            p.multi()
            p.scard("s")
            with pytest.raises(redis.WatchError):
                p.execute()
        # No change, no abort.
        p = r.pipeline(transaction=True)
        p.watch("s")
        other.sadd("s", "a")
        other.srem("s", "zz")
        p.multi()
        p.scard("s")
        assert p.execute() == [r.scard("s")]
    finally:
        other.close()


# ---------------------------------------------------------------------------
# Random walk compared with redis-server


ORDERLESS = {"SMEMBERS", "SINTER", "SUNION", "SDIFF"}


def random_command(rnd):
    keys = ["k1", "k2", "k3", "str"]
    vals = ["a", "b", "1", "2", "-1", "", "007", "x" * 70] + [str(i) for i in range(10, 20)]
    k = rnd.choice(keys)
    v = rnd.choice(vals)
    many = rnd.sample(vals, rnd.randrange(1, 6))
    ks = rnd.sample(keys + ["nosuch"], rnd.randrange(1, 4))
    return rnd.choice([
        ["SADD", k] + many, ["SADD", k] + many, ["SREM", k] + many, ["SCARD", k],
        ["SISMEMBER", k, v], ["SMISMEMBER", k] + many, ["SMEMBERS", k],
        ["SMOVE", k, rnd.choice(keys), v], ["SINTER"] + ks, ["SUNION"] + ks, ["SDIFF"] + ks,
        ["SINTERCARD", str(len(ks))] + ks + ["LIMIT", str(rnd.randrange(3))],
        ["SINTERSTORE", k] + ks, ["SUNIONSTORE", k] + ks, ["SDIFFSTORE", k] + ks,
        ["SPOP", k, "0"], ["SRANDMEMBER", k, "0"], ["OBJECT", "ENCODING", k],
        ["EXISTS", k], ["TYPE", k], ["SET", "str", v],
    ])


def canonical(node):
    if isinstance(node.value, list):
        return (node.kind, sorted(canonical(n) for n in node.value))
    return (node.kind, node.value)


def normalize(cmd, reply):
    """Set listings compared as multisets (the servers order them differently)."""
    if cmd[0] not in ORDERLESS:
        return reply
    node, _ = resp_parse(reply)
    return canonical(node)


def test_random_walk_against_redis(ember, redis_ref):
    rnd = random.Random(20261206)
    with RawConn(ember.port) as e, RawConn(redis_ref.port) as ref:
        for step in range(4000):
            cmd = random_command(rnd)
            got, want = e.call(*cmd), ref.call(*cmd)
            assert normalize(cmd, got) == normalize(cmd, want), \
                f"step {step}: {cmd}: ember {got!r} redis {want!r}"


def test_random_walk_small_limits(ember, redis_ref):
    rnd = random.Random(77)
    with RawConn(ember.port) as e, RawConn(redis_ref.port) as ref:
        for c in (e, ref):
            assert c.call("CONFIG", "SET", "set-max-intset-entries", "3") == b"+OK\r\n"
        try:
            for step in range(2000):
                cmd = random_command(rnd)
                got, want = e.call(*cmd), ref.call(*cmd)
                assert normalize(cmd, got) == normalize(cmd, want), \
                    f"step {step}: {cmd}: ember {got!r} redis {want!r}"
        finally:
            for c in (e, ref):
                c.call("CONFIG", "SET", "set-max-intset-entries", "512")
