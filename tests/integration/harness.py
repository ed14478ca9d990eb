"""Shared helpers for ember's integration tests: free ports, a RESP reply
reader over raw sockets, redis-cli-style argument splitting, and a server
process wrapper (start, poll PING, SIGTERM, exit status, captured log)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
SELFTEST = os.environ.get("EMBER_DIFF_SELFTEST") == "1"
HOST = "127.0.0.1"
START_DEADLINE = 10.0  # seconds for a server to answer PING
STOP_DEADLINE = 10.0   # seconds for a server to exit after SIGTERM
IO_TIMEOUT = 5.0       # seconds for a reply on a raw socket

# Arguments that keep a redis-server from touching disk.
REDIS_QUIET_ARGS = ["--save", "", "--appendonly", "no", "--daemonize", "no"]


def ember_binary():
    if SELFTEST:
        return REDIS_SERVER
    return os.environ.get("EMBER_SERVER") or str(REPO / "build" / "ember-server")


def redis_available():
    return os.access(REDIS_SERVER, os.X_OK)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (never 6379)."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port != 6379:
            return port


# ---------------------------------------------------------------------------
# RESP reading: know when a reply is complete, so no sleeps are needed.


class RespProtocolError(Exception):
    """The bytes are not valid RESP."""


class ConnectionClosed(Exception):
    """The peer closed the connection; .data holds what it sent before."""

    def __init__(self, msg, data=b""):
        super().__init__(msg)
        self.data = data


class RespNode:
    """One parsed reply: kind is the RESP type byte as a str ('+', '-', ':', '$',
    '*', and the RESP3 ones), value is bytes for scalars, a list of RespNode for
    aggregates, None for a null; raw is the exact bytes of the reply."""

    __slots__ = ("kind", "value", "raw")

    def __init__(self, kind, value, raw):
        self.kind, self.value, self.raw = kind, value, raw

    def __repr__(self):
        return f"RespNode({self.kind!r}, {self.value!r})"


_LINE_TYPES = "+-:_,#("
_BLOB_TYPES = "$!="
_AGG_TYPES = "*~>"


def resp_parse(buf, pos=0):
    """Parses one reply from buf[pos:]. Returns (RespNode, end) or None when the
    reply is not complete yet. Raises RespProtocolError on malformed input."""
    if pos >= len(buf):
        return None
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return None
    kind = chr(buf[pos])
    line = buf[pos + 1:eol]
    after = eol + 2
    if kind in _LINE_TYPES:
        if kind == "_":
            return RespNode(kind, None, buf[pos:after]), after
        if kind == ":" and not _is_int(line):
            raise RespProtocolError(f"bad integer {line!r}")
        return RespNode(kind, bytes(line), buf[pos:after]), after
    if kind in _BLOB_TYPES or kind in _AGG_TYPES or kind in "%|":
        if not _is_int(line):
            raise RespProtocolError(f"bad length {line!r} after {kind!r}")
        n = int(line)
        if n < 0:
            if n != -1:
                raise RespProtocolError(f"bad negative length {n}")
            return RespNode(kind, None, buf[pos:after]), after
        if kind in _BLOB_TYPES:
            end = after + n
            if len(buf) < end + 2:
                return None
            if buf[end:end + 2] != b"\r\n":
                raise RespProtocolError(f"bulk of {n} bytes not followed by CRLF")
            return RespNode(kind, bytes(buf[after:end]), buf[pos:end + 2]), end + 2
        count = n * 2 if kind in "%|" else n
        items = []
        cur = after
        for _ in range(count):
            got = resp_parse(buf, cur)
            if got is None:
                return None
            node, cur = got
            items.append(node)
        if kind == "|":  # attribute: the real reply follows
            got = resp_parse(buf, cur)
            if got is None:
                return None
            node, cur = got
            return RespNode(node.kind, node.value, buf[pos:cur]), cur
        return RespNode(kind, items, buf[pos:cur]), cur
    raise RespProtocolError(f"unknown RESP type byte {kind!r} in {bytes(buf[pos:pos + 40])!r}")


def _is_int(b):
    s = bytes(b)
    if s.startswith(b"-"):
        s = s[1:]
    return s.isdigit()


def encode_command(*args):
    """A command as a RESP multibulk; str args are UTF-8 encoded."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawConn:
    """A raw TCP connection that reads whole RESP replies, bounded by a deadline."""

    def __init__(self, port, host=HOST, timeout=IO_TIMEOUT, nodelay=True):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.send(encode_command(*args))

    def _fill(self, deadline):
        """Reads more bytes into buf; sets eof on close. TimeoutError at deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete reply within {self.timeout}s; have {bytes(self.buf)!r}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise TimeoutError(f"no complete reply within {self.timeout}s; have {bytes(self.buf)!r}")
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
        else:
            self.buf += chunk

    def read_node(self, timeout=None):
        """Reads one complete reply and returns it as a RespNode."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            got = resp_parse(self.buf)
            if got is not None:
                node, end = got
                del self.buf[:end]
                return node
            if self.eof:
                data = bytes(self.buf)
                raise ConnectionClosed(f"connection closed before a complete reply; got {data!r}", data)
            self._fill(deadline)

    def read_reply(self, timeout=None):
        """Reads one complete reply and returns its exact bytes."""
        return bytes(self.read_node(timeout).raw)

    def read_replies(self, n, timeout=None):
        return [self.read_reply(timeout) for _ in range(n)]

    def call(self, *args):
        self.send_command(*args)
        return self.read_reply()

    def read_exactly(self, n, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while len(self.buf) < n:
            if self.eof:
                raise ConnectionClosed(f"closed after {len(self.buf)} of {n} bytes", bytes(self.buf))
            self._fill(deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def wait_closed(self, timeout=None):
        """Waits until the server closes the connection. Returns any bytes that
        arrived first (unread leftovers included); raises TimeoutError if the
        connection is still open at the deadline."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not self.eof:
            self._fill(deadline)
        data = bytes(self.buf)
        self.buf.clear()
        return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# Server processes.


class ServerError(Exception):
    pass


class Server:
    """One server process (ember or redis-server) on a free loopback port."""

    def __init__(self, name, binary, args, workdir, port=None):
        """port=None picks a free port and passes --port/--bind; a given port is
        assumed to come from the config file or args, and nothing is added."""
        self.fixed_port = port
        self.name = name
        self.binary = binary
        self.extra_args = list(args)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = None
        self.proc = None
        self.log_path = None
        self.returncode = None
        self.starts = 0

    # -- lifecycle

    def start(self, attempts=3):
        """Starts the process and polls PING until it answers. Retries on another
        port if the one picked was taken meanwhile."""
        for attempt in range(attempts):
            self.port = self.fixed_port or free_port()
            self.starts += 1
            self.log_path = self.workdir / f"{self.name}-{self.starts}.log"
            argv = [self.binary] + self._args_with_port()
            with open(self.log_path, "wb") as log:
                log.write(("$ " + " ".join(repr(a) if (" " in a or not a) else a for a in argv) + "\n").encode())
                log.flush()
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, cwd=self.workdir)
            self.returncode = None
            try:
                self.wait_ready()
                return self
            except ServerError:
                if (self.proc.poll() is not None and b"in use" in self.log_bytes()
                        and self.fixed_port is None and attempt + 1 < attempts):
                    continue
                self.kill()
                self.proc = None  # reported by the raise; nothing left to stop
                raise
        raise AssertionError("unreachable")

    def _args_with_port(self):
        # A config file (first argument not starting with '-') must stay first.
        args = list(self.extra_args)
        head = []
        if args and not args[0].startswith("-"):
            head = [args.pop(0)]
        tail = [] if self.fixed_port else ["--port", str(self.port), "--bind", HOST]
        return head + ember_base_args_for(self.binary) + args + tail

    def wait_ready(self, deadline=START_DEADLINE):
        end = time.monotonic() + deadline
        last = None
        while time.monotonic() < end:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                raise ServerError(f"{self.name} exited with status {rc} before answering PING\n"
                                  f"--- log {self.log_path} ---\n{self.log_text()}")
            try:
                with RawConn(self.port, timeout=1.0) as c:
                    reply = c.call("PING")
                if reply == b"+PONG\r\n" or reply.startswith(b"-NOAUTH"):
                    return  # up (with requirepass, PING needs AUTH first)
                last = f"PING answered {reply!r}"
            except (OSError, TimeoutError, ConnectionClosed, RespProtocolError) as e:
                last = repr(e)
            time.sleep(0.01)  # poll interval, bounded by the deadline above
        raise ServerError(f"{self.name} did not answer PING within {deadline}s (last: {last})\n"
                          f"--- log {self.log_path} ---\n{self.log_text()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, deadline=STOP_DEADLINE):
        """Sends sig and waits for the exit. Returns the exit status (negative for
        a signal, as subprocess reports it), or None if it had to be killed."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(deadline)
            except subprocess.TimeoutExpired:
                self.kill()
                self.returncode = None
                return None
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop_and_check(self):
        """SIGTERM, then assert a clean exit (status 0)."""
        if self.proc is None:
            return
        was_alive = self.alive()
        rc = self.stop()
        assert rc == 0, (f"{self.name} {'exited' if was_alive else 'had died'} with status {rc} "
                         f"(expected 0 after SIGTERM)\n--- log {self.log_path} ---\n{self.log_text()}")

    # -- helpers

    def log_bytes(self):
        try:
            return self.log_path.read_bytes()
        except (OSError, AttributeError):
            return b""

    def log_text(self, limit=20000):
        text = self.log_bytes().decode("utf-8", "replace")
        if len(text) > limit:
            text = "[...]\n" + text[-limit:]
        return text

    def client(self, decode=True, **kw):
        return redis.Redis(host=self.host, port=self.port, decode_responses=decode,
                           socket_timeout=IO_TIMEOUT, **kw)

    def raw(self, **kw):
        return RawConn(self.port, **kw)

    def flushall(self):
        with self.raw() as c:
            reply = c.call("FLUSHALL")
        assert reply == b"+OK\r\n", f"FLUSHALL on {self.name} answered {reply!r}"


def ember_base_args_for(binary):
    return list(REDIS_QUIET_ARGS) if binary == REDIS_SERVER else []


def run_ember(args, timeout=10.0, cwd=None):
    """Runs ember with args to completion (for --version, bad configs...):
    returns CompletedProcess with stdout and stderr merged into .stdout (text)."""
    argv = [ember_binary()] + [str(a) for a in args]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd,
                          text=True, errors="replace")


# ---------------------------------------------------------------------------
# redis-cli / sdssplitargs argument splitting.


class SplitArgsError(ValueError):
    pass


_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "b": b"\b", "a": b"\a"}
_HEX = "0123456789abcdefABCDEF"


