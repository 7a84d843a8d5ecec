-- +goose Up
-- API tokens for automation on the admin API. Only the SHA-256 of a token is stored; the
-- token is shown once when created. scopes is a space-separated list. created_by is the
-- user who created the token, empty for the server console; it is no foreign key, so the
-- row (and the audit events naming it) outlives the user, and the token stops working
-- when its creator is no longer an enabled administrator. Times are Unix milliseconds,
-- 0 for never (expires_at: no expiry; revoked_at: live).
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);

-- The audit log's filters walk the log newest first (by id) within an event type or an
-- address.
CREATE INDEX audit_event_id ON audit_events(event, id);
CREATE INDEX audit_ip_id ON audit_events(ip, id);

-- +goose Down
DROP INDEX audit_ip_id;
DROP INDEX audit_event_id;
DROP TABLE api_tokens;
