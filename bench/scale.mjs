// The scale-out benchmarks: several Switchboard nodes on one PostgreSQL
// database and a redis-server of the run's own, driven by Node
// socket.io-client generators. Prints every run, then the medians over the
// rounds against the targets.
//
//   bash bench/scale.sh [idle|storm|restart|kill|crossnode|all …] [options]
//   (the benchmarks first, then the options)
//
// Benchmarks (default: all):
//   idle       20,000 idle authenticated sockets on one node: RSS per socket
//              ((VmRSS after − before) / sockets; target ≤ 20 KiB), the
//              connect + authenticate rate and the server's CPU per connect.
//   storm      --storm clients on node 0 of --nodes, --others on each other
//              node; node 0 is killed (SIGKILL): time from the kill until
//              every dropped client is authenticated again on another node
//              (target ≤ 30 s), failures (0), peak RSS per node.
//   restart    --storm clients on a single node that is killed and started
//              again at once: the same figures.
//   kill       user/operator pairs spread over --nodes at --rate msgs/s; a
//              node is killed mid-run: acked messages lost (0), acked and
//              never delivered after the reconnect and catch-up (0), time
//              until every client is back (p99).
//   crossnode  the same open-loop chat at --chat-rate on one node (no
//              Redis), with every pair on one node of two, and with the
//              user on node A and the operator on node B: total server CPU
//              per message and its ratio cross / same (target ≤ 1.3×),
//              Redis's and PostgreSQL's CPU beside it.
//
// Options (defaults in brackets):
//   --rounds N        rounds of each benchmark [2]
//   --idle N          idle sockets [19900: the descriptors one process may
//                     open here are 20,000 and the server needs a few of its own]
//   --storm N         clients on the node that dies [5000]
//   --others N        clients on each other node during the storm [1000]
//   --nodes N         nodes of storm and kill [3]
//   --pairs N         user/operator pairs of kill and crossnode [300]
//   --rate N          kill: messages per second in total [500]
//   --seconds N       kill: seconds of sending (the node dies at a third) [30]
//   --chat-rate N     crossnode: messages per second [300]
//   --chat-seconds N  crossnode: seconds of sending per variant [15]
//   --addrs N         loopback source addresses, 127.0.0.1 and 127.0.1.1… [20]
//   --base-port P     first node's port; Redis at P+20 [19400]
//   --no-redis        no SWITCHBOARD_REDIS_URL (each node on its own)
//   --nginx           storm and kill through nginx (deploy/nginx.conf, on the
//                     first node's port + 30) instead of to the nodes directly:
//                     the clients spread by nginx's least_conn (storm: --storm
//                     clients per node, about --storm on the node that dies)
//                     and reconnect to nginx, which passes them to a live node
//   --json FILE       also write every figure as JSON to FILE
//   --keep            keep the temporary directory (logs)
//
// Environment: BENCH_CACHE_DIR (token cache and the provider's port;
// default $TMPDIR/switchboard-bench-cache), BENCH_PROVIDER_PORT (the
// provider's port the first time [19499]).
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { establishedTo, memKiB, startCluster, startNginx, startRedis } from './lib/nodes.mjs';
import { median, spread } from './lib/stats.mjs';
import { startProvider, mintTokens, defaultCacheDir } from './lib/tokens.mjs';
import { cpuMs, loadTokens, parseArgs, sleep, summarize } from './loadgen/common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const a = parseArgs();
// The benchmarks are the arguments before the first option.
const first = process.argv.slice(2).findIndex((x) => x.startsWith('--'));
const which = process.argv.slice(2, first < 0 ? undefined : first + 2);
const ALL = ['idle', 'storm', 'restart', 'kill', 'crossnode'];
const benches = which.length === 0 || which.includes('all') ? ALL : which;
for (const b of benches) if (!ALL.includes(b)) throw new Error(`unknown benchmark ${b}: one of ${ALL.join(', ')}, all`);
const cfg = {
  rounds: a.rounds ?? 2,
  idle: a.idle ?? 19900,
  storm: a.storm ?? 5000,
  others: a.others ?? 1000,
  nodes: a.nodes ?? 3,
  pairs: a.pairs ?? 300,
  rate: a.rate ?? 500,
  seconds: a.seconds ?? 30,
  chatRate: a['chat-rate'] ?? 300,
  chatSeconds: a['chat-seconds'] ?? 15,
  addrs: a.addrs ?? 20,
  basePort: a['base-port'] ?? 19400,
  redis: !a['no-redis'],
  nginx: Boolean(a.nginx),
};
const ADDRS = ['127.0.0.1', ...Array.from({ length: cfg.addrs }, (_, i) => `127.0.1.${i + 1}`)];
const PER_WORKER = 5000; // sockets per generator process
const IDLE_MS = 5000; // the idle reading before a chat run
const NGINX_ENV = { SWITCHBOARD_TRUSTED_PROXIES: '127.0.0.1' }; // the nodes behind nginx
const log = (...x) => console.log(...x);

