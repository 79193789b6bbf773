// Starts the OpenID provider (lib/provider-server.mjs) as its own child
// process and waits for its `ready <issuer>` line.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));

let current = null;

/** The running provider ({issuer, stop}) or null. */
export function currentProvider() { return current; }

/**
 * Start the provider. Resolves with {issuer, stop}. One per test file.
 * @param {{port?: number, shortTtl?: number, env?: object}} [opts] env: extra
 *   environment (the PROVIDER_* settings of provider-server.mjs)
 */
export async function startProvider(opts = {}) {
  if (current) return current;
  const child = spawn(process.execPath, [path.join(here, 'provider-server.mjs'), String(opts.port ?? 0)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SHORT_TTL: String(opts.shortTtl ?? 3), NODE_ENV: 'test', ...opts.env },
  });
  const stderr = [];
  child.stderr.on('data', (d) => {
    stderr.push(d);
    if (process.env.SB_DEBUG) process.stderr.write(`[provider] ${d}`);
  });
  const issuer = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`provider did not start: ${Buffer.concat(stderr)}`)), 15000);
    rl.on('line', (line) => {
      const m = /^ready (\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`provider exited (${code}): ${Buffer.concat(stderr)}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
    if (current?.child === child) current = null;
  };
  // The stdin pipe stays open so the provider exits with this process.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) s.unref?.();
  current = { issuer, stop, child };
  return current;
}
