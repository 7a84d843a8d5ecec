-- +goose Up
-- Outgoing mail, written in the transaction of the event that causes it and delivered by
-- a sender in each instance. message is sealed with a key derived from the master key (it
-- may hold a one-time link) and cleared once the mail is sent. A sender claims a row by
-- writing its claim and a lease; a lease that expired (its sender died) frees the row.
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message         BLOB,
    status          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    give_up_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    claim           TEXT NOT NULL DEFAULT '',
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    finished_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mail_queue_due ON mail_queue(status, next_attempt_at);

-- +goose Down
DROP TABLE mail_queue;
