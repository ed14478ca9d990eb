"""ACL selectors (Redis 7.0) and the second ACL check at EXEC time (issue 9).

A user has root permissions plus any number of selectors in parentheses,
ACL SETUSER alice on nopass ~x +set "(~app:* +get)" "(%R~ro:* +@read)": a
command runs if the root or any ONE selector allows all of it (command, keys
and channels), so a command touching a key of one selector and a key of
another is refused. Selectors show in ACL LIST, ACL GETUSER ("selectors", a
map each), the aclfile (where "(~a +get)" arrives split at spaces and is
joined back) and ACL DRYRUN. EXEC checks every queued command again, since
ACL SETUSER from another connection may have changed the user meanwhile.

Each scenario runs on ember and on the reference redis-server and the replies
must be the same bytes (single-command rules sorted first, as in test_acl.py:
Redis prints them in hash-table order). Texts ember must produce are also
written out, so a wrong text fails even when both servers agree to be wrong.
"""

import re

import pytest

from test_acl import compare, delete_users, has_acl, normalise, run

NOPERM_CHANGED = (b"-NOPERM ACLs rules changed between the moment the transaction was accumulated "
                  b"and the EXEC call. This command is no longer allowed for the following reason: ")


@pytest.fixture
def servers(ember, redis_ref):
    """ember and the reference server, each with only the default user and
    an empty ACL LOG."""
    if not has_acl(ember):
        pytest.skip("ember has no ACL command")
    for srv in (ember, redis_ref):
        delete_users(srv)
        run(srv, [["ACL", "LOG", "RESET"]])
    return ember, redis_ref


ALICE = ["ACL", "SETUSER", "alice", "on", "nopass", "~x", "+set", "(~app:* +get)",
         "(%R~ro:* +@read)"]

SETUSER = [
    ALICE, ["ACL", "LIST"], ["ACL", "GETUSER", "alice"],
    # a selector split over several arguments is joined back, as in an aclfile
    ["ACL", "SETUSER", "bob", "(~a", "+get)"], ["ACL", "GETUSER", "bob"],
    # unbalanced: nothing changes, the error names the "(" argument
    ["ACL", "SETUSER", "bob", "on", "(~b", "+get"], ["ACL", "SETUSER", "bob", "on", "+get", "(~b"],
    ["ACL", "SETUSER", "bob", "on", "(~a +get) (~b"],
    # a bad rule inside: the whole selector is named, nothing changes
    ["ACL", "SETUSER", "bob", "on", "(~a badrule)"], ["ACL", "SETUSER", "bob", "on", "(on)"],
    ["ACL", "SETUSER", "bob", "(~a +nosuch)"], ["ACL", "SETUSER", "bob", "(~\"a b\" +get)"],
    ["ACL", "SETUSER", "bob", "(~* ~a)"], ["ACL", "SETUSER", "bob", "(&* &c)"],
    ["ACL", "GETUSER", "bob"],
    # empty selectors, quotes inside (split like sdssplitargs), unbalanced quotes
    ["ACL", "SETUSER", "bob", "()", "( )", "(", ")", "(~'q' &ch +get|x)", "(~a \"+get)"],
    ["ACL", "SETUSER", "bob", "(~x +select|0 +config|get)", "(allkeys allchannels allcommands)"],
    ["ACL", "SETUSER", "bob", "(~a", "(~b", "+get)"],  # a second "(" starts over
    ["ACL", "LIST"], ["ACL", "GETUSER", "bob"],
    ["ACL", "SETUSER", "bob", "clearselectors"], ["ACL", "GETUSER", "bob"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "alice", "reset"], ["ACL", "LIST"],
    ["ACL", "SETUSER", "root", "on", "nopass", "~*", "&*", "+@all", "(~a +get)"], ["ACL", "LIST"],
]


def test_setuser_selectors_list_and_getuser_same_as_redis(servers):
    compare(*servers, SETUSER)


def test_getuser_in_resp3_same_as_redis(servers):
    got = []
    for srv in servers:
        with srv.raw() as c:
            assert c.call(*ALICE) == b"+OK\r\n"
            c.call("HELLO", "3")
            got.append(c.call("ACL", "GETUSER", "alice"))
    assert got[0] == got[1]
    # the root selector at the top level, then a map per selector
    assert got[0].endswith(b"$9\r\nselectors\r\n*2\r\n"
                           b"%3\r\n$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$6\r\n~app:*\r\n"
                           b"$8\r\nchannels\r\n$0\r\n\r\n"
                           b"%3\r\n$8\r\ncommands\r\n$12\r\n-@all +@read\r\n$4\r\nkeys\r\n"
                           b"$7\r\n%R~ro:*\r\n$8\r\nchannels\r\n$0\r\n\r\n")


