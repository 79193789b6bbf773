// The chat widget's state: the end user's current ticket and its messages,
// fed by livechat events and REST catch-up. History lives on the server:
// after a reload the widget fetches the user's tickets and messages again.
import { computed, effect, signal, untracked } from '@preact/signals';

import { Api } from '../shared/api';
import { Auth, AuthError } from '../shared/auth';
import { titleOf } from '../shared/format';
// tr, not t: t is a ticket throughout this file.
import { t as tr } from '../shared/i18n';
import { uuid } from '../shared/ids';
import { localStore, sessionStore } from '../shared/storage';
import { VisitorAuth } from '../shared/visitor';
import { isLivechatError, Livechat, type Connection } from '../shared/livechat';
import { addMessage, catchUpAnchor, mergeMessages, raiseStatus } from '../shared/messages';
import {
  MessageStatus,
  TicketStatus,
  type Availability,
  type FrontendConfig,
  type LivechatError,
  type Message,
  type Principal,
  type QueuePosition,
  type Ticket,
} from '../shared/types';

export type Phase = 'loading' | 'signed-out' | 'signed-in';

export interface Notice {
  id: number;
  text: string;
  /** Shown after this message (null: before any). */
  after: string | null;
}

export interface WidgetOptions {
  title: string;
  accent: string;
  position: 'left' | 'right';
  embedded: boolean;
  /** The embedding page's origin; null when it is not known (nothing is posted). */
  parentOrigin: string | null;
  /** The identity the site signed for its logged-in user (identified visitors). */
  identity: string | null;
  /** What the embedding page told of the visitor (page, referrer, the site's attributes). */
  context: Record<string, string>;
  /** The team the visitor's tickets are for (the embed tag's data-team), if any. */
  team: string | null;
}

const TYPING_SHOWN_MS = 4000;
const TYPING_SEND_EVERY_MS = 1500;
const OPEN_KEY = 'switchboard:widget:open';
/** + a ticket's id: the user rated it or skipped the question. */
const RATED_KEY = 'switchboard:widget:rated:';

function describe(e: unknown): string {
  if (isLivechatError(e)) return e.message || e.code;
  return e instanceof Error ? e.message : String(e);
}

export class WidgetStore {
  readonly phase = signal<Phase>('loading');
  readonly error = signal('');
  readonly me = signal<Principal | null>(null);
  readonly conn = signal<Connection>('connecting');
  readonly expired = signal(false);
  readonly open = signal(false);
  readonly ticket = signal<Ticket | null>(null);
  readonly loaded = signal(false);
  readonly messages = signal<Message[]>([]);
  readonly notices = signal<Notice[]>([]);
  readonly typing = signal<string | null>(null);
  readonly starting = signal(false);
  /** The current ticket's place in the queue while it waits. */
  readonly queue = signal<QueuePosition | null>(null);
  /** The rating prompt of a closed ticket: shown, sending, done (thanked) or failed. */
  readonly rating = signal<{ state: 'idle' | 'sending' | 'done'; error: string }>({ state: 'idle', error: '' });
  /** Whether the team takes live chats now (null: not known yet, or could not ask). */
  readonly availability = signal<Availability | null>(null);

  readonly auth: Auth;
  /** Set when the server issues the widget's tokens itself (no sign-in). */
  readonly visitor: VisitorAuth | null;
  readonly api: Api;
  private chat: Livechat | null = null;
  private popup: Window | null = null;
  private noticeSeq = 0;
  private typingTimer = 0;
  private lastTypingSent = 0;
  private statusSent = new Map<string, number>();

  /** Messages from the operator not yet read: the launcher's badge. */
  readonly unread = computed(() => {
    const me = this.me.value?.userId;
    return this.messages.value.filter((m) => m.senderId !== me && m.statusId < MessageStatus.Read).length;
  });

