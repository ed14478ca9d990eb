#!/usr/bin/python3
"""bench.py: ember beside redis-server and a storeless ceiling, in one run.

Run it through bench/run.sh (which installs missing tools first); see
bench/README.md for the method. Four parts, each optional (--parts):

  throughput    redis-benchmark against ember, redis-server and the storeless
                server in turn (A B C A B C ...), per test and configuration;
                medians of req/s, p50, p99 and server CPU time per request.
  memory        1,000,000 keys key:%012d with 16-byte values, with and without
                a TTL, loaded into a fresh server; used_memory and RSS per key.
  instructions  each server under callgrind for a fixed pipelined workload;
                instructions per request (counters zeroed and dumped around the
                workload with callgrind_control, so start-up is excluded).
  syscalls      strace -c -f -p PID (and perf, when it may) during a -P 16 run;
                system calls per pipelined batch of 16.

Every server started here listens on a free loopback port and is stopped by
its pid when the harness exits, however it exits. Only the standard library
is used, so Debian's /usr/bin/python3 runs it without pip.
"""

import argparse
import atexit
import csv
import datetime
import glob
import io
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
BUILD_DIR = os.path.join(BENCH_DIR, ".build")
EMBER_BUILD_DIR = os.path.join(BUILD_DIR, "ember")

ALL_TESTS = ["set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "hset",
             "lrange_100", "mset", "ping_mbulk"]
# name -> clients, pipeline, requests per run at full scale. The request
# counts keep most runs at 1 s or more, so that /proc's 10 ms CPU ticks stay
# below 1% of a run's server CPU time.
ALL_CONFIGS = {
    "c50p1": (50, 1, 100_000),
    "c50p16": (50, 16, 1_000_000),
    "c50p64": (50, 64, 2_000_000),
    "c1p1": (1, 1, 20_000),
}
# Tests that do ten times the work per request run with fewer requests.
TEST_WEIGHT = {"mset": 0.25, "lrange_100": 0.25}
ALL_PARTS = ["throughput", "memory", "instructions", "syscalls"]
KEYSPACE = 100_000          # the -r of every redis-benchmark run
SERVERS = ["ember", "redis", "storeless"]
# System calls perf counts one by one (the total counts them all).
PERF_SYSCALLS = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg",
                 "sendmsg", "epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "close"]
SERVER_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOISE_RPS = 0.10            # noise band of a req/s ratio (5 rounds, unpinned)
NOISE_CPU = 0.05            # noise band of a CPU-per-request ratio

QUICK = dict(rounds=3, scale=0.2, keys=200_000, cg_requests=50_000, sys_requests=50_000)
FULL = dict(rounds=5, scale=1.0, keys=1_000_000, cg_requests=200_000, sys_requests=200_000)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd):
    """Output of a short informational command, or '' if it fails."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (p.stdout or p.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- A minimal RESP client (loader, INFO, FLUSHALL) ----

class RespError(Exception):
    pass


def resp_encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Resp:
    def __init__(self, port, timeout=60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def read_reply(self):
        """One reply: str/int/bytes/list/None, or a RespError instance."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise RespError(f"unexpected reply line {line[:60]!r}")

    def call(self, *args):
        self.sock.sendall(resp_encode(*args))
        return self.read_reply()

    def pipeline_simple(self, payload, count):
        """Sends count commands whose replies are one line each (+OK, :N,
        -ERR); returns the first error line or None."""
        self.sock.sendall(payload)
        first_err = None
        seen = 0
        while seen < count:
            if self.pos >= len(self.buf):
                self._fill()
            chunk = self.buf[self.pos:]
            n = chunk.count(b"\r\n")
            if n == 0:
                self._fill()
                continue
            if seen + n > count:
                raise RespError("more replies than requests (a multi-line reply?)")
            end = chunk.rfind(b"\r\n") + 2
            block = bytes(chunk[:end])
            if first_err is None and (block.startswith(b"-") or b"\n-" in block):
                j = 0 if block.startswith(b"-") else block.index(b"\n-") + 1
                first_err = block[j:block.index(b"\r\n", j)].decode(errors="replace")
            self.pos += end
            seen += n
        return first_err


def load_strings(port, nkeys, ttl=None, batch=10_000, value_fmt=b"val:%012d"):
    """SET key:%012d val:%012d [EX ttl] for keys 0..nkeys-1 in big pipelines.
    Returns the first error reply, or None."""
    if ttl is None:
        fmt = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\n" + value_fmt + b"\r\n"
    else:
        t = str(ttl).encode()
        fmt = (b"*5\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\n" + value_fmt +
               b"\r\n$2\r\nEX\r\n$" + str(len(t)).encode() + b"\r\n" + t + b"\r\n")
    err = None
    with Resp(port, timeout=300) as r:
        for start in range(0, nkeys, batch):
            end = min(nkeys, start + batch)
            payload = b"".join([fmt % (i, i) for i in range(start, end)])
            e = r.pipeline_simple(payload, end - start)
            err = err or e
    return err


def verify_strings(port, nkeys):
    """Reads back the first, a middle and the last key of a load; returns
    a problem description or None."""
    try:
        with Resp(port) as r:
            for i in (0, nkeys // 2, nkeys - 1):
                got = r.call("GET", b"key:%012d" % i)
                if got != b"val:%012d" % i:
                    return f"GET key:{i:012d} returned {got!r}"
    except (OSError, RespError) as e:
        return str(e)
    return None


def load_small_strings(port, nkeys):
    """The keyspace redis-benchmark's -r draws from, with its 3-byte value."""
    fmt = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n"
    with Resp(port, timeout=300) as r:
        err = None
        for start in range(0, nkeys, 10_000):
            end = min(nkeys, start + 10_000)
            err = err or r.pipeline_simple(b"".join([fmt % i for i in range(start, end)]),
                                           end - start)
        return err


def push_list(port, count, key=b"mylist"):
    """RPUSH count 3-byte elements onto key, 1,000 per command."""
    with Resp(port, timeout=300) as r:
        cmds = []
        left = count
        while left > 0:
            k = min(1000, left)
            cmds.append(resp_encode(b"RPUSH", key, *([b"xxx"] * k)))
            left -= k
        return r.pipeline_simple(b"".join(cmds), len(cmds))


def info_fields(port, section="memory"):
    """INFO section as a dict, or an error string."""
    try:
        with Resp(port, timeout=30) as r:
            rep = r.call("INFO", section)
    except (OSError, RespError) as e:
        return f"INFO failed: {e}"
    if isinstance(rep, RespError):
        return f"INFO replied {rep}"
    if not isinstance(rep, bytes):
        return f"INFO replied {rep!r}"
    out = {}
    for line in rep.decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# ---- Servers ----

LIVE = {}  # pid -> Server, for the exit handler


class Server:
    def __init__(self, label, binary, workdir, wrapper=None, cpu=None, start_timeout=20.0):
        self.label = label
        self.binary = binary
        self.workdir = workdir
        self.wrapper = wrapper or []
        self.cpu = cpu
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.logpath = None
        self.starts = 0
        self.exit_codes = []

    def argv(self):
        pin = ["taskset", "-c", str(self.cpu)] if self.cpu is not None else []
        return pin + self.wrapper + [self.binary, "--port", str(self.port)] + SERVER_ARGS

    def cmdline(self):
        return shlex.join(self.argv())

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.port = free_port()
        self.starts += 1
        self.logpath = os.path.join(self.workdir, f"{self.label}.{self.starts}.log")
        logf = open(self.logpath, "wb")
        self.proc = subprocess.Popen(self.argv(), stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        logf.close()
        LIVE[self.proc.pid] = self
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode} at start:\n"
                                   + self.log_tail())
            try:
                with Resp(self.port, timeout=2) as r:
                    rep = r.call("PING")
                if rep is not None:
                    return self
            except (OSError, RespError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.label} did not answer PING within {self.start_timeout}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=None):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc is None:
            return None
        if timeout is None:
            timeout = 120 if self.wrapper else 15
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.label} ignored SIGTERM for {timeout}s; killing pid {self.pid}")
                self.proc.kill()
                self.proc.wait()
        LIVE.pop(self.proc.pid, None)
        rc = self.proc.returncode
        self.exit_codes.append(rc)
        self.proc = None
        return rc

    def log_tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def cpu_ticks(self):
        """utime + stime of the whole process (all threads), in clock ticks."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)

    def sched_ns(self):
        """Nanosecond CPU time summed over the process's threads (schedstat)."""
        total = 0
        for path in glob.glob(f"/proc/{self.pid}/task/*/schedstat"):
            try:
                with open(path) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total

    def rss_bytes(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return None


def stop_all():
    for srv in list(LIVE.values()):
        try:
            srv.stop()
        except Exception as e:  # never leave a server behind for one bad stop
            log(f"stopping {srv.label}: {e}")


def on_term(signum, frame):
    raise SystemExit(128 + signum)


# ---- redis-benchmark ----

def bench_argv(port, clients, pipeline, requests, tests, cpu=None, extra=()):
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients),
            "-n", str(requests), "-P", str(pipeline), "-r", str(KEYSPACE), "--csv"]
    argv += list(extra)
    if tests == ["lrange_100"]:
        # The same command -t lrange_100 sends, without the LPUSH fill that
        # -t lrange_100 runs first (the harness fills the list itself, so the
        # server CPU of the run is LRANGE's alone).
        argv += ["lrange", "mylist", "0", "99"]
    else:
        argv += ["-t", ",".join(tests)]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu)] + argv
    return argv


