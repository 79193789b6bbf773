// Pieces both faces show. Every text goes through JSX text bindings, which
// set textContent: a message is never parsed as HTML.
import { useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

import { fullTime, shortTime } from './format';
import { t, type Key } from './i18n';
import { Reactions } from './reactions';
import { BotMessageType, MessageStatus, type Message } from './types';

const tickLabels: Record<number, Key> = {
  [MessageStatus.Sent]: 'common.sent',
  [MessageStatus.Delivered]: 'common.delivered',
  [MessageStatus.Read]: 'common.read',
};
const tickStates: Record<number, string> = {
  [MessageStatus.Sent]: 'sent',
  [MessageStatus.Delivered]: 'delivered',
  [MessageStatus.Read]: 'read',
};

/** Delivery state of one's own message: ✓ sent, ✓✓ delivered, ✓✓ (coloured) read. */
export function Ticks({ m }: { m: Message }) {
  if (m.failed) {
    return (
      <span class="ticks failed" data-status="failed" title={m.failed}>
        <span aria-hidden="true">!</span>
        <span class="sr-only">{t('common.notSent', { reason: m.failed })}</span>
      </span>
    );
  }
  if (m.pending) {
    return (
      <span class="ticks pending" data-status="pending" title={t('common.sending')}>
        <span aria-hidden="true">◷</span>
        <span class="sr-only">{t('common.sending')}</span>
      </span>
    );
  }
  const label = t(tickLabels[m.statusId] ?? 'common.sent');
  return (
    <span class={`ticks s${m.statusId}`} data-status={tickStates[m.statusId] ?? 'sent'} title={label}>
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
    return src ? <img class="image" src={src} alt={t('common.imageFrom', { name: m.senderNm || t('common.theSender') })} /> : <p class="text">{t('common.image')}</p>;
  }
  return <p class="text">{m.content}</p>;
}

/**
 * One message in a conversation: own messages on the right with ticks.
 * children go below the meta line (what later features attach to a
 * message, such as reactions).
 */
export function MessageItem({ m, mine, showName, children }: { m: Message; mine: boolean; showName: boolean; children?: ComponentChildren }) {
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
      {children}
    </li>
  );
}

export function TypingLine({ name }: { name: string | null }) {
  return (
    <p class="typing" aria-live="polite" data-testid="typing">
      {name ? t('common.typing', { name }) : ''}
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
        {t('common.message')}
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
        {t('common.send')}
      </button>
    </form>
  );
}
