"""The foundation walkthrough with redis-py 4.3.4, run against ember and, for the
same results, against the reference redis-server; then redis-cli, fed on stdin and
driven interactively under a pseudo-terminal."""

import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import fcntl
import time

import pytest
import redis

from harness import REDIS_CLI

WALKTHROUGH_EXPECTED = [
    True,                                   # set key-name
    "string",                               # get key-name
    True,                                   # set key_name (json)
    3,                                      # rpush key-name2 a b c
    ["a", "b", "c"],                        # lrange 0 -1
    ["a", "b"],                             # lrange 0 1
    2,                                      # hset mapping
    "val_1",                                # hget
    {"key_1": "val_1", "key_n": "val_n"},   # hgetall
    True,                                   # expire 3600
    3600,                                   # ttl
    [{"key_1": "val_1"}],                   # json round trip of key_name
]


def walkthrough(port):
    """The walkthrough exactly as a user types it; returns every result."""
    r = redis.Redis(host='localhost', port=port, decode_responses=True)
    try:
        out = []
        out.append(r.set("key-name", "string"))
        out.append(r.get("key-name"))
        out.append(r.set("key_name", json.dumps([{"key_1": "val_1"}])))
        out.append(r.rpush("key-name2", "a", "b", "c"))
        out.append(r.lrange("key-name2", 0, -1))
        out.append(r.lrange("key-name2", 0, 1))
        out.append(r.hset("h", mapping={"key_1": "val_1", "key_n": "val_n"}))
        out.append(r.hget("h", "key_1"))
        out.append(r.hgetall("h"))
        out.append(r.expire("key_name", 3600))
        out.append(r.ttl("key_name"))
        out.append(json.loads(r.get("key_name")))
        return out
    finally:
        r.close()


def test_walkthrough(ember):
    got = walkthrough(ember.port)
    for i, (want, have) in enumerate(zip(WALKTHROUGH_EXPECTED, got)):
        assert have == want, f"step {i}: expected {want!r}, got {have!r}"
    assert len(got) == len(WALKTHROUGH_EXPECTED)


def test_walkthrough_same_as_redis(ember, redis_ref):
    assert walkthrough(ember.port) == walkthrough(redis_ref.port) == WALKTHROUGH_EXPECTED


def test_walkthrough_state_afterwards(ember, r):
    """After the walkthrough the keyspace holds exactly its four keys, typed right."""
    walkthrough(ember.port)
    assert sorted(r.keys("*")) == ["h", "key-name", "key-name2", "key_name"]
    assert [r.type(k) for k in ("key-name", "key_name", "key-name2", "h")] == \
        ["string", "string", "list", "hash"]
    assert r.ttl("key-name") == -1
    assert r.ttl("nosuch") == -2


def test_redis_py_errors(r):
    """redis-py strips "ERR " but keeps "WRONGTYPE " (STYLE.md section 8)."""
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=r"^WRONGTYPE Operation against a key"):
        r.lrange("k", 0, -1)
    with pytest.raises(redis.ResponseError, match=r"^wrong number of arguments for 'get' command$"):
        r.execute_command("GET")
    with pytest.raises(redis.ResponseError, match=r"^value is not an integer or out of range$"):
        r.incr("k")


def test_binary_values_rb(rb):
    value = bytes(range(256)) * 4
    assert rb.set(b"bin\x00key", value) is True
    assert rb.get(b"bin\x00key") == value
    assert rb.strlen(b"bin\x00key") == 1024


# ---------------------------------------------------------------------------
# redis-cli fed on stdin (not a tty: raw output by default)

CLI_INPUT = """\
FLUSHALL
SET a 1
GET a
GET nosuch
INCR a
RPUSH l x y z
LRANGE l 0 -1
LRANGE nosuch 0 -1
HSET h f v
HGETALL h
GET l
FOO bar
PING
ECHO "hello world"
SET "" ""
GET ""
EXISTS a l h nosuch
"""

CLI_RAW_EXPECTED = (
    "OK\nOK\n1\n\n2\n3\nx\ny\nz\n\n1\nf\nv\n"
    "WRONGTYPE Operation against a key holding the wrong kind of value\n\n"
    "ERR unknown command 'FOO', with args beginning with: 'bar' \n\n"
    "PONG\nhello world\nOK\n\n3\n"
)

CLI_NORAW_EXPECTED = """\
OK
OK
"1"
(nil)
(integer) 2
(integer) 3
1) "x"
2) "y"
3) "z"
(empty array)
(integer) 1
1) "f"
2) "v"
(error) WRONGTYPE Operation against a key holding the wrong kind of value
(error) ERR unknown command 'FOO', with args beginning with: 'bar' 
PONG
"hello world"
OK
""
(integer) 3
"""


def run_cli(cli, port, *args, stdin=CLI_INPUT):
    proc = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), *args], input=stdin,
                          capture_output=True, text=True, timeout=20)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("mode", ["raw-default", "no-raw"])
def test_redis_cli_stdin(redis_cli, ember, mode):
    args = ["--no-raw"] if mode == "no-raw" else []
    expected = CLI_NORAW_EXPECTED if mode == "no-raw" else CLI_RAW_EXPECTED
    rc, out, err = run_cli(redis_cli, ember.port, *args)
    assert (rc, err) == (0, ""), f"redis-cli failed: rc={rc} stderr={err!r}\nstdout:\n{out}"
    assert out == expected


