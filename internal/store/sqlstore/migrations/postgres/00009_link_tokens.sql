-- +goose Up
-- Single-use links sent by mail (password reset, invitation, address verification,
-- registration). Only the SHA-256 of a link's token is stored. user_id is NULL for a link
-- that concerns no account yet; an account's links go with it.
CREATE TABLE link_tokens (
    token_hash BYTEA PRIMARY KEY,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    payload    BYTEA,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX link_tokens_user ON link_tokens(user_id, purpose, created_at);
CREATE INDEX link_tokens_expires ON link_tokens(expires_at);

-- +goose Down
DROP TABLE link_tokens;
