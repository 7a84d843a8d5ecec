package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// cursorRefused is what a list answers, in English, to a cursor it did not hand out.
const cursorRefused = "The cursor was not handed out by this list"

// pagedList is an admin list that hands out cursors: its address, and the field of an
// item that names it.
type pagedList struct{ name, path, key string }

// pageKeys fetches one page of l and returns the names of its items and its next cursor
// ("" on the last page).
func pageKeys(t *testing.T, c *testserver.Client, l pagedList, query string) ([]string, string) {
	t.Helper()
	var p web.Page[map[string]json.RawMessage]
	decodeInto(t, c.Get(l.path+"?"+query), http.StatusOK, &p)
	var keys []string
	for _, item := range p.Items {
		keys = append(keys, strings.Trim(string(item[l.key]), `"`))
	}
	if p.NextCursor == nil {
		return keys, ""
	}
	return keys, *p.NextCursor
}

// TestListCursorsBelongToTheirList: every admin list that pages follows its own cursors
// page after page without repeating or skipping a row, and refuses with 400 a cursor of
// any other list (another user's applications included), its own cursor cut short or
// altered, and text no list handed out.
func TestListCursorsBelongToTheirList(t *testing.T) {
	srv, root := adminServer(t)
	tick := func() { srv.Clock.Advance(time.Second) }
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	tick()
	bob := srv.CreateUser(t, "bob", "bob@example.com", "user")
	tick()
	srv.CreateUser(t, "cy", "cy@example.com", "user")
	var clients []web.AdminClient
	for _, n := range []string{"billing", "wiki", "mail"} {
		tick()
		clients = append(clients, addClientAPI(t, root, n))
		tick()
		apiToken(t, root, "users:read")
		tick()
		wantStatus(t, root.PostJSON("/api/v1/admin/signing-keys/rotate", nil), http.StatusOK)
	}
	for i, c := range clients {
		for _, u := range []*store.User{ada, bob}[:1+min(i, 1)] {
			if err := srv.Store.PutOIDCConsent(t.Context(), &store.OIDCConsent{UserID: u.ID, ClientID: c.ClientID,
				Scopes: []string{"openid"}, GrantedAt: srv.Clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	lists := []pagedList{
		{"users", "/api/v1/admin/users", "id"},
		{"tokens", "/api/v1/admin/tokens", "id"},
		{"clients", "/api/v1/admin/clients", "client_id"},
		{"signing keys", "/api/v1/admin/signing-keys", "kid"},
		{"ada's applications", "/api/v1/admin/users/" + ada.ID + "/applications", "client_id"},
		{"bob's applications", "/api/v1/admin/users/" + bob.ID + "/applications", "client_id"},
		{"audit", "/api/v1/admin/audit", "id"},
	}
	// The cursor of each list's first page of one row.
	cursors := map[string]string{}
	for _, l := range lists {
		keys, next := pageKeys(t, root, l, "limit=1")
		if len(keys) != 1 || next == "" {
			t.Fatalf("%s: the first page of one row is %v, next %q: the list needs two rows", l.name, keys, next)
		}
		cursors[l.name] = next
	}

	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			t.Run("own_cursors_walk_the_list", func(t *testing.T) {
				all, _ := pageKeys(t, root, l, "limit=500")
				var walked []string
				for query, pages := "limit=1", 0; ; pages++ {
					if pages > len(all) {
						t.Fatalf("the pages never end: %v", walked)
					}
					keys, next := pageKeys(t, root, l, query)
					walked = append(walked, keys...)
					if next == "" {
						break
					}
					query = "limit=1&cursor=" + url.QueryEscape(next)
				}
				if !slices.Equal(walked, all) {
					t.Fatalf("pages of one gave %v, want %v: every row once, in order", walked, all)
				}
			})
			own := cursors[l.name]
			bad := map[string]string{
				"cut_by_one":       own[:len(own)-1],
				"cut_by_two":       own[:len(own)-2],
				"altered":          alterOne(own),
				"one_more":         own + "A",
				"plain_position":   "MC4zOA", // "0.38", a cursor as the server wrote them before
				"garbage":          "Zm9vYmFy",
				"not_base64":       "!!!",
				"nul":              "%00",
				"over_long":        strings.Repeat("A", 600),
				"plain_users_text": "MTdmOGQ0Yy4x",
			}
			for _, other := range lists {
				if other.name != l.name {
					bad["from "+other.name] = cursors[other.name]
				}
			}
			for name, cursor := range bad {
				t.Run("refuses_"+strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
					r := root.Get(l.path + "?limit=1&cursor=" + url.QueryEscape(cursor))
					wantProblem(t, r, http.StatusBadRequest, "bad_request")
					p := r.JSON(t)
					if d, _ := p["detail"].(string); !strings.Contains(d, cursorRefused) {
						t.Errorf("detail %q, want it to say the cursor is not this list's", d)
					}
				})
			}
		})
	}

	t.Run("console_users_page", func(t *testing.T) {
		r := root.Get("/admin/users?limit=1")
		wantPage(t, r, http.StatusOK)
		next := regexpFind(t, string(r.Body), `href="/admin/users\?([^"]*cursor=[^"]+)"`)
		next = strings.ReplaceAll(next, "&amp;", "&")
		wantPage(t, root.Get("/admin/users?"+next), http.StatusOK)
		q, err := url.ParseQuery(next)
		if err != nil {
			t.Fatal(err)
		}
		// The console's cursor is the users list's, in the API too, and no other list's.
		wantStatus(t, root.Get("/api/v1/admin/users?limit=1&cursor="+url.QueryEscape(q.Get("cursor"))), http.StatusOK)
		wantProblem(t, root.Get("/api/v1/admin/tokens?cursor="+url.QueryEscape(q.Get("cursor"))), http.StatusBadRequest, "bad_request")
		for _, c := range []string{cursors["tokens"], cursors["audit"], alterOne(cursors["users"]), "MC4zOA"} {
			wantPage(t, root.Get("/admin/users?cursor="+url.QueryEscape(c)), http.StatusBadRequest, cursorRefused)
		}
	})
	t.Run("console_audit_page", func(t *testing.T) {
		r := root.Get("/admin/audit?limit=1")
		next := regexpFind(t, string(r.Body), `href="/admin/audit\?([^"]+)" rel="next"`)
		q, err := url.ParseQuery(strings.ReplaceAll(next, "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, root.Get("/api/v1/admin/audit?limit=1&cursor="+url.QueryEscape(q.Get("cursor"))), http.StatusOK)
		wantProblem(t, root.Get("/api/v1/admin/users?cursor="+url.QueryEscape(q.Get("cursor"))), http.StatusBadRequest, "bad_request")
		for _, c := range []string{cursors["users"], cursors["tokens"], alterOne(cursors["audit"]), "MC4zOA"} {
			wantPage(t, root.Get("/admin/audit?cursor="+url.QueryEscape(c)), http.StatusBadRequest, cursorRefused)
		}
	})
}

// alterOne is s with one character in its middle changed.
func alterOne(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'x' {
		b[i] = 'y'
	} else {
		b[i] = 'x'
	}
	return string(b)
}
