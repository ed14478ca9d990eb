"""ACL (issue 9): users with passwords, ACL SETUSER rules, ACL LIST/GETUSER/USERS/
WHOAMI/CAT/DELUSER/GENPASS, AUTH and HELLO AUTH with user names, and NOPERM for
commands, keys and channels. Each scenario runs on ember and on the reference
redis-server and the replies must be the same bytes, except where Redis's own
output is not deterministic: the single-command rules after the category
rules come out in Redis's hash-table order, which changes from one process to
the next, so those are compared as sets.

"""

import hashlib
import re

import pytest

from harness import SELFTEST



def has_acl(srv):
    with srv.raw() as c:
        return not c.call("ACL", "WHOAMI").startswith(b"-ERR unknown command")


def delete_users(srv):
    with srv.raw() as c:
        c.send_command("ACL", "USERS")
        names = [n.value for n in c.read_node().value]
        others = [n for n in names if n != b"default"]
        if others:
            c.call("ACL", "DELUSER", *others)
        c.call("ACL", "SETUSER", "default", "+@all")


@pytest.fixture
def ember_acl(ember, redis_ref_optional):
    """ember (and the reference server, if any) with only the default user."""
    if not has_acl(ember):
        pytest.skip("ember has no ACL command yet (src/acl.c is not in the command table)")
    delete_users(ember)
    if redis_ref_optional is not None:
        delete_users(redis_ref_optional)
    return ember


_RULES = re.compile(rb"([+-]@all(?: [+-]@[a-z]+)*)((?: [+-][a-z_|0-9-]+)*)")


def normalise(reply):
    """Sorts the single-command rules that follow the category rules (Redis
    prints them in hash-table order). Lengths of bulk strings are kept, as
    sorting does not change them."""
    def fix(m):
        singles = sorted(m.group(2).split())
        return m.group(1) + b"".join(b" " + s for s in singles)
    return _RULES.sub(fix, reply)


def run(srv, commands):
    out = []
    with srv.raw() as c:
        for args in commands:
            out.append(normalise(c.call(*args)))
    return out


def compare(ember, redis, commands):
    got, want = run(ember, commands), run(redis, commands)
    bad = [f"  {args}:\n    redis {w[:400]!r}\n    ember {g[:400]!r}"
           for args, g, w in zip(commands, got, want) if g != w]
    assert not bad, f"{len(bad)} of {len(commands)} replies differ:\n" + "\n".join(bad)


