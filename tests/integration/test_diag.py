"""Command timing as clients read it: INFO commandstats, SLOWLOG, LATENCY.

Durations come from the time-stamp counter scaled against CLOCK_MONOTONIC
(util.h clock_ticks), so these tests check the scale with a command of known
length: DEBUG SLEEP (enabled with --enable-debug-command yes) sleeps for the
given seconds inside the command, and every report must show at least that
long, and not absurdly longer.

Every test also passes against redis-server itself (EMBER_DIFF_SELFTEST=1).
"""

import random
import time

import pytest


SLEEP_S = 0.05
SLEEP_US = int(SLEEP_S * 1_000_000)


def text(v):
    return v.decode() if isinstance(v, bytes) else v


@pytest.fixture
def d(start_ember):
    srv = start_ember("--enable-debug-command", "yes")
    return srv.client()


def test_commandstats_usec_covers_the_command(d):
    d.config_resetstat()
    d.execute_command("DEBUG", "SLEEP", SLEEP_S)
    stat = d.info("commandstats")["cmdstat_debug"]
    assert stat["calls"] == 1
    assert SLEEP_US <= stat["usec"] < SLEEP_US * 20
    assert stat["usec_per_call"] == pytest.approx(stat["usec"], abs=0.01)


def test_commandstats_sum_of_fast_commands_is_small_but_counted(d):
    d.config_resetstat()
    for i in range(1000):
        d.set(f"k{i}", "v")
    stat = d.info("commandstats")["cmdstat_set"]
    assert stat["calls"] == 1000
    # Sub-microsecond commands must add up, not truncate to zero one by one.
    assert 0 < stat["usec"] < 1_000_000


def test_config_resetstat_clears_timing(d):
    d.execute_command("DEBUG", "SLEEP", 0)
    d.config_resetstat()
    assert "cmdstat_debug" not in d.info("commandstats")


def test_slowlog_records_duration(d):
    d.config_set("slowlog-log-slower-than", SLEEP_US // 2)
    d.slowlog_reset()
    d.set("fast", "1")
    d.execute_command("DEBUG", "SLEEP", SLEEP_S)
    entries = d.slowlog_get()
    assert len(entries) == 1
    e = entries[0]
    assert text(e["command"]) == f"DEBUG SLEEP {SLEEP_S}"
    assert SLEEP_US <= e["duration"] < SLEEP_US * 20


def test_slowlog_threshold_zero_logs_everything(d):
    d.config_set("slowlog-log-slower-than", 0)
    d.slowlog_reset()
    d.set("a", "1")
    d.get("a")
    names = [text(e["command"]).split()[0] for e in d.slowlog_get(10)]
    assert names[:2] == ["GET", "SET"]  # newest first


def test_latency_monitor_sees_a_slow_command(d):
    d.config_set("latency-monitor-threshold", 10)
    d.execute_command("DEBUG", "SLEEP", SLEEP_S)
    latest = d.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    event, _when, last_ms, max_ms = latest[0]
    assert event in ("command", b"command")
    assert SLEEP_US // 1000 <= last_ms < SLEEP_US // 1000 * 20
    assert max_ms == last_ms


# ---------------------------------------------------------------------------
# DEBUG subcommands that Redis's own test suite and client libraries use

PROTOCOL_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map",
                  "attrib", "push", "verbatim", "true", "false", "nosuch"]


def debug_protocol_replies(srv, resp):
    with srv.raw() as c:
        if resp == 3:
            assert c.call("HELLO", "3").startswith(b"%")
        out = []
        for t in PROTOCOL_TYPES:
            c.send_command("DEBUG", "PROTOCOL", t)
            got = c.read_reply()
            if t == "push" and resp == 3:
                got += c.read_reply()  # the push, then the real reply
            out.append(got)
        return out


@pytest.mark.parametrize("resp", [2, 3])
def test_debug_protocol_same_as_redis(start_ember, start_redis, resp):
    ember = start_ember("--enable-debug-command", "yes")
    redis_srv = start_redis("--enable-debug-command", "yes")
    assert debug_protocol_replies(ember, resp) == debug_protocol_replies(redis_srv, resp)


def test_debug_reload_keeps_the_dataset(d):
    d.set("s", "v")
    d.rpush("l", "a", "b")
    d.hset("h", mapping={"f": "1"})
    d.set("t", "x", ex=1000)
    assert d.execute_command("DEBUG", "RELOAD") in (True, "OK", b"OK")
    assert d.get("s") == "v"
    assert d.lrange("l", 0, -1) == ["a", "b"]
    assert d.hgetall("h") == {"f": "1"}
    assert 990 < d.ttl("t") <= 1000


def test_debug_set_active_expire_leaves_expired_keys_to_lazy_expiry(d):
    d.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    d.set("k", "v", px=20)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # several cron ticks (hz 10)
        time.sleep(0.05)
    assert d.dbsize() == 1  # nobody reaped it
    assert d.get("k") is None  # lazy expiry on access
    assert d.dbsize() == 0
    d.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    d.set("k2", "v", px=20)
    deadline = time.monotonic() + 10
    while d.dbsize() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert d.dbsize() == 0  # the active cycle took it


def build_dataset(r, rng):
    for i in range(300):
        k = f"k{i}"
        kind = rng.randrange(6)
        if kind == 0:
            r.set(k, rng.choice(["v", "123", "-7", "x" * 100, "3.5"]))
        elif kind == 1:
            r.rpush(k, *[rng.choice(["a", "17", "b" * 70]) for _ in range(rng.randrange(1, 200))])
        elif kind == 2:
            r.sadd(k, *[str(rng.randrange(1000)) if rng.random() < 0.5
                        else f"m{rng.randrange(300)}" for _ in range(rng.randrange(1, 200))])
        elif kind == 3:
            n = rng.randrange(1, 200)
            r.zadd(k, {f"m{j}": rng.choice([j, j / 3, -j * 1e20]) for j in range(n)})
        elif kind == 4:
            n = rng.randrange(1, 200)
            r.hset(k, mapping={f"f{j}": rng.choice(["v", "42", "y" * 80]) for j in range(n)})
        else:
            r.set(k, "t", ex=1000)
    r.select(3)
    r.set("elsewhere", "1")
    r.select(0)


def digests(r):
    names = [f"k{i}" for i in range(300)] + ["missing"]
    return r.execute_command("DEBUG", "DIGEST"), r.execute_command("DEBUG", "DIGEST-VALUE", *names)


def test_debug_digest_same_as_redis_and_survives_reload(start_ember, start_redis):
    ember = start_ember("--enable-debug-command", "yes")
    redis_srv = start_redis("--enable-debug-command", "yes")
    got = {}
    for name, srv in (("ember", ember), ("redis", redis_srv)):
        r = srv.client()
        assert r.execute_command("DEBUG", "DIGEST") in ("0" * 40, b"0" * 40)
        build_dataset(r, random.Random(7))
        got[name] = digests(r)
    assert got["ember"] == got["redis"]
    r = ember.client()
    r.execute_command("DEBUG", "RELOAD")
    assert digests(r) == got["ember"]
    r.set("k0", "changed")
    assert digests(r)[0] != got["ember"][0]


def test_memory_doctor_on_a_small_instance_same_as_redis(ember, redis_ref):
    with ember.raw() as e, redis_ref.raw() as r:
        assert e.call("MEMORY", "DOCTOR") == r.call("MEMORY", "DOCTOR")
