// "Message notifications" in the settings panel: bound to new_message (GET, PATCH), optimistic,
// back to what it was (with the server's reason) when refused.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot, FakeServer } from '../test/server';
import { network } from '../test/msw';

let server: FakeServer;
const settingsButton = () => screen.getByRole('button', { name: 'Sam Rivera, settings' });
const theSwitch = () => screen.getByRole('switch', { name: 'Message notifications' });

async function openSettings() {
  boot('/messages');
  fireEvent.click(await screen.findByRole('button', { name: 'Sam Rivera, settings' }));
  const panel = screen.getByRole('dialog', { name: 'Settings' });
  await waitFor(() => expect(theSwitch().getAttribute('aria-disabled')).toBeNull());
  return panel;
}

describe('Message notifications switch (the network mocked with MSW)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows new_message from the server and saves a change at once (PATCH new_message only)', async () => {
    server.prefs.new_message = true;
    const panel = await openSettings();
    expect(settingsButton().getAttribute('aria-expanded')).toBe('true');
    expect(theSwitch().getAttribute('aria-checked')).toBe('true');
    expect(within(panel).getByText(/^On:/)).toBeTruthy();
    expect(server.log()).toContain('GET /api/users/notification-preferences/');
    // The PATCH is answered later: the switch has already moved.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    network.use(
      http.patch('/api/users/notification-preferences/', async () => {
        await gate;
        return undefined; // then the fake server answers
      }),
    );
    fireEvent.click(theSwitch());
    await waitFor(() => expect(theSwitch().getAttribute('aria-checked')).toBe('false'));
    expect(within(panel).getByText(/^Off:/)).toBeTruthy();
    expect(server.prefs.new_message).toBe(true); // not answered yet
    release();
    await waitFor(() => expect(server.prefs.new_message).toBe(false));
    const patch = server.calls.find((c) => c.method === 'PATCH')!;
    expect(patch.body).toEqual({ new_message: false });
    expect(server.prefs.trainee_workout).toBe(true); // the others untouched
    expect(theSwitch().getAttribute('aria-checked')).toBe('false');
  });

  it("goes back when the server refuses, with the server's reason", async () => {
    server.on((r) => (r.method === 'PATCH' ? { status: 400, body: { detail: 'Not allowed right now.' } } : undefined));
    await openSettings();
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toContain('Not allowed right now.');
    expect(theSwitch().getAttribute('aria-checked')).toBe('true');
  });

  it('is a labelled switch in a panel that Escape closes, returning focus', async () => {
    await openSettings();
    const sw = theSwitch();
    expect(sw.tagName).toBe('BUTTON');
    expect(document.activeElement).toBe(sw); // focus moves into the panel
    expect(document.getElementById(sw.getAttribute('aria-describedby')!)?.textContent).toMatch(/^On:/);
    fireEvent.keyDown(sw, { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Settings' })).toBeNull();
    expect(document.activeElement).toBe(settingsButton());
  });
});
