// Telling an operator who is looking elsewhere: desktop notifications (with
// the browser's permission) and an optional sound for new tickets in the
// queue and new messages on one's own tickets while the tab is hidden, and
// the unread count in the tab's title. The choices are kept per browser.
import { effect, signal, type ReadonlySignal } from '@preact/signals';

import { t } from '../shared/i18n';
import { localStore } from '../shared/storage';
import type { Alert } from '../shared/types';

const DESKTOP_KEY = 'switchboard:dashboard:notify';
const SOUND_KEY = 'switchboard:dashboard:sound';

export class Notifier {
  /** Whether to show desktop notifications (asked for once switched on). */
  readonly desktop = signal(localStore().getItem(DESKTOP_KEY) === '1');
  readonly sound = signal(localStore().getItem(SOUND_KEY) === '1');
  /** The browser's answer: 'default' (not asked), 'granted' or 'denied'; 'unsupported' without the API. */
  readonly permission = signal<NotificationPermission | 'unsupported'>(
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  private audio: AudioContext | null = null;

  /** Keeps the tab's title as "(n) title" while n things are unread. */
  constructor(unread: ReadonlySignal<number>, private readonly onOpen: (ticketId: string) => void) {
    const base = document.title;
    effect(() => {
      const n = unread.value;
      document.title = n > 0 ? `(${n}) ${base}` : base;
    });
  }

  async setDesktop(on: boolean): Promise<void> {
    if (on && this.permission.value === 'default') {
      this.permission.value = await Notification.requestPermission();
    }
    this.desktop.value = on && this.permission.value === 'granted';
    localStore().setItem(DESKTOP_KEY, this.desktop.value ? '1' : '0');
  }

  setSound(on: boolean): void {
    this.sound.value = on;
    localStore().setItem(SOUND_KEY, on ? '1' : '0');
  }

  /** A new ticket in the queue. */
  newTicket(ticketId: string, title: string): void {
    this.tell(ticketId, t('dash.newTicket', { title }), '');
  }

  /** A new message on one of my tickets. */
  newMessage(ticketId: string, from: string, text: string): void {
    this.tell(ticketId, t('dash.newMessage', { name: from }), text);
  }

  /** Someone mentioned me in a note. */
  mention(a: Alert): void {
    this.tell(a.ticketId, t('alerts.mention', { name: a.byNm || a.byId }), a.text);
  }

  /** Only while the tab is hidden: on screen, the lists say it. */
  private tell(ticketId: string, title: string, body: string): void {
    if (document.visibilityState === 'visible') return;
    if (this.sound.value) this.beep();
    if (!this.desktop.value || this.permission.value !== 'granted') return;
    const n = new Notification(title, { body: body.slice(0, 200), tag: `switchboard:${ticketId}` });
    n.onclick = () => {
      window.focus();
      this.onOpen(ticketId);
      n.close();
    };
  }

  /** A short two-tone chime, made on the spot (no sound file to fetch). */
  private beep(): void {
    try {
      this.audio ??= new AudioContext();
      const ctx = this.audio;
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      gain.gain.setValueAtTime(0.15, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
      [880, 660].forEach((hz, i) => {
        const osc = ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start(ctx.currentTime + i * 0.12);
        osc.stop(ctx.currentTime + 0.12 + i * 0.12);
      });
    } catch {
      /* no audio here: the notification suffices */
    }
  }
}
