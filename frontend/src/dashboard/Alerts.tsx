// The alerts badge in the top bar and its list: mentions in notes. Opening
// one marks it read and shows its ticket.
import { useSignal } from '@preact/signals';

import { shortTime } from '../shared/format';
import { t } from '../shared/i18n';
import type { Store } from './store';

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z"
      />
    </svg>
  );
}

export function AlertsButton({ store }: { store: Store }) {
  const open = useSignal(false);
  const ops = store.ops;
  const n = ops.unreadAlerts.value;
  return (
    <div class="alerts">
      <button
        class="ghost alerts-button"
        aria-expanded={open.value}
        aria-controls="alerts-list"
        aria-label={t('alerts.button', { n })}
        data-testid="alerts-button"
        onClick={() => (open.value = !open.value)}
      >
        <BellIcon />
        {n > 0 && (
          <span class="badge" data-testid="alerts-badge" aria-hidden="true">
            {n}
          </span>
        )}
      </button>
      {open.value && (
        <div
          class="alerts-list"
          id="alerts-list"
          role="region"
          aria-label={t('alerts.title')}
          data-testid="alerts-list"
          onKeyDown={(e) => {
            if (e.key === 'Escape') open.value = false;
          }}
        >
          <div class="alerts-head">
            <h2>{t('alerts.title')}</h2>
            {n > 0 && (
              <button class="link" onClick={() => void ops.readAllAlerts()}>
                {t('alerts.readAll')}
              </button>
            )}
          </div>
          {ops.alerts.value.length === 0 ? (
            <p class="empty">{t('alerts.empty')}</p>
          ) : (
            <ul>
              {ops.alerts.value.map((a) => (
                <li key={a.id} class={a.readAt ? 'read' : 'unread'} data-alert-id={a.id}>
                  <button
                    class="ghost"
                    onClick={() => {
                      open.value = false;
                      void ops.readAlert(a);
                      store.select(a.ticketId);
                    }}
                  >
                    <span class="title">{t('alerts.mention', { name: a.byNm || a.byId })}</span>
                    <span class="sub">
                      {a.text.slice(0, 120)} · {shortTime(a.createdAt)}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