def test_list_shows_selectors_in_parentheses(servers):
    ember, _ = servers
    with ember.raw() as c:
        assert c.call(*ALICE) == b"+OK\r\n"
        line = b"user alice on nopass ~x resetchannels -@all +set " \
               b"(~app:* resetchannels -@all +get) (%R~ro:* resetchannels -@all +@read)"
        assert c.call("ACL", "LIST").split(b"\r\n")[2] == line
        assert c.call("ACL", "SETUSER", "alice", "(~b", "+get") == \
            b"-ERR Unmatched parenthesis in acl selector starting at '(~b'.\r\n"


SESSION = [
    ["AUTH", "alice", "x"],
    ["SET", "x", "1"], ["SET", "app:1", "1"],   # root: SET on x only
    ["GET", "app:1"], ["GET", "x"],             # GET only through selector 1 (app:*)
    ["GET", "ro:1"], ["HGET", "ro:1", "f"],     # selector 2: read commands on ro:*
    ["SET", "ro:1", "v"],                       # no selector has SET with ro:*
    ["MGET", "ro:1", "ro:2"], ["MGET", "app:1", "ro:1"], ["MGET", "ro:1", "app:1"],
    ["MGET", "app:1"],                          # selector 1 has GET, not MGET
    ["PUBLISH", "ch", "m"], ["CLIENT", "ID"],
]


def test_commands_allowed_through_one_selector_same_as_redis(servers):
    for srv in servers:
        run(srv, [ALICE])
    compare(*servers, SESSION)
    with servers[0].raw() as c:
        assert c.call("AUTH", "alice", "x") == b"+OK\r\n"
        assert c.call("GET", "app:1") == b"$-1\r\n"
        assert c.call("GET", "ro:1") == b"$-1\r\n"
        # each key is allowed by some selector, but no one selector allows both
        assert c.call("MGET", "app:1", "ro:1") == \
            b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
        assert c.call("GET", "other") == \
            b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
        assert c.call("INCR", "x") == \
            b"-NOPERM this user has no permissions to run the 'incr' command\r\n"


def test_clearselectors_takes_the_permissions_away(servers):
    ember, redis = servers
    for srv in servers:
        run(srv, [ALICE])
    with ember.raw() as admin, ember.raw() as c:
        assert c.call("AUTH", "alice", "x") == b"+OK\r\n"
        assert c.call("GET", "app:1") == b"$-1\r\n"
        assert admin.call("ACL", "SETUSER", "alice", "clearselectors") == b"+OK\r\n"
        assert c.call("GET", "app:1") == \
            b"-NOPERM this user has no permissions to run the 'get' command\r\n"
        assert c.call("SET", "x", "1") == b"+OK\r\n"  # the root is kept
    compare(ember, redis, [["ACL", "SETUSER", "alice", "clearselectors"], ["ACL", "LIST"]] + SESSION)


DRYRUN = [
    ["ACL", "SETUSER", "carol", "on", "nopass", "-@all", "(+publish &news)",
     "(+publish &sport ~k)", "(+get ~k)"],
] + [["ACL", "DRYRUN", "alice"] + args for args in (
    ["get", "app:1"], ["get", "ro:1"], ["set", "ro:1", "v"], ["set", "x", "v"], ["mget", "app:1", "ro:1"],
    ["mget", "ro:1", "app:1"], ["mget", "ro:1", "ro:2"], ["del", "app:1"], ["publish", "ch", "m"],
    ["copy", "ro:1", "x"], ["copy", "x", "ro:1"], ["hget", "app:1", "f"], ["incr", "x"],
)] + [["ACL", "DRYRUN", "carol"] + args for args in (
    ["publish", "news", "m"], ["publish", "sport", "m"], ["publish", "other", "m"], ["get", "z"],
    ["get", "k"], ["set", "k", "v"], ["subscribe", "news"],
)]


def test_dryrun_same_as_redis(servers):
    for srv in servers:
        run(srv, [ALICE])
    compare(*servers, DRYRUN)
    with servers[0].raw() as c:
        assert c.call("ACL", "DRYRUN", "alice", "get", "app:1") == b"+OK\r\n"
        # only selector 2 has MGET, and it may not read app:1
        assert c.call("ACL", "DRYRUN", "alice", "mget", "app:1", "ro:1") == \
            b"$54\r\nThis user has no permissions to access the 'app:1' key\r\n"
        assert c.call("ACL", "DRYRUN", "carol", "publish", "other", "m") == \
            b"$58\r\nThis user has no permissions to access the 'other' channel\r\n"


