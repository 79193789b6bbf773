// The Switchboard server under test: built once from the repository with
// `go build`, run as a child process on 127.0.0.1 with an SQLite file in a
// temporary directory, verified against the OpenID provider of lib/provider.mjs.
// Also the client-side helpers every test uses (Socket.IO and REST).
import { spawn, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { io } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../..');

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let built = null;
/**
 * Build ./cmd/switchboard once per process. SWITCHBOARD_BIN=<path> skips the
 * build and uses that binary.
 */
export async function buildServer() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  if (!built) {
    built = (async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bin-'));
      const bin = path.join(dir, 'switchboard');
      process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      try {
        await promisify(execFile)('go', ['build', '-o', bin, './cmd/switchboard'], {
          cwd: REPO_ROOT, maxBuffer: 16 << 20, timeout: 600_000,
        });
      } catch (err) {
        throw new Error(`go build ./cmd/switchboard failed:\n${err.stderr || err.message}`);
      }
      return bin;
    })();
  }
  return built;
}

async function waitReady(url, child, logFile, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before ready; log:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`server not ready within ${timeoutMs} ms (${last}); log:\n${tail(logFile)}`);
}

function tail(file, n = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Start the server. Returns an object with url, port, dbPath, logFile,
 * stop(), restart() (same port, same database), exitCode.
 * @param {{issuer: string, env?: Record<string,string>}} opts
 */
export async function startServer({ issuer, env = {} }) {
  const bin = await buildServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-run-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dbPath = path.join(dir, 'switchboard.db');
  const logFile = path.join(dir, 'server.log');
  const childEnv = {
    ...process.env,
    SWITCHBOARD_ADDR: `127.0.0.1:${port}`,
    SWITCHBOARD_DATABASE: dbPath,
    SWITCHBOARD_OIDC_ISSUER: issuer,
    SWITCHBOARD_OIDC_AUDIENCE: 'switchboard',
    SWITCHBOARD_OIDC_LEEWAY: '1s',
    SWITCHBOARD_AUTH_GRACE: '2s',
    SWITCHBOARD_LOG_LEVEL: process.env.SB_LOG_LEVEL || 'info',
    // Every test client connects from 127.0.0.1; the suites open more
    // sockets over a run than one address may hold by default, and some
    // burst hundreds of messages (the limits are tested in Go: app's
    // limits_test.go, cmd/switchboard's TestFlood).
    SWITCHBOARD_MAX_CONNS_PER_IP: '-1',
    SWITCHBOARD_RATE_MESSAGES: '-1',
    SWITCHBOARD_RATE_EVENTS: '-1',
    ...env,
  };

  const server = {
    url, port, dbPath, logFile, dir, child: null, exitCode: undefined, exitSignal: undefined,
    async start() {
      const out = fs.openSync(logFile, 'a');
      const child = spawn(bin, [], { cwd: dir, env: childEnv, stdio: ['ignore', out, out] });
      fs.closeSync(out);
      server.child = child;
      child.on('error', (err) => fs.appendFileSync(logFile, `spawn ${bin}: ${err.message}\n`));
      server.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
        server.exitCode = code;
        server.exitSignal = signal;
        resolve({ code, signal });
      }));
      await waitReady(url, child, logFile);
    },
    /** SIGTERM and wait (SIGKILL after timeoutMs). Resolves {code, signal, killed}. */
    async stop(timeoutMs = 10_000) {
      const child = server.child;
      if (!child) return { code: null, signal: null, killed: false };
      server.child = null;
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode, killed: false };
      child.kill('SIGTERM');
      let killed = false;
      const t = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, timeoutMs);
      const r = await server.exited;
      clearTimeout(t);
      return { ...r, killed };
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    log() { return tail(logFile, 200); },
  };
  await server.start();
  current = server;
  return server;
}

