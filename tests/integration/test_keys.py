"""Generic key commands through redis-py: what the differential scripts
(diff/02..05, diff/keys.txt) cannot see. Expired keys never show through
any command; SCAN's guarantees over a whole iteration, across a resize;
COUNT as a hint; cross-db commands seen from other connections; LRU idle
times that only reading commands reset; dirty and hit/miss bookkeeping.

redis-py strips the "ERR " prefix of errors and keeps "WRONGTYPE ".
"""

import time

import pytest
import redis


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


def make_list(r, key, *items):
    try:
        r.rpush(key, *(items or ("a",)))
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("RPUSH not implemented yet")
        raise


def make_hash(r, key):
    try:
        r.hset(key, mapping={"f": "v", "g": "w"})
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("HSET not implemented yet")
        raise


def scan_all(r, **kw):
    """Every key a full SCAN iteration reports (a list: duplicates kept)."""
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        seen.extend(keys)
        calls += 1
        assert calls < 100000
        if cursor == 0:
            return seen


def expire_soon(r, keys, ms=30):
    """Gives `keys` a deadline `ms` from now and waits until it has passed,
    without reading them."""
    for k in keys:
        assert r.pexpire(k, ms) is True
    time.sleep(ms / 1000 + 0.03)


# ---- DEL / UNLINK / EXISTS / TYPE / TOUCH ----


def test_del_unlink_count_and_dirty(r):
    r.mset({"a": 1, "b": 2, "c": 3})
    before = dirty(r)
    assert r.delete("a", "a", "nosuch") == 1
    assert dirty(r) == before + 1
    assert r.unlink("b", "c", "b") == 2
    assert dirty(r) == before + 3
    assert r.delete("a") == 0
    assert dirty(r) == before + 3
    assert r.dbsize() == 0


def test_exists_counts_duplicates_and_types(r):
    r.set("s", "v")
    assert r.exists("s", "s", "s", "nosuch") == 3
    assert r.type("s") == "string"
    assert r.type("nosuch") == "none"
    make_list(r, "l")
    make_hash(r, "h")
    assert r.type("l") == "list" and r.type("h") == "hash"
    assert r.exists("l", "h", "s") == 3
    assert r.delete("l", "h") == 2


def test_read_lookups_count_hits_and_misses(r):
    r.set("k", "v")
    h0, m0 = hits_misses(r)
    r.exists("k", "nosuch")
    r.type("k")
    r.touch("k", "nosuch")
    call(r, "OBJECT", "ENCODING", "nosuch")
    h1, m1 = hits_misses(r)
    assert (h1 - h0, m1 - m0) == (3, 3)
    # write lookups count nothing
    r.delete("nosuch")
    r.rename("k", "k2")
    r.expire("k2", 100)
    r.persist("k2")
    assert hits_misses(r) == (h1, m1)


def test_expired_keys_never_show(r):
    r.mset({"live": "v", "dead": "v", "dead2": "v"})
    expire_soon(r, ["dead", "dead2"])
    # read and write paths alike report the expired keys missing
    assert r.keys("*") == ["live"]
    assert r.keys("dead*") == []
    assert r.exists("dead", "live") == 1
    assert r.type("dead2") == "none"
    assert scan_all(r) == ["live"]
    assert r.touch("dead", "dead2") == 0
    assert r.ttl("dead") == -2
    assert call(r, "OBJECT", "ENCODING", "dead") is None
    assert r.delete("dead") == 0
    with err(r"^no such key$"):
        r.rename("dead", "x")
    for _ in range(20):
        assert r.randomkey() == "live"
    assert r.dbsize() == 1


def test_randomkey_only_expired_keys(r):
    r.mset({"a": 1, "b": 2})
    expire_soon(r, ["a", "b"])
    assert r.randomkey() is None


def test_touch_resets_idle_time(r):
    r.set("k", "v")
    r.set("t", "v")
    time.sleep(2.2)
    # EXISTS, TYPE, TTL and OBJECT look without touching
    r.exists("k")
    r.type("k")
    r.ttl("k")
    call(r, "OBJECT", "ENCODING", "k")
    assert r.object("idletime", "k") >= 2
    assert r.touch("t", "nosuch") == 1
    assert r.object("idletime", "t") <= 1
    r.get("k")
    assert r.object("idletime", "k") <= 1


# ---- KEYS / SCAN ----


