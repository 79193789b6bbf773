// Per-file setup (one provider + one server per test file), clients by role,
// wire-object builders and assertions shared by the tests.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { before, after, afterEach } from 'node:test';

import { startProvider } from './provider.mjs';
import {
  startServer, closeAll, connectAuthenticated, connectRetries, emitAck,
} from './server.mjs';
import { tokenFor, programToken } from './tokens.mjs';

export const uuid = () => randomUUID();

/**
 * Register before/after hooks that start the provider and the server for
 * this test file. Returns a context whose .provider and .server are set
 * once `before` ran.
 */
export function setupSuite({ env } = {}) {
  const ctx = {};
  before(async () => {
    ctx.provider = await startProvider();
    ctx.server = await startServer({ issuer: ctx.provider.issuer, env });
  }, { timeout: 600_000 });
  afterEach(() => closeAll());
  after(async () => {
    closeAll();
    if (ctx.server) {
      const r = await ctx.server.stop();
      if (process.env.SB_DEBUG) console.error(`server log (${ctx.server.logFile}):\n${ctx.server.log()}`);
      if (r.killed) console.error('server did not exit within 10 s of SIGTERM');
      // SB_KEEP=1 keeps the database and server.log for a look after the run.
      if (process.env.SB_KEEP) console.error(`kept ${ctx.server.dir}`);
      else fs.rmSync(ctx.server.dir, { recursive: true, force: true });
    }
    await ctx.provider?.stop();
    if (connectRetries.length) {
      console.log(`${connectRetries.length} connection(s) dropped or left unanswered by the server right after connect (retried):\n  ${connectRetries.join('\n  ')}`);
    }
  }, { timeout: 30_000 });
  return ctx;
}

export const DISPLAY = {
  'operator-1': 'Operator One',
  'operator-2': 'Operator Two',
  'operator-3': 'Operator Three',
  'user-1': 'User One',
  'user-2': 'User Two',
  'user-3': 'User Three',
};

/** A user socket: connected, authenticated (authenticate event), subscribed (unless subscribe:false). */
export async function asUser(name, { subscribe = true, profile } = {}) {
  const { socket: s, principal } = await connectAuthenticated(await tokenFor(name));
  s.principal = principal;
  s.who = name;
  if (subscribe) {
    assert.equal(await emitAck(s, 'subscribe', profile ?? { userId: name }), null, `${name} subscribe`);
  }
  return s;
}

/** An operator socket: connected, authenticated, subscribeOperator'd (unless subscribe:false). */
export async function asOperator(name, { subscribe = true } = {}) {
  const { socket: s, principal } = await connectAuthenticated(await tokenFor(name));
  s.principal = principal;
  s.who = name;
  if (subscribe) assert.equal(await emitAck(s, 'subscribeOperator'), null, `${name} subscribeOperator`);
  return s;
}

/** A program socket acting for end user `endUserId` (subscribe {userId, programId, ...}) unless endUserId is null. */
export async function asProgram(clientId, endUserId, { profile } = {}) {
  const { socket: s, principal } = await connectAuthenticated(await programToken(clientId));
  s.principal = principal;
  s.who = clientId;
  if (endUserId != null) {
    const obj = profile ?? { userId: endUserId, programId: clientId, fullNm: `End User ${endUserId}` };
    assert.equal(await emitAck(s, 'subscribe', obj), null, `${clientId} subscribe for ${endUserId}`);
  }
  return s;
}

/** A ticketObject as a client sends it (server-owned fields empty, as the source says). */
export function ticketObject(ticketId, extra = {}) {
  return {
    ticketId,
    displayNm: 'Help with my order',
    ticketNm: `Order ${ticketId.slice(0, 8)}`,
    statusId: 100,
    createdAt: '',
    handleById: '',
    handleByNm: '',
    lastResponseAt: '',
    ownerId: '',
    ownerNm: '',
    programId: '',
    isExternal: false,
    ...extra,
  };
}

/** A messageObject as a client sends it. */
export function messageObject(ticketId, messageId, content, extra = {}) {
  return {
    ticketId,
    recipientId: '',
    recipientNm: '',
    messageId,
    content,
    type: 1,
    encoding: 'utf-8',
    createdAt: '',
    statusId: 1,
    senderId: '',
    senderNm: '',
    programId: '',
    ...extra,
  };
}

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A server time: ISO 8601 UTC with milliseconds, within a minute of now. */
export function assertServerTime(value, what = 'time') {
  assert.equal(typeof value, 'string', `${what} is a string`);
  assert.match(value, ISO_MS, `${what} has the format 2006-01-02T15:04:05.000Z`);
  const ms = Date.parse(value);
  assert.ok(Math.abs(ms - Date.now()) < 60_000, `${what} ${value} is the server's current time`);
}

export const TICKET_FIELDS = {
  ticketId: 'string',
  displayNm: 'string',
  ticketNm: 'string',
  statusId: 'number',
  createdAt: 'string',
  handleById: 'string',
  handleByNm: 'string',
  lastResponseAt: 'string',
  ownerId: 'string',
  ownerNm: 'string',
  programId: 'string',
  isExternal: 'boolean',
};

export const MESSAGE_FIELDS = {
  ticketId: 'string',
  recipientId: 'string',
  recipientNm: 'string',
  messageId: 'string',
  content: 'string',
  type: 'number',
  encoding: 'string',
  createdAt: 'string',
  statusId: 'number',
  senderId: 'string',
  senderNm: 'string',
  programId: 'string',
};

function assertShape(obj, fields, what) {
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${what} is an object: ${JSON.stringify(obj)}`);
  for (const [k, type] of Object.entries(fields)) {
    assert.ok(k in obj, `${what}.${k} is present (strings the server has no value for are "", never missing): ${JSON.stringify(obj)}`);
    assert.equal(typeof obj[k], type, `${what}.${k} is a ${type}, got ${JSON.stringify(obj[k])}`);
  }
}

function assertFields(obj, expected, what) {
  for (const [k, v] of Object.entries(expected)) {
    assert.deepStrictEqual(obj[k], v, `${what}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(obj[k])} in ${JSON.stringify(obj)}`);
  }
}

/** A Ticket object of the wire shape, with the expected field values. */
export function assertTicket(obj, expected = {}) {
  assertShape(obj, TICKET_FIELDS, 'ticket');
  assertServerTime(obj.createdAt, 'ticket.createdAt');
  if (obj.lastResponseAt !== '') assert.match(obj.lastResponseAt, ISO_MS, 'ticket.lastResponseAt format');
  assertFields(obj, expected, 'ticket');
}

/** A Message object of the wire shape, with the expected field values. */
export function assertMessage(obj, expected = {}) {
  assertShape(obj, MESSAGE_FIELDS, 'message');
  assertServerTime(obj.createdAt, 'message.createdAt');
  assertFields(obj, expected, 'message');
}

/** An error ack {code, message}. */
export function assertErr(err, code, what = '') {
  assert.ok(err && typeof err === 'object', `${what} expected an error ack {code:'${code}'}, got ${JSON.stringify(err)}`);
  assert.equal(err.code, code, `${what} error code: ${JSON.stringify(err)}`);
  assert.equal(typeof err.message, 'string', `${what} error has a message: ${JSON.stringify(err)}`);
}

/** A success ack: exactly null. */
export function assertOk(err, what = '') {
  assert.strictEqual(err, null, `${what} expected ack null, got ${JSON.stringify(err)}`);
}
