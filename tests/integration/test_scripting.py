"""Scripting (issue 10): EVAL/EVALSHA/SCRIPT, FUNCTION/FCALL, through redis-py.

What clients build on scripts: redis-py's Lock (release, extend and reacquire
are Lua scripts run with EVALSHA), register_script (EVALSHA, falling back to
EVAL on NOSCRIPT), conversions and errors as a client sees them, and the
busy-script rules (other clients get -BUSY, SCRIPT KILL, UNKILLABLE). A seeded
random walk compares what redis.call() hands to Lua, converted back, with the
command's own reply, on ember and on redis-server. Byte-exact replies are in
diff/scripting.txt."""

import random
import socket
import threading
import time

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError

from harness import RawConn, encode_command


# ---------------------------------------------------------------------------
# redis-py's Lock


def test_lock_acquire_release(r):
    lock = r.lock("res", timeout=10)
    assert lock.acquire(blocking=False)
    assert r.get("res") == lock.local.token.decode()
    assert 9000 < r.pttl("res") <= 10000
    assert lock.locked() and lock.owned()
    other = r.lock("res", timeout=10)
    assert not other.acquire(blocking=False)
    lock.release()  # EVALSHA of LUA_RELEASE_SCRIPT
    assert not r.exists("res")
    assert other.acquire(blocking=False)
    other.release()


def test_lock_release_not_owned(r):
    lock = r.lock("res", timeout=10)
    assert lock.acquire(blocking=False)
    r.set("res", "someone-else")
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert r.get("res") == "someone-else"


def test_lock_extend_and_reacquire(r):
    lock = r.lock("res", timeout=2)
    assert lock.acquire(blocking=False)
    assert lock.extend(10)  # adds: 2 + 10 seconds
    assert 11000 < r.pttl("res") <= 12000
    assert lock.extend(5, replace_ttl=True)
    assert 4000 < r.pttl("res") <= 5000
    assert lock.reacquire()  # back to the lock's own timeout
    assert 1000 < r.pttl("res") <= 2000
    r.set("res", "stolen")
    with pytest.raises(LockNotOwnedError):
        lock.extend(1)
    with pytest.raises(LockNotOwnedError):
        lock.reacquire()


def test_lock_expires_and_blocking_acquire(r):
    lock = r.lock("res", timeout=0.3)
    assert lock.acquire(blocking=False)
    waiter = r.lock("res", timeout=5, blocking_timeout=3, sleep=0.05)
    start = time.monotonic()
    assert waiter.acquire()  # succeeds once the first lock's TTL passes
    assert 0.2 < time.monotonic() - start < 3
    with pytest.raises(LockNotOwnedError):
        lock.release()  # expired and taken: the script sees another token
    waiter.release()


def test_lock_blocking_timeout(r):
    holder = r.lock("res", timeout=10)
    assert holder.acquire(blocking=False)
    waiter = r.lock("res", timeout=10, blocking_timeout=0.2, sleep=0.05)
    start = time.monotonic()
    assert not waiter.acquire()
    assert time.monotonic() - start >= 0.1  # redis-py stops before a sleep would overrun
    with pytest.raises(LockError):
        with r.lock("res", timeout=10, blocking_timeout=0.1):
            pass
    holder.release()


def test_lock_context_manager(r):
    with r.lock("res", timeout=5) as lock:
        assert lock.owned()
    assert not r.exists("res")


# ---------------------------------------------------------------------------
# register_script, EVALSHA and the cache


def test_register_script(r):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["n"], args=[5]) == 5
    assert incr_by(keys=["n"], args=[-2]) == 3
    assert r.script_exists(incr_by.sha) == [True]
    r.script_flush()
    assert r.script_exists(incr_by.sha) == [False]
    assert incr_by(keys=["n"], args=[1]) == 4  # NOSCRIPT, then EVAL, transparently
    assert r.script_exists(incr_by.sha) == [True]


