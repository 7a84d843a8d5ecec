-- +goose Up
-- Whether the user proved to own the address (a confirmed mail link, an invitation, or an
-- operator's word at the console). Existing addresses were never proved.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN email_verified;
