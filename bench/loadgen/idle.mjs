// Connect + authenticate rate and server RSS per idle authenticated
// connection.
//
//   node loadgen/idle.mjs --url http://127.0.0.1:PORT --pid SERVER_PID --tokens FILE
//        [--n 5000] [--concurrency 100] [--settle 3000]
//
// Warms the server up (a few connections, closed), reads its VmRSS and CPU,
// opens n websocket connections (token in the handshake; half users, half
// operators, each its own identity), at most `concurrency` in flight, each
// counted when `authenticated` arrives. Rate = successes / wall time of that
// pass. Failures are retried afterwards (untimed) so the RSS reading is for
// n sockets. After `settle` ms idle: VmRSS again; (after - before) / n.
import {
  parseArgs, loadTokens, connectAll, cpuMs, rssKiB, sleep, result, coreTimes, coreLoad,
} from './common.mjs';

const a = parseArgs();
const n = a.n ?? 5000;
const all = loadTokens(a.tokens);
const tokens = [];
for (let i = 1; tokens.length < n; i++) {
  tokens.push(all[`user-${i}`]);
  if (tokens.length < n) tokens.push(all[`operator-${i}`]);
}
if (tokens.some((t) => !t)) throw new Error(`the token file has fewer than ${n} identities`);

const warm = await connectAll(a.url, tokens.slice(0, 20), { concurrency: 10 });
for (const s of warm.sockets) s?.close();
await sleep(1500);

const rss0 = rssKiB(a.pid);
const cpu0 = cpuMs(a.pid);
const gen0 = process.cpuUsage();
const cores0 = coreTimes();
const pass = await connectAll(a.url, tokens, { concurrency: a.concurrency ?? 100 });
const cpu1 = cpuMs(a.pid);
const gen1 = process.cpuUsage(gen0);
const cores1 = coreTimes();
const ok = pass.sockets.filter(Boolean).length;
const reasons = {};
for (const f of pass.failures) reasons[f.reason] = (reasons[f.reason] ?? 0) + 1;

// Retry the failures (untimed) so that n sockets are open for the RSS reading.
let retried = 0;
for (const f of pass.failures) {
  const r = await connectAll(a.url, [tokens[f.i]], { concurrency: 1 });
  if (r.sockets[0]) { pass.sockets[f.i] = r.sockets[0]; retried++; }
}
await sleep(a.settle ?? 3000);
const open = pass.sockets.filter((s) => s && s.connected).length;
const rss1 = rssKiB(a.pid);

for (const s of pass.sockets) s?.close();
await sleep(1500);

result({
  n,
  connected: ok,
  failures: pass.failures.length,
  failureReasons: reasons,
  retried,
  openAtRss: open,
  connectMs: pass.ms,
  connectPerSec: ok / (pass.ms / 1000),
  serverCpuMsPer1kConnects: ((cpu1 - cpu0) / ok) * 1000,
  serverCpuPct: ((cpu1 - cpu0) / pass.ms) * 100,
  generatorCpuPct: ((gen1.user + gen1.system) / 1000 / pass.ms) * 100,
  generatorCpuMsPer1kConnects: ((gen1.user + gen1.system) / 1000 / ok) * 1000,
  serverCore: coreLoad(cores0, cores1, a['server-core'] ?? 0, cpu1 - cpu0),
  rssBeforeKiB: rss0,
  rssAfterKiB: rss1,
  rssPerConnKiB: (rss1 - rss0) / open,
});
process.exit(0);
