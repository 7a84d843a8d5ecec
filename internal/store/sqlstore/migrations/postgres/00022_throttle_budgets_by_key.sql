-- +goose Up
-- On SQLite this migration stores the failure budgets in their key's order (WITHOUT
-- ROWID), one index fewer to write. A PostgreSQL table is a heap beside its key's index
-- either way: nothing changes here.
SELECT 1;

-- +goose Down
SELECT 1;