let current = null;
/** The server started last in this process. */
export function currentServer() {
  if (!current) throw new Error('server not started');
  return current;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- sockets

const openSockets = new Set();

/**
 * Record every incoming event of `socket` in a queue, so a test can wait for
 * an event that arrived before it started waiting (nextEvent/noEvent).
 */
export function track(socket) {
  if (socket.__q) return socket;
  socket.__q = [];
  socket.__waiters = [];
  socket.__all = [];
  socket.onAny((event, ...args) => {
    socket.__all.push({ event, args, at: Date.now() });
    const i = socket.__waiters.findIndex((w) => w.names.includes(event) && w.match(args, event));
    if (i >= 0) {
      const [w] = socket.__waiters.splice(i, 1);
      w.resolve({ event, args });
      return;
    }
    socket.__q.push({ event, args });
  });
  return socket;
}

function makeSocket(token, opts = {}) {
  const { transports = ['websocket'], auth, url = currentServer().url } = opts;
  const socket = io(url, {
    path: '/socket.io/',
    transports,
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    autoConnect: false,
    auth: auth ?? (token ? { accessToken: token } : undefined),
  });
  track(socket);
  openSockets.add(socket);
  socket.on('disconnect', (reason) => { socket.__disconnected = `${reason} at ${new Date().toISOString()}`; });
  return socket;
}

/**
 * A connected socket.io-client socket (websocket transport). With a token it
 * authenticates at connect via handshake `auth: {accessToken}`; pass
 * opts.auth to send another handshake auth object (e.g. {token}).
 * Connecting is retried: a CONNECT lost by the server (a known rare race of
 * the Go Socket.IO library) must not make a test flaky.
 */
export async function connect(token, opts = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const socket = makeSocket(token, opts);
    try {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('connect timeout')), opts.connectTimeout ?? 4000);
        socket.once('connect', () => { clearTimeout(t); resolve(); });
        socket.once('connect_error', (err) => { clearTimeout(t); reject(err); });
        socket.connect();
      });
      // The Go server sometimes closes a fresh connection within a few ms of
      // CONNECT (lib/stress-connect.mjs reproduces it); a client with
      // reconnection would just connect again, so do that, and count it.
      await sleep(15);
      if (!socket.connected) {
        connectRetries.push(`${new Date().toISOString()} dropped right after connect: ${socket.__disconnected}`);
        throw new Error(`dropped right after connect: ${socket.__disconnected}`);
      }
      return socket;
    } catch (err) {
      lastErr = err;
      socket.close();
      openSockets.delete(socket);
    }
  }
  throw new Error(`could not connect: ${lastErr?.message}`);
}

/** connect() over HTTP long-polling only. */
export function connectPolling(token, opts = {}) {
  return connect(token, { ...opts, transports: ['polling'] });
}

/** Close every socket opened through connect(). */
export function closeAll() {
  for (const s of openSockets) s.close();
  openSockets.clear();
}

/** Wait for the next of several events; resolves {event, args}. */
export function nextOf(socket, names, timeoutMs = 3000, match = () => true) {
  track(socket);
  const i = socket.__q.findIndex((e) => names.includes(e.event) && match(e.args, e.event));
  if (i >= 0) return Promise.resolve(socket.__q.splice(i, 1)[0]);
  return new Promise((resolve, reject) => {
    const w = {
      names,
      match,
      resolve: (v) => { clearTimeout(w.timer); resolve(v); },
    };
    w.timer = setTimeout(() => {
      socket.__waiters.splice(socket.__waiters.indexOf(w), 1);
      const seen = socket.__all.slice(-8).map((e) => `${e.event}${JSON.stringify(e.args).slice(0, 200)}`).join('\n  ');
      const state = socket.connected ? `socket ${socket.id}` : `disconnected socket (${socket.__disconnected ?? 'never connected'})`;
      reject(new Error(`no ${names.join('|')} event (matching) within ${timeoutMs} ms on ${state}; last events seen:\n  ${seen || '(none)'}`));
    }, timeoutMs);
    socket.__waiters.push(w);
  });
}

/**
 * The args array of the next `name` event (that satisfies match(args)),
 * including one that already arrived and was not consumed yet.
 */
export async function nextEvent(socket, name, timeoutMs = 3000, match = () => true) {
  return (await nextOf(socket, [name], timeoutMs, match)).args;
}

/** Assert that no `name` event (satisfying match) arrives within ms. */
export async function noEvent(socket, name, ms = 500, match = () => true) {
  track(socket);
  await sleep(ms);
  const hit = socket.__q.find((e) => e.event === name && match(e.args));
  if (hit) {
    const err = new Error(`unexpected '${name}' event: ${JSON.stringify(hit.args).slice(0, 500)}`);
    err.code = 'ERR_ASSERTION';
    throw err;
  }
}

/** Drop every queued (unconsumed) event of a socket. */
export function flush(socket) {
  track(socket);
  socket.__q.length = 0;
}

/** A matcher: the event is about ticketId (first arg is it, or an object carrying it). */
export const aboutTicket = (ticketId) => (args) => args[0] === ticketId || args[0]?.ticketId === ticketId;
/** A matcher: the first arg is an object whose messageId, or the first arg itself, is messageId. */
export const aboutMessage = (messageId) => (args) => args[0] === messageId || args[0]?.messageId === messageId;

