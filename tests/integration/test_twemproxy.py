"""Three ember instances behind twemproxy (issue 12, part 1): the sample
config tests/integration/twemproxy/nutcracker.yml with its ports replaced. The
walkthrough runs through the proxy, keys spread over all three instances,
MSET/MGET/DEL are split and merged by the proxy, and when one instance dies
the "cache" pool (auto_eject_hosts) rehashes its keys over the others while
the "sessions" pool answers errors for them. Skipped without nutcracker."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from harness import HOST, free_port
from test_walkthrough import WALKTHROUGH_EXPECTED

NUTCRACKER = shutil.which("nutcracker") or "/usr/sbin/nutcracker"
SAMPLE = Path(__file__).parent / "twemproxy" / "nutcracker.yml"


@pytest.fixture
def proxy(start_ember, tmp_path):
    if not os.access(NUTCRACKER, os.X_OK):
        pytest.skip("nutcracker (Debian package) is not installed")
    embers = [start_ember() for _ in range(3)]
    ports = {"cache": free_port(), "sessions": free_port(), "stats": free_port()}
    conf = SAMPLE.read_text()
    for i, srv in enumerate(embers):
        conf = conf.replace(f"127.0.0.1:{7001 + i}:1", f"{HOST}:{srv.port}:1")
    conf = conf.replace("127.0.0.1:22121", f"{HOST}:{ports['cache']}")
    conf = conf.replace("127.0.0.1:22122", f"{HOST}:{ports['sessions']}")
    path = tmp_path / "nutcracker.yml"
    path.write_text(conf)
    log = open(tmp_path / "nutcracker.log", "wb")
    proc = subprocess.Popen([NUTCRACKER, "-c", str(path), "-s", str(ports["stats"])],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                if redis.Redis(host=HOST, port=ports["cache"]).ping():
                    break
            except redis.ConnectionError:
                assert time.time() < deadline, "nutcracker did not answer PING"
                time.sleep(0.05)
        yield {"embers": embers, **ports}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def client(proxy, pool="cache"):
    return redis.Redis(host=HOST, port=proxy[pool], decode_responses=True)


def test_walkthrough_through_the_proxy(proxy):
    r = client(proxy)
    out = [
        r.set("key-name", "string"), r.get("key-name"),
        r.set("key_name", json.dumps([{"key_1": "val_1"}])),
        r.rpush("key-name2", "a", "b", "c"), r.lrange("key-name2", 0, -1),
        r.lrange("key-name2", 0, 1),
        r.hset("h", mapping={"key_1": "val_1", "key_n": "val_n"}), r.hget("h", "key_1"),
        r.hgetall("h"), r.expire("key_name", 3600), r.ttl("key_name"),
        json.loads(r.get("key_name")),
    ]
    assert out == WALKTHROUGH_EXPECTED


def test_keys_spread_and_multi_key_commands_split(proxy):
    r = client(proxy)
    keys = {f"user:{i}": str(i) for i in range(300)}
    assert r.mset(keys)
    sizes = [srv.client().dbsize() for srv in proxy["embers"]]
    assert sum(sizes) == 300
    assert all(n > 30 for n in sizes), sizes  # every instance holds a share
    names = list(keys)
    assert r.mget(names + ["missing"]) == list(keys.values()) + [None]
    assert r.exists(names[0]) == 1
    assert r.delete(*names) == 300
    assert [srv.client().dbsize() for srv in proxy["embers"]] == [0, 0, 0]


@pytest.mark.parametrize("args", [("MULTI",), ("SELECT", "1"), ("SUBSCRIBE", "ch"), ("KEYS", "*"),
                                  ("FLUSHALL",), ("INFO",), ("SCAN", "0"), ("DBSIZE",)])
def test_proxy_refuses_commands_without_a_key(proxy, args):
    """twemproxy closes the connection on commands it cannot route (README lists them)."""
    with pytest.raises(redis.ConnectionError):
        redis.Redis(host=HOST, port=proxy["cache"]).execute_command(*args)


def _owner(proxy, key):
    for srv in proxy["embers"]:
        if srv.client().exists(key):
            return srv
    raise AssertionError(f"{key} is on no instance")


def test_dead_instance_cache_rehashes_sessions_fail(proxy):
    cache, sessions = client(proxy, "cache"), client(proxy, "sessions")
    for i in range(60):
        sessions.set(f"s:{i}", i)
    victim = _owner(proxy, "s:0")
    lost = [f"s:{i}" for i in range(60) if victim.client().exists(f"s:{i}")]
    victim.stop()
    # sessions: the dead instance's keys fail, the others still answer.
    with pytest.raises(redis.RedisError):
        sessions.get(lost[0])
    kept = [f"s:{i}" for i in range(60) if f"s:{i}" not in lost]
    assert sessions.get(kept[0]) == kept[0][2:]
    # cache: after the failure the instance is ejected; its keys rehash to
    # the live ones and read as misses, then writes land on a live instance.
    for _ in range(3):
        try:
            cache.get(lost[0])
            break
        except redis.RedisError:
            time.sleep(0.1)
    assert cache.get(lost[0]) is None
    assert cache.set(lost[0], "again")
    assert cache.get(lost[0]) == "again"