def machine_ticks():
    """(busy, steal) clock ticks of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def run_benchmark(srv, clients, pipeline, requests, tests, timeout, cpu=None):
    """One redis-benchmark run; returns a dict with rows and server CPU."""
    argv = bench_argv(srv.port, clients, pipeline, requests, tests, cpu)
    busy0, steal0 = machine_ticks()
    ticks0, ns0 = srv.cpu_ticks(), srv.sched_ns()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = {"argv": shlex.join(argv), "error": None}
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = f"timed out after {timeout}s", None
        res["error"] = err
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not srv.alive():
        res["error"] = f"server died (exit {srv.proc.returncode})"
        res["crashed"] = True
        return res
    ticks1, ns1 = srv.cpu_ticks(), srv.sched_ns()
    busy1, steal1 = machine_ticks()
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    for m in re.finditer(r"^Error from server: (.*)$", err, re.M):
        res["error"] = res["error"] or f"error reply: {m.group(1).strip()}"
    if not rows and not res["error"]:
        res["error"] = f"no CSV output (exit {rc}): {err.strip()[-300:]}"
    if res["error"]:
        return res
    res["rows"] = [{"test": r[0], "rps": float(r[1]), "avg_ms": float(r[2]),
                    "p50_ms": float(r[4]), "p99_ms": float(r[6]), "max_ms": float(r[7])}
                   for r in rows]
    nreq = requests * len(tests)
    res.update(requests=nreq, wall_s=wall,
               server_cpu_s=(ticks1 - ticks0) / CLK_TCK,
               server_sched_s=(ns1 - ns0) / 1e9 if ns0 else None,
               client_cpu_s=(ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime))
    res["cpu_us_per_req"] = res["server_cpu_s"] / nreq * 1e6
    # CPU the rest of the machine used meanwhile (other tenants, the harness):
    # the noise indicator printed beside each table.
    foreign = (busy1 - busy0) / CLK_TCK - res["server_cpu_s"] - res["client_cpu_s"]
    res["foreign_cpu_share"] = max(0.0, foreign) / (wall * (os.cpu_count() or 1))
    res["steal_s"] = (steal1 - steal0) / CLK_TCK
    if res["server_sched_s"] is not None:
        res["sched_us_per_req"] = res["server_sched_s"] / nreq * 1e6
    return res


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


# ---- Parts ----

class Harness:
    def __init__(self, args, binaries, workdir):
        self.args = args
        self.binaries = binaries
        self.workdir = workdir
        self.events = []      # crashes, unsupported commands, fallbacks
        self.results = {}
        self.cmdlines = {}
        self.perf_breakdown = True
        self.cg_top = {}
        self.server_cpu = 1 if args.pin else None
        self.client_cpu = 0 if args.pin else None

    def event(self, msg):
        """Records a problem once (a FLUSHALL that fails fails every time)."""
        if msg in self.events:
            return
        log(msg)
        self.events.append(msg)

    def server(self, label, **kw):
        return Server(label, self.binaries[label], self.workdir, cpu=self.server_cpu, **kw)

    def prepare(self, srv):
        """FLUSHALL, then the keyspace redis-benchmark's GET reads."""
        try:
            with Resp(srv.port) as r:
                rep = r.call("FLUSHALL")
            if isinstance(rep, RespError):
                self.event(f"{srv.label}: FLUSHALL replied {rep}")
            err = load_small_strings(srv.port, KEYSPACE)
            if err:
                self.event(f"{srv.label}: preloading {KEYSPACE} keys: {err}")
        except (OSError, RespError) as e:
            self.event(f"{srv.label}: preparing the keyspace failed: {e}")

    # -- throughput --

    def throughput(self):
        a = self.args
        servers = {lbl: self.server(lbl).start() for lbl in SERVERS}
        for s in servers.values():
            self.cmdlines[f"server:{s.label}"] = s.cmdline()
        out = {}
        unsupported = {}
        for cfg in a.configs:
            clients, pipeline, base_n = ALL_CONFIGS[cfg]
            log(f"throughput {cfg}: -c {clients} -P {pipeline}")
            for s in servers.values():
                self.prepare(s)
            list_len = {lbl: 0 for lbl in servers}
            for test in a.tests:
                n = max(1000, int(base_n * a.scale * TEST_WEIGHT.get(test, 1.0)))
                case = {"config": cfg, "clients": clients, "pipeline": pipeline,
                        "test": test, "requests": n, "runs": {lbl: [] for lbl in servers},
                        "argv": shlex.join(bench_argv("PORT", clients, pipeline, n, [test]))}
                failed = set()
                for lbl in servers:
                    if (lbl, test) in unsupported:
                        case["runs"][lbl].append({"round": -1, "error": unsupported[(lbl, test)]})
                for rnd in range(a.rounds):
                    for lbl, s in servers.items():
                        if lbl in failed or (lbl, test) in unsupported:
                            continue
                        if not s.alive():
                            self.restart(s, list_len)
                        if test == "lrange_100" and list_len[lbl] < 100:
                            push_list(s.port, 1000 - list_len[lbl])
                            list_len[lbl] = 1000
                        if test in ("lpop", "rpop") and list_len[lbl] < n:
                            push_list(s.port, n - list_len[lbl])
                            list_len[lbl] = n
                        r = run_benchmark(s, clients, pipeline, n, [test], a.run_timeout,
                                          self.client_cpu)
                        r["round"] = rnd
                        r.pop("argv", None)  # the case's argv, with the port filled in
                        case["runs"][lbl].append(r)
                        if r["error"]:
                            self.event(f"{lbl}: {cfg} {test} round {rnd + 1}: {r['error']}")
                            if r.get("crashed"):
                                self.event(f"{lbl} log tail:\n{s.log_tail()}")
                                s.stop()
                                self.restart(s, list_len)
                            if "error reply" in r["error"]:
                                unsupported[(lbl, test)] = "unsupported: " + r["error"]
                            failed.add(lbl)
                            continue
                        if test in ("lpush", "rpush"):
                            list_len[lbl] += n
                        elif test in ("lpop", "rpop"):
                            list_len[lbl] = max(0, list_len[lbl] - n)
                        log(f"  {cfg} {test:<10} round {rnd + 1} {lbl:<9} "
                            f"{r['rows'][-1]['rps']:>11,.0f} req/s "
                            f"{r['cpu_us_per_req']:6.3f} us/req")
                case["summary"] = summarize(case["runs"])
                out.setdefault(cfg, {})[test] = case
        for s in servers.values():
            rc = s.stop()
            if rc != 0:
                self.event(f"{s.label} exited {rc} on SIGTERM (expected 0)")
        self.results["throughput"] = out

    def restart(self, s, list_len):
        self.event(f"restarting {s.label}")
        s.start()
        self.prepare(s)
        list_len[s.label] = 0

    # -- memory --

    def memory(self):
        a = self.args
        out = {"keys": a.keys, "value_bytes": 16, "datasets": {}}
        for ttl in (None, 100_000):
            name = "strings_ttl" if ttl else "strings"
            ds = {}
            for lbl in ("ember", "redis"):
                s = self.server(lbl).start()
                time.sleep(0.3)
                before = self.mem_probe(s)
                t0 = time.monotonic()
                err = load_strings(s.port, a.keys, ttl=ttl)
                load_s = time.monotonic() - t0
                time.sleep(1.0)
                after = self.mem_probe(s)
                info = info_fields(s.port, "keyspace")
                check = verify_strings(s.port, a.keys)
                if check:
                    self.event(f"{lbl}: memory load ({name}) check failed: {check}")
                rc = s.stop()
                if err:
                    self.event(f"{lbl}: memory load ({name}) got error replies: {err}")
                if rc != 0:
                    self.event(f"{lbl} exited {rc} on SIGTERM (expected 0)")
                d = {"before": before, "after": after, "load_s": load_s, "error": err,
                     "keyspace": info if isinstance(info, dict) else str(info)}
                for k in ("used_memory", "used_memory_rss", "vmrss"):
                    if before.get(k) is not None and after.get(k) is not None:
                        d[k + "_per_key"] = (after[k] - before[k]) / a.keys
                if d.get("used_memory_per_key") is None:
                    self.event(f"{lbl}: INFO memory has no used_memory ({before.get('info_error')})"
                               "; its memory figures fall back to RSS")
                ds[lbl] = d
                log(f"memory {name} {lbl}: used_memory/key "
                    f"{fmt(d.get('used_memory_per_key'), 1)} RSS/key {fmt(d.get('vmrss_per_key'), 1)}")
            out["datasets"][name] = ds
        self.cmdlines["memory"] = ("python loader (bench.py load_strings): SET key:%012d "
                                   "val:%012d [EX 100000] for keys 0..N-1, pipelines of 10,000")
        self.results["memory"] = out

    @staticmethod
    def mem_probe(s):
        info = info_fields(s.port, "memory")
        p = {"vmrss": s.rss_bytes()}
        if isinstance(info, dict):
            for k in ("used_memory", "used_memory_rss"):
                if info.get(k, "").isdigit():
                    p[k] = int(info[k])
        else:
            p["info_error"] = info
        return p

    # -- instructions --

    def instructions(self):
        a = self.args
        n = a.cg_requests
        cgdir = os.path.join(self.workdir, "callgrind")
        os.makedirs(cgdir, exist_ok=True)
        workloads = [("set", ["set"]), ("get", ["get"]), ("set,get", ["set", "get"])]
        out = {"requests_per_test": n, "clients": 10, "pipeline": 16, "servers": {}}
        for lbl in SERVERS:
            wrapper = ["valgrind", "--tool=callgrind",
                       f"--callgrind-out-file={cgdir}/cg.{lbl}.%p"]
            s = self.server(lbl, wrapper=wrapper, start_timeout=180.0).start()
            self.cmdlines[f"callgrind:{lbl}"] = s.cmdline()
            err = load_small_strings(s.port, KEYSPACE)
            if err:
                self.event(f"{lbl}: callgrind preload: {err}")
            res = {}
            # The idle rate (timers, cron) over 2 s says how much of a figure
            # is not the requests' doing.
            idle_ir = self.cg_window(s, cgdir, "idle", lambda: time.sleep(2.0))
            res["idle_ir_per_s"] = idle_ir / 2.0 if idle_ir is not None else None
            for name, tests in workloads:
                box = {}

                def work():
                    box["r"] = run_benchmark(s, 10, 16, n, tests, a.run_timeout * 4,
                                             self.client_cpu)
                ir = self.cg_window(s, cgdir, "wl-" + name.replace(",", "-"), work)
                r = box.get("r", {})
                if r.get("error") or ir is None:
                    self.event(f"{lbl}: callgrind {name}: {r.get('error') or 'no dump'}")
                    res[name] = {"error": r.get("error") or "no dump"}
                    if not s.alive():
                        break
                    continue
                nreq = n * len(tests)
                res[name] = {"ir": ir, "requests": nreq, "ir_per_req": ir / nreq,
                             "top": self.cg_top.get((lbl, "wl-" + name.replace(",", "-")), []),
                             "wall_s": r["wall_s"], "argv": r["argv"],
                             "idle_share": (res["idle_ir_per_s"] * r["wall_s"] / ir
                                            if res["idle_ir_per_s"] is not None else None)}
                log(f"callgrind {lbl} {name}: {ir / nreq:,.0f} Ir/req")
            rc = s.stop()
            if rc != 0:
                self.event(f"{lbl} under callgrind exited {rc} on SIGTERM (expected 0)")
            out["servers"][lbl] = res
        self.results["instructions"] = out

    def cg_window(self, s, cgdir, name, work):
        """Zero callgrind's counters, run work(), dump; returns total Ir."""
        z = subprocess.run(["callgrind_control", "--zero", str(s.pid)],
                           capture_output=True, text=True, timeout=60)
        if z.returncode != 0:
            self.event(f"callgrind_control --zero failed: {z.stdout}{z.stderr}")
            return None
        work()
        if not s.alive():
            return None
        d = subprocess.run(["callgrind_control", f"--dump={name}", str(s.pid)],
                           capture_output=True, text=True, timeout=120)
        if d.returncode != 0:
            self.event(f"callgrind_control --dump failed: {d.stdout}{d.stderr}")
            return None
        for path in sorted(glob.glob(f"{cgdir}/cg.{s.label}.{s.pid}.*"),
                           key=lambda p: int(p.rsplit(".", 1)[1]), reverse=True):
            with open(path, errors="replace") as f:
                text = f.read(1 << 16)
                if f"Trigger: dump {name}" not in text:
                    continue
                f.seek(0)
                total = None
                for line in f:
                    if line.startswith(("totals:", "summary:")):
                        total = int(line.split()[1])
                self.cg_top[(s.label, name)] = annotate_top(path)
                return total
        return None

    # -- syscalls --

    def syscalls(self):
        """System calls per batch, as the difference between a long and a
        short run with the same 50 connections: what both runs share
        (connection set-up, redis-benchmark's CONFIG GET) cancels out."""
        a = self.args
        n_big, n_small = a.sys_requests, max(1000, a.sys_requests // 5)
        tests = ["set", "get"]
        batches = (n_big - n_small) * len(tests) / 16
        have_perf = bool(shutil.which("perf"))
        out = {"requests_per_test": [n_small, n_big], "clients": 50, "pipeline": 16,
               "servers": {}}
        for lbl in SERVERS:
            s = self.server(lbl).start()
            self.prepare(s)
            res = {}
            for tool in (["perf"] if have_perf else []) + ["strace"]:
                small = self.count_syscalls(tool, s, n_small, tests)
                big = self.count_syscalls(tool, s, n_big, tests)
                err = small.get("error") or big.get("error")
                if err:
                    self.event(f"{lbl}: {tool} syscall count: {err}")
                    res[tool] = {"error": err}
                    if not s.alive():
                        break
                    continue
                d = {"calls_small": small["total"], "calls_big": big["total"],
                     "per_batch": (big["total"] - small["total"]) / batches,
                     "per_batch_with_setup": big["total"] / (n_big * len(tests) / 16)}
                if "by_syscall" in big:
                    names = sorted(big["by_syscall"], key=lambda k: -big["by_syscall"][k])
                    d["by_syscall"] = {k: (big["by_syscall"][k] -
                                           small["by_syscall"].get(k, 0)) / batches
                                       for k in names}
                res[tool] = d
                log(f"syscalls {lbl}: {d['per_batch']:.2f} per batch of 16 ({tool})")
            rc = s.stop()
            if rc != 0:
                self.event(f"{lbl} exited {rc} on SIGTERM (expected 0)")
            out["servers"][lbl] = res
        self.results["syscalls"] = out

    def count_syscalls(self, tool, s, n, tests):
        """Counts the server's system calls over one redis-benchmark run."""
        path = os.path.join(self.workdir, f"{tool}.{s.label}.{n}.txt")
        if tool == "perf":
            events = ["raw_syscalls:sys_enter"]
            if self.perf_breakdown:
                events += ["syscalls:sys_enter_" + n for n in PERF_SYSCALLS]
            argv = ["perf", "stat", "-x,", "-o", path, "-e", ",".join(events), "-p", str(s.pid)]
        else:
            argv = ["strace", "-c", "-f", "-o", path, "-p", str(s.pid)]
        self.cmdlines[tool] = shlex.join(argv[:-1] + ["PID"]).replace(path, "FILE")
        tr = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
        time.sleep(1.0)  # let the tracer attach to every thread
        if tr.poll() is not None:
            return {"error": f"{tool} exited {tr.returncode}: "
                             f"{tr.stderr.read().decode(errors='replace')[-200:]}"}
        r = run_benchmark(s, 50, 16, n, tests, self.args.run_timeout * 4, self.client_cpu)
        tr.send_signal(signal.SIGINT)
        try:
            tr.wait(30)
        except subprocess.TimeoutExpired:
            tr.kill()
            tr.wait()
        if r.get("error"):
            return {"error": r["error"]}
        if tool == "perf":
            try:
                with open(path) as f:
                    text = f.read()
            except OSError:
                text = ""
            counts = {m.group(2): int(m.group(1)) for m in
                      re.finditer(r"^(\d+),[^,]*,(?:raw_)?syscalls:sys_enter_?(\w*)", text, re.M)}
            if "" not in counts:
                if self.perf_breakdown:  # some tracepoint is missing: count the total only
                    self.perf_breakdown = False
                    return self.count_syscalls(tool, s, n, tests)
                return {"error": "no perf count: " + text.strip()[-200:]}
            total = counts.pop("")
            return {"total": total, "by_syscall": {k: v for k, v in counts.items() if v}}
        table = parse_strace(path)
        if "total" not in table:
            return {"error": "no strace summary"}
        total = table.pop("total")["calls"]
        return {"total": total, "by_syscall": {k: v["calls"] for k, v in table.items()}}


def annotate_top(path, n=12):
    """The n functions with the most self instructions in a callgrind dump,
    as [name [object], share of the total]: where the profile says the cost is.
    Parsed here because callgrind_annotate 3.19 charges a window opened by
    callgrind_control --zero wholly to __libc_start_main."""
    names = {"fn": {}, "ob": {}}

    def resolve(kind, rest):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?$", rest.strip())
        if not m:
            return rest.strip()
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), "?")

    cost = {}
    cur, ob, skip = None, "", False
    try:
        with open(path, errors="replace") as f:
            for line in f:
                c = line[:1]
                if c.isdigit() or c in "+-*":
                    if skip:  # the inclusive cost of a call, not self cost
                        skip = False
                        continue
                    parts = line.split()
                    if cur is not None and len(parts) >= 2:
                        cost[cur] = cost.get(cur, 0) + int(parts[1])
                elif line.startswith("fn="):
                    cur = (resolve("fn", line[3:]), ob)
                elif line.startswith("cfn="):
                    resolve("fn", line[4:])
                elif line.startswith("ob="):
                    ob = resolve("ob", line[3:])
                elif line.startswith("cob="):
                    resolve("ob", line[4:])
                elif line.startswith("calls="):
                    skip = True
    except (OSError, ValueError):
        return []
    total = sum(cost.values())
    if not total:
        return []
    top = sorted(cost.items(), key=lambda kv: -kv[1])[:n]
    return [[f"{fn} [{os.path.basename(obj)}]", v / total] for (fn, obj), v in top]


