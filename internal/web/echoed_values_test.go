package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// TestProblemDetailsQuoteWhatWasSentShort: where the admin API's 400 names a value that
// was sent (an unknown scope, an unknown field, a field or parameter given twice), the
// detail repeats its first characters only, quoted, with invisible characters escaped: a
// 60 kB value does not come back whole, and a direction override does not come back raw.
func TestProblemDetailsQuoteWhatWasSentShort(t *testing.T) {
	srv, root := adminServer(t)
	user := srv.CreateUser(t, "ada", "ada@example.com", store.RoleUser)
	long := strings.Repeat("u", 60000)
	const rlo = "\u202e<script>"
	object := func(kv ...any) string {
		t.Helper()
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	twice := func(key string) string {
		k, _ := json.Marshal(key)
		return `{"name":"x","redirect_uris":["https://a.example/cb"],` + string(k) + `:1,` + string(k) + `:2}`
	}
	for _, tc := range []struct {
		name, method, path, body, says string
	}{
		{"a long unknown scope", http.MethodPost, "/api/v1/admin/tokens", object("name", "x", "scopes", []string{long}), "Unknown scope"},
		{"an unknown scope with a direction override", http.MethodPost, "/api/v1/admin/tokens", object("name", "x", "scopes", []string{rlo}), "Unknown scope"},
		{"a long unknown field", http.MethodPatch, "/api/v1/admin/users/" + user.ID, object(long, true), "Unknown field"},
		{"an unknown field with a direction override", http.MethodPatch, "/api/v1/admin/users/" + user.ID, object(rlo, true), "Unknown field"},
		{"a long field given twice", http.MethodPost, "/api/v1/admin/clients", twice(long[:30000]), "given twice"},
		{"a field with a direction override given twice", http.MethodPost, "/api/v1/admin/clients", twice(rlo), "given twice"},
		{"a long parameter given twice", http.MethodGet, "/api/v1/admin/users?" + url.Values{long[:20000]: {"1", "2"}}.Encode(), "", "given 2 times"},
		{"a parameter with a direction override given twice", http.MethodGet, "/api/v1/admin/users?" + url.Values{rlo: {"1", "2"}}.Encode(), "", "given 2 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := root.Do(tc.method, tc.path, "application/json", []byte(tc.body))
			wantProblem(t, r, http.StatusBadRequest, "bad_request")
			d, _ := problemOf(t, r)["detail"].(string)
			if !strings.Contains(d, tc.says) {
				t.Errorf("detail %.200q does not say %q", d, tc.says)
			}
			if len(r.Body) > 600 || strings.Contains(d, strings.Repeat("u", apperr.MaxQuoted+1)) {
				t.Errorf("a %d-byte answer repeats the value whole: %.200q", len(r.Body), d)
			}
			if strings.ContainsRune(d, '\u202e') || strings.Contains(string(r.Body), "\u202e") {
				t.Errorf("the direction override comes back raw: %q", d)
			}
		})
	}
}
