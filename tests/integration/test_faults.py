"""Fault tests (issue 9): clients that vanish at every byte, pipelines cut in
half, one byte per write, thousands of idle connections, a client that never
reads, the maxclients limit at 10,000 connections, and a load run that checks
no acknowledged write is lost. Loopback only, each test bounded in time.

Figures worth reporting are printed (run pytest with -s to see them): latency
with and without idle connections, the memory of a flooded non-reader,
connections held."""

import random
import resource
import socket
import struct
import threading
import time

import pytest

from harness import (HOST, REDIS_QUIET_ARGS, REDIS_SERVER, SELFTEST, ConnectionClosed, RawConn,
                     Server, ember_binary, encode_command, redis_available)

NOAUTH = b"-NOAUTH Authentication required.\r\n"
MAXCLIENTS_ERR = b"-ERR max number of clients reached\r\n"


def rst_close(sock):
    """Closes with a TCP reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    s.connect((HOST, port))
    return s


def as_raw(sock):
    """A RawConn over an already connected socket."""
    conn = RawConn.__new__(RawConn)
    conn.sock, conn.buf, conn.eof, conn.timeout = sock, bytearray(), False, 10.0
    return conn


def info_field(conn, section, field):
    reply = conn.call("INFO", section)
    text = reply.split(b"\r\n", 1)[1].decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"INFO {section} has no {field}: {text[:500]}")


def raise_nofile(n):
    """Raises this process's soft RLIMIT_NOFILE to at least n (children started
    afterwards inherit it). Returns the previous (soft, hard), or skips."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= n:
        return soft, hard
    if hard != resource.RLIM_INFINITY and hard < n:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {n}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))
    return soft, hard


# ---------------------------------------------------------------------------
# Disconnects at every byte


COMMAND = encode_command("INCR", "fault:ctr")


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_disconnect_at_every_byte_of_a_command(ember, how):
    """A client leaves after each prefix of a command: only the whole command
    takes effect, and the server keeps serving everyone else."""
    with ember.raw() as other:
        for k in range(len(COMMAND) + 1):
            s = connect(ember.port)
            if k:
                s.sendall(COMMAND[:k])
            if k == len(COMMAND):
                assert s.recv(100) == b":1\r\n"  # acknowledged before leaving
            rst_close(s) if how == "rst" else s.close()
            assert other.call("PING") == b"+PONG\r\n"
        assert other.call("GET", "fault:ctr") == b"$1\r\n1\r\n"


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_disconnect_at_every_byte_of_a_reply(ember, how):
    """A client leaves after reading each prefix of a ~1.3 KB reply."""
    with ember.raw() as other:
        other.call("DEL", "fault:list")
        assert other.call("RPUSH", "fault:list", *[f"element-{i:04d}" for i in range(100)]) == b":100\r\n"
        request = encode_command("LRANGE", "fault:list", "0", "-1")
        reply = other.call("LRANGE", "fault:list", "0", "-1")
        for k in range(len(reply) + 1):
            s = connect(ember.port)
            s.sendall(request)
            got = b""
            while len(got) < k:
                chunk = s.recv(k - len(got))
                assert chunk, f"closed after {len(got)} of {k} bytes"
                got += chunk
            assert got == reply[:k]
            rst_close(s) if how == "rst" else s.close()
            if k % 64 == 0:
                assert other.call("PING") == b"+PONG\r\n"
        assert other.call("LLEN", "fault:list") == b":100\r\n"


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_disconnect_at_many_offsets_of_a_large_reply(ember, how):
    """A 4 MB reply does not fit the socket buffers, so the server is still
    writing when the client leaves: after 0..64 bytes, around each 64 KB step
    and at random offsets. A small receive buffer keeps the writes partial."""
    size = 4 * 1024 * 1024
    rng = random.Random(9)
    offsets = sorted(set(list(range(65)) + [i * 65536 + d for i in range(1, 64) for d in (-1, 0, 1)]
                         + [rng.randrange(size) for _ in range(40)]))
    with ember.raw() as other:
        assert other.call("SET", "fault:big", b"x" * size) == b"+OK\r\n"
        request = encode_command("GET", "fault:big")
        header = b"$%d\r\n" % size
        for k in offsets:
            s = connect(ember.port, rcvbuf=4096)
            s.sendall(request)
            got, head = 0, b""
            while got < k:
                chunk = s.recv(min(65536, k - got))
                assert chunk, f"closed after {got} of {k} bytes"
                if len(head) < len(header):
                    head += chunk[:len(header) - len(head)]
                got += len(chunk)
            assert head == header[:len(head)]
            rst_close(s) if how == "rst" else s.close()
        assert other.call("STRLEN", "fault:big") == b":%d\r\n" % size
        clients = int(info_field(other, "clients", "connected_clients"))
        assert clients <= 2, f"{clients} clients still connected after they all left"
        other.call("DEL", "fault:big")


