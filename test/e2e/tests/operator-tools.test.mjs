// The operator tools in a real browser: a supervisor makes labels and
// canned responses, an operator labels a ticket, answers with a canned
// response (placeholders filled in) and writes a note mentioning another
// operator, who gets the alert and sees the note (the widget never does);
// the user rates the closed ticket in the widget; the supervisor searches,
// watches the queue and reassigns from the supervisor view, and reads the
// reports' charts and CSV. Screenshots of each in test/artifacts; axe-core
// checks the screens.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, test } from 'node:test';

import { axeViolations, widgetFrame } from '../lib/axe.mjs';
import { artifact, cleanup, eventually, launchBrowser, operatorPage, sleep, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
let host;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  host = await startHostSite(server.url);
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});

/** An anonymous visitor who opens a ticket with text; returns {page, frame}. */
async function visitorAsks(label, text) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = watchPage(await context.newPage(), problems, label);
  await page.goto(host.url);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();
  await frame.getByLabel('Your question').fill(text);
  await frame.getByRole('button', { name: 'Start chat' }).click();
  await frame.locator('.msg', { hasText: text }).waitFor();
  return { page, frame };
}

async function noSeriousViolations(target, what) {
  const v = await axeViolations(target);
  assert.deepEqual(v, [], `${what}: ${v.join('\n')}`);
}

