-- +goose NO TRANSACTION
-- +goose Up
-- Only counted events (throttle refusals) have a dedup key, so the unique index on it holds
-- just their rows: every other audit row writes one index entry fewer. The upsert of a
-- counted event names the index's condition (ON CONFLICT (dedup) WHERE dedup IS NOT NULL)
-- since schema 22, so instances of those releases keep appending during a rolling upgrade.
--
-- Built CONCURRENTLY, outside a transaction, so audit appends (every sign-in makes them)
-- never wait for the build on a large log. While the new index is being built, and while
-- the old one is being dropped, PostgreSQL checks a key against both but settles a conflict
-- only on the valid one: two first refusals of one key at that moment can meet a unique
-- violation or a deadlock, which AppendAudit (since schema 25) answers by counting again;
-- an instance of an earlier release loses that count and logs it.
--
-- Every step can run again after an interruption: a build that failed half-way leaves an
-- invalid index of the new name, which the first step drops (and only then: a valid one is
-- the index the upserts use; its drop waits at most 2 s for the table's lock, and audit
-- appends wait behind it meanwhile); the others skip what exists or is gone.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(format('%I.audit_counted', current_schema())) AND NOT indisvalid) THEN
        SET LOCAL lock_timeout = '2s';
        EXECUTE format('DROP INDEX %I.audit_counted', current_schema());
    END IF;
END $$;
-- +goose StatementEnd
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS audit_counted ON audit_events(dedup) WHERE dedup IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS audit_dedup;

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(format('%I.audit_dedup', current_schema())) AND NOT indisvalid) THEN
        SET LOCAL lock_timeout = '2s';
        EXECUTE format('DROP INDEX %I.audit_dedup', current_schema());
    END IF;
END $$;
-- +goose StatementEnd
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS audit_dedup ON audit_events(dedup);
DROP INDEX CONCURRENTLY IF EXISTS audit_counted;
