"""Cluster mode on one node (issue 12): `cluster-enabled yes` makes ember a
cluster of one master owning slots 0-16383. redis-py's RedisCluster bootstraps
from CLUSTER SLOTS and runs the foundation walkthrough, a pipeline, SCAN and a
Lock; the CLUSTER replies have the shapes of a real redis-server 7.0 cluster
node (given all slots with CLUSTER ADDSLOTSRANGE 0 16383); keys in different
slots get -CROSSSLOT as in a real cluster; KEYSLOT equals redis's."""

import re
import time

import pytest
import redis
from redis.cluster import RedisCluster

from harness import HOST, SELFTEST, RawConn, free_port
from test_walkthrough import WALKTHROUGH_EXPECTED

CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"


def _wait_cluster_ok(port):
    r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    try:
        r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        deadline = time.time() + 10
        while "cluster_state:ok" not in r.execute_command("CLUSTER", "INFO"):
            assert time.time() < deadline, "redis cluster node never reached cluster_state:ok"
            time.sleep(0.05)
    finally:
        r.close()


def start_node(start):
    """A one-node cluster from a start_ember/start_redis factory. Redis needs a
    nodes.conf and its slots assigned; ember owns all slots from the start."""
    if start.__name__ == "start_redis_node" or SELFTEST:
        # redis-server refuses ports above 55535 (its bus is port + 10000).
        port = free_port()
        while port > 55535:
            port = free_port()
        srv = start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--port", port, "--bind", HOST, port=port)
        _wait_cluster_ok(srv.port)
        return srv
    return start("--cluster-enabled", "yes")


@pytest.fixture
def node(start_ember):
    return start_node(start_ember)


@pytest.fixture
def ref_node(start_redis):
    def start_redis_node(*args, port=None):
        return start_redis(*args, port=port)
    return start_node(start_redis_node)


@pytest.fixture
def rc(node):
    client = RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True)
    yield client
    client.close()


def raw(port, *args):
    """One command on a fresh connection, reply as parsed by the protocol layer
    (no redis-py response callbacks); errors come back as exceptions."""
    conn = redis.Connection(host="127.0.0.1", port=port, decode_responses=True)
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        conn.disconnect()


def raw_error(port, *args):
    try:
        raw(port, *args)
    except redis.ResponseError as e:
        return str(e)
    raise AssertionError(f"{args} did not fail")


# ---------------------------------------------------------------------------
# redis-py's RedisCluster


def test_walkthrough_through_redis_cluster(rc):
    out = [
        rc.set("key-name", "string"),
        rc.get("key-name"),
        rc.set("key_name", '[{"key_1": "val_1"}]'),
        rc.rpush("key-name2", "a", "b", "c"),
        rc.lrange("key-name2", 0, -1),
        rc.lrange("key-name2", 0, 1),
        rc.hset("h", mapping={"key_1": "val_1", "key_n": "val_n"}),
        rc.hget("h", "key_1"),
        rc.hgetall("h"),
        rc.expire("key_name", 3600),
        rc.ttl("key_name"),
    ]
    import json
    out.append(json.loads(rc.get("key_name")))
    assert out == WALKTHROUGH_EXPECTED


def test_cluster_sees_one_node_with_all_slots(rc, node):
    nodes = rc.get_nodes()
    assert [(n.host, n.port) for n in nodes] == [("127.0.0.1", node.port)]
    assert rc.get_node_from_key("anything").port == node.port
    assert rc.cluster_keyslot("foo{bar}") == 5061


def test_pipeline(rc):
    pipe = rc.pipeline()
    for i in range(20):
        pipe.set(f"k{i}", i)
    for i in range(20):
        pipe.incr(f"k{i}")
    for i in range(20):
        pipe.get(f"k{i}")
    got = pipe.execute()
    assert got[:20] == [True] * 20
    assert got[20:40] == list(range(1, 21))
    assert got[40:] == [str(i) for i in range(1, 21)]


