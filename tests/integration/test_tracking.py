"""CLIENT TRACKING: server-assisted client-side caching (issue 7).

Each scenario runs on raw sockets against ember and against the reference
redis-server and must produce the same bytes (client ids, which differ between
the servers, are kept out of the transcripts). "No message arrived" is shown
without sleeping: the tracking connection sends PING after the write finished,
and any invalidation caused by that write would be queued before the PONG.
redis-py covers the RESP2 path: invalidations redirected to a connection
subscribed to __redis__:invalidate, read with get_message()."""

import time

import pytest
import redis

from harness import RawConn

INVALIDATE_CHANNEL = "__redis__:invalidate"


def push(*keys):
    out = b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys)
    for k in keys:
        k = k.encode()
        out += b"$%d\r\n%s\r\n" % (len(k), k)
    return out


NULL_PUSH = b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def conn3(port):
    c = RawConn(port)
    c.send_command("HELLO", "3")
    c.read_reply()
    return c


def ping(c):
    """The next frames up to and including PONG (anything queued before it)."""
    c.send_command("PING")
    got = []
    while True:
        rep = c.read_reply()
        got.append(rep)
        if rep == b"+PONG\r\n":
            return got


def both(ember, redis_ref, scenario):
    ours = scenario(ember.port)
    theirs = scenario(redis_ref.port)
    assert ours == theirs
    return ours


# ---- RESP3, default mode ----


def scenario_basic(port):
    a, b = conn3(port), RawConn(port)
    out = [a.call("CLIENT", "TRACKING", "on"), a.call("GET", "k"), a.call("MGET", "k", "k2")]
    out.append(b.call("SET", "k", "1"))
    out += ping(a)
    # The entry is gone once sent: a second write says nothing until k is read again.
    out.append(b.call("SET", "k", "2"))
    out += ping(a)
    out.append(a.call("GET", "k"))
    out.append(b.call("DEL", "k", "k2"))
    out += ping(a)
    # Writes to keys never read say nothing.
    out.append(b.call("SET", "other", "x"))
    out += ping(a)
    return out


def test_invalidation_after_other_clients_write(ember, redis_ref):
    out = both(ember, redis_ref, scenario_basic)
    assert out[4] == push("k") and out[5] == b"+PONG\r\n"
    assert out[7] == b"+PONG\r\n"  # second SET: not tracked any more
    assert push("k") in out[10:12]


def scenario_self(port):
    a = conn3(port)
    out = [a.call("CLIENT", "TRACKING", "on"), a.call("GET", "k")]
    a.send_command("SET", "k", "v")  # the reply comes first, then the push
    out += [a.read_reply(), a.read_reply()]
    out.append(a.call("GET", "k"))
    out += [a.call("MULTI"), a.call("SET", "k", "w"), a.call("GET", "k")]
    a.send_command("EXEC")  # after the whole EXEC reply
    out += [a.read_reply(), a.read_reply()]
    out += ping(a)
    return out


def test_own_write_push_follows_the_reply(ember, redis_ref):
    out = both(ember, redis_ref, scenario_self)
    assert out[2] == b"+OK\r\n" and out[3] == push("k")
    assert out[8].startswith(b"*2\r\n+OK\r\n") and out[9] == push("k")


def scenario_flush(port):
    a, b = conn3(port), RawConn(port)
    out = [a.call("CLIENT", "TRACKING", "on"), a.call("GET", "k")]
    out.append(b.call("FLUSHALL"))  # one null push, not one per db
    out += ping(a)
    out.append(b.call("FLUSHDB"))
    out += ping(a)
    out.append(b.call("SWAPDB", "0", "1"))  # empties nothing: no message
    out += ping(a)
    a.send_command("FLUSHALL")
    out += [a.read_reply(), a.read_reply()]
    # Each FLUSHALL of a transaction sends its own, after EXEC's reply.
    out += [a.call("MULTI"), a.call("FLUSHALL"), a.call("FLUSHDB")]
    a.send_command("EXEC")
    out += [a.read_reply(), a.read_reply(), a.read_reply()]
    out += ping(a)
    return out


