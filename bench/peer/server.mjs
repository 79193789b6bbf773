// The reference peer: the livechat events of shared/spec/livechat.md that
// the benchmark's workload uses, on Node's socket.io 4.8, in memory — what a
// team would write first with the obvious alternative to Switchboard.
//
//   node peer/server.mjs [port]     prints `ready http://127.0.0.1:<port>`
//
// Same wire behaviour as Switchboard for these events (names, positional
// arguments, acks null / {code, message}, the objects' fields, the rooms
// each event goes to, events emitted before the ack), minus what a peer in
// memory does not do: it verifies no token (it trusts the `sub`, `name` and
// `roles` claims of the JWT it is handed, or a bare {userId, operator}) and
// stores nothing on disk.
import * as http from 'node:http';

import { Server } from 'socket.io';

const port = Number(process.argv[2] || 0);
const MAX_TEXT = 64 << 10;
const MAX_IMAGE = 1 << 20;
const MAX_NAME = 1024;

const users = new Map(); // userId -> display name
const tickets = new Map(); // ticketId -> ticket
const messages = new Map(); // messageId -> message

const isoMs = (ms) => (ms ? new Date(ms).toISOString() : '');
const err = (code, message) => ({ code, message });
const userRoom = (id) => `user:${id}`;
const operatorRoom = (id) => `operator:${id}`;
const OPERATORS = 'operators';

/** The principal a token claims (no verification: the peer trusts it). */
function principalOf(auth) {
  if (!auth || typeof auth !== 'object') return null;
  const token = typeof auth.accessToken === 'string' ? auth.accessToken : typeof auth.token === 'string' ? auth.token : '';
  if (token) {
    try {
      const c = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
      if (typeof c.sub !== 'string' || !c.sub) return null;
      const operator = Array.isArray(c.roles) && c.roles.includes('operator');
      return { id: c.sub, name: typeof c.name === 'string' ? c.name : c.sub, operator, exp: (c.exp || 0) * 1000 };
    } catch {
      return null;
    }
  }
  if (typeof auth.userId === 'string' && auth.userId) {
    return { id: auth.userId, name: auth.userId, operator: auth.operator === true, exp: Date.now() + 3600e3 };
  }
  return null;
}

function principalWire(p) {
  return { userId: p.id, displayNm: p.name, roles: [p.operator ? 'operator' : 'user'], expiresAt: isoMs(p.exp) };
}

function ticketWire(t) {
  return {
    ticketId: t.ticketId, displayNm: t.displayNm, ticketNm: t.ticketNm, statusId: t.statusId,
    createdAt: isoMs(t.createdAt), handleById: t.handleById, handleByNm: t.handleByNm,
    lastResponseAt: isoMs(t.lastResponseAt), ownerId: t.ownerId, ownerNm: t.ownerNm, programId: '', isExternal: false,
  };
}

const str = (v, max) => (v === undefined || v === null ? '' : typeof v === 'string' && v.length <= max ? v : null);
const id = (v) => (typeof v === 'string' && v !== '' && v.length <= MAX_NAME ? v : null);
const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);

const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === '/readyz' || req.url === '/healthz' ? 200 : 404).end();
});
const io = new Server(httpServer, {
  path: '/socket.io/',
  serveClient: false,
  pingInterval: 25_000,
  pingTimeout: 20_000,
  connectTimeout: 5_000,
  maxHttpBufferSize: 1.5e6,
  transports: ['polling', 'websocket'],
  cors: { origin: '*', credentials: false },
});

