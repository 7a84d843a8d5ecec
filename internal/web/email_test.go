package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/testserver"
)

// TestSupportRefusesRoutingEmailForms: the support API and form refuse a domain literal
// and "%" in the e-mail address with a 400 that says why, and send nothing.
func TestSupportRefusesRoutingEmailForms(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	for _, tc := range []struct{ email, reason string }{
		{"ada@[127.0.0.1]", "IP address in brackets"},
		{"ada@[IPv6:::1]", "IP address in brackets"},
		{"ada%evil.example@example.com", "percent sign"},
		{"ada@example.com%evil.example", "percent sign"},
	} {
		t.Run(tc.email, func(t *testing.T) {
			r := srv.Client(t).PostJSON("/api/v1/support/cases", supCase(tc.email))
			detail := supProblem(t, r, http.StatusBadRequest, "bad_request")
			if !strings.Contains(detail, "email") || !strings.Contains(detail, tc.reason) {
				t.Errorf("API detail %q does not name the field and say %q", detail, tc.reason)
			}
			v := url.Values{}
			for k, x := range supCase(tc.email) {
				v.Set(k, x)
			}
			page := postForm(srv.Client(t), "/support", v)
			wantStatus(t, page, http.StatusBadRequest)
			if !strings.Contains(html.UnescapeString(string(page.Body)), tc.reason) {
				t.Errorf("the form's page does not say %q:\n%s", tc.reason, page.Body)
			}
		})
	}
	if n := len(srv.Mail(t)); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
}
