"""The expiry family through redis-py (issue 4), on the real server and clock:
keys vanish when their TTL runs out whether or not anyone reads them, the
active cycle reclaims keys nobody touches, INFO's counters follow, and a
seeded random walk of EXPIRE* commands with NX/XX/GT/LT against the
reference redis-server agrees reply for reply.

Real TTLs are short and waited for by polling against a deadline, never by a
fixed sleep that would have to be generous to be safe.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import random
import time

import pytest
import redis


def err(pattern):
    return pytest.raises(redis.ResponseError, match=pattern)


def dirty(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def poll(fn, timeout=2.0, interval=0.005):
    """Calls fn until it returns something truthy or `timeout` seconds pass;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def fill(r, n, prefix="k", **set_kw):
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.set(f"{prefix}:{i}", "v", **set_kw)
        p.execute()


# ---- Keys vanish on time ----


def test_pexpire_then_key_vanishes(r):
    r.set("k", "v")
    assert r.pexpire("k", 50) is True
    assert 0 < r.pttl("k") <= 50
    assert poll(lambda: r.exists("k") == 0)
    assert r.get("k") is None
    assert r.ttl("k") == -2


def test_key_lives_until_its_deadline(r):
    r.set("k", "v")
    r.pexpire("k", 300)
    start = time.monotonic()
    while r.exists("k"):
        time.sleep(0.005)
    # Gone after, never before, the deadline (the reply may lag a little).
    assert time.monotonic() - start >= 0.29


def test_active_expiry_reclaims_unread_keys(r):
    """2,000 keys with a 100 ms TTL, never read again: the active cycle alone
    (DBSIZE does no lazy expiry) brings the db to empty."""
    before = r.info("stats")["expired_keys"]
    fill(r, 2000, px=100)
    fill(r, 100, prefix="keep")
    assert r.info("keyspace")["db0"]["expires"] == 2000
    assert poll(lambda: r.dbsize() == 100, timeout=5.0, interval=0.02)
    stats = r.info("stats")
    assert stats["expired_keys"] - before == 2000
    assert "db0" in r.info("keyspace") and r.info("keyspace")["db0"]["expires"] == 0


def test_active_expiry_every_db(ember, r):
    others = [ember.client(db=i) for i in (1, 9)]
    try:
        for c in others:
            fill(c, 200, px=50)
        assert poll(lambda: all(c.dbsize() == 0 for c in others), timeout=5.0, interval=0.02)
    finally:
        for c in others:
            c.close()


def test_expired_key_is_missing_to_writers_too(r):
    r.set("k", "v")
    r.pexpire("k", 20)
    time.sleep(0.05)
    # SET NX / EXPIRE / PERSIST / RENAME see no key
    assert r.expire("k", 100) is False
    assert r.persist("k") is False
    assert r.set("k", "new", nx=True) is True
    assert r.ttl("k") == -1


# ---- Setters ----


def test_expire_family_basics_and_dirty(r):
    r.set("k", "v")
    d = dirty(r)
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert dirty(r) == d + 1
    assert r.pexpire("k", 200000) is True
    assert r.ttl("k") == 200
    assert r.expireat("k", 4000000000) is True
    assert r.expiretime("k") == 4000000000
    assert r.pexpireat("k", 4000000000123) is True
    assert r.pexpiretime("k") == 4000000000123
    assert dirty(r) == d + 4
    assert r.expire("nosuch", 100) is False
    assert r.expire("k", 100, nx=True) is False  # refused: no change
    assert dirty(r) == d + 4
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert dirty(r) == d + 5
    assert r.ttl("k") == -1 and r.pttl("k") == -1 and r.expiretime("k") == -1


def test_past_deadline_deletes_and_replies_one(r):
    before = r.info("stats")["expired_keys"]
    for cmd in (["EXPIRE", "k", "0"], ["PEXPIRE", "k", "-1"], ["EXPIREAT", "k", "1"],
                ["PEXPIREAT", "k", "0"]):
        r.set("k", "v")
        d = dirty(r)
        assert r.execute_command(*cmd) == 1
        assert r.exists("k") == 0
        assert dirty(r) == d + 1
    # a deletion by command is not an expiry (Redis counts it as a DEL)
    assert r.info("stats")["expired_keys"] == before