# ---------------------------------------------------------------------------
# Pipelines cut short, one byte per write


def test_pipeline_cut_in_half(ember):
    """100 commands in one pipeline, cut in the middle of the 51st: the first
    50 take effect, the 51st does not, even after the client is gone."""
    frames = [encode_command("SET", f"cut:{i}", f"value-{i}") for i in range(100)]
    stream = b"".join(frames)
    cut = sum(len(f) for f in frames[:50]) + len(frames[50]) // 2
    with ember.raw() as c:
        c.send(stream[:cut])
        assert c.read_replies(50) == [b"+OK\r\n"] * 50
        with ember.raw() as other:
            assert other.call("EXISTS", *[f"cut:{i}" for i in range(100)]) == b":50\r\n"
            assert other.call("EXISTS", "cut:50") == b":0\r\n"
    # The half command died with its connection.
    with ember.raw() as other:
        deadline = time.monotonic() + 5
        while int(info_field(other, "clients", "connected_clients")) > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert other.call("EXISTS", *[f"cut:{i}" for i in range(100)]) == b":50\r\n"
        assert other.call("GET", "cut:49") == b"$8\r\nvalue-49\r\n"


def test_pipeline_cut_then_completed(ember):
    """The same cut, then the rest arrives on the same connection: all 100."""
    frames = [encode_command("RPUSH", "cut:list", str(i)) for i in range(100)]
    stream = b"".join(frames)
    cut = sum(len(f) for f in frames[:50]) + 3
    with ember.raw() as c:
        c.send(stream[:cut])
        assert c.read_replies(50) == [b":%d\r\n" % (i + 1) for i in range(50)]
        c.send(stream[cut:])
        assert c.read_replies(50) == [b":%d\r\n" % (i + 51) for i in range(50)]
        assert c.call("LRANGE", "cut:list", "0", "-1") == b"*100\r\n" + b"".join(
            b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(100))


