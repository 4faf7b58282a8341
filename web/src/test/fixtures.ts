import type { AdminConversation, Conversation, Me, Message, Sender, User } from '../api/types';

export const trainer = { id: 2, first_name: 'Sam', last_name: 'Rivera', email: 'coach@example.com', profile_image: null };
export const ana = { id: 3, first_name: 'Ana', last_name: 'Lima', email: 'ana@example.com', profile_image: null };
export const ben = { id: 4, first_name: 'Ben', last_name: 'Okafor', email: 'ben@example.com', profile_image: null };

const account = { is_active: true, date_joined: '2026-01-01T10:00:00Z', is_impersonating: false, original_user_id: null };
export const meTrainer: Me = { ...trainer, ...account, role: 'trainer', parent_trainer: null };
export const meAna: Me = { ...ana, ...account, role: 'trainee', parent_trainer: trainer.id };

let t = Date.parse('2026-02-19T10:00:00.000Z');
/** A message (from the trainer unless `over` says otherwise; always with a sender). */
export function msg(id: number, over: Partial<Message> = {}): Message & { sender: Sender } {
  t += 1000;
  return {
    id,
    conversation_id: 1,
    sender: trainer,
    content: `message ${id}`,
    is_read: false,
    read_at: null,
    created_at: new Date(t).toISOString(),
    client_message_id: null,
    delivered_at: null,
    edited_at: null,
    is_deleted: false,
    seq: id,
    ...over,
  } as Message & { sender: Sender };
}

export function conv(id: number, trainee = ana, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    trainer,
    trainee,
    last_message_at: '2026-02-19T10:00:00.000000Z',
    last_message_preview: 'hello',
    unread_count: 0,
    is_archived: false,
    created_at: '2026-02-18T10:00:00.000000Z',
    ...over,
  };
}

export const admin = { id: 1, first_name: 'Ada', last_name: 'Admin', email: 'admin@example.com', profile_image: null };
export const meAdmin: Me = { ...admin, ...account, role: 'admin', parent_trainer: null };

export function user(u: typeof trainer, role: User['role'], over: Partial<User> = {}): User {
  return { ...u, role, is_active: true, parent_trainer: role === 'trainee' ? trainer.id : null, date_joined: '2026-01-01T10:00:00Z', ...over };
}

export function adminConv(id: number, trainee: typeof ana | null = ana, over: Partial<AdminConversation> = {}): AdminConversation {
  return {
    id,
    trainer,
    trainee,
    last_message_at: '2026-02-19T10:00:00.000000Z',
    message_count: 3,
    is_archived: false,
    archived_at: null,
    created_at: '2026-02-18T10:00:00.000000Z',
    ...over,
  };
}