def test_keys_patterns(r):
    r.mset({"user:1": 1, "user:2": 2, "user:10": 3, "other": 4, "a\x00b": 5})
    assert sorted(r.keys("user:?")) == ["user:1", "user:2"]
    assert sorted(r.keys("user:*")) == ["user:1", "user:10", "user:2"]
    assert r.keys("a\x00*") == ["a\x00b"]
    assert sorted(r.keys()) == sorted(["user:1", "user:2", "user:10", "other", "a\x00b"])


def test_scan_full_iteration(r):
    keys = {f"key:{i}" for i in range(1000)}
    with r.pipeline(transaction=False) as p:
        for k in keys:
            p.set(k, "v")
        p.execute()
    seen = scan_all(r)
    assert set(seen) == keys
    assert len(seen) == len(keys)  # no resize during the walk: no duplicates
    assert set(scan_all(r, match="key:1*", count=50)) == {k for k in keys if k.startswith("key:1")}


def test_scan_count_is_a_hint(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"k{i}", "v")
        p.execute()
    cursor, total, calls = 0, 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=100)
        calls += 1
        total += len(keys)
        if cursor == 0:
            break
        # a non-final call collects at least COUNT keys (whole buckets, so a few more)
        assert 100 <= len(keys) < 200
    assert total == 1000
    assert calls <= 11
    # COUNT 1: still whole buckets, still the whole keyspace in the end
    assert len(set(scan_all(r, count=1))) == 1000


def test_scan_survives_resize(r):
    """Keys present for the whole iteration are reported, even when the
    table grows (and so rehashes) in the middle of it."""
    old = {f"old:{i}" for i in range(100)}
    for k in old:
        r.set(k, "v")
    seen = set()
    cursor, keys = r.scan(0, count=10)
    seen.update(keys)
    with r.pipeline(transaction=False) as p:
        for i in range(5000):
            p.set(f"new:{i}", "v")
        p.execute()
    while cursor != 0:
        cursor, keys = r.scan(cursor, count=10)
        seen.update(keys)
    assert old <= seen


def test_scan_type_filter(r):
    r.mset({"s1": 1, "s2": 2})
    make_list(r, "l1")
    make_hash(r, "h1")
    assert sorted(scan_all(r, _type="string")) == ["s1", "s2"]
    assert scan_all(r, _type="LIST") == ["l1"]
    assert scan_all(r, _type="hash", match="h*") == ["h1"]
    assert scan_all(r, _type="zset") == []


def test_scan_errors(r):
    with err(r"^invalid cursor$"):
        r.execute_command("SCAN", "x")
    with err(r"^invalid cursor$"):
        r.execute_command("SCAN", "18446744073709551616")
    with err(r"^syntax error$"):
        r.execute_command("SCAN", "0", "COUNT", "0")
    with err(r"^value is not an integer or out of range$"):
        r.execute_command("SCAN", "0", "COUNT", "x")
    with err(r"^syntax error$"):
        r.execute_command("SCAN", "0", "MATCH")
    # the cursor is a bulk string
    assert call(r, "SCAN", "0") == ["0", []]


# ---- RENAME / MOVE / COPY / SWAPDB / FLUSH ----


def test_rename_carries_ttl_and_value(r):
    r.set("a", "v", ex=1000)
    r.set("b", "old", ex=50)
    assert r.rename("a", "b") is True
    assert r.get("b") == "v"
    assert 999 <= r.ttl("b") <= 1000
    assert r.exists("a") == 0
    assert r.renamenx("b", "c") is True
    assert 999 <= r.ttl("c") <= 1000
    r.set("d", "x")
    assert r.renamenx("c", "d") is False
    assert r.get("d") == "x"


def test_rename_container_keeps_contents(r):
    make_list(r, "l", "a", "b", "c")
    r.expire("l", 1000)
    assert r.rename("l", "l2") is True
    assert r.lrange("l2", 0, -1) == ["a", "b", "c"]
    assert r.ttl("l2") == 1000
    r.set("s", "x")
    assert r.rename("s", "l2") is True  # the list is freed
    assert r.get("l2") == "x"
    make_hash(r, "h")
    assert r.rename("h", "h2") is True
    assert r.hgetall("h2") == {"f": "v", "g": "w"}


