-- +goose NO TRANSACTION
-- +goose Up
-- Only counted events (throttle refusals) have a dedup key, so the unique index on it holds
-- just their rows: every other audit row writes one index entry fewer. The upsert of a
-- counted event names the index's condition (ON CONFLICT (dedup) WHERE dedup IS NOT NULL)
-- since schema 22, so instances of the previous releases keep appending during a rolling
-- upgrade: while both indexes exist, both are its arbiters.
--
-- Built CONCURRENTLY, outside a transaction, so audit appends (every sign-in makes them)
-- never wait for the build on a large log. A build that failed half-way leaves an invalid
-- index of the new name: the first statement drops it, so running the migration again
-- starts over.
DROP INDEX CONCURRENTLY IF EXISTS audit_counted;
CREATE UNIQUE INDEX CONCURRENTLY audit_counted ON audit_events(dedup) WHERE dedup IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS audit_dedup;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS audit_dedup;
CREATE UNIQUE INDEX CONCURRENTLY audit_dedup ON audit_events(dedup);
DROP INDEX CONCURRENTLY IF EXISTS audit_counted;
