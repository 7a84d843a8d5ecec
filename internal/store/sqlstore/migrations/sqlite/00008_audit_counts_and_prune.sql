-- +goose Up
-- Repeated events (throttle refusals) are one row per key that counts them: the row is
-- inserted once with its dedup key, and later ones only add to its count.
ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN dedup TEXT;
CREATE UNIQUE INDEX audit_dedup ON audit_events(dedup);
CREATE INDEX audit_at ON audit_events(at);

-- A prune writes a permit for its cutoff, deletes and removes the permit in one
-- transaction: no other connection ever sees the permit.
CREATE TABLE audit_prune_permits (
    before INTEGER NOT NULL
);

-- Audit rows stay append-only: the only change is counting one more repeat of a counted
-- event, and the only deletion is of rows older than a prune's permit.
DROP TRIGGER audit_no_update;
DROP TRIGGER audit_no_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
WHEN NOT (OLD.dedup IS NOT NULL AND NEW.dedup IS OLD.dedup AND NEW.count = OLD.count + 1
    AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.event = OLD.event
    AND NEW.actor_id = OLD.actor_id AND NEW.subject_id = OLD.subject_id AND NEW.ip = OLD.ip
    AND NEW.user_agent = OLD.user_agent AND NEW.detail = OLD.detail)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permits WHERE OLD.at < before)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_no_update;
DROP TRIGGER audit_no_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd
DROP TABLE audit_prune_permits;
DROP INDEX audit_at;
DROP INDEX audit_dedup;
ALTER TABLE audit_events DROP COLUMN dedup;
ALTER TABLE audit_events DROP COLUMN count;