def test_register_script_in_pipeline(r):
    script = r.register_script("return {KEYS[1], ARGV[1], #ARGV}")
    r.script_flush()
    pipe = r.pipeline()
    script(keys=["k"], args=["a", "b"], client=pipe)
    pipe.set("x", "1")
    assert pipe.execute() == [["k", "a", 2], True]


def test_evalsha_noscript(r):
    with pytest.raises(NoScriptError, match="No matching script. Please use EVAL."):
        r.evalsha("f" * 40, 0)
    sha = r.script_load("return 42")
    assert sha == "1fa00e76656cc152ad327c13fe365858fd7be306"
    assert r.evalsha(sha, 0) == 42
    assert r.evalsha(sha.upper(), 0) == 42
    assert r.script_exists(sha, "0" * 40) == [True, False]


def test_scripts_are_atomic_and_see_writes(r):
    r.set("a", 1)
    script = """
        local v = redis.call('incr', KEYS[1])
        redis.call('set', KEYS[2], v * 10)
        return {v, redis.call('get', KEYS[2])}
    """
    assert r.eval(script, 2, "a", "b") == [2, "20"]
    assert r.get("b") == "20"


def test_script_select_does_not_leak(r):
    assert r.eval("redis.call('select', 5) return redis.call('set', 'k', 'v')", 0) == "OK"
    assert r.get("k") is None
    r.execute_command("SELECT", 5)
    assert r.get("k") == "v"


def test_watch_sees_script_writes(ember):
    a, b = ember.client(), ember.client()
    pipe = a.pipeline()
    pipe.watch("w")
    b.eval("redis.call('set', 'w', 'changed')", 0)
    pipe.multi()
    pipe.set("w", "mine")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    assert a.get("w") == "changed"
    a.close()
    b.close()


def test_eval_inside_multi(r):
    pipe = r.pipeline(transaction=True)
    pipe.eval("return redis.call('incr', KEYS[1])", 1, "m")
    pipe.eval("return redis.call('incr', KEYS[1])", 1, "m")
    assert pipe.execute() == [1, 2]


def test_blocking_commands_do_not_block_in_scripts(r):
    assert r.eval("return redis.call('lmove', 'src', 'dst', 'left', 'right')", 0) is None
    with pytest.raises(ResponseError, match="This Redis command is not allowed from script"):
        r.eval("return redis.call('blpop', 'nolist', 0)", 0)


# ---------------------------------------------------------------------------
# Conversions and errors as a client sees them (bytes: diff/scripting.txt)


CONVERSIONS = [
    ("return 1", 1),
    ("return 3.99", 3),
    ("return -3.99", -3),
    ("return 'x'", "x"),
    ("return true", 1),
    ("return false", None),
    ("return nil", None),
    ("return {1, 'a', {2, 'b'}}", [1, "a", [2, "b"]]),
    ("return {1, 2, nil, 4}", [1, 2]),
    ("return {ok='fine'}", "fine"),
    ("return redis.call('get', 'missing')", None),
    ("return redis.call('lrange', 'missing', 0, -1)", []),
    ("return tostring(redis.call('get', 'missing'))", "false"),
    ("return redis.call('ping')['ok']", "PONG"),
    ("return type(redis.call('incr', 'counter'))", "number"),
]


