#!/usr/bin/python3
"""RDB snapshots, ember beside redis-server (issue 11).

For each server, in the same run, alternating servers round by round:

  1. start it fresh (--save "" so nothing saves on its own, rdbcompression
     and rdbchecksum at their defaults, yes);
  2. load N small keys ("key:%010d" -> a 16-byte value) with redis-cli --pipe
     from one pre-built protocol file, so the client costs the same for both;
  3. BGSAVE, then poll INFO persistence every 2 ms until the save is done:
     BGSAVE time = wall time from the command to rdb_bgsave_in_progress:0 (to
     the poll's resolution), and the child's CPU time (the parent's cutime +
     cstime grow by it when the child is reaped: steadier than wall time on a
     busy machine); fork time = latest_fork_usec; peak extra memory
     = the highest Private_Dirty of the forked child seen in
     /proc/<child>/smaps_rollup while it ran (the memory the snapshot costs
     beyond the parent: copy-on-write pages plus the child's own buffers),
     and the server's own figure, rdb_last_cow_size;
  4. stop the server and start it again on the dump: load time = what its
     log says ("DB loaded from disk: X seconds"; both servers print it), the
     process's CPU time when it first answers PING, and the dump's size.

The parent's RSS after loading is reported too, as context for the extra
memory. Prints a Markdown table (medians over the rounds, and the best round
for wall times, which a busy machine stretches; extra memory: the worst
round); --md writes it with the run's context (date, commit, machine).

Usage: bench/persist.py [--ember PATH] [--redis PATH] [--keys 1000000]
           [--rounds 3] [--md FILE] [--json FILE]
       bench/persist.py --render FILE.json [--md FILE]
Without --ember, ember is built Release in bench/.build/ember-persist.
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

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "bench", ".build")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def build_ember():
    out = os.path.join(BUILD, "ember-persist")
    subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j2", "--target", "ember-server"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(out, "ember-server")


def protocol_file(path, n):
    """SET key:%010d <16 bytes> for i in [0, n), as RESP."""
    with open(path, "wb") as f:
        chunk = []
        for i in range(n):
            k = b"key:%010d" % i
            v = b"value:%010d" % i
            chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def start(binary, port, workdir, log):
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--dir", workdir, "--dbfilename", "dump.rdb"]
    out = open(log, "ab")
    proc = subprocess.Popen(args, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    r = redis.Redis(port=port)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            r.ping()
            return proc, r
        except (redis.ConnectionError, redis.BusyLoadingError):
            if proc.poll() is not None:
                raise RuntimeError(f"{binary} exited {proc.returncode}")
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"{binary} did not start")


def stop(proc, r):
    r.close()
    proc.terminate()
    proc.wait(60)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def private_dirty(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid, children=False):
    """utime + stime of pid (with children=True: of its reaped children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    i = 13 if children else 11
    return (int(fields[i]) + int(fields[i + 1])) / os.sysconf("SC_CLK_TCK")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def one_round(name, binary, proto, keys, workdir):
    d = tempfile.mkdtemp(prefix=f"{name}.", dir=workdir)
    log = os.path.join(d, "server.log")
    port = free_port()
    proc, r = start(binary, port, d, log)
    try:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=open(proto, "rb"),
                       check=True, stdout=subprocess.DEVNULL)
        assert r.dbsize() == keys, r.dbsize()
        rss_parent = rss(proc.pid)
        saves0 = r.info("persistence")["rdb_saves"]
        child_cpu0 = cpu_seconds(proc.pid, children=True)
        t0 = time.perf_counter()
        r.execute_command("BGSAVE")
        peak, child = 0, None
        while True:
            kids = children(proc.pid)
            if kids:
                child = kids[0]
                peak = max(peak, private_dirty(child))
            p = r.info("persistence")
            if p["rdb_bgsave_in_progress"] == 0 and p["rdb_saves"] > saves0:
                break
            time.sleep(0.002)
        bgsave_s = time.perf_counter() - t0
        bgsave_cpu = cpu_seconds(proc.pid, children=True) - child_cpu0  # reaped by now
        assert p["rdb_last_bgsave_status"] == "ok"
        stats = r.info("stats")
        fork_us = int(stats["latest_fork_usec"])
        cow = int(p.get("rdb_last_cow_size", 0))
    finally:
        stop(proc, r)
    size = os.path.getsize(os.path.join(d, "dump.rdb"))
    # Start again on the dump: the log says how long the load took.
    t0 = time.perf_counter()
    proc, r = start(binary, free_port(), d, log)
    boot_s = time.perf_counter() - t0
    boot_cpu = cpu_seconds(proc.pid)
    try:
        assert r.dbsize() == keys
    finally:
        stop(proc, r)
    with open(log, errors="replace") as f:
        m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
    load_s = float(m[-1]) if m else boot_s
    shutil.rmtree(d, ignore_errors=True)
    return {"bgsave_s": bgsave_s, "bgsave_cpu": bgsave_cpu, "boot_cpu": boot_cpu,
            "fork_us": fork_us, "child_dirty_peak": peak, "cow": cow,
            "load_s": load_s, "boot_s": boot_s, "size": size, "rss": rss_parent}


