package oidc_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestProtocolMethods runs the protocol endpoints on the whole server: each serves its
// methods and answers CORS preflights where it did, and refuses any other method with an
// OAuth error, 405 and Allow.
func TestProtocolMethods(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	do := func(t *testing.T, method, path string, header http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, p := range oidc.ProtocolPaths {
		methods := slices.Clone(oidc.ProtocolMethods[p])
		if len(methods) == 0 {
			t.Fatalf("%s has no methods", p)
		}
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead) // GET serves HEAD
		}
		t.Run(p, func(t *testing.T) {
			t.Run("cors_preflight", func(t *testing.T) {
				if !slices.Contains(methods, http.MethodOptions) {
					t.Skip("not preflighted: discovery allows every origin on its GET")
				}
				resp := do(t, http.MethodOptions, p, http.Header{"Origin": {"https://spa.example"},
					"Access-Control-Request-Method": {http.MethodPost}})
				if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://spa.example" ||
					resp.Header.Get("Access-Control-Allow-Methods") == "" {
					t.Errorf("preflight: %d, Access-Control-Allow-Origin %q, -Methods %q", resp.StatusCode,
						resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Methods"))
				}
				if resp.Header.Get("Access-Control-Allow-Credentials") == "true" {
					t.Error("credentials allowed cross-origin")
				}
			})
			t.Run("served_methods_reach_the_endpoint", func(t *testing.T) {
				for _, m := range methods {
					if m == http.MethodOptions {
						continue
					}
					if resp := do(t, m, p, nil); resp.StatusCode == http.StatusMethodNotAllowed {
						t.Errorf("%s refused with 405", m)
					}
				}
			})
			t.Run("other_methods_get_405", func(t *testing.T) {
				for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodTrace, "BREW"} {
					if slices.Contains(methods, m) {
						continue
					}
					resp := do(t, m, p, nil)
					var e struct {
						Error string `json:"error"`
					}
					if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" ||
						json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error != "invalid_request" {
						t.Errorf("%s: %d with Allow %q and error %q, want 405 invalid_request with Allow", m,
							resp.StatusCode, resp.Header.Get("Allow"), e.Error)
					}
					for _, served := range methods {
						if !strings.Contains(resp.Header.Get("Allow"), served) {
							t.Errorf("%s: Allow %q does not name %s", m, resp.Header.Get("Allow"), served)
						}
					}
				}
			})
		})
	}
}
