// Dates and times in the viewer's locale (the catalogue's, see ./i18n),
// through Intl; formatters are made once a locale.
import { locale } from './i18n';

const cache = new Map<string, Intl.DateTimeFormat>();

/**
 * The tag to format with: the browser's own when it is of the catalogue's
 * language (en-GB keeps its 24-hour clock under the English catalogue),
 * else the catalogue's.
 */
function tag(): string {
  const base = locale.value;
  return navigator.languages?.find((l) => l.toLowerCase().split(/[-_]/)[0] === base) ?? base;
}

function fmt(kind: 'time' | 'day' | 'full', options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${tag()}|${kind}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(tag(), options)));
  return f;
}

/** A short local time for a wire timestamp: "14:05", or "Mar 3" on another day. */
export function shortTime(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  return d.toDateString() === now.toDateString()
    ? fmt('time', { hour: '2-digit', minute: '2-digit' }).format(d)
    : fmt('day', { month: 'short', day: 'numeric' }).format(d);
}

export function fullTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : fmt('full', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** Any Intl date format in the viewer's locale. */
export function formatDate(d: Date, options: Intl.DateTimeFormatOptions): string {
  return d.toLocaleString(tag(), options);
}

/** A duration in seconds, short and in the viewer's locale: "45 s", "3 min", "2.5 h". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '–';
  const unit = (value: number, u: 'second' | 'minute' | 'hour' | 'day') =>
    new Intl.NumberFormat(tag(), { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
  if (seconds < 60) return unit(Math.round(seconds), 'second');
  if (seconds < 3600) return unit(seconds / 60, 'minute');
  if (seconds < 86400) return unit(seconds / 3600, 'hour');
  return unit(seconds / 86400, 'day');
}

/** A number in the viewer's locale. */
export function num(n: number, digits = 0): string {
  return new Intl.NumberFormat(tag(), { maximumFractionDigits: digits }).format(n);
}

/** The first line of a text, cut to max characters: a ticket's title. */
export function titleOf(text: string, max = 80): string {
  const line = text.trim().split('\n')[0].trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
