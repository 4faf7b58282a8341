// A fake Spotter server at the network boundary (fetch, XMLHttpRequest for uploads) and a fake
// WebSocket, for the flow tests: the app runs unchanged against them.
import { act, render } from '@testing-library/react';
import { createElement } from 'react';
import { vi } from 'vitest';
import type {
  AccessEntry,
  AdminConversation,
  AuditEntry,
  User,
  BroadcastDetail,
  Conversation,
  Me,
  Message,
  MessagingStats,
  NotificationPreferences,
  ScheduledMessage,
  SearchResult,
  Template,
  Trainee,
} from '../api/types';
import { App, makeQueryClient } from '../App';
import { meTrainer } from './fixtures';

export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  send(s: string) {
    this.sent.push(JSON.parse(s));
  }
  close() {
    this.readyState = 3;
  }
  push(frame: unknown) {
    act(() => this.onmessage?.({ data: JSON.stringify(frame) }));
  }
  static last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }
}

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Parsed JSON, or the FormData of a multipart upload. */
  body: unknown;
  headers: Record<string, string>;
}

export interface Res {
  status: number;
  body?: unknown;
  /** A body sent as it is (a file), with these headers. */
  raw?: string;
  headers?: Record<string, string>;
}

type Handler = (req: Req) => Res | undefined;

export const defaultPrefs = (): NotificationPreferences => ({
  trainee_workout: true,
  trainee_weight_checkin: true,
  trainee_started_workout: true,
  trainee_finished_workout: true,
  churn_alert: true,
  re_engagement: true,
  trainer_announcement: true,
  achievement_earned: true,
  community_event: true,
  new_message: true,
  community_activity: true,
});

/** An XMLHttpRequest stand-in: sends go to the fake server; uploads can be held and stepped. */
export class FakeXHR {
  static server: FakeServer;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  status = 0;
  responseText = '';
  body: FormData | null = null;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    this.body = body;
    FakeXHR.server.xhrSent(this);
  }
  abort() {
    this.onabort?.();
  }
  /** Report upload progress (bytes). */
  progress(loaded: number, total: number) {
    act(() => this.upload.onprogress?.({ lengthComputable: true, loaded, total }));
  }
  respond(res: Res) {
    this.status = res.status;
    this.responseText = res.body === undefined || res.body === null ? '' : JSON.stringify(res.body);
    act(() => this.onload?.());
  }
  /** The server answers as it would. */
  complete() {
    const url = new URL(this.url, 'http://localhost');
    this.respond(FakeXHR.server.handle({ method: this.method, path: url.pathname, query: url.searchParams, body: this.body, headers: this.headers }));
  }
  fail() {
    act(() => this.onerror?.());
  }
}

const M = '/api/messaging';

/** The fake server's state and routes (the parts of the API the dashboard uses). */
export class FakeServer {
  me: Me = meTrainer;
  conversations: Conversation[] = [];
  /** `?needs_reply=true`: as given (with `waiting_since`). */
  needsReply: Conversation[] = [];
  templates: Template[] = [];
  templateCap = 200;
  stats: Record<number, MessagingStats> = {};
  trainees: Trainee[] = [];
  broadcasts: BroadcastDetail[] = [];
  scheduled: ScheduledMessage[] = [];
  messages: Message[] = [];
  prefs: NotificationPreferences = defaultPrefs();
  searchable: SearchResult[] = [];
  /** Admin console (docs/api.md 5a): every account, conversations, the audit log, the caller's access log. */
  users: User[] = [];
  adminConversations: AdminConversation[] = [];
  audit: AuditEntry[] = [];
  accessLog: AccessEntry[] = [];
  /** Page size of the admin lists and logs (the server's is 50). */
  adminPageSize = 50;
  calls: Req[] = [];
  /** Tried first, in order; the first answer wins. */
  handlers: Handler[] = [];
  /** Hold uploads until the test steps them (`uploads`); otherwise they finish at once. */
  holdUploads = false;
  uploads: FakeXHR[] = [];
  private nextId = 1000;

