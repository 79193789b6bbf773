// Teams and transfers in a real browser: an administrator (operator-1)
// makes a team over REST, a visitor on a page whose embed tag says
// data-team="billing" opens a ticket for it, the dashboard shows the
// team, and operator-1 transfers the ticket to operator-2 with a note,
// which operator-2 sees.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifact, cleanup, launchBrowser, operatorPage, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
let host;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  host = await startHostSite(server.url, '127.0.0.1', ' data-team="billing"');
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});

/** Calls the REST API from a dashboard page with its operator's token. */
function rest(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const { accessToken } = JSON.parse(sessionStorage.getItem('switchboard:dashboard'));
      const res = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.status;
    },
    { method, path, body },
  );
}

test('a ticket for a team from the widget, transferred to another operator with a note', async () => {
  const op1 = await operatorPage(browser, server.url, 'operator-1', problems);
  const op2 = await operatorPage(browser, server.url, 'operator-2', problems);
  assert.equal(await rest(op2, 'PUT', '/api/v1/teams/billing', { name: 'Billing' }), 403);
  assert.equal(await rest(op1, 'PUT', '/api/v1/teams/billing', { name: 'Billing' }), 201);
  assert.equal(await rest(op1, 'PUT', '/api/v1/teams/billing/members/operator-1', undefined), 200);

  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, 'visitor');
  await page.goto(host.url);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();
  await frame.getByLabel('Your question').fill('Why was I charged twice?');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('.msg', { hasText: 'Why was I charged twice?' }).waitFor();

  const queued = op1.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Why was I charged twice?' });
  await queued.waitFor();
  const ticketId = await queued.getAttribute('data-ticket-id');
  await queued.getByRole('button', { name: /^Accept/ }).click();
  await op1.locator(`[data-testid="mine"] [data-ticket-id="${ticketId}"]`).waitFor();
  await op1.locator('[data-testid="conversation"] [data-testid="team"]', { hasText: 'Billing' }).waitFor();
  // The team is the ticket's, not a visitor attribute.
  assert.equal(await op1.locator('[data-testid="visitor-context"] [data-key="team"]').count(), 0);

  await op1.getByTestId('transfer').click();
  const dialog = op1.getByTestId('transfer-dialog');
  await dialog.locator('option[value="operator:operator-2"]').waitFor({ state: 'attached' });
  await dialog.locator('#transfer-to').selectOption('operator:operator-2');
  await dialog.locator('#transfer-note').fill('Refund the second charge, please.');
  await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();

  const mine2 = op2.locator(`[data-testid="mine"] [data-ticket-id="${ticketId}"]`);
  await mine2.waitFor();
  await mine2.locator('button.ticket').click();
  // operator-2 signed in before the team was made: the transfer teaches it the name.
  await op2.locator('[data-testid="conversation"] [data-testid="team"]', { hasText: 'Billing' }).waitFor();
  const note = op2.getByTestId('transfer-note');
  await note.waitFor();
  assert.match(await note.textContent(), /Operator One: “Refund the second charge, please\.”/);
  await op2.locator('#composer-text').fill('Refunded.');
  await op2.locator('#composer-text').press('Enter');
  await frame.locator('.msg', { hasText: 'Refunded.' }).waitFor();
  await op2.screenshot({ path: artifact('teams-transfer.png') });
  assert.deepEqual(problems, []);
});
