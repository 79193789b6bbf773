// Connecting and reconnecting as a socket.io-client application does, for
// the generators that outlive a node: one authenticated websocket socket
// from a chosen local address, and the library's reconnection delays.
import { io } from 'socket.io-client';

/**
 * One websocket socket to url from localAddress (a loopback alias: more
 * source ports than one address has), token in the handshake. Resolves the
 * socket when `authenticated` arrives (its listeners removed); rejects with
 * the reason (connect_error, unauthenticated, disconnect, timeout).
 */
export function connect(url, token, localAddress, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      path: '/socket.io/', transports: ['websocket'], forceNew: true, reconnection: false,
      timeout: timeoutMs, auth: { accessToken: token }, localAddress,
    });
    const fail = (why) => { clearTimeout(t); socket.removeAllListeners(); socket.close(); reject(new Error(why)); };
    const t = setTimeout(() => fail('timeout'), timeoutMs);
    socket.once('authenticated', () => {
      clearTimeout(t);
      socket.removeAllListeners();
      resolve(socket);
    });
    socket.once('unauthenticated', (e) => fail(`unauthenticated ${e?.code}`));
    socket.once('connect_error', (e) => fail(`connect_error ${e?.message}`));
    socket.once('disconnect', (r) => fail(`disconnect before authenticated: ${r}`));
  });
}

/**
 * socket.io-client's reconnection delay before attempt k (0-based): 1 s
 * doubling up to 5 s, ±50% jitter (its reconnectionDelay,
 * reconnectionDelayMax and randomizationFactor defaults).
 */
export const reconnectDelay = (k, random = Math.random()) => Math.min(1000 * 2 ** k, 5000) * (0.5 + random);

/**
 * The node a dropped socket tries next: any other of the n at random (a
 * load balancer spreading a dead node's clients over the rest), or the
 * same one when there is only one.
 */
export const nextNode = (home, n, random = Math.random()) => (n === 1 ? home : (home + 1 + Math.floor(random * (n - 1))) % n);
