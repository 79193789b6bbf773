// The operator dashboard's state: tickets, conversations, receipts, typing,
// toasts, kept in signals and fed by livechat events and REST catch-up.
import { batch, computed, effect, signal, untracked } from '@preact/signals';

import { Api } from '../shared/api';
import { Auth, AuthError, isAuthResponse } from '../shared/auth';
import { t } from '../shared/i18n';
import { uuid } from '../shared/ids';
import { isLivechatError, Livechat, type Connection } from '../shared/livechat';
import { addMessage, catchUpAnchor, mergeMessages, raiseStatus } from '../shared/messages';
import { Notifier } from './notify';
import { Ops } from './ops';
import {
  MessageStatus,
  TicketStatus,
  type FrontendConfig,
  type LivechatError,
  type Message,
  type Operator,
  type Principal,
  type Team,
  type Ticket,
  type Transfer,
} from '../shared/types';

export type Presence = 'available' | 'busy' | 'away';

export interface Conversation {
  loaded: boolean;
  messages: Message[];
}

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

export type Phase = 'loading' | 'signed-out' | 'signed-in' | 'error';

/** The dashboard's screens (#view=… in the address; the tickets without). */
export type View = 'tickets' | 'search' | 'canned' | 'labels' | 'supervisor' | 'reports';
const VIEWS: readonly View[] = ['tickets', 'search', 'canned', 'labels', 'supervisor', 'reports'];

const TYPING_SHOWN_MS = 4000;
const TYPING_SEND_EVERY_MS = 1500;
const CLOSED_SHOWN = 50;

function byCreated(a: Ticket, b: Ticket): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
}

