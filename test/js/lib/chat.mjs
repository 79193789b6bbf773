// The chat protocol (spec/chat.md) as a client drives it: the official
// socket.io-client at path /api/chatserver/socket.io, the handshake
// serverReady → clientReady → userOnline, and request/response helpers
// over the {headers, payload, errorDescription, resultCode} envelope.
import { strict as assert } from 'node:assert';

import { io } from 'socket.io-client';

import { currentServer, track, nextOf, sleep, connectRetries } from './server.mjs';
import { tokenFor } from './tokens.mjs';

export const CHAT_PATH = '/api/chatserver/socket.io';

const open = new Set();

/** Close every chat socket opened here. */
export function closeChatSockets() {
  for (const s of open) s.close();
  open.clear();
}

/** A connected chat socket that has received serverReady (resolves {socket, serverReady}). */
export async function connectChat(opts = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const socket = io(currentServer().url, {
      path: CHAT_PATH,
      transports: opts.transports ?? ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 5000,
      autoConnect: false,
    });
    track(socket);
    open.add(socket);
    socket.on('disconnect', (reason) => { socket.__disconnected = `${reason} at ${new Date().toISOString()}`; });
    try {
      const ready = nextOf(socket, ['serverReady'], 2500);
      socket.connect();
      const { args } = await ready;
      return { socket, serverReady: args[0] };
    } catch (err) {
      lastErr = err;
      connectRetries.push(`${new Date().toISOString()} chat connect: ${err.message.split('\n')[0]}`);
      socket.close();
      open.delete(socket);
    }
  }
  throw new Error(`could not connect to the chat server: ${lastErr?.message}`);
}

/** The body of a client event: {headers: {}, payload}. */
export const body = (payload) => ({ headers: {}, payload });

/**
 * Emit `event` with {headers, payload} and resolve the envelope of its
 * `response` event on this socket. The request also carries a Socket.IO
 * ack (the server answers it with the same envelope), which tells this
 * response from pushes of the same event name; the response event itself
 * must arrive too.
 */
export async function request(socket, event, payload, response, timeoutMs = 4000) {
  return requestRaw(socket, event, [body(payload)], response, timeoutMs);
}

