import { render } from 'preact';

import './dashboard.css';
import { pickLocale, setLocale } from '../shared/i18n';
import { localStore } from '../shared/storage';
import { loadConfig } from '../shared/types';
import { App } from './App';
import { Store } from './store';
import { LOCALE_KEY } from './TopBar';

const root = document.getElementById('app')!;
// The operator's choice first, then the browser's languages.
setLocale(pickLocale([localStore().getItem(LOCALE_KEY), ...navigator.languages, navigator.language]));

loadConfig()
  .then((cfg) => {
    const store = new Store(cfg);
    render(<App store={store} />, root);
    return store.boot();
  })
  .catch((e: unknown) => {
    render(
      <main class="signin">
        <h1>Switchboard</h1>
        <p class="notice error" role="alert">
          The dashboard could not start: {e instanceof Error ? e.message : String(e)}
        </p>
      </main>,
      root,
    );
  });