function describe(e: unknown): string {
  if (isLivechatError(e)) {
    switch (e.code) {
      case 'CONFLICT':
        return t('err.conflict');
      case 'NOT_FOUND':
        return e.message.startsWith('no ticket') ? t('err.noTicket') : e.message;
      case 'INVALID_TRANSITION':
        return t('err.transition');
      case 'TICKET_CLOSED':
        return t('err.closed');
      default:
        return e.message || e.code;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

/** The name routing's assignments carry in notifyOfAssignment. */
const ROUTING_ACTOR = 'Switchboard';

export class Store {
  readonly phase = signal<Phase>('loading');
  readonly error = signal<string>('');
  readonly me = signal<Principal | null>(null);
  readonly conn = signal<Connection>('connecting');
  readonly expired = signal(false);
  /** Tickets routing gave me (notifyOfAssignment by Switchboard): mine to decline. */
  readonly routed = signal<ReadonlySet<string>>(new Set());
  readonly tickets = signal<Record<string, Ticket>>({});
  readonly convs = signal<Record<string, Conversation>>({});
  readonly selected = signal<string | null>(null);
  readonly view = signal<View>('tickets');
  /** Only tickets carrying this label in the lists ('' = all). */
  readonly labelFilter = signal('');
  readonly typing = signal<Record<string, string>>({});
  readonly toasts = signal<Toast[]>([]);
  /** My status as the server has it (PUT /api/v1/operators/me/status). */
  readonly presence = signal<Presence>('available');
  readonly roster = signal<Operator[]>([]);
  readonly teams = signal<Team[]>([]);
  /** The last transfer note of each ticket, as ticketTransferred told it. */
  readonly notes = signal<Record<string, Transfer>>({});

  readonly cfg: FrontendConfig;
  readonly auth: Auth;
  readonly api: Api;
  readonly ops: Ops;
  readonly notifier: Notifier;
  private chat: Livechat | null = null;
  private toastSeq = 0;
  private typingTimers = new Map<string, number>();
  private lastTypingSent = new Map<string, number>();
  private statusSent = new Map<string, number>(); // messageId -> highest status we reported
  private loading = new Map<string, Promise<void>>();
  private touched = new Map<string, number>(); // ticketId -> live-event epoch
  private epoch = 0;
  private refreshTimer = 0;

  readonly queue = computed(() => Object.values(this.tickets.value).filter((t) => t.statusId === TicketStatus.New).sort(byCreated));
  readonly mine = computed(() => {
    const me = this.me.value?.userId;
    return Object.values(this.tickets.value)
      .filter((t) => t.statusId === TicketStatus.Open && t.handleById === me)
      .sort(byCreated);
  });
  readonly allOpen = computed(() => Object.values(this.tickets.value).filter((t) => t.statusId === TicketStatus.Open).sort(byCreated));
  readonly closed = computed(() =>
    Object.values(this.tickets.value)
      .filter((t) => t.statusId === TicketStatus.Closed)
      .sort(byCreated)
      .reverse()
      .slice(0, CLOSED_SHOWN),
  );
  /** Unread end-user messages of tickets in the queue or handled by me. */
  readonly unread = computed(() => {
    const me = this.me.value?.userId;
    const out: Record<string, number> = {};
    for (const t of Object.values(this.tickets.value)) {
      if (t.statusId === TicketStatus.Closed) continue;
      if (t.statusId === TicketStatus.Open && t.handleById !== me) continue;
      const msgs = this.convs.value[t.ticketId]?.messages ?? [];
      const n = msgs.filter((m) => m.senderId === t.ownerId && m.statusId < MessageStatus.Read).length;
      if (n) out[t.ticketId] = n;
    }
    return out;
  });
  /**
   * Operators to assign to: the server's roster (with status and presence),
   * plus demo operators and handlers seen that have not signed in yet.
   */
  readonly operators = computed(() => {
    const byId = new Map<string, { id: string; name: string; status: string; online: boolean }>();
    const add = (id: string, name: string) => byId.has(id) || byId.set(id, { id, name, status: '', online: false });
    for (const o of this.roster.value) byId.set(o.operatorId, { id: o.operatorId, name: o.displayNm || o.operatorId, status: o.status, online: o.online });
    for (const o of this.cfg.demoOperators ?? []) add(o.id, o.name);
    for (const t of Object.values(this.tickets.value)) if (t.handleById) add(t.handleById, t.handleByNm || t.handleById);
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  });

  /** Unread messages of my tickets and the queue's, and unread alerts: the tab's title shows it. */
  readonly unreadTotal = computed(
    () => Object.values(this.unread.value).reduce((a, b) => a + b, 0) + this.ops.unreadAlerts.value,
  );

  constructor(cfg: FrontendConfig) {
    this.cfg = cfg;
    this.auth = new Auth(cfg, 'switchboard:dashboard');
    this.api = new Api(() => this.auth.token());
    this.ops = new Ops(this);
    this.notifier = new Notifier(this.unreadTotal, (id) => this.select(id));
    this.fromHash();
    window.addEventListener('hashchange', () => this.fromHash());
    document.addEventListener('visibilitychange', () => this.acknowledgeSelected());
    // Read receipts follow the conversation on screen.
    effect(() => {
      void this.selected.value;
      void this.convs.value;
      void this.tickets.value;
      untracked(() => this.acknowledgeSelected());
    });
    window.setInterval(() => this.pollSelected(), 5000);
  }

  get redirectUri(): string {
    return location.origin + '/dashboard/';
  }

  // ------------------------------------------------------------ sign-in

  async boot(): Promise<void> {
    const params = new URLSearchParams(location.search);
    if (isAuthResponse(params)) {
      history.replaceState(null, '', location.pathname + location.hash);
      try {
        await this.auth.completeSignIn(params);
      } catch (e) {
        this.error.value = e instanceof AuthError ? e.message : `Sign-in failed: ${describe(e)}`;
        this.phase.value = 'signed-out';
        return;
      }
    }
    if (!this.auth.token()) {
      this.phase.value = 'signed-out';
      return;
    }
    this.start();
  }

  async signIn(): Promise<void> {
    this.error.value = '';
    try {
      location.assign(await this.auth.authorizeUrl(this.redirectUri));
    } catch (e) {
      this.error.value = describe(e);
    }
  }

  signOut(): void {
    this.chat?.close();
    this.chat = null;
    this.auth.signOut();
    batch(() => {
      this.me.value = null;
      this.tickets.value = {};
      this.convs.value = {};
      this.phase.value = 'signed-out';
    });
  }

  private start(): void {
    this.phase.value = 'signed-in';
    this.expired.value = false;
    this.auth.keepFresh((token) => this.chat?.reauthenticate(token));
    const chat = new Livechat(() => this.auth.token(), {
      ready: (me) => void this.onReady(me),
      state: (s) => (this.conn.value = s),
      unauthenticated: (err) => this.onUnauthenticated(err),
    });
    this.chat = chat;
    const s = chat.socket;
    s.on('ticketCreated', (t: Ticket) => {
      this.putTicket(t, true);
      this.knowTeam(t.teamId);
      if (t.statusId === TicketStatus.New) this.notifier.newTicket(t.ticketId, t.ticketNm || t.ownerNm);
    });
    s.on('ticketAccepted', (t: Ticket) => this.onTicketAccepted(t));
    s.on('ticketStatusUpdated', (id: string, status: number) => this.onStatusUpdated(id, status));
    s.on('messageUpdated', (m: Message) => this.onMessage(m));
    s.on('messageStatusUpdated', (id: string, status: number) => this.onMessageStatus(id, status));
    s.on('typing', (ticketId: string, name: string) => this.onTyping(ticketId, name));
    s.on('notifyOfAssignment', (ticketId: string, kind: number, by: string) => this.onAssignment(ticketId, kind, by));
    s.on('ticketTransferred', (t: Ticket, tr: Transfer) => this.onTransferred(t, tr));
    this.ops.listen(s);
  }

  private onUnauthenticated(err: LivechatError): void {
    if (err.code === 'TOKEN_EXPIRED' || !this.auth.token()) {
      this.expired.value = true;
      return;
    }
    this.error.value = `The server refused the sign-in (${err.code}).`;
    this.signOut();
  }

  // ------------------------------------------------------------ catch-up

  /** Every (re)authentication: subscribe, then fetch everything missed. */
  private async onReady(me: Principal): Promise<void> {
    if (!me.roles.includes('operator')) {
      this.error.value = `${me.displayNm || me.userId} is not an operator. Sign in with an operator account.`;
      this.signOut();
      return;
    }
    this.me.value = me;
    try {
      await this.chat!.call('subscribeOperator');
    } catch (e) {
      this.toast(`Could not subscribe to the queue: ${describe(e)}`, 'error');
    }
    await Promise.all([this.refreshTickets(), this.loadRoster(), this.loadTeams(), this.ops.refresh()]);
    const jobs: Promise<void>[] = [];
    for (const [id, c] of Object.entries(this.convs.value)) {
      if (!c.loaded) continue;
      if (this.live(this.tickets.value[id])) jobs.push(this.catchUp(id));
      else this.setConv(id, { ...c, loaded: false }); // fetched again when opened
    }
    for (const t of [...this.queue.value, ...this.mine.value]) {
      if (!this.convs.value[t.ticketId]?.loaded) jobs.push(this.catchUp(t.ticketId));
    }
    const sel = this.selected.value;
    if (sel && !this.convs.value[sel]?.loaded) jobs.push(this.catchUp(sel));
    if (sel && !this.ops.notes.value[sel]) jobs.push(this.ops.loadNotes(sel));
    await Promise.all(jobs);
    this.resendPending();
  }

  /** Replaces the ticket lists with the server's, keeping what live events changed meanwhile. */
  async refreshTickets(): Promise<void> {
    const started = ++this.epoch;
    let lists: Ticket[][];
    try {
      lists = await Promise.all([TicketStatus.New, TicketStatus.Open, TicketStatus.Closed].map((s) => this.api.tickets(s)));
    } catch (e) {
      this.toast(`Could not load tickets: ${describe(e)}`, 'error');
      return;
    }
    const fresh = (id: string) => (this.touched.get(id) ?? 0) > started;
    const next: Record<string, Ticket> = {};
    for (const [id, t] of Object.entries(this.tickets.value)) if (fresh(id)) next[id] = t;
    for (const t of lists.flat()) if (!fresh(t.ticketId)) next[t.ticketId] = t;
    this.tickets.value = next;
  }

  /** Fetches a ticket's messages after `since` (all without) and merges them. */
  loadMessages(ticketId: string, since?: string): Promise<void> {
    const key = ticketId + '|' + (since ?? '');
    const running = this.loading.get(key);
    if (running) return running;
    const job = (async () => {
      try {
        const fetched = await this.api.messages(ticketId, since);
        const c = this.convs.value[ticketId] ?? { loaded: false, messages: [] };
        const anchor = since && c.messages.some((m) => m.messageId === since) ? since : undefined;
        this.setConv(ticketId, { loaded: true, messages: mergeMessages(c.messages, anchor, fetched) });
        this.acknowledge(ticketId);
      } catch (e) {
        if (!isLivechatError(e) || e.code !== 'NOT_FOUND') this.toast(`Could not load messages: ${describe(e)}`, 'error');
      } finally {
        this.loading.delete(key);
      }
    })();
    this.loading.set(key, job);
    return job;
  }

  private setConv(ticketId: string, c: Conversation): void {
    this.convs.value = { ...this.convs.value, [ticketId]: c };
  }

  private updateMessages(ticketId: string, f: (list: Message[]) => Message[]): void {
    const c = this.convs.value[ticketId] ?? { loaded: false, messages: [] };
    const next = f(c.messages);
    if (next !== c.messages) this.setConv(ticketId, { ...c, messages: next });
  }

  // ------------------------------------------------------------ live events

  private putTicket(t: Ticket, created = false): void {
    // Only a ticket's creation and the lists carry its visitor context.
    const prev = this.tickets.value[t.ticketId];
    if (!t.visitorContext && prev?.visitorContext) t = { ...t, visitorContext: prev.visitorContext };
    // Events that also reach the owner carry no labels: keep the ones known.
    if (!t.labels && prev?.labels) t = { ...t, labels: prev.labels };
    if (t.rating === undefined && prev?.rating) t = { ...t, rating: prev.rating };
    this.touched.set(t.ticketId, ++this.epoch);
    this.tickets.value = { ...this.tickets.value, [t.ticketId]: t };
    if (created && !this.convs.value[t.ticketId]) this.setConv(t.ticketId, { loaded: true, messages: [] });
  }

  private onTicketAccepted(t: Ticket): void {
    this.putTicket(t);
    const c = this.convs.value[t.ticketId];
    if (t.handleById === this.me.value?.userId) {
      if (!c?.loaded) void this.catchUp(t.ticketId);
      else this.acknowledge(t.ticketId);
    } else if (c?.loaded) {
      // Another operator's now: its messages no longer reach me.
      this.setConv(t.ticketId, { ...c, loaded: false });
    }
  }

  /** Whether every message of the ticket reaches me live. */
  private live(t: Ticket | undefined): boolean {
    return !!t && (t.statusId === TicketStatus.New || (t.statusId === TicketStatus.Open && t.handleById === this.me.value?.userId));
  }

  /** Fetches what a ticket's list is missing (all of it if it has nothing). */
  catchUp(ticketId: string): Promise<void> {
    const me = this.me.value?.userId ?? '';
    return this.loadMessages(ticketId, catchUpAnchor(this.convs.value[ticketId]?.messages ?? [], me));
  }

  private onStatusUpdated(id: string, status: number): void {
    const t = this.tickets.value[id];
    // Back in the queue (declined): nobody handles it.
    if (t && status === TicketStatus.New) this.putTicket({ ...t, statusId: status, handleById: '', handleByNm: '' });
    else if (t) this.putTicket({ ...t, statusId: status });
    // A reopen makes its caller the handler, which the event does not say.
    if (!t || status === TicketStatus.Open) {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = window.setTimeout(() => void this.refreshTickets(), 200);
    }
  }

  /** Changes some fields of a known ticket (labels, rating). */
  patchTicket(ticketId: string, patch: Partial<Ticket>): void {
    const t = this.tickets.value[ticketId];
    if (t) this.putTicket({ ...t, ...patch });
  }

  private onMessage(m: Message): void {
    this.clearTyping(m.ticketId);
    const t = this.tickets.value[m.ticketId];
    const mine = t?.statusId === TicketStatus.Open && t.handleById === this.me.value?.userId;
    if (t && mine && m.senderId === t.ownerId && !this.convs.value[m.ticketId]?.messages.some((x) => x.messageId === m.messageId)) {
      this.notifier.newMessage(m.ticketId, m.senderNm || t.ownerNm, m.type === 1 ? m.content : '');
    }
    const c = this.convs.value[m.ticketId];
    if (!c?.loaded) {
      // The list may have a gap before this message: fill it from before.
      const anchor = catchUpAnchor(c?.messages ?? [], this.me.value?.userId ?? '');
      this.updateMessages(m.ticketId, (list) => addMessage(list, m));
      void this.loadMessages(m.ticketId, anchor);
      return;
    }
    this.updateMessages(m.ticketId, (list) => addMessage(list, m));
    this.acknowledge(m.ticketId);
  }

  private onMessageStatus(id: string, status: number): void {
    for (const [ticketId, c] of Object.entries(this.convs.value)) {
      if (c.messages.some((m) => m.messageId === id)) {
        this.updateMessages(ticketId, (list) => raiseStatus(list, id, status));
        return;
      }
    }
  }

  private onTyping(ticketId: string, name: string): void {
    this.typing.value = { ...this.typing.value, [ticketId]: name };
    clearTimeout(this.typingTimers.get(ticketId));
    this.typingTimers.set(
      ticketId,
      window.setTimeout(() => this.clearTyping(ticketId), TYPING_SHOWN_MS),
    );
  }

  private clearTyping(ticketId: string): void {
    if (!(ticketId in this.typing.value)) return;
    const next = { ...this.typing.value };
    delete next[ticketId];
    this.typing.value = next;
  }

  private onAssignment(ticketId: string, kind: number, by: string): void {
    const tk = this.tickets.value[ticketId];
    const title = tk ? `“${tk.ticketNm || tk.ownerNm || t('toast.aTicket')}”` : t('toast.aTicket');
    const routed = new Set(this.routed.value);
    if (kind === 1 && by === ROUTING_ACTOR) routed.add(ticketId);
    else routed.delete(ticketId);
    this.routed.value = routed;
    if (kind === 0) this.toast(t('toast.tookOver', { name: by, title }));
    else this.toast(t('toast.assignedYou', { name: by, title }));
  }

  private onTransferred(t: Ticket, tr: Transfer): void {
    this.putTicket(t);
    this.knowTeam(t.teamId);
    if (tr.note) this.notes.value = { ...this.notes.value, [t.ticketId]: tr };
  }

  /** Fetches the teams again when a ticket names one not known yet (made since). */
  private knowTeam(id: string | undefined): void {
    if (id && !this.teams.value.some((x) => x.teamId === id)) void this.loadTeams();
  }

  /** Fetches the teams (for transfers and the team names shown). */
  async loadTeams(): Promise<void> {
    try {
      this.teams.value = await this.api.teams();
    } catch (e) {
      this.toast(`Could not load the teams: ${describe(e)}`, 'error');
    }
  }

  /** Transfers a ticket to a team or an operator, with an optional note. */
  async transfer(t: Ticket, to: { team?: string; operatorId?: string }, note: string): Promise<boolean> {
    return this.command('Transfer', () => this.chat!.call('transferTicket', { ticketId: t.ticketId, ...to, note }));
  }

  /** Gives a ticket routing assigned me back to the queue. */
  async decline(t: Ticket): Promise<void> {
    const ok = await this.command('Decline', () => this.chat!.call('declineTicket', t.ticketId));
    if (ok) {
      const routed = new Set(this.routed.value);
      routed.delete(t.ticketId);
      this.routed.value = routed;
      const cur = this.tickets.value[t.ticketId] ?? t;
      this.putTicket({ ...cur, statusId: TicketStatus.New, handleById: '', handleByNm: '' });
    }
  }

  // ------------------------------------------------------------ receipts

  acknowledgeSelected(): void {
    const id = this.selected.value;
    if (id) this.acknowledge(id);
  }

  /**
   * Reports receipts for the end user's messages of a ticket I handle:
   * read (3) when its conversation is on screen, else delivered (2).
   */
  acknowledge(ticketId: string): void {
    const me = this.me.value?.userId;
    const t = this.tickets.value[ticketId];
    const c = this.convs.value[ticketId];
    if (!me || !t || !c || t.handleById !== me || !this.chat?.ready) return;
    const onScreen = this.selected.value === ticketId && document.visibilityState === 'visible';
    const want = onScreen ? MessageStatus.Read : MessageStatus.Delivered;
    const ids: string[] = [];
    for (const m of c.messages) {
      if (m.senderId !== t.ownerId || m.statusId >= want) continue;
      if ((this.statusSent.get(m.messageId) ?? 0) >= want) continue;
      this.statusSent.set(m.messageId, want);
      ids.push(m.messageId);
      this.chat
        .call('updateMessageStatus', m.messageId, want, me, m.senderId, false)
        .catch(() => this.statusSent.delete(m.messageId));
    }
    // Shown at once (the unread badge goes); the sender hears it from the server.
    if (ids.length) this.updateMessages(ticketId, (list) => ids.reduce((l, id) => raiseStatus(l, id, want), list));
  }

  // ------------------------------------------------------------ commands

  select(ticketId: string | null): void {
    const hash = ticketId ? `#ticket=${encodeURIComponent(ticketId)}` : '';
    if (location.hash !== hash) history.replaceState(null, '', location.pathname + hash);
    this.selected.value = ticketId;
    this.view.value = 'tickets';
    if (ticketId && !this.tickets.value[ticketId]) void this.fetchTicket(ticketId);
    if (ticketId) void this.ops.loadNotes(ticketId);
    if (ticketId && !this.convs.value[ticketId]?.loaded) void this.catchUp(ticketId);
    else if (ticketId) this.acknowledge(ticketId);
  }

  /** A ticket someone else handles gets no live messages here: poll it while it is on screen. */
  private pollSelected(): void {
    const id = this.selected.value;
    if (!id || !this.chat?.ready || document.visibilityState !== 'visible') return;
    const t = this.tickets.value[id];
    if (t && !this.live(t) && t.statusId !== TicketStatus.Closed) void this.catchUp(id);
  }

  /** A ticket the lists do not hold (an alert's, an old one): fetched to be shown. */
  private async fetchTicket(ticketId: string): Promise<void> {
    try {
      const t = await this.api.ticket(ticketId);
      if (!this.tickets.value[ticketId]) this.putTicket(t);
    } catch {
      /* not found or not mine to see: the pane says so */
    }
  }

  /** Shows a ticket found elsewhere (search, supervisor), known to the lists or not. */
  openTicket(t: Ticket): void {
    if (!this.tickets.value[t.ticketId]) this.putTicket(t);
    this.select(t.ticketId);
  }

  /** Shows another screen; the tickets keep their selection. */
  show(view: View): void {
    const sel = this.selected.value;
    const hash = view !== 'tickets' ? `#view=${view}` : sel ? `#ticket=${encodeURIComponent(sel)}` : '';
    if (location.hash !== hash) history.replaceState(null, '', location.pathname + hash);
    this.view.value = view;
  }

  /** #ticket=<id> selects a ticket, #view=<screen> shows a screen. */
  private fromHash(): void {
    const ticket = /^#ticket=(.+)$/.exec(location.hash);
    const view = /^#view=(\w+)$/.exec(location.hash);
    if (ticket) {
      this.selected.value = decodeURIComponent(ticket[1]);
      this.view.value = 'tickets';
    } else if (view && (VIEWS as readonly string[]).includes(view[1])) {
      this.view.value = view[1] as View;
    } else {
      this.selected.value = null;
      this.view.value = 'tickets';
    }
  }

  /** A livechat command (for the operator tools' state). */
  call(event: string, ...args: unknown[]): Promise<void> {
    if (!this.chat) return Promise.reject(new Error('Not connected.'));
    return this.chat.call(event, ...args);
  }

  /** Fetches the roster; my own entry sets the status selector. */
  async loadRoster(): Promise<void> {
    try {
      this.roster.value = await this.api.operators();
    } catch (e) {
      this.toast(`Could not load the operators: ${describe(e)}`, 'error');
      return;
    }
    const mine = this.roster.value.find((o) => o.operatorId === this.me.value?.userId);
    const status = mine?.status.toLowerCase();
    if (status === 'available' || status === 'busy' || status === 'away') this.presence.value = status;
  }

  /** Sets my status on the server; the selector shows it once stored. */
  async setPresence(p: Presence): Promise<void> {
    const before = this.presence.value;
    this.presence.value = p;
    try {
      await this.api.setMyStatus(p.toUpperCase());
    } catch (e) {
      this.presence.value = before;
      this.toast(`Could not set your status: ${describe(e)}`, 'error');
    }
  }

  private async command(what: string, run: () => Promise<void>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (e) {
      this.toast(`${what}: ${describe(e)}`, 'error');
      return false;
    }
  }

  private requireMe(): Principal {
    const me = this.me.value;
    if (!me) throw { code: 'OFFLINE', message: 'Not connected.' } satisfies LivechatError;
    return me;
  }

  async accept(t: Ticket): Promise<void> {
    const ok = await this.command('Accept', async () => {
      await this.chat!.call('acceptTicket', t.ticketId, t, t.ownerId);
    });
    if (ok) {
      const me = this.requireMe();
      const cur = this.tickets.value[t.ticketId] ?? t;
      this.putTicket({ ...cur, statusId: TicketStatus.Open, handleById: me.userId, handleByNm: me.displayNm });
      this.select(t.ticketId);
    }
  }

  async setStatus(t: Ticket, status: number): Promise<void> {
    const what = status === TicketStatus.Closed ? (t.statusId === TicketStatus.New ? 'Reject' : 'Close') : 'Reopen';
    const ok = await this.command(what, () => this.chat!.call('updateTicketStatus', t.ticketId, t, status, t.ownerId));
    if (ok) {
      const cur = this.tickets.value[t.ticketId] ?? t;
      const me = this.requireMe();
      this.putTicket(
        status === TicketStatus.Open
          ? { ...cur, statusId: status, handleById: me.userId, handleByNm: me.displayNm }
          : { ...cur, statusId: status },
      );
      if (status === TicketStatus.Open) void this.catchUp(t.ticketId);
    }
  }

  /** Assigns to an operator; null takes the ticket over (hijack). */
  async assign(t: Ticket, handleById: string | null): Promise<boolean> {
    const what = handleById ? 'Assign' : 'Take over';
    return this.command(what, () => this.chat!.call('assignTicket', { ticketId: t.ticketId, handleById }));
  }

  send(ticketId: string, text: string): void {
    const me = this.me.value;
    const t = this.tickets.value[ticketId];
    if (!me || !t || !text.trim()) return;
    const m: Message = {
      ticketId,
      messageId: uuid(),
      content: text,
      type: 1,
      encoding: 'utf-8',
      createdAt: new Date().toISOString(),
      statusId: MessageStatus.Sent,
      senderId: me.userId,
      senderNm: me.displayNm,
      recipientId: t.ownerId,
      recipientNm: t.ownerNm,
      programId: t.programId,
      pending: true,
    };
    this.updateMessages(ticketId, (list) => [...list, m]);
    this.lastTypingSent.delete(ticketId);
    void this.deliver(m);
  }

  private async deliver(m: Message): Promise<void> {
    try {
      await this.chat!.call('updateMessage', m.ticketId, m.messageId, { content: m.content, type: m.type }, m.recipientId);
      this.updateMessages(m.ticketId, (list) => list.map((x) => (x.messageId === m.messageId ? { ...x, pending: false } : x)));
    } catch (e) {
      if (isLivechatError(e) && (e.code === 'OFFLINE' || e.code === 'TIMEOUT')) return; // resent on reconnect
      this.updateMessages(m.ticketId, (list) =>
        list.map((x) => (x.messageId === m.messageId ? { ...x, pending: false, failed: describe(e) } : x)),
      );
    }
  }

  /** Sends again, with the same ids, what was written while offline. */
  private resendPending(): void {
    for (const c of Object.values(this.convs.value)) for (const m of c.messages) if (m.pending) void this.deliver(m);
  }

  typingIn(ticketId: string): void {
    const t = this.tickets.value[ticketId];
    const now = Date.now();
    if (!t || now - (this.lastTypingSent.get(ticketId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent.set(ticketId, now);
    this.chat?.notify('typing', ticketId, t.ownerId);
  }

  toast(text: string, kind: Toast['kind'] = 'info'): void {
    const id = ++this.toastSeq;
    this.toasts.value = [...this.toasts.value, { id, text, kind }];
    window.setTimeout(() => this.dismiss(id), kind === 'error' ? 10_000 : 8_000);
  }

  dismiss(id: number): void {
    this.toasts.value = this.toasts.value.filter((t) => t.id !== id);
  }
}
