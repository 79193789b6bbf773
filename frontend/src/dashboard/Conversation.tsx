// One ticket's conversation: its head with the actions, the visitor's
// context, labels and rating, the messages and internal notes in one
// timeline (notes marked), and the composer.
import { useRef, useEffect } from 'preact/hooks';
import type { JSX } from 'preact';

import { fullTime, shortTime } from '../shared/format';
import { t, tn, type Key } from '../shared/i18n';
import { MessageItem, TypingLine } from '../shared/ui';
import { TicketStatus, type Message, type Note, type Ticket } from '../shared/types';
import { Composer } from './Composer';
import { AssignDialog, HijackDialog, TransferDialog } from './Dialogs';
import { LabelChip } from './Queue';
import type { Store } from './store';

const statusNames: Record<number, Key> = {
  [TicketStatus.New]: 'conv.new',
  [TicketStatus.Open]: 'conv.open',
  [TicketStatus.Closed]: 'conv.closed',
};

export function statusName(status: number): string {
  return statusNames[status] ? t(statusNames[status]) : String(status);
}

export function Empty({ store }: { store: Store }) {
  const n = store.queue.value.length;
  return (
    <div class="empty-pane">
      <h2>{t('list.noneSelected')}</h2>
      <p>{n ? tn('list.waiting', n) : t('list.pick')}</p>
    </div>
  );
}

/** The names the widget gives its own entries; a site's attributes keep theirs. */
const contextLabels: Record<string, Key> = {
  pageUrl: 'conv.ctxPage',
  referrer: 'conv.ctxReferrer',
  userAgent: 'conv.ctxBrowser',
  locale: 'conv.ctxLanguage',
  timeZone: 'conv.ctxTimeZone',
};