def test_multi_key_commands_split_by_redis_cluster(rc):
    """RedisCluster splits multi-key calls over slots itself; on one node every
    slot is here, so the split calls all land and merge back."""
    pairs = {f"m{i}": str(i) for i in range(30)}
    assert rc.mset_nonatomic(pairs) == [True] * len({rc.keyslot(k) for k in pairs})
    assert rc.mget_nonatomic(list(pairs)) == list(pairs.values())
    assert rc.exists(*pairs) == 30
    assert rc.delete(*pairs) == 30
    assert rc.exists(*pairs) == 0


def test_scan_iteration(rc):
    keys = {f"scan:{i}" for i in range(300)}
    for k in keys:
        rc.set(k, "v")
    assert set(rc.scan_iter(match="scan:*", count=50)) == keys
    assert set(rc.scan_iter(match="scan:1?", count=7)) == {f"scan:{i}" for i in range(10, 20)}


def test_lock(rc, node):
    if not raw(node.port, "COMMAND", "INFO", "eval")[0]:
        pytest.skip("EVAL is not available: redis-py's Lock needs Lua")
    lock = rc.lock("resource", timeout=5, blocking_timeout=1)
    assert lock.acquire()
    assert rc.lock("resource", timeout=5, blocking_timeout=0.1).acquire() is False
    assert lock.extend(5)
    lock.release()
    assert rc.get("resource") is None


def test_hash_tags_keep_multi_key_commands_working(rc, node):
    r = redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True)
    try:
        assert r.mset({"{user1}:a": "1", "{user1}:b": "2"})
        assert r.mget("{user1}:a", "{user1}:b") == ["1", "2"]
        assert r.delete("{user1}:a", "{user1}:b") == 2
    finally:
        r.close()


# ---------------------------------------------------------------------------
# The rules of a cluster node


def _cluster_rules(port):
    r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    out = []
    try:
        for args in (("MSET", "a", "1", "b", "2"), ("MGET", "a", "b"), ("DEL", "a", "b", "c"),
                     ("RENAME", "a", "b"), ("SUNIONSTORE", "{x}d", "{x}a", "b"),
                     ("SELECT", "1"), ("SELECT", "0"), ("READONLY",), ("READWRITE",),
                     ("CLUSTER", "COUNTKEYSINSLOT", "-1"), ("CLUSTER", "COUNTKEYSINSLOT", "16384"),
                     ("CLUSTER", "GETKEYSINSLOT", "16384", "1"), ("CLUSTER", "GETKEYSINSLOT", "1", "-1"),
                     ("CLUSTER", "GETKEYSINSLOT", "x", "1"), ("CLUSTER", "GETKEYSINSLOT", "1", "0"),
                     ("CLUSTER", "KEYSLOT"), ("CLUSTER", "MYID", "x"), ("READONLY", "x"),
                     # Keys after a count (movable keys).
                     ("EVAL", "return 1", "2", "a", "b"), ("EVAL", "return 1", "2", "{a}1", "{a}2"),
                     ("EVAL", "return 1", "x", "a"), ("EVAL", "return 1", "5", "a"),
                     ("EVAL", "return 1", "0", "a", "b"), ("EVAL", "return 1", "1", "a", "b"),
                     ("FCALL", "nosuch", "2", "a", "b"),
                     ("ZUNIONSTORE", "d", "2", "{d}a", "{d}b"),
                     ("ZUNIONSTORE", "{d}x", "2", "{d}a", "{d}b"),
                     ("ZINTER", "2", "a", "b"), ("ZDIFF", "2", "{z}a", "{z}b"),
                     ("LMPOP", "2", "a", "b", "LEFT"), ("LMPOP", "2", "{l}a", "{l}b", "LEFT"),
                     ("SINTERCARD", "2", "{s}a", "{s}b"), ("SINTERCARD", "2", "a", "b"),
                     ("BLMPOP", "0.01", "2", "a", "b", "LEFT"), ("BZMPOP", "0.01", "2", "a", "b", "MIN"),
                     ("ZMPOP", "2", "a", "b", "MIN")):
            try:
                out.append(r.execute_command(*args))
            except redis.ResponseError as e:
                out.append(f"ERR: {e}")
        # A rejected command inside MULTI dooms the transaction.
        pipe = r.pipeline(transaction=True)
        pipe.set("{t}a", "1")
        pipe.mset({"a": "1", "b": "2"})
        try:
            out.append(pipe.execute())
        except redis.ResponseError as e:
            out.append(f"ERR: {e}")
        # Keys of one slot: counted and listed.
        for i in range(5):
            r.set(f"{{slot}}:{i}", i)
        slot = r.execute_command("CLUSTER", "KEYSLOT", "{slot}")
        out.append(r.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot))
        out.append(sorted(r.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)))
        out.append(len(r.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 2)))
        out.append(r.info("cluster"))
    finally:
        r.close()
    return out


