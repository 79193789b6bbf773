const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** A short local time for a wire timestamp: "14:05", or "Mar 3" on another day. */
export function shortTime(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dayFmt.format(d);
}

export function fullTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

/** The first line of a text, cut to max characters: a ticket's title. */
export function titleOf(text: string, max = 80): string {
  const line = text.trim().split('\n')[0].trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
