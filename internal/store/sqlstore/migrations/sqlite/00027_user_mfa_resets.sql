-- +goose Up
-- How many times the user's MFA was reset (by the support desk or an administrator):
-- every reset adds one in its transaction, so that the state of the account's MFA a reset
-- is checked against changes with each reset, also with one that removed no factor and
-- that no case records.
ALTER TABLE users ADD COLUMN mfa_resets INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN mfa_resets;