MANAGEMENT = [
    ["ACL", "WHOAMI"], ["ACL", "USERS"], ["ACL", "LIST"], ["ACL", "GETUSER", "default"],
    ["ACL", "SETUSER", "alice", "on", ">p1", ">p2", "~cache:*", "+get", "+@string", "-set"],
    ["ACL", "LIST"], ["ACL", "GETUSER", "alice"],
    ["ACL", "SETUSER", "bob"], ["ACL", "LIST"], ["ACL", "USERS"],
    ["ACL", "DELUSER", "bob", "nosuch"], ["ACL", "DELUSER", "default"], ["ACL", "GETUSER", "nosuch"],
    ["ACL", "CAT"], ["ACL", "SETUSER", "u1", "badrule"], ["ACL", "SETUSER", "u1", "+nosuchcmd"],
    ["ACL", "SETUSER", "u1", "+@nosuchcat"], ["ACL", "USERS"],
    ["ACL", "SETUSER", "u1", "on", ">pw", "~k*", "+get"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "u1", "allkeys"], ["ACL", "SETUSER", "u1", "resetkeys", "~a", "~b"],
    ["ACL", "SETUSER", "u1", "&ch*"], ["ACL", "SETUSER", "u1", "allchannels"],
    ["ACL", "SETUSER", "u1", "nopass"], ["ACL", "SETUSER", "u1", "resetpass"],
    ["ACL", "SETUSER", "u1", "#abc"], ["ACL", "SETUSER", "u1", "<nosuch"], ["ACL", "SETUSER", "u1", "!abc"],
    ["ACL", "SETUSER", "u1", "#" + "a" * 64], ["ACL", "SETUSER", "u1", "!" + "a" * 64],
    ["ACL", "SETUSER", "u1", "#" + "A" * 64],
    ["ACL", "SETUSER", "u1", "reset"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "u1", "+@all", "-@dangerous"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "u1", "nocommands", "+get", "+set"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "u1", "allcommands"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "a b"], ["ACL", "SETUSER", "a\x00b"],
    ["ACL", "SETUSER", "u1", "-@all", "+config|get"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "-@all", "+config"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "+@all", "-config|set"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "+config|get|x"], ["ACL", "SETUSER", "u1", "+config|nosuch"],
    ["ACL", "SETUSER", "u1", "+config|"], ["ACL", "SETUSER", "u1", "+get|"],
    ["ACL", "SETUSER", "u1", "-@all", "+select|0", "+select|1", "+SELECT|0"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "+select"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "u1", "-select", "+select|2", "-@all"], ["ACL", "GETUSER", "u1"],
    ["ACL", "SETUSER", "k1", "%R~r*", "%W~w*", "%RW~b*", "~x*", "%R~x*", "&a", "&b"], ["ACL", "GETUSER", "k1"],
    ["ACL", "SETUSER", "k1", "~*"], ["ACL", "SETUSER", "k1", "~y"], ["ACL", "SETUSER", "k1", "allchannels", "&z"],
    ["ACL", "SETUSER", "k1", "%X~a"], ["ACL", "SETUSER", "k1", "resetkeys", "~a b"],
    ["ACL", "SETUSER", "k1", ">"], ["ACL", "SETUSER", "k1", ""], ["ACL", "SETUSER", "k1", "%RR~a"],
    ["ACL", "SETUSER", "k1", "%~a"], ["ACL", "SETUSER", "k1", "%R"], ["ACL", "GETUSER", "k1"],
    ["ACL", "SETUSER", "c1", "-@all", "+@read", "+@write"], ["ACL", "GETUSER", "c1"],
    ["ACL", "SETUSER", "c2", "+@all", "-@write", "-@admin"], ["ACL", "GETUSER", "c2"],
    ["ACL", "SETUSER", "c3", "-@all", "+@hash", "-hset"], ["ACL", "GETUSER", "c3"],
    ["ACL", "SETUSER", "c4", "-@all", "+@keyspace", "+@string", "+@list", "-@dangerous"],
    ["ACL", "GETUSER", "c4"],
    ["ACL", "SETUSER", "c5", "-@all", "+@fast"], ["ACL", "GETUSER", "c5"],
    ["ACL", "SETUSER", "c6", "+@all", "-@slow"], ["ACL", "GETUSER", "c6"],
    ["ACL", "SETUSER", "c7", "-@all", "+@read", "-@keyspace"], ["ACL", "GETUSER", "c7"],
    ["ACL", "SETUSER", "c8", "-@all", "+@scripting", "+@transaction", "+@connection"], ["ACL", "GETUSER", "c8"],
    ["ACL", "SETUSER", "c9", "sanitize-payload", "skip-sanitize-payload", "on", "off", "nopass"],
    ["ACL", "GETUSER", "c9"],
    ["ACL", "SETUSER", "c10", "on", ">x", "+get", "badrule"], ["ACL", "GETUSER", "c10"],
    ["ACL", "SETUSER", "c1", "on", "+get", "nosuch"], ["ACL", "GETUSER", "c1"],
    ["ACL", "LIST"], ["ACL", "USERS"],
    ["ACL", "GENPASS", "0"], ["ACL", "GENPASS", "4097"], ["ACL", "GENPASS", "x"], ["ACL", "GENPASS", "1", "2"],
    ["ACL", "SAVE"], ["ACL", "LOAD"], ["ACL", "HELP"],
    ["ACL", "CAT", "nosuch"], ["ACL", "WHOAMI", "x"], ["ACL"], ["ACL", "NOSUCH"], ["ACL", "CAT", "a", "b"],
    ["ACL", "DELUSER", "alice", "k1", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "u1"],
    ["ACL", "USERS"],
]


def test_acl_management_same_as_redis(ember_acl, redis_ref):
    compare(ember_acl, redis_ref, MANAGEMENT)


