-- +goose Up
-- When the session last proved the second factor (a code or the recovery code), in Unix
-- milliseconds; 0 when it never did. Replacing the authenticator needs a recent proof.
ALTER TABLE sessions ADD COLUMN second_factor_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN second_factor_at;