/** What the widget knew of the visitor when the ticket was opened: shown as text, never as markup or a link. */
function VisitorPanel({ context }: { context?: Record<string, string> }) {
  if (!context || Object.keys(context).length === 0) return null;
  const known = Object.keys(contextLabels).filter((k) => context[k]);
  const others = Object.keys(context)
    .filter((k) => !(k in contextLabels))
    .sort();
  return (
    <details class="visitor-context" data-testid="visitor-context" open>
      <summary>{t('conv.visitor')}</summary>
      <dl>
        {[...known, ...others].map((k) => (
          <div key={k} data-key={k}>
            <dt>{k in contextLabels ? t(contextLabels[k]) : k}</dt>
            <dd>{context[k]}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** The ticket's labels, each removable, and a picker for the others. */
function LabelEditor({ store, ticket }: { store: Store; ticket: Ticket }) {
  const all = store.ops.labels.value;
  if (!all.length) return null;
  const on = new Set(ticket.labels ?? []);
  const byId = store.ops.labelById.value;
  return (
    <div class="label-editor" role="group" aria-label={t('conv.labels')} data-testid="label-editor">
      {[...on].map((id) => {
        const l = byId.get(id);
        if (!l) return null;
        return (
          <LabelChip key={id} label={l}>
            <button class="chip-x" aria-label={t('conv.removeLabel', { name: l.name })} onClick={() => void store.ops.setLabel(ticket, id, false)}>
              ×
            </button>
          </LabelChip>
        );
      })}
      {all.some((l) => !on.has(l.id)) && (
        <select
          aria-label={t('conv.addLabel')}
          data-testid="add-label"
          value=""
          onChange={(e) => {
            const id = (e.currentTarget as HTMLSelectElement).value;
            if (id) void store.ops.setLabel(ticket, id, true);
          }}
        >
          <option value="">{t('conv.addLabel')}</option>
          {all
            .filter((l) => !on.has(l.id))
            .map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
        </select>
      )}
    </div>
  );
}

/** The user's satisfaction rating, once given. */
function RatingLine({ ticket }: { ticket: Ticket }) {
  const r = ticket.rating;
  if (!r) return null;
  return (
    <p class="rating-line" data-testid="rating" data-score={r.score}>
      <span class="stars" aria-hidden="true">
        {'★'.repeat(r.score)}
        {'☆'.repeat(5 - r.score)}
      </span>{' '}
      {t('conv.rating', { score: r.score })}
      {r.comment && <> · {t('conv.ratingComment', { comment: r.comment })}</>}
    </p>
  );
}

/** An internal note in the timeline: marked, and never shown to the user. */
function NoteItem({ note }: { note: Note }) {
  return (
    <li class="msg note-item" data-note-id={note.id} data-testid="note">
      <span class="sender">
        <span class="note-mark">{t('conv.noteMark')}</span> · {note.authorNm || note.authorId}
      </span>
      <div class="bubble">
        <p class="text">{withMentions(note.content)}</p>
      </div>
      <div class="meta">
        <time dateTime={note.createdAt} title={fullTime(note.createdAt)}>
          {shortTime(note.createdAt)}
        </time>
        {note.pending && <span class="ticks pending">◷</span>}
        {note.failed && <span class="ticks failed">! {note.failed}</span>}
      </div>
    </li>
  );
}

/** A note's text with its @mentions marked (as text: never markup). */
function withMentions(text: string): (string | JSX.Element)[] {
  const out: (string | JSX.Element)[] = [];
  const re = /(^|[^\w.-])(@[\w.:+/-]*[\w+/-])/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index + m[1].length;
    out.push(text.slice(last, at));
    out.push(
      <span class="mention" key={at}>
        {m[2]}
      </span>,
    );
    last = at + m[2].length;
  }
  out.push(text.slice(last));
  return out;
}

type Entry = { message?: Message; note?: Note };

/**
 * Messages and notes in one list: the messages in their commit order, each
 * note before the first message created after it.
 */
function timeline(messages: Message[], notes: Note[]): Entry[] {
  const sorted = [...notes].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const entries: Entry[] = [];
  let n = 0;
  for (const m of messages) {
    while (n < sorted.length && sorted[n].createdAt < m.createdAt) entries.push({ note: sorted[n++] });
    entries.push({ message: m });
  }
  while (n < sorted.length) entries.push({ note: sorted[n++] });
  return entries;
}

export function ConversationPane({ store, ticketId }: { store: Store; ticketId: string }) {
  const tk = store.tickets.value[ticketId];
  const conv = store.convs.value[ticketId];
  const me = store.me.value;
  const list = useRef<HTMLOListElement>(null);
  const confirmHijack = useRef<HTMLDialogElement>(null);
  const assignDialog = useRef<HTMLDialogElement>(null);
  const transferDialog = useRef<HTMLDialogElement>(null);
  const messages = conv?.messages ?? [];
  const notes = store.ops.notes.value[ticketId] ?? [];
  const entries = timeline(messages, notes);
  const lastKey = entries.length ? (entries[entries.length - 1].message?.messageId ?? entries[entries.length - 1].note?.id) : '';

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lastKey, ticketId]);
  useEffect(() => store.ops.freshen(), [ticketId]);

  if (!tk) {
    return (
      <div class="empty-pane">
        <h2>{t('conv.notFound')}</h2>
        <p>{t('conv.notFoundText')}</p>
        <button onClick={() => store.select(null)}>{t('conv.back')}</button>
      </div>
    );
  }
  const mine = !!me && tk.handleById === me.userId;
  const canWrite = mine && tk.statusId === TicketStatus.Open;
  const typingName = store.typing.value[ticketId] ?? null;
  const transfer = store.notes.value[tk.ticketId];

  return (
    <section
      class="conversation"
      aria-labelledby="conv-title"
      data-testid="conversation"
      data-ticket-id={tk.ticketId}
      onKeyDown={(e) => {
        // Escape goes back to the ticket in the list.
        if (e.key !== 'Escape' || (e.target as HTMLElement).closest('dialog')) return;
        document.querySelector<HTMLButtonElement>(`.sidebar [data-ticket-id="${CSS.escape(tk.ticketId)}"] button.ticket`)?.focus();
      }}
    >
      <header class="conv-head">
        <button class="ghost back" onClick={() => store.select(null)}>
          <span aria-hidden="true">←</span> {t('conv.backToTickets')}
        </button>
        <div class="conv-title">
          <h2 id="conv-title">{tk.ticketNm || t('list.noSubject')}</h2>
          <p class="sub">
            {tk.ownerNm || tk.ownerId} · <span class={`pill s${tk.statusId}`}>{statusName(tk.statusId)}</span>
            {tk.handleById && (
              <>
                {' '}
                · {t('conv.handledBy')} <span data-testid="handler">{mine ? t('conv.you') : tk.handleByNm || tk.handleById}</span>
              </>
            )}
            {tk.teamId && (
              <>
                {' '}
                · {t('conv.team')} <span data-testid="team">{store.teams.value.find((x) => x.teamId === tk.teamId)?.name ?? tk.teamId}</span>
              </>
            )}
          </p>
        </div>
        <Actions store={store} ticket={tk} mine={mine} hijack={confirmHijack} assign={assignDialog} transfer={transferDialog} />
      </header>
      <LabelEditor store={store} ticket={tk} />
      <RatingLine ticket={tk} />
      <VisitorPanel context={tk.visitorContext} />
      {transfer && (
        <p class="transfer-note" data-testid="transfer-note">
          {t('conv.transferredBy', { name: transfer.byNm, note: transfer.note })}
        </p>
      )}

      <ol class="messages" ref={list} aria-label={t('common.messages')} aria-live="polite" aria-relevant="additions" tabIndex={0}>
        {!conv?.loaded && entries.length === 0 && <li class="note">{t('common.loading')}</li>}
        {conv?.loaded && entries.length === 0 && <li class="note">{t('conv.noMessages')}</li>}
        {entries.map((e, i) => {
          if (e.note) return <NoteItem key={e.note.id} note={e.note} />;
          const m = e.message!;
          const prev = entries[i - 1]?.message;
          return <MessageItem key={m.messageId} m={m} mine={m.senderId === me?.userId} showName={!prev || prev.senderId !== m.senderId} />;
        })}
      </ol>
      <TypingLine name={typingName} />
      {/* One composer a ticket: a draft never moves to another conversation. */}
      <Composer key={tk.ticketId} store={store} ticket={tk} canReply={canWrite} />
      {!canWrite && (
        <p class="readonly" data-testid="readonly">
          {tk.statusId === TicketStatus.Closed
            ? t('conv.isClosed')
            : tk.statusId === TicketStatus.New
              ? t('conv.acceptToAnswer')
              : t('conv.othersTicket', { name: tk.handleByNm || tk.handleById })}
        </p>
      )}

      <HijackDialog store={store} ticket={tk} dialog={confirmHijack} />
      <AssignDialog store={store} ticket={tk} dialog={assignDialog} />
      <TransferDialog store={store} ticket={tk} dialog={transferDialog} />
    </section>
  );
}

type DialogRef = { current: HTMLDialogElement | null };

function Actions(props: { store: Store; ticket: Ticket; mine: boolean; hijack: DialogRef; assign: DialogRef; transfer: DialogRef }) {
  const { store, ticket: tk, mine } = props;
  return (
    <div class="actions" role="group" aria-label={t('conv.actions')}>
      {tk.statusId === TicketStatus.New && (
        <>
          <button class="primary" onClick={() => void store.accept(tk)}>
            {t('conv.accept')}
          </button>
          <button onClick={() => void store.setStatus(tk, TicketStatus.Closed)}>{t('conv.reject')}</button>
        </>
      )}
      {tk.statusId === TicketStatus.Open && !mine && <button onClick={() => props.hijack.current?.showModal()}>{t('conv.takeOver')}</button>}
      {tk.statusId !== TicketStatus.Closed && (
        <button
          onClick={() => {
            void store.loadRoster();
            props.assign.current?.showModal();
          }}
        >
          {t('conv.assign')}
        </button>
      )}
      {(tk.statusId === TicketStatus.New || (tk.statusId === TicketStatus.Open && mine)) && (
        <button
          data-testid="transfer"
          onClick={() => {
            void store.loadRoster();
            void store.loadTeams();
            props.transfer.current?.showModal();
          }}
        >
          {t('conv.transfer')}
        </button>
      )}
      {tk.statusId === TicketStatus.Open && mine && store.routed.value.has(tk.ticketId) && (
        <button onClick={() => void store.decline(tk)}>{t('conv.decline')}</button>
      )}
      {tk.statusId === TicketStatus.Open && mine && <button onClick={() => void store.setStatus(tk, TicketStatus.Closed)}>{t('conv.close')}</button>}
      {tk.statusId === TicketStatus.Closed && <button onClick={() => void store.setStatus(tk, TicketStatus.Open)}>{t('conv.reopen')}</button>}
    </div>
  );
}