def test_rename_many_keys_stays_consistent(r):
    """RENAME between keys in a growing table: every value lands under its
    new name exactly once."""
    with r.pipeline(transaction=False) as p:
        for i in range(2000):
            p.set(f"a{i}", i)
        p.execute()
    with r.pipeline(transaction=False) as p:
        for i in range(2000):
            p.rename(f"a{i}", f"b{i}")
        p.execute()
    assert r.dbsize() == 2000
    assert r.mget([f"b{i}" for i in range(0, 2000, 97)]) == [str(i) for i in range(0, 2000, 97)]
    assert r.keys("a*") == []


def test_move_seen_from_other_db(ember, r):
    other = ember.client(db=1)
    try:
        r.set("k", "v", ex=1000)
        assert r.move("k", 1) is True
        assert r.exists("k") == 0
        assert other.get("k") == "v"
        assert other.ttl("k") == 1000
        other.set("k2", "there")
        r.set("k2", "here")
        assert r.move("k2", 1) is False
        assert other.get("k2") == "there"
    finally:
        other.close()


def test_copy_strings(ember, r):
    r.set("i", 42)
    r.set("s", "hello", ex=1000)
    assert r.copy("i", "i2") is True
    assert r.copy("s", "s2") is True
    assert r.get("i2") == "42" and r.get("s2") == "hello"
    assert r.ttl("s2") == 1000
    r.append("s2", " world")  # the copy is independent
    assert r.get("s") == "hello"
    assert r.copy("i", "s2") is False
    assert r.copy("i", "s2", replace=True) is True
    assert r.ttl("s2") == -1
    assert r.copy("s", "s", destination_db=3) is True
    other = ember.client(db=3)
    try:
        assert other.get("s") == "hello"
        assert other.ttl("s") == 1000
    finally:
        other.close()


def test_copy_containers(r):
    make_list(r, "l", "a", "b")
    assert r.copy("l", "l2") is True
    r.rpush("l2", "c")
    assert r.lrange("l", 0, -1) == ["a", "b"]
    assert r.lrange("l2", 0, -1) == ["a", "b", "c"]
    make_hash(r, "h")
    assert r.copy("h", "h2") is True
    assert r.hgetall("h2") == {"f": "v", "g": "w"}


def test_swapdb_seen_by_other_clients(ember, r):
    other = ember.client(db=1)
    try:
        r.set("a", "in0", ex=1000)
        other.set("b", "in1")
        assert r.swapdb(0, 1) is True
        assert r.get("b") == "in1" and r.exists("a") == 0
        assert other.get("a") == "in0"
        assert other.ttl("a") == 1000
        info = r.info("keyspace")
        assert info["db0"]["keys"] == 1 and info["db0"]["expires"] == 0
        assert info["db1"]["keys"] == 1 and info["db1"]["expires"] == 1
        # the moved keys still expire, in their new db
        other.pexpire("a", 20)
        deadline = time.time() + 2
        while other.exists("a") and time.time() < deadline:
            time.sleep(0.01)
        assert other.exists("a") == 0
    finally:
        other.close()


def watch_then_exec(r, key, between):
    """WATCH key, run between(), then a MULTI/EXEC: True if EXEC ran."""
    with r.pipeline(transaction=True) as p:
        p.watch(key)
        between()
        p.multi()
        p.ping()
        try:
            p.execute()
            return True
        except redis.WatchError:
            return False


def test_swapdb_invalidates_watch(ember, r):
    other = ember.client(db=1)
    try:
        other.set("in1", "v")
        r.set("in0", "v")
        # a watched key that the swap brings in or takes away; one it leaves absent
        assert watch_then_exec(r, "in1", lambda: other.swapdb(0, 1)) is False
        assert watch_then_exec(r, "in0", lambda: other.swapdb(0, 1)) is False
        assert watch_then_exec(r, "nowhere", lambda: other.swapdb(0, 1)) is True
        assert r.exists("in1") == 1
        assert watch_then_exec(r, "in1", lambda: other.swapdb(0, 1)) is False
    finally:
        other.close()


def test_flushall_every_db_and_dirty(ember, r):
    other = ember.client(db=7)
    try:
        r.set("a", 1)
        other.set("b", 2)
        other.set("c", 3, ex=100)
        before = dirty(r)
        assert r.flushall() is True
        assert dirty(r) == before + 3  # one per key (Redis 7.0.15)
        assert other.dbsize() == 0 and r.dbsize() == 0
        other.set("x", 1)
        assert r.flushdb(asynchronous=True) is True
        assert other.dbsize() == 1
        assert other.flushdb() is True
        assert other.dbsize() == 0
    finally:
        other.close()


# ---- OBJECT ----


