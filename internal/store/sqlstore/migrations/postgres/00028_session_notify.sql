-- +goose Up
-- Every transaction that changes what a session check reads (a session, its user, the
-- user's authenticator or security keys) notifies the channel twofold_sessions with the
-- schema's name, delivered when it commits. Each server's session cache listens and drops
-- what it read before (sqlstore's notifyWatch): a sign-out, a disabled account or a reset
-- second factor, by any instance or command, reaches every instance before its next
-- session check. Notifications of one transaction with the same payload arrive once.
-- +goose StatementBegin
CREATE FUNCTION twofold_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('twofold_sessions', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
CREATE TRIGGER totp_credentials_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON totp_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
CREATE TRIGGER webauthn_credentials_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webauthn_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
-- Fired also where ordinary triggers are not: session_replication_role = replica (logical
-- replication's apply, some migration and restore tools). Each server checks at connect that
-- the four are there and enabled so.
ALTER TABLE sessions ENABLE ALWAYS TRIGGER sessions_changed;
ALTER TABLE users ENABLE ALWAYS TRIGGER users_changed;
ALTER TABLE totp_credentials ENABLE ALWAYS TRIGGER totp_credentials_changed;
ALTER TABLE webauthn_credentials ENABLE ALWAYS TRIGGER webauthn_credentials_changed;

-- +goose Down
DROP TRIGGER webauthn_credentials_changed ON webauthn_credentials;
DROP TRIGGER totp_credentials_changed ON totp_credentials;
DROP TRIGGER users_changed ON users;
DROP TRIGGER sessions_changed ON sessions;
DROP FUNCTION twofold_sessions_changed();
