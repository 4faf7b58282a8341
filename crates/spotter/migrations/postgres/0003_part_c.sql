-- What the original's apps added later (contract Part C): images, edit and delete, search,
-- notification preferences.

-- An image is a key in the media store (`message_images/<32 hex>.<ext>`), never a URL: URLs are
-- signed when a message is shown. Width, height and the thumbnail's key come with it.
ALTER TABLE messages ADD COLUMN image TEXT;
ALTER TABLE messages ADD COLUMN image_width INTEGER;
ALTER TABLE messages ADD COLUMN image_height INTEGER;
ALTER TABLE messages ADD COLUMN thumbnail TEXT;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
-- A deleted message stays in place as a tombstone (content '' and no image).
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;

-- Substring search (ILIKE) served by a trigram GIN index instead of a table scan. pg_trgm is a
-- trusted extension (PostgreSQL 13+): a role with CREATE on the database may add it. It is
-- put in `public` unless it is installed already, wherever that is; the index names its
-- operator class with that schema, so it works whatever the connection's search_path.
DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX messages_content_trgm ON messages USING gin (content %I.gin_trgm_ops) '
        'WHERE deleted_at IS NULL',
        ext_schema
    );
END
$$;

-- A user's switches; no row means every one is on.
CREATE TABLE notification_preferences (
    user_id                  BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    trainee_workout          BOOLEAN NOT NULL DEFAULT TRUE,
    trainee_weight_checkin   BOOLEAN NOT NULL DEFAULT TRUE,
    trainee_started_workout  BOOLEAN NOT NULL DEFAULT TRUE,
    trainee_finished_workout BOOLEAN NOT NULL DEFAULT TRUE,
    churn_alert              BOOLEAN NOT NULL DEFAULT TRUE,
    re_engagement            BOOLEAN NOT NULL DEFAULT TRUE,
    trainer_announcement     BOOLEAN NOT NULL DEFAULT TRUE,
    achievement_earned       BOOLEAN NOT NULL DEFAULT TRUE,
    community_event          BOOLEAN NOT NULL DEFAULT TRUE,
    new_message              BOOLEAN NOT NULL DEFAULT TRUE,
    community_activity       BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at               BIGINT  NOT NULL
);
