-- +goose Up
-- A timeline entry keeps the catalog sentence it says, with its arguments (support.Text,
-- in JSON), beside its English body, so the case page says it in its reader's language.
-- Entries of earlier releases, and notes, have none and are shown as stored. An instance
-- of schema 22 still running during a rolling upgrade writes entries without one.
ALTER TABLE support_case_events ADD COLUMN message TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE support_case_events DROP COLUMN message;
