// The side-by-side benchmark: Switchboard (SQLite, PostgreSQL) against the
// in-memory Node socket.io reference peer, interleaved over several rounds,
// server pinned to core 0 and load generator to core 1. Prints each run,
// then the medians and the ratios Switchboard / peer.
//
//   bash bench/run.sh [options]          (raises the file limit, installs, runs this)
//   node bench/run.mjs [options]
//
// Options (defaults in brackets):
//   --rounds N        rounds; each runs every target once, order rotated [3]
//   --pairs N         user/operator pairs of the chat workload [500]
//   --k N             closed loop: messages per user [40]
//   --window N        closed loop: messages in flight per user [1]
//   --rate N          open loop: messages per second in total [2000]
//   --seconds N       open loop: seconds of sending [10]
//   --light-rate N    open loop at a light load too (latency without queueing) [200]
//   --light-seconds N its seconds (0 = skip) [5]
//   --idle N          idle authenticated connections for RSS and connect rate [5000]
//   --targets LIST    comma-separated subset of peer,sqlite,postgres [all three], and
//                     sqlite+nats: SQLite with the events sink on (SWITCHBOARD_EVENTS_SINK=
//                     --nats), a namespace and stream of its own per run, deleted after;
//                     sqlite+outbox: the sink on a port where nothing answers, so that the
//                     events are written to the outbox and never published (the write's share)
//   --nats URL        the NATS JetStream of sqlite+nats [nats://127.0.0.1:4222]; "own": a
//                     nats-server of the run's own, on the generator's core, store in /dev/shm
//   --compare REV     also run the git revision REV on SQLite (target "base"), interleaved
//                     with the others, and print the ratios sqlite / base
//   --base-env LIST   comma-separated NAME=VALUE settings for the "base" server only, to
//                     compare a setting against the default (with --compare HEAD)
//   --base-on DB      the database "base" runs on: sqlite, or postgres to compare with the
//                     postgres target (ratios postgres / base) [sqlite]
//   --ablation [LIST] instead of the targets: SQLite with the whole tuning ("on"), then with
//                     each mechanism of LIST left out alone (SWITCHBOARD_SQLITE_TUNING=on,-m),
//                     stock SQLite ("off") and the idle monitor thread ("sysmon"), all with
//                     durability fsync, interleaved; prints CPU per message and ack latency
//                     of each against "on" [walbatch,pagecache,writer,direct,
//                     checkpointer]; --ablation-env NAME=VALUE,… applies to every variant;
//                     --targets peer adds the peer
//   --quick           a small run for development (1 round, 100 pairs, 1,000 idle, 3 s)
//   --json FILE       also write every figure as JSON to FILE
//   --keep            keep the temporary directory (server logs, databases)
//   --perf [HZ]       record each server with `perf record -g` (HZ samples a second [499]) and
//                     print its CPU per message split by what it does (bench/lib/perfsplit.mjs);
//                     perf's own cost lands on the server, so such a run's CPU figures are not
//                     for the ratios
//   --server-core C / --gen-core C   cores to pin to [0 / 1]
//
// Environment: BENCH_CACHE_DIR (token cache; default $TMPDIR/switchboard-bench-cache),
// BENCH_POSTGRES (admin URL parts: host/port/user; default 127.0.0.1:5432, postgres).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { listenerPid, natsRequest } from './lib/nats.mjs';
import { CATEGORIES, countByWindow, perMessage } from './lib/perfsplit.mjs';
import { startProvider, mintTokens, defaultCacheDir } from './lib/tokens.mjs';
import { cpuMs, parseArgs, sleep } from './loadgen/common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const a = parseArgs();
if (a.quick) Object.assign(a, { rounds: 1, pairs: 100, k: 20, seconds: 3, idle: 1000, ...parseArgs() });
// settings reads "NAME=VALUE,…" into an object.
function settings(list, option) {
  return Object.fromEntries(String(list ?? '').split(',').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`${option}: ${kv} is not NAME=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  }));
}
const cfg = {
  rounds: a.rounds ?? 3,
  pairs: a.pairs ?? 500,
  k: a.k ?? 40,
  window: a.window ?? 1,
  rate: a.rate ?? 2000,
  seconds: a.seconds ?? 10,
  lightRate: a['light-rate'] ?? 200,
  lightSeconds: a['light-seconds'] ?? 5,
  idle: a.idle ?? 5000,
  targets: String(a.targets ?? 'peer,sqlite,postgres').split(','),
  compare: a.compare ? String(a.compare) : null,
  baseEnv: settings(a['base-env'], '--base-env'),
  baseOn: String(a['base-on'] ?? 'sqlite'),
  perf: a.perf ? (a.perf === true ? 499 : Number(a.perf)) : 0,
  serverCore: String(a['server-core'] ?? 0),
  genCore: String(a['gen-core'] ?? 1),
  nats: String(a.nats ?? 'nats://127.0.0.1:4222'),
};
if (cfg.compare && !cfg.targets.includes('base')) cfg.targets.push('base');
// The ablation's variants: every one a SQLite server with these settings.
const ABLATION = 'walbatch,pagecache,writer,direct,checkpointer';
cfg.variants = {};
if (a.ablation) {
  const common = { SWITCHBOARD_DURABILITY: 'fsync', ...settings(a['ablation-env'], '--ablation-env') };
  cfg.variants.on = { ...common, SWITCHBOARD_SQLITE_TUNING: 'on' };
  for (const m of String(a.ablation === true ? ABLATION : a.ablation).split(',').filter(Boolean)) {
    cfg.variants[`-${m}`] = { ...common, SWITCHBOARD_SQLITE_TUNING: `on,-${m}` };
  }
  cfg.variants.stock = { ...common, SWITCHBOARD_SQLITE_TUNING: 'off' };
  cfg.variants.sysmon = { ...common, SWITCHBOARD_SQLITE_TUNING: 'on', SWITCHBOARD_IDLE_MONITOR_THREAD: 'true' };
  // The peer too, when --targets names it: the current figures' run.
  cfg.targets = [...(a.targets && cfg.targets.includes('peer') ? ['peer'] : []), ...Object.keys(cfg.variants)];
}
if (!['sqlite', 'postgres'].includes(cfg.baseOn)) throw new Error(`--base-on: ${cfg.baseOn} is neither sqlite nor postgres`);
const baseTarget = cfg.baseOn; // the target "base" is compared with
const withSink = (target) => target === 'sqlite+nats';
const onPostgres = (target) => target === 'postgres' || (target === 'base' && cfg.baseOn === 'postgres');
const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };
const log = (...x) => console.log(...x);
const started = new Date();

// ------------------------------------------------------------ helpers
const children = new Set();
const cleanups = [];
async function cleanup() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  while (cleanups.length) { try { await cleanups.pop()(); } catch (err) { console.error('cleanup:', err.message); } }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => { console.error(`\n${sig}: cleaning up`); await cleanup(); process.exit(130); });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

function psql(sql, db = 'postgres') {
  return execFileSync('psql', ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atc', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitReady(url, child, logFile, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`server at ${url} not ready; log:\n${tail(logFile)}`);
}

function tail(file, n = 30) {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

/** Start a target's server pinned to the server core. Resolves {url, pid, stop(), logFile}. */
async function startTarget(target, tmp, round, issuer) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(tmp, `${target}-round${round}.log`);
  const out = fs.openSync(logFile, 'a');
  let cmd;
  let env = { ...process.env };
  let dropDb = null;
  let sink = null;
  if (target === 'peer') {
    cmd = [process.execPath, path.join(here, 'peer/server.mjs'), String(port)];
    env.NODE_ENV = 'production';
  } else {
    let database = path.join(tmp, `bench-round${round}-${target}.db`);
    if (onPostgres(target)) {
      const name = `switchboard_bench_${process.pid}_${round}_${target}`;
      psql(`CREATE DATABASE ${name}`);
      dropDb = name;
      database = `postgres://${PG.user}@${PG.host}:${PG.port}/${name}?sslmode=disable`;
    }
    cmd = [path.join(tmp, target === 'base' ? 'switchboard-base' : 'switchboard')];
    env = {
      ...env,
      SWITCHBOARD_ADDR: `127.0.0.1:${port}`,
      SWITCHBOARD_DATABASE: database,
      SWITCHBOARD_OIDC_ISSUER: issuer,
      SWITCHBOARD_OIDC_AUDIENCE: 'switchboard',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      SWITCHBOARD_DATA_DIR: path.join(tmp, 'data'),
      // The generator is one address with thousands of connections, and
      // its closed loop sends each user's next message as soon as the last
      // is acked: limits high enough never to refuse, still counted.
      SWITCHBOARD_MAX_CONNS_PER_IP: '-1',
      SWITCHBOARD_RATE_MESSAGES: '1000',
      SWITCHBOARD_RATE_MESSAGES_BURST: '1000',
      SWITCHBOARD_RATE_EVENTS: '2000',
      SWITCHBOARD_RATE_EVENTS_BURST: '2000',
      ...(target === 'base' ? cfg.baseEnv : {}),
      ...cfg.variants[target],
    };
    if (target === 'sqlite+outbox') {
      // Nothing answers on port 9 (discard) here: the relay fails and backs off.
      Object.assign(env, { SWITCHBOARD_EVENTS_SINK: 'nats://127.0.0.1:9', SWITCHBOARD_EVENTS_NAMESPACE: 'sbbench' });
    }
    if (withSink(target)) {
      // A namespace and stream of this run's own, deleted when it stops.
      sink = { namespace: `sbbench${process.pid}r${round}`, stream: `SBBENCH_${process.pid}_R${round}` };
      Object.assign(env, { SWITCHBOARD_EVENTS_SINK: cfg.nats, SWITCHBOARD_EVENTS_NAMESPACE: sink.namespace,
        SWITCHBOARD_EVENTS_STREAM: sink.stream });
    }
  }
  // taskset execs the server: the pid is the server's own.
  const child = spawn('taskset', ['-c', cfg.serverCore, ...cmd], { cwd: tmp, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.add(child);
  const exited = new Promise((r) => child.once('exit', r));
  const dropIt = async () => {
    if (dropDb) { psql(`DROP DATABASE IF EXISTS ${dropDb} WITH (FORCE)`); dropDb = null; }
    if (sink && !sink.deleted) { sink.deleted = true; await natsRequest(cfg.nats, `$JS.API.STREAM.DELETE.${sink.stream}`); }
  };
  cleanups.push(dropIt);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    children.delete(child);
    await dropIt();
  };
  try {
    await waitReady(url, child, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid, stop, logFile, pgDb: onPostgres(target) ? dropDb : null, sink };
}

/** Run a load generator pinned to the generator core; resolves its RESULT object. */
function loadgen(script, args, timeoutMs = 300_000) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', cfg.genCore, process.execPath, path.join(here, 'loadgen', script), ...args],
      { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      children.delete(child);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`${script} exited ${code ?? signal} without a result:\n${err.slice(-3000)}${out.slice(-1000)}`));
    });
  });
}

