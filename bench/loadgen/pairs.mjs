// The chat workload over several nodes, forked by scale.mjs and driven over
// the IPC channel: user/operator pairs, each socket on a node of its own
// choosing, one ticket per pair, an open loop of acked messages; sockets a
// dying node drops reconnect to another node and catch up.
//
//   {cmd: 'setup', urls, pairs: [{i, userId, opId, userToken, opToken,
//    userHome, opHome}], addrs}
//       connects every socket to urls[home] (token in the handshake), users
//       `subscribe`, each user `createTicket`s, its operator
//       `acceptTicket`s it, operators `subscribeOperator` (chat.mjs's
//       order). Answers {type: 'ready'}.
//   {cmd: 'run', rate, seconds, pids, redisPid, pgDb}
//       `rate` messages a second in total for `seconds`, round-robin over
//       the users whose socket is up (a user whose node died is skipped
//       until it is back). One message: the user's updateMessage(ticketId,
//       messageId, {content, type: 1}, operatorId, ack); the operator gets
//       messageUpdated and answers updateMessageStatus(id, 2). CPU of the
//       pids (the nodes), redisPid and the backends of pgDb is read at the
//       first emit and when the last message is delivered (or 30 s after
//       the last emit); msgsPerSec is acked / the seconds of sending.
//       Answers {type: 'ran', …figures}.
//   {cmd: 'check'}
//       after every dropped socket is back: each operator that reconnected
//       catches up over REST (GET /api/v1/tickets/{id}/messages?since=<the
//       last message it saw before the drop>), then every ticket's messages
//       are read back;
//       answers {type: 'checked', acked, lost (acked, not stored),
//       undelivered (acked, neither delivered live nor caught up),
//       duplicates (a message delivered live twice), …}.
//
// A socket the server drops reconnects as socket.io-client would (1 s
// doubling to 5 s, ±50%), each attempt on another node; a user then
// subscribes again and resends its unacknowledged messages with the same
// ids (a retry the protocol makes safe), an operator subscribes again. The
// epoch ms of every drop and every return are reported.
import { randomUUID } from 'node:crypto';

import { cpuMs, emitAck, pgBackendsCpu, pgDelta, pool, sleep, summarize } from './common.mjs';
import { connect, nextNode, reconnectDelay } from './reconnect.mjs';

const CONTENT = 'Hello! My order #48213 arrived damaged: the box was crushed and the screen is cracked. Can you help?';
let urls = [];
let pairs = [];
const messages = new Map(); // messageId -> {pair, t0, acked, delivered (live count)}
const drops = []; // {t: epoch ms of the drop, back: epoch ms of the return or null}
const counts = { skipped: 0, ackErrors: 0, resent: 0, statusErrors: 0, strays: 0 };
let errorSample = null;
let onDelivered = null;

const must = (what) => (res) => { if (res !== null) throw new Error(`${what}: ${JSON.stringify(res)}`); };
const ticketObject = (p) => ({
  ticketId: p.ticketId, displayNm: 'Damaged delivery', ticketNm: `Order ${p.i}`, statusId: 100, createdAt: '',
  handleById: '', handleByNm: '', lastResponseAt: '', ownerId: '', ownerNm: '', programId: '', isExternal: false,
});

/**
 * A pair's user or operator: its socket, the node it is on, whether it came
 * back, the last message it saw and the one it saw last before it was dropped.
 */
function side(token, home, addr) {
  return { socket: null, home, token, addr, up: false, reconnected: false, lastSeen: null, resumeFrom: null };
}

function wireOperator(p) {
  const s = p.op;
  s.socket.on('messageUpdated', (m) => {
    const e = messages.get(m?.messageId);
    if (!e) { counts.strays++; return; }
    e.delivered++;
    s.lastSeen = m.messageId;
    if (e.delivered === 1) onDelivered?.(e);
    s.socket.emit('updateMessageStatus', m.messageId, 2, m.recipientId, m.senderId, true, (err) => {
      if (err !== null) { counts.statusErrors++; errorSample ??= err; }
    });
  });
}

