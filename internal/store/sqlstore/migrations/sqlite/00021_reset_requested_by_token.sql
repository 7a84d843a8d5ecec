-- +goose Up
-- The API token that filed an MFA reset request (its id; empty when a person did): the
-- case shows the token as the requester, and the request is void once its user holds a
-- privileged role, which a token may not act on.
ALTER TABLE support_mfa_resets ADD COLUMN requested_by_token TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE support_mfa_resets DROP COLUMN requested_by_token;