def test_flush_sends_one_null_invalidation(ember, redis_ref):
    out = both(ember, redis_ref, scenario_flush)
    assert out[3:5] == [NULL_PUSH, b"+PONG\r\n"]
    assert out[6:8] == [NULL_PUSH, b"+PONG\r\n"]
    assert out[-4:] == [b"*2\r\n+OK\r\n+OK\r\n", NULL_PUSH, NULL_PUSH, b"+PONG\r\n"]


def scenario_noloop(port):
    a, b = conn3(port), RawConn(port)
    out = [a.call("CLIENT", "TRACKING", "on", "NOLOOP"), a.call("GET", "k"), a.call("SET", "k", "1")]
    out += ping(a)
    out.append(a.call("GET", "k"))
    out.append(b.call("SET", "k", "2"))
    out += ping(a)
    return out


def test_noloop(ember, redis_ref):
    out = both(ember, redis_ref, scenario_noloop)
    assert out[3] == b"+PONG\r\n"
    assert out[6] == push("k")


def scenario_optin_optout(port):
    a, b = conn3(port), RawConn(port)
    out = [a.call("CLIENT", "TRACKING", "on", "OPTIN"), a.call("GET", "plain")]
    out += [a.call("CLIENT", "CACHING", "yes"), a.call("CLIENT", "TRACKINGINFO"), a.call("GET", "cached")]
    out.append(a.call("CLIENT", "TRACKINGINFO"))  # caching-yes lasted one command
    out += [b.call("SET", "plain", "1"), b.call("SET", "cached", "1")]
    out += ping(a)
    out += [a.call("CLIENT", "TRACKING", "off"), a.call("CLIENT", "TRACKING", "on", "OPTOUT")]
    out += [a.call("GET", "x"), a.call("CLIENT", "CACHING", "no"), a.call("GET", "y")]
    out += [b.call("SET", "x", "1"), b.call("SET", "y", "1")]
    out += ping(a)
    # CLIENT CACHING inside MULTI covers the whole transaction.
    out += [a.call("MULTI"), a.call("CLIENT", "CACHING", "no"), a.call("GET", "m1"),
            a.call("GET", "m2"), a.call("EXEC")]
    out += [b.call("SET", "m1", "1"), b.call("SET", "m2", "1")]
    out += ping(a)
    return out


def test_optin_optout(ember, redis_ref):
    out = both(ember, redis_ref, scenario_optin_optout)
    assert push("cached") in out and push("plain") not in out
    assert push("x") in out and push("y") not in out
    assert push("m1") not in out and push("m2") not in out


