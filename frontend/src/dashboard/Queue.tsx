// The ticket lists on the left: the queue, mine, all open, the closed ones;
// each ticket with its labels in their colours, a label filter with counts.
// Arrow keys move between tickets (Home/End: first and last).
import { useSignal } from '@preact/signals';
import type { JSX } from 'preact';

import { shortTime } from '../shared/format';
import { t, type Key } from '../shared/i18n';
import type { Label, Ticket } from '../shared/types';
import type { Store } from './store';

/** Moves the focus among the lists' ticket buttons with the arrow keys. */
function onListKey(e: JSX.TargetedKeyboardEvent<HTMLElement>): void {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('button.ticket')];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return; // focus elsewhere (the label filter, an Accept button): theirs
  e.preventDefault();
  const next =
    e.key === 'Home' ? 0 : e.key === 'End' ? buttons.length - 1 : Math.max(0, Math.min(buttons.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)));
  buttons[next]?.focus();
}

export function Sidebar({ store }: { store: Store }) {
  const closedOpen = useSignal(false);
  const filter = store.labelFilter.value;
  const keep = (list: Ticket[]) => (filter ? list.filter((x) => x.labels?.includes(filter)) : list);
  return (
    <nav class="sidebar" aria-label={t('list.tickets')} onKeyDown={onListKey}>
      <LabelFilter store={store} />
      <TicketList store={store} title={t('list.queue')} testid="queue" tickets={keep(store.queue.value)} empty="list.emptyQueue" queue />
      <TicketList store={store} title={t('list.mine')} testid="mine" tickets={keep(store.mine.value)} empty="list.emptyMine" />
      <TicketList store={store} title={t('list.allOpen')} testid="open" tickets={keep(store.allOpen.value)} empty="list.emptyOpen" showHandler />
      <details
        class="closed"
        open={closedOpen.value}
        onToggle={(e) => (closedOpen.value = (e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>{t('list.closed', { n: keep(store.closed.value).length })}</summary>
        {closedOpen.value && <TicketList store={store} title="" testid="closed" tickets={keep(store.closed.value)} empty="list.none" />}
      </details>
    </nav>
  );
}

/** Only the tickets of one label, each label with its count of open tickets. */
function LabelFilter({ store }: { store: Store }) {
  const labels = store.ops.labels.value;
  if (!labels.length) return null;
  return (
    <div class="label-filter">
      <label for="label-filter" class="sr-only">
        {t('list.filterLabel')}
      </label>
      <select
        id="label-filter"
        data-testid="label-filter"
        value={store.labelFilter.value}
        onChange={(e) => (store.labelFilter.value = (e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">{t('list.allLabels')}</option>
        {labels.map((l) => (
          <option key={l.id} value={l.id}>
            {l.name} ({l.openCount})
          </option>
        ))}
      </select>
    </div>
  );
}

/** A label as a coloured chip; the text colour is chosen for contrast. */
export function LabelChip({ label, children }: { label: Label; children?: JSX.Element }) {
  return (
    <span class="chip" style={{ background: label.color, color: textOn(label.color) }} data-label-id={label.id}>
      {label.name}
      {children}
    </span>
  );
}

/** Black or white, whichever reads better on the colour (#rrggbb), after WCAG's relative luminance. */
export function textOn(color: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return '#000';
  const lin = (h: string) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
  // Contrast with black (l+0.05)/0.05 against white 1.05/(l+0.05).
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

export function TicketLabels({ store, ticket }: { store: Store; ticket: Ticket }) {
  const byId = store.ops.labelById.value;
  const labels = (ticket.labels ?? []).map((id) => byId.get(id)).filter((l): l is Label => !!l);
  if (!labels.length) return null;
  return (
    <span class="chips" data-testid="labels">
      {labels.map((l) => (
        <LabelChip key={l.id} label={l} />
      ))}
    </span>
  );
}

function TicketList(props: {
  store: Store;
  title: string;
  testid: string;
  tickets: Ticket[];
  empty: Key;
  queue?: boolean;
  showHandler?: boolean;
}) {
  const { store, title, testid, tickets, empty, queue, showHandler } = props;
  const unread = store.unread.value;
  const selected = store.selected.value;
  const headingId = `list-${testid}`;
  return (
    <section class="list" data-testid={testid} aria-labelledby={title ? headingId : undefined}>
      {title && (
        <h2 id={headingId}>
          {title} <span class="count">{tickets.length}</span>
        </h2>
      )}
      {tickets.length === 0 ? (
        <p class="empty">{t(empty)}</p>
      ) : (
        <ul>
          {tickets.map((x) => {
            const n = unread[x.ticketId] ?? 0;
            const name = x.ticketNm || t('list.noSubject');
            return (
              <li key={x.ticketId} class="ticket-row" data-ticket-id={x.ticketId}>
                <button
                  class="ticket"
                  aria-current={selected === x.ticketId && store.view.value === 'tickets' ? 'true' : undefined}
                  onClick={() => store.select(x.ticketId)}
                >
                  <span class="title">{name}</span>
                  <span class="sub">
                    {x.ownerNm || x.ownerId}
                    {showHandler && x.handleByNm ? ` · ${x.handleByNm}` : ''} · {shortTime(x.createdAt)}
                  </span>
                  <TicketLabels store={store} ticket={x} />
                  {x.rating && (
                    <span class="list-rating" data-testid="list-rating">
                      <span aria-hidden="true">★ {x.rating.score}</span>
                      <span class="sr-only">{t('conv.rating', { score: x.rating.score })}</span>
                    </span>
                  )}
                  {n > 0 && (
                    <span class="badge" data-testid="unread">
                      {n}
                      <span class="sr-only"> {t('list.unread')}</span>
                    </span>
                  )}
                </button>
                {queue && (
                  <button class="primary small" onClick={() => void store.accept(x)} aria-label={t('list.acceptTitle', { title: x.ticketNm })}>
                    {t('list.accept')}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
