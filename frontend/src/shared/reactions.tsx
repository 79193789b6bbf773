// Emoji reactions on messages, in both faces: the chips under a message
// (emoji, how many, pressed when one of them is mine) and a small palette
// to add one. The server keeps them (one per user per emoji); every party
// of the ticket hears messageReactionsUpdated with all of a message's
// reactions, which replaces what the history (REST) gave.
import { signal, useSignal } from '@preact/signals';

import type { Livechat } from './livechat';
import type { Message, Principal, Reaction } from './types';

/** What a user can pick in the palette; any other emoji received is shown too. */
export const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];

/** The reactions heard live, by message id. */
const live = signal<Record<string, Reaction[]>>({});
let chat: Livechat | null = null;
let me = '';

/** Follows a livechat connection: who I am, and every reaction update. */
export function watchReactions(c: Livechat): void {
  chat = c;
  c.socket.on('authenticated', (p: Principal) => {
    me = p.userId;
  });
  c.socket.on('messageReactionsUpdated', (u: { messageId: string; reactions: Reaction[] }) => {
    live.value = { ...live.value, [u.messageId]: u.reactions };
  });
}

interface Group {
  emoji: string;
  names: string[];
  mine: boolean;
}

function groups(list: Reaction[]): Group[] {
  const out = new Map<string, Group>();
  for (const r of list) {
    const g = out.get(r.emoji) ?? { emoji: r.emoji, names: [], mine: false };
    g.names.push(r.userNm || r.userId);
    g.mine ||= r.userId === me;
    out.set(r.emoji, g);
  }
  return [...out.values()];
}

function toggle(m: Message, emoji: string, mine: boolean): void {
  void chat?.call(mine ? 'removeReaction' : 'addReaction', m.messageId, emoji).catch(() => undefined);
}

/** The reactions of one message and the button that adds one. */
export function Reactions({ m }: { m: Message }) {
  const open = useSignal(false);
  if (m.pending || m.failed || !chat) return null;
  const list = groups(live.value[m.messageId] ?? m.reactions ?? []);
  return (
    <div class="reactions" data-testid="reactions">
      {list.map((g) => (
        <button
          type="button"
          class={`reaction${g.mine ? ' mine' : ''}`}
          aria-pressed={g.mine}
          title={g.names.join(', ')}
          data-emoji={g.emoji}
          onClick={() => toggle(m, g.emoji, g.mine)}
        >
          {g.emoji} <span class="count">{g.names.length}</span>
        </button>
      ))}
      <button type="button" class="reaction add" aria-label="Add a reaction" aria-expanded={open.value} onClick={() => (open.value = !open.value)}>
        +
      </button>
      {open.value && (
        <span class="palette" role="group" aria-label="Pick a reaction">
          {EMOJI.map((e) => (
            <button
              type="button"
              aria-label={`React with ${e}`}
              onClick={() => {
                open.value = false;
                toggle(m, e, list.some((g) => g.emoji === e && g.mine));
              }}
            >
              {e}
            </button>
          ))}
        </span>
      )}
    </div>
  );
}
