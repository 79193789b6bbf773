// The chat workload: user/operator pairs, one ticket per pair, acked
// messages from each user, each delivered to its operator and answered with
// a delivered status.
//
//   node loadgen/chat.mjs --url http://127.0.0.1:PORT --pid SERVER_PID --tokens FILE
//        [--pairs 500] [--k 40] [--window 1]          closed loop
//        [--rate 2000] [--seconds 10]                 open loop
//        [--light-rate 200 --light-seconds 5]         open loop at a light load first
//        [--check-rest] [--pg-db NAME]
//
// Setup (untimed): 2×pairs sockets connect with their own identities
// (user-<i>, operator-<i>; token in the handshake), users `subscribe`, each
// user `createTicket`s, its operator `acceptTicket`s it, then operators
// `subscribeOperator` (in this order so that the set-up does not broadcast
// every ticket to every operator: the workload measures messages).
//
// One message: the user emits updateMessage(ticketId, messageId,
// {content, type: 1}, operatorId, ack) → ack latency = ack − emit; the
// operator gets messageUpdated → delivery latency = arrival − emit, and
// emits updateMessageStatus(messageId, 2, operatorId, userId, true, ack) →
// the user gets messageStatusUpdated(messageId, 2): the message is complete.
//
// Closed loop: each user keeps `window` messages in flight (sends the next
// when one completes) until it sent k. Open loop: `rate` messages per
// second in total, round-robin over the users, for `seconds`, whatever the
// answers do; latency is taken from the actual emit.
// Server CPU (/proc/<pid>/stat utime+stime) is read at the first emit and
// at the last completion of each phase; with --pg-db the CPU of that
// database's PostgreSQL backends too. --check-rest reads every ticket's
// messages back over Switchboard's REST API and counts them.
import { randomUUID } from 'node:crypto';

import {
  parseArgs, loadTokens, connectAll, emitAck, pool, cpuMs, pgBackendsCpu, pgDelta, coreTimes, coreLoad,
  summarize, sleep, result,
} from './common.mjs';

const a = parseArgs();
const P = a.pairs ?? 500;
const K = a.k ?? 40;
const W = a.window ?? 1;
const RATE = a.rate ?? 2000;
const SERVER_CORE = a['server-core'] ?? 0;
const MAX_BACKLOG_S = a['max-backlog'] ?? 3;
const SECONDS = a.seconds ?? 10;
const CONTENT = 'Hello! My order #48213 arrived damaged: the box was crushed and the screen is cracked. Can you help?';
const log = (...x) => { if (a.verbose) console.error(...x); };

// ------------------------------------------------------------ setup
const all = loadTokens(a.tokens);
const pairs = [];
for (let i = 1; i <= P; i++) {
  pairs.push({ i, userId: `user-${i}`, opId: `operator-${i}`, ticketId: randomUUID(), sent: 0 });
}
const tokens = [...pairs.map((p) => all[p.userId]), ...pairs.map((p) => all[p.opId])];
if (tokens.some((t) => !t)) throw new Error(`the token file has fewer than ${P} pairs of identities`);

let connectRetries = 0;
const conn = await connectAll(a.url, tokens, { concurrency: 100 });
for (const f of conn.failures) {
  for (let attempt = 0; attempt < 3 && !conn.sockets[f.i]; attempt++) {
    connectRetries++;
    conn.sockets[f.i] = (await connectAll(a.url, [tokens[f.i]], { concurrency: 1 })).sockets[0];
  }
  if (!conn.sockets[f.i]) throw new Error(`could not connect socket ${f.i}: ${f.reason}`);
}
pairs.forEach((p, k) => { p.user = conn.sockets[k]; p.op = conn.sockets[P + k]; });

