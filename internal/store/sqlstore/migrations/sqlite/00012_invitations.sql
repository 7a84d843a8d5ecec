-- +goose Up
-- An account created by invitation has no password until its invitation is accepted. The
-- row says until when the current link works and when it was accepted (0: not yet); the
-- link's token itself is a single-use mail link.
CREATE TABLE invitations (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    invited_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE invitations;
