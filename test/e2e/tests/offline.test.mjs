// Offline hours in a real browser: the tenant's business hours have no
// interval today, so the widget says the team is offline, when it is
// back, and asks for an email address with the message; the team's
// address gets the message by email (a small SMTP receiver here), and
// when the operator closes the ticket the visitor's address gets the
// transcript.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { artifact, buildServer, cleanup, eventually, freePort, launchBrowser, operatorPage, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
let host;
let smtp;
const problems = [];

/** An SMTP receiver just big enough for Switchboard's mail: no TLS, no auth. */
async function startSmtp() {
  const mails = [];
  const srv = net.createServer((sock) => {
    sock.setEncoding('utf8');
    let buf = '';
    let data = null;
    let to = [];
    const say = (line) => sock.write(`${line}\r\n`);
    say('220 localhost ESMTP');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mails.push({ to, text: decode(buf.slice(0, end)) });
          buf = buf.slice(end + 5);
          data = null;
          to = [];
          say('250 OK');
          continue;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'RCPT') to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        if (verb === 'DATA') {
          data = '';
          say('354 go ahead');
        } else if (verb === 'QUIT') {
          say('221 bye');
          sock.end();
        } else say('250 OK');
      }
    });
    sock.on('error', () => {});
  });
  const port = await freePort();
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { port, mails, close: () => new Promise((resolve) => srv.close(resolve)) };
}

/** The message's text: quoted-printable undone, line ends as LF. */
function decode(raw) {
  const soft = raw.replace(/=\r\n/g, '');
  const bytes = Buffer.from(soft.replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return bytes.toString('utf8').replace(/\r\n/g, '\n');
}

before(async () => {
  smtp = await startSmtp();
  process.env.SWITCHBOARD_BIN = await buildServer();
  server = await startServer({ SWITCHBOARD_SMTP_URL: `smtp://127.0.0.1:${smtp.port}?from=support@example.com` });
  browser = await launchBrowser();
  host = await startHostSite(server.url);
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await smtp?.close();
  await cleanup();
});

/** Sets the tenant's hours as the administrator operator-1. */
async function setHours(schedule) {
  const dataDir = path.join(path.dirname(server.logFile), 'data');
  const { stdout } = await promisify(execFile)(process.env.SWITCHBOARD_BIN, [
    'token', '--as', 'operator-1', '--server', server.url, '--data-dir', dataDir,
  ]);
  const res = await fetch(`${server.url}/api/v1/hours`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${stdout.trim()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(schedule),
  });
  assert.equal(res.status, 200, await res.text());
}

test('outside the hours the widget says the team is offline and takes an email; the team and then the visitor get mail', async () => {
  // Open tomorrow 09:00–17:00 UTC only: nothing today.
  const tomorrow = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 1) % 7];
  await setHours({ timeZone: 'UTC', weekly: { [tomorrow]: [{ from: '09:00', to: '17:00' }] }, email: 'help@example.com' });

  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, 'visitor');
  await page.goto(host.url);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();

  const notice = frame.getByTestId('offline-notice');
  await notice.waitFor();
  assert.match(await notice.textContent(), /We’re offline right now — leave a message and your email, we’ll reply by email\. We’re back \S+/);
  assert.equal((await frame.getByTestId('widget-status').textContent()).trim(), 'We’re offline right now.');

  await page.screenshot({ path: artifact('offline-form.png') });

  // The email is required, then the message goes.
  await frame.getByLabel('Your question').fill('My lamp flickers at night.');
  await frame.getByRole('button', { name: 'Leave a message' }).click();
  assert.equal(await frame.locator('.msg').count(), 0, 'sent without an email address');
  await frame.getByLabel('Your email').fill('ann@example.com');
  await frame.getByRole('button', { name: 'Leave a message' }).click();
  await frame.locator('.msg', { hasText: 'My lamp flickers at night.' }).waitFor();
  await frame.getByTestId('notice').filter({ hasText: 'We’ll reply by email to ann@example.com.' }).waitFor();
  assert.equal((await frame.getByTestId('widget-status').textContent()).trim(), 'We’ll reply by email.');
  await page.screenshot({ path: artifact('offline-widget.png') });

  const toTeam = await eventually(() => smtp.mails.find((m) => m.to.includes('help@example.com')), 'the offline email');
  assert.match(toTeam.text, /Reply-To: ann@example\.com/);
  assert.match(toTeam.text, /My lamp flickers at night\./);

  // An operator takes it from the queue and closes it: the transcript goes to the visitor.
  const op = await operatorPage(browser, server.url, 'operator-1', problems);
  const queued = op.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'My lamp flickers' });
  await queued.waitFor();
  const ticketId = await queued.getAttribute('data-ticket-id');
  await queued.getByRole('button', { name: /^Accept/ }).click();
  await op.locator(`[data-testid="mine"] [data-ticket-id="${ticketId}"]`).waitFor();
  const panel = op.getByTestId('visitor-context');
  assert.equal((await panel.locator('[data-key="email"] dd').textContent()).trim(), 'ann@example.com');
  await op.locator('#composer-text').fill('A new bulb is on its way.');
  await op.locator('#composer-text').press('Enter');
  await frame.locator('.msg', { hasText: 'A new bulb is on its way.' }).waitFor();
  await op.locator('[data-testid="conversation"]').getByRole('button', { name: 'Close', exact: true }).click();
  const transcript = await eventually(() => smtp.mails.find((m) => m.to.includes('ann@example.com')), 'the transcript');
  assert.ok(transcript.text.indexOf('My lamp flickers at night.') < transcript.text.indexOf('A new bulb is on its way.'), transcript.text);
  assert.match(transcript.text, /Operator One/);
  assert.deepEqual(problems, []);
});
