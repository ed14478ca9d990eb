"""Differential tests: every script in diff/*.txt runs against a fresh ember and a
fresh reference redis-server, and the raw reply bytes must be identical.

Script syntax (one command per line):

    # comment                       blank lines and lines starting with '#' are skipped
    SET k "a b" 'c'                 split like redis-cli / sdssplitargs, sent as a RESP multibulk
    RAW b"PING\\r\\n"                 send these exact bytes (a Python bytes literal)
    @sorted SMEMBERS s              directives before the command change the comparison

Directives:
    @sorted       compare arrays as multisets, at every depth (so a SCAN reply's key
                  list is sorted too)
    @pairs        the reply is a flat array of field/value pairs; compare the pairs as a set
    @shape        compare only the structure: RESP types, recursively, and array lengths
    @type         compare only the top-level RESP type
    @range=LO..HI both replies are integers within [LO, HI]
    @replies=N    the line produces N replies (e.g. a RAW line with N inline commands)
    @closed       after its replies the server must close the connection; both sides
                  reconnect for the next line

A file's mismatches are all reported (file:line, command, both replies); a file is one
test case. EMBER_DIFF_SELFTEST=1 runs redis-server on both sides, to prove the scripts
deterministic.
"""

import ast
import time
from pathlib import Path

import pytest

from harness import (SELFTEST, ConnectionClosed, RawConn, RespProtocolError, encode_command,
                     resp_parse, split_args)

DIFF_DIR = Path(__file__).parent / "diff"
SCRIPTS = sorted(DIFF_DIR.glob("*.txt"))
REPLY_TIMEOUT = 3.0
MAX_TIMEOUTS = 3  # a file stops after this many unanswered commands
FLAGS = {"sorted", "pairs", "shape", "type", "closed"}


class ScriptError(Exception):
    pass


class Step:
    def __init__(self, path, lineno, text, payload, directives):
        self.path, self.lineno, self.text = path, lineno, text
        self.payload, self.directives = payload, directives

    @property
    def where(self):
        return f"{self.path.name}:{self.lineno}"


def parse_script(path):
    steps = []
    for lineno, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        line = raw.rstrip(b"\r").strip()
        if not line or line.startswith(b"#"):
            continue
        directives = {}
        while line.startswith(b"@"):
            word, _, line = line.partition(b" ")
            line = line.strip()
            name, _, value = word[1:].decode().partition("=")
            if name in FLAGS and not value:
                directives[name] = True
            elif name == "range" and ".." in value:
                lo, hi = value.split("..")
                directives[name] = (int(lo), int(hi))
            elif name == "replies" and value.isdigit():
                directives[name] = int(value)
            else:
                raise ScriptError(f"{path.name}:{lineno}: unknown directive {word!r}")
        if line.startswith(b"RAW "):
            try:
                payload = ast.literal_eval(line[4:].decode("latin-1").strip())
            except (ValueError, SyntaxError) as e:
                raise ScriptError(f"{path.name}:{lineno}: bad RAW literal: {e}")
            if not isinstance(payload, bytes):
                raise ScriptError(f"{path.name}:{lineno}: RAW needs a bytes literal")
        else:
            try:
                args = split_args(line)
            except ValueError as e:
                raise ScriptError(f"{path.name}:{lineno}: {e}")
            if not args:
                raise ScriptError(f"{path.name}:{lineno}: no command")
            payload = encode_command(*args)
        steps.append(Step(path, lineno, line.decode("latin-1"), payload, directives))
    return steps


# -- running one side


