-- +goose Up
-- The name the user goes by, shown to applications in the OpenID Connect name claim; empty
-- until the user sets one (the claim then carries the username).
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN display_name;
