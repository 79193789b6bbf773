// The top bar: connection, the screens, alerts, my status, language,
// notifications, sign-out.
import { useSignal } from '@preact/signals';

import { languages, locale, setLocale, t } from '../shared/i18n';
import { localStore } from '../shared/storage';
import { AlertsButton } from './Alerts';
import type { Presence, Store, View } from './store';

/** Where the dashboard keeps the operator's language (else the browser's). */
export const LOCALE_KEY = 'switchboard:dashboard:locale';

export function TopBar({ store }: { store: Store }) {
  const me = store.me.value;
  const conn = store.conn.value;
  const connText = conn === 'online' ? t('dash.connected') : conn === 'connecting' ? t('dash.connecting') : t('dash.offline');
  return (
    <header class="topbar">
      <h1 class="brand">Switchboard</h1>
      <span class={`conn ${conn}`} role="status" data-testid="connection" data-state={conn}>
        <span class="dot" aria-hidden="true" />
        {connText}
      </span>
      <Nav store={store} />
      <div class="spacer" />
      <AlertsButton store={store} />
      <label class="presence">
        <span class={`dot ${store.presence.value}`} aria-hidden="true" />
        <span class="sr-only">{t('dash.myStatus')}</span>
        <select
          value={store.presence.value}
          onChange={(e) => void store.setPresence((e.currentTarget as HTMLSelectElement).value as Presence)}
          data-testid="presence"
        >
          <option value="available">{t('dash.available')}</option>
          <option value="busy">{t('dash.busy')}</option>
          <option value="away">{t('dash.away')}</option>
        </select>
      </label>
      <Settings store={store} />
      <span class="me" data-testid="me">
        {me ? me.displayNm || me.userId : ''}
      </span>
      <button class="ghost" onClick={() => store.signOut()}>
        {t('dash.signOut')}
      </button>
    </header>
  );
}

function Nav({ store }: { store: Store }) {
  const views: [View, string][] = [
    ['tickets', t('dash.viewTickets')],
    ['search', t('dash.viewSearch')],
    ['canned', t('dash.viewCanned')],
    ['labels', t('dash.viewLabels')],
  ];
  if (store.ops.supervisor.value) views.push(['supervisor', t('dash.viewSupervisor')], ['reports', t('dash.viewReports')]);
  return (
    <nav class="views" aria-label={t('dash.nav')}>
      {views.map(([v, name]) => (
        <button
          key={v}
          class="ghost"
          aria-current={store.view.value === v ? 'page' : undefined}
          data-view={v}
          onClick={() => store.show(v)}
        >
          {name}
        </button>
      ))}
    </nav>
  );
}

/** Language, desktop notifications and sound: kept in this browser. */
function Settings({ store }: { store: Store }) {
  const open = useSignal(false);
  const n = store.notifier;
  return (
    <details class="settings" open={open.value} onToggle={(e) => (open.value = (e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('dash.settings')}</summary>
      <div class="settings-panel">
        <label>
          {t('common.language')}
          <select
            data-testid="language"
            value={locale.value}
            onChange={(e) => {
              const code = (e.currentTarget as HTMLSelectElement).value;
              localStore().setItem(LOCALE_KEY, code);
              setLocale(code);
            }}
          >
            {languages.map((l) => (
              <option key={l.code} value={l.code} lang={l.code}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={n.desktop.value}
            disabled={n.permission.value === 'denied' || n.permission.value === 'unsupported'}
            onChange={(e) => void n.setDesktop((e.currentTarget as HTMLInputElement).checked)}
          />
          {t('dash.notifications')}
        </label>
        {n.permission.value === 'denied' && <p class="hint">{t('dash.notificationsDenied')}</p>}
        <label class="check">
          <input type="checkbox" checked={n.sound.value} onChange={(e) => n.setSound((e.currentTarget as HTMLInputElement).checked)} />
          {t('dash.sound')}
        </label>
      </div>
    </details>
  );
}