/**
 * socket.emit(event, ...args, ack) as the source document writes it.
 * Resolves with the ack's first argument (null on success, {code, message}
 * on error). Rejects if no ack arrives within timeoutMs.
 */
export function emitAck(socket, event, ...args) {
  return emitAckAll(socket, event, ...args).then((a) => a[0]);
}

/** Like emitAck but resolves with every argument of the ack. */
export function emitAckAll(socket, event, ...args) {
  const timeoutMs = 5000;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      const state = socket.connected ? `socket ${socket.id} still connected` : `socket disconnected: ${socket.__disconnected ?? 'never connected'}`;
      reject(new Error(`no ack for '${event}' within ${timeoutMs} ms (${state})`));
    }, timeoutMs);
    socket.emit(event, ...args, function ack(...ackArgs) {
      clearTimeout(t);
      resolve(ackArgs);
    });
  });
}

/**
 * socket.emit('authenticate', {accessToken}). Resolves with the principal of
 * `authenticated`, rejects with an Error carrying the `unauthenticated`
 * payload's code and message (and .payload).
 */
export async function authenticate(socket, token, timeoutMs = 5000) {
  socket.emit('authenticate', { accessToken: token });
  return authResult(socket, timeoutMs);
}

/**
 * connect() + authenticate(). If the server drops the fresh connection, or
 * never answers authenticate on it (rare races of the Go Socket.IO library,
 * see shared/notes/socketio-go.md and lib/stress-connect.mjs), connect
 * again, as a real client with reconnection would; every such retry is
 * listed in connectRetries and printed after the file's tests.
 */
export async function connectAuthenticated(token, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const socket = await connect(undefined, opts);
    try {
      const principal = await authenticate(socket, token, 3000);
      return { socket, principal };
    } catch (err) {
      // err.payload: the server answered (unauthenticated) — a real result.
      if (err.payload || attempt >= 2) throw err;
      connectRetries.push(`${new Date().toISOString()} authenticate unanswered (${socket.connected ? 'socket still connected' : socket.__disconnected})`);
      socket.close();
      openSockets.delete(socket);
    }
  }
}
/** Connections the server dropped before answering authenticate (see connectAuthenticated). */
export const connectRetries = [];

/** The next authenticated/unauthenticated event, as authenticate() reports it. */
export async function authResult(socket, timeoutMs = 5000) {
  const { event, args } = await nextOf(socket, ['authenticated', 'unauthenticated'], timeoutMs);
  if (event === 'authenticated') return args[0];
  const payload = args[0];
  const err = new Error(`unauthenticated: ${JSON.stringify(payload)}`);
  Object.assign(err, payload, { payload, args });
  throw err;
}

// ---------------------------------------------------------------- REST

/** GET a path of the REST API; resolves {status, body} (body parsed as JSON when it is JSON). */
export async function apiGet(pathAndQuery, token) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${currentServer().url}${pathAndQuery}`, { headers });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, headers: res.headers };
}

/** The array of a list response: a bare array, or the one array property of an object. */
export function listOf(body, key) {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    if (Array.isArray(body[key])) return body[key];
    const arrays = Object.values(body).filter(Array.isArray);
    if (arrays.length === 1) return arrays[0];
  }
  throw new Error(`not a list response: ${JSON.stringify(body).slice(0, 300)}`);
}

/**
 * Every page of a REST list from pathAndQuery on, following Link
 * rel="next": the first page's {status, body, headers} with the whole
 * list as r[key] (a failing later page fails it all).
 */
async function allPages(pathAndQuery, token, key) {
  const first = await apiGet(pathAndQuery, token);
  if (first.status !== 200) return first;
  first[key] = listOf(first.body, key);
  let r = first;
  for (;;) {
    const next = /<([^>]*)>\s*;\s*rel="?next"?/.exec(r.headers.get('link') || '')?.[1];
    if (!next) return first;
    r = await apiGet(next, token);
    if (r.status !== 200) return r;
    first[key].push(...listOf(r.body, key));
  }
}

/** GET /api/v1/tickets[?status=], every page → {status, body, tickets}. */
export async function getTickets(token, status) {
  const q = status === undefined ? '' : `?status=${encodeURIComponent(status)}`;
  return allPages(`/api/v1/tickets${q}`, token, 'tickets');
}

/** GET /api/v1/tickets/{id}/messages[?since=], every page → {status, body, messages}. */
export async function getMessages(token, ticketId, since) {
  const q = since === undefined ? '' : `?since=${encodeURIComponent(since)}`;
  return allPages(`/api/v1/tickets/${encodeURIComponent(ticketId)}/messages${q}`, token, 'messages');
}
