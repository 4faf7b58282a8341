import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
  localStorage.clear();
});

// jsdom lacks element scrolling.
if (!Element.prototype.scrollTo) {
  Element.prototype.scrollTo = function scrollTo(this: Element, arg?: ScrollToOptions | number) {
    if (typeof arg === 'object' && arg?.top !== undefined) (this as HTMLElement).scrollTop = arg.top;
  };
}
