// The supervisor's view: every operator's status, load and tickets, and
// the queue with wait times; a ticket can be taken over or reassigned.
// Refreshed every few seconds while on screen.
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';

import { duration } from '../shared/format';
import { t } from '../shared/i18n';
import type { Overview, Ticket } from '../shared/types';
import { describe } from './ops';
import type { Store } from './store';

const REFRESH_MS = 5000;

export function SupervisorScreen({ store }: { store: Store }) {
  const data = useSignal<Overview | null>(null);
  const load = async () => {
    try {
      data.value = await store.api.overview();
    } catch (e) {
      store.toast(describe(e), 'error');
    }
  };
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const o = data.value;
  const ticket = (id: string): Ticket => store.tickets.value[id] ?? ({ ticketId: id } as Ticket);
  const title = (id: string) => store.tickets.value[id]?.ticketNm || id.slice(0, 8);
  const reassign = async (id: string, to: string) => {
    if (await store.assign(ticket(id), to)) void load();
  };
  const operatorChoice = (id: string, except: string) => (
    <select
      aria-label={t('sup.reassignTo', { title: title(id) })}
      value=""
      data-testid="reassign"
      onChange={(e) => {
        const to = (e.currentTarget as HTMLSelectElement).value;
        if (to) void reassign(id, to);
      }}
    >
      <option value="">{t('sup.reassign')}</option>
      {(o?.operators ?? [])
        .filter((x) => x.id !== except)
        .map((x) => (
          <option key={x.id} value={x.id}>
            {x.name} ({x.load}
            {x.capacity ? `/${x.capacity}` : ''})
          </option>
        ))}
    </select>
  );
  return (
    <section class="screen" aria-labelledby="sup-title" data-testid="supervisor-screen">
      <div class="screen-head">
        <h2 id="sup-title">{t('sup.title')}</h2>
        <button onClick={() => void load()}>{t('sup.refresh')}</button>
      </div>
      {!o ? (
        <p role="status">{t('common.loading')}</p>
      ) : (
        <>
          <h3>{t('sup.operators')}</h3>
          <table class="table" data-testid="sup-operators">
            <thead>
              <tr>
                <th scope="col">{t('conv.operator')}</th>
                <th scope="col">{t('sup.status')}</th>
                <th scope="col">{t('sup.load')}</th>
                <th scope="col">{t('sup.tickets')}</th>
              </tr>
            </thead>
            <tbody>
              {o.operators.map((x) => (
                <tr key={x.id} data-operator-id={x.id}>
                  <th scope="row">{x.name || x.id}</th>
                  <td>
                    <span class={`dot ${x.online ? x.status.toLowerCase() : 'offline'}`} aria-hidden="true" />{' '}
                    {x.online ? x.status.toLowerCase() : t('sup.offline')}
                  </td>
                  <td>
                    <meter min={0} max={Math.max(x.capacity, x.load, 1)} value={x.load} aria-label={t('sup.load')} /> {x.load}
                    {x.capacity ? ` / ${x.capacity}` : ''}
                  </td>
                  <td>
                    <ul class="plain">
                      {x.tickets.map((id) => (
                        <li key={id} data-ticket-id={id}>
                          <button class="link" onClick={() => store.select(id)}>
                            {title(id)}
                          </button>{' '}
                          {x.id !== store.me.value?.userId && (
                            <button class="small" onClick={async () => (await store.assign(ticket(id), null)) && void load()}>
                              {t('conv.takeOver')}
                            </button>
                          )}{' '}
                          {operatorChoice(id, x.id)}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>{t('sup.queue')}</h3>
          {o.queue.length === 0 ? (
            <p class="empty">{t('sup.emptyQueue')}</p>
          ) : (
            <table class="table" data-testid="sup-queue">
              <thead>
                <tr>
                  <th scope="col">{t('sup.waiting')}</th>
                  <th scope="col">{t('sup.ticket')}</th>
                  <th scope="col">{t('sup.owner')}</th>
                  <th scope="col">{t('sup.team')}</th>
                  <th scope="col">
                    <span class="sr-only">{t('conv.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {o.queue.map((q) => (
                  <tr key={q.ticketId} data-ticket-id={q.ticketId}>
                    <td class={q.waitingSeconds > 300 ? 'late' : ''}>{duration(q.waitingSeconds)}</td>
                    <td>
                      <button class="link" onClick={() => store.select(q.ticketId)}>
                        {q.ticketNm || t('list.noSubject')}
                      </button>
                    </td>
                    <td>{q.ownerNm}</td>
                    <td>{q.team}</td>
                    <td>{operatorChoice(q.ticketId, '')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
