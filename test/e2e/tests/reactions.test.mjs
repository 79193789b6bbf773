// Reactions in a real browser: an operator and an end user react to each
// other's messages from the dashboard and the widget; each sees the
// other's reaction at once, and the dashboard still shows them after a
// reload (the history carries them).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { cleanup, eventually, launchBrowser, operatorPage, startHostSite, startServer, userWidget } from '../lib/harness.mjs';

let server;
let browser;
let host;
const problems = [];

before(async () => {
  server = await startServer({ SWITCHBOARD_VISITORS: 'oidc' });
  browser = await launchBrowser();
  host = await startHostSite(server.url, '127.0.0.1');
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});

const chip = (msg, emoji) => msg.locator(`.reaction[data-emoji="${emoji}"]`);
const countOf = async (msg, emoji) => (await chip(msg, emoji).count()) ? Number(await chip(msg, emoji).locator('.count').textContent()) : 0;

test('reactions between the dashboard and the widget', async () => {
  const op = await operatorPage(browser, server.url, 'operator-1', problems);
  const { frame } = await userWidget(browser, host.url, 'user-1', problems);

  await frame.getByLabel('Your question').fill('Where is my parcel?');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  const queued = op.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Where is my parcel?' });
  await queued.waitFor();
  await queued.getByRole('button', { name: /^Accept/ }).click();
  const dashMsg = op.locator('[data-testid="conversation"] .msg', { hasText: 'Where is my parcel?' });
  await dashMsg.waitFor();

  // The operator reacts from the palette; the user sees it.
  await dashMsg.getByRole('button', { name: 'Add a reaction' }).click();
  await dashMsg.getByRole('button', { name: 'React with 👍' }).click();
  const widgetMsg = frame.locator('.msg', { hasText: 'Where is my parcel?' });
  await eventually(async () => (await countOf(widgetMsg, '👍')) === 1, "the operator's 👍 in the widget");
  assert.equal(await chip(dashMsg, '👍').getAttribute('aria-pressed'), 'true');
  assert.equal(await chip(widgetMsg, '👍').getAttribute('aria-pressed'), 'false');

  // The user adds its own by clicking the chip, then takes it back.
  await chip(widgetMsg, '👍').click();
  await eventually(async () => (await countOf(dashMsg, '👍')) === 2, "the user's 👍 on the dashboard");
  await chip(widgetMsg, '👍').click();
  await eventually(async () => (await countOf(dashMsg, '👍')) === 1, 'the 👍 taken back');

  // The user reacts to the operator's answer.
  await op.locator('#composer-text').fill('It left the warehouse today.');
  await op.locator('#composer-text').press('Enter');
  const answer = frame.locator('.msg', { hasText: 'It left the warehouse today.' });
  await answer.waitFor();
  await answer.getByRole('button', { name: 'Add a reaction' }).click();
  await answer.getByRole('button', { name: 'React with 🎉' }).click();
  const dashAnswer = op.locator('[data-testid="conversation"] .msg', { hasText: 'It left the warehouse today.' });
  await eventually(async () => (await countOf(dashAnswer, '🎉')) === 1, "the user's 🎉 on the dashboard");

  // After a reload the history brings them back.
  await op.reload();
  const reloaded = op.locator('[data-testid="conversation"] .msg', { hasText: 'It left the warehouse today.' });
  await reloaded.waitFor();
  await eventually(async () => (await countOf(reloaded, '🎉')) === 1, 'the 🎉 after a reload');
  assert.deepEqual(problems, []);
});
