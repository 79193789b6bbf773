// The operator dashboard and the chat widget in a real browser (Debian's
// headless Chromium) against the real server: two operators and end users,
// each in a browser context of their own, signed in through the
// development issuer's one-click pages (SWITCHBOARD_VISITORS=oidc: end
// users sign in too; visitor.test.mjs has the widget without sign-in).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  artifact,
  cleanup,
  eventually,
  launchBrowser,
  operatorPage,
  sleep,
  startHostSite,
  startProxy,
  startServer,
  userWidget,
} from '../lib/harness.mjs';

let server;
let browser;
let sameSiteHost;
let crossSiteHost;
const problems = []; // CSP / Trusted Types violations and uncaught errors, on any page
const dialogs = []; // alert() & co: must never happen

// Shared between the tests, which run in order.
let op1;
let op2;
let user;

before(async () => {
  server = await startServer({ SWITCHBOARD_VISITORS: 'oidc' });
  browser = await launchBrowser();
  sameSiteHost = await startHostSite(server.url, '127.0.0.1');
  crossSiteHost = await startHostSite(server.url, 'localhost');
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});


function watchDialogs(page, label) {
  page.on('dialog', (d) => {
    dialogs.push(`${label}: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
}

// In a dashboard page: the row of a ticket in one of the lists.
const row = (page, list, ticketId) => page.locator(`[data-testid="${list}"] [data-ticket-id="${ticketId}"]`);
// A message (by its text) in the dashboard's conversation or the widget.
const dashMsg = (page, text) => page.locator('[data-testid="conversation"] .msg', { hasText: text });
const widgetMsg = (frame, text) => frame.locator('.msg', { hasText: text });
const tickOf = (msg) => msg.locator('.ticks').getAttribute('data-status');

async function tickIs(msg, status, what) {
  await eventually(async () => (await tickOf(msg)) === status, `${what} to be ${status}`);
}

async function texts(locator) {
  return (await locator.allTextContents()).map((t) => t.trim());
}

async function unselect(page) {
  await page.evaluate(() => {
    location.hash = '';
  });
  await page.locator('.empty-pane').waitFor();
}

test('a ticket from the widget: queue, accept, receipts, typing, hijack, close, history after a reload', async () => {
  op1 = await operatorPage(browser, server.url, 'operator-1', problems);
  op2 = await operatorPage(browser, server.url, 'operator-2', problems);
  user = await userWidget(browser, sameSiteHost.url, 'user-1', problems);
  for (const [p, l] of [[op1, 'operator-1'], [op2, 'operator-2'], [user.page, 'user-1']]) watchDialogs(p, l);
  const { frame } = user;

  // The user opens a ticket with a first message.
  await frame.getByLabel('Your question').fill('My printer is on fire');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  const first = widgetMsg(frame, 'My printer is on fire');
  await tickIs(first, 'sent', 'the first message');
  await eventually(async () => (await frame.getByTestId('widget-status').textContent()).includes('You are number 1 in the queue'), 'the queue position');

  // It appears in both operators' queues without a reload.
  const queued1 = op1.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'My printer is on fire' });
  await queued1.waitFor();
  const ticketId = await queued1.getAttribute('data-ticket-id');
  await row(op2, 'queue', ticketId).waitFor();

  // Operator One accepts: it leaves Operator Two's queue and shows as
  // handled by Operator One in "All open".
  await row(op1, 'queue', ticketId).getByRole('button', { name: /^Accept/ }).click();
  await row(op1, 'mine', ticketId).waitFor();
  await row(op2, 'queue', ticketId).waitFor({ state: 'detached' });
  await row(op2, 'open', ticketId).filter({ hasText: 'Operator One' }).waitFor();
  await dashMsg(op1, 'My printer is on fire').waitFor();

  // The user sees who joined; the conversation is on Operator One's
  // screen, so the first message is read.
  await frame.getByTestId('notice').filter({ hasText: 'Operator One joined the conversation' }).waitFor();
  await eventually(async () => (await frame.getByTestId('widget-status').textContent()).includes('chatting with Operator One'), 'status');
  await tickIs(first, 'read', 'the first message');

  // Typing, both ways.
  await op1.locator('#composer-text').pressSequentially('Hello', { delay: 40 });
  await eventually(async () => (await frame.getByTestId('typing').textContent()) === 'Operator One is typing…', 'typing in the widget');
  await frame.locator('#widget-text').pressSequentially('It is', { delay: 40 });
  await eventually(async () => (await op1.getByTestId('typing').textContent()) === 'User One is typing…', 'typing on the dashboard');

  // Operator → user, the widget open: delivered and read at once.
  await op1.locator('#composer-text').fill('Hello! Let me look into it.');
  await op1.locator('#composer-text').press('Enter');
  await widgetMsg(frame, 'Hello! Let me look into it.').waitFor();
  await tickIs(dashMsg(op1, 'Hello! Let me look into it.'), 'read', "the operator's message");

  // User → operator while the operator looks elsewhere: delivered, an
  // unread badge; read once the operator opens the ticket.
  await unselect(op1);
  await frame.locator('#widget-text').fill('It is smoking now');
  await frame.locator('#widget-text').press('Enter');
  const smoking = widgetMsg(frame, 'It is smoking now');
  await tickIs(smoking, 'delivered', "the user's message");
  await eventually(async () => (await row(op1, 'mine', ticketId).getByTestId('unread').textContent()).startsWith('1'), 'unread badge');
  await row(op1, 'mine', ticketId).getByRole('button').first().click();
  await tickIs(smoking, 'read', "the user's message");
  await row(op1, 'mine', ticketId).getByTestId('unread').waitFor({ state: 'detached' });

  // Operator → user while the chat panel is closed: delivered, a badge on
  // the launcher; read when the user opens the panel. The host page hears
  // of it from the frame, posted to the host page's own origin.
  await user.page.evaluate(() => {
    window.widgetMessages = [];
    window.addEventListener('message', (e) => window.widgetMessages.push({ origin: e.origin, data: e.data }));
  });
  await frame.getByRole('button', { name: 'Close chat' }).first().click();
  await op1.locator('#composer-text').fill('Unplug it, please.');
  await op1.locator('#composer-text').press('Enter');
  const unplug = dashMsg(op1, 'Unplug it, please.');
  await tickIs(unplug, 'delivered', "the operator's message");
  await eventually(async () => (await frame.getByTestId('launcher').textContent()).includes('1'), 'launcher badge');
  await user.page.screenshot({ path: artifact('widget-closed-unread.png') });
  await frame.getByTestId('launcher').click();
  await tickIs(unplug, 'read', "the operator's message");
  // postMessage is delivered asynchronously: the read receipt can reach
  // the dashboard before the host page has heard that the panel opened.
  for (const want of [{ open: false, unread: 1 }, { open: true, unread: 0 }]) {
    let posted = [];
    await eventually(async () => {
      posted = await user.page.evaluate(() => window.widgetMessages);
      return posted.some((m) => m.origin === server.url && m.data.type === 'switchboard:widget' && m.data.open === want.open && m.data.unread === want.unread);
    }, `the host page to get ${JSON.stringify(want)} from the widget`).catch((err) => {
      assert.fail(`${err.message}; it got ${JSON.stringify(posted)}`);
    });
  }

  // Operator Two takes the ticket over, after confirming.
  await row(op2, 'open', ticketId).getByRole('button').first().click();
  await op2.getByRole('button', { name: 'Take over' }).click();
  const dialog = op2.getByRole('dialog');
  await dialog.getByText('They will be told that you took it over').waitFor();
  await op2.screenshot({ path: artifact('dashboard-hijack-confirm.png') });
  await dialog.getByTestId('confirm-hijack').click();
  await row(op2, 'mine', ticketId).waitFor();
  await op2.locator('#composer-text').waitFor();

  // Operator One is told; the ticket leaves "My tickets"; the user sees
  // the new operator.
  const notice = op1.getByTestId('toasts').getByText('Operator Two took over “My printer is on fire” from you.');
  await notice.waitFor();
  await row(op1, 'mine', ticketId).waitFor({ state: 'detached' });
  await op1.getByTestId('readonly').filter({ hasText: 'Operator Two handles this ticket' }).waitFor();
  await op1.screenshot({ path: artifact('dashboard-hijacked-toast.png') });
  await frame.getByTestId('notice').filter({ hasText: 'Operator Two joined the conversation' }).waitFor();

  // The conversation goes on with Operator Two, who sees the whole history.
  const history = ['My printer is on fire', 'Hello! Let me look into it.', 'It is smoking now', 'Unplug it, please.'];
  await eventually(
    async () => JSON.stringify(await texts(op2.locator('[data-testid="conversation"] .msg .text'))) === JSON.stringify(history),
    "the history on Operator Two's screen",
  );
  await op2.locator('#composer-text').fill('Operator Two here: a technician is on the way.');
  await op2.locator('#composer-text').press('Enter');
  await widgetMsg(frame, 'a technician is on the way').waitFor();
  await tickIs(dashMsg(op2, 'a technician is on the way'), 'read', "Operator Two's message");
  await frame.locator('#widget-text').fill('Thank you!');
  await frame.locator('#widget-text').press('Enter');
  await tickIs(widgetMsg(frame, 'Thank you!'), 'read', "the user's thanks");
  await row(op2, 'mine', ticketId).getByTestId('unread').waitFor({ state: 'detached' });
  await op2.screenshot({ path: artifact('dashboard-conversation.png') });
  await user.page.screenshot({ path: artifact('widget-conversation.png') });

  // Close.
  await op2.locator('[data-testid="conversation"]').getByRole('button', { name: 'Close', exact: true }).click();
  await row(op2, 'mine', ticketId).waitFor({ state: 'detached' });
  await row(op1, 'open', ticketId).waitFor({ state: 'detached' });
  await frame.getByText('This conversation is closed.').first().waitFor();
  await frame.getByTestId('notice').filter({ hasText: 'The conversation was closed.' }).waitFor();

  // History survives a reload of the host page: the same conversation,
  // every message once, in order, with its receipts.
  const before = await texts(frame.locator('.msg .text'));
  await user.page.reload();
  await frame.getByRole('button', { name: 'Start a new conversation' }).waitFor();
  const reloaded = await texts(frame.locator('.msg .text'));
  assert.deepEqual(reloaded, before);
  assert.deepEqual(reloaded, [
    'My printer is on fire',
    'Hello! Let me look into it.',
    'It is smoking now',
    'Unplug it, please.',
    'Operator Two here: a technician is on the way.',
    'Thank you!',
  ]);
  assert.equal(await tickOf(widgetMsg(frame, 'Thank you!')), 'read');
  await user.page.screenshot({ path: artifact('widget-after-reload.png') });

  assert.deepEqual(problems, []);
  assert.deepEqual(dialogs, []);
});

test('markup in a message is shown as text in both faces', async () => {
  const xss = '<img src=x onerror=alert(1)>';
  // Another site than the server's: the widget frame runs without
  // sessionStorage there, and signs in all the same.
  const u2 = await userWidget(browser, crossSiteHost.url, 'user-2', problems);
  watchDialogs(u2.page, 'user-2');
  await u2.frame.getByLabel('Your question').fill(xss);
  await u2.frame.getByRole('button', { name: 'Start chat' }).click();

  const queued = op1.locator('[data-testid="queue"] [data-ticket-id]', { hasText: xss });
  await queued.waitFor();
  const ticketId = await queued.getAttribute('data-ticket-id');
  // The ticket's title (the first line) is text too.
  assert.equal((await queued.locator('.title').textContent()).trim(), xss);
  await row(op1, 'queue', ticketId).getByRole('button', { name: /^Accept/ }).click();
  await dashMsg(op1, xss).waitFor();
  await op1.locator('#composer-text').fill(`You wrote: ${xss}`);
  await op1.locator('#composer-text').press('Enter');
  await widgetMsg(u2.frame, `You wrote: ${xss}`).waitFor();

  // Shown literally, never parsed: no <img> in any message bubble.
  assert.equal((await dashMsg(op1, 'img src').first().locator('.text').textContent()).trim(), xss);
  assert.equal((await widgetMsg(u2.frame, 'img src').first().locator('.text').textContent()).trim(), xss);
  assert.equal(await op1.locator('.bubble img, .ticket img').count(), 0);
  assert.equal(await u2.frame.locator('.bubble img').count(), 0);
  assert.equal(await texts(u2.frame.locator('.msg .text')).then((t) => t.filter((x) => x.includes('<img')).length), 2);
  await sleep(300); // an onerror would have fired by now
  await op1.screenshot({ path: artifact('dashboard-markup-as-text.png') });
  await u2.page.screenshot({ path: artifact('widget-markup-as-text.png') });
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);

  // Operator Two goes busy: the server stores it, and Operator One's assign
  // dialog (the roster, fetched when it opens) shows it.
  await op2.getByTestId('presence').selectOption('busy');
  const dialog = op1.getByRole('dialog');
  const choice = dialog.getByLabel('Operator');
  await eventually(async () => {
    if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Cancel' }).click();
    await op1.getByRole('button', { name: 'Assign…' }).click();
    await sleep(300);
    return (await texts(choice.locator('option'))).includes('Operator Two — busy');
  }, 'Operator Two shown busy in the roster');
  await choice.selectOption('operator-2');
  await op1.getByRole('dialog').getByRole('button', { name: 'Assign' }).click();
  await op2.getByTestId('toasts').getByText(`Operator One assigned “${xss}” to you.`).waitFor();
  await row(op2, 'mine', ticketId).waitFor();
  await row(op1, 'mine', ticketId).waitFor({ state: 'detached' });
  await u2.frame.getByTestId('notice').filter({ hasText: 'Operator Two joined the conversation' }).waitFor();
  await op2.screenshot({ path: artifact('dashboard-assigned-toast.png') });

  await row(op2, 'mine', ticketId).getByRole('button').first().click();
  await op2.locator('[data-testid="conversation"]').getByRole('button', { name: 'Close', exact: true }).click();
  await row(op2, 'mine', ticketId).waitFor({ state: 'detached' });
  await u2.frame.getByText('This conversation is closed.').first().waitFor();
  await u2.page.context().close();
});

test('the dashboard catches up after its connection is cut and restored', async () => {
  // Operator Three reaches the server through a proxy that can cut it off.
  const proxy = await startProxy(server.port);
  const op3 = await operatorPage(browser, proxy.url, 'operator-3', problems);
  const { frame } = user;

  await frame.getByRole('button', { name: 'Start a new conversation' }).click();
  await frame.getByLabel('Your question').fill('Reconnect test: first');
  await frame.getByRole('button', { name: 'Start chat' }).click();
  const queued = op3.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Reconnect test: first' });
  await queued.waitFor();
  const ticketId = await queued.getAttribute('data-ticket-id');
  await row(op3, 'queue', ticketId).getByRole('button', { name: /^Accept/ }).click();
  await dashMsg(op3, 'Reconnect test: first').waitFor();
  await tickIs(widgetMsg(frame, 'Reconnect test: first'), 'read', 'the first message');

  proxy.cut();
  await op3.locator('[data-testid="connection"][data-state="offline"]').waitFor();
  const missed = ['missed one', 'missed two', 'missed three'];
  for (const text of missed) {
    await frame.locator('#widget-text').fill(text);
    await frame.locator('#widget-text').press('Enter');
    await tickIs(widgetMsg(frame, text), 'sent', text);
  }
  await sleep(500);
  assert.equal(await dashMsg(op3, 'missed').count(), 0, 'nothing arrives while cut off');
  await op3.screenshot({ path: artifact('dashboard-offline.png') });

  proxy.restore();
  await op3.locator('[data-testid="connection"][data-state="online"]').waitFor({ timeout: 20_000 });
  await eventually(async () => (await dashMsg(op3, 'missed').count()) === 3, 'the missed messages');
  await sleep(1000); // any duplicate from a late live event would show by now
  assert.deepEqual(await texts(op3.locator('[data-testid="conversation"] .msg .text')), ['Reconnect test: first', ...missed]);
  // On screen again, so read, and the user sees it.
  for (const text of missed) await tickIs(widgetMsg(frame, text), 'read', text);

  // And the connection works both ways again.
  await op3.locator('#composer-text').fill('Back online.');
  await op3.locator('#composer-text').press('Enter');
  await widgetMsg(frame, 'Back online.').waitFor();
  await op3.screenshot({ path: artifact('dashboard-after-reconnect.png') });

  // Close, then reopen from the closed list.
  await op3.locator('[data-testid="conversation"]').getByRole('button', { name: 'Close', exact: true }).click();
  await frame.getByTestId('notice').filter({ hasText: 'The conversation was closed.' }).waitFor();
  await op3.getByText(/^Closed \(/).click();
  await row(op3, 'closed', ticketId).getByRole('button').first().click();
  await op3.getByRole('button', { name: 'Reopen' }).click();
  await row(op3, 'mine', ticketId).waitFor();
  await frame.getByTestId('notice').filter({ hasText: 'The conversation was reopened.' }).waitFor();
  await eventually(async () => (await frame.getByTestId('widget-status').textContent()).includes('chatting with Operator Three'), 'status');

  // Small screens: the conversation alone, the chat full-screen.
  await op3.setViewportSize({ width: 390, height: 844 });
  // The conversation's way back to the lists (the top bar names its screens too).
  const back = op3.getByTestId('conversation').getByRole('button', { name: 'Tickets' });
  await back.waitFor();
  await op3.screenshot({ path: artifact('dashboard-phone.png') });
  await back.click();
  await row(op3, 'mine', ticketId).waitFor();
  await op3.screenshot({ path: artifact('dashboard-phone-list.png') });
  await user.page.setViewportSize({ width: 390, height: 844 });
  await eventually(
    async () => (await user.page.locator('iframe[data-switchboard-widget]').boundingBox()).width === 390,
    'the chat to fill a phone screen',
  );
  await user.page.screenshot({ path: artifact('widget-phone.png') });
  assert.deepEqual(problems, []);
});
