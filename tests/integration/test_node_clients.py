"""node-redis (npm `redis` v4) and ioredis (v5) against ember and redis-server (issue 7).

One Node program exercises each client's default handshake (node-redis v4
speaks RESP2 and sends no HELLO; ioredis runs its INFO ready check), HELLO 2
through sendCommand and the RESP3 handshake (HELLO 3, read off a plain socket:
node-redis v4 cannot decode RESP3 and its sendCommand never settles, against
Redis too), auto-pipelining, MULTI/EXEC, batches without MULTI, queueing and
runtime errors in transactions, WATCH (conflict, success and a retry loop), and
pub/sub with a separate subscriber connection (SUBSCRIBE, PSUBSCRIBE, messages,
unsubscribing). It prints JSON, which must be the same for both servers.

The clients are installed with npm into a per-session cache directory (npm
keeps its own download cache too), so CI on a fresh machine needs only node
and npm, which scripts/deps.sh installs: a missing npm, or a failed install,
fails these tests instead of skipping them.

redis-py 4.3.4's own paths are checked below the Node ones: pubsub listen()
and get_message(), and a WATCH retry loop under contention."""

import json
import shutil
import subprocess
import threading
import time

import pytest
import redis

PACKAGES = ["redis@4", "ioredis@5"]

PROGRAM = r"""const { createClient, WatchError } = require('redis');
const Redis = require('ioredis');

const port = Number(process.argv[2]);
const DEADLINE_MS = 5000;

// A promise that settles when `setup` calls back, or fails at the deadline.
function waitFor(setup, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for ' + what)), DEADLINE_MS);
    setup((v) => { clearTimeout(t); resolve(v); });
  });
}

function errText(e) { return e && e.message ? e.constructor.name + ': ' + e.message : String(e); }

// HELLO 3 on a raw connection: resolves with the map's field names once the
// whole reply is in (a RESP3 map of 7 pairs; every value is one line or a
// bulk string, except "modules", an empty array).
function hello3Raw() {
  const net = require('net');
  return waitFor((done) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n'));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('*0\r\n')) return;  // "modules" is the last field
      const lines = buf.split('\r\n');
      const items = [];
      for (let i = 1; i < lines.length - 1; i++) {
        if (lines[i].startsWith('$')) items.push(lines[++i]);
        else if (lines[i].startsWith(':')) items.push(Number(lines[i].slice(1)));
        else items.push(lines[i]);
      }
      s.destroy();
      done({ header: lines[0], items: items.filter((v, i) => items[i - 1] !== 'id') });
    });
  }, 'HELLO 3 reply');
}

async function nodeRedis() {
  const out = {};
  const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  // Default handshake: RESP2, no HELLO.
  out.ping = await c.ping();
  out.hello2 = await c.sendCommand(['HELLO', '2']);
  out.hello2 = out.hello2.filter((v, i) => !['id'].includes(out.hello2[i - 1]) && v !== 'id');
  out.set = await c.set('nr:k', 'v');
  out.get = await c.get('nr:k');
  out.hgetall = await (async () => { await c.hSet('nr:h', { a: '1', b: '2' }); return c.hGetAll('nr:h'); })();
  // Auto-pipelining: commands issued in one tick go out together.
  out.autopipe = await Promise.all([c.incr('nr:n'), c.incr('nr:n'), c.get('nr:n'), c.lPush('nr:l', ['a', 'b'])]);
  // MULTI/EXEC and a batch without MULTI.
  out.multi = await c.multi().set('nr:m', '1').incr('nr:m').get('nr:m').exec();
  out.batch = await c.multi().set('nr:b', 'x').append('nr:b', 'y').get('nr:b').execAsPipeline();
  try { await c.multi().set('nr:e', '1').lPush('nr:e', 'x').exec(); } catch (e) { out.multiRuntimeError = errText(e); }
  try { await c.multi().addCommand(['NOSUCHCMD']).set('nr:e2', '1').exec(); } catch (e) { out.multiQueueError = errText(e); }
  out.afterQueueError = await c.get('nr:e2');
  // WATCH: an isolated connection; a write from elsewhere aborts EXEC.
  out.watchOk = await c.executeIsolated(async (iso) => {
    await iso.watch('nr:w');
    return iso.multi().set('nr:w', 'mine').exec();
  });
  try {
    await c.executeIsolated(async (iso) => {
      await iso.watch('nr:w');
      await c.set('nr:w', 'theirs');
      return iso.multi().set('nr:w', 'mine2').exec();
    });
    out.watchConflict = 'no error';
  } catch (e) { out.watchConflict = e instanceof WatchError ? 'WatchError' : errText(e); }
  out.watched = await c.get('nr:w');
  // WATCH retry loop: the second attempt wins.
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      await c.executeIsolated(async (iso) => {
        await iso.watch('nr:counter');
        const v = Number(await iso.get('nr:counter') || 0);
        if (attempts === 1) await c.incrBy('nr:counter', 100);
        return iso.multi().set('nr:counter', String(v + 1)).exec();
      });
      break;
    } catch (e) { if (!(e instanceof WatchError) || attempts > 3) throw e; }
  }
  out.retry = { attempts, value: await c.get('nr:counter') };
  // Pub/sub on a separate connection.
  const sub = c.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  const got = [];
  await sub.subscribe('nr:ch', (message, channel) => got.push([channel, message]));
  await sub.pSubscribe('nr:p*', (message, channel) => got.push(['p', channel, message]));
  out.numsub = await c.pubSubNumSub(['nr:ch']);
  out.published = await waitFor((done) => {
    c.publish('nr:ch', 'hello').then((n) => { out.receivers = n; return c.publish('nr:pq', 'two'); });
    const check = setInterval(() => { if (got.length >= 2) { clearInterval(check); done(got.slice()); } }, 5);
  }, 'pub/sub messages');
  await sub.unsubscribe('nr:ch');
  await sub.pUnsubscribe();
  out.afterUnsub = await c.publish('nr:ch', 'nobody');
  await sub.quit();
  // HELLO 3: node-redis v4 decodes RESP2 only (its sendCommand never
  // settles on a RESP3 map, against Redis as well), so the RESP3 handshake
  // is read off a plain socket: the reply's first bytes and its field names.
  out.hello3 = await hello3Raw(); 
  await c.quit();
  return out;
}

async function ioredis() {
  const out = {};
  const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => {});
  await waitFor((done) => r.once('ready', done), 'ioredis ready');  // default handshake: INFO ready check
  out.status = r.status;
  out.ping = await r.ping();
  out.pipeline = await r.pipeline().set('io:k', 'v').get('io:k').incr('io:k').lpush('io:l', 'a').exec();
  out.pipeline = out.pipeline.map(([e, v]) => (e ? 'error: ' + e.message : v));
  out.multi = await r.multi().set('io:m', '1').incr('io:m').get('io:m').exec();
  out.multiRuntime = (await r.multi().set('io:e', 'x').incr('io:e').exec()).map(([e, v]) => (e ? 'error: ' + e.message : v));
  try { await r.multi().set('io:q', '1').call('NOSUCHCMD').exec(); out.multiQueue = 'no error'; } catch (e) { out.multiQueue = errText(e); }
  // WATCH on a dedicated connection; another client's write nulls EXEC.
  const w = r.duplicate();
  w.on('error', () => {});
  await w.watch('io:w');
  await r.set('io:w', 'theirs');
  out.watchConflict = await w.multi().set('io:w', 'mine').exec();
  await w.watch('io:w');
  out.watchOk = await w.multi().set('io:w', 'mine').exec();
  w.disconnect();
  // Pub/sub with a separate subscriber connection.
  const sub = r.duplicate();
  sub.on('error', () => {});
  const got = [];
  sub.on('message', (ch, msg) => got.push([ch, msg]));
  sub.on('pmessage', (pat, ch, msg) => got.push([pat, ch, msg]));
  out.subscribe = await sub.subscribe('io:ch', 'io:ch2');
  out.psubscribe = await sub.psubscribe('io:p*'); 
  out.messages = await waitFor((done) => {
    r.publish('io:ch', 'one').then(() => r.publish('io:pq', 'two'));
    const check = setInterval(() => { if (got.length >= 2) { clearInterval(check); done(got.slice()); } }, 5);
  }, 'ioredis messages');
  out.unsubscribe = [await sub.unsubscribe('io:ch', 'io:ch2'), await sub.punsubscribe('io:p*')]; 
  sub.disconnect();
  r.disconnect();
  return out;
}

(async () => {
  const result = { nodeRedis: await nodeRedis(), ioredis: await ioredis() };
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="session")
def node_clients_dir(tmp_path_factory):
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (scripts/deps.sh installs it): the node-redis "
                        f"and ioredis tests need it")
    d = tmp_path_factory.mktemp("node-clients")
    res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *PACKAGES], cwd=d,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"npm install {' '.join(PACKAGES)} failed:\n{res.stdout}\n{res.stderr}"
    (d / "prog.js").write_text(PROGRAM)
    return d


def run_program(d, port):
    res = subprocess.run(["node", "prog.js", str(port)], cwd=d, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_node_clients_match_redis(node_clients_dir, ember, redis_ref):
    ours = run_program(node_clients_dir, ember.port)
    theirs = run_program(node_clients_dir, redis_ref.port)
    assert ours == theirs
    nr, io = ours["nodeRedis"], ours["ioredis"]
    assert nr["hello2"][:6] == ["server", "redis", "version", "7.0.15", "proto", 2]
    assert nr["hello3"]["header"] == "%7" and nr["hello3"]["items"][4:6] == ["proto", 3]
    assert nr["multi"] == ["OK", 2, "2"] and nr["batch"] == ["OK", 2, "xy"]
    assert nr["multiQueueError"].endswith("EXECABORT Transaction discarded because of previous errors.")
    assert nr["watchConflict"] == "WatchError" and nr["watched"] == "theirs"
    assert nr["retry"] == {"attempts": 2, "value": "101"}
    assert nr["published"] == [["nr:ch", "hello"], ["p", "nr:pq", "two"]]
    assert io["status"] == "ready"
    assert io["multi"] == [[None, "OK"], [None, 2], [None, "2"]]
    assert io["watchConflict"] is None and io["watchOk"] == [[None, "OK"]]
    assert io["messages"] == [["io:ch", "one"], ["io:p*", "io:pq", "two"]]


# ---- redis-py 4.3.4 ----


def pubsub_session(srv):
    """Subscribes, publishes from another connection, reads with get_message()
    and then with listen(); returns what was seen."""
    pub = srv.client()
    sub = srv.client()
    p = sub.pubsub()
    seen = []
    p.subscribe("ch1", "ch2")
    p.psubscribe("pat*")
    for _ in range(3):
        seen.append(p.get_message(timeout=5))
    assert pub.publish("ch1", "a") == 1
    assert pub.publish("pattern", "b") == 1
    seen.append(p.get_message(timeout=5))
    seen.append(p.get_message(timeout=5))
    # A handler-less message through listen(), then an unsubscribe confirmation.
    pub.publish("ch2", "c")
    for msg in p.listen():
        seen.append(msg)
        if msg["type"] == "message":
            break
    p.unsubscribe("ch1")
    for msg in p.listen():
        seen.append(msg)
        break
    # Subscribed mode: PING answers as a pub/sub message in RESP2.
    p.ping()
    seen.append(p.get_message(timeout=5))
    p.punsubscribe()
    p.unsubscribe()
    while True:
        msg = p.get_message(timeout=5)
        seen.append(msg)
        if msg is None or msg["type"] == "unsubscribe" and msg["data"] == 0:
            break
    p.close()
    sub.close()
    pub.close()
    return seen


def test_redis_py_pubsub_get_message_and_listen(ember, redis_ref):
    ours = pubsub_session(ember)
    assert ours == pubsub_session(redis_ref)
    assert ours[3] == {"type": "message", "pattern": None, "channel": "ch1", "data": "a"}
    assert ours[4] == {"type": "pmessage", "pattern": "pat*", "channel": "pattern", "data": "b"}


def test_redis_py_pubsub_thread_with_handlers(ember):
    pub = ember.client()
    p = ember.client().pubsub(ignore_subscribe_messages=True)
    got = []
    done = threading.Event()

    def handler(msg):
        got.append(msg["data"])
        if len(got) == 3:
            done.set()

    p.subscribe(**{"work": handler})
    # SUBSCRIBE went out on its own connection: wait until the server counts it.
    deadline = time.monotonic() + 5
    while pub.pubsub_numsub("work") != [("work", 1)]:
        assert time.monotonic() < deadline
    thread = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        for i in range(3):
            assert pub.publish("work", f"job{i}") == 1
        assert done.wait(5), got
        assert got == ["job0", "job1", "job2"]
    finally:
        thread.stop()
        thread.join(5)
        p.close()
        pub.close()


def watch_retry(srv, writers=4, rounds=25):
    """Several clients add 1 to a counter with WATCH/MULTI/EXEC retries (the
    loop redis-py's transaction() helper runs); every increment must land."""
    srv.client().set("counter", 0)
    retries = []

    def work():
        r = srv.client()
        n = 0
        for _ in range(rounds):
            with r.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch("counter")
                        value = int(pipe.get("counter"))
                        pipe.multi()
                        pipe.set("counter", value + 1)
                        pipe.execute()
                        break
                    except redis.WatchError:
                        n += 1
        retries.append(n)
        r.close()

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return int(srv.client().get("counter")), retries


def test_redis_py_watch_retry_loop(ember):
    total, retries = watch_retry(ember)
    assert total == 4 * 25
    assert len(retries) == 4


def test_redis_py_transaction_helper(ember):
    r = ember.client()
    r.set("balance", 10)
    other = ember.client()
    calls = []

    def move(pipe):
        calls.append(1)
        value = int(pipe.get("balance"))
        if len(calls) == 1:
            other.incrby("balance", 5)  # a conflicting write: one retry
        pipe.multi()
        pipe.set("balance", value - 3)

    assert r.transaction(move, "balance") == [True]
    assert len(calls) == 2
    assert r.get("balance") == "12"
    r.close()
    other.close()
