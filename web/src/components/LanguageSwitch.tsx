import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { currentLanguage, LANGUAGES, setLanguage, type Language } from '../i18n';

/**
 * "Language": English, Español, Português (Brasil), each named in its own language. The choice
 * replaces the browser's language and is remembered on this device.
 */
export function LanguageSwitch({ className }: { className?: string }) {
  // The hook re-renders this on every change of language.
  const { t } = useTranslation();
  const id = useId();
  const value = currentLanguage();
  return (
    <div className={`language-switch${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{t('language.label')}</label>
      <select id={id} value={value} onChange={(e) => void setLanguage(e.target.value as Language)} data-testid="language-switch">
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </div>
  );
}
