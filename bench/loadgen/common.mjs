// Shared by the load generators: arguments, /proc readings, percentiles,
// and connecting authenticated socket.io-client sockets.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

import { io } from 'socket.io-client';

/** --key value / --flag arguments into an object (numbers parsed). */
export function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const k = a.slice(2);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) out[k] = true;
    else { out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v; i++; }
  }
  return out;
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux (getconf CLK_TCK)

/** utime + stime of a process, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** Per-core {busy, total} jiffies from /proc/stat: Map core -> counters. */
export function coreTimes() {
  const out = new Map();
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((x, y) => x + y, 0);
    out.set(Number(m[1]), { busy: total - v[3] - v[4], total });
  }
  return out;
}

/**
 * How busy the server's core was between two coreTimes() readings, and how
 * much of it was not the server (other processes: the machine is shared).
 */
export function coreLoad(before, after, core, serverCpuMs) {
  const b = before.get(core);
  const e = after.get(core);
  if (!b || !e || e.total === b.total) return { busyPct: NaN, othersPct: NaN };
  const busyPct = ((e.busy - b.busy) / (e.total - b.total)) * 100;
  const wallMs = (e.total - b.total) * TICK_MS;
  return { busyPct, othersPct: Math.max(0, busyPct - (serverCpuMs / wallMs) * 100) };
}

/** VmRSS of a process, in KiB (from /proc/<pid>/status). */
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU ms of every PostgreSQL backend serving database db: Map pid -> ms. */
export function pgBackendsCpu(db) {
  const out = new Map();
  if (!db) return out;
  const pids = execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-Atc',
    `SELECT pid FROM pg_stat_activity WHERE datname = '${db.replace(/'/g, "''")}'`], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    try { out.set(pid, cpuMs(pid)); } catch { /* gone */ }
  }
  return out;
}

/** CPU the backends spent between two pgBackendsCpu readings (new backends count whole). */
export function pgDelta(before, after) {
  let ms = 0;
  for (const [pid, v] of after) ms += v - (before.get(pid) ?? 0);
  return ms;
}

/** p-th percentile (0..100) of an array of numbers (sorted in place). */
export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples) {
  const a = Float64Array.from(samples).sort();
  return { n: a.length, p50: percentile(a, 50), p90: percentile(a, 90), p99: percentile(a, 99), max: a.length ? a[a.length - 1] : NaN };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The token cache of lib/tokens.mjs: name -> token. */
export function loadTokens(file) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const out = {};
  for (const [k, v] of Object.entries(j.tokens)) out[k] = v.token;
  return out;
}

/**
 * Connect one websocket socket with the token in the handshake and wait for
 * `authenticated`. Resolves {socket, principal}; rejects with the reason
 * (connect_error, unauthenticated, disconnect before authenticated, timeout);
 * the socket is closed then.
 */
export function connectAuthenticated(url, token, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      path: '/socket.io/',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      auth: { accessToken: token },
    });
    const fail = (why) => { clearTimeout(t); socket.removeAllListeners(); socket.close(); reject(new Error(why)); };
    const t = setTimeout(() => fail('timeout'), timeoutMs);
    socket.once('authenticated', (p) => {
      clearTimeout(t);
      socket.off('connect_error');
      socket.off('unauthenticated');
      socket.off('disconnect');
      resolve({ socket, principal: p });
    });
    socket.once('unauthenticated', (e) => fail(`unauthenticated ${e?.code}`));
    socket.once('connect_error', (e) => fail(`connect_error ${e?.message}`));
    socket.once('disconnect', (r) => fail(`disconnect before authenticated: ${r}`));
  });
}

/**
 * Connect every token (array) at most `concurrency` at a time. Resolves
 * {sockets (same order; null where it failed), failures: [reason], ms}.
 */
export async function connectAll(url, tokens, { concurrency = 100, timeoutMs = 10_000 } = {}) {
  const sockets = new Array(tokens.length).fill(null);
  const failures = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++;
      try {
        sockets[i] = (await connectAuthenticated(url, tokens[i], timeoutMs)).socket;
      } catch (err) {
        failures.push({ i, reason: err.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
  return { sockets, failures, ms: performance.now() - t0 };
}

/** socket.emit with an ack, resolving the ack's first argument (rejects after timeoutMs). */
export function emitAck(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ack for ${event} within 15 s`)), 15_000);
    socket.emit(event, ...args, (res) => { clearTimeout(t); resolve(res); });
  });
}

/** Run fn(item) over items at most `concurrency` at a time. */
export async function pool(items, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Print the result line the orchestrator reads. */
export function result(obj) {
  process.stdout.write(`RESULT ${JSON.stringify(obj)}\n`);
}