/**
 * Record the server pid with perf until stop() is called; split() then
 * resolves its CPU per message of each phase of a chat result, by category.
 */
function perfRecord(pid, file) {
  const child = spawn('taskset', ['-c', cfg.genCore, 'perf', 'record', '-q', '-F', String(cfg.perf), '-g',
    '-k', 'CLOCK_MONOTONIC', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async stop() { child.kill('SIGINT'); await exited; },
    async split(chat, go) {
      if (!fs.existsSync(file)) throw new Error(`perf record wrote nothing (perf_event_paranoid?): ${err.trim()}`);
      const phases = ['closed', 'light', 'open'].filter((p) => chat[p]?.clock);
      const counts = await countByWindow(file, phases.map((p) => ({ name: p, ...chat[p].clock })), go);
      return Object.fromEntries(phases.map((p) => [p, perMessage(counts[p], chat[p].messages, cfg.perf)]));
    },
  };
}

const med = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

// ------------------------------------------------------------ the run
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-'));
if (!a.keep) cleanups.unshift(async () => fs.rmSync(tmp, { recursive: true, force: true }));
try {
  execFileSync('taskset', ['-c', '0', 'true']);
} catch {
  throw new Error('taskset is missing: apt-get install util-linux');
}
const fileLimit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
if (Number.isFinite(fileLimit) && fileLimit < cfg.idle * 2 + 1000) {
  throw new Error(`the open-file limit is ${fileLimit}: run through bench/run.sh (ulimit -n 65536), or raise it yourself`);
}
if (cfg.perf) {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('--perf needs perf: apt-get install linux-perf');
  }
}
if (cfg.targets.some(onPostgres)) {
  try { psql('SELECT 1'); } catch (err) {
    throw new Error(`PostgreSQL at ${PG.host}:${PG.port} (user ${PG.user}) is not reachable: ${err.stderr || err.message}\n(--targets peer,sqlite skips it)`);
  }
}

