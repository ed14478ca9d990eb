#!/usr/bin/python3
"""Cache mode, ember beside redis-server (issue 8).

A cache-aside load against a server with maxmemory set: keys are read with a
Zipf skew (GET; on a miss, SET the value), and the working set (keys x
(key + value) bytes) is several times maxmemory, so the server must evict and
the policy decides the hit rate. For each policy (allkeys-lru, allkeys-lfu)
and each server, in the same run, alternating servers round by round:

  1. start the server fresh: --maxmemory M --maxmemory-policy P (defaults
     otherwise: maxmemory-samples 5, lfu-log-factor 10, lfu-decay-time 1);
  2. warm up: the same load, not counted, until the cache is full and
     evicting;
  3. measure: the load with the same seed for both servers; hit rate =
     GET hits / GETs, throughput = GETs per second of wall time, and the
     server's CPU time (utime + stime from /proc) per GET;
  4. all along, a second connection polls INFO memory every 10 ms: the
     highest used_memory seen, and used_memory_peak at the end, against
     the limit.

The load generator is bench/eviction_client.c (built here with gcc): one
connection, pipelined, so the client costs the same for both servers.

Usage: bench/eviction.py [--ember PATH] [--redis PATH] [--maxmemory-mb 16]
           [--working-set 5] [--value-size 100] [--zipf 0.99] [--ops N]
           [--warmup N] [--rounds 3] [--json FILE] [--md FILE]
       bench/eviction.py --render FILE.json [--md FILE]
Without --ember, ember is built Release in bench/.build/ember-eviction.
Prints a Markdown table (medians over the rounds; memory: the worst round);
--md writes it with the run's context (date, commit, machine, command line,
every round); --render does that again from a --json file.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "bench", ".build")
KEY_LEN = 14  # "key:%010u"
POLICIES = ["allkeys-lru", "allkeys-lfu"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def build_ember():
    out = os.path.join(BUILD, "ember-eviction")
    subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j2", "--target", "ember-server"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(out, "ember-server")


def build_client():
    os.makedirs(BUILD, exist_ok=True)
    src = os.path.join(ROOT, "bench", "eviction_client.c")
    exe = os.path.join(BUILD, "eviction_client")
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", exe, src, "-lm"], check=True)
    return exe


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Poller(threading.Thread):
    """Polls INFO memory; keeps the highest used_memory seen."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.r = redis.Redis(port=port)
        self.stop_flag = threading.Event()
        self.max_used = 0

    def run(self):
        while not self.stop_flag.is_set():
            try:
                used = int(self.r.info("memory")["used_memory"])
                self.max_used = max(self.max_used, used)
            except redis.RedisError:
                pass
            time.sleep(0.01)

    def stop(self):
        self.stop_flag.set()
        self.join()
        self.r.close()


def start(binary, port, workdir, policy, maxmemory):
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--maxmemory", str(maxmemory), "--maxmemory-policy", policy]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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


def run_client(client, port, a, ops, seed):
    out = subprocess.run([client, str(port), str(a.keys), str(a.value_size), str(a.zipf),
                          str(ops), str(a.pipeline), str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def one_run(name, binary, client, policy, a, workdir, seed):
    port = free_port()
    proc, r = start(binary, port, workdir, policy, a.maxmemory)
    try:
        poller = Poller(port)
        poller.start()
        run_client(client, port, a, a.warmup, seed)
        cpu0 = cpu_seconds(proc.pid)
        res = run_client(client, port, a, a.ops, seed + 1)
        cpu1 = cpu_seconds(proc.pid)
        poller.stop()
        mem = r.info("memory")
        stats = r.info("stats")
        return {
            "server": name, "policy": policy,
            "hit_rate": res["hits"] / res["gets"],
            "gets_per_s": res["gets"] / res["seconds"],
            "cpu_us_per_get": (cpu1 - cpu0) * 1e6 / res["gets"],
            "max_used_polled": poller.max_used,
            "used_memory_peak": int(mem["used_memory_peak"]),
            "used_memory_end": int(mem["used_memory"]),
            "keys_end": r.dbsize(),
            "evicted_keys": int(stats["evicted_keys"]),
            "set_errors": res["set_errors"],
            "raw": res,
        }
    finally:
        r.close()
        proc.terminate()
        proc.wait(timeout=10)


def median(rows, field):
    return statistics.median(x[field] for x in rows)


def table(results, a):
    lim = a.maxmemory
    lines = [
        f"maxmemory {lim // (1024 * 1024)} MB; {a.keys:,} keys of {KEY_LEN} + {a.value_size} "
        f"bytes (working set {a.keys * (KEY_LEN + a.value_size) / lim:.1f}x maxmemory); Zipf "
        f"s={a.zipf}; {a.ops:,} GETs measured after {a.warmup:,} of warm-up; pipeline "
        f"{a.pipeline}; {a.rounds} rounds, medians (memory: worst round).",
        "",
        "| policy | server | hit rate | GETs/s | server CPU us/GET | GETs per server CPU-second "
        "| keys held | max used_memory (polled) | used_memory_peak | peak / maxmemory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for policy in POLICIES:
        for name in ("ember", "redis"):
            rows = [x for x in results if x["policy"] == policy and x["server"] == name]
            if not rows:
                continue
            peak = max(max(x["used_memory_peak"], x["max_used_polled"]) for x in rows)
            lines.append(
                f"| {policy} | {name} | {median(rows, 'hit_rate') * 100:.2f}% "
                f"| {median(rows, 'gets_per_s'):,.0f} | {median(rows, 'cpu_us_per_get'):.3f} "
                f"| {1e6 / median(rows, 'cpu_us_per_get'):,.0f} "
                f"| {int(median(rows, 'keys_end')):,} "
                f"| {max(x['max_used_polled'] for x in rows):,} "
                f"| {max(x['used_memory_peak'] for x in rows):,} | {peak / lim:.3f} |")
    lines += ["", "Paired by round (ember / redis, median of the per-round ratios, which cancels "
              "drift between rounds):", "",
              "| policy | hit rate | GETs/s | server CPU per GET |", "|---|---|---|---|"]
    for policy in POLICIES:
        pairs = []
        for rnd in sorted({x["round"] for x in results}):
            e = [x for x in results if (x["policy"], x["server"], x["round"]) == (policy, "ember", rnd)]
            r = [x for x in results if (x["policy"], x["server"], x["round"]) == (policy, "redis", rnd)]
            if e and r:
                pairs.append((e[0], r[0]))
        if not pairs:
            continue
        ratio = lambda f: statistics.median(e[f] / r[f] for e, r in pairs)
        lines.append(f"| {policy} | {ratio('hit_rate'):.3f} | {ratio('gets_per_s'):.2f} "
                     f"| {ratio('cpu_us_per_get'):.2f} |")
    return "\n".join(lines)


def context(a, argv):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "include"],
                           capture_output=True, text=True).stdout.strip()
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": commit + (" (src/include modified)" if dirty else ""),
        "cpu": f"{model}, {os.cpu_count()} CPUs",
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "command": " ".join(argv),
        "note": a.note,
        "ember": a.ember or "built here",
        "redis": subprocess.run([a.redis, "--version"], capture_output=True,
                                text=True).stdout.strip(),
    }


