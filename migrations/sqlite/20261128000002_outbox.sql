-- The outbox: mail waiting to be delivered, written in the same transaction as what it announces (SQLite).
-- The PostgreSQL twin in migrations/postgres has the same name and the same tables, columns and indexes.
-- Times are milliseconds since the Unix epoch (UTC), as 64-bit integers, as in the first migration.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The user the mail is about, if any; deleting the user deletes the user's mail too.
    user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    -- Erased to '' once the mail is sent: a confirmation mail carries a token in plain text.
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    created_at      INTEGER NOT NULL,
    -- Failed attempts so far.
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- A pending entry is due from this time on.
    next_attempt_at INTEGER NOT NULL,
    -- A worker that claimed the entry holds it until this time; no other worker claims it before.
    leased_until    INTEGER,
    -- The last failure, for the operator; at most 1000 characters.
    last_error      TEXT,
    sent_at         INTEGER
);

-- Claiming due mail: the pending entries whose next attempt has come, without reading sent or failed ones.
CREATE INDEX outbox_state_next_attempt_at ON outbox (state, next_attempt_at);
-- Listing the entries in some states, oldest first.
CREATE INDEX outbox_state_created_at ON outbox (state, created_at, id);
-- The cascade when a user is deleted.
CREATE INDEX outbox_user_id ON outbox (user_id);
