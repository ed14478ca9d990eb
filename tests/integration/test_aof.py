"""Append-only file (issue 11 part 3): Redis 7's multi-part layout
(appendonlydir/ with a manifest, an RDB base and incremental files), loading at
start-up, appendfsync always/everysec/no, deterministic logging of writes,
BGREWRITEAOF, and files that redis-check-aof and redis-server 7.0 accept both
ways."""
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from harness import REDIS_SERVER, RawConn, Server, ember_binary, redis_available

CHECK_AOF = shutil.which("redis-check-aof")
DEADLINE = 20.0


def wait_for(cond, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)  # poll interval, bounded by the deadline
    raise AssertionError(f"timed out waiting for {what}")


def ember_at(workdir, *args, name="ember"):
    return Server(name, ember_binary(), ["--appendonly", "yes", "--save", ""] + list(args),
                  workdir)


@pytest.fixture
def servers():
    """Servers a test starts itself (same dir across restarts); each must be
    stopped cleanly, unless the test killed it on purpose."""
    started = []
    yield started
    failures = []
    for s in started:
        try:
            s.stop_and_check()
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


def start(servers, srv):
    servers.append(srv)
    return srv.start()


def aof_dir(workdir):
    return Path(workdir) / "appendonlydir"


def read_commands(path):
    """The commands of an incremental file, as lists of bytes."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        nl = data.index(b"\r\n", pos)
        assert data[pos:pos + 1] == b"*", data[pos:pos + 40]
        n = int(data[pos + 1:nl])
        pos = nl + 2
        args = []
        for _ in range(n):
            nl = data.index(b"\r\n", pos)
            ln = int(data[pos + 1:nl])
            pos = nl + 2
            args.append(data[pos:pos + ln])
            pos += ln + 2
        out.append(args)
    return out


def incr_files(workdir):
    return sorted(aof_dir(workdir).glob("*.incr.aof"), key=lambda p: int(p.name.split(".")[-3]))


def logged(workdir):
    """Every command in the incremental files, upper-cased names, as str lists."""
    cmds = []
    for f in incr_files(workdir):
        for c in read_commands(f):
            cmds.append([c[0].decode().upper()] + [a.decode("latin-1") for a in c[1:]])
    return cmds


def populate(c):
    c.set("s", "hello")
    c.set("n", "12345")
    c.set("bin", b"\x00\xffbinary\r\n")
    c.set("long", "x" * 5000)
    c.set("ttl", "v", px=600000)
    c.rpush("l", "a", "b", "3", "-70000", "x")
    c.rpush("lbig", *[f"e{i}" for i in range(300)])
    c.sadd("si", 1, 2, 300, -5)
    c.sadd("ss", "a", "b", "c")
    c.zadd("z", {"a": 1.5, "b": -2, "c": float("inf"), "d": 0.1})
    c.hset("h", mapping={"f1": "v1", "f2": "2"})
    c.hset("hbig", mapping={f"f{i}": f"v{i}" for i in range(300)})
    c.expire("hbig", 1000)
    c.incrbyfloat("fl", 1.25)
    c.hincrbyfloat("h", "fl", 2.5)
    c.execute_command("SELECT", 3)
    c.set("k3", "v3")
    c.execute_command("SELECT", 0)


def snapshot(srv):
    out = {}
    for db in range(16):
        c = srv.client(decode=False, db=db)
        for k in c.keys("*"):
            t = c.type(k)
            if t == b"string":
                v = c.get(k)
            elif t == b"list":
                v = c.lrange(k, 0, -1)
            elif t == b"set":
                v = sorted(c.smembers(k))
            elif t == b"zset":
                v = c.zrange(k, 0, -1, withscores=True)
            else:
                v = sorted(c.hgetall(k).items())
            pttl = c.pttl(k)
            when = -1 if pttl < 0 else round((time.time() * 1000 + pttl) / 1000)
            out[(db, k)] = (t, v, when)
        c.close()
    return out


def info(srv, field):
    return srv.client().info("persistence")[field]

# ---------------------------------------------------------------------------
# Layout, restart, redis-check-aof


def test_layout_is_redis_7_multi_part(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("a", "1")
    d = aof_dir(tmp_path)
    names = sorted(p.name for p in d.iterdir())
    assert names == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof",
                     "appendonly.aof.manifest"]
    assert (d / "appendonly.aof.manifest").read_text() == (
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n")
    assert (d / "appendonly.aof.1.base.rdb").read_bytes().startswith(b"REDIS0010")
    assert info(srv, "aof_enabled") == 1
    assert logged(tmp_path) == [["SELECT", "0"], ["SET", "a", "1"]]


def test_restart_keeps_every_type_and_ttl(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    populate(srv.client(decode=False))
    before = snapshot(srv)
    assert srv.stop() == 0
    srv.start()
    assert snapshot(srv) == before


@pytest.mark.skipif(CHECK_AOF is None, reason="redis-check-aof (redis-tools) is not installed")
def test_redis_check_aof_accepts_ember_files(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client(decode=False)
    populate(c)
    p = c.pipeline(transaction=True)
    p.incr("n")
    p.set("t", "x", ex=100)
    p.execute()
    c.eval("redis.call('set','e1','1'); redis.call('incr','e1')", 0)
    srv.client().bgrewriteaof()
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the rewrite")
    c.set("after", "rewrite")
    assert srv.stop() == 0
    r = subprocess.run([CHECK_AOF, str(aof_dir(tmp_path) / "appendonly.aof.manifest")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All AOF files and manifest are valid" in r.stdout
    srv.start()

# ---------------------------------------------------------------------------
# Cross-loading with redis-server 7.0


needs_redis = pytest.mark.skipif(not redis_available(), reason="redis-server is not installed")


@needs_redis
def test_redis_loads_ember_aof(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path / "e"))
    c = srv.client(decode=False)
    populate(c)
    p = c.pipeline(transaction=True)
    p.incr("n")
    p.expire("s", 1000)
    p.execute()
    expected = snapshot(srv)
    assert srv.stop() == 0
    rdir = tmp_path / "r"
    rdir.mkdir()
    shutil.copytree(aof_dir(tmp_path / "e"), aof_dir(rdir))
    red = start(servers, Server("redis", REDIS_SERVER, ["--appendonly", "yes", "--save", ""], rdir))
    assert snapshot(red) == expected


@needs_redis
def test_ember_loads_redis_aof(servers, tmp_path):
    rdir = tmp_path / "r"
    red = start(servers, Server("redis", REDIS_SERVER, ["--appendonly", "yes", "--save", ""], rdir))
    c = red.client(decode=False)
    populate(c)
    c.set("ex", "v", ex=1000)
    c.sadd("pop", "a", "b", "c", "d")
    c.spop("pop")
    c.execute_command("BLPOP", "l", 0)
    red.client().bgrewriteaof()  # a base with data, then more increments
    wait_for(lambda: info(red, "aof_rewrite_in_progress") == 0 and info(red, "aof_rewrites") == 1,
             "redis's rewrite")
    c.rpush("l", "after")
    p = c.pipeline(transaction=True)
    p.incrby("n", 5)
    p.execute()
    expected = snapshot(red)
    assert red.stop() == 0
    edir = tmp_path / "e"
    edir.mkdir()
    shutil.copytree(aof_dir(rdir), aof_dir(edir))
    srv = start(servers, ember_at(edir))
    assert snapshot(srv) == expected
    # ember goes on appending to redis's incremental file
    srv.client().set("more", "1")
    assert srv.stop() == 0
    srv.start()
    assert srv.client().get("more") == "1"

# ---------------------------------------------------------------------------
# What is logged: deterministic forms, as Redis 7.0 writes them


def test_relative_ttls_are_logged_absolute(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    now = time.time() * 1000
    c.set("a", "v", ex=100)
    c.setex("b", 100, "v")
    c.psetex("c", 100000, "v")
    c.set("d", "v", pxat=int(now) + 500000)
    c.expire("a", 200, nx=False)
    c.execute_command("EXPIRE", "b", "300", "XX")
    c.pexpireat("c", int(now) + 600000)
    c.getex("d", ex=50)
    c.getex("d", persist=True)
    c.expireat("c", 1)  # in the past: the key goes, logged as DEL
    cmds = logged(tmp_path)
    shapes = [[a if not a.isdigit() or len(a) < 12 else "T" for a in cmd] for cmd in cmds]
    assert shapes == [
        ["SELECT", "0"],
        ["SET", "a", "v", "PXAT", "T"],
        ["SET", "b", "v", "PXAT", "T"],
        ["SET", "c", "v", "PXAT", "T"],
        ["SET", "d", "v", "PXAT", "T"],
        ["PEXPIREAT", "a", "T"],
        ["PEXPIREAT", "b", "T", "XX"],
        ["PEXPIREAT", "c", "T"],
        ["PEXPIREAT", "d", "T"],
        ["PERSIST", "d"],
        ["DEL", "c"],
    ]
    when = int(cmds[1][4])
    assert abs(when - (now + 100000)) < 5000


def test_random_and_float_effects_are_logged_as_results(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.sadd("s", "a", "b", "c", "d", "e")
    one = c.spop("s")
    two = c.spop("s", 2)
    c.sadd("t", "x")
    c.spop("t", 5)  # everything: DEL
    c.incrbyfloat("f", "1.5")
    c.hincrbyfloat("h", "x", "0.25")
    c.getdel("f")
    cmds = logged(tmp_path)[1:]
    assert cmds[0] == ["SADD", "s", "a", "b", "c", "d", "e"]
    assert cmds[1] == ["SREM", "s", one]
    assert cmds[2] == ["MULTI"]
    assert sorted(x[2] for x in cmds[3:5]) == sorted(two) and cmds[3][0] == "SREM"
    assert cmds[5] == ["EXEC"]
    assert cmds[6:] == [["SADD", "t", "x"], ["DEL", "t"], ["SET", "f", "1.5", "KEEPTTL"],
                        ["HSET", "h", "x", "0.25"], ["DEL", "f"]]


def test_blocking_pops_are_logged_non_blocking(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.rpush("l", "a", "b", "c")
    c.blpop(["l"], 0)
    c.brpop(["l"], 0)
    c.blmove("l", "m", 0, "LEFT", "RIGHT")
    c.zadd("z", {"a": 1, "b": 2, "c": 3})
    c.bzpopmin(["z"], 0)
    c.execute_command("ZMPOP", 1, "z", "MAX", "COUNT", 1)
    c.rpush("l2", "x", "y")
    c.execute_command("LMPOP", 1, "l2", "LEFT", "COUNT", 2)
    # served after blocking
    w = srv.client()
    t = threading.Thread(target=lambda: w.blpop(["wait"], 10))
    t.start()
    wait_for(lambda: c.info("clients")["blocked_clients"] == 1, "the client to block")
    c.rpush("wait", "v")
    t.join()
    cmds = logged(tmp_path)[1:]
    assert cmds == [
        ["RPUSH", "l", "a", "b", "c"],
        ["LPOP", "l"],
        ["RPOP", "l"],
        ["LMOVE", "l", "m", "LEFT", "RIGHT"],
        ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        ["ZPOPMIN", "z"],
        ["ZPOPMAX", "z", "1"],
        ["RPUSH", "l2", "x", "y"],
        ["LPOP", "l2", "2"],
        ["RPUSH", "wait", "v"],
        ["LPOP", "wait"],
    ]


def test_multi_exec_and_scripts_are_logged_as_effects(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=True)
    p.set("a", "1")
    p.incr("a")
    p.get("a")
    p.execute()
    p = c.pipeline(transaction=True)
    p.set("single", "1")
    p.execute()
    c.eval("redis.call('set','x','1'); redis.call('incr','x'); redis.call('get','x')", 0)
    c.eval("redis.call('set','y','1')", 0)
    c.eval("return redis.call('get','y')", 0)  # read-only: nothing
    c.eval("redis.call('select', 2); redis.call('set','z','1')", 0)
    c.set("back", "0")
    cmds = logged(tmp_path)
    assert cmds == [
        ["SELECT", "0"],
        ["MULTI"], ["SET", "a", "1"], ["INCRBY", "a", "1"], ["EXEC"],
        ["SET", "single", "1"],
        ["MULTI"], ["SET", "x", "1"], ["INCR", "x"], ["EXEC"],
        ["SET", "y", "1"],
        ["SELECT", "2"], ["SET", "z", "1"],
        ["SELECT", "0"], ["SET", "back", "0"],
    ]
    assert srv.stop() == 0
    srv.start()
    c = srv.client()
    assert (c.get("a"), c.get("x"), c.get("y"), c.get("back")) == ("2", "2", "1", "0")
    assert srv.client(db=2).get("z") == "1"


def test_expired_keys_are_logged_as_del(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("lazy", "v", px=50)
    c.set("active", "v", px=50)
    time.sleep(0.1)  # let the deadlines pass (not a synchronisation: the keys must expire)
    c.get("lazy")
    wait_for(lambda: ["DEL", "active"] in logged(tmp_path), "active expiry to log DEL")
    wait_for(lambda: ["DEL", "lazy"] in logged(tmp_path), "lazy expiry to log DEL")


def test_select_and_flushall(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("a", "1")
    c2 = srv.client(db=5)
    c2.set("b", "2")
    c.flushall()
    c2.set("c", "3")
    assert logged(tmp_path) == [["SELECT", "0"], ["SET", "a", "1"], ["SELECT", "5"],
                                ["SET", "b", "2"], ["SELECT", "0"], ["FLUSHALL"],
                                ["SELECT", "5"], ["SET", "c", "3"]]
    assert srv.stop() == 0
    srv.start()
    assert srv.client().dbsize() == 0
    assert srv.client(db=5).keys("*") == ["c"]

# ---------------------------------------------------------------------------
# Crashes and damaged files


def writer(srv, name, stop, acked, cmd="INCR"):
    """Writes until `stop`; records the last acknowledged value per key."""
    c = redis.Redis(port=srv.port, socket_timeout=5)
    i = 0
    try:
        while not stop.is_set():
            i += 1
            c.incr(f"{name}:ctr")
            acked[f"{name}:ctr"] = i
            c.rpush(f"{name}:list", i)
            acked[f"{name}:list"] = i
    except (redis.ConnectionError, redis.TimeoutError):
        pass


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_kill_9_under_load_loses_no_acknowledged_write(servers, tmp_path, fsync):
    srv = start(servers, ember_at(tmp_path, "--appendfsync", fsync))
    stop = threading.Event()
    acks = [dict() for _ in range(6)]
    threads = [threading.Thread(target=writer, args=(srv, f"w{i}", stop, acks[i]))
               for i in range(6)]
    for t in threads:
        t.start()
    wait_for(lambda: all(a.get("w0:ctr", 0) > 200 for a in acks[:1]) and
             all(len(a) == 2 for a in acks), "the writers to get going")
    srv.proc.kill()  # SIGKILL: no shutdown code runs
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    srv.start()
    c = srv.client()
    lost = 0
    for a in acks:
        for key, n in a.items():
            if key.endswith(":ctr"):
                got = int(c.get(key) or 0)
            else:
                got = c.llen(key)
            # The kernel keeps what was written: even everysec loses nothing
            # to a process crash. (A machine crash is the power-loss test.)
            lost += max(0, n - got)
            assert got - n in (0, 1), (key, n, got)  # at most the one write in flight
    assert lost == 0


def test_power_loss_always_keeps_every_acknowledged_write(servers, tmp_path):
    """A power cut keeps what was fsynced. With appendfsync always the fsync
    comes before the reply, so a copy of the files taken at any moment holds
    every write acknowledged before the copy began. The copy is made while the
    load runs, then loaded by a fresh server."""
    srv = start(servers, ember_at(tmp_path / "live", "--appendfsync", "always"))
    stop = threading.Event()
    acks = [dict() for _ in range(4)]
    threads = [threading.Thread(target=writer, args=(srv, f"w{i}", stop, acks[i]))
               for i in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: all(len(a) == 2 and a["w" + str(i) + ":ctr"] > 100
                         for i, a in enumerate(acks)), "the writers to get going")
    before = [dict(a) for a in acks]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copytree(aof_dir(tmp_path / "live"), aof_dir(copy))
    stop.set()
    for t in threads:
        t.join()
    # the copy may end inside a command: aof-load-truncated (the default) cuts it
    other = start(servers, ember_at(copy, name="copy"))
    c = other.client()
    for a in before:
        for key, n in a.items():
            got = int(c.get(key) or 0) if key.endswith(":ctr") else c.llen(key)
            assert got >= n, (key, n, got)


def test_fsync_policy_counts(servers, tmp_path):
    """always: one fsync per loop turn with writes (group commit), visible in
    INFO as no pending fsync; everysec and no keep aof_last_write_status ok."""
    for policy in ("always", "everysec", "no"):
        srv = start(servers, ember_at(tmp_path / policy, "--appendfsync", policy))
        c = srv.client()
        for i in range(50):
            c.set(f"k{i}", i)
        assert c.config_get("appendfsync") == {"appendfsync": policy}
        assert info(srv, "aof_last_write_status") == "ok"
        assert srv.stop() == 0
        srv.start()
        assert srv.client().dbsize() == 50


def cut_last_command(workdir, nbytes=3):
    f = incr_files(workdir)[-1]
    data = f.read_bytes()
    f.write_bytes(data[:-nbytes])
    return f, len(data)


def test_truncated_tail_is_cut_when_aof_load_truncated(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("a", "1")
    c.set("b", "2")
    assert srv.stop() == 0
    f, size = cut_last_command(tmp_path)
    srv.start()
    c = srv.client()
    assert c.get("a") == "1" and c.get("b") is None
    assert b"short read while loading the AOF" in srv.log_bytes()
    c.set("c", "3")  # appends after the cut, so the file stays well-formed
    assert srv.stop() == 0
    srv.start()
    assert srv.client().mget("a", "b", "c") == ["1", None, "3"]


def test_truncated_tail_is_refused_without_aof_load_truncated(tmp_path, servers):
    srv = start(servers, ember_at(tmp_path))
    srv.client().set("a", "1")
    assert srv.stop() == 0
    cut_last_command(tmp_path)
    bad = ember_at(tmp_path, "--aof-load-truncated", "no", name="strict")
    with pytest.raises(Exception):
        bad.start(attempts=1)
    assert b"Unexpected end of file reading the append only file" in bad.log_bytes()


def test_truncated_multi_is_reverted(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("a", "1")
    p = c.pipeline(transaction=True)
    p.set("b", "2")
    p.set("c", "3")
    p.execute()
    assert srv.stop() == 0
    f = incr_files(tmp_path)[-1]
    data = f.read_bytes()
    f.write_bytes(data[:data.rindex(b"*1\r\n$4\r\nEXEC")])  # MULTI without EXEC
    srv.start()
    assert srv.client().mget("a", "b", "c") == ["1", None, None]


@pytest.mark.parametrize("garbage", [b"hello world\r\n", b"*2\r\n$3\r\nSET\r\nxx\r\n",
                                     b"*1\r\n$7\r\nNOTACMD\r\n", b"\x00\xff" * 10])
def test_corrupted_file_is_a_clear_error(servers, tmp_path, garbage):
    srv = start(servers, ember_at(tmp_path))
    srv.client().set("a", "1")
    assert srv.stop() == 0
    f = incr_files(tmp_path)[-1]
    f.write_bytes(f.read_bytes() + garbage + b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
    bad = ember_at(tmp_path, name="bad")
    with pytest.raises(Exception):
        bad.start(attempts=1)
    assert bad.returncode not in (None, 0) or not bad.alive()
    log = bad.log_bytes()
    assert b"Bad file format reading the append only file" in log or b"Unknown command" in log
    assert b"Segmentation" not in log and b"AddressSanitizer" not in log


def test_bad_manifest_is_a_clear_error(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    assert srv.stop() == 0
    (aof_dir(tmp_path) / "appendonly.aof.manifest").write_text("file x seq y\n")
    bad = ember_at(tmp_path, name="bad")
    with pytest.raises(Exception):
        bad.start(attempts=1)
    assert b"Invalid AOF manifest file format" in bad.log_bytes()

# ---------------------------------------------------------------------------
# Rewrite


def test_bgrewriteaof_under_load_keeps_every_write(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.mset({f"pre{i}": i for i in range(2000)})
    stop = threading.Event()
    acks = [dict() for _ in range(3)]
    threads = [threading.Thread(target=writer, args=(srv, f"w{i}", stop, acks[i]))
               for i in range(3)]
    for t in threads:
        t.start()
    wait_for(lambda: all(len(a) == 2 for a in acks), "the writers")
    assert c.bgrewriteaof() in (True, "Background append only file rewriting started")
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the rewrite to finish")
    mark = [dict(a) for a in acks]
    wait_for(lambda: all(a[k] > m[k] + 10 for a, m in zip(acks, mark) for k in m),
             "more writes after the rewrite")
    stop.set()
    for t in threads:
        t.join()
    names = sorted(p.name for p in aof_dir(tmp_path).iterdir())
    assert names == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof",
                     "appendonly.aof.manifest"]
    assert (aof_dir(tmp_path) / "appendonly.aof.manifest").read_text() == (
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n")
    assert info(srv, "aof_last_bgrewrite_status") == "ok"
    assert srv.stop() == 0
    srv.start()
    c = srv.client()
    assert c.dbsize() == 2000 + 6
    for a in acks:
        for key, n in a.items():
            got = int(c.get(key)) if key.endswith(":ctr") else c.llen(key)
            assert got in (n, n + 1), (key, n, got)


def test_bgrewriteaof_replies_like_redis(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.mset({f"k{i}": "x" * 100 for i in range(20000)})
    c.bgrewriteaof()
    if info(srv, "aof_rewrite_in_progress"):
        with pytest.raises(redis.ResponseError,
                           match="^Background append only file rewriting already in progress"):
            c.bgrewriteaof()
    wait_for(lambda: info(srv, "aof_rewrite_in_progress") == 0, "the rewrite")
    assert info(srv, "aof_rewrites") == 1


def test_config_set_appendonly_yes_writes_a_base(servers, tmp_path):
    srv = start(servers, Server("ember", ember_binary(), ["--save", ""], tmp_path))
    c = srv.client()
    c.set("before", "1")
    assert info(srv, "aof_enabled") == 0
    assert c.config_set("appendonly", "yes")
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the first rewrite")
    c.set("after", "2")
    assert (aof_dir(tmp_path) / "appendonly.aof.manifest").exists()
    assert srv.stop() == 0
    again = start(servers, ember_at(tmp_path, name="again"))
    assert again.client().mget("before", "after") == ["1", "2"]
    assert again.client().config_set("appendonly", "no")
    assert info(again, "aof_enabled") == 0


def test_auto_rewrite_on_growth(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path, "--auto-aof-rewrite-min-size", "100kb",
                                  "--auto-aof-rewrite-percentage", "100"))
    c = srv.client()
    for i in range(300):
        c.set(f"k{i % 10}", "x" * 1000)
    wait_for(lambda: info(srv, "aof_rewrites") >= 1, "an automatic rewrite")
    assert srv.stop() == 0
    srv.start()
    assert srv.client().dbsize() == 10


def test_info_persistence_aof_fields(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    i = srv.client().info("persistence")
    for f in ("aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
              "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
              "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures",
              "aof_last_write_status", "aof_last_cow_size", "aof_current_size", "aof_base_size",
              "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync",
              "aof_delayed_fsync"):
        assert f in i, f


def test_config_directives(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    got = c.config_get("a*")
    for k, v in {"appendonly": "yes", "appendfsync": "everysec",
                 "appendfilename": "appendonly.aof", "appenddirname": "appendonlydir",
                 "auto-aof-rewrite-percentage": "100", "auto-aof-rewrite-min-size": "67108864",
                 "aof-load-truncated": "yes", "aof-use-rdb-preamble": "yes",
                 "aof-timestamp-enabled": "no"}.items():
        assert got[k] == v, k
    assert c.config_set("appendfsync", "always")
    with pytest.raises(redis.ResponseError, match="appendfilename"):
        c.config_set("appendfilename", "x.aof")


# ---------------------------------------------------------------------------
# Power loss, simulated at the fsync boundary

# An LD_PRELOAD shim: before each fsync/fdatasync of an incremental AOF file
# it notes the file's size, and once the call succeeds records that size (and
# a count of fsyncs) in "<file>.synced". A power cut keeps exactly the bytes
# of an append-only file that were written before its last completed fsync,
# so cutting each file back to its recorded size is what a machine crash
# would leave (the base and manifest are fsynced before their rename).
SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long long count;

static int path_of(int fd, char *path, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, size - 16);
    if (n < 9) return 0;
    path[n] = 0;
    return strcmp(path + n - 9, ".incr.aof") == 0;
}

static int synced(int fd, int (*real)(int))
{
    char path[4096];
    struct stat st;
    int mine = path_of(fd, path, sizeof(path)) && fstat(fd, &st) == 0;
    int rc = real(fd);
    if (rc == 0 && mine) {
        char line[64];
        int n = snprintf(line, sizeof(line), "%020lld %020lld\n", (long long)st.st_size,
                         __sync_add_and_fetch(&count, 1));
        strcat(path, ".synced");
        int o = open(path, O_WRONLY | O_CREAT, 0644);
        if (o >= 0) {
            if (pwrite(o, line, (size_t)n, 0) != n) rc = rc;
            close(o);
        }
    }
    return rc;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return synced(fd, real);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return synced(fd, real);
}
"""