@pytest.mark.parametrize("script,expected", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_conversion(r, script, expected):
    assert r.eval(script, 0) == expected


ERRORS = [
    ("return {err='My Error'}", "My Error"),
    ("return redis.error_reply('CODE msg')", "CODE msg"),
    ("a = 1", "user_script:1: Attempt to modify a readonly table script: "),
    ("return undefined", "user_script:1: Script attempted to access nonexistent global variable "
                         "'undefined' script: "),
    ("return redis.call('nosuch')", "Unknown Redis command called from script script: "),
    ("return redis.call('set', 'k')", "Wrong number of args calling Redis command from script"),
    ("redis.call('set', 's', 'x') return redis.call('incr', 's')",
     "value is not an integer or out of range script: "),
    ("return 1 +", "Error compiling script (new function): user_script:1: unexpected symbol"),
    ("error('boom')", "user_script:1: boom script: "),
    ("return os.time()", "nonexistent global variable 'os'"),
]


@pytest.mark.parametrize("script,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_error(r, script, message):
    with pytest.raises(ResponseError) as info:
        r.eval(script, 0)
    assert message in str(info.value)


def test_pcall_returns_error_table(r):
    r.set("s", "text")
    assert r.eval("return redis.pcall('incr', 's')['err']", 0) == \
        "ERR value is not an integer or out of range"
    with pytest.raises(ResponseError, match="^value is not an integer or out of range$"):
        r.eval("return redis.pcall('incr', 's')", 0)


def test_eval_ro_refuses_writes(r):
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('set', 'k', 'v')", 0)
    r.set("k", "v")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == "v"


def test_conversions_match_redis(r, redis_ref):
    ref = redis_ref.client()
    scripts = [s for s, _ in CONVERSIONS] + [
        "return {double=1.5}", "return {map={a=1}}", "return {set={x=true}}",
        "redis.setresp(3) return redis.call('hgetall', 'nokey')",
        "return cjson.encode({a={1,2,3}})", "return bit.bxor(5, 3)",
        "return math.random(100)", "return {math.random(), math.random(9)}",
        "return redis.sha1hex('hello')",
    ]
    for s in scripts:
        assert r.eval(s, 0) == ref.eval(s, 0), s
    ref.close()


# ---------------------------------------------------------------------------
# Functions


LIB = """#!lua name=counters
local function incr(keys, args)
    return redis.call('incrby', keys[1], args[1] or 1)
end
local function get(keys)
    return redis.call('get', keys[1])
end
redis.register_function('incr', incr)
redis.register_function{function_name='get', callback=get, flags={'no-writes'},
                        description='read a counter'}
"""


def _pairs(flat):
    return dict(zip(flat[::2], flat[1::2]))


def test_function_load_and_fcall(r):
    r.function_flush()
    assert r.function_load(LIB) == "counters"
    assert r.fcall("incr", 1, "c", 5) == 5
    assert r.fcall("incr", 1, "c") == 6
    assert r.fcall_ro("get", 1, "c") == "6"
    with pytest.raises(ResponseError, match="Can not execute a script with write flag"):
        r.fcall_ro("incr", 1, "c")
    libs = [_pairs(lib) for lib in r.function_list()]
    assert libs[0]["library_name"] == "counters"
    funcs = {f["name"]: f for f in map(_pairs, libs[0]["functions"])}
    assert funcs["get"]["flags"] == ["no-writes"]
    assert funcs["get"]["description"] == "read a counter"
    with pytest.raises(ResponseError, match="Library 'counters' already exists"):
        r.function_load(LIB)
    assert r.function_load(LIB, replace=True) == "counters"
    assert r.function_delete("counters") is True
    with pytest.raises(ResponseError, match="Function not found"):
        r.fcall("incr", 1, "c")


def test_function_list_libraryname(r):
    """FUNCTION LIST filters by a LIBRARYNAME glob (its argv index is now kept
    instead of a pointer into argv, for clang-tidy), alone or with WITHCODE."""
    r.function_flush()
    r.function_load(LIB)
    r.function_load("#!lua name=other\nredis.register_function('noop', function() return 1 end)")

    def names(libs):
        return sorted(_pairs(lib)["library_name"] for lib in libs)

    assert names(r.execute_command("FUNCTION", "LIST")) == ["counters", "other"]
    assert names(r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "count*")) == ["counters"]
    libs = r.execute_command("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "oth?r")
    assert names(libs) == ["other"]
    assert "noop" in _pairs(libs[0])["library_code"]
    assert r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "nope*") == []
    with pytest.raises(ResponseError, match="library name argument was not given"):
        r.execute_command("FUNCTION", "LIST", "LIBRARYNAME")
    with pytest.raises(ResponseError, match="Unknown argument libraryname"):
        r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "a", "libraryname", "b")
    r.function_flush()


