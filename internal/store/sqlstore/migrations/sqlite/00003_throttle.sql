-- +goose Up
-- Failure budgets (issue 5): one row per budget that has failures, deleted on success.
-- bkey is a user id, or for the password step of an unknown identifier "login:" + the
-- SHA-256 of the normalised identifier. delay_ms is the wait imposed after the last
-- reserved attempt, so an attempt is granted from last_at + delay_ms on.
CREATE TABLE throttle_budgets (
    kind     TEXT NOT NULL,
    bkey     TEXT NOT NULL,
    failures INTEGER NOT NULL,
    delay_ms INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, bkey)
);
CREATE INDEX throttle_budgets_last ON throttle_budgets(kind, last_at);

-- +goose Down
DROP TABLE throttle_budgets;