def test_crossslot_and_errors(node):
    got = _cluster_rules(node.port)
    assert got[0] == f"ERR: {CROSSSLOT}"
    assert got[1] == f"ERR: {CROSSSLOT}"
    assert got[5] == "ERR: SELECT is not allowed in cluster mode"
    assert got[-1] == {"cluster_enabled": 1}
    assert got[-4] == 5


def test_rules_same_as_redis(node, ref_node):
    assert _cluster_rules(node.port) == _cluster_rules(ref_node.port)


# Transactions: each queued command is checked alone (a cross-slot one dooms
# the transaction: EXECABORT), and EXEC checks the queued commands together:
# keys of different slots make it reply -CROSSSLOT and discard the queue.
MULTI_SCRIPT = [
    ("MULTI",), ("SET", "a", "1"), ("SET", "b", "2"), ("EXEC",), ("GET", "a"),
    ("MULTI",), ("SET", "{x}a", "1"), ("SET", "{x}b", "2"), ("EXEC",), ("GET", "{x}a"),
    ("MULTI",), ("MSET", "a", "1", "b", "2"), ("SET", "c", "3"), ("EXEC",),
    ("MULTI",), ("PING",), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("GET", "a"), ("DEL", "b"), ("EXEC",), ("GET", "a"),
    ("MULTI",), ("SET", "a", "1"), ("EVAL", "return 1", "1", "b"), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("EVAL", "return 1", "1", "a"), ("INCR", "a"), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("PING",), ("ZUNIONSTORE", "a", "1", "a"), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("OBJECT", "ENCODING", "b"), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("SET", "b", "1"), ("DISCARD",),
    ("MULTI",), ("GET", "{x}a"), ("EXEC",),
    ("WATCH", "a"), ("MULTI",), ("SET", "a", "1"), ("SET", "b", "1"), ("EXEC",),
    ("MULTI",), ("SET", "a", "1"), ("NOSUCH",), ("SET", "b", "1"), ("EXEC",),
    ("EXEC",),
]


# Keys found by key specs: two-key commands, counted keys, keyed subcommands.
CROSSSLOT_SCRIPT = [
    ("SMOVE", "a", "b", "m"), ("SMOVE", "{s}a", "{s}b", "m"), ("LMOVE", "a", "b", "LEFT", "LEFT"),
    ("COPY", "a", "b"), ("ZRANGESTORE", "a", "b", "0", "1"), ("SINTERSTORE", "d", "{d}a"),
    ("SINTERSTORE", "{d}x", "{d}a", "{d}b"), ("RENAMENX", "a", "b"), ("MSETNX", "a", "1", "b", "2"),
    ("BLMOVE", "a", "b", "LEFT", "LEFT", "0.01"), ("BRPOPLPUSH", "a", "b", "0.01"),
    ("BLPOP", "a", "b", "0.01"), ("BZPOPMIN", "{z}a", "{z}b", "0.01"), ("WATCH", "a", "b"),
    ("OBJECT", "ENCODING", "a"), ("MEMORY", "USAGE", "a"), ("EXISTS", "a", "b"), ("TOUCH", "a"),
    ("UNLINK", "a", "b"), ("SUNION", "a", "b"), ("ZUNION", "2", "a", "b"), ("LCS", "a", "b"),
    ("SINTERCARD", "1", "a"), ("ZINTERCARD", "2", "{z}a", "{z}b"),
    ("EVAL_RO", "return 1", "2", "a", "b"), ("EVALSHA", "x" * 40, "2", "a", "b"),
    ("FCALL_RO", "f", "2", "a", "b"), ("SPUBLISH", "a", "m"), ("PUBLISH", "a", "m"),
]


