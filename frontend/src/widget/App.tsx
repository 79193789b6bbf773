import { useSignal } from '@preact/signals';
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

import { formatDate } from '../shared/format';
import { t } from '../shared/i18n';
import { Composer, MessageItem, TypingLine } from '../shared/ui';
import { TicketStatus, type Message, type QueuePosition, type Ticket } from '../shared/types';
import type { Notice, WidgetStore } from './store';

function ChatIcon() {
  return (
    <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"
      />
    </svg>
  );
}

function CloseIcon() {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path fill="currentColor" d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z" />
    </svg>
  );
}

export function Widget({ store }: { store: WidgetStore }) {
  const open = store.open.value;
  const launcher = useRef<HTMLButtonElement>(null);
  const unread = store.unread.value;
  const close = () => {
    store.setOpen(false);
    launcher.current?.focus();
  };
  return (
    <div class={`widget ${store.opts.position} ${store.opts.embedded ? 'embedded' : 'standalone'}`}>
      {open && (
        <section
          class="panel"
          id="sb-panel"
          aria-label={store.opts.title}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
        >
          <header class="panel-head">
            <div>
              <h1>{store.opts.title}</h1>
              <StatusLine store={store} />
            </div>
            {store.opts.embedded && (
              <button class="ghost icon" aria-label={t('widget.closeChat')} onClick={close}>
                <CloseIcon />
              </button>
            )}
          </header>
          <Body store={store} />
        </section>
      )}
      {store.opts.embedded && (
        <button
          ref={launcher}
          class="launcher"
          aria-expanded={open}
          aria-controls="sb-panel"
          aria-label={open ? t('widget.launcherClose') : unread ? t('widget.launcherUnread', { n: unread }) : t('widget.launcherOpen')}
          onClick={() => store.setOpen(!open)}
          data-testid="launcher"
        >
          {open ? <CloseIcon /> : <ChatIcon />}
          {!open && unread > 0 && (
            <span class="badge" aria-hidden="true">
              {unread}
            </span>
          )}
        </button>
      )}
    </div>
  );
}

/** "You are number N in the queue (about M min)" once the server has said. */
function queueText(q: QueuePosition | null, ticketId: string): string {
  if (!q || q.ticketId !== ticketId) return t('widget.waiting');
  const wait = q.estimatedWaitSeconds;
  if (wait == null) return t('widget.queuePosition', { position: q.position });
  return t('widget.queueAbout', { position: q.position, min: Math.max(1, Math.round(wait / 60)) });
}

/** When the team is back, in the visitor's own words and zone: "Monday 09:00". */
function backAt(iso: string | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const soon = at.getTime() - Date.now() < 6 * 24 * 3600 * 1000;
  const when = formatDate(at, soon
    ? { weekday: 'long', hour: '2-digit', minute: '2-digit' }
    : { dateStyle: 'medium', timeStyle: 'short' });
  return t('widget.backAt', { when });
}

function StatusLine({ store }: { store: WidgetStore }) {
  const tk = store.ticket.value;
  let text = t('widget.usually');
  if (!tk && store.availability.value?.open === false) text = t('widget.offline');
  if (store.phase.value === 'signed-in' && store.conn.value === 'offline') text = t('widget.reconnecting');
  else if (tk?.statusId === TicketStatus.New && tk.visitorContext?.offline === 'true') text = t('widget.byEmail');
  else if (tk?.statusId === TicketStatus.New) text = queueText(store.queue.value, tk.ticketId);
  else if (tk?.statusId === TicketStatus.Open) text = t('widget.chattingWith', { name: tk.handleByNm || t('widget.anOperator') });
  else if (tk?.statusId === TicketStatus.Closed) text = t('widget.closed');
  return (
    <p class="status" data-testid="widget-status" aria-live="polite">
      {text}
    </p>
  );
}

function Body({ store }: { store: WidgetStore }) {
  if (store.phase.value === 'loading') return <p class="pad muted">{t('common.loading')}</p>;
  if (store.phase.value === 'signed-out') return <SignIn store={store} />;
  if (!store.loaded.value) return <p class="pad muted">{t('widget.loadingConversation')}</p>;
  if (!store.ticket.value) return <StartForm store={store} />;
  return <Conversation store={store} />;
}

function SignIn({ store }: { store: WidgetStore }) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => button.current?.focus(), []);
  return (
    <div class="pad signin">
      {!store.visitor && <p>{t('widget.signInIntro')}</p>}
      {store.error.value && (
        <p class="notice error" role="alert">
          {store.error.value}
        </p>
      )}
      <button ref={button} class="primary" onClick={() => void store.signIn()}>
        {store.visitor ? t('widget.tryAgain') : t('widget.signIn')}
      </button>
      {store.cfg.devIssuer && !store.visitor && (
        <p class="hint">{t('widget.devHint')}</p>
      )}
    </div>
  );
}

