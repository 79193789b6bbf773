// Medians over rounds, as the scale-out summary prints them.

/** The median of the finite numbers of xs (NaN when there are none). */
export function median(xs) {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/**
 * "median (min–max)" of xs with `digits` decimals, or the median alone when
 * every round agrees; "n/a" when no round has the figure.
 */
export function spread(xs, digits = 0) {
  const a = xs.filter(Number.isFinite);
  if (!a.length) return 'n/a';
  const f = (x) => x.toFixed(digits);
  const lo = Math.min(...a);
  const hi = Math.max(...a);
  return f(lo) === f(hi) ? f(median(a)) : `${f(median(a))} (${f(lo)}–${f(hi)})`;
}
