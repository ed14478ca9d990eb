#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The seeds are committed; run this again after changing it. Each seed is a
small, valid or nearly valid input in the target's input layout (see the
comment at the top of each fuzz_*.c), so the fuzzer starts from the protocol
and command shapes instead of discovering them byte by byte."""

import hashlib
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def write(target, seeds):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()[:16]
        (d / name).write_bytes(s)


RESP_STREAMS = [
    cmd("PING"),
    cmd("SET", "key", "value") + cmd("GET", "key"),
    b"PING\r\n",
    b"SET a \"b c\" 'd e'\r\nGET a\n",
    b"ECHO \"\\x41\\n\\t\\\\\" '\\''\r\n",
    b"SET a \"unbalanced\r\n",
    b"*0\r\n*-1\r\n\r\n\n" + cmd("PING"),
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n",
    b"*1\r\n$4\r\nPINGxx",
    b"*2\r\n$4\r\nECHO\r\n$-1\r\n",
    b"*2\r\n$4\r\nECHO\r\n$abc\r\n",
    b"*2\r\n:4\r\nECHO\r\n",
    b"*9223372036854775808\r\n",
    b"*2147483648\r\n",
    b"*11\r\n" + b"$1\r\na\r\n" * 11,
    b"*1\r\n$16385\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$101\r\n" + b"x" * 101 + b"\r\n",
    b"*1\r\n$0\r\n\r\n",
    b"*1\x00\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\x00\r\nPING\r\n",
    b"*01\r\n$04\r\nPING\r\n",
    b"*+1\r\n$+4\r\nPING\r\n",
    b"*1\r$4\rPING\r\n",
    b"\x00\x01\x02\xff\r\n",
]
RESP_EXPANDED = [
    b"\xfe1" * 9,                       # 72 KB inline line: too big
    b"*" + b"\xfe1" * 9,               # too big count line
    b"*1\r\n$" + b"\xfe1" * 9,         # too big bulk count line
    b"*1\r\n$65536\r\n" + b"\xfea" * 8 + b"\r\n",
    b"\xfea" * 7 + b"\xfe\x00" + b"\r\n",
]


def resp_seeds():
    out = []
    for i, s in enumerate(RESP_STREAMS):
        for flags in (0, 1, 2):
            out.append(bytes([flags]) + struct.pack("<Q", 0x9E3779B97F4A7C15 * (i + 1) % 2**64) + s)
    for i, s in enumerate(RESP_EXPANDED):
        out.append(bytes([0x1c]) + struct.pack("<Q", i + 1) + s)
        out.append(bytes([0x1d]) + struct.pack("<Q", i + 7) + s)
    return out


GLOB_CASES = [
    (b"*", b"anything"), (b"h?llo", b"hello"), (b"h[ae]llo", b"hallo"), (b"h[^e]llo", b"hbllo"),
    (b"h[a-b]llo", b"hbllo"), (b"h[z-a]llo", b"hmllo"), (b"\\*", b"*"), (b"[\\]]", b"]"),
    (b"[abc", b"c"), (b"[^", b"x"), (b"\\", b"\\"), (b"", b""), (b"*", b""), (b"a*", b"a"),
    (b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", b"a" * 60), (b"*[a-z]*[a-z]*x", b"abcdefgh" * 8),
    (b"User:*:Name", b"user:1000:name"), (b"[A-Z]", b"q"), (b"[\\A]", b"a"), (b"**?*", b"ab"),
    (b"*?*?*?*?*?*?*?*?*?*?*?z", b"y" * 100), (b"[\x80-\xff]", b"\x90"), (b"a\\", b"a\\"),
]


def glob_seeds():
    out = []
    for i, (p, s) in enumerate(GLOB_CASES):
        out.append(bytes([i & 1]) + struct.pack("<H", len(p)) + p + s)
    return out


NUMBERS = [
    b"0", b"-0", b"1", b"-1", b"00", b"01", b"+1", b" 1", b"1 ", b"9223372036854775807",
    b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809",
    b"18446744073709551615", b"18446744073709551616", b"1.5", b"-1.5e308", b"1e309", b"1e-400",
    b"4.9406564584124654e-324", b"inf", b"-inf", b"+inf", b"nan", b"0x1p3", b"1.1",
    b"3.0000000000000000001", b"1\x002", b"10kb", b"5gb", b"-3m", b"k", b"1e", b".5", b"5.",
    struct.pack("<q", -2**63), struct.pack("<d", 2.0**53), struct.pack("<d", -0.0),
    struct.pack("<d", 1e-310), b"\x00" * 9 + b"\x80", b"\xff" * 10, b"1" * 5200,
]


def server_seeds():
    S = b"\xff"
    scripts = [
        cmd("SET", "k", "v") + cmd("GET", "k") + cmd("APPEND", "k", "x") + cmd("STRLEN", "k")
        + cmd("SETRANGE", "k", "3", "abc") + cmd("GETRANGE", "k", "0", "-1")
        + cmd("INCR", "n") + cmd("INCRBYFLOAT", "n", "1.5") + cmd("DECRBY", "n", "9223372036854775807"),
        cmd("SET", "k", "v", "EX", "1") + cmd("TTL", "k") + S + S + S + S + S + S + S + S + S + S
        + S + S + cmd("GET", "k") + cmd("PEXPIRE", "k", "5") + cmd("EXPIRETIME", "k"),
        cmd("RPUSH", "l", "a", "b", "c") + cmd("LRANGE", "l", "0", "-1") + cmd("LPOS", "l", "b")
        + cmd("LINSERT", "l", "BEFORE", "b", "x") + cmd("LMOVE", "l", "m", "LEFT", "RIGHT")
        + cmd("LTRIM", "l", "1", "-1") + cmd("LREM", "l", "0", "a") + cmd("LSET", "l", "0", "z"),
        cmd("BLPOP", "q", "0") + S + cmd("LPUSH", "q", "item") + S + cmd("PING"),
        cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0.2") + S + S + S + S,
        cmd("HSET", "h", "f", "v", "g", "1") + cmd("HINCRBY", "h", "g", "5") + cmd("HGETALL", "h")
        + cmd("HSCAN", "h", "0", "MATCH", "*", "COUNT", "10") + cmd("HRANDFIELD", "h", "-5", "WITHVALUES"),
        cmd("SADD", "s", "a", "b", "1", "2") + cmd("SINTER", "s", "t") + cmd("SUNIONSTORE", "u", "s", "t")
        + cmd("SPOP", "s", "2") + cmd("SRANDMEMBER", "s", "-3") + cmd("SMEMBERS", "s"),
        cmd("ZADD", "z", "1", "a", "2", "b") + cmd("ZRANGE", "z", "0", "-1", "WITHSCORES")
        + cmd("ZINCRBY", "z", "inf", "a") + cmd("ZRANGEBYSCORE", "z", "-inf", "+inf"),
        cmd("WATCH", "w") + S + cmd("SET", "w", "1") + S + cmd("MULTI") + cmd("INCR", "w")
        + cmd("EXEC"),
        cmd("MULTI") + cmd("SET", "a", "1") + cmd("NOSUCH") + cmd("EXEC") + cmd("DISCARD"),
        cmd("SUBSCRIBE", "ch") + cmd("PSUBSCRIBE", "c*") + S + cmd("PUBLISH", "ch", "hi") + S
        + cmd("PING") + cmd("UNSUBSCRIBE") + cmd("PUNSUBSCRIBE"),
        cmd("HELLO", "3") + cmd("HGETALL", "h") + cmd("ZSCORE", "z", "a") + cmd("HELLO", "2"),
        cmd("SET", "a", "1") + cmd("RENAME", "a", "b") + cmd("COPY", "b", "c") + cmd("MOVE", "c", "1")
        + cmd("SELECT", "1") + cmd("KEYS", "*") + cmd("SCAN", "0") + cmd("SWAPDB", "0", "1")
        + cmd("OBJECT", "ENCODING", "c") + cmd("TYPE", "c") + cmd("RANDOMKEY") + cmd("FLUSHALL"),
        cmd("CLIENT", "SETNAME", "x") + cmd("CLIENT", "LIST") + cmd("CLIENT", "INFO")
        + cmd("CLIENT", "REPLY", "SKIP") + cmd("PING") + cmd("CLIENT", "ID") + cmd("INFO")
        + cmd("COMMAND", "INFO", "get") + cmd("CONFIG", "GET", "*max*") + cmd("MEMORY", "USAGE", "k"),
        cmd("AUTH", "pass") + cmd("AUTH", "default", "pass") + cmd("RESET") + cmd("QUIT") + cmd("PING"),
        b"SET x \"a\\x00b\"\r\nGET x\r\n" + b"*1\r\n$3\r\nfoo\r\n" + b"*-5\r\n" + b"GET\r\n",
        cmd("CLIENT", "KILL", "ID", "2") + S + cmd("PING"),
        cmd("LMPOP", "2", "a", "b", "LEFT", "COUNT", "3") + cmd("BLMPOP", "0.1", "1", "a", "RIGHT")
        + S + S + cmd("RPUSH", "a", "1", "2", "3"),
        cmd("RPUSH", "l", "a", "b") + cmd("HSET", "h", "f", "1") + cmd("ZADD", "z", "1", "m")
        + cmd("SADD", "s", "x", "1") + cmd("SET", "n", "12") + cmd("DUMP", "l") + cmd("DUMP", "h")
        + cmd("DUMP", "z") + cmd("DUMP", "s") + cmd("DUMP", "n")
        + cmd("RESTORE", "rl", "0", b'\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\n\x00\xe0\x1b\xabJG\xceY"', "REPLACE")
        + cmd("RESTORE", "rh", "0", b'\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x01\x01\x81g\x02\x81x\x02\xff\n\x00\xf2\xc5\xd7;[\x9b\xc3Z', "REPLACE")
        + cmd("RESTORE", "rz", "0", b'\x11\x14\x14\x00\x00\x00\x04\x00\x81m\x02\x831.5\x04\x81n\x02\x02\x01\xff\n\x00\xf1\xb0:mX_i8', "REPLACE")
        + cmd("RESTORE", "rs", "0", b'\x02\x02\xc0\x01\x01x\n\x00-\x1a\x8a\x17^nK\xd2', "REPLACE")
        + cmd("RESTORE", "rsi", "0", b'\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b', "REPLACE")
        + cmd("RESTORE", "rn", "0", b'\x00\xc0\x0c\n\x00<*\xf8Q\\\x04\xbc\xd5', "REPLACE")
        + cmd("RESTORE", "rstr", "0", b'\x00\x05hello\n\x00cr\xdfve4 \n', "REPLACE"),
        cmd("ACL", "SETUSER", "u", "on", ">pw", "~a*", "%R~r*", "&ch", "+get", "+@string", "-set",
            "+config|get", "+select|0") + cmd("ACL", "LIST") + cmd("ACL", "GETUSER", "u") + S
        + cmd("AUTH", "u", "pw") + cmd("GET", "a1") + cmd("SET", "b", "x") + cmd("SELECT", "0")
        + cmd("ACL", "WHOAMI") + S + cmd("ACL", "DELUSER", "u"),
        cmd("ACL", "SETUSER", "y", "%RW~*", "%W~w", "resetkeys", "~k", "-@all", "+@hash", "+@list",
            "-lpush") + cmd("ACL", "GETUSER", "y") + cmd("ACL", "USERS") + cmd("HELLO", "3", "AUTH", "y", "p")
        + cmd("ACL", "SETUSER", "default", "-flushall") + cmd("FLUSHALL")
        + cmd("ACL", "SETUSER", "default", "+@all"),
    ]
    return scripts


def main():
    write("fuzz_resp", resp_seeds())
    write("fuzz_glob", glob_seeds())
    write("fuzz_numbers", NUMBERS)
    write("fuzz_server", server_seeds())


if __name__ == "__main__":
    main()
