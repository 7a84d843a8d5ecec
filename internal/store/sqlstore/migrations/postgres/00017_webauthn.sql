-- +goose Up
-- Security keys and passkeys (WebAuthn). Times are Unix milliseconds; last_used_at is 0
-- until the first sign-in with the key. transports is a comma-separated list.
CREATE TABLE webauthn_credentials (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id      BYTEA NOT NULL UNIQUE,
    public_key         BYTEA NOT NULL,
    attestation_format TEXT NOT NULL,
    sign_count         BIGINT NOT NULL,
    aaguid             BYTEA NOT NULL,
    transports         TEXT NOT NULL,
    user_verified      INTEGER NOT NULL,
    backup_eligible    INTEGER NOT NULL,
    backup_state       INTEGER NOT NULL,
    discoverable       INTEGER NOT NULL,
    name               TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);

-- Challenges handed to a browser, single use: consumed by one conditional delete.
-- bound_to is the session ID, or for a passkey sign-in the SHA-256 (hex) of the
-- pre-session cookie; data is the ceremony's state (JSON).
CREATE TABLE webauthn_challenges (
    challenge_hash BYTEA PRIMARY KEY,
    kind           TEXT NOT NULL,
    bound_to       TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    data           BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges(expires_at);

-- +goose Down
DROP TABLE webauthn_challenges;
DROP TABLE webauthn_credentials;