def test_acl_cat_lists_the_same_commands(ember_acl, redis_ref):
    cats = [c for c in run(redis_ref, [["ACL", "CAT"]])[0].split(b"\r\n")[2::2] if c]
    assert len(cats) == 21
    for cat in cats:
        got = set(run(ember_acl, [["ACL", "CAT", cat]])[0].split(b"\r\n")[2::2])
        want = set(run(redis_ref, [["ACL", "CAT", cat.upper()]])[0].split(b"\r\n")[2::2])
        assert got == want, cat


def test_acl_genpass_shape(ember_acl):
    with ember_acl.raw() as c:
        for bits, chars in [(None, 64), (1, 1), (5, 2), (256, 64), (4096, 1024)]:
            reply = c.call("ACL", "GENPASS") if bits is None else c.call("ACL", "GENPASS", bits)
            assert re.fullmatch(rb"\$%d\r\n[0-9a-f]{%d}\r\n" % (chars, chars), reply), reply


def test_password_digest_is_sha256(ember_acl):
    with ember_acl.raw() as c:
        assert c.call("ACL", "SETUSER", "h", ">s3cret", ">") == b"+OK\r\n"
        reply = c.call("ACL", "GETUSER", "h")
        for pw in (b"s3cret", b""):
            assert hashlib.sha256(pw).hexdigest().encode() in reply


SETUP = [
    ["ACL", "SETUSER", "t", "on", ">pw", "~a*", "%R~r*", "%W~w*", "&ch", "&p*", "+get", "+set",
     "+publish", "+subscribe", "+psubscribe", "+config|get", "+mget", "+mset", "+del", "+select|0",
     "+multi", "+exec", "+object|encoding", "+zunionstore", "+lmove", "+ping"],
    ["ACL", "SETUSER", "dis", "off", ">pw", "+@all", "~*"],
    ["ACL", "SETUSER", "np", "on", "nopass", "+@all", "~*", "&*"],
]
SESSION = [
    ["AUTH", "t", "nope"], ["AUTH", "nosuch", "pw"], ["AUTH", "dis", "pw"], ["AUTH", "t", "pw"],
    ["ACL", "WHOAMI"], ["GET", "a1"], ["GET", "b1"], ["SET", "a1", "x"], ["SET", "r1", "x"], ["GET", "r1"],
    ["SET", "w1", "x"], ["GET", "w1"], ["DEL", "a1"], ["DEL", "b1"], ["MGET", "a1", "a2"], ["MGET", "a1", "b2"],
    ["MSET", "a1", "1", "b1", "2"], ["MSET", "a1", "1", "a2", "2"], ["INCR", "a1"],
    ["CONFIG", "GET", "maxmemory"], ["CONFIG", "SET", "maxmemory", "1"],
    ["PUBLISH", "ch", "x"], ["PUBLISH", "other", "x"], ["PUBLISH", "px", "x"],
    ["SELECT", "0"], ["SELECT", "1"], ["OBJECT", "ENCODING", "a1"], ["OBJECT", "ENCODING", "b1"],
    ["OBJECT", "FREQ", "a1"], ["ZUNIONSTORE", "a9", "2", "a1", "a2"], ["ZUNIONSTORE", "a9", "2", "a1", "b2"],
    ["ZUNIONSTORE", "b9", "1", "a1"], ["ZUNIONSTORE", "a9", "x", "a1"], ["LMOVE", "a1", "b1", "LEFT", "LEFT"],
    ["PING"], ["CLIENT", "LIST"], ["MULTI"], ["GET", "a1"], ["GET", "b1"], ["EXEC"],
    ["PSUBSCRIBE", "p*"], ["PSUBSCRIBE", "px"],
]
SESSION2 = [
    ["AUTH", "np", "anything"], ["ACL", "WHOAMI"], ["AUTH", "default", "x"], ["ACL", "WHOAMI"],
    ["HELLO", "2", "AUTH", "t", "bad"], ["AUTH", "t"], ["RESET"], ["ACL", "WHOAMI"],
]


def test_auth_and_noperm_same_as_redis(ember_acl, redis_ref):
    for srv in (ember_acl, redis_ref):
        run(srv, SETUP)
    compare(ember_acl, redis_ref, SESSION)
    compare(ember_acl, redis_ref, SESSION2)


