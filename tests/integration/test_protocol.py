"""RESP on the wire, over raw sockets: exact reply bytes, pipelining, split frames,
inline commands, protocol errors (then the close), QUIT, and clients that vanish
mid-command or mid-reply.

Where the expected bytes are written out, each test also runs them against the
reference redis-server when it is installed, to keep the expectations honest."""

import socket
import struct

import pytest

from harness import ConnectionClosed, RawConn, encode_command


def targets(ember, redis_ref_optional):
    """ember first, then the reference server if there is one."""
    return [ember] + ([redis_ref_optional] if redis_ref_optional is not None else [])


EXACT = [
    (("PING",), b"+PONG\r\n"),
    (("PING", "hi"), b"$2\r\nhi\r\n"),
    (("ECHO", ""), b"$0\r\n\r\n"),
    (("ECHO", b"\x00\r\n\xff"), b"$4\r\n\x00\r\n\xff\r\n"),
    (("SET", "k", "v"), b"+OK\r\n"),
    (("GET", "k"), b"$1\r\nv\r\n"),
    (("GET", "nosuch"), b"$-1\r\n"),
    (("SET", "k", "v", "NX"), b"$-1\r\n"),
    (("SET", "k", "w", "GET"), b"$1\r\nv\r\n"),
    (("INCR", "n"), b":1\r\n"),
    (("DECRBY", "n", "10"), b":-9\r\n"),
    (("EXISTS", "k", "n", "nosuch"), b":2\r\n"),
    (("DEL", "nosuch"), b":0\r\n"),
    (("TYPE", "k"), b"+string\r\n"),
    (("TYPE", "nosuch"), b"+none\r\n"),
    (("RPUSH", "l", "a", "", "c"), b":3\r\n"),
    (("LRANGE", "l", "0", "-1"), b"*3\r\n$1\r\na\r\n$0\r\n\r\n$1\r\nc\r\n"),
    (("LRANGE", "nosuch", "0", "-1"), b"*0\r\n"),
    (("HSET", "h", "f", "v"), b":1\r\n"),
    (("HGETALL", "h"), b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    (("HGET", "h", "x"), b"$-1\r\n"),
    (("MGET", "k", "nosuch"), b"*2\r\n$1\r\nw\r\n$-1\r\n"),
    (("TTL", "k"), b":-1\r\n"),
    (("TTL", "nosuch"), b":-2\r\n"),
    (("GET", "l"), b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    (("GET",), b"-ERR wrong number of arguments for 'get' command\r\n"),
    (("INCR", "k"), b"-ERR value is not an integer or out of range\r\n"),
    (("SET", "k", "v", "BOGUS"), b"-ERR syntax error\r\n"),
    (("NOSUCH", "a", "b"), b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"),
    (("SELECT", "100"), b"-ERR DB index is out of range\r\n"),
    (("RENAME", "nosuch", "x"), b"-ERR no such key\r\n"),
]


def test_exact_reply_bytes(ember, redis_ref_optional):
    def run(srv):
        with srv.raw() as c:
            return [c.call(*args) for args, _ in EXACT]

    for srv in targets(ember, redis_ref_optional):
        bad = [f"  {args}: expected {want!r}, got {have!r}"
               for (args, want), have in zip(EXACT, run(srv)) if have != want]
        assert not bad, f"{srv.name}: {len(bad)} replies differ:\n" + "\n".join(bad)


def test_pipeline_1000_commands_in_one_write(ember):
    cmds = b"".join(encode_command("SET", f"key:{i}", f"value:{i}") for i in range(500))
    cmds += b"".join(encode_command("GET", f"key:{i}") for i in range(499))
    cmds += encode_command("DBSIZE")
    want = [b"+OK\r\n"] * 500 + [b"$%d\r\nvalue:%d\r\n" % (len(f"value:{i}"), i) for i in range(499)]
    want.append(b":500\r\n")
    with ember.raw() as c:
        c.send(cmds)
        got = c.read_replies(1000)
        assert got == want
        assert c.call("PING") == b"+PONG\r\n"  # nothing extra was queued


def test_pipeline_inline_and_multibulk_mixed(ember):
    data = b"".join(b"INCR counter\r\n" if i % 2 else encode_command("INCR", "counter")
                    for i in range(1000))
    with ember.raw() as c:
        c.send(data)
        assert c.read_replies(1000) == [b":%d\r\n" % i for i in range(1, 1001)]


@pytest.mark.parametrize("frame,reply", [
    (encode_command("SET", "split", "hello world"), b"+OK\r\n"),
    (encode_command("ECHO", b"a\r\nb"), b"$4\r\na\r\nb\r\n"),
    (b"ECHO \"quoted arg\"\r\n", b"$10\r\nquoted arg\r\n"),
    (encode_command("RPUSH", "sl", "x", "", "y"), b":3\r\n"),
])
def test_split_frame_one_byte_per_write(ember, frame, reply):
    with ember.raw() as c:
        for i in range(len(frame)):
            c.send(frame[i:i + 1])
        assert c.read_reply() == reply
        assert c.call("PING") == b"+PONG\r\n"


def test_split_frames_across_two_commands(ember):
    """Writes cut at every position of a two-command stream give the same replies."""
    stream = encode_command("SET", "a", "12345") + encode_command("GET", "a")
    with ember.raw() as c:
        for cut in range(1, len(stream)):
            c.send(stream[:cut])
            c.send(stream[cut:])
            assert c.read_replies(2) == [b"+OK\r\n", b"$5\r\n12345\r\n"], cut


def test_large_bulk_in_pieces(ember):
    value = bytes(range(256)) * 4096  # 1 MiB, every byte value
    frame = encode_command("SET", "big", value)
    with ember.raw() as c:
        for i in range(0, len(frame), 65521):  # odd-sized pieces
            c.send(frame[i:i + 65521])
        assert c.read_reply() == b"+OK\r\n"
        c.send_command("GET", "big")
        assert c.read_reply(timeout=10) == b"$%d\r\n" % len(value) + value + b"\r\n"


INLINE = [
    (b"PING\r\n", b"+PONG\r\n"),
    (b"PING\n", b"+PONG\r\n"),
    (b"ping\r\n", b"+PONG\r\n"),
    (b"  PING   \r\n", b"+PONG\r\n"),
    (b"ECHO hello\r\n", b"$5\r\nhello\r\n"),
    (b"SET ik \"hello world\"\r\n", b"+OK\r\n"),
    (b"GET ik\r\n", b"$11\r\nhello world\r\n"),
    (b"SET ik 'it\\'s'\r\n", b"+OK\r\n"),
    (b"GET ik\r\n", b"$4\r\nit's\r\n"),
    (b"ECHO \"\\x41\\x42\\n\\t\\\\\"\r\n", b"$5\r\nAB\n\t\\\r\n"),
    (b"ECHO \"\"\r\n", b"$0\r\n\r\n"),
    (b"\r\nPING\r\n", b"+PONG\r\n"),  # an empty line is skipped
    (b"NOSUCH x\r\n", b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"),
]


def test_inline_commands(ember, redis_ref_optional):
    def run(srv):
        with srv.raw() as c:
            out = []
            for data, _ in INLINE:
                c.send(data)
                out.append(c.read_reply())
            return out

    for srv in targets(ember, redis_ref_optional):
        bad = [f"  {data!r}: expected {want!r}, got {have!r}"
               for (data, want), have in zip(INLINE, run(srv)) if have != want]
        assert not bad, f"{srv.name}: {len(bad)} replies differ:\n" + "\n".join(bad)


def test_empty_multibulk_is_ignored(ember):
    with ember.raw() as c:
        c.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")
        assert c.read_reply() == b"+PONG\r\n"
        assert c.call("ECHO", "next") == b"$4\r\nnext\r\n"


PROTOCOL_ERRORS = [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n:12\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b"SET k \"unbalanced\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"SET k 'unbalanced\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"ECHO \"a\"b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"a" * 65537, b"-ERR Protocol error: too big inline request\r\n"),
    (b"*" + b"1" * 65536, b"-ERR Protocol error: too big mbulk count string\r\n"),
    (b"*1\r\n$" + b"1" * 65536, b"-ERR Protocol error: too big bulk count string\r\n"),
]


@pytest.mark.parametrize("data,error", PROTOCOL_ERRORS,
                         ids=[repr(d[:24]) for d, _ in PROTOCOL_ERRORS])
def test_protocol_error_replies_then_closes(ember, redis_ref_optional, data, error):
    for srv in targets(ember, redis_ref_optional):
        with srv.raw() as c:
            c.send_command("SET", "before", "1")
            assert c.read_reply() == b"+OK\r\n"
            try:
                c.send(data)
            except OSError:
                pass  # the server may close before the last bytes are in
            got = c.read_reply()
            assert got == error, f"{srv.name}: expected {error!r}, got {got!r}"
            assert c.wait_closed() == b"", f"{srv.name}: bytes after the protocol error"
        with srv.raw() as other:  # the server is fine, the good command counted
            assert other.call("GET", "before") == b"$1\r\n1\r\n", srv.name


def test_protocol_error_after_good_command_in_same_packet(ember, redis_ref_optional):
    for srv in targets(ember, redis_ref_optional):
        with srv.raw() as c:
            c.send(encode_command("SET", "x", "1") + b"*1\r\n$x\r\n" + encode_command("SET", "y", "1"))
            assert c.read_reply() == b"+OK\r\n", srv.name
            assert c.read_reply() == b"-ERR Protocol error: invalid bulk length\r\n", srv.name
            assert c.wait_closed() == b"", srv.name
        with srv.raw() as other:
            assert other.call("EXISTS", "x", "y") == b":1\r\n", srv.name


@pytest.mark.parametrize("quit", [encode_command("QUIT"), b"QUIT\r\n", b"quit\r\n"])
def test_quit_replies_ok_then_closes(ember, quit):
    with ember.raw() as c:
        c.send(quit)
        assert c.read_reply() == b"+OK\r\n"
        assert c.wait_closed() == b""


def test_commands_after_quit_are_not_run(ember, redis_ref_optional):
    for srv in targets(ember, redis_ref_optional):
        with srv.raw() as c:
            c.send(encode_command("QUIT") + encode_command("SET", "afterquit", "1"))
            assert c.read_reply() == b"+OK\r\n", srv.name
            assert c.wait_closed() == b"", srv.name
        with srv.raw() as other:
            assert other.call("EXISTS", "afterquit") == b":0\r\n", srv.name


def rst_close(conn):
    """Closes with a TCP reset (SO_LINGER 0), the rudest way to leave."""
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_client_gone_mid_command(ember, how):
    with ember.raw() as b:
        b.send(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhe")  # b is mid-command too
        for _ in range(20):
            a = ember.raw()
            a.send(b"*3\r\n$3\r\nSET\r\n$7\r\npartial\r\n$100\r\nonly-part")
            rst_close(a) if how == "rst" else a.close()
        b.send(b"llo\r\n")
        assert b.read_reply() == b"+OK\r\n"
        assert b.call("GET", "b") == b"$5\r\nhello\r\n"
        assert b.call("EXISTS", "partial") == b":0\r\n"


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_client_gone_mid_reply(ember, how):
    value = b"v" * (256 * 1024)
    with ember.raw() as b:
        assert b.call("SET", "big", value) == b"+OK\r\n"
        for _ in range(10):
            a = ember.raw()
            a.send(encode_command("GET", "big") * 40)  # ~10 MiB of replies, never read
            a.read_exactly(100)  # the reply has started
            rst_close(a) if how == "rst" else a.close()
            assert b.call("PING") == b"+PONG\r\n"
        assert b.call("STRLEN", "big") == b":%d\r\n" % len(value)
        b.send_command("GET", "big")
        assert b.read_reply() == b"$%d\r\n" % len(value) + value + b"\r\n"


def test_many_clients_interleaved(ember):
    conns = [ember.raw() for _ in range(50)]
    try:
        for i, c in enumerate(conns):  # everyone sends half a command ...
            c.send(b"*3\r\n$3\r\nSET\r\n$%d\r\nclient:%d\r\n" % (len(f"client:{i}"), i))
        for i, c in enumerate(conns):  # ... then the rest
            c.send(b"$%d\r\n%d\r\n" % (len(str(i)), i))
        for c in conns:
            assert c.read_reply() == b"+OK\r\n"
        for i, c in enumerate(conns):
            assert c.call("GET", f"client:{i}") == b"$%d\r\n%d\r\n" % (len(str(i)), i)
    finally:
        for c in conns:
            c.close()
    with ember.raw() as c:
        assert c.call("DBSIZE") == b":50\r\n"


def test_server_closes_nothing_on_idle_client(ember):
    """A connected, silent client stays connected while others work."""
    with ember.raw() as idle, ember.raw() as busy:
        for i in range(100):
            assert busy.call("INCR", "n") == b":%d\r\n" % (i + 1)
        assert idle.call("PING") == b"+PONG\r\n"


def test_connection_closed_detected(ember):
    with ember.raw() as c:
        c.send(b"QUIT\r\n")
        assert c.read_reply() == b"+OK\r\n"
        with pytest.raises(ConnectionClosed):
            c.read_reply()


def test_command_with_10k_arguments(ember, redis_ref_optional):
    n = 10_000
    frame = encode_command("RPUSH", "many", *[str(i) for i in range(n)])
    for srv in targets(ember, redis_ref_optional):
        with srv.raw() as c:
            c.send(frame)
            assert c.read_reply(timeout=20) == b":%d\r\n" % n, srv.name
            assert c.call("LLEN", "many") == b":%d\r\n" % n, srv.name
            assert c.call("LRANGE", "many", "-2", "-1") == b"*2\r\n$4\r\n9998\r\n$4\r\n9999\r\n"
            keys = [f"key{i}" for i in range(10_000)]
            assert c.call("MSET", *[x for k in keys for x in (k, "v")]) == b"+OK\r\n"
            c.send_command("DEL", *keys, "many")
            assert c.read_reply(timeout=20) == b":10001\r\n", srv.name


def test_large_replies_to_a_slow_reader(ember):
    """20 MiB of pipelined replies queued while the client reads nothing, then read
    in small pieces: every byte arrives, in order."""
    value = bytes(range(256)) * 40  # 10 KiB
    n = 2000
    with ember.raw() as c:
        assert c.call("SET", "v", value) == b"+OK\r\n"
        c.send(encode_command("GET", "v") * n + encode_command("ECHO", "end"))
        one = b"$%d\r\n" % len(value) + value + b"\r\n"
        got = bytearray()
        want_len = len(one) * n
        while len(got) < want_len:
            got += c.read_exactly(min(4096, want_len - len(got)), timeout=20)
        assert got == one * n
        assert c.read_reply() == b"$3\r\nend\r\n"


def test_select_is_per_connection(ember):
    with ember.raw() as a, ember.raw() as b:
        assert a.call("SELECT", "1") == b"+OK\r\n"
        assert a.call("SET", "k", "db1") == b"+OK\r\n"
        assert b.call("GET", "k") == b"$-1\r\n"
        assert b.call("SET", "k", "db0") == b"+OK\r\n"
        assert a.call("GET", "k") == b"$3\r\ndb1\r\n"
    with ember.raw() as fresh:  # a new connection starts in db 0
        assert fresh.call("GET", "k") == b"$3\r\ndb0\r\n"


def test_interleaved_pipelines_keep_their_order(ember):
    with ember.raw() as a, ember.raw() as b:
        a.send(b"".join(encode_command("RPUSH", "la", str(i)) for i in range(300)))
        b.send(b"".join(encode_command("RPUSH", "lb", str(i)) for i in range(300)))
        assert a.read_replies(300) == [b":%d\r\n" % i for i in range(1, 301)]
        assert b.read_replies(300) == [b":%d\r\n" % i for i in range(1, 301)]
        a.send_command("LRANGE", "la", "0", "-1")
        assert a.read_node().value[-1].value == b"299"


def test_many_connections(ember):
    conns = []
    try:
        for _ in range(300):
            conns.append(ember.raw())
        for i, c in enumerate(conns):
            c.send_command("INCR", "shared")
        got = sorted(int(c.read_reply()[1:-2]) for c in conns)
        assert got == list(range(1, 301))
    finally:
        for c in conns:
            c.close()


def test_command_names_match_in_any_case_and_only_themselves(ember):
    """Every command is found whatever the case of each letter (short names
    and the tail of long ones), and a byte that differs from a letter only
    in bit 0x20 without being its other case matches nothing."""
    conn = RawConn(ember.port)

    def info_name(name):
        conn.send_command("COMMAND", "INFO", name)
        entry = conn.read_node().value[0]
        return None if entry.value is None else entry.value[0].value

    conn.send_command("COMMAND", "LIST")
    names = [n.value.decode() for n in conn.read_node().value]
    assert len(names) > 200
    for i, name in enumerate(names):
        mixed = "".join(ch.upper() if (k + i) % 2 else ch for k, ch in enumerate(name))
        for v in (name.upper(), mixed):
            assert info_name(v) == name.encode(), v
        for k, ch in enumerate(name):
            if not ch.isalpha():
                odd = name[:k] + chr(ord(ch) ^ 0x20) + name[k + 1:]
                assert info_name(odd) is None, odd
    # Longer than 8 bytes: a change after the first 8 still matters.
    assert info_name("zrangebyscorx") is None
    assert info_name("ZRANGEBYSCORE") == b"zrangebyscore"
    assert conn.call("zRaNgEbYsCoRe", "k", "0", "1") == b"*0\r\n"
