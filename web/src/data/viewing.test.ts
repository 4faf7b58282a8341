import { afterEach, describe, expect, it, vi } from 'vitest';
import { isViewing, setFocusSink, setViewing } from './viewing';

describe('focus reporting', () => {
  afterEach(() => {
    setFocusSink(null);
    setViewing(null);
    vi.restoreAllMocks();
  });

  it('reports the open conversation while the page is visible and focused, and null otherwise', () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    const sent: (number | null)[] = [];
    setFocusSink((id) => sent.push(id));
    setViewing(7);
    expect(isViewing(7)).toBe(true);
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    window.dispatchEvent(new Event('blur'));
    setViewing(7); // unchanged view: no duplicate report
    setViewing(null);
    expect(sent).toEqual([null, 7, null]);
  });

  it('a new socket is told the current view at once', () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    setViewing(3);
    const sent: (number | null)[] = [];
    setFocusSink((id) => sent.push(id));
    expect(sent).toEqual([3]);
  });
});