def test_object_refcount_shared_integers(r):
    r.mset({"zero": 0, "max": 9999, "big": 10000, "neg": -1, "s": "abc"})
    assert r.object("refcount", "zero") == 2147483647
    assert r.object("refcount", "max") == 2147483647
    assert r.object("refcount", "big") == 1
    assert r.object("refcount", "neg") == 1
    assert r.object("refcount", "s") == 1
    assert r.object("refcount", "nosuch") is None


def test_object_under_lru_and_lfu_policies(r):
    try:
        r.config_set("maxmemory", "1gb")
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.set("k", 5)
        assert r.object("refcount", "k") == 1  # no shared integers with LRU
        assert r.object("idletime", "k") <= 1
        r.config_set("maxmemory-policy", "allkeys-lfu")
        with err(r"^An LFU maxmemory policy is selected, idle time not tracked"):
            r.object("idletime", "k")
        assert isinstance(r.object("freq", "k"), int)
        r.config_set("maxmemory-policy", "noeviction")
        with err(r"^An LFU maxmemory policy is not selected, access frequency not tracked"):
            r.object("freq", "k")
    finally:
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("maxmemory", "0")


def test_object_freq_of_new_key_is_lfu_init(r):
    try:
        r.config_set("maxmemory-policy", "allkeys-lfu")
        r.set("k", "v")
        assert r.object("freq", "k") == 5  # Redis's LFU_INIT_VAL, before any decay
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_object_errors(r):
    with err(r"^unknown subcommand 'bogus'. Try OBJECT HELP.$"):
        r.execute_command("OBJECT", "bogus", "k")
    with err(r"^wrong number of arguments for 'object\|encoding' command$"):
        r.execute_command("OBJECT", "ENCODING")
    with err(r"^wrong number of arguments for 'object' command$"):
        r.execute_command("OBJECT")
    help_lines = call(r, "OBJECT", "HELP")
    assert help_lines[0].startswith("OBJECT <subcommand>") and help_lines[-1] == "    Prints this help."


# ---- Keyspace notifications ----

MY_EVENTS = {"del", "expire", "persist", "rename_from", "rename_to", "move_from", "move_to",
             "copy_to", "expired"}


def keyspace_events(server, commands):
    """Runs `commands` on a fresh connection of `server` with every
    notification class on, and returns the (channel, message) pairs of the
    events this file's commands emit, in order."""
    c = server.client()
    sub = server.client().pubsub()
    try:
        c.config_set("notify-keyspace-events", "KEA")
        sub.psubscribe("__key*__:*")
        assert sub.get_message(timeout=1)["type"] == "psubscribe"
        for cmd in commands:
            if callable(cmd):
                cmd()
                continue
            try:
                c.execute_command(*cmd)
            except redis.ResponseError:
                pass
        c.execute_command("PUBLISH", "__keyevent@0__:END", "x")  # marks the end
        events = []
        while True:
            m = sub.get_message(timeout=2)
            assert m is not None, "no end marker"
            if m["type"] != "pmessage":
                continue
            if m["channel"] == "__keyevent@0__:END":
                return events
            kind, _, rest = m["channel"].partition("@")
            name = rest.split("__:", 1)[1]
            event = m["data"] if kind == "__keyspace" else name
            if event in MY_EVENTS:
                events.append((m["channel"], m["data"]))
    finally:
        c.config_set("notify-keyspace-events", "")
        sub.close()
        c.close()


def test_keyspace_events_match_redis(ember, redis_ref):
    commands = [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("EXPIRE", "a", "100", "NX"),
        ("PERSIST", "a"), ("PERSIST", "a"), ("PEXPIRE", "a", "-1"),
        ("SET", "b", "1"), ("RENAME", "b", "c"), ("RENAMENX", "c", "d"), ("SET", "e", "1"),
        ("RENAMENX", "d", "e"), ("RENAME", "d", "d"), ("MOVE", "d", "1"), ("MOVE", "nosuch", "1"),
        ("SET", "f", "v"), ("COPY", "f", "g"), ("COPY", "f", "g"), ("COPY", "f", "g", "DB", "2"),
        ("DEL", "f", "g", "nosuch", "f"), ("UNLINK", "e"), ("SET", "t", "v"),
        ("PEXPIRE", "t", "1"), lambda: time.sleep(0.02), ("GET", "t"),
    ]
    got = keyspace_events(ember, commands)
    assert len(got) >= 20
    assert got == keyspace_events(redis_ref, commands)