io.on('connection', (socket) => {
  let me = null; // principal
  let userId = ''; // the acting user id (the subscribed one)
  let name = '';
  const grace = setTimeout(() => { if (!me) socket.disconnect(true); }, 10_000);

  function authenticate(auth, ack) {
    const p = principalOf(auth);
    if (!p) {
      const e = err(auth && (auth.accessToken || auth.token) ? 'TOKEN_INVALID' : 'TOKEN_MISSING', 'send {accessToken}');
      socket.emit('unauthenticated', e);
      ack?.(e);
      return;
    }
    if (me && me.id !== p.id) {
      const e = err('FORBIDDEN', 'this socket is authenticated as someone else');
      socket.emit('unauthenticated', e);
      ack?.(e);
      return;
    }
    if (!me) {
      userId = p.id;
      name = users.get(p.id) || p.name;
      if (!users.has(p.id)) users.set(p.id, p.name);
    }
    me = p;
    clearTimeout(grace);
    socket.emit('authenticated', principalWire(p));
    ack?.(null);
  }

  const handlers = {
    subscribe(a, ack) {
      if (me.operator) return ack?.(err('FORBIDDEN', 'operators use subscribeOperator'));
      const u = obj(a[0]);
      if (!u) return ack?.(err('INVALID_REQUEST', 'userObject must be an object'));
      const uid = str(u.userId, MAX_NAME);
      const full = str(u.fullNm, MAX_NAME);
      if (uid === null || full === null) return ack?.(err('INVALID_REQUEST', 'userObject fields must be strings'));
      if (uid !== '' && uid !== me.id) return ack?.(err('FORBIDDEN', 'you may only subscribe as yourself'));
      if (full) { users.set(me.id, full); name = full; }
      socket.join(userRoom(me.id));
      ack?.(null);
    },
    subscribeOperator(a, ack) {
      if (!me.operator) return ack?.(err('FORBIDDEN', 'only operators may subscribe to the operator channel'));
      socket.join([OPERATORS, operatorRoom(me.id)]);
      ack?.(null);
    },
    createTicket(a, ack) {
      const ticketId = id(a[0]);
      const o = obj(a[1]);
      if (!ticketId || !o) return ack?.(err('INVALID_REQUEST', 'createTicket(ticketId, ticketObject)'));
      if (me.operator) return ack?.(err('FORBIDDEN', 'operators do not open tickets'));
      const displayNm = str(o.displayNm, MAX_NAME);
      const ticketNm = str(o.ticketNm, MAX_NAME);
      if (displayNm === null || ticketNm === null) return ack?.(err('INVALID_REQUEST', 'ticketObject fields must be strings'));
      const old = tickets.get(ticketId);
      if (old) return ack?.(old.ownerId === userId ? null : err('CONFLICT', `ticket id ${ticketId} is taken`));
      const t = {
        ticketId, displayNm, ticketNm, statusId: 100, createdAt: Date.now(), handleById: '', handleByNm: '',
        lastResponseAt: 0, ownerId: userId, ownerNm: name, awaiting: false,
      };
      tickets.set(ticketId, t);
      io.to(OPERATORS).emit('ticketCreated', ticketWire(t));
      ack?.(null);
    },
    acceptTicket(a, ack) {
      const ticketId = id(a[0]);
      if (!ticketId || !obj(a[1])) return ack?.(err('INVALID_REQUEST', 'acceptTicket(ticketId, ticketObject, ownerId)'));
      if (!me.operator) return ack?.(err('FORBIDDEN', 'only operators accept tickets'));
      const t = tickets.get(ticketId);
      if (!t) return ack?.(err('NOT_FOUND', `no ticket ${ticketId}`));
      if (t.statusId === 200 && t.handleById === me.id) return ack?.(null);
      if (t.statusId !== 100) return ack?.(err(t.statusId === 200 ? 'CONFLICT' : 'INVALID_TRANSITION', 'the ticket is not new'));
      t.statusId = 200;
      t.handleById = me.id;
      t.handleByNm = me.name;
      io.to([userRoom(t.ownerId), OPERATORS]).emit('ticketAccepted', ticketWire(t));
      ack?.(null);
    },
    updateMessage(a, ack) {
      const ticketId = id(a[0]);
      const messageId = id(a[1]);
      const o = obj(a[2]);
      if (!ticketId || !messageId || !o) return ack?.(err('INVALID_REQUEST', 'updateMessage(ticketId, messageId, messageObject, recipientId)'));
      const type = o.type ?? 1;
      const content = o.content;
      if ((type !== 1 && type !== 2) || typeof content !== 'string' || content === '') return ack?.(err('INVALID_REQUEST', 'content must be a string, type 1 or 2'));
      if (content.length > (type === 1 ? MAX_TEXT : Math.ceil(MAX_IMAGE / 3) * 4)) return ack?.(err('INVALID_REQUEST', 'the message is too large'));
      const encoding = str(o.encoding, MAX_NAME);
      if (encoding === null) return ack?.(err('INVALID_REQUEST', 'encoding must be a string'));
      const t = tickets.get(ticketId);
      const fromOwner = t && t.ownerId === userId && !me.operator;
      const fromHandler = t && me.operator && t.handleById === me.id;
      if (!t || (!fromOwner && !me.operator)) return ack?.(err('NOT_FOUND', `no ticket ${ticketId}`));
      const old = messages.get(messageId);
      if (old) return ack?.(old.senderId === userId && old.ticketId === ticketId ? null : err('CONFLICT', `message id ${messageId} is taken`));
      if (!fromOwner && !fromHandler) return ack?.(err('FORBIDDEN', 'only the ticket\'s owner and handler may write to it'));
      if (t.statusId === 10000) return ack?.(err('TICKET_CLOSED', `ticket ${ticketId} is closed`));
      const now = Date.now();
      const m = {
        ticketId, recipientId: fromOwner ? t.handleById : t.ownerId, recipientNm: fromOwner ? t.handleByNm : t.ownerNm,
        messageId, content, type, encoding: encoding || 'utf-8', createdAt: isoMs(now), statusId: 1,
        senderId: userId, senderNm: name, programId: '',
      };
      messages.set(messageId, m);
      const to = fromOwner ? (t.handleById ? operatorRoom(t.handleById) : OPERATORS) : userRoom(t.ownerId);
      socket.to([to, me.operator ? operatorRoom(me.id) : userRoom(userId)]).emit('messageUpdated', m);
      if (fromOwner) t.awaiting = true;
      else {
        t.lastResponseAt = now;
        if (t.awaiting) { t.awaiting = false; io.to(OPERATORS).emit('ticketResponded', ticketId); }
      }
      ack?.(null);
    },
    updateMessageStatus(a, ack) {
      const messageId = id(a[0]);
      const status = a[1];
      if (!messageId || !Number.isInteger(status)) return ack?.(err('INVALID_REQUEST', 'updateMessageStatus(messageId, statusId, recipientId, senderId, flag)'));
      if (status < 1 || status > 3) return ack?.(err('INVALID_REQUEST', 'statusId must be 1, 2 or 3'));
      let targets;
      if (messageId === 'all') {
        const senderId = id(a[3]);
        if (!senderId) return ack?.(err('INVALID_REQUEST', 'senderId is required with "all"'));
        targets = [];
        for (const m of messages.values()) {
          if (m.recipientId === userId && m.senderId === senderId && m.statusId < status && tickets.get(m.ticketId)?.statusId !== 10000) targets.push(m);
        }
      } else {
        const m = messages.get(messageId);
        if (!m) return ack?.(err('NOT_FOUND', `no message ${messageId}`));
        if (m.recipientId !== userId) return ack?.(err('FORBIDDEN', `message ${messageId} was not sent to you`));
        targets = m.statusId < status ? [m] : [];
      }
      for (const m of targets) {
        m.statusId = status;
        io.to(me.operator ? userRoom(m.senderId) : operatorRoom(m.senderId)).emit('messageStatusUpdated', m.messageId, status);
      }
      ack?.(null);
    },
  };

  socket.onAny((event, ...a) => {
    const ack = typeof a[a.length - 1] === 'function' ? a.pop() : undefined;
    if (event === 'authenticate') return authenticate(obj(a[0]) || {}, ack);
    if (!me) return ack?.(err('UNAUTHENTICATED', 'authenticate first'));
    const h = handlers[event];
    if (!h) return ack?.(err('INVALID_REQUEST', `unknown event "${event}"`));
    try {
      h(a, ack);
    } catch (e) {
      console.error('event failed', event, e);
      ack?.(err('INTERNAL', 'internal error'));
    }
  });
  socket.on('disconnect', () => clearTimeout(grace));

  const hs = socket.handshake.auth;
  if (hs && (hs.accessToken || hs.token || hs.userId)) authenticate(hs);
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready http://127.0.0.1:${httpServer.address().port}\n`);
});
const stop = () => { io.close(); httpServer.close(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
