import { render } from 'preact';

import './widget.css';
import { loadConfig } from '../shared/types';
import { Widget } from './App';
import { WidgetStore, type WidgetOptions } from './store';

/** The loader passes the embed snippet's data attributes in the fragment. */
function options(): WidgetOptions {
  const q = new URLSearchParams(location.hash.slice(1));
  const title = (q.get('title') ?? '').trim().slice(0, 80) || 'Support';
  const accent = q.get('accent') ?? '';
  if (/^#[0-9a-fA-F]{6}$/.test(accent)) {
    // CSSOM, not a style attribute: allowed by the page's CSP.
    document.documentElement.style.setProperty('--accent', accent);
    document.documentElement.style.setProperty('--accent-strong', accent);
  }
  return { title, accent, position: q.get('position') === 'left' ? 'left' : 'right', embedded: window.parent !== window };
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
