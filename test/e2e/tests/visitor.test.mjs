// A website visitor without any account (SWITCHBOARD_VISITORS=anonymous,
// the default) in a real browser: the widget gets its token from the
// server, the visitor opens a ticket, an operator signed in at the OpenID
// provider sees the visitor's page and answers; a reload keeps the visitor
// and the conversation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifact, cleanup, eventually, launchBrowser, operatorPage, sleep, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
let host;
const problems = [];

before(async () => {
  server = await startServer({ SWITCHBOARD_VISITOR_TOKEN_TTL: '70s' });
  browser = await launchBrowser();
  host = await startHostSite(server.url, '127.0.0.1', ' data-plan="gold"');
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});


test('a visitor with no account opens a ticket; the operator sees the page it came from and answers', async () => {
  const op = await operatorPage(browser, server.url, 'operator-1', problems);
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, 'visitor');
  const pageUrl = `${host.url}?order=1234`;
  await page.goto(`${pageUrl}#private-fragment`);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();

  // No sign-in: the form to start a chat is there at once.
  assert.equal(await frame.getByRole('button', { name: 'Sign in to chat' }).count(), 0);
  await frame.getByLabel('Your question').fill('Where is my order?');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('.msg', { hasText: 'Where is my order?' }).waitFor();

  // The operator sees it, with the visitor's page (no fragment) and the site's attribute.
  const queued = op.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Where is my order?' });
  await queued.waitFor();
  const ticketId = await queued.getAttribute('data-ticket-id');
  await queued.getByRole('button', { name: /^Accept/ }).click();
  await op.locator(`[data-testid="mine"] [data-ticket-id="${ticketId}"]`).waitFor();
  const panel = op.getByTestId('visitor-context');
  await panel.waitFor();
  assert.equal((await panel.locator('[data-key="pageUrl"] dd').textContent()).trim(), pageUrl);
  assert.equal((await panel.locator('[data-key="plan"] dd').textContent()).trim(), 'gold');
  assert.match(await panel.locator('[data-key="timeZone"] dd').textContent(), /\S/);
  const owner = (await op.locator('.conv-head .sub').textContent()).trim();
  assert.match(owner, /^Visitor [0-9a-f]{6}/);

  await op.locator('#composer-text').fill('It ships today.');
  await op.locator('#composer-text').press('Enter');
  await frame.locator('.msg', { hasText: 'It ships today.' }).waitFor();
  await op.screenshot({ path: artifact('visitor-operator.png') });
  await page.screenshot({ path: artifact('visitor-widget.png') });

  // A reload is the same visitor, with the conversation.
  const stored = await page.frames().find((f) => f.url().includes('/widget/')).evaluate(() => localStorage.getItem('switchboard:visitor'));
  const visitorId = JSON.parse(stored).visitorId;
  await page.reload();
  const again = page.frameLocator('iframe[data-switchboard-widget]');
  await again.locator('.msg', { hasText: 'It ships today.' }).waitFor();
  const after = await page.frames().find((f) => f.url().includes('/widget/')).evaluate(() => localStorage.getItem('switchboard:visitor'));
  assert.equal(JSON.parse(after).visitorId, visitorId);

  // The token (70 s) renews before it expires: the conversation goes on after it.
  await sleep(20_000);
  await again.locator('#widget-text').fill('Thanks!');
  await again.locator('#widget-text').press('Enter');
  await op.locator('[data-testid="conversation"] .msg', { hasText: 'Thanks!' }).waitFor();
  const renewed = await page.frames().find((f) => f.url().includes('/widget/')).evaluate(() => localStorage.getItem('switchboard:visitor'));
  assert.notEqual(JSON.parse(renewed).refreshToken, JSON.parse(after).refreshToken, 'the refresh token was not rotated');
  assert.deepEqual(problems, []);
});