def test_hello_auth_with_a_user(ember_acl):
    with ember_acl.raw() as c:
        assert c.call("ACL", "SETUSER", "hu", "on", ">pw", "+@all", "~*") == b"+OK\r\n"
    with ember_acl.client(decode=True) as r:
        hello = r.execute_command("HELLO", "2", "AUTH", "hu", "pw")
        assert "server" in [str(x) for x in hello]
        assert r.execute_command("ACL", "WHOAMI") == "hu"
        r.execute_command("RESET")
        assert r.execute_command("ACL", "WHOAMI") == "default"


def test_requirepass_and_users(start_ember, start_redis):
    """With requirepass, a new connection is unauthenticated; AUTH with a user
    name authenticates it as that user, ACL LIST shows the default user's
    password digest."""
    servers = [start_ember("--requirepass", "secret")]
    if not has_acl(servers[0]):
        pytest.skip("ember has no ACL command yet")
    servers.append(start_redis("--requirepass", "secret"))
    script = [["PING"], ["AUTH", "secret"], ["ACL", "LIST"],
              ["ACL", "SETUSER", "app", "on", ">apppw", "+@all", "-flushall", "~app:*"]]
    session = [["PING"], ["AUTH", "app", "wrong"], ["AUTH", "app", "apppw"], ["ACL", "WHOAMI"],
               ["SET", "app:1", "x"], ["SET", "other", "x"], ["FLUSHALL"], ["AUTH", "secret"],
               ["ACL", "WHOAMI"], ["FLUSHALL"]]
    got = [run(s, script) + run(s, session) for s in servers]
    assert got[0] == got[1]


def test_deluser_closes_its_clients(ember_acl, redis_ref):
    for srv in (ember_acl, redis_ref):
        with srv.raw() as admin:
            assert admin.call("ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*") == b"+OK\r\n"
            victims = [srv.raw(), srv.raw()]
            for v in victims:
                assert v.call("AUTH", "gone", "x") == b"+OK\r\n"
            assert admin.call("ACL", "DELUSER", "gone") == b":1\r\n"
            for v in victims:
                assert v.wait_closed() == b""
            # A client deleting its own user gets the reply, then the close.
            itself = srv.raw()
            assert itself.call("ACL", "SETUSER", "gone", "on", "nopass", "+@all") == b"+OK\r\n"
            assert itself.call("AUTH", "gone", "x") == b"+OK\r\n"
            itself.send_command("ACL", "DELUSER", "gone")
            assert itself.wait_closed() == b":1\r\n"
            assert admin.call("ACL", "WHOAMI") == b"$7\r\ndefault\r\n"


DEFAULT_USER = [
    ["ACL", "SETUSER", "default", ">x"], ["ACL", "LIST"], ["ACL", "GETUSER", "default"],
    ["ACL", "SETUSER", "default", "-flushall"], ["FLUSHALL"], ["ACL", "SETUSER", "default", "+flushall"],
    ["CONFIG", "SET", "requirepass", "rp"], ["ACL", "LIST"], ["AUTH", "x"], ["AUTH", "rp"],
    ["AUTH", "default", "rp"], ["CONFIG", "SET", "requirepass", ""], ["ACL", "LIST"],
    ["AUTH", "rp"], ["ACL", "SETUSER", "default", "resetpass", ">a", ">b"], ["ACL", "LIST"],
    ["AUTH", "b"], ["ACL", "SETUSER", "default", "nopass"], ["ACL", "LIST"],
]


def test_default_user_password_is_requirepass(ember_acl, redis_ref):
    """The default user's passwords are ACL rules like any user's; requirepass
    replaces them (resetpass >pw, or nopass when empty), as in Redis."""
    compare(ember_acl, redis_ref, DEFAULT_USER)