  constructor(
    readonly cfg: FrontendConfig,
    readonly opts: WidgetOptions,
  ) {
    this.auth = new Auth(cfg, 'switchboard:widget');
    this.visitor = cfg.visitors && cfg.visitors !== 'oidc' ? new VisitorAuth('switchboard:visitor', opts.identity) : null;
    this.api = new Api(() => this.token());
    this.open.value = !opts.embedded || sessionStore().getItem(OPEN_KEY) === '1';
    window.addEventListener('message', (e) => void this.onSignInMessage(e));
    window.addEventListener('message', (e) => this.onPageMessage(e));
    document.addEventListener('visibilitychange', () => this.acknowledge());
    effect(() => {
      const open = this.open.value;
      const unread = this.unread.value;
      sessionStore().setItem(OPEN_KEY, open ? '1' : '0');
      // The loader on the host page sizes the frame; it learns nothing else,
      // and no page but the embedding one learns even that.
      if (opts.embedded && opts.parentOrigin) {
        window.parent.postMessage({ type: 'switchboard:widget', open, unread }, opts.parentOrigin);
      }
      void this.messages.value;
      untracked(() => this.acknowledge());
    });
  }

  /** The current access token, from whichever source this deployment uses. */
  private token(): string | null {
    return this.visitor ? this.visitor.token() : this.auth.token();
  }

  boot(): void {
    if (this.visitor) void this.startVisitor();
    else if (this.auth.token()) this.start();
    else this.phase.value = 'signed-out';
  }

  // ------------------------------------------------------------ visitor (no sign-in)

  /** Gets a visitor token (the stored visitor's, renewed, or a new one) and connects. */
  private async startVisitor(): Promise<void> {
    this.error.value = '';
    this.phase.value = 'loading';
    try {
      await this.visitor!.ensure();
    } catch (e) {
      this.phase.value = 'signed-out';
      this.error.value = `The chat could not start: ${describe(e)}`;
      return;
    }
    this.start();
  }

  /** A visitor's token expired or was refused: renew it, else start over. */
  private async renewVisitor(): Promise<void> {
    const fresh = await this.visitor!.refresh();
    if (fresh) {
      this.chat?.reauthenticate(fresh.accessToken);
      this.visitor!.keepFresh((token) => this.chat?.reauthenticate(token));
      return;
    }
    this.chat?.close();
    this.chat = null;
    this.ticket.value = null;
    this.rating.value = { state: 'idle', error: '' };
    this.messages.value = [];
    this.notices.value = [];
    this.loaded.value = false;
    await this.startVisitor();
  }

  // ------------------------------------------------------------ sign-in (pop-up)

  async signIn(): Promise<void> {
    if (this.visitor) return this.startVisitor();
    this.error.value = '';
    // Opened at once, in the click, or the browser blocks it.
    const popup = window.open('', 'switchboard-signin', 'popup,width=480,height=680');
    if (!popup) {
      this.error.value = 'Please allow pop-ups for this site to sign in.';
      return;
    }
    try {
      popup.location.href = await this.auth.authorizeUrl(location.origin + '/widget/callback');
      this.popup = popup;
    } catch (e) {
      popup.close();
      this.error.value = describe(e);
    }
  }

  /** Switchboard.identify and Switchboard.open on the embedding page. */
  private onPageMessage(e: MessageEvent): void {
    const opts = this.opts;
    if (!opts.embedded || e.source !== window.parent || !opts.parentOrigin || e.origin !== opts.parentOrigin) return;
    const data = e.data as { type?: string; attributes?: Record<string, unknown>; pageUrl?: unknown } | null;
    if (data?.type === 'switchboard:open') this.open.value = true;
    if (data?.type !== 'switchboard:identify') return;
    const next = { ...opts.context };
    for (const [k, v] of Object.entries(data.attributes ?? {})) if (typeof v === 'string') next[k] = v;
    if (typeof data.pageUrl === 'string') next.pageUrl = data.pageUrl;
    opts.context = next;
  }

