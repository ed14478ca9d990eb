"""CLIENT INFO / CLIENT LIST fields that tools read: flags, user, redir, db,
multi, sub/psub, against redis-server in the same states."""

import pytest

from harness import encode_command


FIELDS = ("flags", "db", "sub", "psub", "multi", "user", "redir", "resp")


def fields(line):
    kv = dict(item.split("=", 1) for item in line.strip().split(" ") if "=" in item)
    return {k: kv[k] for k in FIELDS}


def client_info(conn):
    """CLIENT INFO over a raw connection, whatever state it is in (MULTI
    queues it, so a second connection reads it from CLIENT LIST)."""
    reply = conn.call("CLIENT", "INFO")
    assert reply[:1] in (b"$", b"="), reply  # RESP3: a verbatim string, "txt:..."
    body = reply.split(b"\r\n", 1)[1].decode()
    return fields(body[4:] if reply[:1] == b"=" else body)


def listed(srv, conn_id):
    with srv.raw() as other:
        reply = other.call("CLIENT", "LIST", "ID", conn_id).decode()
    return fields(reply.split("\r\n", 1)[1])


def conn_id(conn):
    return int(conn.call("CLIENT", "ID")[1:-2])


def states(srv):
    """(name, fields) for the same sequence of client states."""
    out = []
    with srv.raw() as c:
        out.append(("plain", client_info(c)))
        c.call("SELECT", 3)
        out.append(("db 3", client_info(c)))
        cid = conn_id(c)
        assert c.call("MULTI") == b"+OK\r\n"
        out.append(("multi", listed(srv, cid)))
        c.call("SET", "k", "v")
        out.append(("multi, one queued", listed(srv, cid)))
        c.call("DISCARD")
    with srv.raw() as c:
        cid = conn_id(c)
        c.call("WATCH", "w")
        with srv.raw() as other:
            other.call("SET", "w", "1")
        c.call("MULTI")
        out.append(("dirty watch", listed(srv, cid)))
        c.call("EXEC")
    with srv.raw() as c:
        cid = conn_id(c)
        c.send(encode_command("SUBSCRIBE", "a", "b"))
        c.read_replies(2)
        c.send(encode_command("PSUBSCRIBE", "p*"))
        c.read_reply()
        out.append(("subscribed", listed(srv, cid)))
    with srv.raw() as c:
        assert c.call("HELLO", "3").startswith(b"%")
        c.call("CLIENT", "TRACKING", "on")
        out.append(("tracking", client_info(c)))
        c.call("CLIENT", "TRACKING", "off")
        c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x")
        out.append(("tracking bcast", client_info(c)))
    with srv.raw() as target, srv.raw() as c:
        tid = conn_id(target)
        c.call("CLIENT", "TRACKING", "on", "REDIRECT", tid)
        info = client_info(c)
        info["redir"] = "target" if info["redir"] == str(tid) else info["redir"]
        out.append(("tracking redirect", info))
    with srv.raw() as c:
        c.call("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*")
        c.call("AUTH", "alice", "pw")
        out.append(("user alice", client_info(c)))
        c.call("AUTH", "default", "")  # any password works for a nopass default
        c.call("ACL", "DELUSER", "alice")
    return out


def test_client_fields_match_redis(start_ember, redis_ref):
    ember = start_ember()
    got, want = states(ember), states(redis_ref)
    for (name, e), (_, r) in zip(got, want):
        assert e == r, name


@pytest.mark.parametrize("flag_state,expected", [("plain", "N"), ("multi", "x"),
                                                  ("dirty watch", "xd"), ("subscribed", "P"),
                                                  ("tracking", "t"), ("tracking bcast", "tB")])
def test_client_flags_letters(start_ember, flag_state, expected):
    by_name = dict(states(start_ember()))
    assert by_name[flag_state]["flags"] == expected