log(`Switchboard vs Node socket.io peer — ${started.toISOString()}`);
log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}; ${execFileSync('go', ['version'], { encoding: 'utf8' }).trim()}`);
log(`config: ${JSON.stringify(cfg)}`);

log('building Switchboard (go build ./cmd/switchboard)');
execFileSync('go', ['build', '-o', path.join(tmp, 'switchboard'), './cmd/switchboard'], { cwd: repo, stdio: 'inherit' });
if (cfg.compare) {
  // The revision to compare with, from git's objects: the working tree is untouched.
  const src = path.join(tmp, 'base-src');
  fs.mkdirSync(src);
  log(`building ${cfg.compare} (${execFileSync('git', ['rev-parse', '--short', cfg.compare], { cwd: repo, encoding: 'utf8' }).trim()}) as "base"`);
  execFileSync('sh', ['-c', 'git archive "$0" | tar -x -C "$1"', cfg.compare, src], { cwd: repo, stdio: 'inherit' });
  execFileSync('go', ['build', '-o', path.join(tmp, 'switchboard-base'), './cmd/switchboard'], { cwd: src, stdio: 'inherit' });
}

// --nats own: a nats-server of the benchmark's own for sqlite+nats, pinned
// to the generator's core with its store in memory (/dev/shm), as the
// sink would run on a machine of its own: neither its CPU nor its writes
// share the server's core and disk.
if (cfg.nats === 'own' && cfg.targets.some(withSink)) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'switchboard-bench-nats-'));
  const child = spawn('taskset', ['-c', cfg.genCore, 'nats-server', '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    { stdio: 'ignore' });
  children.add(child);
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  cfg.nats = `nats://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const up = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); });
      c.on('error', () => r(false));
    });
    if (up) break;
    if (tries > 100 || child.exitCode !== null) throw new Error('--nats own: nats-server did not start (is it installed?)');
    await sleep(100);
  }
  log(`nats-server of its own at ${cfg.nats} (store ${dir}, core ${cfg.genCore})`);
}

