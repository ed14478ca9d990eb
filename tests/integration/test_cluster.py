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

from harness import HOST, SELFTEST, free_port
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


def test_cluster_enabled_is_immutable(node):
    r = redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True)
    try:
        assert r.config_get("cluster-enabled") == {"cluster-enabled": "yes"}
        with pytest.raises(redis.ResponseError, match="can't set immutable config"):
            r.config_set("cluster-enabled", "no")
    finally:
        r.close()


# ---------------------------------------------------------------------------
# ioredis's Cluster (optional: needs node and ioredis, e.g.
# `npm install ioredis` in a directory named by NODE_PATH=<dir>/node_modules)


IOREDIS_SCRIPT = r"""
const Redis = require("ioredis");
const c = new Redis.Cluster([{ host: "127.0.0.1", port: Number(process.argv[1]) }]);
(async () => {
  const out = [];
  out.push(await c.set("key-name", "string"), await c.get("key-name"));
  out.push(await c.rpush("key-name2", "a", "b", "c"), await c.lrange("key-name2", 0, -1));
  out.push(await c.hset("h", { key_1: "val_1", key_n: "val_n" }), await c.hgetall("h"));
  out.push(await c.expire("key-name", 3600), await c.ttl("key-name"));
  try { await c.mset("a", 1, "b", 2); } catch (e) { out.push(e.message); }
  out.push(c.nodes("master").length);
  console.log(JSON.stringify(out));
  c.disconnect();
})().catch(e => { console.error(e); process.exit(1); });
"""


def test_ioredis_cluster_connects(node):
    import shutil
    import subprocess
    nodejs = shutil.which("node")
    if nodejs is None or subprocess.run([nodejs, "-e", "require('ioredis')"],
                                        capture_output=True).returncode != 0:
        pytest.skip("node with ioredis is not available (set NODE_PATH)")
    res = subprocess.run([nodejs, "-e", IOREDIS_SCRIPT, str(node.port)], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    import json
    assert json.loads(res.stdout) == [
        "OK", "string", 3, ["a", "b", "c"], 2, {"key_1": "val_1", "key_n": "val_n"}, 1, 3600,
        CROSSSLOT, 1]