function StartForm({ store }: { store: WidgetStore }) {
  const text = useSignal('');
  const email = useSignal('');
  const area = useRef<HTMLTextAreaElement>(null);
  const emailField = useRef<HTMLInputElement>(null);
  useEffect(() => area.current?.focus(), []);
  const away = store.availability.value;
  const offline = away?.open === false;
  const submit = async () => {
    const value = text.value;
    if (!value.trim()) return;
    if (offline && !emailField.current?.checkValidity()) {
      emailField.current?.reportValidity();
      return;
    }
    text.value = '';
    if (!(await store.startTicket(value, offline ? email.value : ''))) text.value = value;
  };
  return (
    <form
      class="pad start"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {offline ? (
        <p class="notice offline" data-testid="offline-notice" role="status">
          {t('widget.offlineNotice')}
          {away?.reason === 'hours' && backAt(away.nextOpenAt) && <> {backAt(away.nextOpenAt)}</>}
        </p>
      ) : (
        <p>{t('widget.hello', { name: store.me.value?.displayNm || t('widget.there') })}</p>
      )}
      {store.error.value && (
        <p class="notice error" role="alert">
          {store.error.value}
        </p>
      )}
      <label for="start-text" class="sr-only">
        {t('widget.question')}
      </label>
      <textarea
        id="start-text"
        ref={area}
        rows={4}
        placeholder={t('widget.questionPlaceholder')}
        value={text.value}
        onInput={(e) => (text.value = (e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      {offline && (
        <>
          <label for="start-email">{t('widget.email')}</label>
          <input
            id="start-email"
            ref={emailField}
            type="email"
            required
            maxLength={254}
            autoComplete="email"
            placeholder="you@example.com"
            value={email.value}
            onInput={(e) => (email.value = (e.currentTarget as HTMLInputElement).value)}
          />
        </>
      )}
      <button type="submit" class="primary" disabled={store.starting.value || store.conn.value !== 'online'}>
        {offline ? t('widget.leaveMessage') : t('widget.startChat')}
      </button>
    </form>
  );
}

function Conversation({ store }: { store: WidgetStore }) {
  const tk = store.ticket.value!;
  const me = store.me.value?.userId;
  const messages = store.messages.value;
  const list = useRef<HTMLOListElement>(null);
  const lastId = messages.length ? messages[messages.length - 1].messageId : '';
  const notices = store.notices.value;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lastId, notices.length, store.typing.value]);

  const items: JSX.Element[] = [];
  const noticeItem = (n: Notice) => (
    <li key={`n${n.id}`} class="note" data-testid="notice">
      {n.text}
    </li>
  );
  notices.filter((n) => n.after === null).forEach((n) => items.push(noticeItem(n)));
  messages.forEach((m: Message, i) => {
    items.push(
      <MessageItem key={m.messageId} m={m} mine={m.senderId === me} showName={i === 0 || messages[i - 1].senderId !== m.senderId} />,
    );
    notices.filter((n) => n.after === m.messageId).forEach((n) => items.push(noticeItem(n)));
  });

  return (
    <>
      <ol class="messages" ref={list} aria-label={t('common.messages')} aria-live="polite" aria-relevant="additions" tabIndex={0}>
        {items}
      </ol>
      <TypingLine name={store.typing.value} />
      {tk.statusId === TicketStatus.Closed && store.wantsRating(tk) && <RatingPrompt store={store} ticket={tk} />}
      {tk.statusId === TicketStatus.Closed && store.rating.value.state === 'done' && (
        <p class="pad rated" role="status" data-testid="rating-thanks">
          {t('widget.rateThanks')}
        </p>
      )}
      {tk.statusId === TicketStatus.Closed ? (
        <div class="closed-bar">
          <p>{t('widget.closed')}</p>
          <button class="primary" onClick={() => store.newConversation()}>
            {t('widget.newConversation')}
          </button>
        </div>
      ) : (
        <Composer
          id="widget-text"
          rows={1}
          placeholder={t('widget.writeMessage')}
          autoFocus
          onSend={(text) => store.send(text)}
          onTyping={() => store.typingNow()}
        />
      )}
    </>
  );
}


/** After the ticket closes: 1 to 5 and an optional comment, once; skippable. */
function RatingPrompt({ store, ticket }: { store: WidgetStore; ticket: Ticket }) {
  const score = useSignal(0);
  const comment = useSignal('');
  const state = store.rating.value;
  return (
    <form
      class="pad rating"
      data-testid="rating"
      aria-labelledby="rating-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (score.value) void store.rate(score.value, comment.value);
      }}
    >
      <fieldset>
        <legend id="rating-title">{t('widget.rateTitle')}</legend>
        <div class="stars">
          {[1, 2, 3, 4, 5].map((n) => (
            <label key={n} class={n <= score.value ? 'on' : ''}>
              <input
                type="radio"
                name="score"
                value={n}
                checked={score.value === n}
                onChange={() => (score.value = n)}
              />
              <span aria-hidden="true">★</span>
              <span class="sr-only">{t('widget.rateScore', { n })}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <label for="rating-comment">{t('widget.rateComment')}</label>
      <textarea
        id="rating-comment"
        rows={2}
        maxLength={2000}
        value={comment.value}
        onInput={(e) => (comment.value = (e.currentTarget as HTMLTextAreaElement).value)}
      />
      {state.error && (
        <p class="notice error" role="alert">
          {t('widget.rateFailed', { reason: state.error })}
        </p>
      )}
      <div class="row">
        <button type="button" class="ghost" onClick={() => store.skipRating(ticket)}>
          {t('widget.rateSkip')}
        </button>
        <button type="submit" class="primary" disabled={!score.value || state.state === 'sending'}>
          {t('widget.rateSend')}
        </button>
      </div>
    </form>
  );
}
