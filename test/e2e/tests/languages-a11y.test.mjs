// Languages, accessibility and notifications in a real browser: the widget
// in German (the embed tag's data-locale) and in Arabic (right to left),
// the dashboard in Spanish (its setting), keyboard navigation through the
// queue, desktop notifications and the tab title's unread count while the
// tab is hidden, and axe-core finding no serious or critical violation on
// the dashboard and the widget.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { axeViolations, widgetFrame } from '../lib/axe.mjs';
import { artifact, cleanup, eventually, launchBrowser, operatorPage, startHostSite, startServer, watchPage } from '../lib/harness.mjs';

let server;
let browser;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (problems.length) console.error('problems seen:', problems);
  await cleanup();
});

/** A visitor on a host page whose tag has the given extra attributes; the widget opened. */
async function visitor(host, label) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US' });
  const page = watchPage(await context.newPage(), problems, label);
  await page.goto(host.url);
  const frame = page.frameLocator('iframe[data-switchboard-widget]');
  await frame.getByTestId('launcher').click();
  return { page, frame };
}

test('the widget speaks German from data-locale and Arabic right to left, with no serious axe violation', async () => {
  // An operator online first: else the widget offers to leave a message.
  const op = await operatorPage(browser, server.url, 'operator-1', problems);
  const de = await visitor(await startHostSite(server.url, '127.0.0.1', ' data-locale="de"'), 'visitor-de');
  await de.frame.getByLabel('Ihre Frage').fill('Mein Drucker brennt.');
  await de.frame.getByRole('button', { name: 'Chat starten' }).click();
  await de.frame.locator('.msg', { hasText: 'Mein Drucker brennt.' }).waitFor();
  await de.frame.getByTestId('widget-status').filter({ hasText: /Warteschlange|Warten/ }).waitFor();
  assert.equal(await de.frame.locator('html').getAttribute('lang'), 'de');
  // The time under the message in German (24-hour clock, no AM/PM).
  const time = await de.frame.locator('.msg time').first().textContent();
  assert.match(time, /^\d{2}:\d{2}$/);
  await de.page.screenshot({ path: artifact('widget-german.png') });
  assert.deepEqual(await axeViolations(await widgetFrame(de.page)), []);

  // The operator accepts and answers: the widget says who in German.
  const row = op.locator('[data-testid="queue"] [data-ticket-id]', { hasText: 'Mein Drucker brennt.' });
  await row.getByRole('button', { name: /^Accept/ }).click();
  await de.frame.getByTestId('widget-status').filter({ hasText: 'Sie chatten mit' }).waitFor();

  const ar = await visitor(await startHostSite(server.url, '127.0.0.1', ' data-locale="ar"'), 'visitor-ar');
  await ar.frame.getByRole('button', { name: 'ابدأ المحادثة' }).waitFor();
  assert.equal(await ar.frame.locator('html').getAttribute('dir'), 'rtl');
  // The launcher stays in the page's right-hand corner (data-position), whatever the direction.
  const launcher = await ar.frame.getByTestId('launcher').boundingBox();
  assert.ok(launcher.x > 1000, `launcher at x=${launcher.x}`);
  await ar.page.screenshot({ path: artifact('widget-arabic-rtl.png') });
  await ar.page.context().close();
  await de.page.context().close();
  await op.context().close();
});

test('the dashboard: Spanish from its setting, arrow keys through the queue, notifications while hidden, no serious axe violation', async () => {
  const op = await operatorPage(browser, server.url, 'operator-2', problems);
  await op.context().grantPermissions(['notifications'], { origin: server.url });
  // What the page shows as desktop notifications, and a tab that can be hidden.
  await op.evaluate(() => {
    window.__shown = [];
    window.Notification = class {
      static permission = 'granted';
      static requestPermission = async () => 'granted';
      constructor(title, opts) {
        window.__shown.push({ title, body: opts?.body ?? '' });
      }
      close() {}
    };
  });
  await op.locator('.settings summary').click();
  await op.getByTestId('language').selectOption('es');
  await op.getByRole('button', { name: 'Buscar' }).waitFor();
  assert.equal(await op.locator('html').getAttribute('lang'), 'es');
  await op.getByLabel('Notificaciones de escritorio').check();
  await op.getByLabel('Sonido').check();
  await op.locator('.settings summary').click();
  await op.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });

  const host = await startHostSite(server.url);
  const v1 = await visitor(host, 'visitor-1');
  await v1.frame.getByLabel('Your question').fill('Where is my parcel?');
  await v1.frame.getByRole('button', { name: 'Start chat' }).click();
  const v2 = await visitor(host, 'visitor-2');
  await v2.frame.getByLabel('Your question').fill('Can I change my order?');
  await v2.frame.getByRole('button', { name: 'Start chat' }).click();

  await eventually(async () => (await op.evaluate(() => window.__shown.length)) >= 2, 'two desktop notifications');
  const shown = await op.evaluate(() => window.__shown.map((n) => n.title));
  assert.ok(shown.includes('Ticket nuevo: Where is my parcel?'), shown.join(' | '));
  // Each ticket's first message is unread: the tab's title counts them.
  await eventually(async () => /^\(2\) /.test(await op.title()), 'the unread count in the title').catch(async (e) => {
    throw new Error(`${e.message}; the title is ${await op.title()}`);
  });

  // Arrow keys move through the queue's tickets; Enter opens one.
  const first = op.locator('[data-testid="queue"] button.ticket').first();
  await first.focus();
  await op.keyboard.press('ArrowDown');
  const focused = await op.evaluate(() => document.activeElement?.closest('[data-ticket-id]')?.textContent ?? '');
  assert.match(focused, /Can I change my order\?/);
  await op.keyboard.press('Enter');
  await op.locator('[data-testid="conversation"]', { hasText: 'Can I change my order?' }).waitFor();
  await op.keyboard.press('End');

  // Back on screen: a new message on a ticket of mine while hidden is told too.
  await op.locator('[data-testid="conversation"]').getByRole('button', { name: 'Aceptar' }).click();
  await op.locator('[data-testid="mine"] [data-ticket-id]', { hasText: 'Can I change my order?' }).waitFor();
  await v2.frame.locator('#widget-text').fill('It is order 1234.');
  await v2.frame.locator('#widget-text').press('Enter');
  await eventually(
    async () => (await op.evaluate(() => window.__shown.map((n) => n.body))).includes('It is order 1234.'),
    'a notification of the new message',
  );
  await op.screenshot({ path: artifact('dashboard-spanish.png') });
  assert.deepEqual(await axeViolations(op), []);

  // The widget with a conversation going, checked too.
  assert.deepEqual(await axeViolations(await widgetFrame(v2.page)), []);
  await op.context().close();
  await v1.page.context().close();
  await v2.page.context().close();
  assert.deepEqual(problems, []);
});
