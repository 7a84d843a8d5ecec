-- +goose Up
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL,
    username_norm  TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    email_norm     TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    mfa_override   TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    last_login_at  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE totp_credentials (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_enc   BLOB NOT NULL,
    last_step    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE totp_pending (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_enc BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    amr          TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    notice_enc   BLOB
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    event      TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit_events(actor_id);
CREATE INDEX audit_subject ON audit_events(subject_id);

-- Audit rows are append-only: the database itself refuses changes and deletions.
-- +goose StatementBegin
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
-- +goose StatementEnd

CREATE TABLE setup_tokens (
    token_hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE setup_tokens;
DROP TABLE audit_events;
DROP TABLE sessions;
DROP TABLE recovery_codes;
DROP TABLE totp_pending;
DROP TABLE totp_credentials;
DROP TABLE users;
