-- +goose Up
-- PostgreSQL's schema 29 stops notifying the session caches of last-seen times; SQLite's
-- cache watches every commit: nothing to change.
SELECT 1;

-- +goose Down
SELECT 1;
