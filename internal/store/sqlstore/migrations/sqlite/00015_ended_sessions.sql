-- +goose Up
-- Why a session ended: the action (auth.Action's name) noted on each session that an
-- action such as a password change or an MFA reset ended, keyed by the session's token
-- hash, so that the browser still holding the token is told why on the sign-in page. A
-- note lasts until its session would have expired (Unix milliseconds).
CREATE TABLE ended_sessions (
    token_hash BLOB PRIMARY KEY,
    action     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE ended_sessions;
