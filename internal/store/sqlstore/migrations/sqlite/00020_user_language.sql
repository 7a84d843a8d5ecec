-- +goose Up
-- The language the user chose for the pages (a tag such as "de"), in which their mails are
-- written too; empty until they choose one (mails are then in English).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN language;
