// The world the end-to-end tests run in: the real server binary (built once
// with `go build`) on a free port with a fresh SQLite database and data
// directory and its embedded development issuer; Debian's Chromium driven
// by playwright-core; a host page on another origin that embeds the widget
// with the documented <script> tag; and a TCP proxy that can cut a
// browser's connection to the server and restore it.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../..');
export const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value. */
export async function eventually(fn, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(100);
  }
}

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

const cleanups = [];
/** Runs at the end of the test file (see `after` in the tests). */
export async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (err) {
      console.error('cleanup:', err);
    }
  }
}

/** go build ./cmd/switchboard into a temporary directory (SWITCHBOARD_BIN skips it). */
export async function buildServer() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-bin-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'switchboard');
  try {
    await promisify(execFile)('go', ['build', '-o', bin, './cmd/switchboard'], {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
      timeout: 600_000,
    });
  } catch (err) {
    throw new Error(`go build ./cmd/switchboard failed:\n${err.stderr || err.message}`);
  }
  return bin;
}

function tail(file, n = 60) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the server with the development issuer (no SWITCHBOARD_OIDC_ISSUER)
 * on 127.0.0.1:<free port>, database and data directory in a fresh
 * temporary directory, with the settings in extraEnv besides. Returns
 * {url, port, logFile, log(), stop()}.
 */
export async function startServer(extraEnv = {}) {
  const bin = await buildServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-run-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'server.log');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SWITCHBOARD_')) delete env[k];
  Object.assign(env, {
    SWITCHBOARD_ADDR: `127.0.0.1:${port}`,
    SWITCHBOARD_DATABASE: path.join(dir, 'switchboard.db'),
    SWITCHBOARD_DATA_DIR: path.join(dir, 'data'),
    SWITCHBOARD_LOG_LEVEL: process.env.SB_LOG_LEVEL || 'info',
    ...extraEnv,
  });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const server = {
    url,
    port,
    logFile,
    log: () => tail(logFile),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      if (process.env.KEEP_E2E_DIR) console.log('server dir kept:', dir);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  cleanups.push(() => server.stop());
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before ready:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`server not ready in 30 s:\n${tail(logFile)}`);
    await sleep(100);
  }
  return server;
}

/** Debian's Chromium, headless, through playwright-core (never a downloaded browser). */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/e2e.sh does)`);
  // playwright-core gives every launch a fresh temporary --user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push(() => browser.close());
  return browser;
}

/**
 * A page on another origin that embeds the widget exactly as the README
 * says: one <script> tag with data attributes. With hostName '127.0.0.1'
 * it is another port of the server's site (as www.example.com embedding
 * support.example.com); with 'localhost' another site altogether, where a
 * browser that blocks third-party storage (as Chromium's incognito-like
 * test contexts do) gives the widget frame no sessionStorage.
 */
export async function startHostSite(serverUrl, hostName = '127.0.0.1', tagAttributes = '') {
  const port = await freePort();
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; background: #f4f1ea; margin: 0">
<main style="max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>Example shop</h1><p>Lamps, chairs and printers that rarely catch fire.</p>
</main>
<script src="${serverUrl}/widget.js" data-title="Example shop support" data-accent="#1d6b48"${tagAttributes} async></script>
</body></html>`;
  const srv = http.createServer((req, res) => {
    if (req.url === '/' || req.url.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => srv.close(resolve)));
  return { url: `http://${hostName}:${port}/` };
}

/**
 * A TCP proxy to the server on another port. cut() drops every connection
 * through it and refuses new ones until restore().
 */
export async function startProxy(targetPort) {
  const port = await freePort();
  const conns = new Set();
  let blocked = false;
  const srv = net.createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    conns.add(pair);
    const drop = () => {
      conns.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  const proxy = {
    url: `http://127.0.0.1:${port}`,
    cut() {
      blocked = true;
      for (const { client, upstream } of conns) {
        client.destroy();
        upstream.destroy();
      }
      conns.clear();
    },
    restore() {
      blocked = false;
    },
  };
  cleanups.push(() => {
    proxy.cut();
    return new Promise((resolve) => srv.close(resolve));
  });
  return proxy;
}

/**
 * Records what must never happen on a page: uncaught errors and Content
 * Security Policy or Trusted Types violations.
 */
export function watchPage(page, problems, label) {
  page.on('pageerror', (err) => problems.push(`${label}: uncaught ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Trusted Type|TrustedHTML/i.test(text)) problems.push(`${label}: ${text}`);
  });
  return page;
}

/**
 * Signs in to the dashboard at base through the development issuer's
 * one-click page. Returns the page, showing the operator's name.
 */
export async function operatorPage(browser, base, account, problems) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = watchPage(await context.newPage(), problems, account);
  await page.goto(`${base}/dashboard/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oidc\/login\?/);
  await page.getByRole('button', { name: new RegExp(`${account}\\b`) }).click();
  await page.waitForURL(new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dashboard/`));
  await page.getByTestId('connection').and(page.locator('[data-state="online"]')).waitFor();
  return page;
}

/**
 * Opens the host site, opens the widget and signs in as account through
 * the sign-in pop-up. Returns {page, frame}.
 */
export async function userWidget(browser, hostUrl, account, problems) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, account);
  await page.goto(hostUrl);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();
  const popupPromise = context.waitForEvent('page');
  await frame.getByRole('button', { name: 'Sign in to chat' }).click();
  const popup = watchPage(await popupPromise, problems, `${account} sign-in`);
  const accountButton = popup.getByRole('button', { name: new RegExp(`${account}\\b`) });
  await accountButton.click();
  await signInPopupClosed(popup, accountButton, account);
  await frame.getByRole('button', { name: 'Start chat' }).waitFor();
  return { page, frame };
}

/**
 * Waits for the sign-in pop-up to close itself (the callback page does,
 * once it has handed the code to the widget). A pop-up still showing the
 * login page after 20 s did not take the click (seen once in CI, in a
 * fresh browser): it is clicked once more, and said so. A pop-up that stays
 * open fails with the page it stopped on.
 */
async function signInPopupClosed(popup, accountButton, account) {
  const closed = (ms) => popup.waitForEvent('close', { timeout: ms }).then(() => true, () => popup.isClosed());
  if (await closed(20_000)) return;
  if (/\/oidc\/login\?/.test(popup.url())) {
    console.error(`${account}: the sign-in pop-up is still on the login page after 20 s; clicking again`);
    await accountButton.click().catch(() => {});
  }
  if (await closed(40_000)) return;
  const text = await popup.locator('body').innerText().catch(() => '');
  throw new Error(`${account}: the sign-in pop-up did not close; it shows ${popup.url()}: ${text.slice(0, 300)}`);
}

export function artifact(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}