def test_new_connection_needs_auth_once_default_has_a_password(ember_acl, redis_ref):
    for srv in (ember_acl, redis_ref):
        with srv.raw() as admin:
            assert admin.call("ACL", "SETUSER", "default", ">pw") == b"+OK\r\n"
            try:
                with srv.raw() as c:
                    assert c.call("GET", "k") == b"-NOAUTH Authentication required.\r\n"
                    assert c.call("AUTH", "bad").startswith(b"-WRONGPASS")
                    assert c.call("AUTH", "pw") == b"+OK\r\n"
                    assert c.call("GET", "k") == b"$-1\r\n"
                # The admin connected before the password: it stays authenticated.
                assert admin.call("PING") == b"+PONG\r\n"
            finally:
                assert admin.call("ACL", "SETUSER", "default", "nopass") == b"+OK\r\n"


SCRIPTED_SETUP = [
    ["ACL", "SETUSER", "s", "on", ">pw", "~k*", "&ch", "+get", "+set", "+eval", "+evalsha",
     "+publish", "+multi", "+exec", "+discard", "+acl|whoami", "+acl|log"],
]
SCRIPTED = [
    ["AUTH", "s", "pw"],
    ["MULTI"], ["GET", "k1"], ["DEL", "k1"], ["EXEC"],
    ["MULTI"], ["GET", "x"], ["SET", "k1", "v"], ["EXEC"],
    ["MULTI"], ["PUBLISH", "other", "m"], ["DISCARD"],
    ["MULTI"], ["SET", "k1", "v"], ["GET", "k1"], ["EXEC"],
    ["EVAL", "return redis.call('del','k1')", "0"],
    ["EVAL", "return redis.call('get','x')", "0"],
    ["EVAL", "return redis.call('get','k1')", "0"],
    ["EVAL", "return redis.call('publish','zz','m')", "0"],
    ["EVAL", "return redis.call('publish','ch','m')", "0"],
    ["EVAL", "return redis.pcall('del','k1')", "0"],
    ["EVAL", "return {redis.acl_check_cmd('get','k1'), redis.acl_check_cmd('get','x'),"
             " redis.acl_check_cmd('del','k1')}", "0"],
    ["EVAL", "return redis.acl_check_cmd('nosuch')", "0"],
    ["ACL", "DRYRUN", "s", "get", "k1"], ["ACL", "LOG", "RESET"],
]
DRYRUN = [
    ["ACL", "DRYRUN", "s", "get", "k1"], ["ACL", "DRYRUN", "s", "get", "x"],
    ["ACL", "DRYRUN", "s", "del", "k1"], ["ACL", "DRYRUN", "s", "publish", "zz", "m"],
    ["ACL", "DRYRUN", "s", "publish", "ch", "m"], ["ACL", "DRYRUN", "nobody", "get", "x"],
    ["ACL", "DRYRUN", "s", "foo"], ["ACL", "DRYRUN", "s", "get"], ["ACL", "DRYRUN", "s", "config"],
    ["ACL", "DRYRUN", "s", "config", "nosuch"], ["ACL", "DRYRUN", "s", "config", "get", "x"],
    ["ACL", "DRYRUN", "s"], ["ACL", "DRYRUN", "default", "flushall"],
    ["ACL", "DRYRUN", "s", "set", "k1", "v", "EX", "10"], ["ACL", "DRYRUN", "s", "mget", "k1", "x"],
]


def test_noperm_in_multi_scripts_and_dryrun_same_as_redis(ember_acl, redis_ref):
    for srv in (ember_acl, redis_ref):
        run(srv, SCRIPTED_SETUP)
    compare(ember_acl, redis_ref, SCRIPTED)
    compare(ember_acl, redis_ref, DRYRUN)


def acl_log_entries(srv, count=None):
    """ACL LOG without the fields that depend on time and the connection."""
    with srv.client(decode=True) as r:
        args = ["ACL", "LOG"] + ([] if count is None else [count])
        entries = r.execute_command(*args)
    out = []
    for e in entries:
        d = dict(zip(e[::2], e[1::2])) if isinstance(e, list) else dict(e)
        assert float(d.pop("age-seconds")) >= 0
        info = d.pop("client-info")
        assert info.startswith("id=") and " cmd=" in info
        out.append(d)
    return out


