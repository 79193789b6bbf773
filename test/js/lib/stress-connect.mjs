// Reproduces fresh connections that the server closes right after CONNECT.
//   node lib/stress-connect.mjs [rounds=20] [perRound=30] [transport=websocket] [delayMs=0]
// Each round (re)starts the server, then opens perRound websocket
// connections one after another and emits one event with an ack on each
// right after `connect`. Prints every connection that was closed before the
// ack came back, and the total. Expect 0.
import { io } from 'socket.io-client';

import { startProvider } from './provider.mjs';
import { startServer } from './server.mjs';

const rounds = Number(process.argv[2] || 20);
const per = Number(process.argv[3] || 30);
const transport = process.argv[4] || 'websocket';
const delayMs = Number(process.argv[5] || 0);
const prov = await startProvider();
const srv = await startServer({ issuer: prov.issuer });
let fails = 0;
let total = 0;
for (let r = 0; r < rounds; r++) {
  if (r) await srv.restart();
  for (let i = 0; i < per; i++) {
    total++;
    const s = io(srv.url, { transports: [transport], forceNew: true, reconnection: false });
    const outcome = await new Promise((resolve) => {
      let t0;
      const timer = setTimeout(() => resolve('no ack within 5 s, still connected'), 5000);
      s.on('connect', () => {
        t0 = Date.now();
        setTimeout(() => s.emit('subscribe', { userId: 'x' }, () => { clearTimeout(timer); resolve(null); }), delayMs);
      });
      s.on('connect_error', (e) => { clearTimeout(timer); resolve(`connect_error ${e.message}`); });
      s.on('disconnect', (reason) => { clearTimeout(timer); resolve(`${reason} ${Date.now() - t0} ms after connect, before the ack`); });
    });
    s.close();
    if (outcome) {
      fails++;
      console.log(`round ${r} connection ${i}: ${outcome}`);
    }
  }
}
console.log(`${transport}, first event ${delayMs} ms after connect: ${fails} of ${total} connections lost it`);
await srv.stop();
await prov.stop();
(await import('node:fs')).rmSync(srv.dir, { recursive: true, force: true });
process.exit(fails ? 1 : 0);
