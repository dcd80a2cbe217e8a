-- The outbox keeps what a mail is, never its text (SQLite). The PostgreSQL twin in migrations/postgres has the same
-- name and the same columns.
--
-- A confirmation link is minted when its mail is delivered, so only the link's digest is ever written: no plaintext
-- link reaches the database file or its write-ahead log. `subject` and `body` stay (migrations only add), always ''.

-- What the mail is; every mail of earlier versions was a confirmation mail.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'confirmation';
-- The configured language tag of the mail's template, or NULL for the default template.
ALTER TABLE outbox ADD COLUMN language TEXT;

-- Earlier versions wrote each mail's text, link included, and blanked it only once sent. Blank what is left: a pending
-- mail gets a new link when it is delivered. The store compacts the database file after this migration, so the old
-- bytes do not stay behind in free pages or in the write-ahead log.
UPDATE outbox SET subject = '', body = '' WHERE subject <> '' OR body <> '';