LOGGED = [
    ["AUTH", "s", "bad"], ["AUTH", "nosuch", "x"], ["AUTH", "s", "pw"],
    ["GET", "x"], ["GET", "x"], ["GET", "y"], ["DEL", "k1"], ["PUBLISH", "zz", "m"],
    ["MULTI"], ["DEL", "k1"], ["DISCARD"],
    ["EVAL", "return redis.pcall('get','x')", "0"], ["EVAL", "return redis.pcall('publish','q','m')", "0"],
    ["EVAL", "return redis.pcall('flushall')", "0"],
]


def test_acl_log_same_entries_as_redis(ember_acl, redis_ref):
    for srv in (ember_acl, redis_ref):
        run(srv, SCRIPTED_SETUP + [["ACL", "LOG", "RESET"]])
        run(srv, LOGGED)
    assert acl_log_entries(ember_acl) == acl_log_entries(redis_ref)
    assert acl_log_entries(ember_acl, 3) == acl_log_entries(redis_ref, 3)
    assert len(acl_log_entries(ember_acl, 100)) == len(acl_log_entries(redis_ref, 100))
    compare(ember_acl, redis_ref, [["ACL", "LOG", "0"], ["ACL", "LOG", "-1"], ["ACL", "LOG", "x"],
                                   ["ACL", "LOG", "1", "2"], ["ACL", "LOG", "RESET"], ["ACL", "LOG"]])


def test_acl_log_keeps_the_newest_128(ember_acl):
    with ember_acl.raw() as c:
        assert c.call("ACL", "SETUSER", "n", "on", "nopass", "~none", "-@all", "+get") == b"+OK\r\n"
        c.call("ACL", "LOG", "RESET")
    with ember_acl.raw() as c:
        assert c.call("AUTH", "n", "x") == b"+OK\r\n"
        for i in range(200):
            c.call("GET", "key%d" % i)  # a different object each time: no grouping
    with ember_acl.raw() as c:
        c.send_command("ACL", "LOG", "1000")
        assert len(c.read_node().value) == 128


def test_unrestricted_users_keep_the_fast_path(ember_acl):
    """Another user with every permission does not switch checks on; a
    restricted one does, and deleting it switches them off again (observed
    through the replies: the flag itself is internal)."""
    with ember_acl.raw() as c:
        assert c.call("ACL", "SETUSER", "full", "on", "nopass", "+@all", "~*", "&*") == b"+OK\r\n"
        assert c.call("ACL", "SETUSER", "ro", "on", "nopass", "-@all", "+get", "~*") == b"+OK\r\n"
        with ember_acl.raw() as d:
            assert d.call("AUTH", "ro", "x") == b"+OK\r\n"
            assert d.call("SET", "k", "v").startswith(b"-NOPERM")
            assert c.call("ACL", "SETUSER", "ro", "+@all") == b"+OK\r\n"
            assert d.call("SET", "k", "v") == b"+OK\r\n"
        assert c.call("ACL", "DELUSER", "ro", "full") == b":2\r\n"


ACLFILE = "user alice on >pw ~k* +get\nuser default on nopass ~* &* +@all\n"
BAD_FILES = [
    "user bob on >x +@nosuch\nuser carl bad\nfoo bar\n",
    "user alice on\nuser alice off\n",
    "\n# a comment\nuser bob on >x\n",
    "user bob on >x +get badrule alsobad +nosuch\n",
    "user a\tb on\n",
]
GOOD_FILE = "\n  user bob on >x ~b* +get  \n\nuser default on >dpw ~* +@all\n"


def aclfile_servers(tmp_path, start_ember, start_redis):
    """ember and redis-server started with --aclfile users.acl in their
    working directories (relative, so error texts are the same bytes)."""
    for d in ("ember1", "redis-ref1"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "users.acl").write_text(ACLFILE)
    return [(start_ember("--aclfile", "users.acl"), tmp_path / "ember1" / "users.acl"),
            (start_redis("--aclfile", "users.acl"), tmp_path / "redis-ref1" / "users.acl")]


