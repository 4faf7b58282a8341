// The names the app uses for what the API sends and takes.
//
// REST: aliases of the schemas in ./schema.d.ts, which scripts/web-types.sh generates from the
// server's OpenAPI document (`spotter openapi`, /api/openapi.json), so a change of the contract
// shows up here as a type error. Where the document types a closed set of values as a plain
// string (roles, states), the alias narrows it to the values its description lists.
//
// Hand-written, because the OpenAPI document does not describe them: the socket frames
// (`ServerFrame`, `ClientFrame`, docs/api.md), client-only state (`ChatMessage.local`,
// `PendingImage`), and the app's own filter and paging shapes.
import type { components } from './schema';

type Schemas = components['schemas'];

export type Role = 'admin' | 'trainer' | 'trainee';
/** Every role an account can have: `ambassador`s log in but take no part in messaging. */
export type AccountRole = Role | 'ambassador';

export type Me = Schemas['MeJson'] & { role: AccountRole };
/** A participant inside a conversation. */
export type UserSummary = Schemas['UserSummaryJson'];
/** A message's author (null when the account was deleted). */
export type Sender = Schemas['SenderJson'];
/** A deleted message stays in place with `content: ""` and `image: null`. */
export type Message = Schemas['MessageJson'];
export type Conversation = Schemas['ConversationJson'];
/** `GET /api/trainer/trainees/`: the trainer's trainees, as accounts. */
export type Trainee = Schemas['UserJson'];
export type TokenPair = Schemas['TokensJson'];
export type StartResult = Schemas['StartAnswer'];
/** `GET conversations/<id>/messages/?limit=` (`before`/`after`): a cursor page. */
export type CursorPage = Schemas['CursorPage'];
/** `GET conversations/<id>/messages/?around=<id>`: newest first. */
export type AroundPage = Schemas['AroundPage'];
/** A half-open range of Unicode code points of a search result's `content`. */
export type Highlight = Schemas['Highlight'];
export type SearchResult = Schemas['SearchResult'];
export type SearchPage = Schemas['SearchAnswer'];
/** `GET/PATCH /api/users/notification-preferences/`: which pushes this user gets. */
export type NotificationPreferences = Schemas['PreferencesJson'];
export type ReadResult = Schemas['ReadAnswer'];
/** A trainer's saved reply (`templates/`), inserted in the message box with `/`. */
export type Template = Schemas['TemplateJson'];
/** `GET /api/trainer/messaging-stats/?days=7|30`. */
export type MessagingStats = Schemas['MessagingStatsJson'];

/** A page of a page-numbered list (`count`, `next`, `results`), whatever it lists. */
export type Page<T> = Omit<Schemas['Page_UserJson'], 'results'> & { results: T[] };

export type BroadcastState = 'scheduled' | 'sending' | 'done' | 'cancelled';
/** One message sent by a trainer to many trainees (`broadcasts/`). */
export type Broadcast = Schemas['BroadcastJson'] & { state: BroadcastState };
export type BroadcastFailure = Schemas['FailureJson'];
/** `GET broadcasts/<id>/`: with the recipients it could not reach. */
export type BroadcastDetail = Schemas['BroadcastDetailJson'] & { state: BroadcastState };

/** The body of `POST broadcasts/`, as the app always sends it (text, audience and key given). */
export type NewBroadcast = Omit<Schemas['BroadcastBody'], 'content' | 'trainee_ids' | 'client_broadcast_id'> & {
  content: string;
  trainee_ids: NonNullable<Schemas['BroadcastBody']['trainee_ids']>;
  client_broadcast_id: string;
};

export type ScheduledState = 'pending' | 'sent' | 'cancelled' | 'failed';
/** A message of the caller's that goes out later (`conversations/<id>/scheduled/`). */
export type ScheduledMessage = Schemas['ScheduledJson'] & { state: ScheduledState };

/** A full account, as the admin's user finder lists it (`GET /api/admin/users/`). */
export type User = Schemas['UserJson'] & { role: AccountRole };

/** `GET /api/admin/conversations/`: who talks with whom and when, never what they wrote. */
export type AdminConversation = Schemas['AdminConversationJson'];

export type AuditAction =
  | 'admin.read_conversations'
  | 'admin.read_messages'
  | 'admin.search_messages'
  | 'impersonation.start'
  | 'impersonation.end'
  | 'export'
  | 'erase'
  | (string & {});

/** An entry of `GET /api/admin/audit-log/`. */
export type AuditEntry = Schemas['AuditEntryJson'] & { action: AuditAction };

/** An entry of `GET /api/users/access-log/`: about the caller's own data. */
export type AccessEntry = Schemas['AccessEntryJson'] & { action: AuditAction; actor_role?: AccountRole | null };

/** The audit log's filters as the page keeps them (ids and ISO times, as typed). */
export interface AuditFilters {
  actor?: string;
  subject?: string;
  since?: string;
  until?: string;
}

/** A photo picked for sending: the file, and its pixel size once the browser decoded it. */
export interface PendingImage {
  file: File;
  width?: number;
  height?: number;
}

/**
 * A message as the chat shows it: a server message, or a local optimistic one, which has no
 * place (`seq`) in the conversation until the server answers.
 */
export interface ChatMessage extends Omit<Message, 'seq'> {
  seq?: number;
  /** Only on local messages not (yet) confirmed by the server. */
  local?: {
    status: 'sending' | 'failed';
    error?: string;
    retryable?: boolean;
    /** Upload progress of an attached photo, 0 to 1. */
    progress?: number;
    /** The photo being sent (kept for a retry); `image`/`thumbnail` hold a blob: URL of it. */
    upload?: PendingImage;
  };
}

/** Frames the per-user socket sends (docs/api.md; not in the OpenAPI document). */
export type ServerFrame =
  | { type: 'new_message'; conversation_id: number; message: Message }
  | { type: 'typing_indicator'; conversation_id: number; user_id: number; is_typing: boolean }
  | { type: 'read_receipt'; conversation_id: number; reader_id: number; read_at: string }
  | { type: 'delivery_receipt'; conversation_id: number; up_to_message_id: number; delivered_at: string }
  | { type: 'unread_count'; unread_count: number }
  | { type: 'conversation_archived'; conversation_id: number }
  | { type: 'message_edited'; conversation_id: number; message_id: number; content: string; edited_at: string }
  | { type: 'message_deleted'; conversation_id: number; message_id: number }
  | { type: 'broadcast_progress'; broadcast: Broadcast }
  | { type: 'scheduled_message'; scheduled: ScheduledMessage }
  | { type: 'pong' }
  | { type: 'ack'; client_message_id: string | null; message: Message }
  | { type: 'error'; client_message_id?: unknown; code: string; detail: string };

/** Frames the app sends on the socket (docs/api.md; not in the OpenAPI document). */
export type ClientFrame =
  | { type: 'ping' }
  | { type: 'typing'; conversation_id: number; is_typing: boolean }
  | { type: 'send'; conversation_id: number; content: string; client_message_id: string }
  | { type: 'read'; conversation_id: number }
  /** What the reader has in view (null: nothing): no push for it meanwhile. */
  | { type: 'focus'; conversation_id: number | null };
