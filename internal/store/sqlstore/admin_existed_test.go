package sqlstore_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
)

// TestUpgradeRemembersAnEarlierAdministrator: a database from before the admin_existed
// fact, whose only administrator is disabled or was demoted, gets the fact on upgrade and
// loses its setup tokens, so an old setup link does not create a new administrator.
func TestUpgradeRemembersAnEarlierAdministrator(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  []string
	}{
		{"a disabled administrator", []string{
			`INSERT INTO users (id, username, username_norm, email, email_norm, role, disabled, password_hash, created_at, updated_at)
			 VALUES ('u1', 'root', 'root', 'root@example.com', 'root@example.com', 'admin', 1, 'x', 1, 1)`}},
		{"a demoted administrator", []string{
			`INSERT INTO users (id, username, username_norm, email, email_norm, role, disabled, password_hash, created_at, updated_at)
			 VALUES ('u1', 'root', 'root', 'root@example.com', 'root@example.com', 'user', 0, 'x', 1, 1)`,
			`INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail)
			 VALUES (1, 'user.role_changed', '', 'u1', '', '', 'admin -> user')`,
			`INSERT INTO audit_events (at, event, actor_id, subject_id, ip, user_agent, detail)
			 VALUES (0, 'user.created', '', 'u1', '', '', 'role=admin')`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openTemp(t)
			db.Close()
			raw := rawDB(t, path)
			// Back to the schema before the fact, through every later migration's Down.
			p, err := goose.NewProvider(goose.DialectSQLite3, raw, os.DirFS("migrations/sqlite"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(t.Context(), 5); err != nil {
				t.Fatalf("migrate down to 5: %v", err)
			}
			for _, q := range append([]string{
				`INSERT INTO setup_tokens (token_hash, expires_at) VALUES (x'0102', 9999999999999)`,
			}, tc.sql...) {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			raw.Close()

			db, err = sqlstore.OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if existed, err := db.AdminHasExisted(t.Context()); err != nil || !existed {
				t.Errorf("AdminHasExisted after the upgrade = %v, %v; want true", existed, err)
			}
			if err := db.CheckSetupToken(t.Context(), []byte{1, 2}, time.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CheckSetupToken of a link from before the upgrade = %v, want ErrNotFound", err)
			}
		})
	}
	t.Run("no administrator yet", func(t *testing.T) {
		db, _ := openTemp(t)
		if existed, err := db.AdminHasExisted(t.Context()); err != nil || existed {
			t.Errorf("AdminHasExisted in a fresh database = %v, %v; want false", existed, err)
		}
	})
}
