import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ViewTracker } from './viewing';

describe('focus reporting', () => {
  let view: ViewTracker;
  beforeEach(() => {
    view = new ViewTracker();
    view.start();
  });
  afterEach(() => {
    view.stop();
    vi.restoreAllMocks();
  });

  it('reports the open conversation while the page is visible and focused, and null otherwise', () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    const sent: (number | null)[] = [];
    view.setSink((id) => sent.push(id));
    view.setViewing(7);
    expect(view.isViewing(7)).toBe(true);
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    window.dispatchEvent(new Event('blur'));
    view.setViewing(7); // unchanged view: no duplicate report
    view.setViewing(null);
    expect(sent).toEqual([null, 7, null]);
  });

  it('a new socket is told the current view at once', () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    view.setViewing(3);
    const sent: (number | null)[] = [];
    view.setSink((id) => sent.push(id));
    expect(sent).toEqual([3]);
  });
});
