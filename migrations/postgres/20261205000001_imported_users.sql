-- The ids of the users that `authtoken import django` wrote (PostgreSQL).
-- The SQLite twin in migrations/sqlite has the same name and the same table.
-- A row stays when its user is deleted (there is no foreign key), so that a later import leaves a user deleted here
-- deleted, even after the user's events are purged.

CREATE TABLE imported_users (
    id bigint PRIMARY KEY
);