def aclfile_servers(tmp_path, start_ember, start_redis, text):
    """ember and redis-server started with --aclfile users.acl (relative, so
    error texts are the same bytes) holding `text`."""
    for d in ("ember1", "redis-ref1"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "users.acl").write_text(text)
    return [(start_ember("--aclfile", "users.acl"), tmp_path / "ember1" / "users.acl"),
            (start_redis("--aclfile", "users.acl"), tmp_path / "redis-ref1" / "users.acl")]


SPLIT_FILE = ("user carol on nopass ~x +set (~a +get)   (  ~b  +set )\n"
              "user fay on nopass ( ) (~\"q\" +get) (\"~r\" +get)\n"
              "user default on nopass ~* &* +@all\n")
# Lines Redis 7.0.15 rejects without crashing (an unclosed "(" after other
# rules makes it dereference a NULL list: see the ember-only test below).
BAD_FILES = [
    "user dan (~a +get\n",
    "user erin on (~a badrule) (~b)\n",
    "user erin on (~a +nosuch) (~b +nosuch2) badrule\n",
    "user fay on (~a +get) )\n",
    "user h on (~a (~b +get)\nuser i on (~* ~a)\n",
]


def test_aclfile_selectors_save_and_load_same_as_redis(tmp_path, start_ember, start_redis):
    out = []
    for srv, path in aclfile_servers(tmp_path, start_ember, start_redis, SPLIT_FILE):
        got = run(srv, [["ACL", "LIST"]])
        for text in BAD_FILES:
            path.write_text(text)
            got += run(srv, [["ACL", "LOAD"], ["ACL", "LIST"]])
        got += run(srv, [
            ["ACL", "SETUSER", "s1", "on", ">pw", "~k", "(~a* %W~w* +set +get)", "(&c* +publish)"],
            ["ACL", "SAVE"]])
        got.append(normalise(path.read_bytes()))
        # the round trip: forget the selectors, load them back from the file
        got += run(srv, [["ACL", "SETUSER", "s1", "clearselectors"], ["ACL", "LOAD"], ["ACL", "LIST"],
                         ["ACL", "GETUSER", "s1"], ["ACL", "DRYRUN", "s1", "get", "a1"],
                         ["ACL", "DRYRUN", "s1", "publish", "c1", "m"]])
        with srv.raw() as c:
            got.append(c.call("AUTH", "s1", "pw"))
            got.append(c.call("SET", "w1", "v"))
            got.append(c.call("GET", "w1"))
        out.append(got)
    assert out[0] == out[1]
    ember_list, saved = out[0][0], out[0][3 + 2 * len(BAD_FILES)]
    assert b"user carol on nopass ~x resetchannels -@all +set (~a resetchannels -@all +get) " \
           b"(~b resetchannels -@all +set)" in ember_list
    assert b"(resetchannels &c* -@all +publish)\n" in saved
    assert out[0][-4] == b"+OK\r\n"  # DRYRUN s1 publish c1: the selector came back


def test_aclfile_unclosed_selector_after_rules_is_an_error(tmp_path, start_ember):
    """Redis 7.0.15 crashes on these lines; ember reports them and keeps the
    users it had."""
    (tmp_path / "ember1").mkdir()
    path = tmp_path / "ember1" / "users.acl"
    path.write_text("user a on nopass (~k +get)\n")
    srv = start_ember("--aclfile", "users.acl")
    for text in ("user fay on nopass (~a +get\n", "user fay on (~a +get)x\n"):
        path.write_text(text)
        with srv.raw() as c:
            assert c.call("ACL", "LOAD") == (
                b"-ERR users.acl:1: Unmatched parenthesis in selector definition.WARNING: ACL "
                b"errors detected, no change to the previously active ACL rules was performed\r\n")
            assert b"user a on nopass resetchannels -@all (~k resetchannels -@all +get)" in \
                c.call("ACL", "LIST")


CONF_USERS = 'user carol on nopass (~a +get) ~b "(~c" "+set)" (&x +publish)\n'


