-- What the original's apps added later (contract Part C): images, edit and delete, search,
-- notification preferences.

-- An image is a key in the media store (`message_images/<32 hex>.<ext>`), never a URL: URLs are
-- signed when a message is shown. Width, height and the thumbnail's key come with it.
ALTER TABLE messages ADD COLUMN image TEXT;
ALTER TABLE messages ADD COLUMN image_width INTEGER;
ALTER TABLE messages ADD COLUMN image_height INTEGER;
ALTER TABLE messages ADD COLUMN thumbnail TEXT;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
-- A deleted message stays in place as a tombstone (content '' and no image).
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;

-- Substring search (case-insensitive) served by a trigram index instead of a table scan. An
-- external-content table: the text lives once, in `messages`. Indexing a message costs about
-- ten times storing it, so it is not done in the send's transaction: the writer indexes new
-- messages in batches when no write waits (store/sqlite/pool.rs), and `search_progress` says
-- how far it got; a search reads the index up to there and the few newer messages directly.
CREATE VIRTUAL TABLE messages_search USING fts5(
    content, content = 'messages', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TABLE search_progress (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    -- Every message with an id up to this one is in the index.
    indexed_up_to INTEGER NOT NULL
);
INSERT INTO search_progress (id, indexed_up_to) VALUES (1, 0);
-- An edit or a delete (content cleared) of an indexed message updates the index in its own
-- transaction; a message not indexed yet is indexed as it is when its turn comes.
CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages
WHEN old.id <= (SELECT indexed_up_to FROM search_progress) BEGIN
    INSERT INTO messages_search (messages_search, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_search (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_up_to FROM search_progress) BEGIN
    INSERT INTO messages_search (messages_search, rowid, content) VALUES ('delete', old.id, old.content);
END;

-- A user's switches; no row means every one is on.
CREATE TABLE notification_preferences (
    user_id                  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    trainee_workout          INTEGER NOT NULL DEFAULT 1,
    trainee_weight_checkin   INTEGER NOT NULL DEFAULT 1,
    trainee_started_workout  INTEGER NOT NULL DEFAULT 1,
    trainee_finished_workout INTEGER NOT NULL DEFAULT 1,
    churn_alert              INTEGER NOT NULL DEFAULT 1,
    re_engagement            INTEGER NOT NULL DEFAULT 1,
    trainer_announcement     INTEGER NOT NULL DEFAULT 1,
    achievement_earned       INTEGER NOT NULL DEFAULT 1,
    community_event          INTEGER NOT NULL DEFAULT 1,
    new_message              INTEGER NOT NULL DEFAULT 1,
    community_activity       INTEGER NOT NULL DEFAULT 1,
    updated_at               INTEGER NOT NULL
);
