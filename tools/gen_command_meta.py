#!/usr/bin/python3
"""gen_command_meta.py: writes src/command_meta.inc, the COMMAND INFO/DOCS metadata.

Redis 7.0 describes each command beyond its arity, flags and key positions:
COMMAND INFO adds tips and key specs, COMMAND DOCS adds the argument tree
(redis-cli builds its hints from it), doc flags, deprecation and history. That
is data about the interface, not code, so it is copied from the reference
server rather than written by hand: this script starts Debian's redis-server
7.0.15 and an ember binary on free loopback ports, asks redis-server for
COMMAND and COMMAND DOCS (RESP3, so maps, sets and arrays are told apart), keeps
the commands and subcommands ember implements (asked with COMMAND on ember),
and emits static const tables that src/command_meta.c turns into replies.

Run it by hand after adding a command to ember, then rebuild and commit the
.inc file:

    tools/gen_command_meta.py --ember /tmp/x-build/ember-server [--redis redis-server]
                              [--out src/command_meta.inc]

It also prints where ember's own table (arity, flags, first/last/step key)
disagrees with redis-server: those are fixed by hand in the family files.

Layout of the output (all indices are 16-bit; strings are offsets into one
NUL-separated pool, deduplicated, offset 0 = "absent"):

    meta_pool      "\\0get\\0Get the value of a key\\0..."
    meta_commands  sorted by full name ("config|get"), found by binary search
    meta_keyspecs  each command's key specs, contiguous
    meta_args      argument trees: each list contiguous, children by index
    meta_lists     string lists: tips, and history as (version, text) pairs
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Orders as Redis 7.0 prints them (server.c); the script fails on anything else
# so a new field is noticed rather than silently dropped.
DOC_KEYS = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
            "replaced_by", "history", "arguments", "subcommands"]
ARG_KEYS = ["name", "type", "key_spec_index", "token", "since", "deprecated_since", "flags",
            "arguments"]
ARG_TYPES = ["string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
             "oneof", "block"]
ARG_FLAGS = ["optional", "multiple", "multiple_token"]
DOC_FLAGS = ["deprecated", "syscmd"]
KS_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
            "incomplete", "variable_flags"]
BS_TYPES = ["unknown", "index", "keyword"]
FK_TYPES = ["unknown", "range", "keynum"]


# ---- a minimal RESP3 client that keeps the reply types


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def _fill(self):
        data = self.s.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        """Returns (type, value): maps as lists of (key, value) pairs."""
        line = self._line()
        kind, rest = chr(line[0]), line[1:]
        if kind in "+-":
            return kind, rest.decode()
        if kind == ":":
            return kind, int(rest)
        if kind == "$":
            return kind, None if int(rest) < 0 else self._exact(int(rest)).decode()
        if kind == "_":
            return kind, None
        if kind in "*~":
            return kind, [self.read() for _ in range(int(rest))]
        if kind == "%":
            return kind, [(self.read(), self.read()) for _ in range(int(rest))]
        raise ValueError(f"unexpected reply {line!r}")

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(parts))
        return self.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, port):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            c = Conn(port)
            if c.cmd("PING") == ("+", "PONG"):
                return proc, c
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{argv[0]} did not answer PING on port {port}")


def as_map(node):
    kind, value = node
    assert kind == "%", node
    return [(k[1], v) for k, v in value]


# ---- the tables


class Pool:
    def __init__(self):
        self.offsets = {"": 0}
        self.strings = [""]
        self.size = 1

    def add(self, s):
        if s is None:
            return 0
        if s not in self.offsets:
            self.offsets[s] = self.size
            self.strings.append(s)
            self.size += len(s.encode()) + 1
        return self.offsets[s]


class Tables:
    def __init__(self):
        self.pool = Pool()
        self.keyspecs = []  # C initializers
        self.args = []      # list of dicts, filled in place (children assigned later)
        self.lists = []     # pool offsets
        self.commands = []

    def add_list(self, strings):
        at = len(self.lists)
        self.lists.extend(self.pool.add(s) for s in strings)
        return at

    def add_keyspec(self, node):
        fields = as_map(node)
        keys = [k for k, _ in fields]
        assert keys in (["flags", "begin_search", "find_keys"],
                        ["notes", "flags", "begin_search", "find_keys"]), keys
        f = dict(fields)
        flags = [x[1] for x in f["flags"][1]]
        assert flags == sorted(flags, key=KS_FLAGS.index), flags
        bs, fk = dict(as_map(f["begin_search"])), dict(as_map(f["find_keys"]))
        bs_type, fk_type = bs["type"][1], fk["type"][1]
        bs_spec, fk_spec = as_map(bs["spec"]), as_map(fk["spec"])
        keyword, pos = 0, 0
        if bs_type == "index":
            assert [k for k, _ in bs_spec] == ["index"]
            pos = bs_spec[0][1][1]
        elif bs_type == "keyword":
            assert [k for k, _ in bs_spec] == ["keyword", "startfrom"]
            keyword, pos = self.pool.add(bs_spec[0][1][1]), bs_spec[1][1][1]
        else:
            assert bs_type == "unknown" and not bs_spec
        want = {"range": ["lastkey", "keystep", "limit"],
                "keynum": ["keynumidx", "firstkey", "keystep"], "unknown": []}[fk_type]
        assert [k for k, _ in fk_spec] == want, fk_spec
        nums = [v[1] for _, v in fk_spec] + [0] * (3 - len(fk_spec))
        notes = self.pool.add(f["notes"][1]) if "notes" in f else 0
        mask = " | ".join(f"KS_{x.upper()}" for x in flags) or "0"
        self.keyspecs.append(f"{{{notes}, {keyword}, {mask}, BS_{bs_type.upper()}, "
                             f"FK_{fk_type.upper()}, {pos}, {{{nums[0]}, {nums[1]}, {nums[2]}}}}}")

    def add_args(self, nodes):
        """Appends an argument list contiguously, then each child list; returns its index."""
        at = len(self.args)
        parsed = []
        for node in nodes:
            fields = as_map(node)
            keys = [k for k, _ in fields]
            assert keys == sorted(keys, key=ARG_KEYS.index), keys
            f = {k: v[1] for k, v in fields}
            flags = [x[1] for x in f.get("flags", [])]
            assert flags == sorted(flags, key=ARG_FLAGS.index), flags
            entry = {
                "name": self.pool.add(f["name"]),
                "token": self.pool.add(f.get("token")),
                "since": self.pool.add(f.get("since")),
                "deprecated_since": self.pool.add(f.get("deprecated_since")),
                "type": "ARG_" + f["type"].upper().replace("-", "_"),
                "flags": " | ".join("ARG_" + x.upper() for x in flags) or "0",
                "key_spec_index": f.get("key_spec_index", -1),
                "children": 0,
                "nchildren": 0,
            }
            assert f["type"] in ARG_TYPES, f["type"]
            self.args.append(entry)
            parsed.append((entry, f.get("arguments")))
        for entry, children in parsed:
            if children is not None:
                entry["nchildren"] = len(children)
                entry["children"] = self.add_args(children) if children else 0
        return at

    def add_command(self, fullname, info, docs):
        """info: the 10-element COMMAND INFO entry; docs: the COMMAND DOCS map."""
        tips = [x[1] for x in info[7][1]]
        specs = info[8][1]
        ks_at = len(self.keyspecs)
        for spec in specs:
            self.add_keyspec(spec)
        fields = as_map(docs)
        keys = [k for k, _ in fields]
        assert keys == sorted(keys, key=DOC_KEYS.index), (fullname, keys)
        d = {k: v for k, v in fields}
        text = {k: d[k][1] if k in d else None
                for k in ("summary", "since", "group", "complexity", "deprecated_since",
                          "replaced_by")}
        doc_flags = [x[1] for x in d["doc_flags"][1]] if "doc_flags" in d else []
        assert doc_flags == sorted(doc_flags, key=DOC_FLAGS.index), doc_flags
        history = []
        for kind, pair in d["history"][1] if "history" in d else []:
            assert kind == "*" and len(pair) == 2, pair
            history += [pair[0][1], pair[1][1]]
        args = [x for x in d["arguments"][1]] if "arguments" in d else None
        entry = {
            "name": self.pool.add(fullname),
            **{k: self.pool.add(v) for k, v in text.items()},
            "tips": self.add_list(tips), "ntips": len(tips),
            "history": self.add_list(history), "nhistory": len(history) // 2,
            "keyspecs": ks_at, "nkeyspecs": len(specs),
            "args": self.add_args(args) if args else 0,
            "nargs": -1 if args is None else len(args),
            "doc_flags": " | ".join("DOC_" + x.upper() for x in doc_flags) or "0",
        }
        self.commands.append((fullname, entry))


def c_string(s):
    out = []
    for b in s.encode():
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '\\000"'


def emit(t, out):
    assert t.pool.size < 65536, "string pool outgrew 16-bit offsets"
    for what, n in (("args", len(t.args)), ("keyspecs", len(t.keyspecs)),
                    ("lists", len(t.lists))):
        assert n < 65536, what
    lines = ["/* Generated by tools/gen_command_meta.py from redis-server 7.0.15: do not edit. */",
             "/* clang-format off */",
             f"static const char meta_pool[{t.pool.size}] ="]
    lines += ["    " + c_string(s) for s in t.pool.strings]
    lines[-1] += ";"
    lines.append("static const struct meta_keyspec meta_keyspecs[] = {")
    lines += [f"    {k}," for k in t.keyspecs]
    lines.append("};")
    lines.append("static const struct meta_arg meta_args[] = {")
    for a in t.args:
        lines.append(f"    {{{a['name']}, {a['token']}, {a['since']}, {a['deprecated_since']}, "
                     f"{a['children']}, {a['type']}, {a['flags']}, {a['key_spec_index']}, "
                     f"{a['nchildren']}}},")
    lines.append("};")
    lines.append("static const uint16_t meta_lists[] = {")
    for i in range(0, len(t.lists), 12):
        lines.append("    " + ", ".join(str(x) for x in t.lists[i:i + 12]) + ",")
    lines.append("};")
    lines.append("static const struct command_meta meta_commands[] = {")
    for name, e in sorted(t.commands, key=lambda x: x[0].encode()):
        lines.append(f"    /* {name} */")
        lines.append(f"    {{{e['name']}, {e['summary']}, {e['since']}, {e['group']}, "
                     f"{e['complexity']}, {e['deprecated_since']}, {e['replaced_by']}, "
                     f"{e['tips']}, {e['history']}, {e['keyspecs']}, {e['args']}, "
                     f"{e['ntips']}, {e['nhistory']}, {e['nkeyspecs']}, {e['nargs']}, "
                     f"{e['doc_flags']}}},")
    lines.append("};")
    lines.append("/* clang-format on */")
    out.write_text("\n".join(lines) + "\n")


def flatten_info(reply):
    """COMMAND's reply as {fullname: 10-element entry}, subcommands included."""
    out = {}

    def walk(entry):
        kind, v = entry
        out[v[0][1]] = v
        for sub in v[9][1]:
            walk(sub)

    for e in reply[1]:
        walk(e)
    return out


