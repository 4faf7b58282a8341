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
}

/** A message as the chat shows it: a server message, or a local optimistic one. */
export interface ChatMessage extends Message {
  /** Only on local messages not (yet) confirmed by the server. */
  local?: { status: 'sending' | 'failed'; error?: string; retryable?: boolean };
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

export interface ReadResult {
  conversation_id: number;
  messages_marked: number;
  read_at: string;
}

/** Frames the per-user socket sends. */
export type ServerFrame =
  | { type: 'new_message'; conversation_id: number; message: Message }
  | { type: 'typing_indicator'; conversation_id: number; user_id: number; is_typing: boolean }
  | { type: 'read_receipt'; conversation_id: number; reader_id: number; read_at: string }
  | { type: 'delivery_receipt'; conversation_id: number; up_to_message_id: number; delivered_at: string }
  | { type: 'unread_count'; unread_count: number }
  | { type: 'conversation_archived'; conversation_id: number }
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
