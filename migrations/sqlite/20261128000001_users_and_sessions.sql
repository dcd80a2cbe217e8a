-- Users, their login sessions, and email confirmation tokens (SQLite).
-- The PostgreSQL twin in migrations/postgres has the same name and the same tables, columns and indexes.
-- Times are milliseconds since the Unix epoch (UTC), as 64-bit integers, so both backends compare them alike.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The name as registered, unique as typed (BINARY collation: exact match).
    username        TEXT    NOT NULL UNIQUE,
    -- The name uniqueness and login go by: the name itself, or its lower case when names are
    -- case-insensitive. Its unique index serves every login lookup and makes one of many
    -- concurrent registrations of one name win.
    username_key    TEXT    NOT NULL UNIQUE,
    email           TEXT,
    email_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (email_confirmed IN (0, 1)),
    is_active       INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    -- Argon2id in PHC string form; never a plain password.
    password_hash   TEXT    NOT NULL,
    joined_at       INTEGER NOT NULL,
    last_login_at   INTEGER
);

CREATE TABLE sessions (
    -- SHA-512 of the token's 48 raw bytes: the only form of a token the server keeps.
    -- As the primary key it is the lookup index of every authenticated request.
    digest       BLOB    PRIMARY KEY CHECK (length(digest) = 64),
    -- A public random name of the session (safe to show and log), for listing and revoking sessions.
    id           TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    user_agent   TEXT,
    client_ip    TEXT
) WITHOUT ROWID;

-- A user's sessions: listing them, and the cascade when the user is deleted.
CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
-- The purge of expired sessions finds them without a full scan.
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE email_confirmation_tokens (
    -- SHA-512 of the confirmation token's 48 raw bytes, as for sessions.
    digest     BLOB    PRIMARY KEY CHECK (length(digest) = 64),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link was sent to: a link is void once the user's email differs.
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A new link revokes the user's older ones, and the cascade on user deletion.
CREATE INDEX email_confirmation_tokens_user_id ON email_confirmation_tokens (user_id);
-- The purge of expired links.
CREATE INDEX email_confirmation_tokens_expires_at ON email_confirmation_tokens (expires_at);
