#!/usr/bin/python3
"""Append-only file throughput, ember beside redis-server (issue 11 part 3).

For each appendfsync policy (always, everysec) and client count (-c 1, -c 50),
in the same run, alternating servers A B A B round by round:

  1. start the server fresh in an empty directory with --appendonly yes
     --appendfsync P --save "" (an RDB base is written at start, then the
     incremental file grows);
  2. redis-benchmark -t set -n N -r 100000 -c C -q (3-byte values, as
     redis-benchmark's default), SET requests per second as it reports them,
     and the server's CPU time (utime + stime of all its threads, from
     /proc) per request: steadier than throughput when other processes
     share the machine;
  3. stop the server.

The figure for each cell is the median over the rounds. The AOF lives in the
system's temporary directory (its file system and disk are part of the
figure: both servers use the same one in the same run).

With appendfsync always and one client every SET waits for its own fsync
(about 5 ms on the machine this was written on), so that cell runs
--requests-always-1 requests (default 2000) instead of --requests.

Usage: bench/aof.py [--ember PATH] [--redis PATH] [--requests 100000]
           [--requests-always-1 2000] [--rounds 3] [--md FILE] [--json FILE]
Without --ember, ember is built Release in bench/.build/ember-aof.
"""
import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "bench", ".build")
POLICIES = ["always", "everysec"]
CLIENTS = [1, 50]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def build_ember():
    out = os.path.join(BUILD, "ember-aof")
    subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j2", "--target", "ember-server"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(out, "ember-server")


def wait_ping(port, proc, deadline=20.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("server did not answer PING")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_one(binary, policy, clients, requests):
    work = tempfile.mkdtemp(prefix="aofbench-")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", work, "--save", "",
            "--appendonly", "yes", "--appendfsync", policy, "--loglevel", "warning"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        wait_ping(port, proc)
        cpu0 = cpu_seconds(proc.pid)
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n",
                              str(requests), "-r", "100000", "-c", str(clients), "-q"],
                             capture_output=True, text=True, check=True, timeout=1800).stdout
        cpu_us = (cpu_seconds(proc.pid) - cpu0) * 1e6 / requests
        m = re.search(r"SET: ([\d.]+) requests per second", out.replace("\r", "\n"))
        if m is None:
            raise RuntimeError(f"unexpected redis-benchmark output: {out!r}")
        return float(m.group(1)), cpu_us
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)


def render(results, meta):
    lines = [
        "# AOF: SET throughput, ember beside redis-server",
        "",
        f"Run {meta['date']} on {meta['machine']}, ember {meta['commit']}, "
        f"{meta['redis_version']}; `{meta['command']}`.",
        f"redis-benchmark -t set -n {meta['requests']} (always with 1 client: "
        f"-n {meta['requests_always_1']}) -r 100000, appendonly yes, AOF in "
        f"{meta['tmpdir']}; servers alternated round by round, {meta['rounds']} rounds; "
        "requests per second, median (each round in brackets).",
        "",
        f"Machine load (1-minute average) during the run: {meta['load']}.",
        "",
        "| appendfsync | clients | ember SET/s | redis-server SET/s | ember / redis | "
        "CPU µs per SET, ember / redis |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, r in results.items():
        policy, clients = key.split("/")
        e, rd = statistics.median(r["ember"]), statistics.median(r["redis"])
        ce, cr = statistics.median(r["ember_cpu"]), statistics.median(r["redis_cpu"])
        lines.append(f"| {policy} | {clients} | {e:,.0f} ({', '.join(f'{x:,.0f}' for x in r['ember'])})"
                     f" | {rd:,.0f} ({', '.join(f'{x:,.0f}' for x in r['redis'])}) | {e / rd:.2f} "
                     f"| {ce:.1f} / {cr:.1f} |")
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ember")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--requests-always-1", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--md")
    ap.add_argument("--json")
    a = ap.parse_args()
    ember = a.ember or build_ember()
    results = {}
    loads = []
    for policy in POLICIES:
        for clients in CLIENTS:
            r = results[f"{policy}/{clients}"] = {"ember": [], "redis": [], "ember_cpu": [],
                                                  "redis_cpu": []}
            for rnd in range(a.rounds):
                for name, binary in (("ember", ember), ("redis", a.redis)):
                    n = a.requests_always_1 if (policy, clients) == ("always", 1) else a.requests
                    v, cpu = run_one(binary, policy, clients, n)
                    r[name].append(v)
                    r[name + "_cpu"].append(cpu)
                    loads.append(os.getloadavg()[0])
                    print(f"{policy} -c {clients} round {rnd + 1} {name}: {v:,.0f} SET/s, "
                          f"{cpu:.1f} CPU us/SET", file=sys.stderr, flush=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    rv = subprocess.run([a.redis, "--version"], capture_output=True, text=True).stdout.split()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.release()}",
            "redis_version": " ".join(rv[:3]), "requests": a.requests,
            "requests_always_1": a.requests_always_1, "rounds": a.rounds,
            "tmpdir": tempfile.gettempdir(), "command": " ".join(sys.argv),
            "load": f"{min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} CPUs"}
    md = render(results, meta)
    print(md)
    if a.md:
        with open(a.md, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
