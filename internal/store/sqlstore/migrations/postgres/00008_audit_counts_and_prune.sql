-- +goose Up
-- Repeated events (throttle refusals) are one row per key that counts them: the row is
-- inserted once with its dedup key, and later ones only add to its count.
ALTER TABLE audit_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_events ADD COLUMN dedup TEXT;
CREATE UNIQUE INDEX audit_dedup ON audit_events(dedup);
CREATE INDEX audit_at ON audit_events(at);

-- A prune writes a permit for its cutoff, deletes and removes the permit in one
-- transaction: no other transaction ever sees the permit.
CREATE TABLE audit_prune_permits (
    before BIGINT NOT NULL
);

-- Audit rows stay append-only: the only change is counting one more repeat of a counted
-- event, and the only deletion is of rows older than a prune's permit.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.dedup IS NOT NULL AND NEW.count = OLD.count + 1
        AND (NEW.id, NEW.at, NEW.event, NEW.actor_id, NEW.subject_id, NEW.ip, NEW.user_agent, NEW.detail, NEW.dedup)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.at, OLD.event, OLD.actor_id, OLD.subject_id, OLD.ip, OLD.user_agent, OLD.detail, OLD.dedup) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_prune_permits p WHERE OLD.at < p.before) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
-- +goose StatementEnd
DROP TABLE audit_prune_permits;
DROP INDEX audit_at;
DROP INDEX audit_dedup;
ALTER TABLE audit_events DROP COLUMN dedup;
ALTER TABLE audit_events DROP COLUMN count;