def test_one_byte_per_write(ember):
    """Multibulk and inline commands, binary values, each byte its own write."""
    value = bytes(range(256))
    stream = (encode_command("SET", "onebyte", value) + b"GET onebyte\r\n" + b"PING\r\n"
              + encode_command("MSET", "a", "1", "b", "2") + b'ECHO "x y"\n'
              + encode_command("MGET", "a", "b", "nosuch") + b"*0\r\n\r\n"
              + encode_command("INCRBY", "a", "41"))
    want = [b"+OK\r\n", b"$256\r\n" + value + b"\r\n", b"+PONG\r\n", b"+OK\r\n", b"$3\r\nx y\r\n",
            b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", b":42\r\n"]
    with ember.raw() as c:
        for i in range(len(stream)):
            c.send(stream[i:i + 1])
        assert c.read_replies(len(want)) == want
        assert c.call("PING") == b"+PONG\r\n"


# ---------------------------------------------------------------------------
# Many idle connections


def latencies(conn, n):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.send_command("SET", "lat:key", str(i))
        reply = conn.read_reply()
        out.append(time.perf_counter() - t0)
        assert reply == b"+OK\r\n"
    out.sort()
    return out


def p99(sorted_values):
    return sorted_values[int(len(sorted_values) * 0.99) - 1]


def test_2000_idle_connections_keep_latency(ember):
    """2,000 connections that are silent (half) or stuck mid-command (half)
    while a normal client works: its p99 stays within 5x of running alone
    (with a 20 ms floor: this machine is shared), and all 2,000 are still
    connected and usable afterwards."""
    raise_nofile(2200)
    n = 2000
    with ember.raw() as c:
        latencies(c, 200)  # warm up
        alone = latencies(c, 2000)
        idle = []
        try:
            for i in range(n):
                s = connect(ember.port)
                if i % 2:
                    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$10\r\nab")  # stuck mid-command
                idle.append(s)
            deadline = time.monotonic() + 20
            while int(info_field(c, "clients", "connected_clients")) < n + 1:
                assert time.monotonic() < deadline, "the idle connections were not all accepted"
                time.sleep(0.05)
            crowded = latencies(c, 2000)
            used = int(info_field(c, "memory", "used_memory"))
            print(f"\n[faults] p99 alone {p99(alone) * 1e3:.3f} ms, with {n} idle connections "
                  f"{p99(crowded) * 1e3:.3f} ms; used_memory with them {used} bytes")
            assert p99(crowded) < max(5 * p99(alone), 0.020), (p99(alone), p99(crowded))
            # The stuck ones can still finish their command; the silent ones still work.
            for s in idle[1:40:2]:
                s.sendall(b"cdefghij\r\n")
                assert s.recv(100) == b"+OK\r\n"
            for s in idle[0:40:2]:
                s.sendall(b"PING\r\n")
                assert s.recv(100) == b"+PONG\r\n"
        finally:
            for s in idle:
                rst_close(s)
        assert c.call("GET", "slow") == b"$10\r\nabcdefghij\r\n"


# ---------------------------------------------------------------------------
# A client that never reads


def test_non_reading_client_is_disconnected(start_ember):
    """A client keeps asking for 100 KB values and never reads the replies.
    Once its queue passes the hard limit (4 MB) the server closes it; until
    then the server's memory grows by about that much and no more (INFO
    used_memory sampled by another client between the flooder's batches)."""
    srv = start_ember("--client-output-buffer-limit", "normal 4mb 2mb 10")
    value = b"v" * (100 * 1024)
    with srv.raw() as c:
        assert c.call("SET", "big", value) == b"+OK\r\n"
        base = int(info_field(c, "memory", "used_memory"))
        flood = connect(srv.port, rcvbuf=4096)
        peak, closed, sent = base, False, 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sent < 5000:
            try:
                flood.sendall(encode_command("GET", "big") * 5)
                sent += 5
            except OSError:
                pass  # the server closed it
            peak = max(peak, int(info_field(c, "memory", "used_memory")))
            if int(info_field(c, "clients", "connected_clients")) == 1:
                closed = True
                break
        print(f"\n[faults] non-reader: {sent} GETs of 100 KB sent; used_memory {base} before, "
              f"peak {peak} (+{(peak - base) / 1e6:.1f} MB), closed={closed}")
        assert closed, "the non-reading client was not disconnected"
        assert peak - base < 16 * 1024 * 1024, f"memory grew by {peak - base} bytes"
        assert c.call("PING") == b"+PONG\r\n"
        # It gets what fitted in the kernel buffers, then the close.
        flood.settimeout(10)
        total = 0
        try:
            while True:
                chunk = flood.recv(1 << 16)
                if not chunk:
                    break
                total += len(chunk)
        except ConnectionResetError:
            pass
        flood.close()
        assert total < sent * len(value)


def test_non_reading_subscriber_is_disconnected(start_ember):
    """The pub/sub class: a subscriber that never reads while a publisher
    floods its channel is closed at the pubsub hard limit."""
    srv = start_ember("--client-output-buffer-limit", "pubsub 2mb 1mb 60")
    with srv.raw() as pub:
        sub = connect(srv.port, rcvbuf=4096)
        sub.sendall(encode_command("SUBSCRIBE", "flood"))
        deadline = time.monotonic() + 5
        while pub.call("PUBLISH", "flood", "x") != b":1\r\n":
            assert time.monotonic() < deadline, "subscriber never registered"
        payload = b"m" * 10000
        receivers = []
        for _ in range(2000):
            pub.send_command("PUBLISH", "flood", payload)
            receivers.append(pub.read_reply())
            if receivers[-1] == b":0\r\n":
                break
        assert receivers[-1] == b":0\r\n", "the subscriber was never disconnected"
        sent = len(receivers) * len(payload)
        print(f"\n[faults] subscriber closed after {len(receivers)} messages ({sent / 1e6:.1f} MB published)")
        assert sent < 16 * 1024 * 1024
        sub.close()
        assert int(info_field(pub, "clients", "connected_clients")) == 1


# ---------------------------------------------------------------------------
# maxclients


def open_clients(port, n):
    conns = []
    for _ in range(n):
        conns.append(connect(port))
    return conns


def open_exactly(port, n):
    """n connections, opened once the server counts only the first (the
    harness's readiness probe may still be closing)."""
    first = connect(port)
    wait_connected(as_raw(first), 1, exact=True)
    return [first] + open_clients(port, n - 1)


def wait_connected(conn, n, timeout=30, exact=False):
    deadline = time.monotonic() + timeout
    while True:
        have = int(info_field(conn, "clients", "connected_clients"))
        if have == n or (have > n and not exact):
            return have
        assert time.monotonic() < deadline, f"only {have} of {n} connections accepted"
        time.sleep(0.05)


def assert_refused(port):
    s = connect(port)
    got = b""
    try:
        while True:
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    s.close()
    assert got == MAXCLIENTS_ERR


def test_maxclients_small(start_ember):
    srv = start_ember("--maxclients", "20")
    conns = open_exactly(srv.port, 20)
    try:
        first = as_raw(conns[0])
        assert wait_connected(first, 20) == 20
        assert_refused(srv.port)
        assert_refused(srv.port)
        assert first.call("PING") == b"+PONG\r\n"
        assert int(info_field(first, "stats", "rejected_connections")) == 2
    finally:
        for s in conns:
            rst_close(s)
    # Slots free up again once clients leave.
    deadline = time.monotonic() + 5
    while True:
        try:
            with srv.raw() as c:
                assert c.call("PING") == b"+PONG\r\n"
                break
        except (ConnectionClosed, AssertionError):
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_maxclients_10000(start_ember):
    """10,000 connections held, the next one refused with the exact error.
    Both this process and the server (which inherits the limit) need more
    than 10,000 descriptors."""
    raise_nofile(10200)
    srv = start_ember("--maxclients", "10000")
    t0 = time.monotonic()
    conns = open_exactly(srv.port, 10000)
    try:
        first = as_raw(conns[0])
        have = wait_connected(first, 10000, timeout=60)
        used = int(info_field(first, "memory", "used_memory"))
        print(f"\n[faults] {have} connections held after {time.monotonic() - t0:.1f} s, "
              f"used_memory {used} bytes ({used / have:.0f} per connection)")
        assert have == 10000
        assert_refused(srv.port)
        assert first.call("PING") == b"+PONG\r\n"
        assert as_raw(conns[-1]).call("PING") == b"+PONG\r\n"
    finally:
        for s in conns:
            rst_close(s)  # no TIME_WAIT: later tests need ephemeral ports


def limited_server(name, binary, args, workdir, nofile):
    """A Server started through a shell that first sets its descriptor limit
    (soft and hard, so the server cannot raise it)."""
    wrapper = workdir / f"{name}-ulimit.sh"
    workdir.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(f"#!/bin/sh\nulimit -n {nofile} || exit 111\nexec \"$@\"\n")
    wrapper.chmod(0o755)
    return Server(name, str(wrapper), [binary] + list(args), workdir / name)


def test_maxclients_above_the_fd_limit(tmp_path):
    """The server may open only 256 descriptors but maxclients is 1000. Both
    servers lower maxclients to 256 - 32 (descriptors they reserve) at
    start-up, so client 225 gets the maxclients error instead of a bare
    close when accept() would run out of descriptors. The figures are
    printed."""
    servers = []
    if not SELFTEST:
        servers.append(("ember", ember_binary(), []))
    if redis_available():
        servers.append(("redis", REDIS_SERVER, REDIS_QUIET_ARGS))
    outcome = {}
    for name, binary, base in servers:
        srv = limited_server(f"{name}-fdlimit", binary, base + ["--maxclients", "1000"], tmp_path, 256)
        srv.start()
        try:
            conns = open_clients(srv.port, 300)
            got = []
            try:
                for s in conns:
                    s.settimeout(1.0)
                    try:
                        s.sendall(b"PING\r\n")
                    except OSError:
                        pass  # already refused and closed
                for s in conns:
                    try:
                        got.append(s.recv(100))
                    except (socket.timeout, ConnectionResetError):
                        got.append(b"<reset or no answer>")
            finally:
                for s in conns:
                    rst_close(s)
            # Still serving once they are gone. The server learns of the
            # resets from the same event loop that accepts, so under load a
            # new connection may come first and meet the limit: ask again
            # until it is served, within a deadline.
            deadline = time.monotonic() + 10.0
            while True:
                with srv.raw() as c:
                    reply = c.call("PING")
                    if reply == b"+PONG\r\n":
                        assert c.call("CONFIG", "GET", "maxclients") == (
                            b"*2\r\n$10\r\nmaxclients\r\n$3\r\n224\r\n")
                        break
                assert reply == MAXCLIENTS_ERR and time.monotonic() < deadline, reply
                time.sleep(0.05)  # poll interval, bounded by the deadline
        finally:
            srv.stop_and_check()
        outcome[name] = (got.count(b"+PONG\r\n"), got.count(MAXCLIENTS_ERR),
                         len(got) - got.count(b"+PONG\r\n") - got.count(MAXCLIENTS_ERR))
        print(f"\n[faults] fd limit 256, maxclients 1000, 300 clients: {name} serves "
              f"{outcome[name][0]}, refuses {outcome[name][1]} with the error, drops {outcome[name][2]}")
    if "redis" in outcome:
        assert outcome["redis"] == (224, 76, 0)
    if "ember" in outcome:
        # No client is dropped without a word. The count can be one short
        # of 224 when the harness's readiness probe is not yet reaped (slow
        # Asan builds).
        served, refused, dropped = outcome["ember"]
        assert dropped == 0 and 220 <= served <= 224 and served + refused == 300


def ping_outcome(sock, timeout=2.0):
    """PING on a fresh connection: b"+PONG\\r\\n", the server's error, or
    b"" when it closed (or reset) the connection without a word."""
    sock.settimeout(timeout)
    try:
        sock.sendall(b"PING\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = sock.recv(100)
            if not chunk:
                break
            got += chunk
        return got
    except (ConnectionResetError, BrokenPipeError):
        return b""


def test_accept_recovers_when_descriptors_free_up(tmp_path):
    """The server may open 64 descriptors and maxclients is 10000, so accept()
    fails with EMFILE long before maxclients: connections past the limit are
    turned away (libuv's reserve-descriptor trick accepts and closes them, so
    the backlog does not spin the loop), the clients already connected keep
    being served, and once some leave a new connection is served again."""
    if SELFTEST:
        pytest.skip("ember-specific: Redis lowers maxclients to the descriptor limit instead")
    srv = limited_server("ember-emfile", ember_binary(), ["--maxclients", "10000"], tmp_path, 64)
    srv.start()
    conns = []
    try:
        outcomes = []
        for _ in range(100):
            s = connect(srv.port)
            conns.append(s)
            outcomes.append(ping_outcome(s))
        served = [s for s, o in zip(conns, outcomes) if o == b"+PONG\r\n"]
        turned_away = len(conns) - len(served)
        print(f"\n[faults] descriptor limit 64: {len(served)} of 100 connections served, "
              f"{turned_away} turned away")
        assert 30 <= len(served) < 64 and turned_away > 0
        assert outcomes[:len(served)] == [b"+PONG\r\n"] * len(served)  # then only refusals
        for s in served:  # everyone admitted is still served
            assert ping_outcome(s) == b"+PONG\r\n"
        for s in served[:10]:
            rst_close(s)
        keep = served[10:]
        deadline = time.monotonic() + 10
        while True:  # the server sees the 10 closes on its next loop turns
            s = connect(srv.port)
            conns.append(s)
            if ping_outcome(s) == b"+PONG\r\n":
                break
            assert time.monotonic() < deadline, "no connection served after 10 left"
            time.sleep(0.05)
        for s in keep:
            assert ping_outcome(s) == b"+PONG\r\n"
    finally:
        for s in conns:
            try:
                rst_close(s)
            except OSError:
                pass
        srv.stop_and_check()


# ---------------------------------------------------------------------------
# No acknowledged write is lost


def test_no_acknowledged_write_lost(ember):
    """16 clients write concurrently in pipelined batches (SET, INCR, RPUSH),
    recording every acknowledgement; 4 of them drop their connection at a
    random point mid-batch. Afterwards every acknowledged write is there: each
    acknowledged SET value, each counter at least its acknowledged count (and
    at most what was sent), each list starting with its acknowledged
    elements in order."""
    clients, batches, batch = 16, 40, 25
    acked_sets = {}
    acked_incr = {}
    sent_incr = {}
    acked_push = {}
    errors = []

    def worker(w):
        rng = random.Random(w)
        dropper = w < 4
        drop_at = rng.randrange(batches) if dropper else None
        conn = RawConn(ember.port, timeout=20)
        sets, incrs, pushes, sent = {}, 0, [], 0
        try:
            for b in range(batches):
                cmds, kinds = [], []
                for i in range(batch):
                    n = b * batch + i
                    kind = n % 3
                    if kind == 0:
                        cmds.append(encode_command("SET", f"ack:{w}:{n}", f"v{w}-{n}"))
                    elif kind == 1:
                        cmds.append(encode_command("INCR", f"ack:ctr:{w}"))
                    else:
                        cmds.append(encode_command("RPUSH", f"ack:list:{w}", str(n)))
                    kinds.append((kind, n))
                conn.send(b"".join(cmds))
                sent += sum(1 for k, _ in kinds if k == 1)
                upto = rng.randrange(batch) if b == drop_at else batch
                for (kind, n), reply in zip(kinds[:upto], conn.read_replies(upto)):
                    if kind == 0:
                        assert reply == b"+OK\r\n", reply
                        sets[f"ack:{w}:{n}"] = f"v{w}-{n}"
                    elif kind == 1:
                        incrs += 1
                        assert reply == b":%d\r\n" % incrs, reply
                    else:
                        pushes.append(str(n))
                        assert reply == b":%d\r\n" % len(pushes), reply
                if b == drop_at:
                    rst_close(conn.sock)
                    break
        except Exception as e:  # reported below, with the worker number
            errors.append(f"worker {w}: {e!r}")
        finally:
            conn.close()
            acked_sets.update(sets)
            acked_incr[w] = incrs
            sent_incr[w] = sent
            acked_push[w] = pushes

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    with ember.client(decode=True) as r:
        keys = list(acked_sets)
        lost = 0
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            for k, v in zip(chunk, r.mget(chunk)):
                lost += v != acked_sets[k]
        for w in range(clients):
            ctr = int(r.get(f"ack:ctr:{w}") or 0)
            assert acked_incr[w] <= ctr <= sent_incr[w], (w, acked_incr[w], ctr, sent_incr[w])
            lst = r.lrange(f"ack:list:{w}", 0, -1)
            assert lst[:len(acked_push[w])] == acked_push[w], f"worker {w} list lost acknowledged pushes"
        total = len(acked_sets) + sum(acked_incr.values()) + sum(len(p) for p in acked_push.values())
        print(f"\n[faults] {total} acknowledged writes from {clients} clients, lost {lost}")
        assert lost == 0


def test_server_survives_everything_above(ember):
    """Last: the module's server is still healthy after the abuse above."""
    with ember.raw() as c:
        assert c.call("PING") == b"+PONG\r\n"
        assert SELFTEST or c.call("DBSIZE").startswith(b":")


# ---------------------------------------------------------------------------
# Regressions found by the fuzzers


def test_issue_9_empty_deferred_reply_then_large_reply(ember):
    """fuzz_server: a reply whose length is known only at the end (KEYS) that
    ends up empty left its header block as the tail with cap < len; the next
    reply of more than 28 bytes in the same flush was written past that
    block (a heap overflow; Asan aborts, Release corrupts memory)."""
    with ember.raw() as c:
        c.send(b"KEYS nomatch*\r\nECHO " + b"x" * 200 + b"\r\nSCAN 0 MATCH nomatch*\r\nECHO " + b"y" * 100 + b"\r\n")
        assert c.read_replies(4) == [b"*0\r\n", b"$200\r\n" + b"x" * 200 + b"\r\n",
                                     b"*2\r\n$1\r\n0\r\n*0\r\n", b"$100\r\n" + b"y" * 100 + b"\r\n"]
        assert c.call("PING") == b"+PONG\r\n"
