// Pieces both faces show. Every text goes through JSX text bindings, which
// set textContent: a message is never parsed as HTML.
import { useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

import { fullTime, shortTime } from './format';
import { Reactions } from './reactions';
import { BotMessageType, MessageStatus, type Message } from './types';

const tickLabels: Record<number, string> = {
  [MessageStatus.Sent]: 'Sent',
  [MessageStatus.Delivered]: 'Delivered',
  [MessageStatus.Read]: 'Read',
};

/** Delivery state of one's own message: ✓ sent, ✓✓ delivered, ✓✓ (coloured) read. */
export function Ticks({ m }: { m: Message }) {
  if (m.failed) {
    return (
      <span class="ticks failed" data-status="failed" title={m.failed}>
        <span aria-hidden="true">!</span>
        <span class="sr-only">Not sent: {m.failed}</span>
      </span>
    );
  }
  if (m.pending) {
    return (
      <span class="ticks pending" data-status="pending" title="Sending">
        <span aria-hidden="true">◷</span>
        <span class="sr-only">Sending</span>
      </span>
    );
  }
  const label = tickLabels[m.statusId] ?? 'Sent';
  return (
    <span class={`ticks s${m.statusId}`} data-status={label.toLowerCase()} title={label}>
      <span aria-hidden="true">{m.statusId >= MessageStatus.Delivered ? '✓✓' : '✓'}</span>
      <span class="sr-only">{label}</span>
    </span>
  );
}

const imageData = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

function imageSrc(content: string): string | null {
  if (imageData.test(content)) return content;
  if (/^[A-Za-z0-9+/=\s]+$/.test(content)) return 'data:image/png;base64,' + content.replace(/\s+/g, '');
  return null;
}

/** A bot message's text with @<id> of the ticket's parties shown by name. */
function botText(m: Message): string {
  const names: Record<string, string> = { [m.recipientId]: m.recipientNm, [m.senderId]: m.senderNm };
  return m.content.replace(/@([^\s@]+)/g, (ref, id: string) => (names[id] ? '@' + names[id] : ref));
}

export function MessageBody({ m }: { m: Message }) {
  if (m.type === BotMessageType) {
    return (
      <p class="text bot" data-testid="bot-message">
        <span class="bot-label">Bot</span> {botText(m)}
      </p>
    );
  }
  if (m.type === 2) {
    const src = imageSrc(m.content);
    return src ? <img class="image" src={src} alt={`Image from ${m.senderNm || 'the sender'}`} /> : <p class="text">[image]</p>;
  }
  return <p class="text">{m.content}</p>;
}

/** One message in a conversation: own messages on the right with ticks. */
export function MessageItem({ m, mine, showName }: { m: Message; mine: boolean; showName: boolean }) {
  return (
    <li class={`msg ${mine ? 'mine' : 'theirs'}`} data-message-id={m.messageId}>
      {showName && !mine && <span class="sender">{m.senderNm || m.senderId}</span>}
      <div class="bubble">
        <MessageBody m={m} />
      </div>
      <Reactions m={m} />
      <div class="meta">
        <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
          {shortTime(m.createdAt)}
        </time>
        {mine && <Ticks m={m} />}
      </div>
    </li>
  );
}

export function TypingLine({ name }: { name: string | null }) {
  return (
    <p class="typing" aria-live="polite" data-testid="typing">
      {name ? `${name} is typing…` : ''}
    </p>
  );
}

export function VisuallyHidden({ children }: { children: ComponentChildren }) {
  return <span class="sr-only">{children}</span>;
}

/** The message box: Enter sends, Shift+Enter makes a new line; typing is reported as it happens. */
export function Composer(props: {
  id: string;
  rows: number;
  placeholder: string;
  autoFocus?: boolean;
  onSend: (text: string) => void;
  onTyping: () => void;
}) {
  const text = useSignal('');
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (props.autoFocus) area.current?.focus();
  }, []);
  const submit = () => {
    if (!text.value.trim()) return;
    props.onSend(text.value);
    text.value = '';
    area.current?.focus();
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label for={props.id} class="sr-only">
        Message
      </label>
      <textarea
        id={props.id}
        ref={area}
        rows={props.rows}
        placeholder={props.placeholder}
        value={text.value}
        onInput={(e) => {
          text.value = (e.currentTarget as HTMLTextAreaElement).value;
          if (text.value) props.onTyping();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" class="primary">
        Send
      </button>
    </form>
  );
}