def parse_strace(path):
    """strace -c's table as {syscall: {calls, errors}} plus 'total'."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    spans = None
    out = {}
    for line in lines:
        if line.startswith("------"):
            spans = [m.span() for m in re.finditer(r"-+", line)]
            continue
        if spans is None or not line.strip():
            continue
        cols = [line[a:b + 1].strip() for a, b in spans[:-1]] + [line[spans[-1][0]:].strip()]
        try:
            out[cols[-1]] = {"calls": int(cols[3]), "errors": int(cols[4] or 0)}
        except (ValueError, IndexError):
            continue
    return out


def summarize(runs):
    """Medians per server over the rounds that succeeded, plus the ratios."""
    s = {}
    for lbl, rs in runs.items():
        ok = [r for r in rs if not r.get("error")]
        if not ok:
            s[lbl] = {"ok_rounds": 0, "error": rs[0]["error"] if rs else "not run"}
            continue
        rps = [r["rows"][-1]["rps"] for r in ok]
        s[lbl] = {"ok_rounds": len(ok), "rps": median(rps), "rps_min": min(rps),
                  "rps_max": max(rps),
                  "p50_ms": median([r["rows"][-1]["p50_ms"] for r in ok]),
                  "p99_ms": median([r["rows"][-1]["p99_ms"] for r in ok]),
                  "cpu_us_per_req": median([r["cpu_us_per_req"] for r in ok]),
                  "sched_us_per_req": median([r.get("sched_us_per_req") for r in ok]),
                  "client_cpu_s": median([r["client_cpu_s"] for r in ok]),
                  "wall_s": median([r["wall_s"] for r in ok])}
    e, rd, c = s.get("ember", {}), s.get("redis", {}), s.get("storeless", {})
    s["paired"] = paired_ratios(runs)
    s["ratios"] = {
        "rps_ember_redis": ratio(e.get("rps"), rd.get("rps")),
        "rps_ember_ceiling": ratio(e.get("rps"), c.get("rps")),
        "rps_redis_ceiling": ratio(rd.get("rps"), c.get("rps")),
        "cpu_ember_redis": ratio(e.get("cpu_us_per_req"), rd.get("cpu_us_per_req")),
        "p99_ember_redis": ratio(e.get("p99_ms"), rd.get("p99_ms")),
    }
    return s


def paired_ratios(runs):
    """Median over rounds of the ember/redis ratio within each round: a
    cross-check on the ratio of medians that cancels slow drift in the
    machine's speed (both runs of a round see nearly the same machine)."""
    by_round = {}
    for lbl in ("ember", "redis"):
        for r in runs.get(lbl, []):
            if not r.get("error"):
                by_round.setdefault(r["round"], {})[lbl] = r
    pairs = [v for v in by_round.values() if len(v) == 2]
    if not pairs:
        return {}
    return {
        "rounds": len(pairs),
        "rps_ember_redis": median([p["ember"]["rows"][-1]["rps"] / p["redis"]["rows"][-1]["rps"]
                                   for p in pairs]),
        "cpu_ember_redis": median([ratio(p["ember"]["cpu_us_per_req"],
                                         p["redis"]["cpu_us_per_req"]) for p in pairs]),
    }


