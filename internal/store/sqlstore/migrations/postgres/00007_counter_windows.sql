-- +goose Up
-- Actions counted per fixed time window for caps on the whole service (the mail of the
-- public support form per hour): one row per counter and window, shared by all instances.
-- used counts the granted actions, refused the ones refused once the window was full.
CREATE TABLE counter_windows (
    name         TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used         INTEGER NOT NULL,
    refused      INTEGER NOT NULL,
    PRIMARY KEY (name, window_start)
);

-- +goose Down
DROP TABLE counter_windows;