class Outcome:
    """What one server did for one step: its replies, and how the connection ended."""

    def __init__(self):
        self.nodes = []      # RespNode per reply
        self.closed = False  # the server closed the connection
        self.timeout = False
        self.error = None    # unparsable bytes etc.
        self.leftover = b""  # bytes after the expected replies (with @closed)
        self.left_open = False  # @closed, but the server kept the connection open

    def describe(self):
        parts = [repr(n.raw) if isinstance(n.raw, bytes) else repr(bytes(n.raw)) for n in self.nodes]
        if self.error:
            parts.append(f"<{self.error}>")
        if self.timeout:
            parts.append(f"<no reply within {REPLY_TIMEOUT}s>")
        if self.leftover:
            parts.append(f"<then {self.leftover!r}>")
        if self.closed:
            parts.append("<connection closed>")
        if self.left_open:
            parts.append(f"<connection still open after {REPLY_TIMEOUT}s>")
        return " ".join(parts) if parts else "<nothing>"


def run_step(conn, step):
    out = Outcome()
    want = step.directives.get("replies", 1)
    try:
        conn.send(step.payload)
    except OSError:
        pass  # a close is seen on read
    try:
        for _ in range(want):
            out.nodes.append(conn.read_node(REPLY_TIMEOUT))
    except ConnectionClosed as e:
        out.closed = True
        if e.data:
            out.error = f"partial reply {e.data!r}"
    except TimeoutError:
        out.timeout = True
    except RespProtocolError as e:
        out.error = f"invalid RESP: {e}"
    if step.directives.get("closed") and not (out.closed or out.timeout or out.error):
        try:
            out.leftover = conn.wait_closed(REPLY_TIMEOUT)
            out.closed = True
        except TimeoutError:  # replied, but kept the connection open
            out.leftover = bytes(conn.buf)
            out.left_open = True
    return out


# -- comparing


def shape(node):
    if isinstance(node.value, list):
        return (node.kind, tuple(shape(n) for n in node.value))
    return (node.kind, node.value is None)


def node_raw(n):
    return bytes(n.raw)


def canonical(node):
    """Arrays with their elements sorted, recursively; other replies as bytes."""
    if isinstance(node.value, list):
        return (node.kind, len(node.value), tuple(sorted(canonical(n) for n in node.value)))
    return (node.kind, 0, (node_raw(node),))


def compare(step, a, b):
    """Returns None if outcomes a (reference) and b (ember) agree, else a reason."""
    d = step.directives
    if a.timeout or a.error or a.left_open:
        raise ScriptError(f"{step.where}: the reference server gave {a.describe()} "
                          f"for {step.text!r}; fix the script")
    if (b.timeout or b.error or len(a.nodes) != len(b.nodes) or a.closed != b.closed
            or a.leftover != b.leftover):
        return "different replies or connection state"
    for x, y in zip(a.nodes, b.nodes):
        if "type" in d:
            if x.kind != y.kind:
                return "different RESP type"
        elif "shape" in d:
            if shape(x) != shape(y):
                return "different shape"
        elif "range" in d:
            lo, hi = d["range"]
            if x.kind != ":" or not lo <= int(x.value) <= hi:
                raise ScriptError(f"{step.where}: reference reply {x.raw!r} is not in the @range")
            if y.kind != ":" or not lo <= int(y.value) <= hi:
                return f"not an integer in [{lo}, {hi}]"
        elif "sorted" in d or "pairs" in d:
            if x.kind != y.kind or not isinstance(x.value, list) or not isinstance(y.value, list):
                if node_raw(x) != node_raw(y):
                    return "different replies"
                continue
            if "pairs" in d:
                if len(x.value) % 2 or len(y.value) % 2:
                    return "odd number of elements in a pairs reply"
                xs = sorted((node_raw(k), node_raw(v)) for k, v in zip(x.value[::2], x.value[1::2]))
                ys = sorted((node_raw(k), node_raw(v)) for k, v in zip(y.value[::2], y.value[1::2]))
            else:
                xs, ys = canonical(x), canonical(y)
            if xs != ys:
                return "different elements (order ignored)"
        elif node_raw(x) != node_raw(y):
            return "different bytes"
    return None


