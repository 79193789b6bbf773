// Searching tickets: by the text of their messages, user, label, status,
// operator and creation dates; each result with its matching line, the
// matched words highlighted.
import { useSignal } from '@preact/signals';
import type { JSX } from 'preact';

import { fullTime, shortTime } from '../shared/format';
import { t, tn } from '../shared/i18n';
import { TicketStatus, type SearchHit } from '../shared/types';
import { statusName } from './Conversation';
import { TicketLabels } from './Queue';
import { describe } from './ops';
import type { Store } from './store';

const FIELDS = ['q', 'user', 'label', 'status', 'operator', 'from', 'to'] as const;
type Filters = Record<(typeof FIELDS)[number], string>;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The line with the server's highlights (UTF-8 byte offsets, end exclusive) marked. */
export function highlighted(text: string, highlights: [number, number][]): (string | JSX.Element)[] {
  const bytes = utf8.encode(text);
  const out: (string | JSX.Element)[] = [];
  let last = 0;
  for (const [start, end] of [...highlights].sort((a, b) => a[0] - b[0])) {
    if (start < last || end > bytes.length || end <= start) continue;
    out.push(fromUtf8.decode(bytes.subarray(last, start)));
    out.push(<mark key={start}>{fromUtf8.decode(bytes.subarray(start, end))}</mark>);
    last = end;
  }
  out.push(fromUtf8.decode(bytes.subarray(last)));
  return out;
}

export function SearchScreen({ store }: { store: Store }) {
  const filters = useSignal<Filters>({ q: '', user: '', label: '', status: '', operator: '', from: '', to: '' });
  const hits = useSignal<SearchHit[] | null>(null);
  const next = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const set = (k: keyof Filters) => (e: Event) => (filters.value = { ...filters.value, [k]: (e.currentTarget as HTMLInputElement).value });
  const run = async (more: boolean) => {
    busy.value = true;
    try {
      const page = await store.api.search(filters.value, more ? next.value : undefined);
      hits.value = more ? [...(hits.value ?? []), ...page.items] : page.items;
      next.value = page.next;
    } catch (e) {
      store.toast(describe(e), 'error');
    } finally {
      busy.value = false;
    }
  };
  const f = filters.value;
  return (
    <section class="screen" aria-labelledby="search-title" data-testid="search-screen">
      <h2 id="search-title">{t('search.title')}</h2>
      <form
        class="search-form"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void run(false);
        }}
      >
        <label>
          {t('search.text')}
          <input type="search" name="q" maxLength={256} value={f.q} onInput={set('q')} data-testid="search-q" />
        </label>
        <label>
          {t('search.user')}
          <input name="user" value={f.user} onInput={set('user')} />
        </label>
        <label>
          {t('search.label')}
          <select name="label" value={f.label} onChange={set('label')}>
            <option value="">{t('search.any')}</option>
            {store.ops.labels.value.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('search.status')}
          <select name="status" value={f.status} onChange={set('status')}>
            <option value="">{t('search.any')}</option>
            {[TicketStatus.New, TicketStatus.Open, TicketStatus.Closed].map((s) => (
              <option key={s} value={String(s)}>
                {statusName(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('search.operator')}
          <select name="operator" value={f.operator} onChange={set('operator')}>
            <option value="">{t('search.any')}</option>
            {store.operators.value.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('search.from')}
          <input type="date" name="from" value={f.from} onInput={set('from')} />
        </label>
        <label>
          {t('search.to')}
          <input type="date" name="to" value={f.to} onInput={set('to')} />
        </label>
        <button type="submit" class="primary" disabled={busy.value}>
          {t('search.submit')}
        </button>
      </form>
      {hits.value && (
        <div class="results" aria-live="polite" data-testid="search-results">
          <p class="count-line">{hits.value.length ? tn('search.results', hits.value.length) : t('search.none')}</p>
          <ul>
            {hits.value.map((h) => (
              <li key={h.ticket.ticketId} data-ticket-id={h.ticket.ticketId}>
                <button class="result" onClick={() => store.openTicket(h.ticket)}>
                  <span class="title">{h.ticket.ticketNm || t('list.noSubject')}</span>
                  <span class="sub">
                    {h.ticket.ownerNm || h.ticket.ownerId} · <span class={`pill s${h.ticket.statusId}`}>{statusName(h.ticket.statusId)}</span>
                    {h.ticket.handleByNm && ` · ${h.ticket.handleByNm}`} ·{' '}
                    <time dateTime={h.ticket.createdAt} title={fullTime(h.ticket.createdAt)}>
                      {shortTime(h.ticket.createdAt)}
                    </time>
                  </span>
                  {/* A result may come without labels: the lists' copy of the ticket has them. */}
                  <TicketLabels store={store} ticket={h.ticket.labels ? h.ticket : (store.tickets.value[h.ticket.ticketId] ?? h.ticket)} />
                  {h.match && (
                    <span class="match" data-testid="match">
                      {highlighted(h.match.text, h.match.highlights)}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
          {next.value && (
            <button onClick={() => void run(true)} disabled={busy.value}>
              {t('search.more')}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