  /** The context sent with a new ticket: the page's, and what the browser says of itself. */
  private visitorContext(): Record<string, string> {
    const ctx: Record<string, string> = {
      userAgent: navigator.userAgent,
      locale: navigator.language,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      ...this.opts.context,
    };
    // Within the server's bounds (32 entries, keys of 64 bytes, values of 2048).
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx).slice(0, 32)) if (k && k.length <= 64 && v) out[k] = v.slice(0, 2000);
    return out;
  }

  private async onSignInMessage(e: MessageEvent): Promise<void> {
    const data = e.data as { type?: string; search?: string } | null;
    if (e.origin !== location.origin || !this.popup || e.source !== this.popup || data?.type !== 'switchboard:signin') return;
    this.popup = null;
    try {
      await this.auth.completeSignIn(new URLSearchParams(data.search ?? ''));
      this.start();
    } catch (err) {
      this.error.value = err instanceof AuthError ? err.message : `Sign-in failed: ${describe(err)}`;
    }
  }

  signOut(): void {
    this.chat?.close();
    this.chat = null;
    (this.visitor ?? this.auth).signOut();
    this.me.value = null;
    this.ticket.value = null;
    this.rating.value = { state: 'idle', error: '' };
    this.messages.value = [];
    this.notices.value = [];
    this.phase.value = 'signed-out';
  }

  private start(): void {
    this.phase.value = 'signed-in';
    this.expired.value = false;
    (this.visitor ?? this.auth).keepFresh((token) => this.chat?.reauthenticate(token));
    const chat = new Livechat(() => this.token(), {
      ready: (me) => void this.onReady(me),
      state: (s) => (this.conn.value = s),
      unauthenticated: (err) => this.onUnauthenticated(err),
    });
    this.chat = chat;
    const s = chat.socket;
    s.on('ticketAccepted', (t: Ticket) => this.onTicketAccepted(t));
    s.on('ticketStatusUpdated', (id: string, status: number) => this.onStatusUpdated(id, status));
    s.on('queuePosition', (q: QueuePosition) => {
      if (q?.ticketId === this.ticket.value?.ticketId) this.queue.value = q;
    });
    s.on('messageUpdated', (m: Message) => this.onMessage(m));
    // Rated in another tab: this one stops asking.
    s.on('ticketRated', (r: { ticketId: string; score: number; comment: string; at: string }) => {
      const t = this.ticket.value;
      if (t && t.ticketId === r.ticketId) this.ticket.value = { ...t, rating: { score: r.score, comment: r.comment, at: r.at } };
    });
    s.on('messageStatusUpdated', (id: string, status: number) => {
      this.messages.value = raiseStatus(this.messages.value, id, status);
    });
    s.on('typing', (ticketId: string, name: string) => {
      if (ticketId !== this.ticket.value?.ticketId) return;
      this.typing.value = name;
      clearTimeout(this.typingTimer);
      this.typingTimer = window.setTimeout(() => (this.typing.value = null), TYPING_SHOWN_MS);
    });
  }

  private onUnauthenticated(err: LivechatError): void {
    if (this.visitor) {
      void this.renewVisitor();
      return;
    }
    if (err.code === 'TOKEN_EXPIRED' || !this.auth.token()) {
      this.expired.value = true;
      this.auth.signOut();
      this.chat?.close();
      this.chat = null;
      this.phase.value = 'signed-out';
      this.error.value = 'Your session has expired. Please sign in again.';
      return;
    }
    this.signOut();
    this.error.value = `The server refused the sign-in (${err.code}).`;
  }

  // ------------------------------------------------------------ catch-up

  private async onReady(me: Principal): Promise<void> {
    this.me.value = me;
    try {
      await this.chat!.call('subscribe', { userId: me.userId });
    } catch (e) {
      this.error.value = `Could not connect the chat: ${describe(e)}`;
      return;
    }
    void this.checkAvailability();
    const cur = this.ticket.value;
    if (cur && this.loaded.value) {
      // A reconnect: what happened to the ticket, and what was missed.
      await this.refreshTicket(cur.ticketId);
      await this.loadMessages(cur.ticketId, catchUpAnchor(this.messages.value, me.userId));
    } else if (!cur) {
      await this.pickTicket();
    }
    this.resendPending();
  }

  /** Asks whether the team is there; offline, the start form takes an email address. */
  async checkAvailability(): Promise<void> {
    try {
      this.availability.value = await this.api.availability(this.opts.team ?? '');
    } catch {
      this.availability.value = null; // not known: a live chat, as before
    }
  }

  /** The latest open ticket of the user, else the latest closed one. */
  private async pickTicket(): Promise<void> {
    let all: Ticket[];
    try {
      all = await this.api.tickets();
    } catch (e) {
      this.error.value = `Could not load your conversations: ${describe(e)}`;
      return;
    }
    all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    const t = all.find((x) => x.statusId !== TicketStatus.Closed) ?? all[0] ?? null;
    if (this.ticket.value) return; // the user started one meanwhile
    this.ticket.value = t;
    this.messages.value = [];
    this.notices.value = [];
    if (t) await this.loadMessages(t.ticketId);
    else this.loaded.value = true;
  }

  private async refreshTicket(id: string): Promise<void> {
    try {
      const t = (await this.api.tickets()).find((x) => x.ticketId === id);
      if (t) this.applyTicket(t);
    } catch {
      /* the next event or reconnect tries again */
    }
  }

  private async loadMessages(ticketId: string, since?: string): Promise<void> {
    try {
      const fetched = await this.api.messages(ticketId, since);
      if (this.ticket.value?.ticketId !== ticketId) return;
      this.messages.value = mergeMessages(this.messages.value, since, fetched);
      this.loaded.value = true;
    } catch (e) {
      this.error.value = `Could not load the conversation: ${describe(e)}`;
    }
  }

  // ------------------------------------------------------------ live events

  private note(text: string): void {
    const list = this.messages.value;
    const after = list.length ? list[list.length - 1].messageId : null;
    this.notices.value = [...this.notices.value, { id: ++this.noticeSeq, text, after }];
  }

  private applyTicket(t: Ticket): void {
    const prev = this.ticket.value;
    if (prev && prev.ticketId === t.ticketId) {
      if (t.handleById && t.handleById !== prev.handleById) this.note(t.handleByNm ? tr('widget.joined', { name: t.handleByNm }) : tr('widget.anOperatorJoined'));
      if (prev.statusId !== t.statusId) {
        if (t.statusId === TicketStatus.Closed) this.note(tr('widget.wasClosed'));
        else if (prev.statusId === TicketStatus.Closed) this.note(tr('widget.wasReopened'));
      }
    }
    this.ticket.value = t;
  }

  private onTicketAccepted(t: Ticket): void {
    if (t.ticketId === this.ticket.value?.ticketId) this.applyTicket(t);
  }

  private onStatusUpdated(id: string, status: number): void {
    const t = this.ticket.value;
    if (!t || t.ticketId !== id) return;
    this.applyTicket({ ...t, statusId: status });
    // A reopen names a new handler, which the event does not carry.
    if (status === TicketStatus.Open) void this.refreshTicket(id);
  }

  private onMessage(m: Message): void {
    const t = this.ticket.value;
    if (!t || t.ticketId !== m.ticketId) {
      // A message on another of the user's tickets (reopened): show that one.
      if (!t || t.statusId === TicketStatus.Closed) {
        this.ticket.value = null;
        this.loaded.value = false;
        void this.pickTicket();
      }
      return;
    }
    if (m.senderId !== this.me.value?.userId) this.typing.value = null;
    this.messages.value = addMessage(this.messages.value, m);
  }

  // ------------------------------------------------------------ receipts

  /** Read (3) when the panel is open and on screen, else delivered (2). */
  acknowledge(): void {
    const me = this.me.value?.userId;
    if (!me || !this.chat?.ready) return;
    const want = this.open.value && document.visibilityState === 'visible' ? MessageStatus.Read : MessageStatus.Delivered;
    const ids: string[] = [];
    for (const m of this.messages.value) {
      if (m.senderId === me || m.statusId >= want || (this.statusSent.get(m.messageId) ?? 0) >= want) continue;
      this.statusSent.set(m.messageId, want);
      ids.push(m.messageId);
      this.chat
        .call('updateMessageStatus', m.messageId, want, me, m.senderId, false)
        .catch(() => this.statusSent.delete(m.messageId));
    }
    // Shown at once (the launcher's badge goes); the sender hears it from the server.
    if (ids.length) this.messages.value = ids.reduce((l, id) => raiseStatus(l, id, want), this.messages.value);
  }

  // ------------------------------------------------------------ commands

  setOpen(open: boolean): void {
    this.open.value = open;
    // Someone may have come online (or gone) since the widget asked.
    if (open && !this.ticket.value && this.chat?.ready) void this.checkAvailability();
  }

  /**
   * Opens a ticket with its first message. While the team is offline the
   * visitor's email goes with it, and the ticket is marked offline: the
   * team hears of it by email and the transcript goes to that address.
   */
  async startTicket(text: string, email = ''): Promise<boolean> {
    const me = this.me.value;
    if (!me || !text.trim() || !this.chat?.ready) return false;
    this.starting.value = true;
    const ticketId = uuid();
    const ticketNm = titleOf(text);
    const offline = this.availability.value?.open === false;
    const visitorContext = this.visitorContext();
    if (offline) visitorContext.offline = 'true';
    if (email.trim()) visitorContext.email = email.trim();
    try {
      await this.chat.call('createTicket', ticketId, {
        ticketId,
        ticketNm,
        displayNm: me.displayNm,
        visitorContext,
        ...(this.opts.team ? { team: this.opts.team } : {}),
      });
    } catch (e) {
      this.error.value = `Could not start the conversation: ${describe(e)}`;
      this.starting.value = false;
      return false;
    }
    this.ticket.value = {
      ticketId,
      ticketNm,
      displayNm: me.displayNm,
      statusId: TicketStatus.New,
      createdAt: new Date().toISOString(),
      handleById: '',
      handleByNm: '',
      lastResponseAt: '',
      ownerId: me.userId,
      ownerNm: me.displayNm,
      programId: '',
      isExternal: false,
      visitorContext,
    };
    this.messages.value = [];
    this.notices.value = [];
    this.loaded.value = true;
    this.starting.value = false;
    this.send(text);
    if (offline && email.trim()) this.note(tr('widget.thanksEmail', { email: email.trim() }));
    return true;
  }

  /**
   * Whether to ask for a rating: the ticket is closed, not rated yet, and
   * the user has not skipped the question for it (once per ticket).
   */
  wantsRating(t: Ticket): boolean {
    if (t.statusId !== TicketStatus.Closed || t.rating || this.rating.value.state === 'done') return false;
    return localStore().getItem(RATED_KEY + t.ticketId) === null;
  }

  /** Skips the rating question of a ticket for good. */
  skipRating(t: Ticket): void {
    localStore().setItem(RATED_KEY + t.ticketId, 'skipped');
    this.rating.value = { state: 'idle', error: '' };
    this.ticket.value = { ...t };
  }

  /** Sends the user's rating of a closed ticket (rateTicket; once). */
  async rate(score: number, comment: string): Promise<void> {
    const t = this.ticket.value;
    if (!t || !this.chat) return;
    this.rating.value = { state: 'sending', error: '' };
    try {
      await this.chat.call('rateTicket', { ticketId: t.ticketId, score, comment: comment.trim() || undefined });
    } catch (e) {
      // Rated already (another tab): nothing to ask any more.
      if (!isLivechatError(e) || e.code !== 'CONFLICT') {
        this.rating.value = { state: 'idle', error: describe(e) };
        return;
      }
    }
    localStore().setItem(RATED_KEY + t.ticketId, 'rated');
    this.rating.value = { state: 'done', error: '' };
  }

  /** Leaves a closed conversation for a new one. */
  newConversation(): void {
    void this.checkAvailability();
    this.ticket.value = null;
    this.rating.value = { state: 'idle', error: '' };
    this.messages.value = [];
    this.notices.value = [];
    this.loaded.value = true;
  }

  send(text: string): void {
    const me = this.me.value;
    const t = this.ticket.value;
    if (!me || !t || !text.trim()) return;
    const m: Message = {
      ticketId: t.ticketId,
      messageId: uuid(),
      content: text,
      type: 1,
      encoding: 'utf-8',
      createdAt: new Date().toISOString(),
      statusId: MessageStatus.Sent,
      senderId: me.userId,
      senderNm: me.displayNm,
      recipientId: t.handleById,
      recipientNm: t.handleByNm,
      programId: '',
      pending: true,
    };
    this.messages.value = [...this.messages.value, m];
    this.lastTypingSent = 0;
    void this.deliver(m);
  }

  private async deliver(m: Message): Promise<void> {
    try {
      await this.chat!.call('updateMessage', m.ticketId, m.messageId, { content: m.content, type: m.type }, m.recipientId);
      this.messages.value = this.messages.value.map((x) => (x.messageId === m.messageId ? { ...x, pending: false } : x));
    } catch (e) {
      if (isLivechatError(e) && (e.code === 'OFFLINE' || e.code === 'TIMEOUT')) return; // resent on reconnect
      this.messages.value = this.messages.value.map((x) =>
        x.messageId === m.messageId ? { ...x, pending: false, failed: describe(e) } : x,
      );
    }
  }

  private resendPending(): void {
    for (const m of this.messages.value) if (m.pending) void this.deliver(m);
  }

  typingNow(): void {
    const t = this.ticket.value;
    const now = Date.now();
    if (!t || !t.handleById || now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent = now;
    this.chat?.notify('typing', t.ticketId, t.handleById);
  }
}
