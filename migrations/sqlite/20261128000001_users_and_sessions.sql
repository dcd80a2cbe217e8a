-- Users and their login sessions.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The name as registered, unique as typed (BINARY collation: exact match).
    username        TEXT    NOT NULL UNIQUE,
    -- The name uniqueness and login go by: the name itself, or its lower case when names are
    -- case-insensitive. Its unique index is what makes one of many concurrent registrations win.
    username_key    TEXT    NOT NULL UNIQUE,
    email           TEXT,
    email_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (email_confirmed IN (0, 1)),
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    -- Argon2id in PHC string form; never a plain password.
    password_hash   TEXT    NOT NULL,
    -- Times are milliseconds since the Unix epoch (UTC).
    joined_at       INTEGER NOT NULL,
    last_login_at   INTEGER
);

CREATE TABLE sessions (
    -- SHA-512 of the token's 48 raw bytes: the only form of a token the server keeps.
    -- As the primary key it is the lookup index of every authenticated request.
    digest     BLOB    PRIMARY KEY CHECK (length(digest) = 64),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Finds a user's sessions, for the cascade on user deletion.
CREATE INDEX sessions_user_id ON sessions (user_id);
-- Lets the purge of expired sessions find them without a full scan.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
