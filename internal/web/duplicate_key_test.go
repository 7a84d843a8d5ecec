package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestAPIRefusesKeyGivenTwice: a JSON body that gives a field twice is refused, naming it,
// before anything acts on it: encoding/json would keep the last value, while a proxy, a WAF
// or a log line may have read the first. Keys match regardless of case, as the API reads them.
func TestAPIRefusesKeyGivenTwice(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	srv.CreateUser(t, "dupkey", "dupkey@example.com", "user")
	for _, body := range []string{
		`{"username":"dupkey","password":"not the password","password":"` + testserver.Password + `"}`,
		`{"username":"dupkey","Password":"not the password","password":"` + testserver.Password + `"}`,
		`{"username":"someone else","password":"` + testserver.Password + `","USERNAME":"dupkey"}`,
	} {
		c := srv.Client(t)
		r := rawDo(srv, c, http.MethodPost, "/api/v1/login", "application/json", []byte(body), nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "is given twice") {
			t.Errorf("%s: %d %s, want 400 naming the field given twice", body, r.status, r.body)
		}
		if got := rawDo(srv, c, http.MethodGet, "/api/v1/session", "", nil, nil); got.status != http.StatusUnauthorized {
			t.Errorf("%s: the refused body left a session: %d %s", body, got.status, got.body)
		}
	}
	// The same body with each field once signs in.
	ok := rawDo(srv, srv.Client(t), http.MethodPost, "/api/v1/login", "application/json",
		[]byte(`{"username":"dupkey","password":"`+testserver.Password+`"}`), nil)
	if ok.status != http.StatusOK {
		t.Fatalf("the plain body: %d %s", ok.status, ok.body)
	}
}