def test_aclfile_load_and_save_same_as_redis(tmp_path, start_ember, start_redis):
    servers = aclfile_servers(tmp_path, start_ember, start_redis)
    out = []
    for srv, path in servers:
        got = run(srv, [["ACL", "LIST"]])
        for text in BAD_FILES:
            path.write_text(text)
            got += run(srv, [["ACL", "LOAD"], ["ACL", "LIST"]])
        path.write_text(GOOD_FILE)
        got += run(srv, [["ACL", "LOAD"], ["ACL", "LIST"], ["PING"]])
        with srv.raw() as c:
            got.append(c.call("PING"))
            got.append(c.call("AUTH", "dpw"))
            got.append(c.call("ACL", "SETUSER", "zed", "on", ">z", "+get"))
            got.append(c.call("ACL", "SAVE"))
            got.append(path.read_bytes())
            path.unlink()
            got.append(c.call("ACL", "LOAD"))
        out.append(got)
    assert out[0] == out[1]


def test_acl_load_closes_clients_of_replaced_users(tmp_path, start_ember, start_redis):
    for srv, path in aclfile_servers(tmp_path, start_ember, start_redis):
        with srv.raw() as alice, srv.raw() as plain:
            assert alice.call("AUTH", "alice", "pw") == b"+OK\r\n"
            assert plain.call("ACL", "LOAD") == b"+OK\r\n"
            assert alice.wait_closed() == b""
            assert plain.call("ACL", "WHOAMI") == b"$7\r\ndefault\r\n"


def test_bad_aclfile_stops_the_start(tmp_path):
    from harness import run_ember
    (tmp_path / "users.acl").write_text("user x +nosuch\n")
    proc = run_ember(["--port", "0", "--aclfile", "users.acl"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "Aborting Redis startup because of ACL errors: users.acl:1: Error in applying " \
           "operation '+nosuch'" in proc.stdout


CONF_USERS = ('user alice on ">pw with space" ~k* +get\n'
              "user default on nopass ~* &* +@all -flushall\n"
              "user bob off nopass\n")


def test_user_lines_in_the_config_file_same_as_redis(tmp_path, start_ember, start_redis):
    """`user` lines apply at start-up; CONFIG REWRITE writes every user back
    (one line each, as ACL LIST shows them)."""
    out = []
    for start, d in ((start_ember, "e"), (start_redis, "r")):
        conf = tmp_path / d / "s.conf"
        conf.parent.mkdir()
        conf.write_text(CONF_USERS)
        srv = start(conf)
        got = run(srv, [["ACL", "LIST"], ["FLUSHALL"], ["AUTH", "alice", "pw with space"],
                        ["GET", "k1"], ["SET", "k1", "v"]])
        got += run(srv, [["ACL", "SETUSER", "carol", "on", ">c", "+get"], ["CONFIG", "REWRITE"]])
        got.append([line for line in conf.read_text().splitlines() if line.startswith("user ")])
        out.append(got)
    assert out[0] == out[1]


def test_bad_user_line_stops_the_start(tmp_path):
    from harness import run_ember
    conf = tmp_path / "bad.conf"
    conf.write_text("user x on +nosuch\n")
    proc = run_ember([conf, "--port", "0"])
    assert proc.returncode == 1
    assert "Error loading ACL rule '+nosuch' for the user named 'x': Unknown command or " \
           "category name in ACL" in proc.stdout
    (tmp_path / "u.acl").write_text("")
    conf.write_text("user x on\naclfile u.acl\n")
    proc = run_ember([conf, "--port", "0"], cwd=tmp_path)
    assert proc.returncode == 1 and "but not both" in proc.stdout


def test_acllog_max_len(ember_acl):
    with ember_acl.raw() as c:
        assert c.call("ACL", "SETUSER", "m", "on", "nopass", "~none", "+get") == b"+OK\r\n"
        c.call("ACL", "LOG", "RESET")
        assert c.call("CONFIG", "SET", "acllog-max-len", "5") == b"+OK\r\n"
    with ember_acl.raw() as c:
        assert c.call("AUTH", "m", "x") == b"+OK\r\n"
        for i in range(20):
            c.call("GET", "key%d" % i)
    with ember_acl.raw() as c:
        c.send_command("ACL", "LOG", "100")
        entries = c.read_node().value
        assert len(entries) == 5
        assert b"key19" in entries[0].value[7].value
        c.call("CONFIG", "SET", "acllog-max-len", "128")
