-- Uploads whose message may not have committed (issue 13). An image send records the keys of
-- its two files (image, thumbnail) here before it stores either, and the transaction that
-- appends its message deletes them: a row that stays names files whose send died in between
-- (a crash, a dropped request) or was refused. The sweeper (workers/orphans.rs) takes rows
-- older than a grace period and removes their files, unless a message names them.
CREATE TABLE media_uploads (
    key           TEXT    PRIMARY KEY,
    created_at    BIGINT  NOT NULL,
    -- A sweeper's lease: rows it claimed but did not finish come back when the lease ends.
    claimed_until BIGINT
);
CREATE INDEX media_uploads_created ON media_uploads (created_at);

-- The sweeper's question for each key, "does a message name it?", as one index probe rather
-- than a scan of every message. Partial: a message without an image writes no entry.
CREATE INDEX messages_image ON messages (image) WHERE image IS NOT NULL;
CREATE INDEX messages_thumbnail ON messages (thumbnail) WHERE thumbnail IS NOT NULL;
