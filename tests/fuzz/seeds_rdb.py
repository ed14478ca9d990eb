#!/usr/bin/python3
"""Writes the seed corpus of fuzz_rdb (tests/fuzz/corpus/fuzz_rdb/) from what
Debian's redis-server 7.0 writes: the DUMP payload of a value of every type in
each encoding (listpack, intset, quicklist, hash table, skip list; integer and
LZF strings), and a whole dump.rdb holding them all with TTLs in two dbs.

Input layout (see fuzz_rdb.c): first byte 0 = payload body (the payload
without its 10-byte footer), 2 = the same with compressed re-dumps, 1 = an RDB
file. The seeds are committed; run this again after changing it (it starts
its own redis-server on a free loopback port and stops it)."""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate(c):
    c.set("str", "hello")
    c.set("int", "12345")
    c.set("neg", "-70000")
    c.set("lzf", "abc" * 40)
    c.set("bin", b"\x00\xff\r\n" * 8)
    c.rpush("list_lp", "a", "b", "3", "-70000", "x" * 70)
    c.rpush("list_ql", *[f"element-{i}" for i in range(300)])
    c.sadd("set_int", 1, 2, 300, -5, 70000, 2**40)
    c.sadd("set_ht", "a", "b", "c")
    c.sadd("set_big", *[f"m{i}" for i in range(200)])
    c.zadd("zset_lp", {"a": 1.5, "b": -2, "c": float("inf"), "d": 0.1})
    c.zadd("zset_sl", {f"m{i}": i / 7 for i in range(200)})
    c.hset("hash_lp", mapping={"f1": "v1", "f2": "2", "f3": "-3"})
    c.hset("hash_ht", mapping={f"f{i}": f"v{i}" * 3 for i in range(600)})
    c.pexpire("str", 10_000_000)
    c.expire("hash_ht", 100_000)


def write(seeds):
    d = HERE / "corpus" / "fuzz_rdb"
    d.mkdir(parents=True, exist_ok=True)
    for s in seeds:
        (d / hashlib.sha1(s).hexdigest()[:16]).write_bytes(s)


def main():
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("seeds_rdb: redis-server is not installed")
    tmp = tempfile.mkdtemp(prefix="seeds_rdb.")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = redis.Redis(port=port)
        deadline = time.time() + 10
        while True:
            try:
                c.ping()
                break
            except redis.ConnectionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        populate(c)
        seeds = []
        for k in sorted(c.keys("*")):
            body = c.dump(k)[:-10]
            seeds += [b"\x00" + body, b"\x02" + body]
        c.select(2)
        c.set("other-db", "v")
        c.select(0)
        c.save()
        seeds.append(b"\x01" + Path(tmp, "dump.rdb").read_bytes())
        write(seeds)
        print(f"seeds_rdb: {len(seeds)} seeds")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
