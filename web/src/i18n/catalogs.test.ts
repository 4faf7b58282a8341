// The three catalogs say the same things: the same keys (each language with the plural forms
// its rules need), no empty text, the same {{placeholders}} and <tags>; every key the code asks
// for exists, and none is left over; the service worker's own fallback text matches.
import { describe, expect, it } from 'vitest';
import swSource from '../sw/push.js?raw';
import en from './en.json';
import es from './es.json';
import ptBR from './pt-BR.json';

type Tree = { [k: string]: string | Tree };
const CATALOGS: Record<string, Tree> = { en, es, 'pt-BR': ptBR };
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(tree: Tree, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else flatten(v, key, out);
  }
  return out;
}

const flat = Object.fromEntries(Object.entries(CATALOGS).map(([lng, tree]) => [lng, flatten(tree)]));
const base = (key: string) => key.replace(PLURAL, '');
const baseKeys = (lng: string) => new Set(Object.keys(flat[lng]).map(base));
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)[^}]*\}\}|<\/?(\w+)\s*\/?>/g)].map((m) => m[1] ?? `<${m[2]}>`).sort();

/** The text of every `.ts`/`.tsx` file under src (Vite reads them), tests left out. */
const SOURCES = Object.entries(
  import.meta.glob<string>(['../**/*.{ts,tsx}', '!../**/*.test.{ts,tsx}', '!../test/**'], { query: '?raw', import: 'default', eager: true }),
);

/** Keys asked for in the code: t('…'), i18n.t('…'), tr('…') and <Trans i18nKey="…">. */
function usedKeys(): Map<string, string> {
  const used = new Map<string, string>();
  expect(SOURCES.length).toBeGreaterThan(40);
  for (const [file, text] of SOURCES) {
    for (const m of text.matchAll(/\b(?:t|tr|i18n\.t)\(\s*(['"])([\w.-]+)\1/g)) used.set(m[2], file);
    for (const m of text.matchAll(/i18nKey=(['"])([\w.-]+)\1/g)) used.set(m[2], file);
  }
  return used;
}

describe('catalogs', () => {
  it('have the same keys in every language (plurals with every form the language needs)', () => {
    const enKeys = baseKeys('en');
    for (const lng of Object.keys(CATALOGS)) {
      expect([...baseKeys(lng)].sort(), lng).toEqual([...enKeys].sort());
      const categories = new Intl.PluralRules(lng).resolvedOptions().pluralCategories;
      const plurals = new Set(Object.keys(flat.en).filter((k) => PLURAL.test(k)).map(base));
      for (const key of plurals) {
        const forms = Object.keys(flat[lng]).filter((k) => PLURAL.test(k) && base(k) === key).map((k) => k.match(PLURAL)![1]);
        expect(forms.sort(), `${lng} ${key}`).toEqual([...categories].sort());
      }
      // A key is plural in all languages or in none.
      for (const key of Object.keys(flat[lng])) if (!PLURAL.test(key)) expect(flat.en[key], `${lng} ${key}`).toBeDefined();
    }
  });

  it('have no empty text, and the same placeholders and tags as English', () => {
    for (const [lng, entries] of Object.entries(flat)) {
      for (const [key, value] of Object.entries(entries)) {
        expect(value.trim(), `${lng} ${key}`).not.toBe('');
        const english = flat.en[key] ?? flat.en[`${base(key)}_other`];
        // "one" may leave the number out ("1 message" → "a message"); the rest keep what English has.
        if (!key.endsWith('_one')) expect(placeholders(value), `${lng} ${key}`).toEqual(placeholders(english));
      }
    }
  });

  it('wrap text only in tags that can hold it (an HTML void name such as <link> swallows nothing)', () => {
    // <Trans> parses translations as HTML: a void element's name ends at its opening tag, and
    // the words meant for it land after it (an empty link on screen).
    const VOID = ['area', 'base', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr'];
    for (const [lng, entries] of Object.entries(flat))
      for (const [key, value] of Object.entries(entries))
        for (const [, tag] of value.matchAll(/<(\w+)>/g)) expect(VOID, `${lng} ${key}: <${tag}>`).not.toContain(tag);
  });

  it('have every key the code asks for, and none that nothing uses', () => {
    const used = usedKeys();
    expect(used.size).toBeGreaterThan(300);
    const enBase = baseKeys('en');
    const missing = [...used].filter(([key]) => !enBase.has(key)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
    // Only the service worker reads push.fallbackBody (checked below).
    const unused = [...enBase].filter((key) => !used.has(key) && key !== 'push.fallbackBody');
    expect(unused).toEqual([]);
  });

  it('the service worker says "New message" as the catalogs do', () => {
    const bodies = swSource.match(/const FALLBACK_BODIES = (\{[^}]*\});/)?.[1];
    expect(bodies).toBeTruthy();
    // `{ en: 'New message', 'pt-BR': '…' }`: each key and its single-quoted text.
    const parsed = Object.fromEntries([...bodies!.matchAll(/'?([\w-]+)'?\s*:\s*'([^']*)'/g)].map((m) => [m[1], m[2]]));
    expect(parsed).toEqual({ en: flat.en['push.fallbackBody'], es: flat.es['push.fallbackBody'], 'pt-BR': flat['pt-BR']['push.fallbackBody'] });
  });
});
