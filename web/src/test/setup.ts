import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { i18n } from '../i18n';

// English, as the component tests expect (jsdom's navigator says en-US); a test that switches
// language gets English back afterwards.
void i18n.changeLanguage('en');

afterEach(async () => {
  cleanup();
  if (i18n.language !== 'en') await i18n.changeLanguage('en');
  localStorage.clear();
});

// jsdom lacks element scrolling.
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = function scrollTo(this: Element, arg?: ScrollToOptions | number) {
    if (typeof arg === 'object' && arg?.top !== undefined) (this as HTMLElement).scrollTop = arg.top;
  } as typeof Element.prototype.scrollTo;
}
