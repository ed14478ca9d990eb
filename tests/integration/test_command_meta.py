"""COMMAND INFO / DOCS / COUNT / LIST against the reference redis-server, for
every command and subcommand ember has, in RESP2 and RESP3 (issue 7).

The replies must be byte-identical, with one allowance: redis-server lists a
container's subcommands in its hash table's order, which changes from run to
run, so subcommands are compared one by one, by name. The subcommands ember
does not implement yet are listed in MISSING_SUBCOMMANDS; the test fails when
that list is out of date in either direction.

The metadata comes from src/command_meta.inc (tools/gen_command_meta.py);
when this test fails after a command was added, rerun the generator.
"""

import pytest

from harness import SELFTEST, RawConn

# Subcommands of ember's containers that redis-server 7.0 has and ember lacks.
MISSING_SUBCOMMANDS = {
    "latency|graph",
    "cluster|addslots", "cluster|addslotsrange", "cluster|bumpepoch",
    "cluster|count-failure-reports", "cluster|delslots", "cluster|delslotsrange",
    "cluster|failover", "cluster|flushslots", "cluster|forget", "cluster|help", "cluster|links",
    "cluster|meet", "cluster|replicas", "cluster|replicate", "cluster|reset",
    "cluster|saveconfig", "cluster|set-config-epoch", "cluster|setslot", "cluster|slaves",
}
REGENERATE = ("\n(after adding a command: tools/gen_command_meta.py --ember <build>/ember-server, "
              "then rebuild)")
# ember has it (Redis 7.2's CLIENT SETINFO, sent by newer clients); Redis 7.0 does not.
EMBER_ONLY = {"client|setinfo"}


class Conn(RawConn):
    def call(self, *args):
        """The reply as a parsed node."""
        self.send_command(*args)
        return self.read_node()


def connect(srv, proto):
    c = Conn(srv.port)
    if proto == 3:
        c.call("HELLO", "3")
    return c


def raw(node):
    return bytes(node.raw)


def pairs(node):
    """A map (RESP3) or flat array (RESP2) as a list of (key bytes, value node)."""
    items = node.value
    return [(k.value, v) for k, v in zip(items[::2], items[1::2])]


def split_info(entry):
    """A COMMAND INFO entry: (its bytes with the subcommand list cut out,
    {name: subcommand entry})."""
    fields = entry.value
    subs = {s.value[0].value.decode(): s for s in fields[9].value}
    head = b"".join(raw(f) for f in fields[:9]) + fields[9].kind.encode()
    return head, subs


def split_docs(doc):
    """A COMMAND DOCS value: (its fields but subcommands, {name: doc})."""
    head, subs = [], {}
    for key, value in pairs(doc):
        if key == b"subcommands":
            subs = {k.decode(): v for k, v in pairs(value)}
        else:
            head.append((key, raw(value)))
    return head, subs


def ember_names(ember):
    with connect(ember, 2) as c:
        reply = c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "*")
    return sorted(n.value.decode() for n in reply.value)


def compare_entries(name, ref, emb, split, problems, missing):
    if ref.kind != emb.kind:
        problems.append(f"{name}: reply type {ref.kind} vs {emb.kind}")
        return
    rhead, rsubs = split(ref)
    ehead, esubs = split(emb)
    if rhead != ehead:
        problems.append(f"{name}:\n  redis {rhead!r}\n  ember {ehead!r}")
    for sub, node in esubs.items():
        if sub in EMBER_ONLY:
            continue
        if sub not in rsubs:
            problems.append(f"{name}: subcommand {sub} unknown to redis")
        elif raw(rsubs[sub]) != raw(node):
            problems.append(f"{sub}:\n  redis {raw(rsubs[sub])!r}\n  ember {raw(node)!r}")
    missing.update(set(rsubs) - set(esubs))


