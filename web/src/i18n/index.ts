/**
 * The dashboard's languages (i18next): English, Spanish and Brazilian Portuguese, bundled (no
 * network loading). The language comes from the browser (`navigator.languages`: `es-*` → es,
 * `pt*` → pt-BR, else en) unless the user picked one (the switch in the settings panel and on
 * the login page), which is remembered in localStorage. `<html lang>` follows.
 *
 * Components use `useTranslation()` from react-i18next; plain modules (dates, errors, push)
 * use `i18n.t` and `intlLocale()`, and re-render with the component that shows them.
 */
import i18next from 'i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import es from './es.json';
import ptBR from './pt-BR.json';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'pt-BR', name: 'Português (Brasil)' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

/** Where the user's own choice is kept (absent: follow the browser). */
export const LANGUAGE_KEY = 'spotter.language';

/** The supported language a browser language tag means, or null ("de-AT" → null). */
export function languageOf(tag: string): Language | null {
  const l = tag.toLowerCase();
  if (l === 'es' || l.startsWith('es-')) return 'es';
  if (l === 'pt' || l.startsWith('pt-')) return 'pt-BR';
  if (l === 'en' || l.startsWith('en-')) return 'en';
  return null;
}

/** The first supported language of the browser's list, else English. */
export function browserLanguage(tags: readonly string[] = navigator.languages ?? [navigator.language]): Language {
  for (const tag of tags) {
    const l = languageOf(tag);
    if (l) return l;
  }
  return 'en';
}

export const i18n = i18next.createInstance();

const detector = new LanguageDetector(null, {
  order: ['localStorage', 'navigator'],
  lookupLocalStorage: LANGUAGE_KEY,
  // Only an explicit choice is remembered (setLanguage), never what the browser said.
  caches: [],
  // "es-MX" → "es", "pt-PT" → "pt-BR"; other tags pass as they are and are skipped.
  convertDetectedLanguage: (tag: string) => languageOf(tag) ?? tag,
});

void i18n
  .use(detector)
  .use(initReactI18next)
  .init({
    resources: { en: { translation: en }, es: { translation: es }, 'pt-BR': { translation: ptBR } },
    supportedLngs: LANGUAGES.map((l) => l.code),
    fallbackLng: 'en',
    load: 'currentOnly',
    initAsync: false,
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });

/** The language in use. */
export function currentLanguage(): Language {
  const l = i18n.resolvedLanguage ?? i18n.language;
  return (LANGUAGES.some((x) => x.code === l) ? l : 'en') as Language;
}

/**
 * The locale for `Intl` and `toLocale*`: the browser's own tag when it is of the chosen language
 * (an "en-GB" browser keeps day-month order and a 24-hour clock; "es-MX" its own ways), else
 * the language itself.
 */
export function intlLocale(): string {
  const lang = currentLanguage();
  const tags = typeof navigator !== 'undefined' ? (navigator.languages ?? [navigator.language]) : [];
  return tags.find((t) => languageOf(t) === lang && (lang !== 'pt-BR' || /^pt-br$/i.test(t))) ?? lang;
}

/** Switch language and remember the choice. */
export function setLanguage(lng: Language): Promise<unknown> {
  try {
    localStorage.setItem(LANGUAGE_KEY, lng);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  return i18n.changeLanguage(lng);
}

/** A number in the reader's locale ("1,234", "1.234"). */
export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(intlLocale(), options).format(n);
}

function syncHtmlLang() {
  if (typeof document !== 'undefined') document.documentElement.lang = currentLanguage();
}
i18n.on('languageChanged', syncHtmlLang);
syncHtmlLang();