def test_function_stats_and_flush(r):
    r.function_flush()
    r.function_load(LIB)
    stats = r.execute_command("FUNCTION", "STATS")
    assert stats[0] == "running_script" and stats[1] is None
    assert stats[3] == ["LUA", ["libraries_count", 1, "functions_count", 2]]
    r.function_flush()
    assert r.function_list() == []


# ---------------------------------------------------------------------------
# Busy scripts: -BUSY for others, SCRIPT KILL, UNKILLABLE, FUNCTION KILL,
# with busy-reply-threshold lowered from its 5000 ms so they run quickly.

BUSY_MS = 300


def _run_async(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except Exception as e:  # the error is the result
            result["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, result


def _slow_client(srv):
    """A client that waits out a long script (the harness's default times out
    after 5 s); it also lowers busy-reply-threshold to BUSY_MS."""
    c = redis.Redis(host="127.0.0.1", port=srv.port, decode_responses=True, socket_timeout=60)
    c.config_set("busy-reply-threshold", BUSY_MS)
    return c


def _wait_busy(client, deadline_s=BUSY_MS / 1000 + 10):
    """Pings until the server answers -BUSY; returns that message."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            client.ping()
        except ResponseError as e:
            if str(e).startswith("BUSY"):
                return str(e)
            raise
        time.sleep(0.1)
    raise AssertionError("the server never reported BUSY")


def test_busy_script_and_script_kill(ember):
    runner, other = _slow_client(ember), ember.client()
    other.ping()  # connected before the script starts
    t, result = _run_async(lambda: runner.eval("local i = 0 while true do i = i + 1 end", 0))
    msg = _wait_busy(other)
    assert msg == "BUSY Redis is busy running a script. You can only call SCRIPT KILL or " \
                  "SHUTDOWN NOSAVE."
    with pytest.raises(ResponseError, match="^BUSY"):
        other.get("x")
    with pytest.raises(ResponseError, match="^BUSY Redis is busy running a script. You can "
                                            "only call SCRIPT KILL"):
        other.execute_command("FUNCTION", "KILL")
    with pytest.raises(ResponseError, match="^BUSY"):
        other.execute_command("FUNCTION", "STATS")
    assert other.script_kill() is True
    t.join(10)
    assert "Script killed by user with SCRIPT KILL..." in str(result["error"])
    assert other.ping() is True
    assert runner.ping() is True
    runner.close()
    other.close()


def test_new_connection_during_busy_script_can_kill_it(ember):
    # The usual rescue: a fresh redis-cli that connects after the script
    # went busy must be accepted, get -BUSY, and be able to SCRIPT KILL.
    runner, watcher = _slow_client(ember), ember.client()
    watcher.ping()
    t, result = _run_async(lambda: runner.eval("while true do end", 0))
    _wait_busy(watcher)
    with ember.raw() as late:  # connects only now
        assert late.call("PING").startswith(b"-BUSY Redis is busy running a script.")
        assert late.call("SCRIPT", "KILL") == b"+OK\r\n"
    t.join(10)
    assert "Script killed by user with SCRIPT KILL..." in str(result["error"])
    assert runner.ping() is True
    runner.close()
    watcher.close()


def test_busy_script_that_wrote_is_unkillable(start_ember):
    srv = start_ember()
    runner, other = _slow_client(srv), srv.client()
    other.ping()
    t, result = _run_async(lambda: runner.eval("redis.call('set', 'w', '1') while true do end", 0))
    _wait_busy(other)
    with pytest.raises(ResponseError, match="^UNKILLABLE Sorry the script already executed "
                                            "write commands against the dataset. You can either "
                                            "wait the script termination or kill the server in "
                                            "a hard way using the SHUTDOWN NOSAVE command.$"):
        other.script_kill()
    # The only way out is SHUTDOWN NOSAVE: the server stops, cleanly.
    try:
        other.execute_command("SHUTDOWN", "NOSAVE")
    except redis.exceptions.ConnectionError:
        pass
    t.join(15)
    assert not t.is_alive()
    assert srv.proc.wait(30) == 0  # exits by itself (slowly under Asan: leak check)
    runner.close()
    other.close()


def test_busy_function_and_function_kill(ember):
    runner, other = _slow_client(ember), ember.client()
    other.function_load("#!lua name=spin\nredis.register_function{function_name='spin', "
                        "callback=function() while true do end end, flags={'no-writes'}}",
                        replace=True)
    t, result = _run_async(lambda: runner.fcall("spin", 0))
    msg = _wait_busy(other)
    assert msg == "BUSY Redis is busy running a script. You can only call FUNCTION KILL or " \
                  "SHUTDOWN NOSAVE."
    stats = other.execute_command("FUNCTION", "STATS")
    running = stats[1]
    assert running[0] == "name" and running[1] == "spin"
    assert running[3] == ["FCALL", "spin", "0"]
    assert running[5] >= BUSY_MS
    with pytest.raises(ResponseError, match="You can only call FUNCTION KILL"):
        other.script_kill()
    assert other.execute_command("FUNCTION", "KILL") in (b"OK", "OK", True)
    t.join(10)
    assert "Script killed by user with SCRIPT KILL..." in str(result["error"])
    other.function_flush()
    runner.close()
    other.close()


def test_script_kill_when_idle(r):
    with pytest.raises(ResponseError, match="^NOTBUSY No scripts in execution right now."):
        r.script_kill()
    with pytest.raises(ResponseError, match="^NOTBUSY"):
        r.execute_command("FUNCTION", "KILL")


# ---------------------------------------------------------------------------
# Seeded random walk: redis.call()'s RESP -> Lua -> RESP round trip equals the
# command's own reply, RESP2 and RESP3, on ember and on redis-server alike.


def _random_bytes(rng):
    kind = rng.random()
    if kind < 0.3:
        return str(rng.randint(-10**18, 10**18)).encode()
    if kind < 0.4:
        return b""
    n = rng.randint(1, 40)
    return bytes(rng.randint(0, 255) for _ in range(n))


def _populate(rng, conn):
    cmds = []
    for i in range(40):
        k = f"k{i}".encode()
        t = rng.choice(["string", "list", "hash", "set", "zset"])
        if t == "string":
            cmds.append([b"SET", k, _random_bytes(rng)])
        elif t == "list":
            cmds.append([b"RPUSH", k] + [_random_bytes(rng) for _ in range(rng.randint(1, 6))])
        elif t == "hash":
            args = []
            for _ in range(rng.randint(1, 5)):
                args += [_random_bytes(rng) or b"f", _random_bytes(rng)]
            cmds.append([b"HSET", k] + args)
        elif t == "set":
            cmds.append([b"SADD", k] + [_random_bytes(rng) for _ in range(rng.randint(1, 6))])
        else:
            args = []
            for _ in range(rng.randint(1, 5)):
                args += [str(rng.choice([rng.randint(-100, 100), rng.random() * 1000])).encode(),
                         _random_bytes(rng)]
            cmds.append([b"ZADD", k] + args)
    for c in cmds:
        conn.send(encode_command(*c))
        conn.read_node(5.0)


def _random_command(rng):
    k = f"k{rng.randint(0, 45)}".encode()
    choices = [
        [b"GET", k], [b"LRANGE", k, b"0", b"-1"], [b"HGETALL", k], [b"ZRANGE", k, b"0", b"-1",
                                                                    b"WITHSCORES"],
        [b"SCARD", k], [b"MGET", k, b"k1", b"nokey"], [b"TYPE", k], [b"EXISTS", k, b"k2"],
        [b"INCR", k], [b"LPOP", k, b"2"], [b"HGET", k, b"f"], [b"ZSCORE", k, b"x"],
        [b"STRLEN", k], [b"ECHO", _random_bytes(rng)], [b"PING"], [b"HKEYS", k],
        [b"ZRANGEBYSCORE", k, b"-inf", b"+inf"], [b"LINDEX", k, b"0"], [b"OBJECT", b"ENCODING", k],
        [b"LLEN", k], [b"HLEN", k], [b"TTL", k], [b"SET", k, _random_bytes(rng)],
    ]
    return rng.choice(choices)


def _walk(srv, seed, steps=300):
    rng = random.Random(seed)
    out = []
    with srv.raw() as conn:
        _populate(rng, conn)
        for resp in (2, 3):
            if resp == 3:
                conn.send(encode_command(b"HELLO", b"3"))
                conn.read_node(5.0)
            for _ in range(steps):
                cmd = _random_command(rng)
                setresp = rng.choice([b"", b"redis.setresp(3) "])
                script = setresp + b"return redis.call(unpack(ARGV))"
                conn.send(encode_command(b"EVAL", script, b"0", *cmd))
                via_lua = conn.read_node(5.0)
                out.append((cmd, setresp, bytes(via_lua.raw)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_reply_conversion_matches_redis(ember, redis_ref, seed):
    ours = _walk(ember, seed)
    theirs = _walk(redis_ref, seed)
    assert len(ours) == len(theirs)
    for (cmd, setresp, a), (_, _, b) in zip(ours, theirs):
        assert a == b, f"{setresp!r} {cmd!r}: ember {a!r} redis {b!r}"


def test_random_reply_roundtrip_equals_direct_reply(ember):
    """Without a reference server: for replies Lua can represent exactly (no
    status/double/null-array shapes), EVAL's reply is the command's own."""
    rng = random.Random(7)
    with ember.raw() as conn:
        _populate(rng, conn)
        for _ in range(300):
            cmd = rng.choice([[b"LRANGE", f"k{rng.randint(0, 45)}".encode(), b"0", b"-1"],
                              [b"GET", f"k{rng.randint(0, 45)}".encode()],
                              [b"HGETALL", f"k{rng.randint(0, 45)}".encode()],
                              [b"SCARD", f"k{rng.randint(0, 45)}".encode()],
                              [b"ECHO", _random_bytes(rng)]])
            conn.send(encode_command(*cmd))
            direct = bytes(conn.read_node(5.0).raw)
            conn.send(encode_command(b"EVAL", b"return redis.call(unpack(ARGV))", b"0", *cmd))
            via = bytes(conn.read_node(5.0).raw)
            if direct.startswith(b"-"):
                assert via.startswith(direct[:-2]), (cmd, direct, via)
            else:
                assert via == direct, (cmd, direct, via)


# ---------------------------------------------------------------------------
# FUNCTION DUMP / RESTORE across servers: Redis LZF-compresses the code it
# can shrink, ember writes it plain; each restores the other's payload.


def test_function_dump_restore_across_servers(ember, redis_ref):
    ours, ref = ember.client(decode=False), redis_ref.client(decode=False)
    lib = "#!lua name=big\n" + "\n".join(
        f"redis.register_function('f{i}', function() return 'value number {i}' end)"
        for i in range(30))
    for c in (ours, ref):
        c.function_flush()
        c.function_load(lib)
    from_redis = ref.function_dump()
    from_ember = ours.function_dump()
    assert len(from_redis) < len(from_ember)  # Redis's is compressed
    ours.function_flush()
    assert ours.function_restore(from_redis) is True
    assert ours.fcall("f17", 0) == b"value number 17"
    ref.function_flush()
    assert ref.function_restore(from_ember) is True
    assert ref.fcall("f29", 0) == b"value number 29"
    with pytest.raises(ResponseError, match="Library big already exists"):
        ours.function_restore(from_redis)
    assert ours.function_restore(from_redis, "REPLACE") is True
    corrupt = from_ember[:-1] + bytes([from_ember[-1] ^ 1])
    with pytest.raises(ResponseError, match="payload version or checksum are wrong"):
        ours.function_restore(corrupt)
    ours.function_flush()
    ref.function_flush()
    ours.close()
    ref.close()
