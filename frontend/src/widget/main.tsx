import { render } from 'preact';

import './widget.css';
import { pickLocale, setLocale, t } from '../shared/i18n';
import { loadConfig } from '../shared/types';
import { Widget } from './App';
import { WidgetStore, type WidgetOptions } from './store';

/** The loader passes the embed snippet's data attributes in the fragment. */
function options(): WidgetOptions {
  const q = new URLSearchParams(location.hash.slice(1));
  // data-locale first, then the browser's languages.
  setLocale(pickLocale([q.get('locale'), ...navigator.languages, navigator.language]));
  const title = (q.get('title') ?? '').trim().slice(0, 80) || t('widget.defaultTitle');
  const accent = q.get('accent') ?? '';
  if (/^#[0-9a-fA-F]{6}$/.test(accent)) {
    // CSSOM, not a style attribute: allowed by the page's CSP.
    document.documentElement.style.setProperty('--accent', accent);
    document.documentElement.style.setProperty('--accent-strong', accent);
  }
  const embedded = window.parent !== window;
  return {
    title,
    accent,
    position: q.get('position') === 'left' ? 'left' : 'right',
    embedded,
    parentOrigin: embedded ? parentOrigin(q.get('host')) : null,
    identity: q.get('identity'),
    team: /^[a-z0-9-]{1,40}$/.test(q.get('team') ?? '') ? q.get('team') : null,
    context: contextOf(q.get('context')),
  };
}

/** The visitor's context as the loader passed it: strings only. */
function contextOf(raw: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    const v = JSON.parse(raw ?? '{}') as Record<string, unknown>;
    for (const [k, s] of Object.entries(v)) if (typeof s === 'string' && s) out[k] = s;
  } catch {
    /* no context */
  }
  return out;
}

/**
 * The embedding page's origin, the only one the widget posts its state to:
 * the browser's own word (location.ancestorOrigins, where it exists) first,
 * else the loader's (host in the fragment), else the referrer's. A wrong
 * one only means the page gets no messages: browsers deliver a message to
 * its target origin alone.
 */
function parentOrigin(host: string | null): string | null {
  const ancestors = (location as { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0] === 'null' ? null : ancestors[0];
  for (const claimed of [host, document.referrer]) {
    if (!claimed) continue;
    try {
      const origin = new URL(claimed).origin;
      if (origin !== 'null') return origin;
    } catch {
      /* not a URL: try the next */
    }
  }
  return null;
}

const root = document.getElementById('app')!;
const opts = options();
document.title = opts.title;

loadConfig()
  .then((cfg) => {
    const store = new WidgetStore(cfg, opts);
    render(<Widget store={store} />, root);
    store.boot();
  })
  .catch((e: unknown) => {
    render(
      <p class="notice error" role="alert">
        The chat could not start: {e instanceof Error ? e.message : String(e)}
      </p>,
      root,
    );
  });
