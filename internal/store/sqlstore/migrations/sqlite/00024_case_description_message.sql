-- +goose Up
-- A case an administrator opened for an MFA reset keeps its description as a catalog
-- sentence with its arguments (support.Text, in JSON) beside the English text, so the case
-- page says who asked in its reader's language; the reason stays as typed. Cases opened
-- on the support page, cases of earlier releases, and cases an instance of schema 23
-- opens during a rolling upgrade have none and are shown as stored.
ALTER TABLE support_cases ADD COLUMN description_message TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE support_cases DROP COLUMN description_message;