// ------------------------------------------------------------ setup
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-scale-'));
const children = new Set();
const cleanups = [];
async function cleanup() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  while (cleanups.length) { try { await cleanups.pop()(); } catch (err) { console.error('cleanup:', err.message); } }
}
if (!a.keep) cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { console.error(`\n${sig}: cleaning up`); await cleanup(); process.exit(130); });
}

log(`Switchboard scale-out benchmarks — ${new Date().toISOString()}`);
log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}; commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim()}`);
log(`benchmarks: ${benches.join(', ')}; config: ${JSON.stringify(cfg)}`);
const binary = path.join(tmp, 'switchboard');
execFileSync('go', ['build', '-o', binary, './cmd/switchboard'], { cwd: repo, stdio: 'inherit' });

const cacheDir = defaultCacheDir();
fs.mkdirSync(cacheDir, { recursive: true });
const providerState = path.join(cacheDir, 'provider.json');
if (!fs.existsSync(providerState)) fs.writeFileSync(providerState, JSON.stringify({ port: Number(process.env.BENCH_PROVIDER_PORT || 19499) }));
const provider = await startProvider(cacheDir);
cleanups.push(() => provider.stop());
const ids = Math.max(
  benches.includes('idle') ? Math.ceil(cfg.idle / 2) : 0,
  benches.includes('restart') ? Math.ceil(cfg.storm / 2) : 0,
  benches.includes('storm') ? Math.ceil((cfg.nginx ? cfg.storm * cfg.nodes : cfg.storm + cfg.others * (cfg.nodes - 1)) / 2) : 0,
  cfg.pairs,
);
const names = [];
for (let i = 1; i <= ids; i++) names.push(`user-${i}`, `operator-${i}`);
log(`provider ${provider.issuer}; tokens for ${names.length} identities (login flow, cached)`);
const { file: tokenFile } = await mintTokens(provider.issuer, names, { cacheDir, log });
const TOKENS = loadTokens(tokenFile);
/** n tokens: user-1, operator-1, user-2, … (half users, half operators, each its own identity). */
function identities(n) {
  const out = [];
  for (let k = 0; out.length < n; k++) out.push(TOKENS[`${k % 2 ? 'operator' : 'user'}-${Math.floor(k / 2) + 1}`]);
  return out;
}

// ------------------------------------------------------------ generators
/** Send cmd to a forked generator and resolve its answer of type `answer` (reject on its error). */
function ask(child, cmd, answer) {
  return new Promise((resolve, reject) => {
    const on = (m) => {
      if (m.type === answer) { child.off('message', on); const { type, ...body } = m; resolve(body); }
      if (m.type === 'error') { child.off('message', on); reject(new Error(m.message)); }
    };
    child.on('message', on);
    child.send(cmd);
  });
}

/** Fork a hold.mjs worker: {child, progress (its last report), back (every return it reported)}. */
function forkHolder() {
  const child = fork(path.join(here, 'loadgen/hold.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const h = { child, progress: { down: 0, attempts: 0, refused: {} }, back: [] };
  child.on('message', (m) => {
    if (m.type === 'progress') { h.progress = m; h.back.push(...m.back); }
  });
  return h;
}

/**
 * Connect tokens[i] to urls[homes[i]] over ceil(n / PER_WORKER) workers.
 * Resolves {holders, ok, failures, reasons, ms}.
 */
async function hold(urls, tokens, homes, { reconnect = false } = {}) {
  const w = Math.ceil(tokens.length / PER_WORKER);
  const holders = Array.from({ length: w }, forkHolder);
  const t0 = performance.now();
  const answers = await Promise.all(holders.map((h, k) => {
    const lo = Math.floor((k * tokens.length) / w);
    const hi = Math.floor(((k + 1) * tokens.length) / w);
    // Each worker its own share of the addresses: no two workers race for a port.
    const addrs = w > ADDRS.length ? ADDRS : ADDRS.filter((_, j) => j % w === k);
    return ask(h.child, { cmd: 'connect', urls, tokens: tokens.slice(lo, hi), homes: homes.slice(lo, hi), addrs, concurrency: Math.ceil(200 / w), reconnect }, 'connected');
  }));
  const reasons = {};
  for (const x of answers) for (const [r, c] of Object.entries(x.reasons)) reasons[r] = (reasons[r] ?? 0) + c;
  return {
    holders,
    ok: answers.reduce((s, x) => s + x.ok, 0),
    failures: answers.reduce((s, x) => s + x.failures, 0),
    reasons,
    ms: performance.now() - t0,
  };
}

async function release(holders) {
  await Promise.all(holders.map((h) => ask(h.child, { cmd: 'close' }, 'closed')));
}

// ------------------------------------------------------------ benchmarks
const redisPort = cfg.basePort + 20;

/** Idle sockets on one node: RSS per socket. */
async function idle(round) {
  const c = await startCluster({ binary, n: 1, basePort: cfg.basePort, issuer: provider.issuer, redisUrl: null, dir: tmp, name: `idle${round}` });
  try {
    const pid = c.nodes[0].pid;
    const url = c.nodes[0].url;
    const warm = await hold([url], identities(20), new Array(20).fill(0));
    await release(warm.holders);
    await sleep(1500);
    const rss0 = memKiB(pid).rss;
    const cpu0 = cpuMs(pid);
    const tokens = identities(cfg.idle);
    const h = await hold([url], tokens, new Array(tokens.length).fill(0));
    const cpu1 = cpuMs(pid);
    await sleep(5000);
    const rss1 = memKiB(pid).rss;
    await release(h.holders);
    return {
      sockets: h.ok, failures: h.failures, reasons: h.reasons,
      connectPerSec: h.ok / (h.ms / 1000),
      serverCpuMsPer1kConnects: ((cpu1 - cpu0) / h.ok) * 1000,
      rssBeforeKiB: rss0, rssAfterKiB: rss1,
      rssPerConnKiB: (rss1 - rss0) / h.ok,
    };
  } finally {
    await c.stop();
  }
}

/** Sample every node's VmRSS every 100 ms; the function returned stops and gives the peaks (KiB) by node. */
function samplePeaks(cluster) {
  const peaks = cluster.nodes.map(() => NaN);
  const t = setInterval(() => {
    for (const nd of cluster.nodes) {
      try {
        const { rss } = memKiB(nd.pid);
        if (Number.isFinite(rss)) peaks[nd.i] = Math.max(peaks[nd.i] || 0, rss); // a killed node has none
      } catch { /* reaped */ }
    }
  }, 100);
  return () => { clearInterval(t); return peaks; };
}

/**
 * A reconnect storm: restart = false kills node 0 of cfg.nodes (its clients
 * fail over to the others); restart = true kills the only node and starts
 * it again at once.
 */
async function storm(round, restart) {
  const n = restart ? 1 : cfg.nodes;
  const redis = cfg.redis && n > 1 ? await startRedis(redisPort, tmp) : null;
  const viaNginx = cfg.nginx && !restart;
  const c = await startCluster({ binary, n, basePort: cfg.basePort, issuer: provider.issuer, redisUrl: redis?.url, dir: tmp, name: `${restart ? 'restart' : 'storm'}${round}`, env: viaNginx ? NGINX_ENV : {} });
  const lb = viaNginx ? await startNginx({ repo, port: cfg.basePort + 30, nodes: c.nodes, dir: tmp }) : null;
  let holders = [];
  try {
    const urls = lb ? [lb.url] : c.nodes.map((nd) => nd.url);
    const others = restart ? 0 : cfg.others * (n - 1);
    // Through nginx the clients go where least_conn sends them: as many on every node.
    const tokens = identities(lb ? cfg.storm * n : cfg.storm + others);
    const homes = tokens.map((_, i) => (lb || i < cfg.storm ? 0 : 1 + ((i - cfg.storm) % (n - 1))));
    const h = await hold(urls, tokens, homes, { reconnect: true });
    holders = h.holders;
    if (h.ok !== tokens.length) throw new Error(`only ${h.ok} of ${tokens.length} clients connected: ${JSON.stringify(h.reasons)}`);
    await sleep(2000);
    const rssBefore = c.nodes.map((nd) => memKiB(nd.pid).rss);
    const dropped = lb ? establishedTo(cfg.basePort) : cfg.storm; // nginx's websockets to node 0
    const peaks = samplePeaks(c);
    const tKill = Date.now();
    await c.kill(0);
    let restartMs = null;
    if (restart) { await c.restart(0); restartMs = Date.now() - tKill; }
    const deadline = tKill + 120_000;
    const backCount = () => holders.reduce((s, x) => s + x.back.length, 0);
    // Until every dropped client is back: none down, and the count reached
    // (or, through nginx, whose count may include an idle keepalive
    // connection, no return for 3 s).
    let seen = 0;
    let lastReturn = Date.now();
    for (;;) {
      const k = backCount();
      if (k !== seen) { seen = k; lastReturn = Date.now(); }
      const down = holders.some((x) => x.progress.down > 0);
      if (Date.now() > deadline || (!down && (k >= dropped || (lb && Date.now() - lastReturn > 3000)))) break;
      await sleep(100);
    }
    await sleep(300);
    const peak = peaks();
    const returns = holders.flatMap((x) => x.back);
    const back = returns.map((r) => r.back - tKill);
    const refused = {};
    for (const x of holders) for (const [r, k] of Object.entries(x.progress.refused)) refused[r] = (refused[r] ?? 0) + k;
    return {
      clients: tokens.length, dropped, back: back.length, viaNginx,
      notBack: holders.reduce((s, x) => s + x.progress.down, 0),
      failures: Object.values(refused).reduce((s, k) => s + k, 0) + holders.reduce((s, x) => s + x.progress.down, 0),
      refused,
      failedAttempts: holders.reduce((s, x) => s + x.progress.attempts, 0),
      failedWhy: holders.reduce((o, x) => { for (const [r, k] of Object.entries(x.progress.failedWhy ?? {})) o[r] = (o[r] ?? 0) + k; return o; }, {}),
      allBackMs: back.length ? Math.max(...back) : NaN,
      backMs: summarize(back),
      // When the clients saw the drop, and how long their last (successful) attempt took.
      droppedMs: summarize(returns.map((r) => r.dropped - tKill)),
      lastAttemptMs: summarize(returns.map((r) => r.back - r.tried)),
      restartMs,
      rssBeforeKiB: rssBefore,
      peakRssKiB: peak,
      redisPeakKiB: redis ? memKiB(redis.pid).hwm : null,
    };
  } finally {
    await release(holders).catch(() => {});
    await lb?.stop();
    await c.stop();
    await redis?.stop();
  }
}

/**
 * One run of the pairs workload: n nodes (Redis on when redis and n > 1),
 * pair i's user on node userHome(i), its operator on opHome(i), `rate`
 * msgs/s for `seconds`; with killAt (s), node 0 is killed then and the
 * dropped sockets' returns are timed from the kill.
 */
async function pairsRun(name, { n, redis: withRedis, userHome, opHome, rate, seconds, killAt = null }) {
  const redis = withRedis && n > 1 ? await startRedis(redisPort, tmp) : null;
  const viaNginx = cfg.nginx && killAt !== null;
  const c = await startCluster({ binary, n, basePort: cfg.basePort, issuer: provider.issuer, redisUrl: redis?.url, dir: tmp, name, env: viaNginx ? NGINX_ENV : {} });
  const lb = viaNginx ? await startNginx({ repo, port: cfg.basePort + 30, nodes: c.nodes, dir: tmp }) : null;
  const child = fork(path.join(here, 'loadgen/pairs.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  try {
    const pairs = Array.from({ length: cfg.pairs }, (_, k) => ({
      i: k + 1, userId: `user-${k + 1}`, opId: `operator-${k + 1}`,
      userToken: TOKENS[`user-${k + 1}`], opToken: TOKENS[`operator-${k + 1}`], userHome: userHome(k), opHome: opHome(k),
    }));
    await ask(child, { cmd: 'setup', urls: lb ? [lb.url] : c.nodes.map((nd) => nd.url), pairs: lb ? pairs.map((p) => ({ ...p, userHome: 0, opHome: 0 })) : pairs, addrs: ADDRS }, 'ready');
    await sleep(1000);
    // What the nodes (and Redis) spend with every socket connected and no
    // message: each node's own timers, heartbeats and pool, paid per node.
    const idle0 = { cpu: c.nodes.reduce((x, nd) => x + cpuMs(nd.pid), 0), redis: redis ? cpuMs(redis.pid) : 0, t: performance.now() };
    await sleep(IDLE_MS);
    const idleSec = (performance.now() - idle0.t) / 1000;
    const idleCpuMsPerSec = (c.nodes.reduce((x, nd) => x + cpuMs(nd.pid), 0) - idle0.cpu) / idleSec;
    const idleRedisMsPerSec = redis ? (cpuMs(redis.pid) - idle0.redis) / idleSec : null;
    let tKill = null;
    let killer = null;
    if (killAt !== null) killer = sleep(killAt * 1000).then(() => { tKill = Date.now(); return c.kill(0); });
    const ran = await ask(child, { cmd: 'run', rate, seconds, pids: c.nodes.map((nd) => nd.pid), redisPid: redis?.pid, pgDb: c.db }, 'ran');
    await killer;
    if (tKill !== null) await sleep(3000); // the last returns, before the catch-up
    const checked = await ask(child, { cmd: 'check' }, 'checked');
    const { dropTimes, backTimes, ...rest } = checked;
    const out = {
      ...ran, ...rest, idleCpuMsPerSec, idleRedisMsPerSec, viaNginx,
      // The server's CPU per message without what the same nodes spend idle over the same time.
      netServerCpuMsPer1k: ((ran.serverCpuMsPer1k * ran.acked) / 1000 - idleCpuMsPerSec * ran.seconds) / ran.acked * 1000,
    };
    if (tKill !== null) {
      const back = backTimes.filter((t) => t !== null).map((t) => t - tKill);
      out.backMs = summarize(back);
      out.dropsAfterKillMs = summarize(dropTimes.map((t) => t - tKill));
    }
    await ask(child, { cmd: 'close' }, 'closed');
    return out;
  } finally {
    child.kill('SIGKILL');
    await lb?.stop();
    await c.stop();
    await redis?.stop();
  }
}

/** kill: a node of cfg.nodes dies under load; crossnode: CPU per message on one node, same node, cross node. */
async function chat(round, bench) {
  const n = cfg.nodes;
  if (bench === 'kill') {
    // Users and operators spread over every node, each pair across two.
    return pairsRun(`kill${round}`, {
      n, redis: cfg.redis, userHome: (k) => k % n, opHome: (k) => (k + 1) % n,
      rate: cfg.rate, seconds: cfg.seconds, killAt: cfg.seconds / 3,
    });
  }
  const opts = { rate: cfg.chatRate, seconds: cfg.chatSeconds };
  const single = await pairsRun(`single${round}`, { ...opts, n: 1, redis: false, userHome: () => 0, opHome: () => 0 });
  const same = await pairsRun(`same${round}`, { ...opts, n: 2, redis: cfg.redis, userHome: (k) => k % 2, opHome: (k) => k % 2 });
  const cross = await pairsRun(`cross${round}`, { ...opts, n: 2, redis: cfg.redis, userHome: (k) => k % 2, opHome: (k) => (k + 1) % 2 });
  return {
    single, same, cross,
    crossOverSame: cross.serverCpuMsPer1k / same.serverCpuMsPer1k,
    crossOverSingle: cross.serverCpuMsPer1k / single.serverCpuMsPer1k,
    netCrossOverSame: cross.netServerCpuMsPer1k / same.netServerCpuMsPer1k,
  };
}

// ------------------------------------------------------------ report
const runs = [];
for (let round = 1; round <= cfg.rounds; round++) {
  for (const b of benches) {
    const t0 = Date.now();
    let r;
    if (b === 'idle') r = await idle(round);
    else if (b === 'storm') r = await storm(round, false);
    else if (b === 'restart') r = await storm(round, true);
    else r = await chat(round, b);
    runs.push({ bench: b, round, ...r });
    log(`round ${round} ${b} (${((Date.now() - t0) / 1000).toFixed(0)} s): ${JSON.stringify(r)}`);
  }
}

// ------------------------------------------------------------ summary
const of = (b) => runs.filter((r) => r.bench === b);
const col = (rs, f, d) => spread(rs.map(f), d);
// Counts that must be 0: every round's, not a median.
const each = (rs, f) => rs.map(f).join(' / ');
const verdict = (ok) => (ok ? 'met' : '**missed**');
log(`\nmedians over ${cfg.rounds} rounds (min–max); failures, lost, undelivered and duplicates: each round's`);
if (of('idle').length) {
  const rs = of('idle');
  log('\n| idle sockets | RSS KiB / socket | connect+auth /s | server CPU ms / 1k connects | failures (retried) | target ≤ 20 KiB |');
  log('| ---: | ---: | ---: | ---: | ---: | --- |');
  log(`| ${col(rs, (r) => r.sockets)} | ${col(rs, (r) => r.rssPerConnKiB, 1)} | ${col(rs, (r) => r.connectPerSec)} | ${col(rs, (r) => r.serverCpuMsPer1kConnects)} | ${col(rs, (r) => r.failures)} | ${verdict(median(rs.map((r) => r.rssPerConnKiB)) <= 20)} |`);
}
for (const b of ['storm', 'restart']) {
  const rs = of(b);
  if (!rs.length) continue;
  const nodes = rs[0].peakRssKiB.length;
  log(`\n| ${b} | clients | dropped | all back s | p50 s | p99 s | failures | failed attempts | ${Array.from({ length: nodes }, (_, i) => `node ${i} peak RSS MiB`).join(' | ')} | target ≤ 30 s, 0 failures |`);
  log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ${'---: | '.repeat(nodes)}--- |`);
  log(`| ${b}${rs[0].viaNginx ? ' (nginx)' : ''} | ${col(rs, (r) => r.clients)} | ${col(rs, (r) => r.dropped)} | ${col(rs, (r) => r.allBackMs / 1000, 1)} | ${col(rs, (r) => r.backMs.p50 / 1000, 1)} | ${col(rs, (r) => r.backMs.p99 / 1000, 1)} | ${each(rs, (r) => r.failures)} | ${col(rs, (r) => r.failedAttempts)} | ${Array.from({ length: nodes }, (_, i) => col(rs, (r) => r.peakRssKiB[i] / 1024)).join(' | ')} | ${verdict(rs.every((r) => r.allBackMs <= 30_000 && r.failures === 0))} |`);
}
if (of('kill').length) {
  const rs = of('kill');
  log('\n| kill -9 | msgs/s | acked | lost | undelivered (to an operator never dropped) | duplicates | caught up | clients dropped | back p50 s | back p99 s | back max s | target 0 lost, 0 undelivered |');
  log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  log(`| 1 of ${cfg.nodes}${rs[0].viaNginx ? ' (nginx)' : ''} | ${col(rs, (r) => r.msgsPerSec)} | ${col(rs, (r) => r.acked)} | ${each(rs, (r) => r.lost)} | ${each(rs, (r) => r.undelivered)} (${each(rs, (r) => r.undeliveredLive)}) | ${each(rs, (r) => r.duplicates)} | ${col(rs, (r) => r.caughtUp)} | ${col(rs, (r) => r.drops)} | ${col(rs, (r) => r.backMs.p50 / 1000, 1)} | ${col(rs, (r) => r.backMs.p99 / 1000, 1)} | ${col(rs, (r) => r.backMs.max / 1000, 1)} | ${verdict(rs.every((r) => r.lost === 0 && r.undelivered === 0))} |`);
}
if (of('crossnode').length) {
  const rs = of('crossnode');
  log('\n| placement | msgs/s | server CPU ms / 1k msg | net of idle | nodes idle CPU ms/s | Redis CPU ms / 1k msg | Redis idle ms/s | PostgreSQL CPU ms / 1k msg | delivery p50 ms | delivery p99 ms | undelivered |');
  log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [k, label] of [['single', 'one node, no Redis'], ['same', 'same node (2 nodes, Redis)'], ['cross', 'user on A, operator on B']]) {
    log(`| ${label} | ${col(rs, (r) => r[k].msgsPerSec)} | ${col(rs, (r) => r[k].serverCpuMsPer1k)} | ${col(rs, (r) => r[k].netServerCpuMsPer1k)} | ${col(rs, (r) => r[k].idleCpuMsPerSec, 1)} | ${col(rs, (r) => r[k].redisCpuMsPer1k)} | ${col(rs, (r) => r[k].idleRedisMsPerSec, 1)} | ${col(rs, (r) => r[k].pgCpuMsPer1k)} | ${col(rs, (r) => r[k].delivery.p50, 2)} | ${col(rs, (r) => r[k].delivery.p99, 1)} | ${col(rs, (r) => r[k].undelivered)} |`);
  }
  log(`\ncross / same: ${col(rs, (r) => r.crossOverSame, 2)}× (target ≤ 1.3×: ${verdict(median(rs.map((r) => r.crossOverSame)) <= 1.3)}), net of idle ${col(rs, (r) => r.netCrossOverSame, 2)}×; cross / one node: ${col(rs, (r) => r.crossOverSingle, 2)}×`);
}
if (a.json) fs.writeFileSync(a.json, JSON.stringify({ started: new Date().toISOString(), cfg, runs }, null, 2));
await cleanup();
process.exit(0);
