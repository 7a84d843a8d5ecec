-- +goose Up
-- OpenID Connect provider (issue 6): clients, authorization requests, consents, grants
-- with their access and refresh tokens, and the signing keys shared by every instance.
CREATE TABLE oidc_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL UNIQUE,
    secret_hash               BLOB,
    public                    INTEGER NOT NULL,
    first_party               INTEGER NOT NULL,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    id_token_alg              TEXT NOT NULL,
    created_at                INTEGER NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    prompt                TEXT NOT NULL,
    max_age               INTEGER NOT NULL,
    acr_values            TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    login_hint            TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    user_id               TEXT NOT NULL DEFAULT '',
    session_id            TEXT NOT NULL DEFAULT '',
    auth_time             INTEGER NOT NULL DEFAULT 0,
    amr                   TEXT NOT NULL DEFAULT '',
    acr                   TEXT NOT NULL DEFAULT '',
    code_hash             BLOB UNIQUE,
    code_expires_at       INTEGER NOT NULL DEFAULT 0,
    code_used_at          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests(expires_at);

CREATE TABLE oidc_consents (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE oidc_grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    amr        TEXT NOT NULL,
    acr        TEXT NOT NULL,
    offline    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_grants_user ON oidc_grants(user_id);
CREATE INDEX oidc_grants_session ON oidc_grants(session_id);
CREATE INDEX oidc_grants_expires ON oidc_grants(expires_at);

CREATE TABLE oidc_access_tokens (
    id         TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_access_tokens_grant ON oidc_access_tokens(grant_id);

CREATE TABLE oidc_refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens(grant_id);

CREATE TABLE oidc_signing_keys (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_enc BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL DEFAULT 0
);
-- At most one current (signing) key per algorithm, also when instances race to create one.
CREATE UNIQUE INDEX oidc_signing_keys_current ON oidc_signing_keys(alg) WHERE retired_at = 0;

-- +goose Down
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_grants;
DROP TABLE oidc_consents;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
