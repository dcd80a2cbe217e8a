-- Password reset by email (SQLite). The PostgreSQL twin has the same name, tables and indexes.

CREATE TABLE password_reset_tokens (
    -- SHA-512 of the reset token's 48 raw bytes, as for sessions: the only form of a link the server keeps.
    digest     BLOB    PRIMARY KEY CHECK (length(digest) = 64),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A new link replaces the user's older ones, a reset deletes them all, and the cascade when the user is deleted.
CREATE INDEX password_reset_tokens_user_id ON password_reset_tokens (user_id);
-- The purge of expired links.
CREATE INDEX password_reset_tokens_expires_at ON password_reset_tokens (expires_at);
-- Delivering a reset mail finds the account by its address, without regard to ASCII case; the lookup writes the
-- expression exactly so. (No index existed on email before: nothing looked a user up by address.)
CREATE INDEX users_email_lower ON users (lower(email));
-- A reset request replaces the pending reset mail to the same address; the pending entries of one kind are few, and
-- this index finds them by address without reading the rest of the outbox.
CREATE INDEX outbox_pending_kind_recipient ON outbox (kind, lower(recipient)) WHERE state = 'pending';
