-- Broadcasts and scheduled messages (wire contract Part D 1 and 2). Both are durable work done
-- later by whichever node is up (workers/dispatch.rs): claimed with a lease (`claimed_until`),
-- as the push outbox is, so a node that dies mid-way leaves its claim to run out and another
-- takes over. Exactly once does not rest on the lease: each message they send carries a
-- `client_message_id` of its own (`spotter-broadcast-<id>`, `spotter-scheduled-<id>`), so a
-- second attempt meets the first one's message in the unique index and sends nothing.
-- Kept column-for-column in step with migrations/postgres.

CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    trainer_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content             TEXT    NOT NULL,
    client_broadcast_id TEXT,
    -- scheduled | sending | done | cancelled
    state               TEXT    NOT NULL,
    total               INTEGER NOT NULL,
    sent                INTEGER NOT NULL DEFAULT 0,
    failed              INTEGER NOT NULL DEFAULT 0,
    -- As asked (NULL: now); `due_at` is when the fan-out may begin (send_at, or created_at).
    send_at             INTEGER,
    due_at              INTEGER NOT NULL,
    claimed_until       INTEGER,
    created_at          INTEGER NOT NULL,
    finished_at         INTEGER
);
CREATE UNIQUE INDEX broadcasts_client_id ON broadcasts (trainer_id, client_broadcast_id)
    WHERE client_broadcast_id IS NOT NULL;
CREATE INDEX broadcasts_trainer ON broadcasts (trainer_id, id);
CREATE INDEX broadcasts_due ON broadcasts (due_at) WHERE state IN ('scheduled', 'sending');

-- Who a broadcast goes to, fixed when it is created, and what became of each: pending, sent
-- (with the message) or failed (with the reason).
CREATE TABLE broadcast_recipients (
    broadcast_id   INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    trainee_id     INTEGER NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending',
    message_id     INTEGER,
    failure_reason TEXT,
    PRIMARY KEY (broadcast_id, trainee_id)
);
CREATE INDEX broadcast_recipients_pending ON broadcast_recipients (broadcast_id, trainee_id)
    WHERE state = 'pending';

CREATE TABLE scheduled_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content         TEXT    NOT NULL,
    send_at         INTEGER NOT NULL,
    -- pending | sent | cancelled | failed
    state           TEXT    NOT NULL DEFAULT 'pending',
    failure_reason  TEXT,
    message_id      INTEGER,
    claimed_until   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at) WHERE state = 'pending';
CREATE INDEX scheduled_messages_author ON scheduled_messages (author_id, conversation_id, send_at)
    WHERE state = 'pending';