def scenario_bcast(port):
    a, b = conn3(port), RawConn(port)
    out = [a.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a")]
    out.append(a.call("CLIENT", "TRACKINGINFO"))
    # One command changing several keys: one message per prefix, keys sorted.
    out.append(b.call("MSET", "b2", "1", "a1", "2", "b1", "3", "c", "4"))
    out += ping(a)
    # A pipeline runs in one loop iteration: its changes come batched, each key once.
    b.send(b"".join(b"*3\r\n$3\r\nSET\r\n$2\r\n%s\r\n$1\r\n1\r\n" % k for k in (b"a9", b"a0", b"a9")))
    b.read_replies(3)
    out += ping(a)
    out.append(b.call("SET", "zz", "1"))
    out += ping(a)
    out.append(a.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"))
    out.append(a.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c"))
    out.append(a.call("CLIENT", "TRACKINGINFO"))
    out.append(a.call("CLIENT", "TRACKING", "off"))
    out.append(a.call("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"))
    out.append(a.call("SET", "mine", "1"))
    out.append(b.call("SET", "theirs", "1"))
    out += ping(a)
    return out


def test_bcast_prefixes(ember, redis_ref):
    out = both(ember, redis_ref, scenario_bcast)
    assert out[3:6] == [push("a1"), push("b1", "b2"), b"+PONG\r\n"]
    assert push("a0", "a9") in out
    assert out[-2:] == [push("theirs"), b"+PONG\r\n"]


def scenario_errors(port):
    a = conn3(port)
    out = []
    for args in [("maybe",), ("on", "foo"), ("on", "prefix"), ("on", "PREFIX", "x"),
                 ("on", "OPTIN", "OPTOUT"), ("on", "BCAST", "OPTIN"), ("on", "BCAST", "OPTOUT"),
                 ("on", "REDIRECT", "999999"), ("on", "REDIRECT", "x"),
                 ("on", "BCAST", "PREFIX", "x", "PREFIX", "xy"),
                 ("on", "BCAST", "PREFIX", "ab", "PREFIX", "a")]:
        out.append(a.call("CLIENT", "TRACKING", *args))
    out.append(a.call("CLIENT", "TRACKING"))
    out.append(a.call("CLIENT", "CACHING", "yes"))
    out.append(a.call("CLIENT", "CACHING", "yes", "no"))
    out.append(a.call("CLIENT", "TRACKING", "on"))
    out += [a.call("CLIENT", "CACHING", "yes"), a.call("CLIENT", "CACHING", "no"),
            a.call("CLIENT", "CACHING", "maybe")]
    out.append(a.call("CLIENT", "TRACKING", "on", "BCAST"))
    out.append(a.call("CLIENT", "TRACKING", "on", "OPTIN"))
    out.append(a.call("CLIENT", "TRACKING", "on", "OPTOUT"))
    out.append(a.call("CLIENT", "TRACKING", "on", "OPTIN"))
    out += [a.call("CLIENT", "GETREDIR"), a.call("CLIENT", "TRACKINGINFO")]
    out.append(a.call("CLIENT", "TRACKING", "off"))
    out += [a.call("CLIENT", "GETREDIR"), a.call("CLIENT", "TRACKINGINFO")]
    a.call("HELLO", "2")  # its reply holds the client id: not compared
    out.append(a.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p"))
    out.append(a.call("CLIENT", "TRACKINGINFO"))
    out.append(a.call("RESET"))
    out.append(a.call("CLIENT", "TRACKINGINFO"))
    return out


def test_errors_and_info_match_redis(ember, redis_ref):
    out = both(ember, redis_ref, scenario_errors)
    assert out[0] == b"-ERR syntax error\r\n"


def test_client_ids_in_replies(ember):
    a, t = conn3(ember.port), RawConn(ember.port)
    tid = int(t.call("CLIENT", "ID")[1:-2])
    assert a.call("CLIENT", "TRACKING", "on", "REDIRECT", str(tid)) == b"+OK\r\n"
    assert a.call("CLIENT", "GETREDIR") == b":%d\r\n" % tid
    assert b"redirect\r\n:%d\r\n" % tid in a.call("CLIENT", "TRACKINGINFO")
    assert a.call("CLIENT", "TRACKING", "on", "REDIRECT", str(tid), "REDIRECT", str(tid)) == (
        b"-ERR A client can only redirect to a single other client\r\n")


# ---- Redirection ----


def pubsub_client_id(p):
    """The id of a redis-py PubSub's connection (RESP2 subscribed mode allows
    only a few commands, so ask before subscribing would be simpler, but the
    connection is made by subscribe): CLIENT LIST names it by its channel."""
    ids = [c["id"] for c in redis.Redis(connection_pool=p.connection_pool).client_list()
           if int(c["sub"]) > 0]
    assert len(ids) == 1
    return int(ids[0])


def test_resp2_redirect_with_redis_py(ember):
    sub_conn = ember.client(decode=True)
    p = sub_conn.pubsub()
    p.subscribe(INVALIDATE_CHANNEL)
    assert p.get_message(timeout=5)["type"] == "subscribe"
    sub_id = pubsub_client_id(p)

    r = ember.client(decode=True, single_connection_client=True)
    assert r.execute_command("CLIENT", "TRACKING", "on", "REDIRECT", sub_id) == "OK"
    assert r.execute_command("CLIENT", "GETREDIR") == sub_id
    r.set("k", "v")
    r.get("k")
    writer = ember.client(decode=True)
    writer.set("k", "w")
    msg = p.get_message(timeout=5)
    assert msg == {"type": "message", "pattern": None, "channel": INVALIDATE_CHANNEL,
                   "data": ["k"]}
    r.get("k")
    writer.flushall()
    msg = p.get_message(timeout=5)
    assert msg["channel"] == INVALIDATE_CHANNEL and msg["data"] is None
    info = writer.info("clients")
    assert info["tracking_clients"] == 1
    for c in (r, writer, sub_conn):
        c.close()
    p.close()


def scenario_redirect_raw(port):
    """RESP2 tracking client, RESP2 subscriber; and a RESP3 redirection target,
    which gets pushes without subscribing."""
    a, sub, b, r3 = RawConn(port), RawConn(port), RawConn(port), conn3(port)
    sub_id = sub.call("CLIENT", "ID")[1:-2]
    r3_id = r3.call("CLIENT", "ID")[1:-2]
    out = [sub.call("SUBSCRIBE", INVALIDATE_CHANNEL)]
    out += [a.call("CLIENT", "TRACKING", "on", "REDIRECT", sub_id), a.call("GET", "k"),
            a.call("GET", "k2")]
    out.append(b.call("SET", "k", "1"))
    out.append(sub.read_reply())
    out.append(b.call("FLUSHALL"))
    out.append(sub.read_reply())
    out += [a.call("CLIENT", "TRACKING", "on", "REDIRECT", r3_id), a.call("GET", "k")]
    out.append(b.call("SET", "k", "1"))
    out += ping(r3)
    # Tracking without a redirection in RESP2: nowhere to send, nothing sent.
    out += [a.call("CLIENT", "TRACKING", "on"), a.call("GET", "k"), b.call("SET", "k", "2")]
    out += ping(a)
    return out


def test_redirect_targets(ember, redis_ref):
    out = both(ember, redis_ref, scenario_redirect_raw)
    assert out[5] == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n")
    assert out[7] == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"


def scenario_broken_redirect(port):
    a, gone = conn3(port), RawConn(port)
    gid = gone.call("CLIENT", "ID")[1:-2]
    out = [a.call("CLIENT", "TRACKING", "on", "REDIRECT", gid), a.call("GET", "k")]
    gone.close()
    b = RawConn(port)
    # Wait until the server has noticed the disconnection.
    deadline = time.monotonic() + 5
    while b"id=" + gid + b" " in b.call("CLIENT", "LIST"):
        assert time.monotonic() < deadline
    out.append(b.call("SET", "k", "1"))
    node = a.read_node()
    out.append((node.kind, node.value[0].value, len(node.value)))
    info = a.call("CLIENT", "TRACKINGINFO")
    out.append(b"broken_redirect" in info)
    return out


def test_broken_redirect(ember, redis_ref):
    out = both(ember, redis_ref, scenario_broken_redirect)
    assert out[3] == (">", b"tracking-redir-broken", 2)
    assert out[4] is True


# ---- Keys changed by the server itself ----


def test_expiry_invalidates(ember):
    a, b = conn3(ember.port), RawConn(ember.port)
    assert b.call("SET", "k", "v", "PX", "50") == b"+OK\r\n"
    assert a.call("CLIENT", "TRACKING", "on") == b"+OK\r\n"
    a.call("GET", "k")
    # The active expire cycle deletes it (nobody reads it): the push arrives alone.
    assert a.read_reply(timeout=5) == push("k")


def test_eviction_invalidates(ember):
    a, b = conn3(ember.port), RawConn(ember.port)
    assert b.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == b"+OK\r\n"
    b.call("SET", "victim", "x" * 1000)
    assert a.call("CLIENT", "TRACKING", "on") == b"+OK\r\n"
    a.call("GET", "victim")
    try:
        b.call("CONFIG", "SET", "maxmemory", "1")
        b.call("SET", "other", "y")  # makes room: every key goes
        assert a.read_reply(timeout=5) == push("victim")
    finally:
        b.call("CONFIG", "SET", "maxmemory", "0")
        b.call("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_pushes_get_through_client_reply_off(ember, redis_ref):
    def scenario(port):
        a, b = conn3(port), RawConn(port)
        out = [a.call("CLIENT", "TRACKING", "on"), a.call("GET", "k")]
        a.send_command("CLIENT", "REPLY", "OFF")
        a.send_command("CLIENT", "REPLY", "ON")  # answered +OK: REPLY OFF is in effect before it
        out.append(a.read_reply())
        a.send_command("GET", "k")
        a.send_command("CLIENT", "REPLY", "SKIP")
        a.send_command("PING")  # skipped
        out.append(a.read_reply())  # GET's reply
        out.append(b.call("SET", "k", "1"))
        out.append(a.read_reply())
        a.send_command("CLIENT", "REPLY", "OFF")
        out.append(b.call("SET", "k", "2"))  # k is not tracked any more: nothing
        a.send_command("GET", "k")  # nothing comes back; wait until it is tracked
        deadline = time.monotonic() + 5
        while info_field(b, "stats", "tracking_total_keys") != 1:
            assert time.monotonic() < deadline
        b.call("SET", "k", "3")
        out.append(a.read_reply())  # the push arrives while replies are off
        out.append(a.call("CLIENT", "REPLY", "ON"))
        return out

    out = both(ember, redis_ref, scenario)
    assert out[-2:] == [push("k"), b"+OK\r\n"]


def test_keys_found_by_key_specs(ember, redis_ref):
    """Commands whose keys follow a count (ZUNION, SINTERCARD, ZINTERCARD) are
    tracked through Redis's key specs; their other arguments are not keys."""

    def scenario(port):
        a, b = conn3(port), RawConn(port)
        out = [a.call("CLIENT", "TRACKING", "on"),
               a.call("ZUNION", "2", "z1", "z2"),
               a.call("SINTERCARD", "2", "s1", "s2", "LIMIT", "1"),
               a.call("ZINTERCARD", "1", "z3"),
               a.call("LCS", "x1", "x2")]
        for k in ("z2", "s1", "z3", "x2", "2", "LIMIT"):
            out.append(b.call("SET", k, "1"))
            out += ping(a)
        return out

    out = both(ember, redis_ref, scenario)
    for k in ("z2", "s1", "z3", "x2"):
        assert push(k) in out
    assert push("2") not in out and push("LIMIT") not in out


def test_script_reads_are_tracked(ember, redis_ref):
    def scenario(port):
        a, b = conn3(port), RawConn(port)
        out = [a.call("CLIENT", "TRACKING", "on"),
               a.call("EVAL", "return redis.call('get', KEYS[1])", "1", "sk")]
        out.append(b.call("SET", "sk", "1"))
        out += ping(a)
        return out

    out = both(ember, redis_ref, scenario)
    assert push("sk") in out


# ---- Bookkeeping ----


def info_field(conn, section, name):
    text = conn.call("INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(name + ":"):
            return int(line.split(":")[1])
    raise AssertionError(f"{name} not in INFO {section}")


def test_info_counts_and_disconnect_frees_state(ember):
    b = RawConn(ember.port)
    a, p = conn3(ember.port), conn3(ember.port)
    a.call("CLIENT", "TRACKING", "on")
    a.call("MGET", "x", "y", "z")
    p.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "u", "PREFIX", "v")
    assert info_field(b, "clients", "tracking_clients") == 2
    assert info_field(b, "stats", "tracking_total_keys") == 3
    assert info_field(b, "stats", "tracking_total_items") == 3
    assert info_field(b, "stats", "tracking_total_prefixes") == 2
    a.close()
    p.close()
    deadline = time.monotonic() + 5
    while info_field(b, "clients", "tracking_clients") != 0:
        assert time.monotonic() < deadline, "tracking state not released on disconnect"
    assert info_field(b, "stats", "tracking_total_prefixes") == 0
    # The table entries of a departed client go on the next write of each key.
    b.call("MSET", "x", "1", "y", "1", "z", "1")
    assert info_field(b, "stats", "tracking_total_keys") == 0
    assert info_field(b, "stats", "tracking_total_items") == 0


def test_reset_turns_tracking_off(ember):
    a, b = conn3(ember.port), RawConn(ember.port)
    a.call("CLIENT", "TRACKING", "on")
    a.call("GET", "k")
    assert a.call("RESET") == b"+RESET\r\n"
    a.call("HELLO", "3")
    b.call("SET", "k", "1")
    assert ping(a) == [b"+PONG\r\n"]
    assert info_field(b, "clients", "tracking_clients") == 0


def test_redis_py_resp2_client_caching_loop(ember):
    """A cache kept by a RESP2 redis-py client: read through, drop an entry on
    each invalidation, and never serve a stale value."""
    sub = ember.client(decode=True)
    p = sub.pubsub()
    p.subscribe(INVALIDATE_CHANNEL)
    assert p.get_message(timeout=5)["type"] == "subscribe"
    sub_id = pubsub_client_id(p)
    r = ember.client(decode=True, single_connection_client=True)
    r.execute_command("CLIENT", "TRACKING", "on", "REDIRECT", sub_id)
    writer = ember.client(decode=True)
    cache = {}

    def cached_get(key):
        while True:
            msg = p.get_message(timeout=0)
            if msg is None:
                break
            for k in msg["data"] or list(cache):
                cache.pop(k, None)
        if key not in cache:
            cache[key] = r.get(key)
        return cache[key]

    for i in range(20):
        key = f"c{i % 3}"
        writer.set(key, i)
        # The SET is done: its invalidation is on its way; wait for it to land.
        deadline = time.monotonic() + 5
        while key in cache:
            msg = p.get_message(timeout=0.1)
            if msg is not None:
                for k in msg["data"] or list(cache):
                    cache.pop(k, None)
            assert time.monotonic() < deadline
        assert cached_get(key) == str(i)
    for c in (r, writer, sub):
        c.close()
    p.close()


def test_table_limit_invalidates_random_keys(ember):
    """tracking-table-max-keys: before the next command, keys beyond the limit
    are dropped from the table and their readers told, as in Redis."""
    a, b = conn3(ember.port), RawConn(ember.port)
    assert b.call("CONFIG", "SET", "tracking-table-max-keys", "2") == b"+OK\r\n"
    try:
        a.call("CLIENT", "TRACKING", "on")
        a.call("MGET", "k1", "k2", "k3", "k4", "k5")
        pushes = [r for r in ping(a) if r.startswith(b">2")]
        assert len(pushes) == 3
        assert info_field(b, "stats", "tracking_total_keys") == 2
        # The two keys still tracked are the ones not invalidated.
        dropped = {p.split(b"\r\n")[-2] for p in pushes}
        kept = {b"k1", b"k2", b"k3", b"k4", b"k5"} - dropped
        b.call("MSET", *sum([[k.decode(), "1"] for k in kept], []))
        assert sorted(r for r in ping(a) if r.startswith(b">2")) == sorted(push(k.decode())
                                                                         for k in kept)
    finally:
        b.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")


def scenario_random(port, seed=7, steps=300):
    """Seeded random reads and writes by tracking clients in every mode plus
    a plain writer; after each command every tracking connection is pinged
    and what it received is recorded."""
    import random

    rng = random.Random(seed)
    keys = ["a1", "a2", "ab", "b1", "b2"]
    clients = {"plain": conn3(port), "noloop": conn3(port), "optin": conn3(port),
               "optout": conn3(port), "bcast": conn3(port), "bnoloop": conn3(port)}
    writer = RawConn(port)
    setup = {"plain": ["on"], "noloop": ["on", "NOLOOP"], "optin": ["on", "OPTIN"],
             "optout": ["on", "OPTOUT"], "bcast": ["on", "BCAST", "PREFIX", "a"],
             "bnoloop": ["on", "BCAST", "NOLOOP", "PREFIX", "b", "PREFIX", "ab"]}
    out = [clients[n].call("CLIENT", "TRACKING", *setup[n]) for n in clients]
    names = list(clients) + ["writer"]
    for step in range(steps):
        who = rng.choice(names)
        conn = writer if who == "writer" else clients[who]
        k = rng.choice(keys)
        op = rng.random()
        if who in ("optin", "optout") and rng.random() < 0.5:
            out.append((step, who, conn.call("CLIENT", "CACHING", "yes" if who == "optin" else "no")))
        if op < 0.35:
            cmd = ("GET", k)
        elif op < 0.5:
            cmd = ("MGET", k, rng.choice(keys))
        elif op < 0.75:
            cmd = ("SET", k, str(step))
        elif op < 0.85:
            cmd = ("DEL", k)
        elif op < 0.93:
            cmd = ("MSET", k, "x", rng.choice(keys), "y")
        elif op < 0.98:
            cmd = ("INCR", "n" + k)
        else:
            cmd = ("FLUSHALL",)
        conn.send_command(*cmd)
        got = [conn.read_reply()]
        while got[-1].startswith(b">"):  # a push queued before the reply
            got.append(conn.read_reply())
        out.append((step, who, cmd, got))
        for name, c in clients.items():
            out.append((step, name, ping(c)))
    return out


def test_random_mix_matches_redis(ember, redis_ref):
    out = both(ember, redis_ref, scenario_random)
    assert sum(1 for e in out if len(e) == 3 and len(e[2]) > 1) > 50  # pushes did happen


def scenario_random_redirect(port, seed=3, steps=150):
    """Seeded random mix with transactions and scripts: a RESP3 tracking
    client, a RESP2 one redirecting to a subscriber of __redis__:invalidate,
    and a plain writer."""
    import random

    rng = random.Random(seed)
    keys = ["a1", "a2", "b1"]
    c3, c2, sub, w = conn3(port), RawConn(port), RawConn(port), RawConn(port)
    sid = sub.call("CLIENT", "ID")[1:-2].decode()
    out = [sub.call("SUBSCRIBE", INVALIDATE_CHANNEL), c3.call("CLIENT", "TRACKING", "on"),
           c2.call("CLIENT", "TRACKING", "on", "REDIRECT", sid)]
    for step in range(steps):
        who = rng.choice(["c3", "c2", "w"])
        conn = {"c3": c3, "c2": c2, "w": w}[who]
        k = rng.choice(keys)
        r = rng.random()
        if r < 0.3:
            cmds = [("GET", k)]
        elif r < 0.45:
            cmds = [("MULTI",), ("GET", k), ("SET", rng.choice(keys), "v"), ("EXEC",)]
        elif r < 0.55:
            cmds = [("EVAL", "return redis.call('get', KEYS[1])", "1", k)]
        elif r < 0.65:
            cmds = [("EVAL", "redis.call('set', KEYS[1], 'z') return 1", "1", k)]
        elif r < 0.9:
            cmds = [("SET", k, str(step))]
        else:
            cmds = [("FLUSHDB",)]
        for cmd in cmds:
            conn.send_command(*cmd)
            got = [conn.read_reply()]
            while got[-1].startswith(b">"):
                got.append(conn.read_reply())
            out.append((step, who, cmd, got))
        out.append(("c3", ping(c3)))
        out.append(("c2", ping(c2)))
        sub.send_command("PING")  # subscribed RESP2: answered as a "pong" message
        got = [sub.read_reply()]
        while b"pong" not in got[-1]:
            got.append(sub.read_reply())
        out.append(("sub", got))
    return out


def test_random_mix_with_redirect_multi_and_scripts(ember, redis_ref):
    out = both(ember, redis_ref, scenario_random_redirect)
    assert sum(1 for e in out if e[0] == "sub" and len(e[1]) > 1) > 10
