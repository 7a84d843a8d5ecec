-- +goose Up
-- Support cases (issue 4). A case names no account: agents see the accounts whose e-mail
-- matches email_norm.
CREATE TABLE support_cases (
    id                      TEXT PRIMARY KEY,
    reference               TEXT NOT NULL UNIQUE,
    full_name               TEXT NOT NULL,
    email                   TEXT NOT NULL,
    email_norm              TEXT NOT NULL,
    organisation            TEXT NOT NULL,
    phone                   TEXT NOT NULL,
    category                TEXT NOT NULL,
    description             TEXT NOT NULL,
    status                  TEXT NOT NULL,
    assignee_id             TEXT NOT NULL DEFAULT '',
    ip                      TEXT NOT NULL,
    user_agent              TEXT NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    email_confirmed_at      INTEGER NOT NULL DEFAULT 0,
    email_confirmed_ip      TEXT NOT NULL DEFAULT '',
    email_confirmed_user_id TEXT NOT NULL DEFAULT '',
    email_confirmed_norm    TEXT NOT NULL DEFAULT '',
    closed_at               INTEGER NOT NULL DEFAULT 0,
    closed_by               TEXT NOT NULL DEFAULT '',
    resolution              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX support_cases_status ON support_cases(status, created_at);
CREATE INDEX support_cases_email ON support_cases(email_norm);

CREATE TABLE support_case_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  TEXT NOT NULL REFERENCES support_cases(id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX support_case_events_case ON support_case_events(case_id, id);

CREATE TABLE support_email_links (
    token_hash BLOB PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES support_cases(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email_norm TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX support_email_links_case ON support_email_links(case_id);

CREATE TABLE support_mfa_resets (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES support_cases(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    requested_by TEXT NOT NULL,
    verification TEXT NOT NULL,
    note         TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    status       TEXT NOT NULL,
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   INTEGER NOT NULL DEFAULT 0
);
-- At most one reset waits for approval per case.
CREATE UNIQUE INDEX support_mfa_resets_one_pending ON support_mfa_resets(case_id) WHERE status = 'pending';

-- +goose Down
DROP TABLE support_mfa_resets;
DROP TABLE support_email_links;
DROP TABLE support_case_events;
DROP TABLE support_cases;
