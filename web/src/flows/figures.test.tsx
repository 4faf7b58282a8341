// The trainer's figures on the trainees page: GET /api/trainer/messaging-stats/?days=7|30 with
// a 7/30 toggle; human durations, "—" when there is none.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { meAna } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;
const card = () => screen.getByRole('region', { name: 'Your messaging' });
const value = (id: string) => within(card()).getByTestId(id).querySelector('.figure-value')!.textContent;

describe('messaging figures (fetch mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.stats = {
      7: {
        conversations: 12,
        messages_received: 140,
        messages_sent: 1234,
        median_first_response_seconds: 754.2,
        p90_first_response_seconds: 3 * 3600 + 20 * 60,
        waiting_now: 3,
      },
      30: {
        conversations: 0,
        messages_received: 0,
        messages_sent: 0,
        median_first_response_seconds: null,
        p90_first_response_seconds: null,
        waiting_now: 0,
      },
    };
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows the 7-day figures with human durations, then 30 days (nulls as "—")', async () => {
    boot('/trainees');
    await waitFor(() => expect(value('stat-conversations')).toBe('12'));
    expect(server.log()).toContain('GET /api/trainer/messaging-stats/?days=7');
    expect(value('stat-received')).toBe('140');
    expect(value('stat-sent')).toBe((1234).toLocaleString());
    expect(value('stat-median')).toBe('13 min');
    expect(value('stat-p90')).toBe('3 h 20 min');
    expect(value('stat-waiting')).toBe('3');
    // Who waits: a link to the inbox.
    expect(within(within(card()).getByTestId('stat-waiting')).getByRole('link').getAttribute('href')).toBe('/messages?view=needs-reply');
    const seven = within(card()).getByRole('button', { name: '7 days' });
    const thirty = within(card()).getByRole('button', { name: '30 days' });
    expect(seven.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(thirty);
    await waitFor(() => expect(value('stat-median')).toBe('—'));
    expect(server.log()).toContain('GET /api/trainer/messaging-stats/?days=30');
    expect(thirty.getAttribute('aria-pressed')).toBe('true');
    expect(seven.getAttribute('aria-pressed')).toBe('false');
    expect(value('stat-p90')).toBe('—');
    expect(value('stat-conversations')).toBe('0');
    expect(within(within(card()).getByTestId('stat-waiting')).queryByRole('link')).toBeNull();
    expect(within(card()).getByText('all caught up')).toBeTruthy();
  });

  it('says so when the figures cannot be loaded', async () => {
    server.on((r) =>
      r.path === '/api/trainer/messaging-stats/'
        ? { status: 403, body: { detail: 'You do not have permission to perform this action.' } }
        : undefined,
    );
    boot('/trainees');
    const region = await screen.findByRole('region', { name: 'Your messaging' });
    expect((await within(region).findByRole('alert')).textContent).toContain(
      'Could not load your figures: You do not have permission to perform this action.',
    );
  });

  it('trainees do not see them', async () => {
    server.me = meAna;
    boot('/trainees');
    await screen.findByText('Only trainers have trainees.');
    expect(screen.queryByRole('region', { name: 'Your messaging' })).toBeNull();
    expect(server.log().some((c) => c.includes('messaging-stats'))).toBe(false);
  });
});
