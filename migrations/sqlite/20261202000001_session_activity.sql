-- Sessions that end when idle (auth_token_idle_timeout): the background purge deletes every session last active
-- before a cut-off, where "last active" is the last recorded use, or the login for a session never used since.
-- This index on exactly that expression serves the purge without a full scan; the statement writes the expression
-- the same way, COALESCE(last_used_at, created_at), which is what lets the planner use it.
-- The other new session queries need no new index: touching a session goes by its digest (the primary key),
-- revoking one by its public id (unique), and listing, evicting or revoking a user's sessions by sessions_user_id.
CREATE INDEX sessions_last_active ON sessions ((COALESCE(last_used_at, created_at)));
