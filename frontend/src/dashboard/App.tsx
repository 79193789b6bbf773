import { useComputed, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';

import { shortTime } from '../shared/format';
import { Composer, MessageItem, TypingLine } from '../shared/ui';
import { TicketStatus, type Ticket } from '../shared/types';
import type { Presence, Store } from './store';

const statusNames: Record<number, string> = {
  [TicketStatus.New]: 'New',
  [TicketStatus.Open]: 'Open',
  [TicketStatus.Closed]: 'Closed',
};

export function App({ store }: { store: Store }) {
  const phase = store.phase.value;
  if (phase === 'loading') return <p class="splash" role="status">Loading…</p>;
  if (phase === 'signed-out') return <SignIn store={store} />;
  return <Dashboard store={store} />;
}

function SignIn({ store }: { store: Store }) {
  const busy = useSignal(false);
  return (
    <main class="signin">
      <h1>Switchboard</h1>
      <p>Operator dashboard</p>
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
        Sign in
      </button>
      {store.cfg.devIssuer && (
        <p class="hint">
          Development issuer: the next page signs you in with one click as a demo operator (<code>operator-1</code> to{' '}
          <code>operator-3</code>). No passwords; never for production.
        </p>
      )}
    </main>
  );
}

function Dashboard({ store }: { store: Store }) {
  const selected = store.selected.value;
  return (
    <div class={`shell ${selected ? 'has-selection' : ''}`}>
      <a class="skip" href="#conversation">
        Skip to conversation
      </a>
      <TopBar store={store} />
      {store.expired.value && (
        <p class="banner" role="alert">
          Your session has expired.{' '}
          <button class="link" onClick={() => void store.signIn()}>
            Sign in again
          </button>
        </p>
      )}
      <div class="layout">
        <Sidebar store={store} />
        <main id="conversation" class="main" tabIndex={-1}>
          {selected ? <ConversationPane store={store} ticketId={selected} /> : <Empty store={store} />}
        </main>
      </div>
      <Toasts store={store} />
    </div>
  );
}

function TopBar({ store }: { store: Store }) {
  const me = store.me.value;
  const conn = store.conn.value;
  const connText = conn === 'online' ? 'Connected' : conn === 'connecting' ? 'Connecting…' : 'Offline — reconnecting';
  return (
    <header class="topbar">
      <h1 class="brand">Switchboard</h1>
      <span class={`conn ${conn}`} role="status" data-testid="connection" data-state={conn}>
        <span class="dot" aria-hidden="true" />
        {connText}
      </span>
      <div class="spacer" />
      <label class="presence">
        <span class={`dot ${store.presence.value}`} aria-hidden="true" />
        <span class="sr-only">My status</span>
        <select
          value={store.presence.value}
          onChange={(e) => void store.setPresence((e.currentTarget as HTMLSelectElement).value as Presence)}
          data-testid="presence"
        >
          <option value="available">Available</option>
          <option value="busy">Busy</option>
          <option value="away">Away</option>
        </select>
      </label>
      <span class="me" data-testid="me">
        {me ? me.displayNm || me.userId : ''}
      </span>
      <button class="ghost" onClick={() => store.signOut()}>
        Sign out
      </button>
    </header>
  );
}

function Sidebar({ store }: { store: Store }) {
  const closedOpen = useSignal(false);
  return (
    <nav class="sidebar" aria-label="Tickets">
      <TicketList store={store} title="Queue" testid="queue" tickets={store.queue.value} empty="No new tickets." queue />
      <TicketList store={store} title="My tickets" testid="mine" tickets={store.mine.value} empty="You handle no open ticket." />
      <TicketList store={store} title="All open" testid="open" tickets={store.allOpen.value} empty="No open tickets." showHandler />
      <details
        class="closed"
        open={closedOpen.value}
        onToggle={(e) => (closedOpen.value = (e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>Closed ({store.closed.value.length})</summary>
        {closedOpen.value && <TicketList store={store} title="" testid="closed" tickets={store.closed.value} empty="None." />}
      </details>
    </nav>
  );
}

function TicketList(props: {
  store: Store;
  title: string;
  testid: string;
  tickets: Ticket[];
  empty: string;
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
        <p class="empty">{empty}</p>
      ) : (
        <ul>
          {tickets.map((t) => {
            const n = unread[t.ticketId] ?? 0;
            return (
              <li key={t.ticketId} class="ticket-row" data-ticket-id={t.ticketId}>
                <button
                  class="ticket"
                  aria-current={selected === t.ticketId ? 'true' : undefined}
                  onClick={() => store.select(t.ticketId)}
                >
                  <span class="title">{t.ticketNm || '(no subject)'}</span>
                  <span class="sub">
                    {t.ownerNm || t.ownerId}
                    {showHandler && t.handleByNm ? ` · ${t.handleByNm}` : ''} · {shortTime(t.createdAt)}
                  </span>
                  {n > 0 && (
                    <span class="badge" data-testid="unread">
                      {n}
                      <span class="sr-only"> unread</span>
                    </span>
                  )}
                </button>
                {queue && (
                  <button class="primary small" onClick={() => void store.accept(t)} aria-label={`Accept “${t.ticketNm}”`}>
                    Accept
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

function Empty({ store }: { store: Store }) {
  const n = store.queue.value.length;
  return (
    <div class="empty-pane">
      <h2>No conversation selected</h2>
      <p>{n ? `${n} ticket${n === 1 ? '' : 's'} waiting in the queue.` : 'Pick a ticket on the left.'}</p>
    </div>
  );
}

/** The names the widget gives its own entries; a site's attributes keep theirs. */
const contextLabels: Record<string, string> = {
  pageUrl: 'Page',
  referrer: 'Came from',
  userAgent: 'Browser',
  locale: 'Language',
  timeZone: 'Time zone',
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
      <summary>Visitor</summary>
      <dl>
        {[...known, ...others].map((k) => (
          <div key={k} data-key={k}>
            <dt>{contextLabels[k] ?? k}</dt>
            <dd>{context[k]}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

function ConversationPane({ store, ticketId }: { store: Store; ticketId: string }) {
  const t = store.tickets.value[ticketId];
  const conv = store.convs.value[ticketId];
  const me = store.me.value;
  const list = useRef<HTMLOListElement>(null);
  const confirmHijack = useRef<HTMLDialogElement>(null);
  const assignDialog = useRef<HTMLDialogElement>(null);
  const transferDialog = useRef<HTMLDialogElement>(null);
  const messages = conv?.messages ?? [];
  const lastId = messages.length ? messages[messages.length - 1].messageId : '';

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lastId, ticketId]);

  if (!t) {
    return (
      <div class="empty-pane">
        <h2>Ticket not found</h2>
        <p>It may belong to another tenant or no longer exist.</p>
        <button onClick={() => store.select(null)}>Back</button>
      </div>
    );
  }
  const mine = !!me && t.handleById === me.userId;
  const canWrite = mine && t.statusId === TicketStatus.Open;
  const typingName = store.typing.value[ticketId] ?? null;

  return (
    <section class="conversation" aria-labelledby="conv-title" data-testid="conversation" data-ticket-id={t.ticketId}>
      <header class="conv-head">
        <button class="ghost back" onClick={() => store.select(null)}>
          <span aria-hidden="true">←</span> Tickets
        </button>
        <div class="conv-title">
          <h2 id="conv-title">{t.ticketNm || '(no subject)'}</h2>
          <p class="sub">
            {t.ownerNm || t.ownerId} · <span class={`pill s${t.statusId}`}>{statusNames[t.statusId] ?? t.statusId}</span>
            {t.handleById && (
              <>
                {' '}
                · handled by <span data-testid="handler">{mine ? 'you' : t.handleByNm || t.handleById}</span>
              </>
            )}
            {t.teamId && (
              <>
                {' '}
                · team <span data-testid="team">{store.teams.value.find((x) => x.teamId === t.teamId)?.name ?? t.teamId}</span>
              </>
            )}
          </p>
        </div>
        <div class="actions" role="group" aria-label="Ticket actions">
          {t.statusId === TicketStatus.New && (
            <>
              <button class="primary" onClick={() => void store.accept(t)}>
                Accept
              </button>
              <button onClick={() => void store.setStatus(t, TicketStatus.Closed)}>Reject</button>
            </>
          )}
          {t.statusId === TicketStatus.Open && !mine && (
            <button onClick={() => confirmHijack.current?.showModal()}>Take over</button>
          )}
          {t.statusId !== TicketStatus.Closed && (
            <button
              onClick={() => {
                void store.loadRoster();
                assignDialog.current?.showModal();
              }}
            >
              Assign…
            </button>
          )}
          {(t.statusId === TicketStatus.New || (t.statusId === TicketStatus.Open && mine)) && (
            <button
              data-testid="transfer"
              onClick={() => {
                void store.loadRoster();
                void store.loadTeams();
                transferDialog.current?.showModal();
              }}
            >
              Transfer…
            </button>
          )}
          {t.statusId === TicketStatus.Open && mine && store.routed.value.has(t.ticketId) && (
            <button onClick={() => void store.decline(t)}>Decline</button>
          )}
          {t.statusId === TicketStatus.Open && mine && (
            <button onClick={() => void store.setStatus(t, TicketStatus.Closed)}>Close</button>
          )}
          {t.statusId === TicketStatus.Closed && <button onClick={() => void store.setStatus(t, TicketStatus.Open)}>Reopen</button>}
        </div>
      </header>
      <VisitorPanel context={t.visitorContext} />
      {store.notes.value[t.ticketId] && (
        <p class="transfer-note" data-testid="transfer-note">
          Transferred by {store.notes.value[t.ticketId].byNm}: “{store.notes.value[t.ticketId].note}”
        </p>
      )}

      <ol class="messages" ref={list} role="log" aria-label="Messages" tabIndex={0}>
        {!conv?.loaded && messages.length === 0 && <li class="note">Loading…</li>}
        {conv?.loaded && messages.length === 0 && <li class="note">No messages yet.</li>}
        {messages.map((m, i) => (
          <MessageItem
            key={m.messageId}
            m={m}
            mine={m.senderId === me?.userId}
            showName={i === 0 || messages[i - 1].senderId !== m.senderId}
          />
        ))}
      </ol>
      <TypingLine name={typingName} />
      {canWrite ? (
        <Composer
          id="composer-text"
          rows={2}
          placeholder="Write a reply… (Enter sends, Shift+Enter for a new line)"
          onSend={(text) => store.send(ticketId, text)}
          onTyping={() => store.typingIn(ticketId)}
        />
      ) : (
        <p class="readonly" data-testid="readonly">
          {t.statusId === TicketStatus.Closed
            ? 'This ticket is closed.'
            : t.statusId === TicketStatus.New
              ? 'Accept the ticket to answer.'
              : `${t.handleByNm || t.handleById} handles this ticket. Take it over to answer.`}
        </p>
      )}

      <dialog ref={confirmHijack} class="dialog" aria-labelledby="hijack-title">
        <form
          method="dialog"
          onSubmit={async (e) => {
            e.preventDefault();
            confirmHijack.current?.close();
            await store.assign(t, null);
          }}
        >
          <h2 id="hijack-title">Take over this ticket?</h2>
          <p>
            {t.handleByNm || t.handleById} is handling “{t.ticketNm}”. They will be told that you took it over.
          </p>
          <div class="dialog-actions">
            <button type="button" onClick={() => confirmHijack.current?.close()}>
              Cancel
            </button>
            <button type="submit" class="primary" data-testid="confirm-hijack">
              Take over
            </button>
          </div>
        </form>
      </dialog>
      <AssignDialog store={store} ticket={t} dialog={assignDialog} />
      <TransferDialog store={store} ticket={t} dialog={transferDialog} />
    </section>
  );
}

function AssignDialog({ store, ticket, dialog }: { store: Store; ticket: Ticket; dialog: { current: HTMLDialogElement | null } }) {
  const target = useSignal('');
  const me = store.me.value?.userId;
  const options = useComputed(() => store.operators.value.filter((o) => o.id !== ticket.handleById));
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="assign-title">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const id = target.value.trim();
          if (!id) return;
          dialog.current?.close();
          const name = id === me ? 'you' : (options.value.find((o) => o.id === id)?.name ?? id);
          if (await store.assign(ticket, id)) store.toast(`Assigned “${ticket.ticketNm}” to ${name}.`);
          target.value = '';
        }}
      >
        <h2 id="assign-title">Assign “{ticket.ticketNm}”</h2>
        <label for="assign-to">Operator</label>
        <select
          id="assign-to"
          required
          value={target.value}
          onChange={(e) => (target.value = (e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">Choose an operator…</option>
          {options.value.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
              {o.status ? ` — ${o.online ? o.status.toLowerCase() : 'offline'}` : ''}
            </option>
          ))}
        </select>
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Assign
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Transfers to a team (back to its queue) or to an operator, with a note for whoever takes it. */
function TransferDialog({ store, ticket, dialog }: { store: Store; ticket: Ticket; dialog: { current: HTMLDialogElement | null } }) {
  const target = useSignal('');
  const note = useSignal('');
  const operators = useComputed(() => store.operators.value.filter((o) => o.id !== ticket.handleById));
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="transfer-title" data-testid="transfer-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const cut = target.value.indexOf(':');
          const kind = target.value.slice(0, cut);
          const id = target.value.slice(cut + 1);
          if (cut < 0 || !id) return;
          dialog.current?.close();
          const to = kind === 'team' ? { team: id } : { operatorId: id };
          const name =
            kind === 'team'
              ? (store.teams.value.find((x) => x.teamId === id)?.name ?? id)
              : (operators.value.find((o) => o.id === id)?.name ?? id);
          if (await store.transfer(ticket, to, note.value.trim())) store.toast(`Transferred “${ticket.ticketNm}” to ${name}.`);
          target.value = '';
          note.value = '';
        }}
      >
        <h2 id="transfer-title">Transfer “{ticket.ticketNm}”</h2>
        <label for="transfer-to">To</label>
        <select
          id="transfer-to"
          required
          value={target.value}
          onChange={(e) => (target.value = (e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">Choose a team or an operator…</option>
          <optgroup label="Teams">
            {store.teams.value.map((x) => (
              <option key={x.teamId} value={`team:${x.teamId}`}>
                {x.name}
              </option>
            ))}
          </optgroup>
          <optgroup label="Operators">
            {operators.value.map((o) => (
              <option key={o.id} value={`operator:${o.id}`}>
                {o.name}
                {o.status ? ` — ${o.online ? o.status.toLowerCase() : 'offline'}` : ''}
              </option>
            ))}
          </optgroup>
        </select>
        <label for="transfer-note">Note (optional)</label>
        <textarea
          id="transfer-note"
          rows={3}
          maxLength={4000}
          value={note.value}
          onInput={(e) => (note.value = (e.currentTarget as HTMLTextAreaElement).value)}
        />
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Transfer
          </button>
        </div>
      </form>
    </dialog>
  );
}

function Toasts({ store }: { store: Store }) {
  return (
    <div class="toasts" aria-live="polite" data-testid="toasts">
      {store.toasts.value.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button class="ghost" aria-label="Dismiss" onClick={() => store.dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