const provider = await startProvider(defaultCacheDir());
cleanups.push(() => provider.stop());
const ids = Math.max(Math.ceil(cfg.idle / 2), cfg.pairs);
const names = [];
for (let i = 1; i <= ids; i++) names.push(`user-${i}`, `operator-${i}`);
log(`provider ${provider.issuer}; tokens for ${names.length} identities (login flow, cached)`);
const { file: tokenFile } = await mintTokens(provider.issuer, names, { log });

const runs = []; // {target, round, idle, chat}
for (let round = 1; round <= cfg.rounds; round++) {
  const order = cfg.targets.map((_, i) => cfg.targets[(i + round - 1) % cfg.targets.length]);
  for (const target of order) {
    const t0 = Date.now();
    const srv = await startTarget(target, tmp, round, provider.issuer);
    const perf = cfg.perf ? perfRecord(srv.pid, path.join(tmp, `${target}-round${round}.perf.data`)) : null;
    let run;
    try {
      const common = ['--url', srv.url, '--pid', String(srv.pid), '--tokens', tokenFile, '--server-core', cfg.serverCore];
      const idle = await loadgen('idle.mjs', [...common, '--n', String(cfg.idle)]);
      const chatArgs = [...common, '--pairs', String(cfg.pairs), '--k', String(cfg.k), '--window', String(cfg.window),
        '--rate', String(cfg.rate), '--seconds', String(cfg.seconds),
        '--light-rate', String(cfg.lightRate), '--light-seconds', String(cfg.lightSeconds)];
      if (target !== 'peer') chatArgs.push('--check-rest');
      if (srv.pgDb) chatArgs.push('--pg-db', srv.pgDb);
      const natsPid = srv.sink ? listenerPid(cfg.nats) : null;
      const natsCpu0 = natsPid ? cpuMs(natsPid) : NaN;
      const chat = await loadgen('chat.mjs', chatArgs);
      run = { target, round, idle, chat };
      if (srv.sink) run.sink = await sinkFigures(srv, chat, natsPid, natsCpu0);
      if (perf) {
        await perf.stop();
        run.perf = await perf.split(chat, target !== 'peer');
      }
      runs.push(run);
    } catch (err) {
      console.error(`round ${round} ${target} failed: ${err.message}\nserver log:\n${tail(srv.logFile)}`);
      runs.push({ target, round, error: err.message });
    } finally {
      await perf?.stop();
      await srv.stop();
    }
    if (run) {
      const c = run.chat.closed;
      const o = run.chat.open;
      const p = run.chat.persisted;
      const others = (x) => fmt(x.serverCore?.othersPct, 0);
      const errs = c.ackErrors + o.ackErrors + c.statusErrors + o.statusErrors;
      log(`round ${round} ${target} (${((Date.now() - t0) / 1000).toFixed(0)} s)`
        + (p ? `: stored ${p.stored} of ${p.acked} acked messages, ${p.delivered} with status delivered` : '')
        + (c.incomplete + o.incomplete + errs ? `; INCOMPLETE ${c.incomplete + o.incomplete}, errors ${errs} ${JSON.stringify(c.errorSample ?? o.errorSample)}` : ''));
      log(`  closed: ${fmt(c.msgsPerSec, 0)} msg/s, ${fmt(c.serverCpuMsPer1k, 0)} ms CPU/1k msgs; ack ${fmt(c.ack.p50, 1)}/${fmt(c.ack.p99, 1)} ms p50/p99; `
        + `server ${fmt(c.serverCpuPct, 0)}%, others on its core ${others(c)}%, generator ${fmt(c.generatorCpuPct, 0)}%`);
      const l = run.chat.light;
      if (l) {
        log(`  light:  ${fmt(l.msgsPerSec, 0)} msg/s${l.overloaded ? ' OVERLOADED' : ''}, ${fmt(l.serverCpuMsPer1k, 0)} ms CPU/1k msgs; `
          + `ack ${fmt(l.ack.p50, 2)}/${fmt(l.ack.p99, 1)}, delivery ${fmt(l.delivery.p50, 2)}/${fmt(l.delivery.p99, 1)} ms p50/p99; server ${fmt(l.serverCpuPct, 0)}%, others ${others(l)}%`);
      }
      log(`  open:   ${fmt(o.msgsPerSec, 0)} msg/s${o.overloaded ? ' OVERLOADED (sending stopped at a 3 s backlog)' : ''}, `
        + `${fmt(o.serverCpuMsPer1k, 0)} ms CPU/1k msgs; ack ${fmt(o.ack.p50, 2)}/${fmt(o.ack.p99, 1)}, delivery ${fmt(o.delivery.p50, 2)}/${fmt(o.delivery.p99, 1)} ms p50/p99; `
        + `server ${fmt(o.serverCpuPct, 0)}%, others ${others(o)}%, generator ${fmt(o.generatorCpuPct, 0)}% (late ≤ ${fmt(o.maxBehindMs, 0)} ms)`);
      if (run.sink) {
        const k = run.sink;
        log(`  sink:   ${k.streamMsgs} events in the stream for ${k.messages} messages; outbox ${k.pending} pending `
          + `${fmt(k.drainMs, 0)} ms after the last ack (server CPU meanwhile ${fmt(k.drainCpuMs, 0)} ms); `
          + `nats-server ${fmt(k.natsCpuMsPer1k, 0)} ms CPU/1k msgs over the chat run, setup included`);
      }
      log(`  idle:   ${fmt(run.idle.rssPerConnKiB, 1)} KiB/conn (${fmt(run.idle.rssBeforeKiB / 1024, 0)} → ${fmt(run.idle.rssAfterKiB / 1024, 0)} MiB), `
        + `${fmt(run.idle.connectPerSec, 0)} connect+auth/s, ${run.idle.failures} failed ${run.idle.failures ? JSON.stringify(run.idle.failureReasons) : ''}; `
        + `server ${fmt(run.idle.serverCpuPct, 0)}%, others ${others(run.idle)}%, generator ${fmt(run.idle.generatorCpuPct, 0)}% `
        + `(${fmt(run.idle.generatorCpuMsPer1kConnects, 0)} ms CPU/1k connects)`);
    }
  }
}

