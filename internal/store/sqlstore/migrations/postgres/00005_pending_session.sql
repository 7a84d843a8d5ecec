-- +goose Up
-- A pending authenticator secret belongs to the session that drew it: no other session of
-- the user (someone else who knows the password) may see or confirm it.
ALTER TABLE totp_pending ADD COLUMN session_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE totp_pending DROP COLUMN session_id;