const ticketObject = (p) => ({
  ticketId: p.ticketId, displayNm: 'Damaged delivery', ticketNm: `Order ${p.i}`, statusId: 100, createdAt: '',
  handleById: '', handleByNm: '', lastResponseAt: '', ownerId: '', ownerNm: '', programId: '', isExternal: false,
});
const must = (what) => (res) => { if (res !== null) throw new Error(`${what}: ${JSON.stringify(res)}`); };
await pool(pairs, 100, (p) => emitAck(p.user, 'subscribe', { userId: p.userId, fullNm: `User ${p.i}` }).then(must('subscribe')));
await pool(pairs, 100, (p) => emitAck(p.user, 'createTicket', p.ticketId, ticketObject(p)).then(must('createTicket')));
await pool(pairs, 100, (p) => emitAck(p.op, 'acceptTicket', p.ticketId, ticketObject(p), p.userId).then(must('acceptTicket')));
await pool(pairs, 100, (p) => emitAck(p.op, 'subscribeOperator').then(must('subscribeOperator')));
log(`setup: ${2 * P} sockets, ${P} tickets accepted (${connectRetries} connect retries)`);

// ------------------------------------------------------------ messages
const inflight = new Map(); // messageId -> {t0, pair, phase, delivered}
const strays = { messageUpdated: 0, messageStatusUpdated: 0, duplicateDelivery: 0 };
let totalAcked = 0;

function newPhase(name) {
  return { name, ack: [], del: [], acked: 0, ackErrors: 0, statusErrors: 0, done: 0, sent: 0, onDone: null, errorSample: null };
}

for (const p of pairs) {
  p.op.on('messageUpdated', (m) => {
    const e = inflight.get(m?.messageId);
    if (!e) { strays.messageUpdated++; return; }
    if (e.delivered) { strays.duplicateDelivery++; return; }
    e.delivered = true;
    e.phase.del.push(performance.now() - e.t0);
    p.op.emit('updateMessageStatus', m.messageId, 2, m.recipientId, m.senderId, true, (err) => {
      if (err !== null) { e.phase.statusErrors++; e.phase.errorSample ??= err; }
    });
  });
  p.user.on('messageStatusUpdated', (id, status) => {
    const e = inflight.get(id);
    if (!e || status !== 2) { strays.messageStatusUpdated++; return; }
    inflight.delete(id);
    e.phase.done++;
    e.phase.onDone?.(e);
  });
}

function send(p, ph) {
  const id = randomUUID();
  const e = { t0: 0, pair: p, phase: ph, delivered: false };
  inflight.set(id, e);
  p.sent++;
  ph.sent++;
  e.t0 = performance.now();
  p.user.emit('updateMessage', p.ticketId, id, { content: CONTENT, type: 1 }, p.opId, (err) => {
    const now = performance.now();
    if (err !== null) { ph.ackErrors++; ph.errorSample ??= err; return; }
    ph.acked++;
    totalAcked++;
    ph.ack.push(now - e.t0);
  });
}

/**
 * Server (and PostgreSQL backend, generator) CPU readings at a point in
 * time; mono is CLOCK_MONOTONIC in seconds, the clock of `perf record -k
 * CLOCK_MONOTONIC` (run.mjs --perf splits a phase's samples by it).
 */
function reading() {
  return {
    t: performance.now(), mono: Number(process.hrtime.bigint()) / 1e9,
    cpu: cpuMs(a.pid), pg: pgBackendsCpu(a['pg-db']), gen: process.cpuUsage(), cores: coreTimes(),
  };
}

function report(ph, r0, r1, extra = {}) {
  const sec = (r1.t - r0.t) / 1000;
  const genUs = r1.gen.user + r1.gen.system - r0.gen.user - r0.gen.system;
  const out = {
    messages: ph.acked,
    sent: ph.sent,
    incomplete: ph.sent - ph.done,
    ackErrors: ph.ackErrors,
    statusErrors: ph.statusErrors,
    errorSample: ph.errorSample,
    seconds: sec,
    msgsPerSec: ph.acked / sec,
    ack: summarize(ph.ack),
    delivery: summarize(ph.del),
    serverCpuMs: r1.cpu - r0.cpu,
    serverCpuMsPer1k: ((r1.cpu - r0.cpu) / ph.acked) * 1000,
    serverCpuPct: ((r1.cpu - r0.cpu) / (sec * 1000)) * 100,
    generatorCpuPct: (genUs / 1000 / (sec * 1000)) * 100,
    serverCore: coreLoad(r0.cores, r1.cores, SERVER_CORE, r1.cpu - r0.cpu),
    clock: { from: r0.mono, to: r1.mono },
    ...extra,
  };
  if (a['pg-db']) {
    const pg = pgDelta(r0.pg, r1.pg);
    out.pgCpuMsPer1k = (pg / ph.acked) * 1000;
  }
  return out;
}

