// The conversation's composer: a reply to the user, or (toggled) an
// internal note that only operators see. "/" at the start opens the canned
// responses, filtered by shortcut as one types; in a note "@" opens the
// operators to mention. Arrow keys choose, Enter or Tab inserts, Escape
// closes the picker; Enter sends, Shift+Enter makes a new line.
import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';

import { t } from '../shared/i18n';
import type { Ticket } from '../shared/types';
import { fillPlaceholders } from './ops';
import type { Store } from './store';

interface Choice {
  key: string;
  label: string;
  detail: string;
  /** What replaces the typed trigger ("/filter" or "@filter"). */
  insert: string;
}

/** The trigger before the cursor: "/filter" alone at the start, or "@filter" in a note. */
function trigger(text: string, cursor: number, note: boolean): { kind: '/' | '@'; start: number; filter: string } | null {
  const before = text.slice(0, cursor);
  const slash = /^\/([a-z0-9_-]*)$/.exec(before);
  if (slash) return { kind: '/', start: 0, filter: slash[1] };
  if (!note) return null;
  const at = /(^|[^\w.-])@([\w.:+/-]*)$/.exec(before);
  return at ? { kind: '@', start: before.length - at[2].length - 1, filter: at[2] } : null;
}

export function Composer({ store, ticket, canReply }: { store: Store; ticket: Ticket; canReply: boolean }) {
  const text = useSignal('');
  const noteOn = useSignal(false);
  const cursor = useSignal(0);
  const active = useSignal(0);
  const dismissed = useSignal(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const note = noteOn.value || !canReply;

  const trig = dismissed.value ? null : trigger(text.value, cursor.value, note);
  const choices: Choice[] = [];
  if (trig?.kind === '/') {
    const me = store.me.value?.displayNm || store.me.value?.userId || '';
    for (const c of store.ops.canned.value) {
      if (!c.shortcut.includes(trig.filter)) continue;
      choices.push({ key: c.id, label: '/' + c.shortcut, detail: c.text, insert: fillPlaceholders(c.text, ticket, me) });
    }
    choices.sort((a, b) => Number(!a.label.startsWith('/' + trig.filter)) - Number(!b.label.startsWith('/' + trig.filter)));
  } else if (trig?.kind === '@') {
    const f = trig.filter.toLowerCase();
    for (const o of store.operators.value) {
      if (o.id === store.me.value?.userId) continue;
      if (!o.id.toLowerCase().includes(f) && !o.name.toLowerCase().includes(f)) continue;
      choices.push({ key: o.id, label: o.name, detail: '@' + o.id, insert: `@${o.id} ` });
    }
  }
  const open = !!trig && (choices.length > 0 || trig.kind === '/');
  const sel = Math.min(active.value, Math.max(0, choices.length - 1));
  const listId = `picker-${ticket.ticketId}`;

  const sync = () => {
    const el = area.current;
    if (!el) return;
    text.value = el.value;
    cursor.value = el.selectionStart ?? el.value.length;
  };
  const choose = (c: Choice) => {
    if (!trig) return;
    const after = text.value.slice(cursor.value);
    const next = text.value.slice(0, trig.start) + c.insert + after;
    const at = trig.start + c.insert.length;
    // The field and its caret change now, not on a later frame: a key
    // typed in between would otherwise land before the caret moved.
    const el = area.current;
    if (el) {
      el.value = next;
      el.focus();
      el.setSelectionRange(at, at);
    }
    text.value = next;
    cursor.value = at;
    active.value = 0;
  };
  const submit = () => {
    const value = text.value;
    if (!value.trim()) return;
    if (note) void store.ops.addNote(ticket.ticketId, value);
    else store.send(ticket.ticketId, value);
    text.value = '';
    cursor.value = 0;
    area.current?.focus();
  };
  const id = note && !canReply ? 'note-text' : 'composer-text';

  return (
    <form
      class={`composer ${note ? 'noting' : ''}`}
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {open && (
        <div class="picker" data-testid={trig!.kind === '/' ? 'canned-picker' : 'mention-picker'}>
          <p class="picker-title" id={`${listId}-title`}>
            {trig!.kind === '/' ? t('pick.canned') : t('pick.mention')}
          </p>
          {choices.length === 0 ? (
            <p class="empty">{t('pick.noCanned', { filter: trig!.filter })}</p>
          ) : (
            <ul role="listbox" id={listId} aria-labelledby={`${listId}-title`}>
              {choices.map((c, i) => (
                <li
                  key={c.key}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === sel}
                  class={i === sel ? 'active' : ''}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    choose(c);
                  }}
                >
                  <span class="picker-label">{c.label}</span> <span class="picker-detail">{c.detail}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <label for={id} class="sr-only">
        {note ? t('conv.noteMark') : t('common.message')}
      </label>
      <textarea
        id={id}
        ref={area}
        rows={2}
        placeholder={note ? t('conv.notePlaceholder') : t('conv.replyPlaceholder')}
        value={text.value}
        role={open ? 'combobox' : undefined}
        aria-expanded={open ? true : undefined}
        aria-controls={open && choices.length ? listId : undefined}
        aria-activedescendant={open && choices.length ? `${listId}-${sel}` : undefined}
        aria-autocomplete={open ? 'list' : undefined}
        onInput={() => {
          sync();
          dismissed.value = false;
          if (text.value && !note) store.typingIn(ticket.ticketId);
        }}
        onKeyUp={(e) => {
          if (e.key.startsWith('Arrow') && !open) sync();
        }}
        onClick={sync}
        onKeyDown={(e) => {
          if (open && choices.length) {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              active.value = (sel + (e.key === 'ArrowDown' ? 1 : choices.length - 1)) % choices.length;
              return;
            }
            if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
              e.preventDefault();
              choose(choices[sel]);
              return;
            }
          }
          if (open && e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            dismissed.value = true;
            return;
          }
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <div class="composer-side">
        {canReply && (
          <label class="check note-toggle">
            <input type="checkbox" data-testid="note-toggle" checked={noteOn.value} onChange={(e) => (noteOn.value = (e.currentTarget as HTMLInputElement).checked)} />
            {t('conv.noteToggle')}
          </label>
        )}
        <button type="submit" class="primary">
          {note ? t('conv.addNote') : t('common.send')}
        </button>
      </div>
    </form>
  );
}
