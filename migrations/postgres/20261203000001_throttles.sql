-- Throttles (PostgreSQL). The SQLite twin has the same name and table.
--
-- The throttles' keys (SHA-256 digests of a limit's name and its subject: a client address, an account or an email
-- address) and their times (GCRA's theoretical arrival time, milliseconds since the Unix epoch). A key whose time
-- has passed is the same as a key never seen; the background purge deletes it.
--
-- UNLOGGED: the counts are written on every login and are not worth a write-ahead log; after a crash, or on a
-- standby after a failover, the table is empty and every key starts afresh.
CREATE UNLOGGED TABLE throttles (
    key BYTEA PRIMARY KEY CHECK (length(key) = 32),
    tat BIGINT NOT NULL
);
