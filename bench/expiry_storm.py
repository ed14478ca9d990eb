#!/usr/bin/python3
"""Mass expiry, ember beside redis-server (issue 4).

For each server, in one run:
  1. start it on a free loopback port (no persistence) and read used_memory
     of the empty server;
  2. measure a single client's GET latency (redis-benchmark -c 1 -P 1) with
     nothing expiring: the baseline p50/p99;
  3. load N keys (default 1,000,000) that all expire at the same absolute
     instant (PXAT), so the whole set turns stale at once, and nobody reads
     them;
  4. from that instant, run the same GET benchmark while polling DBSIZE
     (with a second connection) until it reaches 0: the time to reclaim,
     and the GET p50/p99 during the storm;
  5. read used_memory again: it should be back within 10% of the empty
     server's.

Usage: bench/expiry_storm.py [--keys N] [--ember PATH] [--redis PATH]
Prints a Markdown table; --json FILE writes the figures.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, port, workdir):
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            r.ping()
            return proc, r
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{binary} did not start")


def get_latency(port, requests):
    """p50/p99 in ms of GET from one client, from redis-benchmark's CSV."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", "1", "-P", "1", "-t", "get", "-n",
         str(requests), "--csv"],
        capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if cols and cols[0] == "GET":
            # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
            # "p95_latency_ms","p99_latency_ms","max_latency_ms"
            return {"rps": float(cols[1]), "p50": float(cols[4]), "p99": float(cols[6]),
                    "max": float(cols[7])}
    raise RuntimeError("no GET line in redis-benchmark output:\n" + out)


def load(port, n, when_ms):
    s = socket.create_connection(("127.0.0.1", port))
    val = b"v" * 16
    when = str(when_ms).encode()
    batch = 10000
    for start_i in range(0, n, batch):
        frames = []
        for i in range(start_i, min(n, start_i + batch)):
            k = b"key:%012d" % i
            frames.append(b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n$4\r\nPXAT\r\n$%d\r\n%s\r\n"
                          % (len(k), k, val, len(when), when))
        s.sendall(b"".join(frames))
        need = min(n, start_i + batch) - start_i
        got = 0
        while got < need:
            got += s.recv(1 << 20).count(b"+OK")
    s.close()


def run_one(name, binary, n, get_requests):
    workdir = tempfile.mkdtemp(prefix="storm-")
    port = free_port()
    proc, r = start(binary, port, workdir)
    try:
        r.set("probe", "x")  # the key the GET client reads (never expires)
        empty = r.info("memory")["used_memory"]
        baseline = get_latency(port, get_requests)
        # Everything expires at one instant, far enough ahead to load first.
        # A generous margin (20 s per million keys): the load must finish
        # before the deadline on a slow, shared machine; we wait out the rest.
        load_ms = max(5000, n // 50)
        when = int(time.time() * 1000) + load_ms
        load(port, n, when)
        if time.time() * 1000 >= when:
            raise RuntimeError(f"{name}: loading took longer than {load_ms} ms; raise the margin")
        loaded = r.info("memory")["used_memory"]
        while time.time() * 1000 < when:
            time.sleep(0.005)
        t0 = time.time()
        reclaimed_at = [None]

        def poll():
            p = redis.Redis(port=port)
            while time.time() - t0 < 120:
                if p.dbsize() <= 1:  # only "probe" left
                    reclaimed_at[0] = time.time() - t0
                    return
                time.sleep(0.02)

        th = threading.Thread(target=poll)
        th.start()
        during = get_latency(port, get_requests)
        th.join()
        after = r.info("memory")["used_memory"]
        stats = r.info("stats")
        return {
            "server": name, "keys": n, "empty_used_memory": empty,
            "loaded_used_memory": loaded, "after_used_memory": after,
            "after_vs_empty": after / empty, "reclaim_seconds": reclaimed_at[0],
            "baseline": baseline, "during": during,
            "expired_keys": stats.get("expired_keys"),
            "expired_time_cap_reached_count": stats.get("expired_time_cap_reached_count"),
        }
    finally:
        try:
            r.shutdown(nosave=True)
        except redis.RedisError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--get-requests", type=int, default=100000)
    ap.add_argument("--ember", default=os.path.join(ROOT, "build", "ember-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--json")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "EXPIRY.md"),
                    help="Markdown report (default bench/results/EXPIRY.md; '-' for none)")
    a = ap.parse_args()
    results = [run_one("ember", a.ember, a.keys, a.get_requests),
               run_one("redis", a.redis, a.keys, a.get_requests)]
    lines = []
    out = lines.append
    out(f"Mass expiry: {a.keys} keys with one deadline, no reads; "
        f"GET latency from one client (redis-benchmark -c 1 -P 1, {a.get_requests} requests)\n")
    print_table(results, out)
    report = "\n".join(lines)
    print(report)
    if a.out != "-":
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with open(a.out, "w") as f:
            f.write(f"# Mass expiry, ember beside redis-server\n\nGenerated by "
                    f"`bench/expiry_storm.py --keys {a.keys}` on {stamp}; "
                    f"ember: `{a.ember}`, redis: `{a.redis}`.\n\n{report}\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def print_table(results, out):
    out("| server | time to dbsize 0 (s) | used_memory empty / loaded / after (MB) | after/empty "
          "| GET p50 ms base / storm | GET p99 ms base / storm | p99 ratio |")
    out("|---|---|---|---|---|---|---|")
    for x in results:
        mb = lambda v: v / 1048576
        p99r = x["during"]["p99"] / x["baseline"]["p99"] if x["baseline"]["p99"] else float("nan")
        rs = x["reclaim_seconds"]
        out(f"| {x['server']} | {rs:.2f} | {mb(x['empty_used_memory']):.1f} / "
              f"{mb(x['loaded_used_memory']):.1f} / {mb(x['after_used_memory']):.1f} | "
              f"{x['after_vs_empty']:.2f} | {x['baseline']['p50']:.3f} / {x['during']['p50']:.3f} | "
              f"{x['baseline']['p99']:.3f} / {x['during']['p99']:.3f} | {p99r:.2f} |"
              if rs is not None else f"| {x['server']} | not reclaimed in 120 s | | | | | |")


if __name__ == "__main__":
    sys.exit(main())
