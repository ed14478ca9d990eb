"""ioredis's defineCommand against ember and redis-server (issue 10).

ioredis turns a Lua script into a client method: EVALSHA first, EVAL after a
NOSCRIPT, SCRIPT LOAD for pipelines. The same Node program runs against both
servers and must print the same JSON. Needs node and npm (ioredis is
installed into a temporary directory); skipped, with the reason, when either
is missing or the install fails."""

import json
import shutil
import subprocess

import pytest

PROGRAM = r"""
const Redis = require('ioredis');
(async () => {
  const r = new Redis({ host: '127.0.0.1', port: Number(process.argv[2]), maxRetriesPerRequest: 1 });
  r.defineCommand('myecho', { numberOfKeys: 2, lua: 'return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}' });
  r.defineCommand('incrCapped', {
    numberOfKeys: 1,
    lua: "local v = redis.call('incr', KEYS[1]) if v > tonumber(ARGV[1]) then " +
         "redis.call('set', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end return v",
  });
  r.defineCommand('varkeys', { lua: 'return {#KEYS, #ARGV}' });
  r.defineCommand('bad', { numberOfKeys: 0, lua: "return redis.call('nosuch')" });
  const out = {};
  out.echo = await r.myecho('k1', 'k2', 'a1', 'a2');
  await r.script('FLUSH');
  out.afterFlush = await r.myecho('k1', 'k2', 'x', 'y');
  out.capped = [];
  for (let i = 0; i < 5; i++) out.capped.push(await r.incrCapped('cap', 3));
  out.varkeys = await r.varkeys(2, 'a', 'b', 'c');
  await r.script('FLUSH');
  const p = r.pipeline();
  p.myecho('a', 'b', 'c', 'd');
  p.incrCapped('cap2', 10);
  p.bad();
  out.pipeline = (await p.exec()).map(([e, v]) => (e ? 'error: ' + e.message : v));
  try { await r.bad(); } catch (e) { out.error = e.message; }
  out.multi = await r.multi().myecho('m1', 'm2', 'm3', 'm4').incrCapped('cap3', 1).exec();
  out.buffer = (await r.myechoBuffer('k', 'l', Buffer.from([0, 255, 10]), 'z')).map((b) => [...b]);
  console.log(JSON.stringify(out));
  r.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def ioredis_dir(tmp_path_factory):
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node or npm is not installed: the ioredis test needs both")
    d = tmp_path_factory.mktemp("ioredis")
    try:
        res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "ioredis@5"], cwd=d,
                             capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npm install ioredis timed out")
    if res.returncode != 0:
        print(f"npm install ioredis failed:\n{res.stdout}\n{res.stderr}")
        pytest.skip(f"npm install ioredis failed (exit {res.returncode}): {res.stderr.strip()[-300:]}")
    (d / "prog.js").write_text(PROGRAM)
    return d


def run_program(d, port):
    res = subprocess.run(["node", "prog.js", str(port)], cwd=d, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_define_command_matches_redis(ioredis_dir, ember, redis_ref):
    ours = run_program(ioredis_dir, ember.port)
    theirs = run_program(ioredis_dir, redis_ref.port)
    assert ours == theirs
    assert ours["echo"] == ["k1", "k2", "a1", "a2"]
    assert ours["afterFlush"] == ["k1", "k2", "x", "y"]
    assert ours["capped"] == [1, 2, 3, 3, 3]
    assert ours["varkeys"] == [2, 1]
    assert ours["pipeline"][:2] == [["a", "b", "c", "d"], 1]
    assert "Unknown Redis command called from script" in ours["error"]
    assert ours["buffer"] == [[107], [108], [0, 255, 10], [122]]