def test_config_file_user_lines_with_selectors_same_as_redis(tmp_path, start_ember, start_redis):
    """The config parser splits "(~a +get)" at spaces; the words are joined
    back, and CONFIG REWRITE writes the selectors out again."""
    out = []
    for start, d in ((start_ember, "e"), (start_redis, "r")):
        conf = tmp_path / d / "s.conf"
        conf.parent.mkdir()
        conf.write_text(CONF_USERS)
        srv = start(conf)
        got = run(srv, [["ACL", "LIST"], ["ACL", "DRYRUN", "carol", "set", "c1", "v"],
                        ["ACL", "DRYRUN", "carol", "set", "a1", "v"], ["CONFIG", "REWRITE"]])
        got.append([line for line in conf.read_text().splitlines() if line.startswith("user ")])
        out.append(got)
    assert out[0] == out[1]
    assert out[0][-1][0] == ("user carol on nopass ~b resetchannels -@all (~a resetchannels -@all "
                             "+get) (~c resetchannels -@all +set) (resetchannels &x -@all +publish)")


def queued_session(srv, change, queued):
    """A client acting as u queues `queued` in MULTI; another connection runs
    ACL SETUSER u `change`; returns EXEC's reply and ACL LOG's entries without
    their age and client-info."""
    with srv.raw() as admin, srv.raw() as c:
        assert admin.call("ACL", "SETUSER", "u", "reset", "on", "nopass", "~*", "&*", "+@all") == \
            b"+OK\r\n"
        assert c.call("AUTH", "u", "x") == b"+OK\r\n"
        assert c.call("MULTI") == b"+OK\r\n"
        for args in queued:
            assert c.call(*args) == b"+QUEUED\r\n"
        assert admin.call("ACL", "SETUSER", "u", *change) == b"+OK\r\n"
        exec_reply = c.call("EXEC")
        log = admin.call("ACL", "LOG")
    log = re.sub(rb"(\$11\r\nage-seconds\r\n)\$\d+\r\n[^\r]*\r\n", rb"\1", log)
    log = re.sub(rb"(\$11\r\nclient-info\r\n)\$\d+\r\n[^\r]*\r\n", rb"\1", log)
    return exec_reply, log


EXEC_QUEUE = [["SET", "k1", "v"], ["GET", "k1"], ["PUBLISH", "ch", "m"], ["INCR", "k2"],
              ["MGET", "k2", "s:1"]]
EXEC_CHANGE = ["resetkeys", "~k2", "-get", "resetchannels", "(~s:* ~k2 +mget)"]


def test_exec_checks_queued_commands_again_same_as_redis(servers):
    ember, redis = servers
    got = queued_session(ember, EXEC_CHANGE, EXEC_QUEUE)
    assert got == queued_session(redis, EXEC_CHANGE, EXEC_QUEUE)
    exec_reply, _ = got
    assert exec_reply == (
        b"*5\r\n"
        + NOPERM_CHANGED + b"no permission to touch the specified keys\r\n"
        + NOPERM_CHANGED + b"no permission to execute the command or subcommand\r\n"
        + NOPERM_CHANGED + b"no permission to access one of the channels used as arguments\r\n"
        b":1\r\n"                    # INCR k2: still allowed, and it ran
        b"*2\r\n$1\r\n1\r\n$-1\r\n")  # MGET: allowed by the new selector only


def test_exec_recheck_is_logged_with_context_multi(servers):
    ember, redis = servers
    got = queued_session(ember, ["-get"], [["GET", "k"], ["PING"]])
    assert got == queued_session(redis, ["-get"], [["GET", "k"], ["PING"]])
    exec_reply, log = got
    assert exec_reply == (b"*2\r\n" + NOPERM_CHANGED
                          + b"no permission to execute the command or subcommand\r\n+PONG\r\n")
    assert log == (b"*1\r\n*14\r\n$5\r\ncount\r\n:1\r\n$6\r\nreason\r\n$7\r\ncommand\r\n"
                   b"$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$3\r\nget\r\n"
                   b"$8\r\nusername\r\n$1\r\nu\r\n$11\r\nage-seconds\r\n$11\r\nclient-info\r\n")


def test_exec_unchanged_permissions_run_everything(servers):
    """The re-check refuses nothing the user may still run: a change that
    keeps the queued commands allowed leaves EXEC's replies alone."""
    ember, redis = servers
    queue = [["SET", "k1", "v"], ["GET", "k1"]]
    got = queued_session(ember, ["-flushall"], queue)
    assert got == queued_session(redis, ["-flushall"], queue)
    assert got == (b"*2\r\n+OK\r\n$1\r\nv\r\n", b"*0\r\n")
