// The message catalogues of the dashboard and the widget and the one
// function that looks a text up: t('key', {name}). The locale is a signal,
// so a component that calls t() draws again when the viewer changes it.
// English is complete and the fallback of every other catalogue; a key
// missing everywhere shows itself, which the type of `t` prevents.
import { signal } from '@preact/signals';

import { ar } from './ar';
import { de } from './de';
import { en, type Key } from './en';
import { es } from './es';

export type { Key };
/** A catalogue that may leave keys to English (Arabic: the widget's texts only). */
export type Catalogue = Partial<Record<Key, string>>;
/** A catalogue with every key: German and Spanish, checked by the compiler. */
export type Complete = Record<Key, string>;

const catalogues: Record<string, Catalogue> = { en, de, es, ar };

/** The languages one may choose, each named in itself. */
export const languages: { code: string; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'es', name: 'Español' },
  { code: 'ar', name: 'العربية' },
];

const rtl = new Set(['ar', 'he', 'fa', 'ur']);

/** The best catalogue for a list of BCP 47 tags, most wanted first: 'de-AT' finds 'de'. */
export function pickLocale(wanted: readonly (string | null | undefined)[]): string {
  for (const tag of wanted) {
    if (!tag) continue;
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if (base in catalogues) return base;
  }
  return 'en';
}

/** The viewer's locale: a catalogue's code. */
export const locale = signal('en');

/** Sets the locale and the document's language and direction (right-to-left for Arabic). */
export function setLocale(code: string): void {
  const l = pickLocale([code]);
  locale.value = l;
  document.documentElement.lang = l;
  document.documentElement.dir = rtl.has(l) ? 'rtl' : 'ltr';
}

/** The text of key in the current locale with {name} placeholders filled in. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const text = catalogues[locale.value]?.[key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
}

const plurals = new Map<string, Intl.PluralRules>();

/** key_one or key_other after the locale's plural rules for n, with {n} filled in. */
export function tn(key: string, n: number, params?: Record<string, string | number>): string {
  let rules = plurals.get(locale.value);
  if (!rules) plurals.set(locale.value, (rules = new Intl.PluralRules(locale.value)));
  const form = rules.select(n) === 'one' ? 'one' : 'other';
  return t(`${key}_${form}` as Key, { n, ...params });
}
