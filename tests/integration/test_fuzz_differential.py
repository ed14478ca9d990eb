"""Seeded protocol fuzzing, differential: the same mangled byte stream goes to ember
and to the reference redis-server, each on a fresh connection that is then
half-closed (shutdown SHUT_WR); everything the server sends until it closes must be
byte-identical. Streams are built from valid commands (multibulk or inline) with a
few byte-level mutations, so they hit the parser's edges: wrong lengths, stray
CR/LF, bad type bytes, quotes, truncation.

A failure prints the seed and the stream; rerun one case with
EMBER_FUZZ_SEED=<seed> (EMBER_FUZZ_CASES sets how many cases run, default 300)."""

import os
import random
import socket

import pytest

from harness import RawConn, encode_command

CASES = int(os.environ.get("EMBER_FUZZ_CASES", "300"))
FIXED_SEED = os.environ.get("EMBER_FUZZ_SEED")

KEYS = ["k", "l", "h", "n", ""]
COMMANDS = [
    lambda r: ["PING"],
    lambda r: ["PING", word(r)],
    lambda r: ["ECHO", word(r)],
    lambda r: ["SET", r.choice(KEYS), word(r)],
    lambda r: ["SET", r.choice(KEYS), word(r), r.choice(["NX", "XX", "GET", "EX", "KEEPTTL"])],
    lambda r: ["GET", r.choice(KEYS)],
    lambda r: ["INCR", "n"],
    lambda r: ["INCRBY", "n", str(r.randint(-5, 5))],
    lambda r: ["APPEND", r.choice(KEYS), word(r)],
    lambda r: ["STRLEN", r.choice(KEYS)],
    lambda r: ["RPUSH", "l", word(r), word(r)],
    lambda r: ["LRANGE", "l", str(r.randint(-3, 3)), str(r.randint(-3, 3))],
    lambda r: ["HSET", "h", word(r), word(r)],
    lambda r: ["HGET", "h", word(r)],
    lambda r: ["DEL", r.choice(KEYS)],
    lambda r: ["EXISTS", r.choice(KEYS), r.choice(KEYS)],
    lambda r: ["TYPE", r.choice(KEYS)],
    lambda r: ["MGET", r.choice(KEYS), r.choice(KEYS)],
    lambda r: ["NOSUCH", word(r)],
    lambda r: ["GET"],
]

MUTATION_BYTES = b"*$:+-\r\n\r\n0123456789 \"'\\aq\x00\xff"  # no letter that makes a stream command (xDEL)


def word(r):
    return "".join(r.choice("ab1 \"'\\") for _ in range(r.randint(0, 4)))


def inline(args):
    """An inline command; args with awkward bytes are double-quoted."""
    out = []
    for a in args:
        if a == "" or any(c in a for c in " \"'\\"):
            a = '"' + a.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(a)
    return (" ".join(out) + "\r\n").encode()


def make_stream(seed):
    r = random.Random(seed)
    parts = []
    for _ in range(r.randint(1, 8)):
        args = r.choice(COMMANDS)(r)
        parts.append(inline(args) if r.random() < 0.3 else encode_command(*args))
    data = bytearray(b"".join(parts))
    for _ in range(r.choice([0, 1, 1, 2, 3])):
        op = r.random()
        pos = r.randrange(len(data)) if data else 0
        if op < 0.4 and data:
            data[pos] = r.choice(MUTATION_BYTES)
        elif op < 0.6 and data:
            del data[pos]
        elif op < 0.8:
            data.insert(pos, r.choice(MUTATION_BYTES))
        else:
            data = data[:pos]
    return bytes(data)


def exchange(srv, data):
    """Sends data, half-closes, and returns everything until the server closes."""
    with RawConn(srv.port) as c:
        if data:
            c.send(data)
        c.sock.shutdown(socket.SHUT_WR)
        return c.wait_closed()


def seeds():
    if FIXED_SEED is not None:
        return [int(FIXED_SEED)]
    return list(range(CASES))


def test_half_close_still_gets_every_reply(ember, redis_ref):
    data = b"".join(encode_command("INCR", "n") for _ in range(100)) + b"PING\r\n*1\r\n$4\r\nPI"
    want = b"".join(b":%d\r\n" % i for i in range(1, 101)) + b"+PONG\r\n"
    assert exchange(redis_ref, data) == want
    assert exchange(ember, data) == want


@pytest.mark.parametrize("chunk", range(4))
def test_fuzzed_streams_match_redis(ember, redis_ref, chunk):
    """A quarter of the seeds per case, so a failure names a narrower range."""
    mine = [s for s in seeds() if s % 4 == chunk]
    if not mine:
        pytest.skip("no seeds in this chunk")
    failures = []
    for seed in mine:
        data = make_stream(seed)
        for srv in (redis_ref, ember):
            srv.flushall()
        want = exchange(redis_ref, data)
        got = exchange(ember, data)
        if got != want:
            failures.append(f"seed {seed}: stream {data!r}\n    redis: {want!r}\n    ember: {got!r}")
        assert ember.alive(), f"ember died on seed {seed}: stream {data!r}"
        if len(failures) >= 10:
            break
    assert not failures, f"{len(failures)} fuzzed streams differ:\n" + "\n".join(failures)