/** Closed loop: each user keeps `window` in flight until it sent `k`. Resolves the phase report. */
function closedLoop(name, k, window, timeoutMs = 180_000) {
  const ph = newPhase(name);
  const total = P * k;
  for (const p of pairs) p.sent = 0;
  return new Promise((resolve) => {
    let timer;
    const r0 = reading();
    const finish = () => { clearTimeout(timer); ph.onDone = null; resolve(report(ph, r0, reading())); };
    ph.onDone = (e) => {
      if (e.pair.sent < k) send(e.pair, ph);
      if (ph.done === total) finish();
    };
    timer = setTimeout(finish, timeoutMs);
    for (let w = 0; w < window; w++) for (const p of pairs) if (p.sent < k) send(p, ph);
  });
}

/** Open loop: `rate`/s round-robin for `seconds`, then wait for the stragglers. */
function openLoop(name, rate, seconds, drainMs = 60_000) {
  const ph = newPhase(name);
  const total = Math.round(rate * seconds);
  let rr = 0;
  let maxBehind = 0;
  let overloaded = false;
  return new Promise((resolve) => {
    let drain;
    let sentAll = false;
    const r0 = reading();
    const start = r0.t;
    const finish = () => {
      clearTimeout(drain);
      ph.onDone = null;
      const r1 = reading();
      resolve(report(ph, r0, r1, { targetRate: rate, overloaded, sendSeconds: (sendEnd - start) / 1000, maxBehindMs: (maxBehind / rate) * 1000 }));
    };
    let sendEnd = start;
    ph.onDone = () => { if (sentAll && ph.done === ph.sent) finish(); };
    const tick = () => {
      const due = Math.min(total, Math.floor((rate * (performance.now() - start)) / 1000));
      maxBehind = Math.max(maxBehind, due - ph.sent);
      while (ph.sent < due) send(pairs[rr++ % P], ph);
      if (ph.sent - ph.done > rate * MAX_BACKLOG_S) overloaded = true; // the server cannot keep up: stop sending
      if (ph.sent < total && !overloaded) { setTimeout(tick, 1); return; }
      sentAll = true;
      sendEnd = performance.now();
      if (ph.done === ph.sent) finish();
      else drain = setTimeout(finish, drainMs);
    };
    tick();
  });
}

const out = { pairs: P, connections: 2 * P, connectRetries };
if (a.k !== 0) {
  await closedLoop('warmup', 2, 1);
  await sleep(500);
  out.closed = await closedLoop('closed', K, W);
  log('closed', JSON.stringify(out.closed));
  await sleep(1000);
}
if (a['light-rate'] && a['light-seconds']) {
  out.light = await openLoop('light', a['light-rate'], a['light-seconds']);
  log('light', JSON.stringify(out.light));
  await sleep(500);
}
if (a.seconds !== 0) {
  out.open = await openLoop('open', RATE, SECONDS);
  log('open', JSON.stringify(out.open));
}
await sleep(300);
out.strays = strays;

// ------------------------------------------------------------ persisted?
if (a['check-rest']) {
  let stored = 0;
  let delivered = 0;
  let failures = 0;
  await pool(pairs, 8, async (p) => {
    // REST lists are pages: follow Link rel="next" to the last.
    for (let next = `/api/v1/tickets/${p.ticketId}/messages?limit=500`; next; ) {
      const res = await fetch(`${a.url}${next}`, { headers: { authorization: `Bearer ${all[p.userId]}` } });
      if (!res.ok) { failures++; return; }
      const body = await res.json();
      const list = Array.isArray(body) ? body : Object.values(body).find(Array.isArray) || [];
      stored += list.length;
      delivered += list.filter((m) => m.statusId >= 2).length;
      next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') || '')?.[1];
    }
  });
  out.persisted = { acked: totalAcked, stored, delivered, restFailures: failures };
}

for (const p of pairs) { p.user.close(); p.op.close(); }
result(out);
process.exit(0);