  install() {
    FakeXHR.server = this;
    FakeSocket.all = [];
    vi.stubGlobal('fetch', vi.fn((input: RequestInfo | URL, init?: RequestInit) => this.fetch(input, init)));
    vi.stubGlobal('XMLHttpRequest', FakeXHR);
    vi.stubGlobal('WebSocket', FakeSocket);
    // jsdom has no blob: URLs.
    let blob = 0;
    Object.defineProperty(URL, 'createObjectURL', { value: () => `blob:photo-${++blob}`, configurable: true, writable: true });
    Object.defineProperty(URL, 'revokeObjectURL', { value: () => {}, configurable: true, writable: true });
    return this;
  }

  /** Requests as "METHOD /path?query", for assertions. */
  log(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}${c.query.toString() ? `?${c.query}` : ''}`);
  }

  on(handler: Handler) {
    this.handlers.push(handler);
  }

  private fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = new URL((input instanceof Request ? input.url : input.toString()), 'http://localhost');
    const raw = init?.body;
    const body = typeof raw === 'string' ? JSON.parse(raw) : raw;
    const res = this.handle({
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body,
      headers: (init?.headers as Record<string, string>) ?? {},
    });
    if (res.raw !== undefined) return Promise.resolve(new Response(res.raw, { status: res.status, headers: res.headers }));
    const text = res.body === undefined || res.body === null ? null : JSON.stringify(res.body);
    return Promise.resolve(new Response(text, { status: res.status, headers: { 'Content-Type': 'application/json', ...res.headers } }));
  }

  xhrSent(x: FakeXHR) {
    if (this.holdUploads) {
      this.uploads.push(x);
      return;
    }
    setTimeout(() => {
      x.progress(50, 100);
      x.progress(100, 100);
      x.complete();
    }, 0);
  }

  handle(req: Req): Res {
    this.calls.push(req);
    for (const h of this.handlers) {
      const r = h(req);
      if (r) return r;
    }
    return this.route(req);
  }

  messagesOf(conversationId: number): Message[] {
    return this.messages.filter((m) => m.conversation_id === conversationId).sort((a, b) => a.id - b.id);
  }

  private route({ method, path, query, body }: Req): Res {
    if (path === '/api/auth/users/me/') return { status: 200, body: this.me };
    if (path === `${M}/unread-count/`) return { status: 200, body: { unread_count: 0 } };
    if (path === `${M}/conversations/` && query.get('needs_reply') === 'true') {
      if (this.me.role !== 'trainer') return { status: 403, body: { detail: 'You do not have permission to perform this action.' } };
      return { status: 200, body: { count: this.needsReply.length, next: null, previous: null, results: this.needsReply } };
    }
    if (path.startsWith(`${M}/templates/`)) return this.templatesRoute(method, path, body);
    if (path === '/api/trainer/messaging-stats/') {
      const days = Number(query.get('days') ?? 7);
      const stats = this.stats[days];
      return stats ? { status: 200, body: stats } : { status: 400, body: { days: ['Choose 7 or 30.'] } };
    }
    if (path === '/api/trainer/trainees/') return this.traineePage(query);
    if (path.startsWith(`${M}/broadcasts/`)) return this.broadcastsRoute(method, path, query, body);
    const sm = path.match(/^\/api\/messaging\/conversations\/(\d+)\/scheduled\/(?:(\d+)\/)?$/);
    if (sm) return this.scheduledRoute(method, Number(sm[1]), sm[2] ? Number(sm[2]) : null, body);
    if (path === `${M}/conversations/`) {
      return { status: 200, body: { count: this.conversations.length, next: null, previous: null, results: this.conversations } };
    }
    if (path === '/api/users/notification-preferences/') {
      if (method === 'PATCH') this.prefs = { ...this.prefs, ...(body as Partial<NotificationPreferences>) };
      return { status: 200, body: this.prefs };
    }
    if (path === `${M}/search/`) return this.search(query);
    if (path.startsWith('/api/admin/')) return this.adminRoute(path, query);
    if (path === '/api/users/access-log/') {
      if (this.me.is_impersonating) return { status: 403, body: { detail: 'This action is not allowed during impersonation.' } };
      return this.paged('/api/users/access-log/', this.accessLog, query);
    }
    let m = path.match(/^\/api\/messaging\/conversations\/(\d+)\/messages\/$/);
    if (m) return this.history(Number(m[1]), query);
    m = path.match(/^\/api\/messaging\/conversations\/(\d+)\/messages\/(\d+)\/$/);
    if (m) return this.change(method, Number(m[1]), Number(m[2]), body);
    m = path.match(/^\/api\/messaging\/conversations\/(\d+)\/send\/$/);
    if (m) return this.send(Number(m[1]), body);
    m = path.match(/^\/api\/messaging\/conversations\/(\d+)\/read\/$/);
    if (m) return { status: 200, body: { conversation_id: Number(m[1]), messages_marked: 0, read_at: new Date().toISOString() } };
    return { status: 404, body: { detail: 'Not found.' } };
  }

  /** A page of `all` (newest first already), `next` as an absolute URL keeping the query. */
  private paged<T>(path: string, all: T[], q: URLSearchParams): Res {
    const page = Number(q.get('page') ?? 1);
    const size = this.adminPageSize;
    if (!Number.isInteger(page) || page < 1 || (page > 1 && (page - 1) * size >= all.length)) return { status: 404, body: { detail: 'Invalid page.' } };
    const nextQ = new URLSearchParams(q);
    nextQ.set('page', String(page + 1));
    const next = page * size < all.length ? `http://localhost${path}?${nextQ}` : null;
    return { status: 200, body: { count: all.length, next, previous: null, results: all.slice((page - 1) * size, page * size) } };
  }

  private adminRoute(path: string, q: URLSearchParams): Res {
    if (this.me.role !== 'admin' || this.me.is_impersonating) {
      return { status: 403, body: { detail: 'You do not have permission to perform this action.' } };
    }
    if (path === '/api/admin/users/') {
      const text = (q.get('q') ?? '').toLowerCase();
      const hits = this.users.filter((u) => `${u.first_name} ${u.last_name} ${u.email}`.toLowerCase().includes(text));
      return this.paged(path, hits, q);
    }
    if (path === '/api/admin/conversations/') {
      const user = q.get('user');
      if (user !== null && !/^\d+$/.test(user)) return { status: 400, body: { user: ['A valid integer is required.'] } };
      const hits = this.adminConversations.filter((c) => user === null || c.trainer.id === Number(user) || c.trainee?.id === Number(user));
      return this.paged(path, hits, q);
    }
    const m = path.match(/^\/api\/admin\/conversations\/(\d+)\/messages\/$/);
    if (m) {
      if (!this.adminConversations.some((c) => c.id === Number(m[1]))) return { status: 404, body: { error: 'Conversation not found.' } };
      return this.history(Number(m[1]), q);
    }
    if (path === '/api/admin/search/') {
      if (!q.get('user')) return { status: 400, body: { user: ['This field is required.'] } };
      return this.search(q);
    }
    if (path === '/api/admin/audit-log/') {
      const errors: Record<string, string[]> = {};
      for (const k of ['actor', 'subject']) {
        const v = q.get(k);
        if (v !== null && !/^\d+$/.test(v)) errors[k] = ['A valid integer is required.'];
      }
      for (const k of ['since', 'until']) {
        const v = q.get(k);
        if (v !== null && (Number.isNaN(Date.parse(v)) || !/(Z|[+-]\d\d:\d\d)$/.test(v))) {
          errors[k] = ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'];
        }
      }
      if (Object.keys(errors).length) return { status: 400, body: errors };
      const actor = q.get('actor');
      const subject = q.get('subject');
      const since = q.get('since');
      const until = q.get('until');
      const hits = [...this.audit]
        .sort((a, b) => b.id - a.id)
        .filter(
          (e) =>
            (actor === null || e.actor_id === Number(actor)) &&
            (subject === null || e.subject_user_id === Number(subject)) &&
            (since === null || Date.parse(e.created_at) >= Date.parse(since)) &&
            (until === null || Date.parse(e.created_at) <= Date.parse(until)),
        );
      return this.paged(path, hits, q);
    }
    return { status: 404, body: { detail: 'Not found.' } };
  }

  private history(cid: number, q: URLSearchParams): Res {
    const all = this.messagesOf(cid);
    const limit = Number(q.get('limit') ?? 20);
    const around = q.get('around');
    const before = q.get('before');
    const after = q.get('after');
    if (around) {
      const i = all.findIndex((x) => x.id === Number(around));
      if (i < 0) return { status: 404, body: { error: 'Message not found.' } };
      const start = Math.max(0, i - Math.floor(limit / 2));
      const end = Math.min(all.length, start + limit);
      return {
        status: 200,
        body: { results: all.slice(start, end).reverse(), has_older: start > 0, has_newer: end < all.length },
      };
    }
    if (after) {
      const newer = all.filter((x) => x.id > Number(after));
      return { status: 200, body: { results: newer.slice(0, limit), has_more: newer.length > limit } };
    }
    const older = before ? all.filter((x) => x.id < Number(before)) : all;
    const page = older.slice(Math.max(0, older.length - limit));
    return { status: 200, body: { results: page.reverse(), has_more: older.length > limit } };
  }

  private send(cid: number, body: unknown): Res {
    const form = body instanceof FormData ? body : null;
    const get = (k: string) => (form ? ((form.get(k) as string | null) ?? undefined) : (body as Record<string, string>)[k]);
    const image = form?.get('image') as File | null;
    const content = (get('content') ?? '').trim();
    if (!content && !image) return { status: 400, body: { error: 'Message must contain text or an image.' } };
    const id = this.nextId++;
    const msg: Message = {
      id,
      conversation_id: cid,
      sender: { id: this.me.id, first_name: this.me.first_name, last_name: this.me.last_name, profile_image: null },
      content,
      is_read: false,
      read_at: null,
      created_at: new Date().toISOString(),
      client_message_id: get('client_message_id') ?? null,
      delivered_at: null,
      image: image ? `http://localhost/media/${id}.png` : null,
      image_width: image ? 640 : null,
      image_height: image ? 480 : null,
      thumbnail: image ? `http://localhost/media/${id}-thumb.jpg` : null,
      edited_at: null,
      is_deleted: false,
    };
    this.messages.push(msg);
    // As the server: the trainer's answer takes the conversation off "needs reply".
    if (this.me.role === 'trainer') this.needsReply = this.needsReply.filter((c) => c.id !== cid);
    return { status: 201, body: msg };
  }

  private change(method: string, cid: number, mid: number, body: unknown): Res {
    const i = this.messages.findIndex((x) => x.id === mid && x.conversation_id === cid);
    if (i < 0) return { status: 404, body: { error: 'Message not found.' } };
    if (method === 'DELETE') {
      this.messages[i] = { ...this.messages[i], content: '', image: null, thumbnail: null, is_deleted: true };
      return { status: 204 };
    }
    if (method === 'PATCH') {
      const content = String((body as { content?: string }).content ?? '');
      this.messages[i] = { ...this.messages[i], content, edited_at: new Date().toISOString() };
      return { status: 200, body: this.messages[i] };
    }
    return { status: 405, body: { detail: 'Method not allowed.' } };
  }

  private templatesRoute(method: string, path: string, body: unknown): Res {
    if (this.me.role !== 'trainer') return { status: 403, body: { error: 'Only trainers have saved replies.' } };
    const m = path.match(/^\/api\/messaging\/templates\/(?:(\d+)\/)?$/);
    if (!m) return { status: 404, body: { detail: 'Not found.' } };
    const id = m[1] ? Number(m[1]) : null;
    const b = (body ?? {}) as { title?: string; content?: string };
    const now = new Date().toISOString();
    const taken = (title: string, except: number | null) =>
      this.templates.some((t) => t.id !== except && t.title.toLowerCase() === title.trim().toLowerCase());
    if (id === null) {
      if (method === 'GET') return { status: 200, body: this.templates };
      if (method !== 'POST') return { status: 405, body: { detail: 'Method not allowed.' } };
      const errors: Record<string, string[]> = {};
      if (!b.title?.trim()) errors.title = ['This field may not be blank.'];
      else if (taken(b.title, null)) errors.title = ['You already have a saved reply with this title.'];
      if (!b.content?.trim()) errors.content = ['This field may not be blank.'];
      if (Object.keys(errors).length) return { status: 400, body: errors };
      if (this.templates.length >= this.templateCap) {
        return { status: 400, body: { error: 'You can keep at most 200 saved replies. Delete one to save another.' } };
      }
      const t: Template = { id: this.nextId++, title: b.title!.trim(), content: b.content!.trim(), created_at: now, updated_at: now };
      this.templates.push(t);
      return { status: 201, body: t };
    }
    const i = this.templates.findIndex((t) => t.id === id);
    if (i < 0) return { status: 404, body: { error: 'Saved reply not found.' } };
    if (method === 'DELETE') {
      this.templates.splice(i, 1);
      return { status: 204 };
    }
    if (method === 'PATCH') {
      if (b.title !== undefined && taken(b.title, id)) {
        return { status: 400, body: { title: ['You already have a saved reply with this title.'] } };
      }
      this.templates[i] = {
        ...this.templates[i],
        ...(b.title !== undefined ? { title: b.title.trim() } : {}),
        ...(b.content !== undefined ? { content: b.content.trim() } : {}),
        updated_at: now,
      };
      return { status: 200, body: this.templates[i] };
    }
    return { status: 405, body: { detail: 'Method not allowed.' } };
  }

  private traineePage(q: URLSearchParams): Res {
    const search = (q.get('search') ?? '').toLowerCase();
    const page = Number(q.get('page') ?? 1);
    const hits = this.trainees.filter((t) => `${t.first_name} ${t.last_name} ${t.email}`.toLowerCase().includes(search));
    const size = 20;
    const results = hits.slice((page - 1) * size, page * size);
    const next = page * size < hits.length ? `http://localhost/api/trainer/trainees/?page=${page + 1}` : null;
    return { status: 200, body: { count: hits.length, next, previous: null, results } };
  }

  private broadcastsRoute(method: string, path: string, q: URLSearchParams, body: unknown): Res {
    const m = path.match(/^\/api\/messaging\/broadcasts\/(?:(\d+)\/)?$/);
    if (!m) return { status: 404, body: { detail: 'Not found.' } };
    const id = m[1] ? Number(m[1]) : null;
    const summary = ({ failures: _f, ...b }: BroadcastDetail) => b;
    if (id === null) {
      if (method === 'GET') {
        const page = Number(q.get('page') ?? 1);
        const all = [...this.broadcasts].sort((a, b) => b.id - a.id);
        const size = 20;
        const next = page * size < all.length ? `http://localhost/api/messaging/broadcasts/?page=${page + 1}` : null;
        return { status: 200, body: { count: all.length, next, previous: null, results: all.slice((page - 1) * size, page * size).map(summary) } };
      }
      const b = (body ?? {}) as { content?: string; trainee_ids?: number[] | 'all'; client_broadcast_id?: string; send_at?: string };
      const again = b.client_broadcast_id && this.broadcasts.find((x) => x.client_broadcast_id === b.client_broadcast_id);
      if (again) return { status: 200, body: summary(again) };
      if (!b.content?.trim()) return { status: 400, body: { content: ['This field may not be blank.'] } };
      const ids = b.trainee_ids === 'all' ? this.trainees.map((t) => t.id) : (b.trainee_ids ?? []);
      if (ids.length === 0) return { status: 400, body: { trainee_ids: ['This list may not be empty.'] } };
      if (ids.some((x) => !this.trainees.some((t) => t.id === x))) {
        return { status: 400, body: { error: 'Trainee not found or not assigned to you.' } };
      }
      const now = new Date().toISOString();
      const created: BroadcastDetail = {
        id: this.nextId++,
        state: b.send_at ? 'scheduled' : 'sending',
        total: ids.length,
        sent: 0,
        failed: 0,
        created_at: now,
        send_at: b.send_at ?? null,
        content: b.content.trim(),
        client_broadcast_id: b.client_broadcast_id ?? null,
        finished_at: null,
        failures: [],
      };
      this.broadcasts.push(created);
      return { status: 202, body: summary(created) };
    }
    const i = this.broadcasts.findIndex((x) => x.id === id);
    if (i < 0) return { status: 404, body: { error: 'Broadcast not found.' } };
    if (method === 'GET') return { status: 200, body: this.broadcasts[i] };
    if (method === 'DELETE') {
      if (this.broadcasts[i].state !== 'scheduled') return { status: 400, body: { error: 'This broadcast is no longer scheduled.' } };
      this.broadcasts[i] = { ...this.broadcasts[i], state: 'cancelled' };
      return { status: 204 };
    }
    return { status: 405, body: { detail: 'Method not allowed.' } };
  }

  private scheduledRoute(method: string, cid: number, sid: number | null, body: unknown): Res {
    const b = (body ?? {}) as { content?: string; send_at?: string };
    const badTime = (v: string | undefined) => !v || Number.isNaN(Date.parse(v)) || Date.parse(v) <= Date.now();
    if (sid === null) {
      if (method === 'GET') {
        const mine = this.scheduled
          .filter((x) => x.conversation_id === cid && x.state === 'pending')
          .sort((a, c) => Date.parse(a.send_at) - Date.parse(c.send_at));
        return { status: 200, body: mine };
      }
      if (method !== 'POST') return { status: 405, body: { detail: 'Method not allowed.' } };
      if (!b.content?.trim()) return { status: 400, body: { content: ['This field may not be blank.'] } };
      if (badTime(b.send_at)) return { status: 400, body: { send_at: ['Must be in the future.'] } };
      const s: ScheduledMessage = {
        id: this.nextId++,
        conversation_id: cid,
        content: b.content.trim(),
        send_at: b.send_at!,
        state: 'pending',
        failure_reason: null,
        created_at: new Date().toISOString(),
        message_id: null,
      };
      this.scheduled.push(s);
      return { status: 201, body: s };
    }
    const i = this.scheduled.findIndex((x) => x.id === sid && x.conversation_id === cid);
    if (i < 0) return { status: 404, body: { error: 'Scheduled message not found.' } };
    if (this.scheduled[i].state !== 'pending') return { status: 400, body: { error: 'This message is no longer pending.' } };
    if (method === 'DELETE') {
      this.scheduled[i] = { ...this.scheduled[i], state: 'cancelled' };
      return { status: 204 };
    }
    if (method === 'PATCH') {
      if (b.send_at !== undefined && badTime(b.send_at)) return { status: 400, body: { send_at: ['Must be in the future.'] } };
      this.scheduled[i] = {
        ...this.scheduled[i],
        ...(b.content !== undefined ? { content: b.content.trim() } : {}),
        ...(b.send_at !== undefined ? { send_at: b.send_at } : {}),
      };
      return { status: 200, body: this.scheduled[i] };
    }
    return { status: 405, body: { detail: 'Method not allowed.' } };
  }

  private search(q: URLSearchParams): Res {
    const text = (q.get('q') ?? '').trim();
    if (Array.from(text).length < 2) return { status: 400, body: { error: 'Search query must be at least 2 characters.' } };
    const page = Number(q.get('page') ?? 1);
    const hits = this.searchable.filter((r) => r.content.toLowerCase().includes(text.toLowerCase()));
    const size = 20;
    const numPages = Math.max(1, Math.ceil(hits.length / size));
    return {
      status: 200,
      body: {
        count: hits.length,
        num_pages: numPages,
        page,
        has_next: page < numPages,
        has_previous: page > 1,
        results: hits.slice((page - 1) * size, page * size),
      },
    };
  }
}

/** Start the app logged in at `path`. */
export function boot(path: string) {
  localStorage.setItem('spotter.access', 'A');
  localStorage.setItem('spotter.refresh', 'R');
  window.history.pushState(null, '', path);
  return render(createElement(App, { client: makeQueryClient() }));
}

/** A small PNG file (the bytes do not matter to the app, only type, size and name). */
export function pngFile(name = 'photo.png', size = 1024, type = 'image/png'): File {
  return new File([new Uint8Array(size)], name, { type });
}
