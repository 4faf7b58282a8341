-- Retention (issue 16): a deployment may keep messages for N days only. The purge walks the
-- messages not yet cleared, oldest first, through this index; a cleared message (a tombstone:
-- deleted by its author or purged) leaves it, so each purge reads only what it will clear.
CREATE INDEX messages_live_created ON messages (created_at) WHERE deleted_at IS NULL;
