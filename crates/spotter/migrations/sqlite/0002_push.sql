-- Push notifications: a durable outbox written in the send transaction, then one job per
-- device. A crash between commit and delivery loses nothing: rows wait here until delivered.

-- One row per message that may need a push, for its recipient.
CREATE TABLE push_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    recipient_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    -- A worker's lease: rows it claimed but did not finish come back when the lease ends.
    claimed_until   INTEGER,
    done_at         INTEGER,
    -- notified | reading (the recipient had it open) | read | no_devices
    outcome         TEXT
);
CREATE INDEX push_outbox_pending ON push_outbox (recipient_id, conversation_id) WHERE done_at IS NULL;

-- One delivery to one device: retried with backoff, then dead-lettered with the reason.
CREATE TABLE push_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id       INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    recipient_id    INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    -- The notification as JSON (title, body, data, badge), rendered per provider at send time.
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    -- pending | sent | gone (device unregistered) | dead (gave up: see last_error)
    state           TEXT    NOT NULL DEFAULT 'pending',
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX push_jobs_due ON push_jobs (next_attempt_at) WHERE state = 'pending';
