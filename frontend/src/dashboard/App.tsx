// The dashboard's frame: sign-in, the top bar, the screens. Each screen is
// a component of its own file (Queue, Conversation, Search, Canned, Labels,
// Supervisor, Reports).
import { useSignal } from '@preact/signals';

import { t } from '../shared/i18n';
import { CannedScreen } from './Canned';
import { ConversationPane, Empty } from './Conversation';
import { LabelsScreen } from './Labels';
import { Sidebar } from './Queue';
import { ReportsScreen } from './Reports';
import { SearchScreen } from './Search';
import type { Store } from './store';
import { SupervisorScreen } from './Supervisor';
import { TopBar } from './TopBar';

export function App({ store }: { store: Store }) {
  const phase = store.phase.value;
  if (phase === 'loading') return <p class="splash" role="status">{t('common.loading')}</p>;
  if (phase === 'signed-out') return <SignIn store={store} />;
  return <Dashboard store={store} />;
}

function SignIn({ store }: { store: Store }) {
  const busy = useSignal(false);
  return (
    <main class="signin">
      <h1>Switchboard</h1>
      <p>{t('dash.operatorDashboard')}</p>
      {store.error.value && (
        <p class="notice error" role="alert">
          {store.error.value}
        </p>
      )}
      <button
        class="primary big"
        disabled={busy.value}
        onClick={async () => {
          busy.value = true;
          await store.signIn();
          busy.value = false;
        }}
      >
        {t('dash.signIn')}
      </button>
      {store.cfg.devIssuer && <p class="hint">{t('dash.devHint')}</p>}
    </main>
  );
}

function Dashboard({ store }: { store: Store }) {
  const selected = store.selected.value;
  const view = store.view.value;
  return (
    <div class={`shell ${selected || view !== 'tickets' ? 'has-selection' : ''}`}>
      <a class="skip" href="#conversation">
        {t('dash.skip')}
      </a>
      <TopBar store={store} />
      {store.expired.value && (
        <p class="banner" role="alert">
          {t('dash.expired')}{' '}
          <button class="link" onClick={() => void store.signIn()}>
            {t('dash.signInAgain')}
          </button>
        </p>
      )}
      <div class="layout">
        <Sidebar store={store} />
        <main id="conversation" class="main" tabIndex={-1}>
          <Screen store={store} />
        </main>
      </div>
      <Toasts store={store} />
    </div>
  );
}

function Screen({ store }: { store: Store }) {
  const selected = store.selected.value;
  switch (store.view.value) {
    case 'search':
      return <SearchScreen store={store} />;
    case 'canned':
      return <CannedScreen store={store} />;
    case 'labels':
      return <LabelsScreen store={store} />;
    case 'supervisor':
      return <SupervisorScreen store={store} />;
    case 'reports':
      return <ReportsScreen store={store} />;
    default:
      return selected ? <ConversationPane store={store} ticketId={selected} /> : <Empty store={store} />;
  }
}

function Toasts({ store }: { store: Store }) {
  return (
    <div class="toasts" aria-live="polite" data-testid="toasts">
      {store.toasts.value.map((x) => (
        <div key={x.id} class={`toast ${x.kind}`} role={x.kind === 'error' ? 'alert' : 'status'}>
          <span>{x.text}</span>
          <button class="ghost" aria-label={t('common.dismiss')} onClick={() => store.dismiss(x.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
