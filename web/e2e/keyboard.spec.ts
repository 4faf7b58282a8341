// End-to-end: the chat used with the keyboard only (Tab, Shift+Tab, Enter, Escape, arrows), in
// Debian's Chromium against this file's own `spotter serve --demo`: sign in, open a conversation
// from the list, write and send, edit through a message's menu, delete with the confirmation,
// search and open a result, and leave. Every stop of the focus is visible, and Tab always moves
// on (nothing traps it). The scene is set through the API; the page gets no mouse event.
import type { Locator, Page } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { PASSWORD, USERS } from './helpers';

test.use({ suite: 'keyboard' });

interface Focused {
  what: string;
  visible: boolean;
}

/** The focused element, and whether its focus is visible (`:focus-visible` with a ring or outline). */
function focusedNow(page: Page): Promise<Focused | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
    const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? '';
    return { what: `<${el.tagName.toLowerCase()}> "${name}"`, visible: el.matches(':focus-visible') && ring };
  });
}

const isFocused = (target: Locator) => target.evaluateAll((els) => els.some((e) => e === document.activeElement));

/**
 * Press Tab (or Shift+Tab) until `target` has the focus, checking that each stop on the way shows
 * its focus; fails when `target` is not reached within `max` presses.
 */
async function tabTo(page: Page, target: Locator, { back = false, max = 40 } = {}): Promise<Focused[]> {
  const stops: Focused[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focusedNow(page);
    if (f) {
      stops.push(f);
      expect.soft(f.visible, `focus is visible on ${f.what}`).toBe(true);
    }
    if (await isFocused(target)) return stops;
  }
  throw new Error(`${back ? 'Shift+Tab' : 'Tab'} did not reach the target in ${max} presses; stops: ${stops.map((s) => s.what).join(', ')}`);
}

test('the chat works with the keyboard alone, with the focus always visible and never trapped', async ({ api, session }) => {
  // The scene: Ana and her trainer talk; one of Ana's messages has a word to search for.
  const samToken = await api.token(USERS.trainer);
  const anaToken = await api.token(USERS.ana);
  const ana = (await api.trainees(samToken, 'Ana')).results[0];
  const conv = (await api.start(samToken, ana.id, 'Morning Ana, how did the run go?')).conversation_id;
  await api.send(anaToken, conv, 'Felt strong, the tempo intervals were fine');
  await api.send(samToken, conv, 'Great. Mobility today, then rest.');

  const page = await (await session.newContext()).newPage();
  await page.goto('/login');

  // Sign in.
  await tabTo(page, page.getByLabel('Email'));
  await page.keyboard.type(USERS.trainer);
  await tabTo(page, page.getByLabel('Password'));
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/messages');

  // Open the conversation from the list.
  const row = page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Ana Lima/ });
  await tabTo(page, row);
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/messages/${conv}`);
  const log = page.getByRole('log');
  await expect(log.getByText('Great. Mobility today, then rest.')).toBeVisible();

  // Write and send.
  const box = page.getByLabel('message input');
  await tabTo(page, box);
  await page.keyboard.type('Tomorrow: 5 x 5 squats at 7');
  await expect(box).toHaveValue('Tomorrow: 5 x 5 squats at 7');
  await page.keyboard.press('Enter');
  const sent = log.locator('li.msg.mine').filter({ hasText: 'Tomorrow: 5 x 5 squats at 7' });
  await expect(sent).toHaveAttribute('data-message-id', /^\d+$/);
  const mine = log.locator(`li[data-message-id="${await sent.getAttribute('data-message-id')}"]`);
  await expect(box).toHaveValue('');
  await expect(box).toBeFocused();

  // Its menu, from the box back with Shift+Tab: Enter opens it on "Edit", Escape closes it.
  const menuButton = mine.getByRole('button', { name: 'Message actions' });
  await tabTo(page, menuButton, { back: true });
  await expect(menuButton).toBeVisible(); // shown while it has the keyboard focus
  await page.keyboard.press('Enter');
  const menu = mine.getByRole('menu', { name: 'Message actions' });
  await expect(menu.getByRole('menuitem', { name: 'Edit' })).toBeFocused();
  await expectAccessible(page, 'a message menu, open');
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(menuButton).toBeFocused();

  // Edit: ArrowDown opens the menu, Enter on "Edit", the editor has the focus; Enter saves.
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'Edit' })).toBeFocused();
  await page.keyboard.press('Enter');
  const editor = mine.getByRole('textbox', { name: 'Edit message' });
  await expect(editor).toBeFocused();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('Tomorrow: 5 x 5 squats at 8');
  await page.keyboard.press('Enter');
  await expect(editor).toHaveCount(0);
  await expect(mine.getByText('edited', { exact: true })).toBeVisible();
  await expect(log.getByText('Tomorrow: 5 x 5 squats at 8', { exact: true })).toBeVisible();
  await expect(menuButton).toBeFocused();

  // Delete: arrows to "Delete", Enter asks first (focus on the confirmation); Escape keeps the
  // message and gives the focus back; the second time Enter deletes it.
  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowDown');
  const del = menu.getByRole('menuitem', { name: 'Delete' });
  await expect(del).toBeFocused();
  await page.keyboard.press('Enter');
  const confirm = mine.getByRole('button', { name: 'Delete for everyone' });
  await expect(confirm).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(confirm).toHaveCount(0);
  await expect(menuButton).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await expect(del).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(confirm).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(log.getByText('This message was deleted')).toBeVisible();
  const stored = (await api.messages(samToken, conv)).results.find((m: { is_deleted: boolean }) => m.is_deleted);
  expect(stored, 'deleted on the server').toBeTruthy();

  // Search: back to the box above the list, type, Tab to the result, Enter opens it in place.
  const search = page.getByRole('searchbox', { name: 'Search messages' });
  await tabTo(page, search, { back: true, max: 60 });
  await page.keyboard.type('tempo');
  const results = page.getByRole('region', { name: 'Search results' });
  const hit = results.getByRole('link', { name: /tempo intervals/ });
  await expect(hit).toBeVisible();
  await tabTo(page, hit);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === `/messages/${conv}` && u.searchParams.has('message'));
  // The message found takes the focus (marked), for the keyboard and screen readers.
  const found = log.locator('li.msg').filter({ hasText: 'Felt strong, the tempo intervals were fine' });
  await expect(found).toBeFocused();

  // Leave: Tab goes on through the page and out of the chat (never trapped) to the main
  // navigation; every stop shows its focus. Enter on "Trainees" leaves the messages.
  const trainees = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trainees' });
  const stops = await tabTo(page, trainees, { max: 80 });
  expect(stops.some((s) => s.what.includes('message input')), 'Tab passed through the composer').toBe(true);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/trainees');
  await expect(page.getByRole('heading', { name: 'Trainees', level: 1 })).toBeVisible();
});
