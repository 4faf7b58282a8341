// Choosing the language: from the browser's list, or the switch (settings panel, login page),
// remembered after a reload; `<html lang>` follows; dates and numbers in the chosen language.
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createElement } from 'react';
import { setI18n } from 'react-i18next';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App, makeQueryClient } from '../App';
import { humanDuration, whenLabel } from '../lib/coaching';
import { clockTime, dayLabel, relativeTime } from '../lib/dates';
import { formatBytes } from '../lib/images';
import { conv } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';
import { browserLanguage, formatNumber, i18n, intlLocale, LANGUAGE_KEY } from '.';

/** A reload: the app's modules load afresh (the language is detected again), same browser. */
async function reload(path: string) {
  cleanup();
  vi.resetModules();
  const fresh = await import('../App');
  localStorage.setItem('spotter.access', 'A');
  localStorage.setItem('spotter.refresh', 'R');
  window.history.pushState(null, '', path);
  render(createElement(fresh.App, { client: fresh.makeQueryClient() }));
  return (await import('.')).i18n;
}

const languageSwitch = () => screen.getByRole<HTMLSelectElement>('combobox', { name: /Language|Idioma/ });

describe('the language', () => {
  let server: FakeServer;
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1)];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    // Back to this file's i18next after a reload made another one current.
    setI18n(i18n);
    document.documentElement.lang = i18n.language;
  });

  it('comes from the browser: es-* → es, pt* → pt-BR, the first one supported, else English', () => {
    expect(browserLanguage(['es-MX', 'en'])).toBe('es');
    expect(browserLanguage(['pt-PT'])).toBe('pt-BR');
    expect(browserLanguage(['pt'])).toBe('pt-BR');
    expect(browserLanguage(['de-AT', 'pt-BR', 'es'])).toBe('pt-BR');
    expect(browserLanguage(['en-GB', 'es'])).toBe('en');
    expect(browserLanguage(['de', 'fr'])).toBe('en');
    expect(browserLanguage([])).toBe('en');
  });

  it('is the browser’s at start when nothing was chosen, with <html lang>', async () => {
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['de-DE', 'pt-PT', 'en']);
    const fresh = await reload('/messages');
    expect(fresh.language).toBe('pt-BR');
    expect(await screen.findByRole('heading', { name: 'Mensagens' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('pt-BR');
    expect(localStorage.getItem(LANGUAGE_KEY)).toBeNull(); // only a choice is remembered
  });

  it('changes with the switch in the settings panel, and stays after a reload', async () => {
    boot('/messages');
    await screen.findByRole('heading', { name: 'Messages' });
    expect(document.documentElement.lang).toBe('en');
    fireEvent.click(screen.getByRole('button', { name: /settings$/ }));
    const panel = await screen.findByRole('dialog', { name: 'Settings' });
    expect(languageSwitch().value).toBe('en');
    expect(within(panel).getAllByRole('option').map((o) => o.textContent)).toEqual(['English', 'Español', 'Português (Brasil)']);

    fireEvent.change(languageSwitch(), { target: { value: 'es' } });
    await screen.findByRole('heading', { name: 'Mensajes' });
    expect(screen.getByRole('dialog', { name: 'Ajustes' })).toBeTruthy();
    expect(languageSwitch().value).toBe('es');
    expect(screen.getByRole('link', { name: 'Clientes' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('es');
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe('es');

    // The browser says English; the choice wins after a reload.
    const fresh = await reload('/messages');
    expect(fresh.language).toBe('es');
    expect(await screen.findByRole('heading', { name: 'Mensajes' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('es');
  });

  it('can be chosen on the login page', async () => {
    window.history.pushState(null, '', '/login');
    render(createElement(App, { client: makeQueryClient() }));
    await screen.findByRole('heading', { name: 'Sign in' });
    fireEvent.change(languageSwitch(), { target: { value: 'pt-BR' } });
    await screen.findByRole('heading', { name: 'Entrar' });
    expect(screen.getByLabelText('Senha')).toBeTruthy();
    expect(document.documentElement.lang).toBe('pt-BR');
    expect(localStorage.getItem(LANGUAGE_KEY)).toBe('pt-BR');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Entrar' })).toBeTruthy());
  });
});

describe('dates and numbers', () => {
  // Local times, so the expectations hold in any time zone.
  const at = (d: number, h: number, m = 0) => new Date(2025, 1, d, h, m).toISOString();
  const now = new Date(2025, 1, 19, 15, 0);

  it('follow the chosen language', async () => {
    await i18n.changeLanguage('en');
    expect(clockTime(at(19, 14, 5))).toBe('02:05 PM'); // jsdom's browser is en-US
    expect(dayLabel(new Date(2024, 1, 19).toISOString(), now)).toBe('February 19, 2024');
    expect(formatNumber(12345.5)).toBe('12,345.5');
    expect(relativeTime(new Date(now.getTime() - 5 * 60_000).toISOString(), now)).toBe('5m');

    await i18n.changeLanguage('es');
    expect(clockTime(at(19, 14, 5))).toBe('14:05');
    expect(dayLabel(at(18, 9), now)).toBe('Ayer');
    expect(dayLabel(new Date(2024, 1, 19).toISOString(), now)).toBe('19 de febrero de 2024');
    expect(formatNumber(12345.5)).toBe('12.345,5');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1,5 MB');
    expect(relativeTime(new Date(now.getTime() - 5 * 60_000).toISOString(), now)).toBe('5 min');
    expect(whenLabel(at(20, 6), now)).toBe('Mañana 06:00');
    expect(humanDuration(12_000)).toBe('3 h 20 min');

    await i18n.changeLanguage('pt-BR');
    expect(dayLabel(new Date(2024, 1, 19).toISOString(), now)).toBe('19 de fevereiro de 2024');
    expect(whenLabel(at(18, 6), now)).toBe('Ontem 06:00');
    expect(formatNumber(1234567)).toBe('1.234.567');
  });

  it('use the browser’s own variant of the chosen language', async () => {
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['es-MX', 'en-GB']);
    await i18n.changeLanguage('es');
    expect(intlLocale()).toBe('es-MX');
    await i18n.changeLanguage('en');
    expect(intlLocale()).toBe('en-GB');
    expect(clockTime(at(19, 14, 5))).toBe('14:05');
    await i18n.changeLanguage('pt-BR');
    expect(intlLocale()).toBe('pt-BR');
  });
});
