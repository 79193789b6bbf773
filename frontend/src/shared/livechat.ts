// The livechat Socket.IO connection (spec/livechat.md) with the official
// socket.io-client: the access token goes in the handshake (and again with
// `authenticate` after a refresh); commands are emitted only while the
// socket is authenticated and their acks become promises.
import { io, type Socket } from 'socket.io-client';

import { watchReactions } from './reactions';
import type { LivechatError, Principal } from './types';

export type Connection = 'connecting' | 'online' | 'offline';

export interface LivechatHooks {
  /** After every successful authentication: the first and each reconnect. */
  ready(me: Principal, first: boolean): void;
  state(s: Connection): void;
  /** The server refused or expired the token. */
  unauthenticated(err: LivechatError): void;
}

const ACK_TIMEOUT_MS = 10_000;

export function isLivechatError(e: unknown): e is LivechatError {
  return typeof e === 'object' && e !== null && typeof (e as LivechatError).code === 'string';
}

export const offline: LivechatError = { code: 'OFFLINE', message: 'Not connected; it will be sent when the connection is back.' };

export class Livechat {
  readonly socket: Socket;
  private authenticated = false;
  private everReady = false;

  constructor(
    token: () => string | null,
    hooks: LivechatHooks,
  ) {
    this.socket = io({
      path: '/socket.io/',
      transports: ['websocket', 'polling'],
      // Called on every (re)connect, so a reconnect uses the current token.
      auth: (cb) => cb({ accessToken: token() ?? '' }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 8000,
    });
    const s = this.socket;
    watchReactions(this);
    hooks.state('connecting');
    s.on('connect', () => hooks.state('connecting'));
    s.on('authenticated', (me: Principal) => {
      this.authenticated = true;
      hooks.state('online');
      const first = !this.everReady;
      this.everReady = true;
      hooks.ready(me, first);
    });
    s.on('unauthenticated', (err: LivechatError) => {
      this.authenticated = false;
      hooks.unauthenticated(err);
    });
    s.on('disconnect', (reason) => {
      this.authenticated = false;
      hooks.state('offline');
      // The server let go of us (e.g. no token in time): try again while
      // there is a token; the client reconnects by itself after any other cause.
      if (reason === 'io server disconnect') setTimeout(() => token() && s.connect(), 1000);
    });
    s.on('connect_error', () => hooks.state('offline'));
  }

  get ready(): boolean {
    return this.authenticated && this.socket.connected;
  }

  /** Emits a command and resolves on ack null; rejects with the ack's error. */
  call(event: string, ...args: unknown[]): Promise<void> {
    if (!this.ready) return Promise.reject(offline);
    return new Promise((resolve, reject) => {
      this.socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (timeout: Error | null, err: LivechatError | null) => {
        if (timeout) reject({ code: 'TIMEOUT', message: 'The server did not answer in time.' } satisfies LivechatError);
        else if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Emits an event nobody waits for (typing); dropped while offline. */
  notify(event: string, ...args: unknown[]): void {
    if (this.ready) this.socket.emit(event, ...args);
  }

  /** Sends a fresh token on the live socket (after a refresh). */
  reauthenticate(accessToken: string): void {
    if (this.socket.connected) this.socket.emit('authenticate', { accessToken });
  }

  close(): void {
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
