// Switchboard nodes for the scale-out benchmarks: N processes of one
// binary on one PostgreSQL database (created for the run, dropped after),
// with SWITCHBOARD_REDIS_URL pointing at a redis-server of the run's own
// (so that its CPU is the benchmark's alone), each node on its own port.
// A node can be killed (SIGKILL) and started again on the same port.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { sleep } from '../loadgen/common.mjs';

export const PG = { host: '127.0.0.1', port: '5432', user: 'postgres' };

export function psql(sql, db = 'postgres') {
  return execFileSync('psql', ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-Atc', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tail(file, n = 30) {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

async function waitFor(what, check, child, logFile, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try { if (await check()) return; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${what} not ready; log:\n${tail(logFile)}`);
}

/**
 * A redis-server of the run's own on port, no persistence. Resolves
 * {url, pid, stop()}.
 */
export async function startRedis(port, dir) {
  const logFile = path.join(dir, `redis-${port}.log`);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--logfile', logFile], { stdio: 'ignore' });
  const ping = () => execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG';
  await waitFor(`redis-server on ${port}`, ping, child, logFile);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    pid: child.pid,
    async stop() { child.kill('SIGTERM'); await exited(child); },
  };
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/**
 * A cluster of n Switchboard nodes on ports basePort, basePort+1, … sharing
 * one PostgreSQL database; redisUrl (or null: every node on its own, the
 * single-node figures) turns the cross-node fan-out on. env adds settings.
 * Resolves {nodes: [{i, url, pid}], db, kill(i), restart(i), stop()}.
 */
export async function startCluster({ binary, n, basePort, issuer, redisUrl, dir, env = {}, name }) {
  const db = `switchboard_scale_${name}_${process.pid}`.replace(/[^a-z0-9_]/g, '_');
  psql(`DROP DATABASE IF EXISTS ${db}`);
  psql(`CREATE DATABASE ${db}`);
  const nodes = [];
  const start = async (i) => {
    const port = basePort + i;
    const logFile = path.join(dir, `${name}-node${i}.log`);
    const out = fs.openSync(logFile, 'a');
    const child = spawn(binary, [], {
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        SWITCHBOARD_ADDR: `127.0.0.1:${port}`,
        SWITCHBOARD_DATABASE: `postgres://${PG.user}@${PG.host}:${PG.port}/${db}?sslmode=disable`,
        SWITCHBOARD_OIDC_ISSUER: issuer,
        SWITCHBOARD_OIDC_AUDIENCE: 'switchboard',
        SWITCHBOARD_LOG_LEVEL: 'warn',
        SWITCHBOARD_DATA_DIR: path.join(dir, 'data'),
        // Thousands of sockets from a few addresses, messages as fast as
        // the generator sends them: limits that never refuse.
        SWITCHBOARD_MAX_CONNS_PER_IP: '-1',
        SWITCHBOARD_RATE_MESSAGES: '1000',
        SWITCHBOARD_RATE_MESSAGES_BURST: '1000',
        SWITCHBOARD_RATE_EVENTS: '2000',
        SWITCHBOARD_RATE_EVENTS_BURST: '2000',
        ...(redisUrl ? { SWITCHBOARD_REDIS_URL: redisUrl } : {}),
        ...env,
      },
    });
    fs.closeSync(out);
    const url = `http://127.0.0.1:${port}`;
    nodes[i] = { i, url, pid: child.pid, child, logFile };
    await waitFor(`node ${i} at ${url}`, async () => {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    }, child, logFile);
    return nodes[i];
  };
  // The first node migrates the database alone; the others start beside it.
  await start(0);
  await Promise.all(Array.from({ length: n - 1 }, (_, k) => start(k + 1)));
  return {
    nodes,
    db,
    /** SIGKILL node i; resolves when it is gone. */
    async kill(i) { nodes[i].child.kill('SIGKILL'); await exited(nodes[i].child); },
    /** Start node i again (same port); resolves when /readyz answers. */
    restart: start,
    async stop() {
      for (const nd of nodes) nd.child.kill('SIGTERM');
      await Promise.all(nodes.map((nd) => Promise.race([exited(nd.child), sleep(10_000)])));
      for (const nd of nodes) if (nd.child.exitCode === null && nd.child.signalCode === null) nd.child.kill('SIGKILL');
      await Promise.all(nodes.map((nd) => exited(nd.child)));
      try { psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); } catch (err) { console.error(`drop ${db}: ${err.message}`); }
    },
  };
}

/** VmRSS and VmHWM (peak) of a process, KiB. */
export function memKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/**
 * nginx in front of the nodes with the deployment's configuration
 * (deploy/nginx.conf, as scripts/cluster.sh runs it: its two included
 * files written beside it), listening on port. Resolves {url, pid, stop()}.
 */
export async function startNginx({ repo, port, nodes, dir }) {
  const root = path.join(dir, `nginx-${port}`);
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'deploy/nginx.conf'), path.join(root, 'nginx.conf'));
  fs.writeFileSync(path.join(root, 'switchboard-listen.conf'), `listen 127.0.0.1:${port};\n`);
  const servers = nodes.map((nd) => `\tserver ${new URL(nd.url).host} max_fails=1 fail_timeout=5s;\n`).join('');
  fs.writeFileSync(path.join(root, 'switchboard-upstreams.conf'),
    `upstream switchboard_ws {\n\tleast_conn;\n${servers}\tkeepalive 64;\n}\nupstream switchboard_polling {\n\tip_hash;\n${servers}\tkeepalive 64;\n}\n`);
  const logFile = path.join(root, 'nginx.log');
  const out = fs.openSync(logFile, 'a');
  const bin = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const child = spawn(bin, ['-p', root, '-c', 'nginx.conf', '-g', 'daemon off; user root;'], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`nginx at ${url}`, async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok, child, logFile);
  return { url, pid: child.pid, async stop() { child.kill('SIGTERM'); await exited(child); } };
}

/** Established TCP connections to a local port (nginx's to a node: one per websocket it carries). */
export function establishedTo(port) {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).length;
}