def _crossslot_replies(port):
    with RawConn(port) as c:
        return [c.call(*args) for args in CROSSSLOT_SCRIPT]


def test_crossslot_commands_same_as_redis(node, ref_node):
    assert _crossslot_replies(node.port) == _crossslot_replies(ref_node.port)


def _multi_replies(port):
    with RawConn(port) as c:
        return [c.call(*args) for args in MULTI_SCRIPT]


def test_multi_crossslot_same_as_redis(node, ref_node):
    ours, theirs = _multi_replies(node.port), _multi_replies(ref_node.port)
    assert ours == theirs
    assert ours[3] == b"-" + CROSSSLOT.encode() + b"\r\n" and ours[4] == b"$-1\r\n"
    assert ours[8] == b"*2\r\n+OK\r\n+OK\r\n"


def test_multi_crossslot_through_redis_py(node):
    r = redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True)
    try:
        pipe = r.pipeline(transaction=True)
        pipe.set("{user1}:a", "1").incr("{user1}:n").get("{user1}:a")
        assert pipe.execute() == [True, 1, "1"]
        pipe = r.pipeline(transaction=True)
        pipe.set("x", "1").set("y", "2")
        with pytest.raises(redis.ResponseError, match="^" + CROSSSLOT):
            pipe.execute()
        assert r.get("x") is None and r.get("y") is None
    finally:
        r.close()


KEYS = ["", "a", "foo", "foo{bar}", "{bar}zap", "{}x", "{a}}", "a{}{b}", "{", "}", "{{a}}",
        "user:{1000}:name", "x" * 300, "\u00e9t\u00e9", "123456789"]


def test_keyslot_same_as_redis(node, ref_node):
    for k in KEYS:
        assert raw(node.port, "CLUSTER", "KEYSLOT", k) == raw(ref_node.port, "CLUSTER", "KEYSLOT", k), k
    assert raw(node.port, "CLUSTER", "KEYSLOT", "123456789") == 0x31C3 & 16383


# ---------------------------------------------------------------------------
# Reply shapes against a real redis-server cluster node


def _normalize(v, port, myid):
    """Node id, ip and ports differ between the two servers: mask them."""
    if isinstance(v, list):
        return [_normalize(x, port, myid) for x in v]
    if v == myid:
        return "<id>"
    if v == port:
        return "<port>"
    if v in ("", "127.0.0.1"):
        return "<ip>"
    return v


def _shapes(port):
    myid = raw(port, "CLUSTER", "MYID")
    assert re.fullmatch(r"[0-9a-f]{40}", myid)
    nodes = raw(port, "CLUSTER", "NODES")
    nodes = nodes.replace(myid, "<id>").replace(f"127.0.0.1:{port}@", f":{port}@")
    nodes = nodes.replace(f":{port}@{port + 10000}", ":<port>@<cport>")
    return {
        "slots": _normalize(raw(port, "CLUSTER", "SLOTS"), port, myid),
        "shards": _normalize(raw(port, "CLUSTER", "SHARDS"), port, myid),
        "nodes": nodes,
        "info": raw(port, "CLUSTER", "INFO"),
    }


