// A fake Spotter server for the flow tests: in-memory state, answered through MSW at the
// network boundary (fetch, XMLHttpRequest for uploads, the user socket), so the app runs
// unchanged. Routes are typed with the OpenAPI document's `paths`: a status or body the
// document does not allow for that path is a type error here.
import { act, render } from '@testing-library/react';
import { http, HttpResponse, ws } from 'msw';
import { createElement } from 'react';
import { vi } from 'vitest';
import type { paths } from '../api/schema';
import type {
  AccessEntry,
  AdminConversation,
  AuditEntry,
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
  User,
} from '../api/types';
import { App, makeQueryClient } from '../App';
import { meTrainer } from './fixtures';
import { network } from './msw';

/** The per-user socket `ws/messaging/?token=`, as MSW's WebSocket link. */
const userSocket = ws.link(/\/ws\/messaging\//);
type SocketClient = Parameters<Parameters<typeof userSocket.addEventListener<'connection'>>[1]>[0]['client'];

/** One socket the app opened: what it sent, and `push` to send it a frame. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readonly url: string;
  /** The frames the app sent, parsed. */
  sent: unknown[] = [];
  constructor(private readonly client: SocketClient) {
    this.url = client.url.href;
    client.addEventListener('message', (e) => this.sent.push(JSON.parse(e.data as string)));
    FakeSocket.all.push(this);
  }
  /** Send a frame; resolves once the app has handled it. */
  async push(frame: unknown): Promise<void> {
    // MSW hands the frame over in a microtask: `act` waits for it and for the renders it causes.
    await act(async () => this.client.send(JSON.stringify(frame)));
  }
  /** Close it from the server's side (e.g. 4001: token expired). */
  async close(code = 1000): Promise<void> {
    await act(async () => this.client.close(code));
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
  /** As the app set them (`Authorization`, `Content-Type`, …). */
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

// ---- Replies typed by the OpenAPI document ----
type Method = 'get' | 'post' | 'patch' | 'delete';
type Path = keyof paths;
type Responses<P extends Path, M extends Method> = NonNullable<paths[P][M]> extends { responses: infer R } ? R : never;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : null | undefined;
/** What `M P` may answer: one of its documented statuses, with that status's JSON body. */
type Reply<P extends Path, M extends Method> = {
  [S in keyof Responses<P, M>]: { status: S; body?: JsonOf<Responses<P, M>[S]> };
}[keyof Responses<P, M>];
type Params = Record<string, string>;

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

/** A multipart body (the request's FormData is Node's, not jsdom's: no `instanceof`). */
const isForm = (body: unknown): body is FormData => typeof (body as FormData | null)?.getAll === 'function';

/** Header names as an app writes them ("authorization" → "Authorization"). */
const headerName = (n: string) => n.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());

async function readReq(request: Request): Promise<Req> {
  const url = new URL(request.url);
  const type = request.headers.get('Content-Type') ?? '';
  let body: unknown;
  if (type.startsWith('multipart/form-data')) body = await request.formData();
  else {
    const text = await request.text();
    body = text ? JSON.parse(text) : null;
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => (headers[headerName(k)] = v));
  return { method: request.method, path: url.pathname, query: url.searchParams, body, headers };
}

function toResponse(res: Res): Response {
  if (res.raw !== undefined) return new HttpResponse(res.raw, { status: res.status, headers: res.headers });
  if (res.body === undefined || res.body === null) return new HttpResponse(null, { status: res.status, headers: res.headers });
  return HttpResponse.json(res.body, { status: res.status, headers: res.headers });
}

/**
 * An upload the test steps (`holdUploads`): the request as the app sent it, its progress, and
 * its end. MSW answers an XMLHttpRequest with the whole body sent at once, so `progress`
 * reports a part of it through the upload's `progress` event, where the app listens.
 */
export class HeldUpload {
  constructor(
    readonly req: Req,
    private readonly progressTarget: EventTarget | undefined,
    private readonly answer: (r: Response) => void,
    private readonly reply: () => Response,
  ) {}
  get method() {
    return this.req.method;
  }
  get url() {
    return this.req.path;
  }
  get headers() {
    return this.req.headers;
  }
  get body(): FormData | null {
    return isForm(this.req.body) ? this.req.body : null;
  }
  /** Report upload progress (bytes). */
  progress(loaded: number, total: number) {
    act(() => {
      this.progressTarget?.dispatchEvent(new ProgressEvent('progress', { lengthComputable: true, loaded, total }));
    });
  }
  respond(res: Res) {
    this.answer(toResponse(res));
  }
  /** The server answers as it would. */
  complete() {
    this.answer(this.reply());
  }
  /** No answer at all: the network failed. */
  fail() {
    this.answer(HttpResponse.error());
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
  uploads: HeldUpload[] = [];
  private nextId = 1000;
  /** The XMLHttpRequest upload targets the app listens on for progress, in order. */
  private progressTargets: EventTarget[] = [];

  install() {
    FakeSocket.all = [];
    network.use(
      // Every request: recorded, then a test's own answer if it has one.
      http.all('*', async ({ request }) => {
        const req = await readReq(request.clone());
        this.calls.push(req);
        for (const h of this.handlers) {
          const r = h(req);
          if (r) return toResponse(r);
        }
        return undefined;
      }),
      ...this.routes(),
      http.all('*', () => HttpResponse.json({ detail: 'Not found.' }, { status: 404 })),
      userSocket.addEventListener('connection', ({ client }) => void new FakeSocket(client)),
    );
    this.watchUploadProgress();
    // jsdom has no blob: URLs.
    let blob = 0;
    Object.defineProperty(URL, 'createObjectURL', { value: () => `blob:photo-${++blob}`, configurable: true, writable: true });
    Object.defineProperty(URL, 'revokeObjectURL', { value: () => {}, configurable: true, writable: true });
    return this;
  }

  /**
   * Remember the upload object of each XMLHttpRequest whose `upload.onprogress` the app sets
   * (jsdom's setter, under MSW's proxy), so that a held upload can report partial progress.
   */
  private watchUploadProgress() {
    const proto = Object.getPrototypeOf(XMLHttpRequestUpload.prototype) as object;
    const setter = Object.getOwnPropertyDescriptor(proto, 'onprogress')?.set;
    if (!setter) return;
    const targets = this.progressTargets;
    vi.spyOn(proto as { onprogress: unknown }, 'onprogress', 'set').mockImplementation(function (this: EventTarget, v: unknown) {
      targets.push(this);
      setter.call(this, v);
    });
  }

  /** Requests as "METHOD /path?query", for assertions. */
  log(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}${c.query.toString() ? `?${c.query}` : ''}`);
  }

  on(handler: Handler) {
    this.handlers.push(handler);
  }

  messagesOf(conversationId: number): Message[] {
    return this.messages.filter((m) => m.conversation_id === conversationId).sort((a, b) => a.id - b.id);
  }

  /** `method path` answered by `answer`, which the document's `Reply` types. */
  private route<P extends Path, Mt extends Method>(method: Mt, path: P) {
    const pattern = path.replace(/\{(\w+)\}/g, ':$1');
    return (answer: (req: Req, params: Params) => Reply<P, Mt>) =>
      http[method](pattern, async ({ request, params }) => toResponse(answer(await readReq(request), params as Params) as Res));
  }

  private routes() {
    const id = (p: Params, k = 'id') => Number(p[k]);
    return [
      this.route('get', '/api/auth/users/me/')(() => ({ status: 200, body: this.me })),
      this.route('get', `${M}/unread-count/`)(() => ({ status: 200, body: { unread_count: 0 } })),
      this.route('get', `${M}/conversations/`)(({ query }) => this.conversationList(query)),
      this.route('get', `${M}/templates/`)(() => this.trainerOnly() ?? { status: 200, body: this.templates }),
      this.route('post', `${M}/templates/`)(({ body }) => this.trainerOnly() ?? this.createTemplate(body)),
      this.route('patch', `${M}/templates/{id}/`)(({ body }, p) => this.trainerOnly() ?? this.updateTemplate(id(p), body)),
      this.route('delete', `${M}/templates/{id}/`)((_, p) => this.trainerOnly() ?? this.deleteTemplate(id(p))),
      this.route('get', '/api/trainer/messaging-stats/')(({ query }) => {
        const stats = this.stats[Number(query.get('days') ?? 7)];
        return stats ? { status: 200, body: stats } : { status: 400, body: { days: ['Choose 7 or 30.'] } };
      }),
      this.route('get', '/api/trainer/trainees/')(({ query }) => this.traineePage(query)),
      this.route('get', `${M}/broadcasts/`)(({ query }) => this.broadcastPage(query)),
      this.route('post', `${M}/broadcasts/`)(({ body }) => this.createBroadcast(body)),
      this.route('get', `${M}/broadcasts/{id}/`)((_, p) => {
        const b = this.broadcasts.find((x) => x.id === id(p));
        return b ? { status: 200, body: b } : { status: 404, body: { error: 'Broadcast not found.' } };
      }),
      this.route('delete', `${M}/broadcasts/{id}/`)((_, p) => this.cancelBroadcast(id(p))),
      this.route('get', `${M}/conversations/{id}/scheduled/`)((_, p) => {
        const mine = this.scheduled
          .filter((x) => x.conversation_id === id(p) && x.state === 'pending')
          .sort((a, c) => Date.parse(a.send_at) - Date.parse(c.send_at));
        return { status: 200, body: mine };
      }),
      this.route('post', `${M}/conversations/{id}/scheduled/`)(({ body }, p) => this.schedule(id(p), body)),
      this.route('patch', `${M}/conversations/{id}/scheduled/{scheduled_id}/`)(({ body }, p) =>
        this.updateScheduled(id(p), id(p, 'scheduled_id'), body),
      ),
      this.route('delete', `${M}/conversations/{id}/scheduled/{scheduled_id}/`)((_, p) =>
        this.cancelScheduled(id(p), id(p, 'scheduled_id')),
      ),
      this.route('get', '/api/users/notification-preferences/')(() => ({ status: 200, body: this.prefs })),
      this.route('patch', '/api/users/notification-preferences/')(({ body }) => {
        this.prefs = { ...this.prefs, ...(body as Partial<NotificationPreferences>) };
        return { status: 200, body: this.prefs };
      }),
      this.route('get', `${M}/search/`)(({ query }) => this.search(query)),
      this.route('get', '/api/admin/users/')(({ path, query }) => {
        if (!this.isAdmin()) return { status: 403, body: NO_PERMISSION };
        const text = (query.get('q') ?? '').toLowerCase();
        const hits = this.users.filter((u) => `${u.first_name} ${u.last_name} ${u.email}`.toLowerCase().includes(text));
        return this.paged(path, hits, query);
      }),
      this.route('get', '/api/admin/conversations/')(({ path, query }) => {
        if (!this.isAdmin()) return { status: 403, body: NO_PERMISSION };
        const user = query.get('user');
        if (user !== null && !/^\d+$/.test(user)) return { status: 400, body: { user: ['A valid integer is required.'] } };
        const hits = this.adminConversations.filter((c) => user === null || c.trainer.id === Number(user) || c.trainee?.id === Number(user));
        return this.paged(path, hits, query);
      }),
      this.route('get', '/api/admin/conversations/{id}/messages/')(({ query }, p) => {
        if (!this.isAdmin()) return { status: 403, body: NO_PERMISSION };
        if (!this.adminConversations.some((c) => c.id === id(p))) return { status: 404, body: { error: 'Conversation not found.' } };
        return this.history(id(p), query);
      }),
      this.route('get', '/api/admin/search/')(({ query }) => {
        if (!this.isAdmin()) return { status: 403, body: NO_PERMISSION };
        if (!query.get('user')) return { status: 400, body: { user: ['This field is required.'] } };
        return this.search(query);
      }),
      this.route('get', '/api/admin/audit-log/')(({ path, query }) => (this.isAdmin() ? this.auditLog(path, query) : { status: 403, body: NO_PERMISSION })),
      this.route('get', '/api/users/access-log/')(({ path, query }) => {
        if (this.me.is_impersonating) return { status: 403, body: { detail: 'This action is not allowed during impersonation.' } };
        return this.paged(path, this.accessLog, query);
      }),
      this.route('get', `${M}/conversations/{id}/messages/`)(({ query }, p) => this.history(id(p), query)),
      this.route('patch', `${M}/conversations/{id}/messages/{message_id}/`)(({ body }, p) => this.edit(id(p), id(p, 'message_id'), body)),
      this.route('delete', `${M}/conversations/{id}/messages/{message_id}/`)((_, p) => this.delete(id(p), id(p, 'message_id'))),
      this.route('post', `${M}/conversations/{id}/read/`)((_, p) => ({
        status: 200,
        body: { conversation_id: id(p), messages_marked: 0, read_at: new Date().toISOString() },
      })),
      this.sendRoute(),
    ];
  }

  /** `send/`: JSON, or a photo upload, held for the test to step when `holdUploads` is on. */
  private sendRoute() {
    return http.post(`${M}/conversations/:id/send/`, async ({ request, params }) => {
      const req = await readReq(request);
      const reply = () => toResponse(this.send(Number(params.id), req.body));
      if (!isForm(req.body)) return reply();
      const progressTarget = this.progressTargets.shift();
      if (!this.holdUploads) return reply();
      return new Promise<Response>((answer) => this.uploads.push(new HeldUpload(req, progressTarget, answer, reply)));
    });
  }

  private isAdmin() {
    return this.me.role === 'admin' && !this.me.is_impersonating;
  }

  private trainerOnly() {
    return this.me.role === 'trainer' ? undefined : ({ status: 403, body: { error: 'Only trainers have saved replies.' } } as const);
  }

  private conversationList(query: URLSearchParams): Reply<'/api/messaging/conversations/', 'get'> {
    if (query.get('needs_reply') === 'true') {
      if (this.me.role !== 'trainer') return { status: 403, body: NO_PERMISSION };
      return { status: 200, body: { count: this.needsReply.length, next: null, previous: null, results: this.needsReply } };
    }
    return { status: 200, body: { count: this.conversations.length, next: null, previous: null, results: this.conversations } };
  }

  /** A page of `all` (newest first already), `next` as an absolute URL keeping the query. */
  private paged<T>(path: string, all: T[], q: URLSearchParams) {
    const page = Number(q.get('page') ?? 1);
    const size = this.adminPageSize;
    if (!Number.isInteger(page) || page < 1 || (page > 1 && (page - 1) * size >= all.length)) {
      return { status: 404 as const, body: { detail: 'Invalid page.' } };
    }
    const nextQ = new URLSearchParams(q);
    nextQ.set('page', String(page + 1));
    const next = page * size < all.length ? `http://localhost${path}?${nextQ}` : null;
    return { status: 200 as const, body: { count: all.length, next, previous: null, results: all.slice((page - 1) * size, page * size) } };
  }

  private auditLog(path: string, q: URLSearchParams): Reply<'/api/admin/audit-log/', 'get'> {
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

  private history(cid: number, q: URLSearchParams): Extract<Reply<'/api/messaging/conversations/{id}/messages/', 'get'>, { status: 200 | 404 }> {
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

  private send(cid: number, body: unknown): Reply<'/api/messaging/conversations/{id}/send/', 'post'> {
    const form = isForm(body) ? body : null;
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
      seq: this.messagesOf(cid).length + 1,
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

  private edit(cid: number, mid: number, body: unknown): Reply<'/api/messaging/conversations/{id}/messages/{message_id}/', 'patch'> {
    const i = this.messages.findIndex((x) => x.id === mid && x.conversation_id === cid);
    if (i < 0) return { status: 404, body: { error: 'Message not found.' } };
    const content = String((body as { content?: string }).content ?? '');
    this.messages[i] = { ...this.messages[i], content, edited_at: new Date().toISOString() };
    return { status: 200, body: this.messages[i] };
  }

  private delete(cid: number, mid: number): Reply<'/api/messaging/conversations/{id}/messages/{message_id}/', 'delete'> {
    const i = this.messages.findIndex((x) => x.id === mid && x.conversation_id === cid);
    if (i < 0) return { status: 404, body: { error: 'Message not found.' } };
    this.messages[i] = { ...this.messages[i], content: '', image: null, thumbnail: null, is_deleted: true };
    return { status: 204 };
  }

  private titleTaken(title: string, except: number | null) {
    return this.templates.some((t) => t.id !== except && t.title.toLowerCase() === title.trim().toLowerCase());
  }

  private createTemplate(body: unknown): Reply<'/api/messaging/templates/', 'post'> {
    const b = (body ?? {}) as { title?: string; content?: string };
    const errors: Record<string, string[]> = {};
    if (!b.title?.trim()) errors.title = ['This field may not be blank.'];
    else if (this.titleTaken(b.title, null)) errors.title = ['You already have a saved reply with this title.'];
    if (!b.content?.trim()) errors.content = ['This field may not be blank.'];
    if (Object.keys(errors).length) return { status: 400, body: errors };
    if (this.templates.length >= this.templateCap) {
      return { status: 400, body: { error: 'You can keep at most 200 saved replies. Delete one to save another.' } };
    }
    const now = new Date().toISOString();
    const t: Template = { id: this.nextId++, title: b.title!.trim(), content: b.content!.trim(), created_at: now, updated_at: now };
    this.templates.push(t);
    return { status: 201, body: t };
  }

  private updateTemplate(id: number, body: unknown): Reply<'/api/messaging/templates/{id}/', 'patch'> {
    const b = (body ?? {}) as { title?: string; content?: string };
    const i = this.templates.findIndex((t) => t.id === id);
    if (i < 0) return { status: 404, body: { error: 'Saved reply not found.' } };
    if (b.title !== undefined && this.titleTaken(b.title, id)) {
      return { status: 400, body: { title: ['You already have a saved reply with this title.'] } };
    }
    this.templates[i] = {
      ...this.templates[i],
      ...(b.title !== undefined ? { title: b.title.trim() } : {}),
      ...(b.content !== undefined ? { content: b.content.trim() } : {}),
      updated_at: new Date().toISOString(),
    };
    return { status: 200, body: this.templates[i] };
  }

  private deleteTemplate(id: number): Reply<'/api/messaging/templates/{id}/', 'delete'> {
    const i = this.templates.findIndex((t) => t.id === id);
    if (i < 0) return { status: 404, body: { error: 'Saved reply not found.' } };
    this.templates.splice(i, 1);
    return { status: 204 };
  }

  private traineePage(q: URLSearchParams): Reply<'/api/trainer/trainees/', 'get'> {
    const search = (q.get('search') ?? '').toLowerCase();
    const page = Number(q.get('page') ?? 1);
    const hits = this.trainees.filter((t) => `${t.first_name} ${t.last_name} ${t.email}`.toLowerCase().includes(search));
    const size = 20;
    const results = hits.slice((page - 1) * size, page * size);
    const next = page * size < hits.length ? `http://localhost/api/trainer/trainees/?page=${page + 1}` : null;
    return { status: 200, body: { count: hits.length, next, previous: null, results } };
  }

  private broadcastPage(q: URLSearchParams): Reply<'/api/messaging/broadcasts/', 'get'> {
    const page = Number(q.get('page') ?? 1);
    const all = [...this.broadcasts].sort((a, b) => b.id - a.id);
    const size = 20;
    const next = page * size < all.length ? `http://localhost/api/messaging/broadcasts/?page=${page + 1}` : null;
    return { status: 200, body: { count: all.length, next, previous: null, results: all.slice((page - 1) * size, page * size).map(summary) } };
  }

  private createBroadcast(body: unknown): Reply<'/api/messaging/broadcasts/', 'post'> {
    const b = (body ?? {}) as { content?: string; trainee_ids?: number[] | 'all'; client_broadcast_id?: string; send_at?: string };
    const again = b.client_broadcast_id && this.broadcasts.find((x) => x.client_broadcast_id === b.client_broadcast_id);
    if (again) return { status: 200, body: summary(again) };
    if (!b.content?.trim()) return { status: 400, body: { content: ['This field may not be blank.'] } };
    const ids = b.trainee_ids === 'all' ? this.trainees.map((t) => t.id) : (b.trainee_ids ?? []);
    if (ids.length === 0) return { status: 400, body: { trainee_ids: ['This list may not be empty.'] } };
    if (ids.some((x) => !this.trainees.some((t) => t.id === x))) {
      return { status: 400, body: { error: 'Trainee not found or not assigned to you.' } };
    }
    const created: BroadcastDetail = {
      id: this.nextId++,
      state: b.send_at ? 'scheduled' : 'sending',
      total: ids.length,
      sent: 0,
      failed: 0,
      created_at: new Date().toISOString(),
      send_at: b.send_at ?? null,
      content: b.content.trim(),
      client_broadcast_id: b.client_broadcast_id ?? null,
      finished_at: null,
      failures: [],
    };
    this.broadcasts.push(created);
    return { status: 202, body: summary(created) };
  }

  private cancelBroadcast(id: number): Reply<'/api/messaging/broadcasts/{id}/', 'delete'> {
    const i = this.broadcasts.findIndex((x) => x.id === id);
    if (i < 0) return { status: 404, body: { error: 'Broadcast not found.' } };
    if (this.broadcasts[i].state !== 'scheduled') return { status: 400, body: { error: 'This broadcast is no longer scheduled.' } };
    this.broadcasts[i] = { ...this.broadcasts[i], state: 'cancelled' };
    return { status: 204 };
  }

  private schedule(cid: number, body: unknown): Reply<'/api/messaging/conversations/{id}/scheduled/', 'post'> {
    const b = (body ?? {}) as { content?: string; send_at?: string };
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

  private pendingScheduled(cid: number, sid: number) {
    const i = this.scheduled.findIndex((x) => x.id === sid && x.conversation_id === cid);
    if (i < 0) return { i, refusal: { status: 404 as const, body: { error: 'Scheduled message not found.' } } };
    if (this.scheduled[i].state !== 'pending') return { i, refusal: { status: 400 as const, body: { error: 'This message is no longer pending.' } } };
    return { i, refusal: undefined };
  }

  private updateScheduled(cid: number, sid: number, body: unknown): Reply<'/api/messaging/conversations/{id}/scheduled/{scheduled_id}/', 'patch'> {
    const { i, refusal } = this.pendingScheduled(cid, sid);
    if (refusal) return refusal;
    const b = (body ?? {}) as { content?: string; send_at?: string };
    if (b.send_at !== undefined && badTime(b.send_at)) return { status: 400, body: { send_at: ['Must be in the future.'] } };
    this.scheduled[i] = {
      ...this.scheduled[i],
      ...(b.content !== undefined ? { content: b.content.trim() } : {}),
      ...(b.send_at !== undefined ? { send_at: b.send_at } : {}),
    };
    return { status: 200, body: this.scheduled[i] };
  }

  private cancelScheduled(cid: number, sid: number): Reply<'/api/messaging/conversations/{id}/scheduled/{scheduled_id}/', 'delete'> {
    const { i, refusal } = this.pendingScheduled(cid, sid);
    if (refusal) return refusal;
    this.scheduled[i] = { ...this.scheduled[i], state: 'cancelled' };
    return { status: 204 };
  }

  private search(q: URLSearchParams): Extract<Reply<'/api/messaging/search/', 'get'>, { status: 200 | 400 }> {
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

const NO_PERMISSION = { detail: 'You do not have permission to perform this action.' };
const summary = ({ failures: _f, ...b }: BroadcastDetail) => b;
const badTime = (v: string | undefined) => !v || Number.isNaN(Date.parse(v)) || Date.parse(v) <= Date.now();

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