def flatten_docs(reply):
    out = {}

    def walk(name, doc):
        out[name] = doc
        for k, v in as_map(doc):
            if k == "subcommands":
                for (_, sub), subdoc in v[1]:
                    walk(sub, subdoc)

    for (_, name), doc in reply[1]:
        walk(name, doc)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ember", required=True, help="ember-server binary")
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--out", default=str(ROOT / "src" / "command_meta.inc"))
    opts = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rport, eport = free_port(), free_port()
        rproc, r = start([opts.redis, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tmp], rport)
        eproc, e = start([opts.ember, "--port", str(eport), "--bind", "127.0.0.1"], eport)
        try:
            version = dict(as_map(r.cmd("HELLO", "3")))["version"][1]
            e.cmd("HELLO", "3")
            rinfo = flatten_info(r.cmd("COMMAND"))
            rdocs = flatten_docs(r.cmd("COMMAND", "DOCS"))
            einfo = flatten_info(e.cmd("COMMAND"))
        finally:
            rproc.terminate()
            eproc.terminate()
            rproc.wait()
            eproc.wait()
    if version != "7.0.15":
        print(f"warning: reference is redis {version}, not 7.0.15", file=sys.stderr)

    t = Tables()
    for name in sorted(einfo):
        if name not in rinfo:
            print(f"note: {name} is not a redis-server command; it gets no metadata")
            continue
        t.add_command(name, rinfo[name], rdocs[name])
        mine, ref = einfo[name], rinfo[name]
        # Arity, flags and key positions come from ember's own table. ember
        # derives movablekeys from the key specs generated here, so that flag
        # only matches once the new .inc is built in: it is left out.
        def table(entry):
            flags = [f[1] for f in entry[2][1] if f[1] != "movablekeys"]
            return [entry[1][1], flags, entry[3][1], entry[4][1], entry[5][1]]
        if table(mine) != table(ref):
            print(f"table differs: {name}: ember {table(mine)} redis {table(ref)}")
    emit(t, Path(opts.out))
    print(f"{opts.out}: {len(t.commands)} commands, {len(t.keyspecs)} key specs, "
          f"{len(t.args)} arguments, pool {t.pool.size} bytes")


if __name__ == "__main__":
    main()