@pytest.mark.parametrize("mode", ["raw-default", "no-raw"])
def test_redis_cli_stdin_same_as_redis(redis_cli, ember, redis_ref, mode):
    args = ["--no-raw"] if mode == "no-raw" else []
    want = run_cli(redis_cli, redis_ref.port, *args)
    got = run_cli(redis_cli, ember.port, *args)
    assert got == want


def test_redis_cli_command_args(redis_cli, ember):
    """redis-cli with the command on its own command line."""
    rc, out, err = run_cli(redis_cli, ember.port, "SET", "greeting", "hello world", stdin="")
    assert (rc, out, err) == (0, "OK\n", "")
    rc, out, err = run_cli(redis_cli, ember.port, "--no-raw", "GET", "greeting", stdin="")
    assert (rc, out, err) == (0, '"hello world"\n', "")


# ---------------------------------------------------------------------------
# redis-cli interactive, under a pseudo-terminal

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class PtyCli:
    """redis-cli on a pty: the REPL, with linenoise, hints and COMMAND DOCS."""

    def __init__(self, cli, port, tmp_path):
        self.port = port
        env = dict(os.environ, TERM="xterm", HOME=str(tmp_path),
                   REDISCLI_HISTFILE=str(tmp_path / "history"),
                   REDISCLI_RCFILE=str(tmp_path / "redisclirc"))
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.execve(cli, [cli, "-h", "127.0.0.1", "-p", str(port)], env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        self.out = b""
        self.status = None

    def expect(self, pattern, timeout=10.0):
        """Reads until the ANSI-stripped output matches pattern; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text())
            if m:
                return m
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"redis-cli: no {pattern!r} within {timeout}s; output so far:\n"
                                     f"{self.text()!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child has gone
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"redis-cli exited before {pattern!r}; output:\n{self.text()!r}")
                self.out += chunk

    def text(self):
        return ANSI.sub(b"", self.out).replace(b"\r", b"").decode("utf-8", "replace")

    def send(self, line):
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # drain output so the child never blocks on a full pty
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                    self.out += chunk
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"redis-cli did not exit; output:\n{self.text()!r}")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


def interactive_session(cli, srv, tmp_path):
    prompt = rf"127\.0\.0\.1:{srv.port}> "
    session = PtyCli(cli, srv.port, tmp_path)
    try:
        # linenoise flushes typed-ahead input when it enters raw mode, so each
        # line is typed only once the next prompt is out.
        session.expect(prompt)
        mark = len(session.text())
        session.send("SET a 1")
        session.expect(r"(?m)^OK\n" + prompt)
        session.send("GET a")
        session.expect(r'(?m)^"1"\n' + prompt)
        session.send("GET nosuch")
        session.expect(r"(?m)^\(nil\)\n" + prompt)
        session.send("quit")
        rc = session.wait()
        return rc, session.text()[mark:]
    finally:
        session.close()


def test_redis_cli_interactive(redis_cli, ember, r, tmp_path):
    rc, text = interactive_session(redis_cli, ember, tmp_path)
    assert rc == 0, f"redis-cli exited {rc}; output:\n{text}"
    assert "Could not connect" not in text and "ERR" not in text, text
    assert r.get("a") == "1"  # the typed SET reached ember


def test_redis_cli_interactive_reference(redis_cli, redis_ref, tmp_path):
    """The same session against redis-server, proving the test itself."""
    rc, text = interactive_session(redis_cli, redis_ref, tmp_path)
    assert rc == 0, text


def hint_session(cli, srv, tmp_path):
    """Types "SET " at the prompt and returns what redis-cli shows after it: the
    argument hint, which redis-cli 7 builds from COMMAND DOCS."""
    prompt = rf"127\.0\.0\.1:{srv.port}> "
    session = PtyCli(cli, srv.port, tmp_path)
    try:
        session.expect(prompt)
        mark = len(session.text())
        os.write(session.fd, b"SET ")
        try:
            session.expect(r"SET key value", timeout=3.0)
        except AssertionError:
            pass
        shown = session.text()[mark:]
        os.write(session.fd, b"a 1\r")
        session.expect(r"(?m)^OK\n" + prompt)
        session.send("quit")
        assert session.wait() == 0
        return shown
    finally:
        session.close()


def test_redis_cli_shows_argument_hints(redis_cli, ember, tmp_path):
    """redis-cli's hints come from COMMAND DOCS "arguments"; without them it
    shows none (the reference shows "key value [NX|XX] ...")."""
    shown = hint_session(redis_cli, ember, tmp_path)
    assert "SET key value [NX|XX]" in shown, f"no argument hint after 'SET '; screen: {shown!r}"


def test_redis_cli_shows_argument_hints_reference(redis_cli, redis_ref, tmp_path):
    shown = hint_session(redis_cli, redis_ref, tmp_path)
    assert "SET key value [NX|XX]" in shown, shown


def test_command_docs_usable(ember):
    """redis-cli sends COMMAND DOCS at start-up; whatever ember answers must be
    a well-formed reply it can walk: an array of name/doc pairs."""
    with ember.raw() as c:
        c.send_command("COMMAND", "DOCS", "get")
        node = c.read_node()
    assert node.kind == "*" and len(node.value) % 2 == 0, node.raw
    if node.value:
        assert node.value[0].value == b"get"
        assert node.value[1].kind in "*%"