def split_args(line):
    """Splits a line as redis-cli and Redis's sdssplitargs() do, returning a list
    of bytes. Double quotes allow \\xHH, \\n, \\r, \\t, \\b, \\a and \\<any>;
    single quotes allow only \\'; a closing quote must be followed by a space or
    the end of the line. Unbalanced quotes raise SplitArgsError."""
    if isinstance(line, str):
        line = line.encode("utf-8")
    line = line.decode("latin-1")  # one char per byte from here on
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \n\r\t\v\f":
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    raise SplitArgsError("unbalanced quotes")
                ch = line[i]
                if (ch == "\\" and i + 3 < n and line[i + 1] == "x"
                        and line[i + 2] in _HEX and line[i + 3] in _HEX):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == "\\" and i + 1 < n:
                    i += 1
                    c = line[i]
                    cur += _ESCAPES.get(c, c.encode("latin-1"))
                elif ch == '"':
                    if i + 1 < n and line[i + 1] not in " \n\r\t\v\f":
                        raise SplitArgsError("closing quote must be followed by a space")
                    i += 1
                    break
                else:
                    cur += ch.encode("latin-1")
            elif insq:
                if i >= n:
                    raise SplitArgsError("unbalanced quotes")
                ch = line[i]
                if ch == "\\" and i + 1 < n and line[i + 1] == "'":
                    i += 1
                    cur += b"'"
                elif ch == "'":
                    if i + 1 < n and line[i + 1] not in " \n\r\t\v\f":
                        raise SplitArgsError("closing quote must be followed by a space")
                    i += 1
                    break
                else:
                    cur += ch.encode("latin-1")
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in " \n\r\t\v\f":
                    break
                if ch == '"':
                    inq = True
                elif ch == "'":
                    insq = True
                else:
                    cur += ch.encode("latin-1")
            i += 1
        args.append(bytes(cur))
