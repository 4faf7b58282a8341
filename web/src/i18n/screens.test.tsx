// The main screens in Spanish and Brazilian Portuguese, against the fake server: no text on
// screen, and no aria-label, title, placeholder or alt, is an English catalog text that the
// language translates differently (nothing left untranslated).
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessEntry, AuditEntry, BroadcastDetail } from '../api/types';
import { App, makeQueryClient } from '../App';
import { admin, adminConv, ana, ben, conv, meAdmin, meAna, msg, trainer, user } from '../test/fixtures';
import { navigate } from '../router';
import { boot, FakeServer } from '../test/server';
import en from './en.json';
import es from './es.json';
import ptBR from './pt-BR.json';
import { i18n, type Language } from '.';

type Tree = { [k: string]: string | Tree };
function flatten(tree: Tree, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else flatten(v, key, out);
  }
  return out;
}
const english = flatten(en);
const translated: Record<string, Record<string, string>> = { es: flatten(es), 'pt-BR': flatten(ptBR) };

/**
 * What English left on screen would look like in `lng`: exact texts, and texts with
 * placeholders as patterns (when they have enough words of their own to tell them apart).
 */
function englishLeftovers(lng: string) {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  const theirs = translated[lng];
  for (const [key, value] of Object.entries(english)) {
    const other = theirs[key] ?? theirs[key.replace(/_(one|other)$/, '_other')];
    if (other === value) continue;
    const text = value.replace(/<\/?\w+\s*\/?>/g, '');
    if (!text.includes('{{')) {
      exact.add(text.trim());
      continue;
    }
    const literal = text.replace(/\{\{[^}]+\}\}/g, '');
    if ((literal.match(/[A-Za-z]/g) ?? []).length < 6) continue;
    const source = text
      .trim()
      .split(/\{\{[^}]+\}\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+?');
    patterns.push(new RegExp(`^${source}$`));
  }
  return { exact, patterns };
}

/** Every English leftover on the page now (text nodes and the attributes people hear or see). */
function untranslated(lng: string): string[] {
  const { exact, patterns } = englishLeftovers(lng);
  const found: string[] = [];
  const check = (where: string, raw: string | null) => {
    const s = raw?.replace(/\s+/g, ' ').trim();
    if (!s) return;
    if (exact.has(s) || patterns.some((p) => p.test(s))) found.push(`${where}: ${s}`);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) check('text', n.nodeValue);
  for (const el of Array.from(document.body.querySelectorAll('*'))) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'aria-valuetext']) check(a, el.getAttribute(a));
  }
  return found;
}

const go = (path: string) => act(() => navigate(path));
const when = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

function accessEntry(id: number, over: Partial<AccessEntry>): AccessEntry {
  return {
    id,
    actor_id: admin.id,
    actor_name: 'Ada Admin',
    actor_role: 'admin',
    action: 'admin.read_messages',
    subject_user_id: ana.id,
    conversation_id: 1,
    created_at: when(-5),
    ...over,
  };
}

function auditEntry(id: number, over: Partial<AuditEntry>): AuditEntry {
  return {
    id,
    actor_id: admin.id,
    action: 'admin.read_messages',
    subject_user_id: ana.id,
    conversation_id: 1,
    ip: '10.0.0.7',
    created_at: when(-id),
    hash: 'ab'.repeat(32),
    ...over,
  };
}

const broadcast = (over: Partial<BroadcastDetail>): BroadcastDetail => ({
  id: 70,
  state: 'done',
  total: 3,
  sent: 2,
  failed: 1,
  created_at: when(-3),
  send_at: null,
  content: 'Gym closed Monday, {first_name}',
  client_broadcast_id: 'x',
  finished_at: when(-2),
  failures: [{ trainee_id: ben.id, trainee_name: 'Ben Okafor', reason: 'Trainee is no longer assigned.' }],
  ...over,
});

let server: FakeServer;