// ------------------------------------------------------------ summary
const METRICS = [
  // key, column, getter, digits
  ['closedRate', 'closed msg/s', (r) => r.chat.closed.msgsPerSec, 0],
  ['cpuClosed', 'CPU ms/1k msg closed', (r) => r.chat.closed.serverCpuMsPer1k, 0],
  ['openRate', 'open msg/s', (r) => r.chat.open.msgsPerSec, 0],
  ['cpuOpen', 'CPU ms/1k msg open', (r) => r.chat.open.serverCpuMsPer1k, 0],
  ['ackP50', 'ack p50 ms', (r) => r.chat.open.ack.p50, 2],
  ['ackP99', 'ack p99 ms', (r) => r.chat.open.ack.p99, 1],
  ['delP50', 'delivery p50 ms', (r) => r.chat.open.delivery.p50, 2],
  ['delP99', 'delivery p99 ms', (r) => r.chat.open.delivery.p99, 1],
  ['rss', 'RSS KiB/idle conn', (r) => r.idle.rssPerConnKiB, 1],
  ['connRate', 'connect+auth /s', (r) => r.idle.connectPerSec, 0],
  ['cpuConn', 'CPU ms/1k connects', (r) => r.idle.serverCpuMsPer1kConnects, 0],
  ['genConn', 'generator CPU ms/1k connects', (r) => r.idle.generatorCpuMsPer1kConnects, 0],
  ['connFail', 'connect failures', (r) => r.idle.failures, 0],
];
const summary = {};
for (const target of cfg.targets) {
  const rs = runs.filter((r) => r.target === target && !r.error);
  const s = { rounds: rs.length, failedRounds: runs.filter((r) => r.target === target && r.error).length };
  for (const [key, , get] of METRICS) s[key] = key === 'connFail' ? rs.reduce((n, r) => n + get(r), 0) : med(rs.map(get));
  if (onPostgres(target)) s.pgCpuClosed = med(rs.map((r) => r.chat.closed.pgCpuMsPer1k));
  s.persisted = rs.every((r) => !r.chat.persisted || (r.chat.persisted.stored === r.chat.persisted.acked && r.chat.persisted.delivered === r.chat.persisted.acked));
  s.overloaded = rs.filter((r) => r.chat.open.overloaded).length;
  s.others = med(rs.flatMap((r) => [r.chat.closed.serverCore?.othersPct, r.chat.open.serverCore?.othersPct, r.idle.serverCore?.othersPct]));
  s.incomplete = rs.reduce((n, r) => n + r.chat.closed.incomplete + r.chat.open.incomplete, 0);
  summary[target] = s;
}