# ---- Reporting ----

def fmt(x, digits=2, suffix=""):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}{suffix}"


def kfmt(x):
    return "–" if x is None else f"{x / 1000:,.1f}k"


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    deb = ""
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": os.uname().release,
            "mem_total": mem, "debian": deb, "hostname": socket.gethostname()}


def versions(binaries):
    first = lambda s: s.splitlines()[0] if s else ""
    return {
        "redis-server": sh([binaries["redis"], "--version"]),
        "redis-benchmark": sh(["redis-benchmark", "--version"]),
        "gcc": first(sh(["gcc", "--version"])),
        "cmake": first(sh(["cmake", "--version"])),
        "valgrind": sh(["valgrind", "--version"]),
        "strace": first(sh(["strace", "-V"])),
        "perf": sh(["perf", "--version"]),
        "gnuplot": sh(["gnuplot", "--version"]),
        "python": sys.version.split()[0],
    }


def budget_checks(res):
    """The budget of issue 3, checked against this run's medians."""
    checks = []

    def add(what, value, limit, higher_is_better, noise):
        if value is None:
            checks.append((what, "–", limit, "not measured"))
            return
        ok = value >= limit if higher_is_better else value <= limit
        near = abs(value / limit - 1) <= noise if limit else False
        verdict = ("meets" if ok else "misses") + (" (within noise)" if near else "")
        checks.append((what, value, limit, verdict))

    tp = res.get("throughput", {})
    for cfg, floor in (("c50p16", 0.85), ("c50p64", 0.75)):
        for test in ("set", "get"):
            r = tp.get(cfg, {}).get(test, {}).get("summary", {}).get("ratios")
            if r is None:
                continue
            add(f"{cfg} {test.upper()}: CPU/req ember/redis ≤ 0.5", r["cpu_ember_redis"], 0.5,
                False, NOISE_CPU)
            add(f"{cfg} {test.upper()}: req/s ember/ceiling ≥ {floor}", r["rps_ember_ceiling"],
                floor, True, NOISE_RPS)
    for cfg in ("c50p1", "c1p1"):
        for test in ("set", "get"):
            r = tp.get(cfg, {}).get(test, {}).get("summary", {}).get("ratios")
            if r is None:
                continue
            add(f"{cfg} {test.upper()}: req/s ember/redis ≥ 0.95", r["rps_ember_redis"], 0.95,
                True, NOISE_RPS)
            add(f"{cfg} {test.upper()}: CPU/req ember/redis ≤ 0.9", r["cpu_ember_redis"], 0.9,
                False, NOISE_CPU)
            add(f"{cfg} {test.upper()}: p99 ember/redis ≤ 1.0", r["p99_ember_redis"], 1.0,
                False, NOISE_RPS)
    mem = res.get("memory", {}).get("datasets", {})
    for name, limit in (("strings", 64), ("strings_ttl", 80)):
        e = mem.get(name, {}).get("ember")
        if e:
            v = e.get("used_memory_per_key")
            src = "used_memory"
            if v is None:
                v, src = e.get("vmrss_per_key"), "RSS"
            add(f"memory {name}: ember bytes/key ({src}) ≤ {limit}", v, limit, False, 0.0)
    sc = res.get("syscalls", {}).get("servers", {}).get("ember", {})
    if sc:
        v = sc.get("perf", {}).get("per_batch")
        src = "perf"
        if v is None:
            v, src = sc.get("strace", {}).get("per_batch"), "strace"
        add(f"syscalls per batch of 16 ({src}) ≤ 2", v, 2.0, False, 0.0)
    ins = res.get("instructions", {}).get("servers", {})
    for wl in ("get", "set"):
        e = ins.get("ember", {}).get(wl, {}).get("ir_per_req")
        r = ins.get("redis", {}).get(wl, {}).get("ir_per_req")
        if e is not None or r is not None:
            add(f"instructions per {wl.upper()} ember/redis ≤ 0.6", ratio(e, r), 0.6, False, 0.0)
    return checks


