package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestSetupCreatesOneAdministratorInParallel: twelve first-administrator forms sent at
// once over two instances on one database, SQLite file or PostgreSQL, create exactly one
// administrator; the others get the page's refusal (400), never a 5xx. Once with one link
// submitted twelve times, once with a link per form (every start of every instance prints
// its own while no administrator exists).
func TestSetupCreatesOneAdministratorInParallel(t *testing.T) {
	for _, db := range testserver.Databases {
		for _, links := range []string{"one_link", "a_link_each"} {
			t.Run(db+"/"+links, func(t *testing.T) {
				a, b := testserver.Instances(t, db, testserver.Options{})
				const n = 12
				tokens := make([]string, n)
				for i := range tokens {
					if i == 0 || links == "a_link_each" {
						tok, err := []*testserver.Server{a, b}[i%2].Auth.IssueSetupToken(t.Context())
						if err != nil {
							t.Fatal(err)
						}
						tokens[i] = tok
					} else {
						tokens[i] = tokens[0]
					}
				}
				answers := make([]*testserver.Response, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					c := []*testserver.Server{a, b}[i%2].Client(t)
					name := "root" + strconv.Itoa(i)
					form := url.Values{"token": {tokens[i]}, "username": {name}, "email": {name + "@example.com"},
						"password": {testserver.Password}, "confirm_password": {testserver.Password}}
					wg.Go(func() {
						<-start
						answers[i] = postForm(c, "/setup", form)
					})
				}
				close(start)
				wg.Wait()
				created := 0
				for i, r := range answers {
					switch {
					case r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login"):
						created++
					case r.Status == http.StatusBadRequest:
					default:
						t.Errorf("setup %d: %d %s, want 303 to /login or 400", i, r.Status, pageMessage(r))
					}
				}
				users, err := a.Store.ListUsers(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				admins := 0
				for _, u := range users {
					if u.Role == store.RoleAdmin {
						admins++
					}
				}
				if created != 1 || admins != 1 {
					t.Fatalf("%d of %d parallel setups succeeded and %d administrators exist, want exactly 1", created, n, admins)
				}
			})
		}
	}
}

// pageMessage is the error a page shows above its form, or the body when it shows none.
func pageMessage(r *testserver.Response) string {
	if m := regexp.MustCompile(`<p class="error[^>]*>([^<]*)<`).FindSubmatch(r.Body); m != nil {
		return string(m[1])
	}
	return string(r.Body)
}
