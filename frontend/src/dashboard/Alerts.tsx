// The alerts badge in the top bar and its list: mentions in notes. Opening
// one marks it read and shows its ticket.
import { useSignal } from '@preact/signals';

import { shortTime } from '../shared/format';
import { t } from '../shared/i18n';
import type { Store } from './store';

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
        <span aria-hidden="true">🔔</span>
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