def write_chart(res, outdir, workdir, metric, ylabel, fname):
    """Clustered bars per configuration with gnuplot; returns the PNG path or None."""
    tp = res.get("throughput", {})
    if not tp or not shutil.which("gnuplot"):
        return None
    cfgs = list(tp)
    datafiles = []
    for cfg in cfgs:
        path = os.path.join(workdir, f"{fname}.{cfg}.dat")
        with open(path, "w") as f:
            f.write("# test ember redis storeless\n")
            for test, case in tp[cfg].items():
                vals = []
                for lbl in SERVERS:
                    v = case["summary"].get(lbl, {}).get(metric)
                    if v is not None and metric == "rps":
                        v /= 1000.0
                    vals.append("NaN" if v is None else f"{v:.4f}")
                f.write(f"{test} {' '.join(vals)}\n")
        datafiles.append(path)
    png = os.path.join(outdir, fname)
    rows = (len(cfgs) + 1) // 2
    gp = [f"set terminal pngcairo size 1400,{40 + 440 * rows} font 'sans,10'",
          f"set output '{png}'", "set termoption noenhanced",
          "set style data histograms", "set style histogram clustered gap 1",
          "set style fill solid 0.85 border -1", "set boxwidth 0.9",
          "set xtics rotate by -30", "set grid ytics",
          "set key inside top left horizontal", "set offsets 0, 0, graph 0.12, 0",
          "set yrange [0:*]", f"set ylabel '{ylabel}'",
          f"set multiplot layout {rows},{2 if len(cfgs) > 1 else 1} "
          f"title '{ylabel}: {'ember slot = ' + os.path.basename(res['meta']['binaries']['ember']) if res['meta']['ember_is_standin'] else 'ember'}, redis-server {res['meta']['redis_version']}, "
          f"storeless ceiling ({res['meta']['date'][:10]})'"]
    for cfg, path in zip(cfgs, datafiles):
        c, p, _ = ALL_CONFIGS[cfg]
        gp.append(f"set title '-c {c} -P {p} -r {KEYSPACE}'")
        gp.append(f"set xrange [-0.6:{len(tp[cfg]) - 0.4}]")
        gp.append(f"plot '{path}' using 2:xtic(1) title 'ember' lc rgb '#d9534f', "
                  f"'' using 3 title 'redis' lc rgb '#5b7fbf', "
                  f"'' using 4 title 'storeless' lc rgb '#aaaaaa'")
    gp.append("unset multiplot")
    gpath = os.path.join(workdir, f"{fname}.gp")
    with open(gpath, "w") as f:
        f.write("\n".join(gp) + "\n")
    p = subprocess.run(["gnuplot", gpath], capture_output=True, text=True)
    if p.returncode != 0:
        log(f"gnuplot failed: {p.stderr.strip()}")
        return None
    return png


def other_load(res):
    """Median share of the machine other processes used during the runs."""
    shares = [r["foreign_cpu_share"] for cases in res.get("throughput", {}).values()
              for case in cases.values() for rs in case["runs"].values() for r in rs
              if "foreign_cpu_share" in r]
    return statistics.median(shares) if shares else None


def load_warning(res):
    share = other_load(res)
    if share is None or share < 0.25:
        return []
    return [f"**⚠ Other processes used a median of {share:.0%} of the machine while the "
            "throughput runs lasted.** Requests/s, latencies and fractions of the ceiling from "
            "this run are unreliable (each server lost a varying share of the CPUs); CPU per "
            "request is less affected; memory, instruction and system-call counts are not.", ""]


