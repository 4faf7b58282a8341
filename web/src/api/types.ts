export type Role = 'admin' | 'trainer' | 'trainee';

export interface Me {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  profile_image: string | null;
  is_impersonating: boolean;
  original_user_id: number | null;
}

export interface UserSummary {
  id: number;
  first_name: string;
  last_name: string;
  email?: string;
  profile_image: string | null;
}

export interface Message {
  id: number;
  conversation_id: number;
  sender: UserSummary;
  content: string;
  is_read: boolean;
  read_at: string | null;
  created_at: string;
  client_message_id?: string | null;
  delivered_at?: string | null;
  /** Position in the conversation: 1, 2, 3, … with no gaps. */
  seq?: number;
  /** Absolute URL of the full image (plain `<img src>`, no auth header), or null. */
  image?: string | null;
  /** Pixel size of `image`, when there is one. */
  image_width?: number | null;
  image_height?: number | null;
  /** Absolute URL of a preview JPEG of at most 320 px, when there is an image. */
  thumbnail?: string | null;
  /** When the text was last edited, or null. */
  edited_at?: string | null;
  /** A deleted message stays in place with `content: ""` and `image: null`. */
  is_deleted?: boolean;
}

/** A photo picked for sending: the file, and its pixel size once the browser decoded it. */
export interface PendingImage {
  file: File;
  width?: number;
  height?: number;
}

/** A message as the chat shows it: a server message, or a local optimistic one. */
export interface ChatMessage extends Message {
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

export interface Conversation {
  id: number;
  trainer: UserSummary;
  trainee: UserSummary | null;
  last_message_at: string | null;
  last_message_preview: string | null;
  unread_count: number;
  is_archived: boolean;
  created_at: string;
  /** Only in the "needs reply" list: when the trainee's unanswered messages began. */
  waiting_since?: string | null;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface CursorPage<T> {
  results: T[];
  has_more: boolean;
}

export interface Trainee {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  profile_image: string | null;
  [extra: string]: unknown;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface StartResult {
  conversation_id: number;
  message: Message;
  is_new_conversation: boolean;
}

/** `GET conversations/<id>/messages/?around=<id>`: newest first. */
export interface AroundPage<T> {
  results: T[];
  has_older: boolean;
  has_newer: boolean;
}

/** A half-open range of Unicode code points of a search result's `content`. */
export interface Highlight {
  start: number;
  end: number;
}

export interface SearchResult {
  message_id: number;
  conversation_id: number;
  sender_id: number | null;
  sender_first_name: string;
  sender_last_name: string;
  content: string;
  image_url: string | null;
  created_at: string;
  other_participant_id: number | null;
  other_participant_first_name: string;
  other_participant_last_name: string;
  highlights: Highlight[];
}

export interface SearchPage {
  count: number;
  num_pages: number;
  page: number;
  has_next: boolean;
  has_previous: boolean;
  results: SearchResult[];
}

/** `GET/PATCH /api/users/notification-preferences/`: which pushes this user gets. */
export interface NotificationPreferences {
  trainee_workout: boolean;
  trainee_weight_checkin: boolean;
  trainee_started_workout: boolean;
  trainee_finished_workout: boolean;
  churn_alert: boolean;
  re_engagement: boolean;
  trainer_announcement: boolean;
  achievement_earned: boolean;
  community_event: boolean;
  /** false: no push for new messages. */
  new_message: boolean;
  community_activity: boolean;
}

export interface ReadResult {
  conversation_id: number;
  messages_marked: number;
  read_at: string;
}

/** A trainer's saved reply (`templates/`), inserted in the message box with `/`. */
export interface Template {
  id: number;
  title: string;
  content: string;
  created_at: string;
  updated_at: string;
}

/** `GET /api/trainer/messaging-stats/?days=7|30`. */
export interface MessagingStats {
  conversations: number;
  messages_received: number;
  messages_sent: number;
  median_first_response_seconds: number | null;
  p90_first_response_seconds: number | null;
  waiting_now: number;
}

export type BroadcastState = 'scheduled' | 'sending' | 'done' | 'cancelled';

/** One message sent by a trainer to many trainees (`broadcasts/`). */
export interface Broadcast {
  id: number;
  state: BroadcastState;
  total: number;
  sent: number;
  failed: number;
  created_at: string;
  send_at: string | null;
  content: string;
  client_broadcast_id: string | null;
  finished_at: string | null;
}

export interface BroadcastFailure {
  trainee_id: number;
  trainee_name: string;
  reason: string;
}

/** `GET broadcasts/<id>/`: with the recipients it could not reach. */
export interface BroadcastDetail extends Broadcast {
  failures?: BroadcastFailure[];
}

export interface NewBroadcast {
  content: string;
  trainee_ids: number[] | 'all';
  client_broadcast_id: string;
  send_at?: string;
}

export type ScheduledState = 'pending' | 'sent' | 'cancelled' | 'failed';

/** A message of the caller's that goes out later (`conversations/<id>/scheduled/`). */
export interface ScheduledMessage {
  id: number;
  conversation_id: number;
  content: string;
  send_at: string;
  state: ScheduledState;
  failure_reason: string | null;
  created_at: string;
  message_id: number | null;
}

/** Frames the per-user socket sends. */
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
  | { type: 'ack'; client_message_id: string; message: Message }
  | { type: 'error'; client_message_id?: string; code: string; detail: string };

export type ClientFrame =
  | { type: 'ping' }
  | { type: 'typing'; conversation_id: number; is_typing: boolean }
  | { type: 'send'; conversation_id: number; content: string; client_message_id: string }
  | { type: 'read'; conversation_id: number }
  /** What the reader has in view (null: nothing): no push for it meanwhile. */
  | { type: 'focus'; conversation_id: number | null };

/** A full account, as the admin's user finder lists it (`GET /api/admin/users/`). */
export interface User {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role | 'ambassador';
  profile_image: string | null;
  is_active: boolean;
  parent_trainer: number | null;
  date_joined: string;
}

/** `GET /api/admin/conversations/`: who talks with whom and when, never what they wrote. */
export interface AdminConversation {
  id: number;
  trainer: UserSummary;
  trainee: UserSummary | null;
  last_message_at: string | null;
  message_count: number;
  is_archived: boolean;
  archived_at: string | null;
  created_at: string;
}

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
export interface AuditEntry {
  id: number;
  actor_id: number;
  action: AuditAction;
  subject_user_id: number | null;
  conversation_id: number | null;
  ip: string | null;
  created_at: string;
  hash: string;
}

/** An entry of `GET /api/users/access-log/`: about the caller's own data. */
export interface AccessEntry {
  id: number;
  actor_id: number;
  /** "First Last" (or the email); `"[removed]"` once the account is gone; `"Spotter operator"` for actor 0. */
  actor_name: string;
  actor_role: Role | 'ambassador' | null;
  action: AuditAction;
  subject_user_id: number | null;
  conversation_id: number | null;
  created_at: string;
}

export interface AuditFilters {
  actor?: string;
  subject?: string;
  since?: string;
  until?: string;
}
