-- Coaching tools (wire contract Part D): saved replies, and what the "needs reply" inbox and
-- the response-time figures read. Kept column-for-column in step with migrations/postgres.

-- A trainer's saved replies. Titles are unique per trainer without regard to case (the
-- picker finds them by title), enforced here so two requests at once cannot both pass.
-- `title_key` is the title lower-cased by Spotter (not by SQL: SQLite's lower() knows ASCII
-- only), so both backends agree on what is a duplicate and on the order of the list.
CREATE TABLE message_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    trainer_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    title_key  TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_templates_title ON message_templates (trainer_id, title_key);

-- Since when the trainee has been waiting for an answer: the created_at of the trainee's
-- first message after the trainer's last one; NULL when the newest message is the trainer's
-- (or there is none). Kept by the send transaction's update of the row (domain::plan), so the
-- inbox reads conversations, never messages.
ALTER TABLE conversations ADD COLUMN awaiting_reply_since INTEGER;
CREATE INDEX conversations_awaiting ON conversations (trainer_id, awaiting_reply_since, id)
    WHERE awaiting_reply_since IS NOT NULL AND archived_at IS NULL;

-- The figures read one window of a trainer's messages (7 or 30 days) per conversation.
CREATE INDEX messages_conversation_created ON messages (conversation_id, created_at);
