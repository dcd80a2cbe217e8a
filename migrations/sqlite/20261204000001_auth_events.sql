-- The audit trail (SQLite). The PostgreSQL twin has the same name, table and indexes.
--
-- One row per event: when, what, whose (when known), which session (its public id, never its token), and the
-- client's IP address and user agent. No column holds a token, a link, a password, a digest or a hash.
-- Events outlive their user (no foreign key): the trail of a deleted account stays until the purge, which deletes
-- events older than `auth_event_retention`.
CREATE TABLE auth_events (
    -- The order of recording; an operator's listing pages by it.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Milliseconds since the Unix epoch, as every time.
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    user_id    INTEGER,
    session_id TEXT,
    client_ip  TEXT,
    -- No request's user agent is longer; the check makes a store refuse an event the core would never write.
    user_agent TEXT CHECK (length(user_agent) <= 256)
);

-- A user's latest events, newest first (`GET {prefix}/events/`), and an operator's listing by user.
CREATE INDEX auth_events_user_at ON auth_events (user_id, at, id);
-- The purge of old events, and an operator's listing since a time.
CREATE INDEX auth_events_at ON auth_events (at);