def render_markdown(res, charts):
    m = res["meta"]
    L = []
    L.append("# ember benchmark results")
    L.append("")
    L.append(f"Generated by `bench/run.sh` on {m['date']} ({m['mode']} mode, "
             f"{m['rounds']} rounds per case). Every number below is the harness's own output; "
             "the raw per-round data is in [results.json](results.json).")
    L.append("")
    if m["ember_is_standin"]:
        L.append(f"**The ember slot ran `{m['binaries']['ember']}`, a stand-in, not ember.** "
                 "These figures validate the harness only.")
        L.append("")
    L += load_warning(res)
    L.append("## Setup")
    L.append("")
    mi = m["machine"]
    L.append(f"- Machine: {mi['nproc']} CPUs, {mi['cpu_model']}, kernel {mi['kernel']}, "
             f"Debian {mi['debian']}, {mi['mem_total']} RAM; "
             + ("servers pinned to CPU 1, redis-benchmark to CPU 0" if m["pinned"]
                else "unpinned (server and client share the CPUs)")
             + ("; " if "loadavg_start" in m else ".")
             + (f"load average {' '.join(m['loadavg_start'])} at the start, "
                f"{' '.join(m['loadavg_end'])} at the end." if "loadavg_start" in m else ""))
    L.append(f"- ember: `{m['binaries']['ember']}` (git {m['ember_git']}, "
             f"{m['ember_build']})")
    L.append(f"- redis: `{m['binaries']['redis']}`: {m['versions']['redis-server']}")
    L.append(f"- ceiling: `{m['binaries']['storeless']}` (bench/storeless.c: one thread, epoll, "
             "stores nothing; `+PONG`, `$-1`, `:1`, `*0` or `+OK`)")
    v = m["versions"]
    L.append(f"- Tools: {v['redis-benchmark']}; {v['gcc']}; {v['valgrind']}; {v['strace']}; "
             f"{v['gnuplot']}; Python {v['python']}")
    L.append(f"- Harness command: `{m['command']}`")
    L.append("")
    L.append("Server command lines (PORT is a free loopback port):")
    L.append("")
    L.append("```")
    for k, cmd in sorted(m["cmdlines"].items()):
        L.append(f"{k}: {re.sub(r'--port [0-9]+', '--port PORT', cmd)}")
    L.append("```")
    L.append("")

    checks = budget_checks(res)
    if checks:
        L.append("## Budget (issue 3)")
        L.append("")
        L.append("| target | measured | limit | verdict |")
        L.append("|---|---:|---:|---|")
        for what, val, limit, verdict in checks:
            L.append(f"| {what} | {fmt(val) if isinstance(val, float) else val} | {limit} | "
                     f"{verdict} |")
        L.append("")
        L.append(f"Noise band: about ±{NOISE_RPS:.0%} on req/s and ±{NOISE_CPU:.0%} on CPU per "
                 "request (5 rounds, unpinned); a ratio inside it of its limit proves nothing "
                 "either way.")
        L.append("")

    tp = res.get("throughput")
    if tp:
        L.append("## Throughput, latency and server CPU per request")
        L.append("")
        L.append("Medians over the rounds; servers run in turn (ember, redis, storeless, ember, "
                 "...) with the same `-n`. CPU µs/req is the server's utime+stime "
                 "(/proc/PID/stat) over the run divided by the requests. The ceiling does no "
                 "work (LRANGE returns `*0` there), so its column is the client's and kernel's "
                 "limit, not a fair competitor.")
        L.append("")
        shares = [r["foreign_cpu_share"] for cases in tp.values() for case in cases.values()
                  for rs in case["runs"].values() for r in rs if "foreign_cpu_share" in r]
        if shares:
            L.append(f"Other load: while the runs lasted, processes other than the measured "
                     f"server and redis-benchmark used a median of {statistics.median(shares):.0%}"
                     f" of the machine's {os.cpu_count()} CPUs (at most {max(shares):.0%}); "
                     "per-configuration medians are under each table heading.")
            L.append("")
        devs = [abs(r["cpu_us_per_req"] / r["sched_us_per_req"] - 1)
                for cases in tp.values() for case in cases.values()
                for rs in case["runs"].values() for r in rs
                if not r.get("error") and r.get("sched_us_per_req")]
        if devs:
            L.append(f"Cross-check: the nanosecond CPU time of /proc/PID/task/*/schedstat "
                     f"differs from the tick-based utime+stime by a median of "
                     f"{statistics.median(devs):.1%} (at most {max(devs):.1%}) over the "
                     f"{len(devs)} runs; that is the quantization of the CPU columns.")
            L.append("")
        for name, png in charts.items():
            L.append(f"![{name}]({os.path.basename(png)})")
            L.append("")
        for cfg, cases in tp.items():
            c, p, _ = ALL_CONFIGS[cfg]
            L.append(f"### -c {c} -P {p} -r {KEYSPACE}")
            L.append("")
            first = next(iter(cases.values()))
            cshares = [r["foreign_cpu_share"] for case in cases.values()
                       for rs in case["runs"].values() for r in rs if "foreign_cpu_share" in r]
            other = (f"; other load {statistics.median(cshares):.0%} of the machine (median)"
                     if cshares else "")
            L.append(f"`{first['argv'].replace(' -t ' + first['test'], ' -t TEST')}`"
                     f" (-n per test in the table{other})")
            L.append("")
            L.append("| test | -n | ember req/s | redis req/s | ceiling req/s | ember/redis | "
                     "ember/ceiling | p50 ms e / r | p99 ms e / r | CPU µs/req e / r / ceil | "
                     "CPU e/r |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for test, case in cases.items():
                s = case["summary"]
                e, r, cl = s.get("ember", {}), s.get("redis", {}), s.get("storeless", {})
                q = s["ratios"]
                err = ""
                if not e.get("ok_rounds"):
                    why = e.get("error", "")
                    err = (" ⚠ unsupported" if "unknown command" in why else f" ⚠ {why[:50]}")
                L.append(
                    f"| {test}{err} | {case['requests']:,} | {kfmt(e.get('rps'))} | "
                    f"{kfmt(r.get('rps'))} | {kfmt(cl.get('rps'))} | "
                    f"{fmt(q['rps_ember_redis'])} | {fmt(q['rps_ember_ceiling'])} | "
                    f"{fmt(e.get('p50_ms'), 3)} / {fmt(r.get('p50_ms'), 3)} | "
                    f"{fmt(e.get('p99_ms'), 3)} / {fmt(r.get('p99_ms'), 3)} | "
                    f"{fmt(e.get('cpu_us_per_req'), 3)} / {fmt(r.get('cpu_us_per_req'), 3)} / "
                    f"{fmt(cl.get('cpu_us_per_req'), 3)} | {fmt(q['cpu_ember_redis'])} |")
            L.append("")

    mem = res.get("memory")
    if mem:
        L.append("## Memory")
        L.append("")
        L.append(f"{mem['keys']:,} keys `key:%012d` with 16-byte values `val:%012d`, loaded into "
                 "a fresh server by the harness's pipelined loader; per key = (after − empty "
                 "baseline) / keys. RSS is VmRSS from /proc/PID/status.")
        L.append("")
        L.append("| dataset | ember used_memory B/key | redis used_memory B/key | ratio | "
                 "ember RSS B/key | redis RSS B/key | ratio |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for name, ds in mem["datasets"].items():
            e, r = ds.get("ember", {}), ds.get("redis", {})
            eu, ru = e.get("used_memory_per_key"), r.get("used_memory_per_key")
            er, rr = e.get("vmrss_per_key"), r.get("vmrss_per_key")
            label = name.replace("strings_ttl", "strings + TTL (SET EX)")
            L.append(f"| {label} | {fmt(eu, 1)} | {fmt(ru, 1)} | {fmt(ratio(eu, ru))} | "
                     f"{fmt(er, 1)} | {fmt(rr, 1)} | {fmt(ratio(er, rr))} |")
        L.append("")

    ins = res.get("instructions")
    if ins:
        L.append("## Instructions per request (callgrind)")
        L.append("")
        L.append(f"Each server runs under `valgrind --tool=callgrind`; after start-up and a "
                 f"{KEYSPACE:,}-key preload, `callgrind_control --zero PID` clears the "
                 "counters, redis-benchmark runs (`-c 10 -P 16 -r 100000`, "
                 f"{ins['requests_per_test']:,} requests per test), and "
                 "`callgrind_control --dump PID` writes them: Ir / requests. Start-up and "
                 "shutdown are outside the window; the idle share is what the same server "
                 "executes while idle (timers) over the run's duration. User-space "
                 "instructions only: the kernel's work for the system calls is not counted.")
        L.append("")
        L.append("| workload | ember Ir/req | redis Ir/req | ceiling Ir/req | ember/redis | "
                 "idle share e / r |")
        L.append("|---|---:|---:|---:|---:|---:|")
        srv = ins["servers"]
        for wl in ("set", "get", "set,get"):
            e = srv.get("ember", {}).get(wl, {})
            r = srv.get("redis", {}).get(wl, {})
            c = srv.get("storeless", {}).get(wl, {})
            L.append(f"| {wl.upper()} | {fmt(e.get('ir_per_req'), 0)} | "
                     f"{fmt(r.get('ir_per_req'), 0)} | {fmt(c.get('ir_per_req'), 0)} | "
                     f"{fmt(ratio(e.get('ir_per_req'), r.get('ir_per_req')))} | "
                     f"{fmt(pct(e.get('idle_share')), 1, '%')} / {fmt(pct(r.get('idle_share')), 1, '%')} |")
        L.append("")

        for lbl in ("ember", "redis"):
            for wl in ("set", "get"):
                top = srv.get(lbl, {}).get(wl, {}).get("top")
                if not top:
                    continue
                L.append(f"<details><summary>{lbl}, {wl.upper()}: functions with the most "
                         "self instructions</summary>")
                L.append("")
                L.append("| share | function |")
                L.append("|---:|---|")
                for where, share in top:
                    L.append(f"| {share:.1%} | `{where}` |")
                L.append("")
                L.append("</details>")
                L.append("")

    sc = res.get("syscalls")
    if sc:
        n_small, n_big = sc["requests_per_test"]
        L.append("## System calls per pipelined batch")
        L.append("")
        L.append(f"`-c 50 -P 16 -r 100000 -t set,get`, run once with {n_small:,} and once with "
                 f"{n_big:,} requests per test; per batch = (calls of the long run − calls of "
                 "the short one) / (extra requests / 16), so the 50 connections' set-up, "
                 "which both runs share, cancels out (the last column keeps it in). `perf` "
                 "counts raw_syscalls:sys_enter at full speed; `strace -c -f -p PID` gives the "
                 "breakdown but slows the server, which lets more connections become ready per "
                 "epoll_wait.")
        L.append("")
        L.append("| server | per batch (perf) | perf breakdown | per batch (strace) | "
                 "strace breakdown | incl. set-up (strace) |")
        L.append("|---|---:|---|---:|---|---:|")

        def breakdown(d):
            items = sorted(d.get("by_syscall", {}).items(), key=lambda kv: -kv[1])
            return ", ".join(f"{k} {v:.2f}" for k, v in items if abs(v) >= 0.005) or \
                d.get("error", "–")
        for lbl in SERVERS:
            d = sc["servers"].get(lbl, {})
            pf, st = d.get("perf", {}), d.get("strace", {})
            L.append(f"| {lbl} | {fmt(pf.get('per_batch'))} | {breakdown(pf)} | "
                     f"{fmt(st.get('per_batch'))} | {breakdown(st)} | "
                     f"{fmt(st.get('per_batch_with_setup'))} |")
        L.append("")

    if res["events"]:
        L.append("## Problems seen during the run")
        L.append("")
        for ev in res["events"]:
            first, *rest = ev.splitlines()
            L.append(f"- {first}")
            if rest:
                L.append("")
                L.append("  ```")
                L.extend("  " + x for x in rest)
                L.append("  ```")
        L.append("")
    return "\n".join(L)


def pct(x):
    return None if x is None else x * 100


def render_snippet(res, charts):
    """A short block README.md can include; links are relative to the repo root."""
    m = res["meta"]
    L = [f"Benchmarks from `bench/run.sh` (ember {m['ember_git']}, {m['mode']} mode, "
         f"{m['date'][:10]}, "
         f"{m['machine']['nproc']} CPUs {m['machine']['cpu_model']}, "
         f"{m['versions']['redis-server'].split(' sha')[0]}); ratios are ember / redis-server "
         "measured in the same run, medians of alternating rounds. "
         "Full tables: [bench/results/RESULTS.md](bench/results/RESULTS.md).", ""]
    if m["ember_is_standin"]:
        L += [f"**Stand-in run: the ember slot ran `{m['binaries']['ember']}`.**", ""]
    L += load_warning(res)
    tp = res.get("throughput", {})
    if tp:
        L.append("| case | ember req/s | ember/redis req/s | ember/ceiling | "
                 "ember/redis CPU per req |")
        L.append("|---|---:|---:|---:|---:|")
        for cfg, cases in tp.items():
            c, p, _ = ALL_CONFIGS[cfg]
            for test in ("set", "get"):
                if test not in cases:
                    continue
                s = cases[test]["summary"]
                q = s["ratios"]
                L.append(f"| {test.upper()} -c {c} -P {p} | {kfmt(s.get('ember', {}).get('rps'))} | "
                         f"{fmt(q['rps_ember_redis'])} | {fmt(q['rps_ember_ceiling'])} | "
                         f"{fmt(q['cpu_ember_redis'])} |")
        L.append("")
    mem = res.get("memory", {}).get("datasets", {})
    if mem:
        parts = []
        for name, ds in mem.items():
            e = ds.get("ember", {}).get("used_memory_per_key")
            r = ds.get("redis", {}).get("used_memory_per_key")
            parts.append(f"{'with TTL' if 'ttl' in name else 'plain'}: ember {fmt(e, 0)} B/key, "
                         f"redis {fmt(r, 0)}")
        L += [f"Memory, {res['memory']['keys']:,} 16-byte strings (used_memory): "
              + "; ".join(parts) + ".", ""]
    ins = res.get("instructions", {}).get("servers", {})
    if ins:
        parts = []
        for wl in ("get", "set"):
            e = ins.get("ember", {}).get(wl, {}).get("ir_per_req")
            r = ins.get("redis", {}).get(wl, {}).get("ir_per_req")
            parts.append(f"{wl.upper()} ember {fmt(e, 0)} vs redis {fmt(r, 0)}")
        L += ["Instructions per request (callgrind, -P 16): " + "; ".join(parts) + ".", ""]
    if "throughput.png" in charts:
        L += ["![throughput](bench/results/throughput.png)", ""]
    return "\n".join(L)


# ---- Main ----

def build_ember(args):
    """Release build of the work tree, or of commit args.rev exported with
    git archive (others' uncommitted edits then stay out of the build)."""
    os.makedirs(BUILD_DIR, exist_ok=True)
    logpath = os.path.join(BUILD_DIR, "ember-build.log")
    src, bdir = ROOT, EMBER_BUILD_DIR
    if args.rev:
        src = os.path.join(BUILD_DIR, "src-rev")
        bdir = os.path.join(BUILD_DIR, "ember-rev")
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        arch = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", args.rev],
                              capture_output=True)
        if arch.returncode != 0:
            sys.exit(f"bench: git archive {args.rev}: {arch.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", src], input=arch.stdout, check=True)
    cmds = [["cmake", "-S", src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release",
             f"-DCMAKE_C_FLAGS={args.cflags}"],
            ["cmake", "--build", bdir, "-j2", "--target", "ember-server"]]
    with open(logpath, "w") as logf:
        for c in cmds:
            logf.write("$ " + shlex.join(c) + "\n")
            logf.flush()
            p = subprocess.run(c, stdout=logf, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                with open(logpath) as f:
                    tail = "\n".join(f.read().splitlines()[-25:])
                sys.exit(f"bench: building ember failed (log: {logpath}):\n{tail}\n"
                         "bench: to validate the harness without ember, pass "
                         "--ember /usr/bin/redis-server")
    return os.path.join(bdir, "ember-server")


def build_storeless():
    os.makedirs(BUILD_DIR, exist_ok=True)
    out = os.path.join(BUILD_DIR, "storeless")
    src = os.path.join(BENCH_DIR, "storeless.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", out, src], check=True)
    return out