test('labels, canned responses, notes with mentions, ratings, search, supervisor view and reports', async () => {
  const sup = await operatorPage(browser, server.url, 'supervisor-1', problems);
  const op1 = await operatorPage(browser, server.url, 'operator-1', problems);
  const op2 = await operatorPage(browser, server.url, 'operator-2', problems);

  // The supervisor makes two labels and a tenant-wide canned response.
  await sup.locator('button[data-view="labels"]').click();
  for (const [name, color] of [['Billing', '#b42318'], ['VIP', '#ffd33d']]) {
    await sup.locator('#label-name').fill(name);
    await sup.locator('#label-color').fill(color);
    await sup.getByRole('button', { name: 'Add label' }).click();
    await sup.locator('[data-testid="labels-screen"] .chip', { hasText: name }).waitFor();
  }
  await sup.locator('button[data-view="canned"]').click();
  await sup.locator('#canned-new-shortcut').fill('greet');
  await sup.locator('#canned-new-text').fill('Hello {{user.name}}, this is {{operator.name}}. How can I help?');
  await sup.locator('#canned-new-scope').selectOption('tenant');
  await sup.getByRole('button', { name: 'Add response' }).click();
  await sup.locator('[data-testid="canned-screen"] td', { hasText: '/greet' }).waitFor();
  // An operator's own response, besides.
  await op1.locator('button[data-view="canned"]').click();
  await op1.locator('#canned-new-shortcut').fill('great-news');
  await op1.locator('#canned-new-text').fill('Great news: it is fixed.');
  await op1.getByRole('button', { name: 'Add response' }).click();
  await op1.locator('[data-testid="canned-screen"] td', { hasText: '/great-news' }).waitFor();
  await op1.locator('button[data-view="tickets"]').click();

  const a = await visitorAsks('visitor-a', 'My printer is on fire again');
  const b = await visitorAsks('visitor-b', 'Where is the refund for order 77?');
  const c = await visitorAsks('visitor-c', 'Do you ship to Iceland?');

  // operator-1 accepts the first and labels it: the lists show the label.
  const queued = op1.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'My printer is on fire again' });
  const ticketId = await queued.getAttribute('data-ticket-id');
  await queued.getByRole('button', { name: /^Accept/ }).click();
  const conv = op1.getByTestId('conversation');
  await conv.getByTestId('add-label').selectOption({ label: 'Billing' });
  await op1.locator(`[data-testid="mine"] [data-ticket-id="${ticketId}"] .chip`, { hasText: 'Billing' }).waitFor();
  await sup.locator(`[data-testid="open"] [data-ticket-id="${ticketId}"] .chip`, { hasText: 'Billing' }).waitFor();
  await op1.getByTestId('label-filter').locator('option', { hasText: 'Billing (1)' }).waitFor({ state: 'attached' });
  await op1.screenshot({ path: artifact('labels-in-list.png') });

  // "/" opens the canned responses, filtered as one types; Enter inserts with the placeholders filled in.
  const composer = op1.locator('#composer-text');
  await composer.pressSequentially('/gre');
  const picker = op1.getByTestId('canned-picker');
  await picker.locator('[role="option"]', { hasText: '/greet' }).waitFor();
  await picker.locator('[role="option"]', { hasText: '/great-news' }).waitFor();
  await op1.screenshot({ path: artifact('canned-response-picker.png') });
  await composer.pressSequentially('e');
  assert.equal(await picker.locator('[role="option"]').count(), 1);
  await composer.press('Enter');
  const visitorName = (await conv.locator('.conv-title .sub').textContent()).split(' · ')[0];
  const filled = `Hello ${visitorName}, this is Operator One. How can I help?`;
  await eventually(async () => (await composer.inputValue()) === filled, 'the canned response put in').catch(async (err) => {
    assert.equal(await composer.inputValue(), filled, err.message);
  });
  await composer.press('Enter');
  await a.frame.locator('.msg', { hasText: `Hello ${visitorName}, this is Operator One.` }).waitFor();

  // A note mentioning operator-2: "@" opens the operators.
  await op1.getByTestId('note-toggle').check();
  await composer.pressSequentially('Customer is upset, @operator-2');
  const mentions = op1.getByTestId('mention-picker');
  await mentions.locator('[role="option"]', { hasText: 'Operator Two' }).waitFor();
  await composer.press('Enter');
  // The picker puts the mention in on its next render: type on after it.
  await eventually(async () => (await composer.inputValue()).startsWith('Customer is upset, @operator-2 '), 'the mention put in');
  await composer.pressSequentially('please check the warranty.');
  assert.equal(await composer.inputValue(), 'Customer is upset, @operator-2 please check the warranty.');
  await composer.press('Enter');
  const note = conv.getByTestId('note').filter({ hasText: 'please check the warranty.' });
  await note.waitFor();
  await eventually(async () => (await note.locator('.ticks.pending').count()) === 0, 'the note acknowledged');

  // operator-2 gets the alert, opens it and sees the note inline, marked.
  await op2.getByTestId('alerts-badge').filter({ hasText: '1' }).waitFor();
  await op2.getByTestId('alerts-button').click();
  await op2.getByTestId('alerts-list').getByRole('button', { name: /Operator One mentioned you/ }).click();
  const note2 = op2.getByTestId('conversation').getByTestId('note').filter({ hasText: 'please check the warranty.' });
  await note2.waitFor();
  assert.equal((await note2.locator('.mention').textContent()).trim(), '@operator-2');
  await op2.getByTestId('alerts-badge').waitFor({ state: 'detached' });
  await op2.screenshot({ path: artifact('note-with-mention.png') });
  await noSeriousViolations(op2, 'a conversation with a note');

  // operator-1 closes the ticket: the widget asks for a rating, once.
  await conv.getByRole('button', { name: 'Close', exact: true }).click();
  const rating = a.frame.getByTestId('rating');
  await rating.waitFor();
  await a.page.screenshot({ path: artifact('csat-prompt.png') });
  await noSeriousViolations(await widgetFrame(a.page), 'the rating prompt');
  await rating.getByText('4 out of 5').click({ force: true });
  await rating.getByLabel('Comment (optional)').fill('Quick and friendly.');
  await rating.getByRole('button', { name: 'Send rating' }).click();
  await a.frame.getByTestId('rating-thanks').waitFor();
  await op1.getByTestId('conversation').locator('[data-testid="rating"][data-score="4"]', { hasText: 'Quick and friendly.' }).waitFor();
  await op1.getByText(/^Closed \(/).click();
  await op1.locator(`[data-testid="closed"] [data-ticket-id="${ticketId}"] [data-testid="list-rating"]`, { hasText: '4' }).waitFor();
  // The note never reached the widget.
  assert.equal(await a.frame.getByText('warranty', { exact: false }).count(), 0);
  assert.equal(await a.frame.getByTestId('rating').count(), 0, 'asked again after rating');

  // Search: by text, the matching line highlighted.
  await sup.locator('button[data-view="search"]').click();
  await sup.getByTestId('search-q').fill('printer fire');
  await sup.getByTestId('search-q').press('Enter');
  const hit = sup.locator(`[data-testid="search-results"] [data-ticket-id="${ticketId}"]`);
  await hit.waitFor();
  assert.deepEqual(await hit.locator('mark').allTextContents(), ['printer', 'fire']);
  await hit.locator('.chip', { hasText: 'Billing' }).waitFor();
  await sup.screenshot({ path: artifact('search-results.png') });

  // The supervisor view: the queue with its wait, reassigned to operator-2.
  await sup.locator('button[data-view="supervisor"]').click();
  const screen = sup.getByTestId('supervisor-screen');
  const waiting = screen.locator('[data-testid="sup-queue"] tr', { hasText: 'Where is the refund for order 77?' });
  await waiting.waitFor();
  await screen.locator('[data-testid="sup-operators"] tr[data-operator-id="operator-1"]').waitFor();
  const waitingId = await waiting.getAttribute('data-ticket-id');
  await waiting.getByTestId('reassign').selectOption('operator-2');
  await op2.locator(`[data-testid="mine"] [data-ticket-id="${waitingId}"]`).waitFor();
  await screen.locator(`[data-testid="sup-operators"] tr[data-operator-id="operator-2"] [data-ticket-id="${waitingId}"]`).waitFor();
  await sup.screenshot({ path: artifact('supervisor-view.png') });
  await noSeriousViolations(sup, 'the supervisor view');

  // Reports: charts drawn from the REST figures, and the CSV of the days.
  await sup.locator('button[data-view="reports"]').click();
  const reports = sup.getByTestId('reports-screen');
  for (const id of ['chart-per-day', 'chart-first-response', 'chart-resolution', 'chart-csat']) {
    await reports.locator(`[data-testid="${id}"] canvas`).waitFor();
  }
  await reports.getByTestId('csat-average').filter({ hasText: /4\b.*\b1\b/ }).waitFor();
  await reports.locator('[data-testid="rep-operators"] tr', { hasText: 'Operator One' }).waitFor();
  await sleep(300); // the charts' first paint
  await sup.screenshot({ path: artifact('reports.png'), fullPage: true });
  await noSeriousViolations(sup, 'the reports');
  const [download] = await Promise.all([sup.waitForEvent('download'), reports.getByTestId('csv').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /^date,created,closed,firstResponseMedianSeconds,resolutionMedianSeconds/);
  const today = new Date().toISOString().slice(0, 10);
  assert.match(csv, new RegExp(`^${today},3,1,`, 'm'));

  // Managing: a canned response edited, a label deleted.
  await sup.locator('button[data-view="canned"]').click();
  const greet = sup.locator('[data-testid="canned-screen"] tr', { hasText: '/greet' });
  await greet.getByRole('button', { name: 'Edit' }).click();
  const edit = sup.getByTestId('canned-edit');
  await edit.getByLabel('Text').fill('Hi {{user.name}}!');
  await edit.getByRole('button', { name: 'Save' }).click();
  await sup.locator('[data-testid="canned-screen"] tr', { hasText: 'Hi {{user.name}}!' }).waitFor();
  await sup.locator('button[data-view="labels"]').click();
  const vip = sup.locator('[data-testid="labels-screen"] tr', { hasText: 'VIP' });
  await vip.getByRole('button', { name: 'Delete' }).click();
  await vip.waitFor({ state: 'detached' });

  await b.page.context().close();
  await c.page.context().close();
  assert.deepEqual(problems, []);
});
