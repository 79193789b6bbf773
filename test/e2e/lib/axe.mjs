// axe-core in a page or a frame: the WCAG 2.1 A and AA rules, and the
// violations that matter (serious or critical) in a readable form. The
// source is evaluated through the DevTools protocol, which the pages'
// Content-Security-Policy does not govern (no script tag is added).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical violations in target (a playwright Page or Frame). */
export async function axeViolations(target) {
  await target.evaluate(source);
  // axe: the global the source defines in the page.
  const result = await target.evaluate(() =>
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

/** The widget's frame in a host page. */
export async function widgetFrame(page) {
  const handle = await page.waitForSelector('iframe[data-switchboard-widget]');
  return handle.contentFrame();
}