const label = { peer: 'Node peer (memory)', sqlite: 'Switchboard SQLite', postgres: 'Switchboard PostgreSQL',
  base: `Switchboard ${cfg.baseOn === 'postgres' ? 'PostgreSQL' : 'SQLite'} at ${cfg.compare}`,
  'sqlite+nats': 'Switchboard SQLite, events to NATS', 'sqlite+outbox': 'Switchboard SQLite, events written, sink down' };
for (const v of Object.keys(cfg.variants)) label[v] = `SQLite ${v}`;
const cols = ['target', ...METRICS.map((m) => m[1])];
const rows = [];
for (const t of cfg.targets) {
  const s = summary[t];
  rows.push([`${label[t]}${s.failedRounds ? ` (${s.failedRounds} round(s) failed)` : ''}`,
    ...METRICS.map(([k, , , d]) => fmt(s[k], d) + (k === 'openRate' && s.overloaded ? ` (overloaded ${s.overloaded}/${s.rounds})` : ''))]);
}
const peer = summary.peer;
if (peer && peer.rounds) {
  for (const t of cfg.targets.filter((x) => x !== 'peer')) {
    const s = summary[t];
    rows.push([`ratio ${t} / peer`, ...METRICS.map(([k]) => (k === 'connFail' ? '' : `${fmt(s[k] / peer[k], 2)}×`))]);
  }
}
if (summary.base?.rounds && summary[baseTarget]?.rounds) {
  rows.push([`ratio ${baseTarget} / base`, ...METRICS.map(([k]) => (k === 'connFail' ? '' : `${fmt(summary[baseTarget][k] / summary.base[k], 2)}×`))]);
}
const table = [
  `| ${cols.join(' | ')} |`,
  `| ${cols.map((c, i) => (i ? '---:' : '---')).join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

log(`\nMedians of ${cfg.rounds} round(s), ${new Date().toISOString()} (${((Date.now() - started) / 60000).toFixed(1)} min)`);
log(`workload: ${cfg.pairs} user/operator pairs (${2 * cfg.pairs} sockets), closed loop ${cfg.k} msgs/user window ${cfg.window}; `
  + `open loop ${cfg.rate} msg/s for ${cfg.seconds} s (latencies); ${cfg.idle} idle authenticated sockets (RSS, connect rate)`);
log(table);
if (cfg.lightSeconds) {
  const L = [['ack p50 ms', (r) => r.chat.light?.ack.p50, 2], ['ack p99 ms', (r) => r.chat.light?.ack.p99, 1],
    ['delivery p50 ms', (r) => r.chat.light?.delivery.p50, 2], ['delivery p99 ms', (r) => r.chat.light?.delivery.p99, 1],
    ['CPU ms/1k msg', (r) => r.chat.light?.serverCpuMsPer1k, 0]];
  log(`\nlight load: open loop at ${cfg.lightRate} msg/s for ${cfg.lightSeconds} s (latency without queueing; not a target)`);
  log(`| target | ${L.map((x) => x[0]).join(' | ')} |\n| --- | ${L.map(() => '---:').join(' | ')} |`);
  for (const t of cfg.targets) {
    const rs = runs.filter((r) => r.target === t && !r.error);
    log(`| ${label[t]} | ${L.map(([, get, d]) => fmt(med(rs.map(get)), d)).join(' | ')} |`);
  }
}
log(`share of the server's core taken by other processes during the timed phases (median): ${cfg.targets.map((t) => `${t} ${fmt(summary[t].others, 0)}%`).join(', ')}`);
if (cfg.perf) {
  // Medians over the rounds of each category's microseconds per message.
  for (const phase of ['closed', 'open']) {
    const split = (t, c) => med(runs.filter((r) => r.target === t && r.perf?.[phase])
      .map((r) => (c ? r.perf[phase].split[c] ?? 0 : r.perf[phase].total)));
    const used = CATEGORIES.filter((c) => cfg.targets.some((t) => split(t, c) > 0));
    log(`\nCPU µs per message by what it does, ${phase} loop (perf record at ${cfg.perf} Hz, medians of the rounds):`);
    log(`| category | ${cfg.targets.map((t) => label[t]).join(' | ')} |\n| --- | ${cfg.targets.map(() => '---:').join(' | ')} |`);
    for (const c of used) log(`| ${c} | ${cfg.targets.map((t) => (split(t, c) > 0 ? fmt(split(t, c), 1) : '–')).join(' | ')} |`);
    log(`| all | ${cfg.targets.map((t) => fmt(split(t), 1)).join(' | ')} |`);
  }
}
for (const t of cfg.targets.filter((x) => onPostgres(x) && summary[x].rounds)) {
  log(`PostgreSQL backends' own CPU (not in the Switchboard figure) of ${t}: ${fmt(summary[t].pgCpuClosed, 0)} ms per 1k msgs (closed loop)`);
}
for (const t of cfg.targets.filter((x) => x !== 'peer')) {
  const s = summary[t];
  if (!s.rounds) continue;
  log(`${label[t]}: every acked message stored and its delivered status stored: ${s.persisted ? 'yes' : 'NO'}; incomplete messages: ${s.incomplete}`);
}

if (cfg.variants.on) ablationTable();
for (const t of cfg.targets.filter((x) => x.startsWith('sqlite+'))) sinkTable(t);

// Targets of the issue, against the SQLite row.
const sq = summary.sqlite;
if (sq?.rounds && peer?.rounds) {
  const check = (ok) => (ok ? 'met' : 'MISSED');
  log('\ntargets (Switchboard SQLite):');
  log(`  CPU per 1k msgs ≤ 1.0× peer: closed ${fmt(sq.cpuClosed / peer.cpuClosed, 2)}× ${check(sq.cpuClosed <= peer.cpuClosed)}, open ${fmt(sq.cpuOpen / peer.cpuOpen, 2)}× ${check(sq.cpuOpen <= peer.cpuOpen)}`);
  log(`  open loop ${cfg.rate}/s p99 ≤ 20 ms: ack ${fmt(sq.ackP99, 1)} ms ${check(sq.ackP99 <= 20)}, delivery ${fmt(sq.delP99, 1)} ms ${check(sq.delP99 <= 20)}`);
  log(`  open loop ${cfg.rate}/s p50 ≤ 1 ms: ack ${fmt(sq.ackP50, 2)} ms ${check(sq.ackP50 <= 1)}, delivery ${fmt(sq.delP50, 2)} ms ${check(sq.delP50 <= 1)}`);
  log(`  RSS per idle conn (${cfg.idle}) ≤ peer: ${fmt(sq.rss / peer.rss, 2)}× ${check(sq.rss <= peer.rss)}`);
  log(`  connect+auth rate ≥ peer: ${fmt(sq.connRate / peer.connRate, 2)}× ${check(sq.connRate >= peer.connRate)}; failures at ${cfg.idle}: ${sq.connFail} ${check(sq.connFail === 0)}`
    + ` (server CPU per connect ${fmt(sq.cpuConn / peer.cpuConn, 2)}× the peer's, the generator's ${fmt(sq.genConn / peer.genConn, 2)}×:`
    + ' the rate is bounded by the one-core generator and the machine\'s noise too)');
}

/**
 * After a chat run with the events sink: waits until the outbox has
 * drained (so that no publishing is left outside the timed phases), and
 * reads the stream's size and the nats-server's CPU since natsCpu0.
 */
async function sinkFigures(srv, chat, natsPid, natsCpu0) {
  const t0 = Date.now();
  const cpu0 = cpuMs(srv.pid);
  let pending = NaN;
  for (const deadline = t0 + 120_000; Date.now() < deadline; await sleep(100)) {
    const body = await (await fetch(`${srv.url}/readyz`, { signal: AbortSignal.timeout(2000) })).text();
    pending = Number(/outbox: (\d+) pending/.exec(body)?.[1]);
    if (pending === 0) break;
  }
  const drainMs = Date.now() - t0;
  const drainCpuMs = cpuMs(srv.pid) - cpu0;
  const info = await natsRequest(cfg.nats, `$JS.API.STREAM.INFO.${srv.sink.stream}`);
  const messages = ['closed', 'light', 'open'].reduce((n, p) => n + (chat[p]?.messages ?? 0), 0);
  return { pending, drainMs, drainCpuMs, streamMsgs: info.state?.messages, messages,
    natsCpuMsPer1k: natsPid ? ((cpuMs(natsPid) - natsCpu0) / messages) * 1000 : NaN };
}

/**
 * The events sink's cost: the sink target's CPU per message against
 * SQLite's without it, medians (min–max over the rounds) and the ratio of
 * the medians, with the issue's target of at most 1.15×.
 */
function sinkTable(t) {
  const rs = (x) => runs.filter((r) => r.target === x && !r.error);
  if (!rs(t).length || !rs('sqlite').length) return;
  const spread = (x, get, d = 0) => {
    const xs = rs(x).map(get).filter(Number.isFinite);
    return `${fmt(med(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
  };
  log(`\n${label[t]}${withSink(t) ? ` (${cfg.nats})` : ''} against sqlite: medians of ${cfg.rounds} interleaved round(s) (min–max)`);
  log('| figure | sqlite | sink | ratio | target |\n| --- | ---: | ---: | ---: | --- |');
  for (const [name, get, d] of [['CPU ms/1k msg closed', (r) => r.chat.closed.serverCpuMsPer1k, 0],
    ['CPU ms/1k msg open', (r) => r.chat.open.serverCpuMsPer1k, 0], ['ack p50 ms', (r) => r.chat.open.ack.p50, 2],
    ['ack p99 ms', (r) => r.chat.open.ack.p99, 1], ['closed msg/s', (r) => r.chat.closed.msgsPerSec, 0]]) {
    const ratio = med(rs(t).map(get)) / med(rs('sqlite').map(get));
    const target = name.startsWith('CPU') ? `≤ 1.15×: ${ratio <= 1.15 ? 'met' : 'MISSED'}` : '';
    log(`| ${name} | ${spread('sqlite', get, d)} | ${spread(t, get, d)} | ${fmt(ratio, 2)}× | ${target} |`);
  }
  if (!withSink(t)) return;
  log(`| outbox drain after the last ack, ms | | ${spread(t, (r) => r.sink.drainMs)} | | |`);
  log(`| server CPU ms during the drain | | ${spread(t, (r) => r.sink.drainCpuMs)} | | |`);
  log(`| nats-server CPU ms/1k msg (chat run, setup included; not in the server's figure) | | ${spread(t, (r) => r.sink.natsCpuMsPer1k)} | | |`);
  log(`events in the stream: ${rs(t).map((r) => `${r.sink.streamMsgs} for ${r.sink.messages} messages`).join(', ')}`);
}

/**
 * The ablation's table: each variant's medians, their spread over the
 * rounds (min–max) and the ratio of the medians to "on"'s. A mechanism
 * earns its place if leaving it out costs ≥ 5% CPU per message, or moves
 * a latency percentile beyond "on"'s spread.
 */
function ablationTable() {
  const cols = [['CPU ms/1k msg closed', (r) => r.chat.closed.serverCpuMsPer1k, 0],
    ['CPU ms/1k msg open', (r) => r.chat.open.serverCpuMsPer1k, 0],
    ['ack p50 ms', (r) => r.chat.open.ack.p50, 2], ['ack p99 ms', (r) => r.chat.open.ack.p99, 1],
    ['closed msg/s', (r) => r.chat.closed.msgsPerSec, 0]];
  const stats = (t, get) => {
    const xs = runs.filter((r) => r.target === t && !r.error).map(get).filter(Number.isFinite);
    return { med: med(xs), min: Math.min(...xs), max: Math.max(...xs) };
  };
  log(`\nablation: medians of ${cfg.rounds} interleaved round(s) (min–max), ratio to "on"; durability fsync`);
  log(`| variant | ${cols.map(([c]) => `${c} | ratio`).join(' | ')} | leaving it out costs |\n| --- | ${cols.map(() => '---: | ---:').join(' | ')} | --- |`);
  for (const t of cfg.targets.filter((x) => cfg.variants[x])) {
    const [cpuClosed, cpuOpen, p50, p99] = cols.map(([, get]) => [stats(t, get), stats('on', get)]);
    const costs = [
      ...[['CPU closed', cpuClosed], ['CPU open', cpuOpen]].filter(([, [s, on]]) => s.med >= 1.05 * on.med).map(([n]) => `≥ 5% ${n}`),
      ...[['ack p50', p50], ['ack p99', p99]].filter(([, [s, on]]) => s.med > on.max).map(([n]) => `${n} beyond the spread`),
    ];
    log(`| ${t} | ${cols.map(([, get, d]) => {
      const s = stats(t, get);
      const on = stats('on', get);
      return `${fmt(s.med, d)} (${fmt(s.min, d)}–${fmt(s.max, d)}) | ${fmt(s.med / on.med, 2)}×`;
    }).join(' | ')} | ${t === 'on' ? '' : costs.join(', ') || 'nothing measurable'} |`);
  }
}

if (a.json) fs.writeFileSync(a.json, JSON.stringify({ started, cfg, runs, summary }, null, 2));
if (a.keep) log(`kept ${tmp}`);
await cleanup();
process.exit(runs.some((r) => r.error) ? 1 : 0);
