-- The ids of the users that `authtoken import django` wrote (SQLite).
-- The PostgreSQL twin in migrations/postgres has the same name and the same table.
-- A row stays when its user is deleted (there is no foreign key), so that a later import leaves a user deleted here
-- deleted, even after the user's events are purged.

CREATE TABLE imported_users (
    id INTEGER PRIMARY KEY
);