def run_script(path, ref_srv, ember_srv, ref_name, ember_name):
    steps = parse_script(path)
    mismatches = []
    ref = RawConn(ref_srv.port)
    emb = RawConn(ember_srv.port)
    timeouts = 0
    try:
        for step in steps:
            a = run_step(ref, step)
            b = run_step(emb, step)
            why = compare(step, a, b)
            if why:
                mismatches.append(f"{step.where}: {step.text}\n"
                                  f"    {why}\n"
                                  f"    {ref_name}: {a.describe()}\n"
                                  f"    {ember_name}: {b.describe()}")
            if a.closed or b.closed or b.timeout or b.left_open or b.error:
                ref.close()
                emb.close()
                if not ember_srv.alive():
                    mismatches.append(f"{step.where}: {step.text}\n    {ember_name} DIED "
                                      f"(status {ember_srv.proc.poll()}); rest of the file not run")
                    break
                ref = RawConn(ref_srv.port)
                emb = RawConn(ember_srv.port)
            if b.timeout:
                timeouts += 1
                if timeouts >= MAX_TIMEOUTS:
                    mismatches.append(f"{step.where}: {MAX_TIMEOUTS} commands unanswered by "
                                      f"{ember_name}; rest of the file not run")
                    break
    finally:
        ref.close()
        emb.close()
    return steps, mismatches


# Scripts that document a gap ember has not closed yet: they must fail (strict),
# so the mark goes the day they pass.
KNOWN_GAPS = {}


def _script_params():
    for p in SCRIPTS:
        reason = KNOWN_GAPS.get(p.stem)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason and not SELFTEST else []
        yield pytest.param(p, id=p.stem, marks=marks)


@pytest.mark.parametrize("script", list(_script_params()))
def test_script(script, start_redis, start_ember):
    ref_srv = start_redis()
    ember_srv = start_redis() if SELFTEST else start_ember()
    ember_name = "redis(selftest)" if SELFTEST else "ember"
    steps, mismatches = run_script(script, ref_srv, ember_srv, "redis", ember_name)
    assert steps, f"{script.name} has no commands"
    assert not mismatches, (f"{len(mismatches)} of {len(steps)} commands in {script.name} differ:\n"
                            + "\n".join(mismatches))


def test_scripts_exist():
    assert len(SCRIPTS) >= 10, f"expected the differential scripts in {DIFF_DIR}"


def test_every_script_parses():
    for path in SCRIPTS:
        parse_script(path)  # raises ScriptError with file:line


# -- the harness's own pieces, checked without any server


def test_resp_parse_needs_whole_reply():
    reply = b"*3\r\n$3\r\nfoo\r\n:-12\r\n*2\r\n$-1\r\n+OK\r\n"
    for cut in range(len(reply)):
        assert resp_parse(reply[:cut]) is None, cut
    node, end = resp_parse(reply + b"+extra\r\n")
    assert end == len(reply)
    assert node.kind == "*" and [n.kind for n in node.value] == ["$", ":", "*"]
    assert node.value[0].value == b"foo" and node.value[2].value[0].value is None


def test_resp_parse_bulk_with_crlf_inside():
    node, end = resp_parse(b"$4\r\na\r\nb\r\n")
    assert node.value == b"a\r\nb" and end == 10


def test_parse_script_directives(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes(b"# c\n\n@sorted @replies=2 KEYS *\n@range=1..5 TTL k\nRAW b'PING\\r\\n'\n")
    steps = parse_script(p)
    assert [s.lineno for s in steps] == [3, 4, 5]
    assert steps[0].directives == {"sorted": True, "replies": 2}
    assert steps[0].payload == b"*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"
    assert steps[1].directives == {"range": (1, 5)}
    assert steps[2].payload == b"PING\r\n"
    p.write_bytes(b"@bogus PING\n")
    with pytest.raises(ScriptError, match="x.txt:1"):
        parse_script(p)