def in_run_order(res):
    """Configurations and tests in the harness's own order (a results.json
    written with sorted keys would otherwise reorder the tables)."""
    tp = res.get("throughput")
    if tp:
        res["throughput"] = {c: {t: tp[c][t] for t in ALL_TESTS if t in tp[c]}
                             for c in ALL_CONFIGS if c in tp}
    return res


def write_outputs(res, outdir, workdir):
    """RESULTS.md, SNIPPET.md, results.json and the charts from one result."""
    os.makedirs(outdir, exist_ok=True)
    res = in_run_order(res)
    charts = {}
    for metric, ylabel, fname in (("rps", "thousand requests/s", "throughput.png"),
                                  ("cpu_us_per_req", "server CPU us per request",
                                   "cpu_per_request.png")):
        png = write_chart(res, outdir, workdir, metric, ylabel, fname)
        if png:
            charts[fname] = png
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(outdir, "RESULTS.md"), "w") as f:
        f.write(render_markdown(res, charts) + "\n")
    with open(os.path.join(outdir, "SNIPPET.md"), "w") as f:
        f.write(render_snippet(res, charts) + "\n")
    log(f"wrote {outdir}/RESULTS.md, SNIPPET.md, results.json"
        + "".join(f", {c}" for c in charts))


def env_list(name, default):
    v = os.environ.get(name)
    return v.split(",") if v else default


