// The operator tools' state beside the tickets: labels, canned responses,
// internal notes, alerts and whether the operator supervises. Fed by REST
// and by the livechat events the Store hands over (see listen).
import { computed, signal } from '@preact/signals';
import type { Socket } from 'socket.io-client';

import { ApiError } from '../shared/api';
import { uuid } from '../shared/ids';
import type { Alert, CannedResponse, Label, Note, Ticket } from '../shared/types';
import type { Store } from './store';

/** Whether a load failed for a reason worth telling (a server without the feature answers 404). */
function worthTelling(e: unknown): boolean {
  return !(e instanceof ApiError && e.status === 404);
}

/** An error's message for a toast: Error, ApiError and the livechat's {code, message} alike. */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e);
}

/** A canned response's text with its placeholders filled in for a ticket. */
export function fillPlaceholders(text: string, ticket: Ticket, operatorName: string): string {
  const values: Record<string, string> = {
    'user.name': ticket.ownerNm || ticket.ownerId,
    'operator.name': operatorName,
    'ticket.id': ticket.ticketId,
  };
  return text.replace(/\{\{\s*([a-z.]+)\s*\}\}/g, (all, name: string) => values[name] ?? all);
}

export class Ops {
  readonly labels = signal<Label[]>([]);
  readonly canned = signal<CannedResponse[]>([]);
  /** Internal notes by ticket id, oldest first; undefined until fetched. */
  readonly notes = signal<Record<string, Note[]>>({});
  readonly alerts = signal<Alert[]>([]);
  readonly unreadAlerts = signal(0);
  /** Whether the server lets me read the supervisor overview (supervisors and administrators). */
  readonly supervisor = signal(false);

  readonly labelById = computed(() => new Map(this.labels.value.map((l) => [l.id, l])));

  constructor(private readonly store: Store) {}

  /** The livechat events of the operator tools. */
  listen(s: Socket): void {
    s.on('ticketLabelsUpdated', (e: { ticketId: string; labels: string[] }) => {
      this.store.patchTicket(e.ticketId, { labels: e.labels });
      void this.loadLabels(); // the open counts changed
    });
    s.on('ticketRated', (e: { ticketId: string; score: number; comment: string; at: string }) =>
      this.store.patchTicket(e.ticketId, { rating: { score: e.score, comment: e.comment, at: e.at } }),
    );
    s.on('noteAdded', (n: Note) => this.putNote(n));
    s.on('alert', (a: Alert) => {
      this.alerts.value = [a, ...this.alerts.value.filter((x) => x.id !== a.id)];
      this.unreadAlerts.value += a.readAt ? 0 : 1;
      this.store.notifier.mention(a);
    });
    s.on('alertsRead', (e: { ids: string[] }) => this.markRead(e.ids));
  }

  /** Every (re)connection: what may have changed while away. */
  async refresh(): Promise<void> {
    await Promise.all([this.loadLabels(), this.loadCanned(), this.loadAlerts(), this.probeSupervisor()]);
    for (const id of Object.keys(this.notes.value)) void this.loadNotes(id);
  }

  /**
   * Labels and canned responses change without an event to operators:
   * fetched again whenever a conversation opens.
   */
  freshen(): void {
    void this.loadLabels();
    void this.loadCanned();
  }

  private async probeSupervisor(): Promise<void> {
    try {
      await this.store.api.overview();
      this.supervisor.value = true;
    } catch {
      this.supervisor.value = false;
    }
  }

  async loadLabels(): Promise<void> {
    try {
      this.labels.value = await this.store.api.labels();
    } catch (e) {
      if (worthTelling(e)) this.store.toast(`Labels: ${describe(e)}`, 'error');
    }
  }

  async loadCanned(): Promise<void> {
    try {
      this.canned.value = await this.store.api.cannedResponses();
    } catch (e) {
      if (worthTelling(e)) this.store.toast(`Canned responses: ${describe(e)}`, 'error');
    }
  }

  async loadAlerts(): Promise<void> {
    try {
      const a = await this.store.api.alerts();
      this.alerts.value = a.items;
      this.unreadAlerts.value = a.unreadCount;
    } catch (e) {
      if (worthTelling(e)) this.store.toast(`Alerts: ${describe(e)}`, 'error');
    }
  }

  async loadNotes(ticketId: string): Promise<void> {
    try {
      const fetched = await this.store.api.notes(ticketId);
      const pending = (this.notes.value[ticketId] ?? []).filter((n) => n.pending || n.failed);
      this.notes.value = { ...this.notes.value, [ticketId]: [...fetched, ...pending.filter((p) => !fetched.some((f) => f.id === p.id))] };
    } catch (e) {
      if (worthTelling(e)) this.store.toast(`Notes: ${describe(e)}`, 'error');
    }
  }

  private putNote(n: Note): void {
    const list = this.notes.value[n.ticketId] ?? [];
    const next = list.some((x) => x.id === n.id) ? list.map((x) => (x.id === n.id ? n : x)) : [...list, n];
    this.notes.value = { ...this.notes.value, [n.ticketId]: next };
  }

  /** Writes an internal note (addNote), shown at once, marked pending until acknowledged. */
  async addNote(ticketId: string, content: string): Promise<void> {
    const me = this.store.me.value;
    if (!me || !content.trim()) return;
    const note: Note = {
      id: uuid(),
      ticketId,
      authorId: me.userId,
      authorNm: me.displayNm,
      content,
      mentions: [],
      createdAt: new Date().toISOString(),
      isNote: true,
      pending: true,
    };
    this.putNote(note);
    try {
      await this.store.call('addNote', { ticketId, noteId: note.id, content });
      const cur = (this.notes.value[ticketId] ?? []).find((x) => x.id === note.id);
      if (cur?.pending) this.putNote({ ...cur, pending: false });
    } catch (e) {
      this.putNote({ ...note, pending: false, failed: describe(e) });
    }
  }

  async setLabel(ticket: Ticket, labelId: string, on: boolean): Promise<void> {
    try {
      const t = await this.store.api.labelTicket(ticket.ticketId, labelId, on);
      this.store.patchTicket(ticket.ticketId, { labels: t.labels ?? [] });
    } catch (e) {
      this.store.toast(`Labels: ${describe(e)}`, 'error');
    }
  }

  async readAlert(a: Alert): Promise<void> {
    if (a.readAt) return;
    try {
      await this.store.api.readAlert(a.id);
      this.markRead([a.id]);
    } catch (e) {
      this.store.toast(`Alerts: ${describe(e)}`, 'error');
    }
  }

  async readAllAlerts(): Promise<void> {
    try {
      await this.store.api.readAllAlerts();
      this.markRead(this.alerts.value.map((a) => a.id));
      this.unreadAlerts.value = 0;
    } catch (e) {
      this.store.toast(`Alerts: ${describe(e)}`, 'error');
    }
  }

  private markRead(ids: string[]): void {
    const now = new Date().toISOString();
    let n = 0;
    this.alerts.value = this.alerts.value.map((a) => {
      if (a.readAt || !ids.includes(a.id)) return a;
      n++;
      return { ...a, readAt: now };
    });
    this.unreadAlerts.value = Math.max(0, this.unreadAlerts.value - n);
  }
}