def test_shapes_same_as_redis(node, ref_node):
    ours, theirs = _shapes(node.port), _shapes(ref_node.port)
    assert ours == theirs
    assert ours["nodes"] == "<id> :<port>@<cport> myself,master - 0 0 0 connected 0-16383\n"


@pytest.mark.skipif(SELFTEST, reason="redis reports an empty ip until it has met a peer")
def test_slots_report_the_address_connected_to(node):
    """Unlike a lone redis node (empty ip until it meets a peer), ember names
    the address the client reached it on, so clients dial the same one back."""
    slots = raw(node.port, "CLUSTER", "SLOTS")
    assert slots[0][:2] == [0, 16383]
    assert slots[0][2][:2] == ["127.0.0.1", node.port]
    assert f" 127.0.0.1:{node.port}@{node.port + 10000} " in raw(node.port, "CLUSTER", "NODES")


def test_hello_reports_cluster_mode(node):
    hello = raw(node.port, "HELLO", "2")
    assert hello[hello.index("mode") + 1] == "cluster"


# ---------------------------------------------------------------------------
# Cluster mode disabled (the default)


DISABLED = "This instance has cluster support disabled"


def test_disabled_by_default(r):
    assert r.info("cluster") == {"cluster_enabled": 0}
    for args in (("CLUSTER", "INFO"), ("CLUSTER", "SLOTS"), ("CLUSTER", "KEYSLOT", "x"),
                 ("READONLY",), ("READWRITE",)):
        with pytest.raises(redis.ResponseError, match=DISABLED):
            r.execute_command(*args)
    assert r.mset({"a": "1", "b": "2"})
    assert r.select(1)
    assert r.config_get("cluster-enabled") == {"cluster-enabled": "no"}


def test_disabled_same_as_redis(r, redis_ref):
    ref = redis_ref.client(decode=True)
    try:
        for args in (("CLUSTER", "INFO"), ("CLUSTER", "NODES"), ("READONLY",), ("READWRITE",)):
            errs = []
            for client in (r, ref):
                with pytest.raises(redis.ResponseError) as e:
                    client.execute_command(*args)
                errs.append(str(e.value))
            assert errs[0] == errs[1]
    finally:
        ref.close()


# The cluster-* directives of Redis 7.0, each away from its default: accepted
# in the config file, reported by CONFIG GET as redis-server reports them,
# settable where Redis allows it, and without effect on one node.
CLUSTER_DIRECTIVES = """
cluster-enabled yes
cluster-config-file nodes-test.conf
cluster-node-timeout 5000
cluster-port 0
cluster-announce-ip 10.0.0.7
cluster-announce-port 7000
cluster-announce-bus-port 17000
cluster-announce-tls-port 0
cluster-announce-hostname node-a.example
cluster-preferred-endpoint-type hostname
cluster-require-full-coverage no
cluster-allow-reads-when-down yes
cluster-allow-pubsubshard-when-down no
cluster-replica-validity-factor 3
cluster-migration-barrier 2
cluster-allow-replica-migration no
cluster-replica-no-failover yes
cluster-link-sendbuf-limit 1mb
"""


def test_cluster_directives_same_as_redis(start_ember, start_redis, tmp_path):
    conf = tmp_path / "cluster.conf"
    conf.write_text(CLUSTER_DIRECTIVES)
    port = free_port()
    while port > 55535:  # redis's cluster bus is port + 10000
        port = free_port()
    ref = start_redis(str(conf), "--port", port, "--bind", HOST, port=port)
    ours = start_ember(str(conf))
    got = []
    for srv in (ours, ref):
        r = redis.Redis(host="127.0.0.1", port=srv.port, decode_responses=True)
        try:
            cfg = r.config_get("cluster*")
            r.config_set("cluster-node-timeout", "7000")
            r.config_set("cluster-allow-reads-when-down", "no")
            cfg2 = r.config_get("cluster-node-timeout cluster-allow-reads-when-down")
            try:
                r.config_set("cluster-port", "1234")
            except redis.ResponseError as e:
                immutable = str(e)
            got.append((cfg, cfg2, immutable))
        finally:
            r.close()
    assert got[0] == got[1]
    assert got[0][0]["cluster-announce-hostname"] == "node-a.example"
    assert got[0][0]["cluster-link-sendbuf-limit"] == "1048576"
    assert len(got[0][0]) == 20
    # The node still owns every slot and serves commands (a lone redis node
    # owns none until CLUSTER ADDSLOTS).
    if not SELFTEST:
        assert raw(ours.port, "CLUSTER", "INFO").startswith("cluster_state:ok")
        assert raw(ours.port, "SET", "k", "v") == "OK"


