package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/testserver"
)

// confirmOver sends the confirmation of an address link the way a surface does: the
// JSON API (204, or 400 invalid_token) or the page's form (303 to the result, or 400
// with the page's refusal).
type confirmOver struct {
	name          string
	send          func(srv *testserver.Server, c *testserver.Client, token string) rawResult
	win, lose     int
	refusal, goes string
}

var confirmSurfaces = []confirmOver{
	{name: "api", win: http.StatusNoContent, lose: http.StatusBadRequest, refusal: `"invalid_token"`,
		send: func(srv *testserver.Server, c *testserver.Client, token string) rawResult {
			return rawPostJSON(srv, c, "/api/v1/account/email/confirm", map[string]string{"token": token})
		}},
	{name: "page", win: http.StatusSeeOther, lose: http.StatusBadRequest, refusal: "invalid, has expired or was used already",
		goes: "/account/email/confirmed",
		send: func(srv *testserver.Server, c *testserver.Client, token string) rawResult {
			form := []byte(url.Values{"token": {token}}.Encode())
			return rawDo(srv, c, http.MethodPost, address.ConfirmPath, "application/x-www-form-urlencoded", form, nil)
		}},
}

// TestAddressLinksRaceOverTwoInstances: one link that confirms a new address, and one
// that verifies the current address, each confirmed ten times at once over two instances
// on one database (SQLite file or PostgreSQL), through the API and through the page's
// form: one confirmation wins, the others get the refusal of a used link (400), never a
// 5xx; the address changes (or is verified) once, with one audit event and, for a
// change, one notice to the old address.
func TestAddressLinksRaceOverTwoInstances(t *testing.T) {
	for _, db := range testserver.Databases {
		for _, surface := range confirmSurfaces {
			race := func(t *testing.T, a, b *testserver.Server, token string) {
				t.Helper()
				answers := raceOver(a, b, raceRounds, func(_ int, srv *testserver.Server) rawResult {
					return surface.send(srv, srv.Client(t), token)
				})
				oneWinner(t, "confirmation", answers, surface.win, surface.lose, surface.refusal)
				for i, r := range answers {
					if r.status == surface.win && r.header.Get("Location") != surface.goes {
						t.Errorf("confirmation %d went to %q, want %q", i, r.header.Get("Location"), surface.goes)
					}
				}
			}
			t.Run(db+"/"+surface.name+"/change", func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{MFARequiredForRole: noMFA})
				ada := addressUser(t, a, "ada")
				wantStatus(t, ada.PostJSON("/api/v1/account/email", map[string]string{"email": "new@example.com", "password": testserver.Password}),
					http.StatusAccepted)
				race(t, a, b, mailedLink(t, a, b, "new@example.com", address.ConfirmPath+"?token="))
				for _, srv := range []*testserver.Server{a, b} {
					if u := me(t, ada.On(srv)); u.Email != "new@example.com" || !u.EmailVerified {
						t.Errorf("the account after the race: %s (verified %v), want new@example.com, verified", u.Email, u.EmailVerified)
					}
				}
				id := userOf(t, a, "ada").ID
				if n := auditCount(t, a, id, audit.EmailChanged); n != 1 {
					t.Errorf("%s events: %d, want 1", audit.EmailChanged, n)
				}
				if n := mailsTo(bothOutboxes(t, a, b), "ada@example.com", "was changed"); n != 1 {
					t.Errorf("notices to the old address: %d, want 1", n)
				}
			})
			t.Run(db+"/"+surface.name+"/verify", func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{MFARequiredForRole: noMFA})
				ada := addressUser(t, a, "ada")
				wantStatus(t, ada.PostJSON("/api/v1/account/email/verify", nil), http.StatusAccepted)
				race(t, a, b, mailedLink(t, a, b, "ada@example.com", address.ConfirmPath+"?token="))
				for _, srv := range []*testserver.Server{a, b} {
					if u := me(t, ada.On(srv)); u.Email != "ada@example.com" || !u.EmailVerified {
						t.Errorf("the account after the race: %s (verified %v), want ada@example.com, verified", u.Email, u.EmailVerified)
					}
				}
				if n := auditCount(t, a, userOf(t, a, "ada").ID, audit.EmailVerified); n != 1 {
					t.Errorf("%s events: %d, want 1", audit.EmailVerified, n)
				}
			})
		}
	}
}