@pytest.fixture(scope="module")
def fsync_shim(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("a C compiler is needed to build the fsync shim")
    d = tmp_path_factory.mktemp("shim")
    (d / "shim.c").write_text(SHIM_C)
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(d / "shim.so"), str(d / "shim.c"),
                    "-ldl"], check=True, timeout=60)
    return str(d / "shim.so")


def start_with_shim(servers, srv, shim, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("LD_PRELOAD", shim)
        # the Asan runtime wants to be first; the shim only wraps two calls
        m.setenv("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        return start(servers, srv)


def synced_state(path):
    """(size, fsync count) recorded for an incremental file; (0, 0) if never."""
    side = Path(str(path) + ".synced")
    if not side.exists():
        return 0, 0
    size, count = side.read_text().split()
    return int(size), int(count)


def power_cut(workdir):
    for f in incr_files(workdir):
        size, _ = synced_state(f)
        with open(f, "r+b") as fh:
            fh.truncate(size)
    for side in aof_dir(workdir).glob("*.synced"):
        side.unlink()


def timed_writer(srv, name, stop, acks):
    """INCRs one counter until stop; acks[n] = monotonic time the reply for
    value n arrived."""
    c = redis.Redis(port=srv.port, socket_timeout=5)
    try:
        while not stop.is_set():
            n = c.incr(f"{name}:ctr")
            acks.append((n, time.monotonic()))
    except (redis.ConnectionError, redis.TimeoutError):
        pass


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_power_loss_at_last_fsync(servers, tmp_path, fsync, fsync_shim, monkeypatch):
    srv = start_with_shim(servers, ember_at(tmp_path, "--appendfsync", fsync), fsync_shim,
                          monkeypatch)
    stop = threading.Event()
    acks = [[] for _ in range(6)]
    threads = [threading.Thread(target=timed_writer, args=(srv, f"w{i}", stop, acks[i]))
               for i in range(6)]
    for t in threads:
        t.start()
    start_t = time.monotonic()
    # run for a few seconds, so everysec has fsynced several times
    wait_for(lambda: time.monotonic() - start_t > 2.5 and all(len(a) > 50 for a in acks),
             "the writers to run for a while")
    srv.proc.kill()
    srv.proc.wait()
    cut_t = time.monotonic()
    stop.set()
    for t in threads:
        t.join()
    total = sum(len(a) for a in acks)
    _, fsyncs = synced_state(incr_files(tmp_path)[-1])
    power_cut(tmp_path)
    srv.start()
    c = srv.client()
    lost = []
    for i, a in enumerate(acks):
        got = int(c.get(f"w{i}:ctr") or 0)
        lost += [t for n, t in a if n > got]
    if fsync == "always":
        assert lost == []
        # group commit: never more fsyncs than acknowledged writes
        assert 0 < fsyncs <= total, (fsyncs, total)
    else:
        # everysec: only what came after the last fsync: one second of cadence
        # plus the fsync's own duration; as in Redis, writes that arrive while an
        # fsync runs wait for it (up to 2 s), so a slow disk widens the window
        assert all(cut_t - t < 3.5 for t in lost), max(cut_t - t for t in lost)
        assert sum(int(c.get(f"w{i}:ctr") or 0) for i in range(6)) > 0


def test_always_group_commit_one_fsync_for_a_pipeline(servers, tmp_path, fsync_shim,
                                                       monkeypatch):
    srv = start_with_shim(servers, ember_at(tmp_path, "--appendfsync", "always"), fsync_shim,
                          monkeypatch)
    c = srv.client()
    c.set("warm", "1")
    before = synced_state(incr_files(tmp_path)[-1])[1]
    p = c.pipeline(transaction=False)
    for i in range(2000):
        p.set(f"k{i}", i)
    p.execute()
    after = synced_state(incr_files(tmp_path)[-1])[1]
    # 2000 writes in a handful of loop turns: one fsync per turn, not per write
    assert 1 <= after - before < 50, after - before


def test_timestamp_annotations(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path, "--aof-timestamp-enabled", "yes"))
    srv.client().set("a", "1")
    data = incr_files(tmp_path)[-1].read_bytes()
    assert data.startswith(b"#TS:") and b"*3\r\n$3\r\nSET\r\n" in data
    assert srv.stop() == 0
    if CHECK_AOF is not None:
        r = subprocess.run([CHECK_AOF, str(aof_dir(tmp_path) / "appendonly.aof.manifest")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    srv.start()
    assert srv.client().get("a") == "1"


def test_bgrewriteaof_during_bgsave_is_scheduled(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=False)
    for i in range(200000):
        p.set(f"key:{i}", i)
    p.execute()
    c.bgsave()
    with RawConn(srv.port) as raw:
        reply = raw.call("BGREWRITEAOF")
    # the dump may already be written on a fast machine: then it just starts
    assert reply in (b"+Background append only file rewriting scheduled\r\n",
                     b"+Background append only file rewriting started\r\n")
    if b"scheduled" in reply:
        assert info(srv, "aof_rewrite_scheduled") == 1
    wait_for(lambda: info(srv, "aof_rewrites") == 1 and info(srv, "rdb_bgsave_in_progress") == 0,
             "the scheduled rewrite")
    assert info(srv, "aof_rewrite_scheduled") == 0
    assert srv.stop() == 0
    srv.start()
    assert srv.client().dbsize() == 200000


def test_base_in_command_form_without_rdb_preamble(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path / "e", "--aof-use-rdb-preamble", "no"))
    c = srv.client(decode=False)
    populate(c)
    c.rpush("lbig", *[f"more{i}" for i in range(200)])  # several RPUSH batches
    c.zadd("z", {"neg": -1.5e-300, "big": 1e300})
    srv.client().bgrewriteaof()
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the rewrite")
    c.set("after", "1")
    expected = snapshot(srv)
    base = aof_dir(tmp_path / "e") / "appendonly.aof.2.base.aof"
    assert base.exists()
    cmds = read_commands(base)
    assert cmds[0] == [b"SELECT", b"0"]
    assert max(len(x) for x in cmds) <= 2 + 2 * 64
    assert srv.stop() == 0
    if CHECK_AOF is not None:
        r = subprocess.run([CHECK_AOF, str(aof_dir(tmp_path / "e") / "appendonly.aof.manifest")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    srv.start()
    assert snapshot(srv) == expected
    if redis_available():
        rdir = tmp_path / "r"
        rdir.mkdir()
        shutil.copytree(aof_dir(tmp_path / "e"), aof_dir(rdir))
        red = start(servers,
                    Server("redis", REDIS_SERVER, ["--appendonly", "yes", "--save", ""], rdir))
        assert snapshot(red) == expected


def write_aof_dir(workdir, incr_bytes):
    d = aof_dir(workdir)
    d.mkdir(parents=True)
    (d / "appendonly.aof.1.incr.aof").write_bytes(incr_bytes)
    (d / "appendonly.aof.manifest").write_text("file appendonly.aof.1.incr.aof seq 1 type i\n")


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def test_crafted_file_cannot_stop_or_block_the_loader(servers, tmp_path):
    write_aof_dir(tmp_path, resp("SELECT", 0) + resp("SET", "a", 1) + resp("SHUTDOWN", "NOSAVE") +
                  resp("CONFIG", "SET", "port", "1") + resp("BLPOP", "empty", 0) +
                  resp("SET", "b", 2))
    srv = start(servers, ember_at(tmp_path))
    assert srv.client().mget("a", "b") == ["1", "2"]


def test_damaged_files_never_crash_the_loader(tmp_path):
    import random
    rnd = random.Random(11)
    good = b"".join([resp("SELECT", 0), resp("SET", "a", "x" * 20), resp("MULTI"),
                     resp("RPUSH", "l", 1, 2, 3), resp("SADD", "s", "m"), resp("EXEC"),
                     resp("ZADD", "z", 1.5, "m"), resp("HSET", "h", "f", "v"),
                     resp("PEXPIREAT", "a", 99999999999999)])
    for i in range(25):
        data = bytearray(good)
        if i % 2:
            data = data[:rnd.randrange(len(data))]
        else:
            for _ in range(rnd.randrange(1, 4)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        d = tmp_path / f"case{i}"
        write_aof_dir(d, bytes(data))
        srv = ember_at(d, name=f"case{i}")
        try:
            srv.start(attempts=1)
        except Exception:
            assert srv.returncode == 1, (i, srv.returncode, srv.log_text())
            assert b"AddressSanitizer" not in srv.log_bytes()
            continue
        srv.client().dbsize()
        srv.stop_and_check()


def test_function_load_is_replayed(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.execute_command("FUNCTION", "LOAD",
                      "#!lua name=lib\nredis.register_function('f', function() return 7 end)")
    assert c.execute_command("FCALL", "f", 0) == 7
    assert srv.stop() == 0
    srv.start()
    assert srv.client().execute_command("FCALL", "f", 0) == 7


def test_functions_survive_a_rewrite(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.execute_command("FUNCTION", "LOAD",
                      "#!lua name=lib\nredis.register_function('f', function() return 7 end)")
    c.bgrewriteaof()
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the rewrite")
    assert srv.stop() == 0
    if CHECK_AOF is not None:
        r = subprocess.run([CHECK_AOF, str(aof_dir(tmp_path) / "appendonly.aof.manifest")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
    srv.start()
    assert srv.client().execute_command("FCALL", "f", 0) == 7


def test_kill_9_during_rewrite_keeps_everything(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=False)
    for i in range(100000):
        p.set(f"key:{i}", i)
    p.execute()
    c.bgrewriteaof()
    c.set("after-fork", "1")  # in the new incremental file, listed before the fork
    rewriting = info(srv, "aof_rewrite_in_progress")
    srv.proc.kill()
    srv.proc.wait()
    srv.start()
    c = srv.client()
    assert c.dbsize() == 100001, rewriting
    assert c.get("after-fork") == "1" and c.get("key:99999") == "99999"


def test_rewrite_inside_exec_waits_for_the_transaction(servers, tmp_path):
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=True)
    p.incr("n")
    p.execute_command("BGREWRITEAOF")
    p.incr("n")
    assert p.execute()[1] in (True, b"Background append only file rewriting scheduled",
                              "Background append only file rewriting scheduled")
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the scheduled rewrite")
    c.incr("n")
    assert srv.stop() == 0
    srv.start()
    assert srv.client().get("n") == "3"  # never counted twice by base and increments


def test_config_set_appendonly_inside_exec(servers, tmp_path):
    srv = start(servers, Server("ember", ember_binary(), ["--save", ""], tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=True)
    p.incr("n")
    p.config_set("appendonly", "yes")
    p.incr("n")
    p.execute()
    wait_for(lambda: info(srv, "aof_rewrites") == 1, "the first rewrite")
    c.incr("n")
    assert srv.stop() == 0
    again = start(servers, ember_at(tmp_path, name="again"))
    assert again.client().get("n") == "3"


def test_bgsave_during_bgrewriteaof_is_refused_or_scheduled(servers, tmp_path):
    # One child at a time, as Redis: a plain BGSAVE is refused while the
    # rewrite child runs, BGSAVE SCHEDULE runs once it is done.
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    p = c.pipeline(transaction=False)
    for i in range(200000):
        p.set(f"key:{i}", i)
    p.execute()
    saves = info(srv, "rdb_saves")
    with RawConn(srv.port) as raw:
        assert raw.call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        plain = raw.call("BGSAVE")
        scheduled = raw.call("BGSAVE", "SCHEDULE")
    # the rewrite may already be over on a fast machine: then BGSAVE starts
    assert plain in (b"-ERR Another child process is active (AOF?): can't BGSAVE right now. "
                     b"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n",
                     b"+Background saving started\r\n")
    assert scheduled in (b"+Background saving scheduled\r\n", b"+Background saving started\r\n",
                         b"-ERR Background save already in progress\r\n")
    wait_for(lambda: info(srv, "rdb_saves") > saves and info(srv, "rdb_bgsave_in_progress") == 0
             and info(srv, "aof_rewrite_in_progress") == 0, "the scheduled BGSAVE")


def test_restore_is_logged_with_an_absolute_ttl(servers, tmp_path):
    # As Redis: a relative TTL becomes the deadline plus ABSTTL, so a replay
    # does not restart it; a deadline already past (with REPLACE) is a DEL.
    srv = start(servers, ember_at(tmp_path))
    c = srv.client()
    c.set("src", "value")
    payload = c.dump("src")
    now = time.time() * 1000
    c.restore("a", 100000, payload)
    c.restore("b", int(now) + 200000, payload, absttl=True)
    c.restore("c", 0, payload, replace=True)
    c.restore("c", 1, payload, replace=True, absttl=True)  # long past: the key goes
    cmds = logged(tmp_path)[2:]  # after SELECT and SET src
    assert cmds[0][:2] == ["RESTORE", "a"] and cmds[0][3:] == [payload.decode("latin-1"), "ABSTTL"]
    assert abs(int(cmds[0][2]) - (now + 100000)) < 5000
    assert cmds[1] == ["RESTORE", "b", str(int(now) + 200000), payload.decode("latin-1"), "ABSTTL"]
    assert cmds[2] == ["RESTORE", "c", "0", payload.decode("latin-1"), "REPLACE"]
    assert cmds[3] == ["DEL", "c"]
    srv.stop()
    srv.start()
    r = srv.client()
    assert 90 < r.ttl("a") <= 100 and r.get("a") == "value" and r.exists("c") == 0


@pytest.mark.parametrize("flavour", ["ember", "redis"])
def test_restricted_default_user_does_not_filter_the_replay(servers, tmp_path, flavour):
    """The loader is the server's own client: it replays every write in the
    file, whatever the default user may now touch (Redis's fake client has no
    user, so its ACL checks pass)."""
    if flavour == "redis" and not redis_available():
        pytest.skip("redis-server not installed")  # the ember run still counts
    binary = ember_binary() if flavour == "ember" else REDIS_SERVER
    args = ["--appendonly", "yes", "--save", ""]
    srv = start(servers, Server(flavour, binary, args, tmp_path))
    c = srv.client()
    c.set("a", "1")
    c.set("b", "2")
    c.rpush("list", "x")
    assert srv.stop() == 0
    servers.remove(srv)
    restricted = ["--user", "default", "on", "nopass", "~a", "&*", "+@all"]
    srv = start(servers, Server(flavour, binary, args + restricted, tmp_path))
    c = srv.client()
    assert c.dbsize() == 3
    assert c.get("a") == "1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        c.get("b")