function watch(p, s, isUser) {
  s.socket.once('disconnect', async (reason) => {
    if (reason === 'io client disconnect') return;
    s.up = false;
    // Where its catch-up starts: the last message it saw before its first drop.
    if (!s.reconnected) s.resumeFrom = s.lastSeen;
    const drop = { t: Date.now(), back: null };
    drops.push(drop);
    for (let k = 0; ; k++) {
      await sleep(reconnectDelay(k));
      s.home = nextNode(s.home, urls.length);
      try { s.socket = await connect(urls[s.home], s.token, s.addr); break; } catch { /* another node */ }
    }
    s.reconnected = true;
    if (isUser) {
      await emitAck(s.socket, 'subscribe', { userId: p.userId, fullNm: `User ${p.i}` }).catch(() => {});
    } else {
      wireOperator(p);
      await emitAck(s.socket, 'subscribeOperator').catch(() => {});
    }
    drop.back = Date.now();
    s.up = true;
    watch(p, s, isUser);
    if (isUser) for (const [id, e] of messages) if (e.pair === p && !e.acked) { counts.resent++; emitMessage(p, id, e); }
  });
}

async function setup(m) {
  urls = m.urls;
  pairs = m.pairs.map((x, k) => ({
    ...x, ticketId: randomUUID(),
    user: side(x.userToken, x.userHome, m.addrs[(2 * k) % m.addrs.length]),
    op: side(x.opToken, x.opHome, m.addrs[(2 * k + 1) % m.addrs.length]),
  }));
  await pool([...pairs.map((p) => p.user), ...pairs.map((p) => p.op)], 100, async (s) => {
    for (let attempt = 0; !s.socket; attempt++) {
      try { s.socket = await connect(urls[s.home], s.token, s.addr); } catch (err) { if (attempt >= 3) throw err; }
    }
    s.up = true;
  });
  await pool(pairs, 100, (p) => emitAck(p.user.socket, 'subscribe', { userId: p.userId, fullNm: `User ${p.i}` }).then(must('subscribe')));
  await pool(pairs, 100, (p) => emitAck(p.user.socket, 'createTicket', p.ticketId, ticketObject(p)).then(must('createTicket')));
  await pool(pairs, 100, (p) => emitAck(p.op.socket, 'acceptTicket', p.ticketId, ticketObject(p), p.userId).then(must('acceptTicket')));
  await pool(pairs, 100, (p) => emitAck(p.op.socket, 'subscribeOperator').then(must('subscribeOperator')));
  for (const p of pairs) { wireOperator(p); watch(p, p.user, true); watch(p, p.op, false); }
}

function emitMessage(p, id, e) {
  p.user.socket.emit('updateMessage', p.ticketId, id, { content: CONTENT, type: 1 }, p.opId, (err) => {
    if (err !== null) { counts.ackErrors++; errorSample ??= err; return; }
    if (!e.acked) { e.acked = true; e.ackMs = performance.now() - e.t0; }
  });
}

function reading(m) {
  let cpu = 0;
  for (const pid of m.pids) { try { cpu += cpuMs(pid); } catch { /* a killed node */ } }
  let redis = NaN;
  if (m.redisPid) { try { redis = cpuMs(m.redisPid); } catch { /* gone */ } }
  return { t: performance.now(), cpu, redis, pg: pgBackendsCpu(m.pgDb) };
}

