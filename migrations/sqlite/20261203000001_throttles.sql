-- Throttles (SQLite). The PostgreSQL twin has the same name and table.
--
-- The throttles' keys (SHA-256 digests of a limit's name and its subject: a client address, an account or an email
-- address) and their times (GCRA's theoretical arrival time, milliseconds since the Unix epoch). A key whose time
-- has passed is the same as a key never seen; the background purge deletes it.
CREATE TABLE throttles (
    key BLOB PRIMARY KEY NOT NULL CHECK (length(key) = 32),
    tat INTEGER NOT NULL
) WITHOUT ROWID;
