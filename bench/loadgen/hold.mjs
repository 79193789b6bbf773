// A worker that holds a share of many authenticated sockets, forked by
// scale.mjs (one process has a limited number of file descriptors and one
// core: the connections are spread over several of these). Driven over
// the IPC channel:
//
//   {cmd: 'connect', urls, tokens, homes, addrs, concurrency, reconnect}
//       token i connects to urls[homes[i]] from the local address
//       addrs[i % addrs.length] (loopback aliases: more source ports than
//       one address has), token in the handshake, counted when
//       `authenticated` arrives; failures are retried (at most 3 times)
//       and reported. Answers {type: 'connected', ok, failures, reasons, ms}.
//   With reconnect, a socket the server drops reconnects as socket.io-
//   client would (delay 1 s doubling to 5 s, ±50% jitter), each attempt on
//   another URL of the list (what a load balancer does for it), until it
//   is authenticated again; progress is reported every 200 ms as
//   {type: 'progress', down, back: [{dropped, tried, back}…], attempts,
//   refused, failedWhy}.
//   {cmd: 'close'}: closes every socket, answers {type: 'closed'}.
import { sleep } from './common.mjs';
import { connect, nextNode, reconnectDelay } from './reconnect.mjs';

const sockets = [];
let down = 0; // sockets dropped by the server and not yet back
let attempts = 0; // reconnect attempts that failed (node gone, refused)
const refused = {}; // why: unauthenticated … (these are the real failures)
const failedWhy = {}; // why each failed attempt failed: connect_error, timeout, …
let back = []; // dropped sockets authenticated again since the last progress: {dropped, tried (the last attempt), back} epoch ms
let closing = false;

function watch(entry, urls, reconnect) {
  entry.socket.once('disconnect', async (reason) => {
    if (closing || !reconnect || reason === 'io client disconnect') return;
    down++;
    const t0 = Date.now();
    let t1;
    for (let k = 0; !closing; k++) {
      await sleep(reconnectDelay(k));
      entry.home = nextNode(entry.home, urls.length);
      t1 = Date.now();
      try {
        entry.socket = await connect(urls[entry.home], entry.token, entry.addr);
        break;
      } catch (err) {
        attempts++;
        failedWhy[err.message] = (failedWhy[err.message] ?? 0) + 1;
        if (err.message.startsWith('unauthenticated')) refused[err.message] = (refused[err.message] ?? 0) + 1;
      }
    }
    if (closing) return;
    down--;
    back.push({ dropped: t0, tried: t1, back: Date.now() });
    watch(entry, urls, reconnect);
  });
}

async function connectAll({ urls, tokens, homes, addrs, concurrency = 100, reconnect = false }) {
  const reasons = {};
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++;
      const entry = { token: tokens[i], home: homes[i], addr: addrs[i % addrs.length], socket: null };
      for (let attempt = 0; attempt < 4 && !entry.socket; attempt++) {
        try {
          entry.socket = await connect(urls[entry.home], entry.token, entry.addr);
        } catch (err) {
          failures++;
          reasons[err.message] = (reasons[err.message] ?? 0) + 1;
        }
      }
      if (entry.socket) { sockets.push(entry); watch(entry, urls, reconnect); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
  return { ok: sockets.length, failures, reasons, ms: performance.now() - t0 };
}

setInterval(() => {
  process.send({ type: 'progress', down, back, attempts, refused, failedWhy });
  back = [];
}, 200).unref();

process.on('message', async (m) => {
  if (m.cmd === 'connect') {
    process.send({ type: 'connected', ...(await connectAll(m)) });
  } else if (m.cmd === 'close') {
    closing = true;
    for (const e of sockets) e.socket?.close();
    process.send({ type: 'closed' });
    setTimeout(() => process.exit(0), 100);
  }
});
process.on('disconnect', () => process.exit(0));