def parse_args():
    ap = argparse.ArgumentParser(
        description="ember vs redis-server vs a storeless ceiling (see bench/README.md).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")),
                    help="development mode: 3 rounds, 1/5 of the requests, 200k keys "
                         "(env BENCH_QUICK=1)")
    ap.add_argument("--tests", default=",".join(env_list("BENCH_TESTS", ALL_TESTS)),
                    help="comma list from: " + ",".join(ALL_TESTS) + " (env BENCH_TESTS)")
    ap.add_argument("--configs", default=",".join(env_list("BENCH_CONFIGS", list(ALL_CONFIGS))),
                    help="comma list from: " + ",".join(ALL_CONFIGS) + " (env BENCH_CONFIGS)")
    ap.add_argument("--parts", default=",".join(env_list("BENCH_PARTS", ALL_PARTS)),
                    help="comma list from: " + ",".join(ALL_PARTS) + " (env BENCH_PARTS)")
    ap.add_argument("--rounds", type=int, default=os.environ.get("BENCH_ROUNDS"),
                    help="rounds per case, at least 3 (default 5, quick 3; env BENCH_ROUNDS)")
    ap.add_argument("--scale", type=float, default=os.environ.get("BENCH_SCALE"),
                    help="multiplier on every case's -n (default 1, quick 0.2; env BENCH_SCALE)")
    ap.add_argument("--keys", type=int, default=os.environ.get("BENCH_KEYS"),
                    help="keys for the memory part (default 1,000,000, quick 200,000)")
    ap.add_argument("--cg-requests", type=int, default=None,
                    help="requests per test under callgrind (default 200,000, quick 50,000)")
    ap.add_argument("--sys-requests", type=int, default=None,
                    help="requests per test for the syscall count (default 200,000, quick 50,000)")
    ap.add_argument("--ember", default=os.environ.get("EMBER_BIN"),
                    help="use this binary in the ember slot instead of building ember "
                         "(e.g. /usr/bin/redis-server to validate the harness; env EMBER_BIN)")
    ap.add_argument("--redis", default=os.environ.get("REDIS_BIN", "/usr/bin/redis-server"),
                    help="the redis-server to compare with (env REDIS_BIN)")
    ap.add_argument("--rev", default=os.environ.get("BENCH_REV"),
                    help="build ember from this commit (git archive) instead of the work tree, "
                         "e.g. HEAD (env BENCH_REV)")
    ap.add_argument("--cflags", default=os.environ.get("BENCH_CFLAGS", ""),
                    help="extra CMAKE_C_FLAGS for ember's build, e.g. "
                         "-Wno-error=maybe-uninitialized while a warning breaks Release "
                         "(reported in the results; env BENCH_CFLAGS)")
    ap.add_argument("--no-build", action="store_true",
                    help="use the existing bench/.build/ember/ember-server")
    ap.add_argument("--pin", action="store_true", default=bool(os.environ.get("BENCH_PIN")),
                    help="pin servers to CPU 1 and redis-benchmark to CPU 0 (env BENCH_PIN=1)")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render RESULTS.md, SNIPPET.md and charts from OUT/results.json")
    ap.add_argument("--run-timeout", type=float, default=300.0,
                    help="seconds one redis-benchmark run may take")
    ap.add_argument("--out", default=os.environ.get("BENCH_OUT",
                                                    os.path.join(BENCH_DIR, "results")),
                    help="directory for RESULTS.md, SNIPPET.md, results.json and charts")
    a = ap.parse_args()
    d = QUICK if a.quick else FULL
    a.rounds = int(a.rounds or d["rounds"])
    a.scale = float(a.scale or d["scale"])
    a.keys = int(a.keys or d["keys"])
    a.cg_requests = a.cg_requests or d["cg_requests"]
    a.sys_requests = a.sys_requests or d["sys_requests"]
    a.tests = [t.strip() for t in a.tests.split(",") if t.strip()]
    a.configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    a.parts = [p.strip() for p in a.parts.split(",") if p.strip()]
    for name, vals, allowed in (("test", a.tests, ALL_TESTS), ("config", a.configs, ALL_CONFIGS),
                                ("part", a.parts, ALL_PARTS)):
        bad = [v for v in vals if v not in allowed]
        if bad:
            ap.error(f"unknown {name}(s): {', '.join(bad)}")
    if a.rounds < 3:
        ap.error("--rounds must be at least 3: a median of fewer is not a median")
    return a


def main():
    args = parse_args()
    if args.report_only:
        # Re-render the reports of an earlier run without measuring anything.
        with open(os.path.join(args.out, "results.json")) as f:
            res = json.load(f)
        workdir = tempfile.mkdtemp(prefix="ember-bench.")
        write_outputs(res, args.out, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    need = ["redis-benchmark", "gcc"]
    need += ["valgrind", "callgrind_control"] if "instructions" in args.parts else []
    need += ["strace"] if "syscalls" in args.parts else []
    need += ["taskset"] if args.pin else []
    missing = [n for n in need if not shutil.which(n)]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}; run bench/run.sh as root to install them")

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    if args.ember:
        ember = os.path.abspath(shutil.which(args.ember) or args.ember)
        ember_build = "given with --ember"
    elif args.no_build:
        ember = os.path.join(EMBER_BUILD_DIR, "ember-server")
        ember_build = "existing Release build in bench/.build/ember"
    else:
        log(f"building ember (Release) from {args.rev or 'the work tree'}")
        ember = build_ember(args)
        ember_build = (f"Release build of commit {args.rev} in bench/.build/ember-rev"
                       if args.rev else "Release build of the work tree in bench/.build/ember")
        if args.cflags:
            ember_build += f", extra CFLAGS `{args.cflags}`"
    if not os.access(ember, os.X_OK):
        sys.exit(f"bench: no ember binary at {ember}")
    binaries = {"ember": ember, "redis": os.path.abspath(shutil.which(args.redis) or args.redis),
                "storeless": build_storeless()}
    standin = os.path.basename(ember) != "ember-server"

    git = sh(["git", "-C", ROOT, "rev-parse", "--short", args.rev or "HEAD"])
    if not args.rev and not args.ember and sh(["git", "-C", ROOT, "status", "--porcelain", "--",
                                               "src", "include", "CMakeLists.txt"]):
        git += " + uncommitted changes in src/include"

    os.makedirs(args.out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="ember-bench.")
    vers = versions(binaries)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = open("/proc/loadavg").read().split()[:3]
    h = Harness(args, binaries, workdir)
    log(f"ember slot: {ember}{' (stand-in)' if standin else ''}; work dir {workdir}")
    try:
        for part in ALL_PARTS:
            if part in args.parts:
                t0 = time.monotonic()
                try:
                    getattr(h, part)()
                except (OSError, RespError, RuntimeError, subprocess.SubprocessError) as e:
                    # One part failing (a server crash mid-load) must not cost the others.
                    h.event(f"{part} part failed: {type(e).__name__}: {e}")
                    stop_all()
                log(f"{part} done in {time.monotonic() - t0:.0f}s")
    finally:
        stop_all()

    res = dict(h.results)
    res["events"] = h.events
    res["meta"] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round((datetime.datetime.now(datetime.timezone.utc) - started)
                            .total_seconds()),
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds, "scale": args.scale, "tests": args.tests,
        "configs": args.configs, "parts": args.parts, "pinned": args.pin,
        "command": shlex.join(["bench/run.sh"] + sys.argv[1:]),
        "binaries": binaries, "ember_is_standin": standin, "ember_git": git,
        "ember_build": ember_build, "machine": machine_info(), "versions": vers,
        "redis_version": (re.search(r"v=(\S+)", vers["redis-server"]) or ["", "?"])[1],
        "cmdlines": h.cmdlines, "keyspace": KEYSPACE,
        "loadavg_start": load_start, "loadavg_end": open("/proc/loadavg").read().split()[:3],
    }
    write_outputs(res, args.out, workdir)
    shutil.rmtree(os.path.join(workdir, "callgrind"), ignore_errors=True)
    if h.events:
        log(f"problems were seen; server logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
