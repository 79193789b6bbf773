// Automatic routing in a real browser (SWITCHBOARD_ROUTING=least-busy): a
// visitor with no account writes while operator-1 is in the dashboard; the
// ticket is assigned to the operator without anyone accepting it, the
// widget says who the visitor is chatting with, and the operator answers.
// A second visitor, with operator-1 at its capacity of one, waits first in
// the queue and is told so, and is assigned as soon as the first ticket
// closes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifact, cleanup, launchBrowser, operatorPage, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
let host;
const problems = [];

before(async () => {
  server = await startServer({ SWITCHBOARD_ROUTING: 'least-busy', SWITCHBOARD_OPERATOR_CAPACITY: '1' });
  browser = await launchBrowser();
  host = await startHostSite(server.url);
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});

async function visitor(label, question) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, label);
  await page.goto(host.url);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();
  await frame.getByLabel('Your question').fill(question);
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('.msg', { hasText: question }).waitFor();
  return { page, frame };
}

test('a visitor is assigned to the available operator without an accept, the next waits its turn', async () => {
  const op = await operatorPage(browser, server.url, 'operator-1', problems);

  const first = await visitor('visitor 1', 'Is the shop open on Sunday?');
  const status = first.frame.getByTestId('widget-status');
  await status.filter({ hasText: 'chatting with Operator One' }).waitFor();
  // It is the operator's without a click: under "mine", never in the queue.
  const mine = op.locator('[data-testid="mine"] [data-ticket-id]', { hasText: 'Is the shop open on Sunday?' });
  await mine.waitFor();
  await mine.click();
  await op.locator('#composer-text').fill('Yes, from 10 to 4.');
  await op.locator('#composer-text').press('Enter');
  await first.frame.locator('.msg', { hasText: 'Yes, from 10 to 4.' }).waitFor();

  // At capacity (1): the second visitor waits, first in the queue.
  const second = await visitor('visitor 2', 'Do you ship abroad?');
  await second.frame.getByTestId('widget-status').filter({ hasText: 'You are number 1 in the queue' }).waitFor();
  await op.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Do you ship abroad?' }).waitFor();
  await second.page.screenshot({ path: artifact('routing-queued.png') });

  // Closing the first ticket frees the operator: the second is assigned.
  await op.getByRole('button', { name: 'Close', exact: true }).click();
  await status.filter({ hasText: 'closed' }).waitFor();
  await second.frame.getByTestId('widget-status').filter({ hasText: 'chatting with Operator One' }).waitFor();
  await op.locator('[data-testid="mine"] [data-ticket-id]', { hasText: 'Do you ship abroad?' }).waitFor();
  await op.screenshot({ path: artifact('routing-operator.png') });
  assert.deepEqual(problems, []);
});
