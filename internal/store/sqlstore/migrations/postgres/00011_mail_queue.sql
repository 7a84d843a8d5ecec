-- +goose Up
-- Outgoing mail, written in the transaction of the event that causes it and delivered by
-- a sender in each instance. message is sealed with a key derived from the master key (it
-- may hold a one-time link) and cleared once the mail is sent. A sender claims a row by
-- writing its claim and a lease; a lease that expired (its sender died) frees the row.
CREATE TABLE mail_queue (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    message         BYTEA,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    give_up_at      BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    claim           TEXT NOT NULL DEFAULT '',
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    finished_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mail_queue_due ON mail_queue(status, next_attempt_at);

-- +goose Down
DROP TABLE mail_queue;