describe.each(['es', 'pt-BR'] as Language[])('screens in %s (fetch and WebSocket mocked)', (lng) => {
  beforeEach(async () => {
    server = new FakeServer().install();
    server.conversations = [
      conv(1, ana, { unread_count: 2, last_message_preview: 'see you tomorrow', last_message_at: when(-0.1) }),
      conv(2, ben, { last_message_preview: 'Sent a photo', last_message_at: when(-30) }),
    ];
    server.needsReply = [conv(1, ana, { waiting_since: when(-5) })];
    server.messages = [
      msg(1, { sender: ana, content: 'hello coach', created_at: when(-50) }),
      msg(2, { content: 'hi Ana', is_read: true, read_at: when(-49), created_at: when(-49.5), edited_at: when(-49.4) }),
      msg(3, { sender: ana, content: '', is_deleted: true, created_at: when(-1) }),
      msg(4, {
        content: '',
        image: 'https://cdn.example/p.jpg',
        thumbnail: 'https://cdn.example/t.jpg',
        image_width: 800,
        image_height: 600,
        created_at: when(-0.2),
        delivered_at: when(-0.2),
      }),
      msg(5, { sender: ana, content: 'see you tomorrow', created_at: when(-0.1) }),
    ];
    server.scheduled = [
      { id: 9, conversation_id: 1, content: 'Leg day!', send_at: when(20), state: 'pending', failure_reason: null, created_at: when(-1), message_id: null },
      { id: 10, conversation_id: 1, content: 'Rest day', send_at: when(-1), state: 'failed', failure_reason: 'Conversation is archived.', created_at: when(-2), message_id: null },
    ];
    server.templates = [{ id: 1, title: 'Check-in', content: 'How are you, {first_name}?', created_at: when(-100), updated_at: when(-100) }];
    server.trainees = [ana, ben].map((t) => user(t, 'trainee'));
    server.stats = {
      7: { conversations: 12, messages_received: 1400, messages_sent: 12345, median_first_response_seconds: 754, p90_first_response_seconds: 12_000, waiting_now: 1 },
    };
    server.broadcasts = [broadcast({}), broadcast({ id: 71, state: 'scheduled', sent: 0, failed: 0, send_at: when(30), finished_at: null, failures: [] })];
    await i18n.changeLanguage(lng);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('messages: the list, a chat with every kind of message, the menus, the picker, scheduling, settings', async () => {
    boot('/messages/1');
    await screen.findByText('hello coach');
    await screen.findByText('Leg day!');
    expect(document.documentElement.lang).toBe(lng);
    expect(untranslated(lng)).toEqual([]);

    // The message menu, the saved replies picker and the schedule popover.
    fireEvent.click(document.querySelector<HTMLElement>('.msg-actions-button')!);
    await screen.findByRole('menu');
    expect(untranslated(lng)).toEqual([]);
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    const box = document.querySelector<HTMLTextAreaElement>('.chat-input textarea')!;
    fireEvent.change(box, { target: { value: '/', selectionStart: 1 } });
    await screen.findByTestId('saved-reply-picker');
    expect(untranslated(lng)).toEqual([]);
    fireEvent.change(box, { target: { value: 'Great session', selectionStart: 13 } });
    fireEvent.click(document.querySelector<HTMLElement>('.schedule-button')!);
    await screen.findByTestId('schedule-popover');
    expect(untranslated(lng)).toEqual([]);

    // The settings panel, then the saved replies manager.
    fireEvent.click(document.querySelector<HTMLElement>('.settings-button')!);
    await waitFor(() => expect(document.querySelector('.settings-panel')?.textContent).toMatch(/\S/));
    await waitFor(() => expect(screen.getByTestId('message-notifications-switch').getAttribute('aria-checked')).toBe('true'));
    expect(untranslated(lng)).toEqual([]);
    fireEvent.change(box, { target: { value: '/', selectionStart: 1 } });
    fireEvent.click(await screen.findByText(translated[lng]['replies.manage']));
    await screen.findByRole('dialog', { name: translated[lng]['replies.title'] });
    expect(untranslated(lng)).toEqual([]);
  });

  it('messages: the needs-reply inbox, an empty archive, a search', async () => {
    boot('/messages?view=needs-reply');
    await waitFor(() => expect(document.querySelector('.waiting')).not.toBeNull());
    expect(untranslated(lng)).toEqual([]);

    server.searchable = [
      {
        message_id: 5,
        conversation_id: 1,
        sender_id: ana.id,
        sender_first_name: 'Ana',
        sender_last_name: 'Lima',
        content: 'see you tomorrow',
        image_url: null,
        created_at: when(-0.1),
        other_participant_id: ana.id,
        other_participant_first_name: 'Ana',
        other_participant_last_name: 'Lima',
        highlights: [{ start: 0, end: 3 }],
      },
    ];
    const search = document.querySelector<HTMLInputElement>('.conv-search input')!;
    fireEvent.change(search, { target: { value: 's' } });
    expect(untranslated(lng)).toEqual([]);
    fireEvent.change(search, { target: { value: 'see' } });
    await waitFor(() => expect(document.querySelector('.search-item')).not.toBeNull());
    expect(untranslated(lng)).toEqual([]);
  });

  it('trainees with the figures, and the broadcasts: list, one, composer', async () => {
    boot('/trainees');
    await screen.findByText('12.345');
    await screen.findByText('Ben Okafor');
    expect(untranslated(lng)).toEqual([]);
    go('/broadcasts');
    await waitFor(() => expect(document.querySelectorAll('.bc-row')).toHaveLength(2));
    expect(untranslated(lng)).toEqual([]);
    go('/broadcasts/70');
    await screen.findByText('Trainee is no longer assigned.');
    expect(untranslated(lng)).toEqual([]);
    go('/broadcasts/new');
    const form = await screen.findByRole('form', { name: translated[lng]['broadcast.new'] });
    await within(form).findByText('Ana Lima');
    fireEvent.click(within(form).getAllByRole('checkbox')[0]);
    fireEvent.change(within(form).getByRole('textbox'), { target: { value: 'Hi {first_name}' } });
    fireEvent.click(within(form).getAllByRole('radio')[1]);
    expect(untranslated(lng)).toEqual([]);
  });

  it('a trainee’s page, a new conversation, the impersonation banner', async () => {
    server.on((req) =>
      req.path === `/api/trainer/trainees/${ben.id}/`
        ? { status: 200, body: { ...ben, is_active: false, date_joined: '2025-03-01T10:00:00Z' } }
        : undefined,
    );
    boot(`/trainees/${ben.id}`);
    await screen.findByRole('heading', { name: 'Ben Okafor' });
    expect(untranslated(lng)).toEqual([]);
    go(`/messages/new/${ben.id}`);
    await screen.findByText(/Ben Okafor/, { selector: '.chat-empty p' });
    expect(screen.getByText(/Ben Okafor/, { selector: '.chat-empty p' }).innerHTML).toContain('<br>');
    expect(untranslated(lng)).toEqual([]);
  });

  it('viewing as a trainee: the banner and the read-only chat', async () => {
    server.me = { ...meAna, is_impersonating: true, original_user_id: trainer.id };
    server.conversations = [conv(1, ana, { trainer })];
    boot('/messages/1');
    await screen.findByTestId('impersonation-banner');
    await screen.findByText('hello coach');
    expect(untranslated(lng)).toEqual([]);
  });

  it('a trainee: the list, "Who accessed my data"', async () => {
    server.me = meAna;
    server.conversations = [conv(1, ana, { trainer })];
    server.accessLog = [
      accessEntry(3, {}),
      accessEntry(2, { actor_id: trainer.id, actor_name: 'Sam Rivera', actor_role: 'trainer', action: 'impersonation.start', conversation_id: null }),
      accessEntry(1, { actor_id: 0, actor_name: 'Spotter operator', actor_role: null, action: 'export', conversation_id: null }),
    ];
    boot('/access-log');
    await screen.findByText(/Sam Rivera/);
    await waitFor(() => expect(document.querySelectorAll('.access-row')).toHaveLength(3));
    expect(untranslated(lng)).toEqual([]);
    go('/messages/1');
    await screen.findByText('hello coach');
    expect(untranslated(lng)).toEqual([]);
  });

  it('the admin console: the finder, an account, a history, the audit log', async () => {
    server.me = meAdmin;
    server.users = [user(admin, 'admin'), user(ana, 'trainee'), user(ben, 'trainee', { is_active: false }), user(trainer, 'trainer')];
    server.adminConversations = [adminConv(1, ana), adminConv(2, ana, { is_archived: true, archived_at: when(-10) })];
    server.audit = [
      auditEntry(1, { action: 'admin.read_conversations', conversation_id: null }),
      auditEntry(2, { actor_id: trainer.id, action: 'impersonation.start', subject_user_id: ben.id, conversation_id: null }),
      auditEntry(3, { actor_id: 0, action: 'erase', subject_user_id: 77, conversation_id: null, ip: null }),
    ];
    boot('/admin');
    await screen.findByText('Ben Okafor');
    expect(untranslated(lng)).toEqual([]);
    go('/admin/users/3');
    await waitFor(() => expect(document.querySelectorAll('[data-conversation-id]')).toHaveLength(2));
    expect(untranslated(lng)).toEqual([]);
    fireEvent.click(document.querySelector<HTMLElement>('[data-conversation-id="1"]')!);
    await screen.findByText('hello coach');
    expect(untranslated(lng)).toEqual([]);
    go('/admin/audit-log');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(4));
    expect(untranslated(lng)).toEqual([]);
  });

  it('the login page', async () => {
    window.history.pushState(null, '', '/login');
    render(createElement(App, { client: makeQueryClient() }));
    await screen.findByRole('heading', { name: translated[lng]['login.title'] });
    expect(untranslated(lng)).toEqual([]);
  });
});
