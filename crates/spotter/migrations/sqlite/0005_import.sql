-- Adoption of the original platform (`spotter import original`, src/import).

-- Ambassadors (the original's referral partners) log in but take no part in messaging. Emails
-- are kept as the original stored them, case included, and logins match them without regard
-- to case through an index on the lower-cased address (Spotter's own are stored lower-cased).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt; foreign keys are
-- off while migrations run (store/sqlite/mod.rs), so nothing referring to users is touched.
CREATE TABLE users_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL UNIQUE,
    password_hash     TEXT    NOT NULL,
    first_name        TEXT    NOT NULL DEFAULT '',
    last_name         TEXT    NOT NULL DEFAULT '',
    role              TEXT    NOT NULL CHECK (role IN ('admin', 'trainer', 'trainee', 'ambassador')),
    -- A trainee has at most one trainer; NULL once removed.
    parent_trainer_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    profile_image     TEXT,
    -- NULL while active. A timestamp rather than a flag: it says when, and needs no bool type.
    deactivated_at    INTEGER,
    created_at        INTEGER NOT NULL
);
INSERT INTO users_new (id, email, password_hash, first_name, last_name, role, parent_trainer_id,
                       profile_image, deactivated_at, created_at)
SELECT id, email, password_hash, first_name, last_name, role, parent_trainer_id, profile_image,
       deactivated_at, created_at FROM users;
-- Ids of deleted users are not handed out again: the rebuilt table continues the sequence.
DELETE FROM sqlite_sequence WHERE name = 'users_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'users_new', seq FROM sqlite_sequence WHERE name = 'users';
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_parent_trainer ON users (parent_trainer_id);
CREATE INDEX users_email_lower ON users (lower(email));

-- What each run took from the original, per row: the fingerprint of the original's row as last
-- imported, so that a second run copies only what changed there since (and leaves alone what
-- only Spotter changed). `parent` is a message's conversation (the unit a run compares in);
-- `media` the original's file name of a message's image, to tell a new photo from the same one.
CREATE TABLE import_rows (
    kind        TEXT    NOT NULL,
    id          INTEGER NOT NULL,
    parent      INTEGER NOT NULL DEFAULT 0,
    fingerprint INTEGER NOT NULL,
    media       TEXT,
    PRIMARY KEY (kind, id)
);
CREATE INDEX import_rows_parent ON import_rows (kind, parent);

-- One row per run that wrote (a dry run writes nothing, not even this).
CREATE TABLE import_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    -- The run's summary as JSON: rows per table imported, updated, unchanged, removed, skipped.
    summary     TEXT    NOT NULL
);
