-- The audit log (wire contract D6): who read, exported or erased whose data, and every
-- impersonation. Append-only: triggers refuse any UPDATE or DELETE, so no interface of Spotter
-- can change an entry; tamper-evident: each entry carries the SHA-256 of its fields and of the
-- entry before it (domain::audit), so an entry altered or removed behind Spotter's back (with
-- the triggers dropped) breaks the chain, which `spotter audit verify` finds.
-- No foreign keys: entries outlive the accounts they name (an erased user stays a number).
-- Kept column-for-column in step with migrations/sqlite.
CREATE TABLE audit_log (
    -- Given by the appender (the previous entry's id + 1), under the log's lock.
    id              BIGINT PRIMARY KEY,
    actor_id        BIGINT NOT NULL,
    action          TEXT    NOT NULL,
    subject_user_id BIGINT,
    conversation_id BIGINT,
    ip              TEXT,
    created_at      BIGINT NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject_user_id, id);
CREATE INDEX audit_log_created ON audit_log (created_at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