def mb(x):
    return f"{x / (1024 * 1024):.1f} MB"


def table(results):
    rows = [("BGSAVE time (s)", "bgsave_s", "{:.3f}", statistics.median),
            ("BGSAVE time, best round (s)", "bgsave_s", "{:.3f}", min),
            ("BGSAVE child CPU (s)", "bgsave_cpu", "{:.2f}", statistics.median),
            ("fork time (latest_fork_usec, us)", "fork_us", "{:.0f}", statistics.median),
            ("peak extra memory: child Private_Dirty", "child_dirty_peak", None, max),
            ("rdb_last_cow_size", "cow", None, max),
            ("load time at start-up (s)", "load_s", "{:.3f}", statistics.median),
            ("load time, best round (s)", "load_s", "{:.3f}", min),
            ("start-up until PING (s)", "boot_s", "{:.3f}", statistics.median),
            ("start-up CPU until PING (s)", "boot_cpu", "{:.2f}", statistics.median),
            ("dump size (bytes)", "size", "{:.0f}", statistics.median),
            ("parent RSS with the keys", "rss", None, statistics.median)]
    names = list(results)
    out = ["| | " + " | ".join(names) + " | ember / redis |", "|---|" + "---|" * (len(names) + 1)]
    for label, key, fmt, agg in rows:
        vals = [agg([r[key] for r in results[n]]) for n in names]
        cells = [fmt.format(v) if fmt else mb(v) for v in vals]
        ratio = (f"{vals[0] / vals[1]:.2f}" if len(vals) == 2 and vals[1] else "-")
        out.append(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(out)


def context(a, binaries):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    ver = subprocess.run([binaries["redis"], "--version"], capture_output=True,
                         text=True).stdout.strip()
    return (f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
            f"- ember: commit {commit} (Release build); redis: {ver}\n"
            f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{platform.release()} (shared with other jobs: figures are noisy)\n"
            f"- command: {' '.join(sys.argv)}\n"
            f"- {a.keys} keys of 14-byte names and 16-byte values, {a.rounds} rounds "
            f"alternating servers; medians (memory: the worst round)\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ember")
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--md")
    ap.add_argument("--json")
    ap.add_argument("--render", help="print (and --md) the table of a --json file again")
    a = ap.parse_args()
    if a.render:
        with open(a.render) as f:
            results = json.load(f)
        md = table(results)
        print(md)
        if a.md:
            write_md(a, {"redis": a.redis}, results, md)
        return
    binaries = {"ember": a.ember or build_ember(), "redis": a.redis}
    workdir = tempfile.mkdtemp(prefix="persist-bench.")
    proto = os.path.join(workdir, "load.resp")
    protocol_file(proto, a.keys)
    results = {n: [] for n in binaries}
    try:
        for i in range(a.rounds):
            for n, b in binaries.items():
                res = one_round(n, b, proto, a.keys, workdir)
                results[n].append(res)
                print(f"round {i + 1} {n}: {json.dumps(res)}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    md = table(results)
    print(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.md:
        write_md(a, binaries, results, md)


def write_md(a, binaries, results, md):
    with open(a.md, "w") as f:
        f.write("# RDB snapshots: ember beside redis-server (issue 11)\n\n")
        f.write(context(a, binaries) + "\n" + md + "\n\nEvery round:\n\n```\n")
        for n in results:
            for i, r in enumerate(results[n]):
                f.write(f"{n} round {i + 1}: {json.dumps(r)}\n")
        f.write("```\n")


if __name__ == "__main__":
    main()
