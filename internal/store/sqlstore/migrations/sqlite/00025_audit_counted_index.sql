-- +goose Up
-- Only counted events (throttle refusals) have a dedup key, so the unique index on it holds
-- just their rows: every other audit row writes one index page fewer. The upsert of a counted
-- event names the index's condition (ON CONFLICT (dedup) WHERE dedup IS NOT NULL) since
-- schema 22, so instances of the previous releases keep appending during a rolling upgrade.
-- The build reads the whole table once while it holds the write lock (see
-- docs/operations.md, "Rolling upgrades").
CREATE UNIQUE INDEX audit_counted ON audit_events(dedup) WHERE dedup IS NOT NULL;
DROP INDEX audit_dedup;

-- +goose Down
CREATE UNIQUE INDEX audit_dedup ON audit_events(dedup);
DROP INDEX audit_counted;