def test_options(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, gt=True) is False  # no TTL counts as infinite
    assert r.expire("k", 100, lt=True) is True
    assert r.expire("k", 100, nx=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.expire("k", 150, gt=True) is False
    assert r.expire("k", 150, lt=True) is True
    assert r.expire("k", 150, xx=True) is True
    assert r.ttl("k") == 150
    with err(r"^NX and XX, GT or LT options at the same time are not compatible$"):
        r.execute_command("EXPIRE", "k", 1, "NX", "XX")
    with err(r"^GT and LT options at the same time are not compatible$"):
        r.execute_command("PEXPIRE", "k", 1, "GT", "LT")
    with err(r"^Unsupported option bogus$"):
        r.execute_command("EXPIREAT", "k", 1, "bogus")


def test_invalid_expire_time_names_the_command(r):
    r.set("k", "v")
    for cmd, val in (("EXPIRE", "9223372036854775"), ("PEXPIRE", "9223372036854775807"),
                     ("EXPIREAT", "9223372036854776"), ("EXPIRE", "-9223372036854776")):
        with err(rf"^invalid expire time in '{cmd.lower()}' command$"):
            r.execute_command(cmd, "k", val)
    with err(r"^value is not an integer or out of range$"):
        r.execute_command("PEXPIREAT", "k", "1.5")
    assert r.ttl("k") == -1


def test_ttl_rounding(r):
    r.set("k", "v")
    r.pexpire("k", 1400)
    assert r.ttl("k") == 1
    r.pexpire("k", 1600)
    assert r.ttl("k") == 2
    r.pexpireat("k", 4000000000499)
    assert r.expiretime("k") == 4000000000
    r.pexpireat("k", 4000000000500)
    assert r.expiretime("k") == 4000000001


def test_set_overwrite_clears_ttl_keepttl_keeps(r):
    r.set("k", "v", ex=100)
    r.set("k", "w", keepttl=True)
    assert r.ttl("k") == 100
    r.set("k", "x")
    assert r.ttl("k") == -1
    r.set("k", "v", ex=100)
    r.delete("k")
    r.set("k", "v")
    assert r.ttl("k") == -1


def test_ttl_survives_value_growth(r):
    """APPEND and INCR rewrite the value in place or in a new block: the
    deadline and the volatile count must follow."""
    r.set("k", "v", ex=1000)
    for _ in range(50):
        r.append("k", "x" * 100)
    assert r.ttl("k") == 1000
    r.set("n", 1, ex=1000)
    for _ in range(10):
        r.incrby("n", 1 << 40)
    assert r.ttl("n") == 1000
    assert r.info("keyspace")["db0"]["expires"] == 2


# ---- INFO ----


def test_info_keyspace_expires_and_avg_ttl(r):
    fill(r, 50, ex=1000)
    fill(r, 50, prefix="p")
    db0 = r.info("keyspace")["db0"]
    assert db0["keys"] == 100 and db0["expires"] == 50
    # avg_ttl is an estimate the active cycle updates from its samples
    assert poll(lambda: r.info("keyspace")["db0"]["avg_ttl"] > 0, timeout=3.0, interval=0.05)
    assert 900000 <= r.info("keyspace")["db0"]["avg_ttl"] <= 1000000
    r.persist("k:0")
    r.delete("k:1")
    r.set("k:2", "v")
    assert r.info("keyspace")["db0"]["expires"] == 47


def test_info_expired_stale_perc(r):
    fill(r, 1000, px=30)
    assert poll(lambda: r.dbsize() == 0, timeout=5.0, interval=0.02)
    stats = r.info("stats")
    assert stats["expired_stale_perc"] > 0
    assert "expired_time_cap_reached_count" in stats


# ---- Against the reference server ----


def test_random_walk_matches_redis(rb, redis_ref):
    """Seeded EXPIRE*/PERSIST/TTL sequences with absolute times (so both
    servers see the same deadlines) and every option combination, valid or
    not: every reply must match."""
    ref = redis_ref.client(decode=False)
    rng = random.Random(4)
    keys = [f"k{i}" for i in range(6)]
    base = 4000000000
    options = [[], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"], ["NX", "GT"],
               ["GT", "LT"], ["nx"], ["bogus"]]
    try:
        for step in range(3000):
            k = rng.choice(keys)
            op = rng.random()
            if op < 0.15:
                cmd = ["SET", k, "v"]
            elif op < 0.2:
                cmd = ["DEL", k]
            elif op < 0.3:
                cmd = ["PERSIST", k]
            elif op < 0.45:
                cmd = [rng.choice(["EXPIRETIME", "PEXPIRETIME"]), k]
            elif op < 0.55:
                cmd = ["EXISTS", k]
            else:
                name = rng.choice(["EXPIREAT", "PEXPIREAT"])
                t = base + rng.randrange(-3, 4)
                if name == "PEXPIREAT":
                    t = t * 1000 + rng.randrange(0, 1000)
                if rng.random() < 0.03:
                    t = rng.choice([0, -1, 1, 9223372036854775807, "abc"])
                cmd = [name, k, t] + rng.choice(options)
            got = want = None
            try:
                want = ref.execute_command(*cmd)
            except redis.ResponseError as e:
                want = ("error", str(e))
            try:
                got = rb.execute_command(*cmd)
            except redis.ResponseError as e:
                got = ("error", str(e))
            assert got == want, f"step {step}: {cmd}"
    finally:
        ref.close()
