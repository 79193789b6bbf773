// Keeping a ticket's message list in commit order while live events and
// REST catch-up both feed it: every message once, in order.
import { MessageStatus, type Message } from './types';

/**
 * Merges a REST answer into a list. `fetched` is every message committed
 * after `anchor` (exclusive; undefined = from the start), in commit order.
 * The list up to the anchor stays; then come the fetched messages (with the
 * highest status either side knows); then whatever the list has that the
 * answer had not: messages that arrived live after the answer was made, and
 * the caller's own messages not yet acknowledged.
 */
export function mergeMessages(list: Message[], anchor: string | undefined, fetched: Message[]): Message[] {
  const cut = anchor === undefined ? 0 : list.findIndex((m) => m.messageId === anchor) + 1;
  const prefix = list.slice(0, cut);
  const local = new Map(list.map((m) => [m.messageId, m]));
  const seen = new Set(prefix.map((m) => m.messageId));
  const merged: Message[] = [...prefix];
  for (const f of fetched) {
    if (seen.has(f.messageId)) continue;
    seen.add(f.messageId);
    const l = local.get(f.messageId);
    merged.push(l ? { ...f, statusId: Math.max(f.statusId, l.statusId) } : f);
  }
  for (const m of list.slice(cut)) {
    if (!seen.has(m.messageId)) {
      seen.add(m.messageId);
      merged.push(m);
    }
  }
  return merged;
}

/** Appends a live message unless the list has it; a known one is updated in place. */
export function addMessage(list: Message[], m: Message): Message[] {
  const i = list.findIndex((x) => x.messageId === m.messageId);
  if (i < 0) return [...list, m];
  const next = list.slice();
  next[i] = { ...m, statusId: Math.max(m.statusId, list[i].statusId), pending: false, failed: undefined };
  return next;
}

/** Raises one message's status (statuses only move forward). */
export function raiseStatus(list: Message[], messageId: string, status: number): Message[] {
  const i = list.findIndex((x) => x.messageId === messageId);
  if (i < 0 || list[i].statusId >= status) return list;
  const next = list.slice();
  next[i] = { ...list[i], statusId: status };
  return next;
}

/**
 * Where to catch up from after a reconnect: the message before the first
 * of my own messages that is not yet read (its receipts may have changed),
 * else the last message the list has. undefined = fetch everything.
 */
export function catchUpAnchor(list: Message[], me: string): string | undefined {
  const settled = list.filter((m) => !m.pending && !m.failed);
  const first = settled.findIndex((m) => m.senderId === me && m.statusId < MessageStatus.Read);
  if (first === 0) return undefined;
  if (first > 0) return settled[first - 1].messageId;
  return settled.length ? settled[settled.length - 1].messageId : undefined;
}
