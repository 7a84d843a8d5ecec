-- +goose Up
-- The key check value: a constant sealed (AES-256-GCM, random nonce) with a sub-key of the
-- master key the database was made with. A server or command that starts with another key
-- cannot open it and refuses to start, instead of failing every code check afterwards. It
-- is written at the first start after this migration, by the first instance to start: one
-- row at most (id is always 1).
CREATE TABLE key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE key_check;
