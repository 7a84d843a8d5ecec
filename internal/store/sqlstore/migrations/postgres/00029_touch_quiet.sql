-- +goose Up
-- A session's last-seen time (written at most once a minute per session and instance) no
-- longer notifies the session caches: with thousands of signed-in users those touches were
-- most of the notifications, and each emptied every instance's cache and took PostgreSQL's
-- notify lock. A cache may so answer an older last-seen time than stored; the server reads
-- the stored one before it decides on it (idle timeout, the next touch), see
-- docs/operations.md, "Sessions". Every other column still notifies, as do inserts,
-- deletes and TRUNCATE. A column added to sessions must be named here too
-- (TestSessionTriggerNamesEveryColumnButLastSeen). (Migration 28's note that the triggers
-- fire in logical replication's apply is wrong: the apply fires row triggers only.)
-- Dropping a trigger locks the table against reads too: every session check waits behind
-- it. It waits at most 2 s for the lock (a pg_dump or a long transaction holding the table
-- fails the migration instead; run it again).
SET LOCAL lock_timeout = '2s';
DROP TRIGGER sessions_changed ON sessions;
CREATE TRIGGER sessions_changed AFTER INSERT OR DELETE OR TRUNCATE
    OR UPDATE OF id, token_hash, user_id, state, amr, auth_time, created_at, expires_at, ip,
        user_agent, notice_enc, second_factor_at
    ON sessions FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
ALTER TABLE sessions ENABLE ALWAYS TRIGGER sessions_changed;

-- +goose Down
DROP TRIGGER sessions_changed ON sessions;
CREATE TRIGGER sessions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION twofold_sessions_changed();
ALTER TABLE sessions ENABLE ALWAYS TRIGGER sessions_changed;