def test_cluster_enabled_is_immutable(node):
    r = redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True)
    try:
        assert r.config_get("cluster-enabled") == {"cluster-enabled": "yes"}
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            r.config_set("cluster-enabled", "no")
    finally:
        r.close()


# ---------------------------------------------------------------------------
# ioredis's Cluster (npm installs ioredis@5 into a temporary directory, as
# test_scripting_ioredis.py does; skipped only without node and npm)


IOREDIS_SCRIPT = r"""
const Redis = require("ioredis");
const c = new Redis.Cluster([{ host: "127.0.0.1", port: Number(process.argv[2]) }]);
(async () => {
  const out = [];
  out.push(await c.set("key-name", "string"), await c.get("key-name"));
  out.push(await c.rpush("key-name2", "a", "b", "c"), await c.lrange("key-name2", 0, -1));
  out.push(await c.hset("h", { key_1: "val_1", key_n: "val_n" }), await c.hgetall("h"));
  out.push(await c.expire("key-name", 3600), await c.ttl("key-name"));
  try { await c.mset("a", 1, "b", 2); } catch (e) { out.push(e.message); }
  out.push(c.nodes("master").length);
  // A pipeline over one slot, a transaction over one slot, and one over two.
  out.push(await c.pipeline().set("{p}1", "x").incr("{p}n").get("{p}1").exec());
  out.push(await c.multi().set("{t}a", "1").incr("{t}n").exec());
  try { await c.multi().set("{t}a", "1").set("{u}b", "2").exec(); }
  catch (e) { out.push(e.message); }
  // SCAN through the one master's stream.
  for (let i = 0; i < 30; i++) await c.set(`scan:${i}`, i);
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const s = c.nodes("master")[0].scanStream({ match: "scan:*", count: 7 });
    s.on("data", (keys) => keys.forEach((k) => seen.add(k)));
    s.on("end", resolve);
    s.on("error", reject);
  });
  out.push(seen.size);
  console.log(JSON.stringify(out));
  c.disconnect();
})().catch(e => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def ioredis_dir(tmp_path_factory):
    import shutil
    import subprocess
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node or npm is not installed: the ioredis test needs both")
    d = tmp_path_factory.mktemp("ioredis-cluster")
    try:
        res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "ioredis@5"], cwd=d,
                             capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install ioredis timed out")
    if res.returncode != 0:
        pytest.skip(f"npm install ioredis failed (exit {res.returncode}): {res.stderr.strip()[-300:]}")
    (d / "prog.js").write_text(IOREDIS_SCRIPT)
    return d


@pytest.mark.skipif(SELFTEST, reason="a lone redis node reports an empty ip in CLUSTER SLOTS "
                    "until it meets a peer, and ioredis cannot dial that")
def test_ioredis_cluster_connects(node, ioredis_dir):
    import json
    import subprocess
    res = subprocess.run(["node", "prog.js", str(node.port)], cwd=ioredis_dir, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [
        "OK", "string", 3, ["a", "b", "c"], 2, {"key_1": "val_1", "key_n": "val_n"}, 1, 3600,
        CROSSSLOT, 1,
        [[None, "OK"], [None, 1], [None, "x"]],
        [[None, "OK"], [None, 1]],
        CROSSSLOT,
        30]