def markdown(results, a, ctx):
    lines = ["# Cache mode: ember beside redis-server (bench/eviction.py)", "",
             f"Generated by `{ctx['command']}` on {ctx['date']}; ember commit {ctx['commit']} "
             f"({ctx['ember']}); {ctx['redis']}; {ctx['cpu']}; load average at start "
             f"{' '.join(ctx['loadavg'])}.", "", ctx.get("note", ""), "", table(results, a), "",
             "GETs/s is wall-clock throughput of one pipelined client; on a shared machine it "
             "varies by 2x between rounds, so the server's own CPU time per GET is the steadier "
             "figure. Peak is the larger of the polled maximum and INFO used_memory_peak.", "",
             "| round | policy | server | hit rate | GETs/s | CPU us/GET | peak / maxmemory |",
             "|---|---|---|---|---|---|---|"]
    for x in results:
        peak = max(x["used_memory_peak"], x["max_used_polled"]) / a.maxmemory
        lines.append(f"| {x['round']} | {x['policy']} | {x['server']} | "
                     f"{x['hit_rate'] * 100:.2f}% | {x['gets_per_s']:,.0f} | "
                     f"{x['cpu_us_per_get']:.3f} | {peak:.3f} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ember")
    p.add_argument("--redis", default="/usr/bin/redis-server")
    p.add_argument("--maxmemory-mb", type=int, default=16)
    p.add_argument("--working-set", type=float, default=5.0,
                   help="keys x (key + value) bytes, as a multiple of maxmemory")
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--zipf", type=float, default=0.99)
    p.add_argument("--ops", type=int, default=3_000_000)
    p.add_argument("--warmup", type=int, default=2_000_000)
    p.add_argument("--pipeline", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--policies", default=",".join(POLICIES))
    p.add_argument("--json")
    p.add_argument("--md")
    p.add_argument("--render")
    p.add_argument("--note", default="", help="a line of context for --md (e.g. how ember was built)")
    a = p.parse_args()
    if a.render:
        with open(a.render) as f:
            saved = json.load(f)
        ra = argparse.Namespace(**saved["args"])
        text = markdown(saved["results"], ra, saved["context"])
        if a.md:
            with open(a.md, "w") as f:
                f.write(text)
        print(text)
        return
    a.maxmemory = a.maxmemory_mb * 1024 * 1024
    a.keys = int(a.working_set * a.maxmemory / (KEY_LEN + a.value_size))
    ctx = context(a, sys.argv)
    ember = a.ember or build_ember()
    client = build_client()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for rnd in range(a.rounds):
            for policy in a.policies.split(","):
                order = [("ember", ember), ("redis", a.redis)]
                if rnd % 2:
                    order.reverse()
                for name, binary in order:
                    res = one_run(name, binary, client, policy, a, workdir, seed=1000 + rnd)
                    res["round"] = rnd
                    results.append(res)
                    print(f"round {rnd} {policy:12} {name:5} hit {res['hit_rate'] * 100:.2f}% "
                          f"{res['gets_per_s']:,.0f} GETs/s cpu {res['cpu_us_per_get']:.3f} us/GET "
                          f"peak {max(res['used_memory_peak'], res['max_used_polled']) / a.maxmemory:.3f}x",
                          file=sys.stderr)
    print(table(results, a))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "context": ctx, "results": results}, f, indent=1)
    if a.md:
        with open(a.md, "w") as f:
            f.write(markdown(results, a, ctx))


if __name__ == "__main__":
    main()
