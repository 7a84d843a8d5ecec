package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestLookAlikeUsernames: a new username whose letters mix scripts ("аlice" with a
// Cyrillic "а" beside an existing "alice"), that has a letter ordinary writing does not use
// ("ɑlice" with a phonetic "ɑ") or that has no letter or digit is refused with the reason,
// on the username field of the form and in the API's detail, wherever a name is chosen. An
// account that has such a name from before the rules still signs in by it.
func TestLookAlikeUsernames(t *testing.T) {
	const mixed, noLetter = "mixes letters or digits of different scripts", "at least one letter or digit"
	const uncommon = "a letter that ordinary writing does not use"
	srv, root := adminServerWith(t, testserver.Options{PublicURL: regPublicURL, Config: func(c *config.Config) {
		c.Registration.Enabled = true
		c.Registration.RequestsPerIPHour, c.Registration.RequestsPerEmailHour = 1000, 1000
		c.Registration.MailsPerHour = 1000
	}})
	srv.CreateUser(t, "alice", "alice@example.com", "user")
	mailed := len(srv.Mail(t))
	for _, tc := range []struct{ name, username, says string }{
		{"cyrillic_a", "\u0430lice", mixed},
		{"greek_omicron", "r\u03bfot", mixed},
		{"ipa_alpha", "\u0251lice", uncommon},
		{"small_capital_a", "\u1d00lice", uncommon},
		{"dots", "..", noLetter},
		{"underscore", "_", noLetter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apiSays := func(r *testserver.Response) {
				t.Helper()
				wantProblem(t, r, http.StatusBadRequest, "bad_request")
				if detail, _ := problemOf(t, r)["detail"].(string); !strings.Contains(detail, tc.says) {
					t.Errorf("detail %q does not say %q", detail, tc.says)
				}
			}
			apiSays(srv.Client(t).PostJSON("/api/v1/register", registerBody(tc.username, "new@example.com")))
			apiSays(apiDo(root, "POST", "/api/v1/admin/users", map[string]any{"username": tc.username, "email": "new@example.com", "invite": true}))

			r := postForm(srv.Client(t), "/register", url.Values{"username": {tc.username}, "email": {"new@example.com"}, "password": {testserver.Password}})
			wantFieldError(t, r, "username")
			wantPage(t, r, http.StatusBadRequest, tc.says)
		})
	}
	if n := len(srv.Mail(t)) - mailed; n != 0 {
		t.Errorf("%d mails sent for refused names", n)
	}

	t.Run("existing_account_still_signs_in", func(t *testing.T) {
		ctx := context.Background()
		hash, err := srv.Auth.HashPassword(ctx, testserver.Password)
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{
			"b\u043eb",      // Cyrillic "о", stored before usernames had to be of one script
			"\u0251lice",    // phonetic "ɑ", stored before uncommon letters were refused
			"\u01a6\u1d00y", // "Ʀᴀy", which folds to the small capitals "ʀᴀy"
		} {
			now := srv.Clock.Now()
			email := fmt.Sprintf("old%d@example.com", i)
			u := &store.User{Account: store.Account{ID: uuid.NewString(), Username: name, Email: email, Role: store.RoleUser},
				UsernameNorm: auth.NormalizeLogin(name), EmailNorm: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
			if err := srv.Store.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			srv.Client(t).Login(name, "authenticated")
			srv.Client(t).Login(strings.ToUpper(name), "authenticated")
		}
	})
}