/** The open loop; resolves its figures. */
function run(m) {
  const total = Math.round(m.rate * m.seconds);
  let sent = 0;
  let delivered = 0;
  let rr = 0;
  const del = [];
  return new Promise((resolve) => {
    const r0 = reading(m);
    const start = r0.t;
    let drain;
    let sentAll = false;
    let sendEnd = start;
    const finish = () => {
      clearTimeout(drain);
      onDelivered = null;
      const r1 = reading(m);
      const acked = [...messages.values()].filter((e) => e.acked);
      const sec = (r1.t - r0.t) / 1000;
      const sendSec = (sendEnd - start) / 1000;
      resolve({
        sent, acked: acked.length, deliveredLive: delivered, seconds: sec, sendSeconds: sendSec, msgsPerSec: acked.length / sendSec,
        ack: summarize(acked.map((e) => e.ackMs)), delivery: summarize(del),
        serverCpuMsPer1k: ((r1.cpu - r0.cpu) / acked.length) * 1000,
        redisCpuMsPer1k: ((r1.redis - r0.redis) / acked.length) * 1000,
        pgCpuMsPer1k: m.pgDb ? (pgDelta(r0.pg, r1.pg) / acked.length) * 1000 : null,
        ...counts, errorSample,
      });
    };
    onDelivered = (e) => {
      delivered++;
      del.push(performance.now() - e.t0);
      if (sentAll && delivered === sent) finish();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((m.rate * (performance.now() - start)) / 1000));
      while (sent < due) {
        let p = null;
        for (let tries = 0; tries < pairs.length && !p; tries++) {
          const q = pairs[rr++ % pairs.length];
          if (q.user.up) p = q; else counts.skipped++;
        }
        if (!p) break;
        const id = randomUUID();
        const e = { pair: p, t0: performance.now(), acked: false, delivered: 0 };
        messages.set(id, e);
        sent++;
        emitMessage(p, id, e);
      }
      if (sent < total) { setTimeout(tick, 1); return; }
      sentAll = true;
      sendEnd = performance.now();
      if (delivered === sent) finish();
      else drain = setTimeout(finish, 30_000);
    };
    tick();
  });
}

/** GET every page of a ticket's messages from `since` on. */
async function listMessages(p, token, since) {
  const out = [];
  const url = urls[p.op.home];
  let next = `/api/v1/tickets/${p.ticketId}/messages?limit=500${since ? `&since=${since}` : ''}`;
  while (next) {
    const res = await fetch(`${url}${next}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${next}: ${res.status} ${await res.text()}`);
    const body = await res.json();
    out.push(...(Array.isArray(body) ? body : Object.values(body).find(Array.isArray) || []));
    next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') || '')?.[1];
  }
  return out;
}

async function check() {
  const caughtUp = new Set();
  const stored = new Set();
  let restFailures = 0;
  await pool(pairs, 8, async (p) => {
    try {
      if (p.op.reconnected) for (const msg of await listMessages(p, p.opToken, p.op.resumeFrom)) caughtUp.add(msg.messageId);
      for (const msg of await listMessages(p, p.userToken, null)) stored.add(msg.messageId);
    } catch (err) {
      restFailures++;
      errorSample ??= err.message;
    }
  });
  let acked = 0;
  let lost = 0;
  let undelivered = 0;
  let duplicates = 0;
  let undeliveredLive = 0;
  for (const [id, e] of messages) {
    if (e.delivered > 1) duplicates++;
    if (!e.acked) continue;
    acked++;
    if (!stored.has(id)) lost++;
    if (e.delivered === 0 && !caughtUp.has(id)) {
      undelivered++;
      if (!e.pair.op.reconnected) undeliveredLive++; // its operator was never dropped: no catch-up could help
    }
  }
  return {
    acked, lost, undelivered, undeliveredLive, duplicates, caughtUp: caughtUp.size, restFailures,
    unackedSent: [...messages.values()].filter((e) => !e.acked).length,
    drops: drops.length, notBack: drops.filter((d) => d.back === null).length,
    dropTimes: drops.map((d) => d.t), backTimes: drops.map((d) => d.back),
  };
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'setup') { await setup(m); process.send({ type: 'ready' }); }
    else if (m.cmd === 'run') process.send({ type: 'ran', ...(await run(m)) });
    else if (m.cmd === 'check') process.send({ type: 'checked', ...(await check()) });
    else if (m.cmd === 'close') {
      for (const p of pairs) { p.user.socket?.close(); p.op.socket?.close(); }
      process.send({ type: 'closed' });
      setTimeout(() => process.exit(0), 100);
    }
  } catch (err) {
    process.send({ type: 'error', message: err.stack });
  }
});
process.on('disconnect', () => process.exit(0));
