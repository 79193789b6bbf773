import { render } from 'preact';

import './dashboard.css';
import { loadConfig } from '../shared/types';
import { App } from './App';
import { Store } from './store';

const root = document.getElementById('app')!;

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