/** request() with the raw event arguments (for malformed bodies). */
export async function requestRaw(socket, event, args, response, timeoutMs = 4000) {
  const acked = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${response} (ack) for ${event} within ${timeoutMs} ms on ${socket.connected ? 'a connected' : 'a disconnected'} socket`)), timeoutMs);
    socket.emit(event, ...args, (env) => { clearTimeout(t); resolve(env); });
  });
  const env = await acked;
  const same = JSON.stringify(env);
  await nextOf(socket, [response], timeoutMs, (a) => JSON.stringify(a[0]) === same);
  return env;
}

/** The next `name` push whose envelope satisfies match(envelope). */
export async function nextPush(socket, name, match = () => true, timeoutMs = 3000) {
  return (await nextOf(socket, [name], timeoutMs, (args) => match(args[0]))).args[0];
}

/** Assert no `name` push (matching) arrives within ms. */
export async function noPush(socket, name, ms = 400, match = () => true) {
  await sleep(ms);
  const hit = socket.__q.find((e) => e.event === name && match(e.args[0]));
  if (hit) assert.fail(`unexpected ${name}: ${JSON.stringify(hit.args).slice(0, 400)}`);
}

/** Assert an envelope is OK and return its payload. */
export function ok(env, what = '') {
  assert.ok(env && typeof env === 'object', `${what}: an envelope, got ${JSON.stringify(env)}`);
  assert.deepStrictEqual(env.headers, {}, `${what}: headers {}`);
  assert.equal(env.resultCode, 'OK', `${what}: resultCode OK, got ${JSON.stringify(env).slice(0, 400)}`);
  return env.payload;
}

/** Assert an envelope reports `code` with an errorDescription. */
export function failed(env, code, what = '') {
  assert.ok(env && typeof env === 'object', `${what}: an envelope, got ${JSON.stringify(env)}`);
  assert.equal(env.resultCode, code, `${what}: resultCode ${code}, got ${JSON.stringify(env).slice(0, 400)}`);
  assert.equal(typeof env.errorDescription, 'string', `${what}: errorDescription`);
  assert.ok(env.errorDescription.length > 0, `${what}: errorDescription says why`);
}

/**
 * A chat socket past the handshake for `who` (an account of the provider):
 * serverReady, clientReady {username, tokenId}, userOnline OK.
 */
export async function asChatUser(who, { token, clientId, payload } = {}) {
  const t = token ?? await tokenFor(who);
  for (let attempt = 0; ; attempt++) {
    const { socket, serverReady } = await connectChat();
    try {
      const env = await request(socket, 'clientReady', payload ?? { username: who, tokenId: t, ...(clientId ? { clientId } : {}) }, 'userOnline', 3000);
      const me = ok(env, `${who} clientReady`);
      socket.who = who;
      socket.me = me;
      socket.serverReady = serverReady;
      return socket;
    } catch (err) {
      if (!/no userOnline/.test(err.message) || attempt >= 2) throw err;
      connectRetries.push(`${new Date().toISOString()} clientReady unanswered`);
      socket.close();
      open.delete(socket);
    }
  }
}

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** MChatUserDetails. */
export function assertUser(u, expected = {}) {
  assert.ok(u && typeof u === 'object', `user details: ${JSON.stringify(u)}`);
  for (const [k, type] of Object.entries({ clientId: 'string', username: 'string', fullName: 'string', avatarURL: 'string', lastSeen: 'string', online: 'boolean', status: 'string', statusMsg: 'string' })) {
    assert.equal(typeof u[k], type, `user.${k} is a ${type}: ${JSON.stringify(u)}`);
  }
  if (u.lastSeen !== '') assert.match(u.lastSeen, ISO_MS);
  for (const [k, v] of Object.entries(expected)) assert.deepStrictEqual(u[k], v, `user.${k}: ${JSON.stringify(u)}`);
}

/** MChatMsgPayload (chatMsg, msgEdited, msgRemoved). */
export function assertMsg(m, expected = {}) {
  assert.ok(m && typeof m === 'object', `message: ${JSON.stringify(m)}`);
  for (const [k, type] of Object.entries({ clientId: 'string', chatSessionId: 'string', msgId: 'string', content: 'string', msgType: 'string', sender: 'string', read: 'boolean', read_ts: 'string', sent_ts: 'string' })) {
    assert.equal(typeof m[k], type, `message.${k} is a ${type}: ${JSON.stringify(m)}`);
  }
  assert.match(m.sent_ts, ISO_MS);
  assert.ok(Array.isArray(m.receivers) && Array.isArray(m.metadata), `receivers and metadata are lists: ${JSON.stringify(m)}`);
  for (const [k, v] of Object.entries(expected)) assert.deepStrictEqual(m[k], v, `message.${k}: ${JSON.stringify(m)}`);
}

/** MChatSessionBasicDetails (and the basic part of MChatSessionDetails). */
export function assertSession(s, expected = {}) {
  assert.ok(s && typeof s === 'object', `session: ${JSON.stringify(s)}`);
  for (const [k, type] of Object.entries({ chatSessionId: 'string', title: 'string', desc: 'string', sessionType: 'string', creator: 'string', created_ts: 'string', lastUpdated_ts: 'string' })) {
    assert.equal(typeof s[k], type, `session.${k} is a ${type}: ${JSON.stringify(s)}`);
  }
  assert.match(s.created_ts, ISO_MS);
  assert.match(s.lastUpdated_ts, ISO_MS);
  assert.ok(Array.isArray(s.members), 'members is a list');
  s.members.forEach((m) => assertUser(m));
  for (const [k, v] of Object.entries(expected)) assert.deepStrictEqual(s[k], v, `session.${k}: ${JSON.stringify(s).slice(0, 600)}`);
}

/** The usernames of a session's members, sorted. */
export const memberNames = (s) => s.members.map((m) => m.username).sort();

/** Create a chat as `socket`; resolves the chatCreated payload. */
export async function createChat(socket, members, extra = {}) {
  const env = await request(socket, 'createChat', { members, ...extra }, 'chatCreated');
  return ok(env, 'createChat');
}

/** Send a message as `socket`; resolves the chatMsg payload. */
export async function sendMsg(socket, chatSessionId, msg, extra = {}) {
  return ok(await request(socket, 'sendMsg', { chatSessionId, msg, ...extra }, 'chatMsg'), 'sendMsg');
}