@pytest.mark.parametrize("proto", [2, 3])
def test_command_info_every_command(ember, redis_ref, proto):
    problems, missing = [], set()
    names = [n for n in ember_names(ember) if n not in EMBER_ONLY]
    assert len(names) > 200, names
    with connect(redis_ref, proto) as r, connect(ember, proto) as e:
        for name in names:
            ref, emb = r.call("COMMAND", "INFO", name), e.call("COMMAND", "INFO", name)
            assert ref.value[0].value is not None, f"redis has no {name}"
            compare_entries(name, ref.value[0], emb.value[0], split_info, problems, missing)
    assert not problems, f"{len(problems)} differ:\n" + "\n".join(problems) + REGENERATE
    assert missing == (set() if SELFTEST else MISSING_SUBCOMMANDS)


@pytest.mark.parametrize("proto", [2, 3])
def test_command_docs_every_command(ember, redis_ref, proto):
    problems, missing = [], set()
    names = [n for n in ember_names(ember) if n not in EMBER_ONLY]
    with connect(redis_ref, proto) as r, connect(ember, proto) as e:
        for name in names:
            ref, emb = r.call("COMMAND", "DOCS", name), e.call("COMMAND", "DOCS", name)
            (rkey, rdoc), = pairs(ref)
            (ekey, edoc), = pairs(emb)
            assert rkey == ekey == name.encode()
            compare_entries(name, rdoc, edoc, split_docs, problems, missing)
    assert not problems, f"{len(problems)} differ:\n" + "\n".join(problems) + REGENERATE
    assert missing == (set() if SELFTEST else MISSING_SUBCOMMANDS)


@pytest.mark.parametrize("proto", [2, 3])
def test_command_all_entries_match_info(ember, proto):
    """COMMAND and COMMAND DOCS without names list every top-level command,
    each as COMMAND INFO/DOCS <name> shows it."""
    with connect(ember, proto) as e:
        everything = e.call("COMMAND")
        count = int(e.call("COMMAND", "COUNT").value)
        assert len(everything.value) == count
        for entry in everything.value[:40]:
            name = entry.value[0].value.decode()
            assert raw(e.call("COMMAND", "INFO", name).value[0]) == raw(entry)
        docs = e.call("COMMAND", "DOCS")
        assert len(pairs(docs)) == count
        for key, doc in pairs(docs)[:40]:
            (_, one), = pairs(e.call("COMMAND", "DOCS", key.decode()))
            assert raw(one) == raw(doc)


def test_command_count_and_list(ember, redis_ref):
    with connect(ember, 2) as e, connect(redis_ref, 2) as r:
        # COUNT counts top-level commands; LIST lists subcommands too.
        count = int(e.call("COMMAND", "COUNT").value)
        listed = [n.value.decode() for n in e.call("COMMAND", "LIST").value]
        assert len(listed) == len(set(listed))
        assert len([n for n in listed if "|" not in n]) == count
        assert any("|" in n for n in listed)
        ref_listed = {n.value.decode() for n in r.call("COMMAND", "LIST").value}
        assert set(listed) - EMBER_ONLY <= ref_listed
        everything = set(ember_names(ember))
        assert set(listed) == everything

        def filtered(conn, *args):
            return {n.value.decode() for n in conn.call("COMMAND", "LIST", "FILTERBY", *args).value}

        cats = [n.value.decode() for n in r.call("ACL", "CAT").value]
        assert len(cats) == 21
        for cat in cats:
            want = filtered(r, "ACLCAT", cat) & everything
            assert filtered(e, "ACLCAT", cat) - EMBER_ONLY == want, cat
        for pattern in ["*", "z*", "config|*", "*|get", "s?t", "[gs]et*", "x*"]:
            want = filtered(r, "PATTERN", pattern) & everything
            assert filtered(e, "PATTERN", pattern) - EMBER_ONLY == want, pattern
        for module in ["nosuch", "*"]:
            assert filtered(e, "MODULE", module) == filtered(r, "MODULE", module) == set()
        for args in (["LIST", "FILTERBY", "bogus", "x"], ["LIST", "x"], ["LIST", "FILTERBY"]):
            assert raw(e.call("COMMAND", *args)) == raw(r.call("COMMAND", *args)), args
