-- +goose Up
-- PostgreSQL's schema 28 notifies the servers' session caches of changes (triggers); on
-- SQLite every commit changes the WAL index, which the cache watches: nothing to add.
SELECT 1;

-- +goose Down
SELECT 1;
