-- Spotter schema, SQLite flavour. Kept column-for-column in step with migrations/postgres so one
-- set of SQL (store/) serves both. Times are microseconds since the Unix epoch (INTEGER): the
-- sqlx `Any` driver carries no date types, and integers sort and compare the same on both.

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Stored lower-cased: logins are case-insensitive, uniqueness must be too.
    email             TEXT    NOT NULL UNIQUE,
    password_hash     TEXT    NOT NULL,
    first_name        TEXT    NOT NULL DEFAULT '',
    last_name         TEXT    NOT NULL DEFAULT '',
    role              TEXT    NOT NULL CHECK (role IN ('admin', 'trainer', 'trainee')),
    -- A trainee has at most one trainer; NULL once removed.
    parent_trainer_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    profile_image     TEXT,
    -- NULL while active. A timestamp rather than a flag: it says when, and needs no bool type.
    deactivated_at    INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX users_parent_trainer ON users (parent_trainer_id);

CREATE TABLE conversations (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    trainer_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL when the trainee's account was deleted; history stays with the trainer.
    trainee_id           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    archived_at          INTEGER,
    created_at           INTEGER NOT NULL,
    last_message_at      INTEGER,
    -- last_message_at, or created_at before the first message: the list's sort key, indexed.
    last_activity_at     INTEGER NOT NULL,
    last_message_preview TEXT,
    -- Bumped under the row lock of every send: the page count without COUNT(*), and the
    -- serialisation point that makes message ids commit in order within a conversation.
    message_count        INTEGER NOT NULL DEFAULT 0,
    -- Unread messages for each side, kept in the send / mark-read transactions.
    trainer_unread       INTEGER NOT NULL DEFAULT 0,
    trainee_unread       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (trainer_id, trainee_id)
);
CREATE INDEX conversations_trainer_activity ON conversations (trainer_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_trainee_activity ON conversations (trainee_id, last_activity_at DESC, id DESC);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- Position in the conversation (1, 2, 3, …), assigned under the conversation's row lock:
    -- contiguous, so a socket that sees 12 after 10 knows 11 exists and is committed.
    seq               INTEGER NOT NULL,
    sender_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    content           TEXT    NOT NULL,
    -- Idempotency key chosen by the client (Part B 1); unique per sender and conversation.
    client_message_id TEXT,
    created_at        INTEGER NOT NULL,
    delivered_at      INTEGER,
    read_at           INTEGER
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_idempotency ON messages (conversation_id, sender_id, client_message_id);
-- Mark-read and delivery receipts touch only the not-yet-read / not-yet-delivered tail, so a
-- conversation with 100,000 messages costs no more to mark read than a new one.
CREATE INDEX messages_unread ON messages (conversation_id, id) WHERE read_at IS NULL;
CREATE INDEX messages_undelivered ON messages (conversation_id, id) WHERE delivered_at IS NULL;

-- Refresh-token rotation: a refresh token works once. Reuse of a spent one revokes its family
-- (every token descended from the same login), the standard answer to a stolen refresh token.
CREATE TABLE spent_refresh_tokens (
    jti     TEXT    PRIMARY KEY,
    family  TEXT    NOT NULL,
    user_id INTEGER NOT NULL,
    used_at INTEGER NOT NULL
);
CREATE TABLE revoked_token_families (
    family     TEXT    PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);

CREATE TABLE devices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- ios | android | web (FCM tokens) or webpush (a browser's PushSubscription).
    platform    TEXT    NOT NULL,
    -- The FCM token, or the Web Push endpoint URL: what identifies the device.
    token       TEXT    NOT NULL UNIQUE,
    p256dh      TEXT,
    auth_secret TEXT,
    created_at  INTEGER NOT NULL,
    -- Set when the push service says the device is gone (404/410).
    deactivated_at INTEGER
);
CREATE INDEX devices_user ON devices (user_id);
