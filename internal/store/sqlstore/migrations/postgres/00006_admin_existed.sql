-- +goose Up
-- Facts about the installation that, once true, stay true. 'admin_existed': an
-- administrator has existed, so first-administrator setup links are never accepted again,
-- even when no enabled administrator is left.
CREATE TABLE install_facts (
    name        TEXT PRIMARY KEY,
    recorded_at BIGINT NOT NULL
);
INSERT INTO install_facts (name, recorded_at)
SELECT 'admin_existed', (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT
WHERE EXISTS (SELECT 1 FROM users WHERE role = 'admin')
   OR EXISTS (SELECT 1 FROM audit_events WHERE event = 'setup.admin_created'
              OR (event = 'user.created' AND detail = 'role=admin')
              OR (event = 'user.role_changed' AND detail LIKE '% -> admin'));
DELETE FROM setup_tokens WHERE EXISTS (SELECT 1 FROM install_facts WHERE name = 'admin_existed');

-- +goose Down
DROP TABLE install_facts;
