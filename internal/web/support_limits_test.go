package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/testutil"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// behindProxy trusts the test client's own address as a reverse proxy, so X-Forwarded-For
// chooses the client address.
var behindProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// caseAnswer is what opening a case answered, reduced to what an observer can compare.
type caseAnswer struct {
	status      int
	contentType string
	location    string   // the form: where the browser goes, the reference replaced by TF-X
	keys        []string // the API: the JSON fields
}

var refInText = regexp.MustCompile(`TF-[234679ACDEFGHJKMNPQRTWXYZ]{6}`)

// openCaseVia opens a case for email from the client address xff ("" for none) through the
// HTML form (form true) or the JSON API.
func openCaseVia(t *testing.T, srv *testserver.Server, form bool, xff, email string) rawResult {
	t.Helper()
	h := http.Header{}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	c := srv.Client(t)
	var r rawResult
	if form {
		v := url.Values{}
		for k, x := range supCase(email) {
			v.Set(k, x)
		}
		r = rawDo(srv, c, http.MethodPost, "/support", "application/x-www-form-urlencoded", []byte(v.Encode()), h)
	} else {
		b, _ := json.Marshal(supCase(email))
		r = rawDo(srv, c, http.MethodPost, "/api/v1/support/cases", "application/json", b, h)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r
}

// answerOf reduces r to what an observer sees.
func answerOf(t *testing.T, r rawResult) caseAnswer {
	t.Helper()
	a := caseAnswer{status: r.status, contentType: r.header.Get("Content-Type"),
		location: refInText.ReplaceAllString(r.header.Get("Location"), "TF-X")}
	if strings.HasPrefix(a.contentType, "application/") {
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatalf("answer %d is not JSON: %s", r.status, r.body)
		}
		for k := range m {
			a.keys = append(a.keys, k)
		}
		slices.Sort(a.keys)
	}
	return a
}

// wantOpened fails unless r is the answer to an opened case.
func wantOpened(t *testing.T, r rawResult, what string) {
	t.Helper()
	if r.status != http.StatusAccepted && r.status != http.StatusSeeOther {
		t.Fatalf("%s: %d, want the case opened: %s", what, r.status, r.body)
	}
}

// wantRefused fails unless r is a 429 with Retry-After.
func wantRefused(t *testing.T, r rawResult, what string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: %d (Retry-After %q), want 429: %s", what, r.status, r.header.Get("Retry-After"), r.body)
	}
}

// TestSupportLimitIsPerIPv6Slash64: the per-address limit on opening cases counts a whole
// IPv6 /64 as one address, whether the cases come through the form or the API.
func TestSupportLimitIsPerIPv6Slash64(t *testing.T) {
	srv := testserver.New(t, testserver.Options{TrustedProxies: behindProxy,
		Support: testserver.SupportOptions{CasesPerIPHour: 4}})
	for i := 1; i <= 4; i++ {
		xff := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 14: byte(i), 15: byte(i * 7)}).String()
		wantOpened(t, openCaseVia(t, srv, i%2 == 0, xff, "user"+string(rune('a'+i))+"@example.com"), "case "+xff)
	}
	wantRefused(t, openCaseVia(t, srv, true, "2001:db8:1:2::ffff", "x@example.com"), "the form from the same /64")
	wantRefused(t, openCaseVia(t, srv, false, "2001:db8:1:2:ffff:ffff:ffff:ffff", "y@example.com"), "the API from the same /64")
	wantOpened(t, openCaseVia(t, srv, true, "2001:db8:1:3::1", "z@example.com"), "the form from another /64")
	wantOpened(t, openCaseVia(t, srv, false, "2001:db8:1:3::2", "w@example.com"), "the API from another /64")
	// IPv4 keeps one address per client.
	wantOpened(t, openCaseVia(t, srv, false, "192.0.2.1", "v@example.com"), "an IPv4 client")
}

// TestSupportEmailLimitFoldsTagsAndCase: alice@x, alice+1@x and Alice+2@X are one address
// for the per-e-mail limit.
func TestSupportEmailLimitFoldsTagsAndCase(t *testing.T) {
	srv := testserver.New(t, testserver.Options{TrustedProxies: behindProxy,
		Support: testserver.SupportOptions{CasesPerEmailHour: 2}})
	wantOpened(t, openCaseVia(t, srv, true, "192.0.2.1", "alice@example.com"), "first")
	wantOpened(t, openCaseVia(t, srv, false, "192.0.2.2", "alice+1@example.com"), "second, tagged")
	wantRefused(t, openCaseVia(t, srv, true, "192.0.2.3", "Alice+2@EXAMPLE.com"), "the form, tagged and upper case")
	wantRefused(t, openCaseVia(t, srv, false, "192.0.2.4", "ALICE+@example.com"), "the API, empty tag")
	wantOpened(t, openCaseVia(t, srv, false, "192.0.2.5", "alicia@example.com"), "another address")
	wantOpened(t, openCaseVia(t, srv, false, "192.0.2.6", "alice@example.org"), "another domain")
}

// TestSupportFormIsUnderTheGuard: the HTML form counts against the same per-address rate
// as the API, so it cannot be used to go around it.
func TestSupportFormIsUnderTheGuard(t *testing.T) {
	srv := testserver.New(t, testserver.Options{TrustedProxies: behindProxy,
		RateLimits: web.RateLimits{API: throttle.Rate{PerSecond: 0.001, Burst: 3}}})
	wantOpened(t, openCaseVia(t, srv, true, "2001:db8:5::1", "a@example.com"), "form 1")
	wantOpened(t, openCaseVia(t, srv, false, "2001:db8:5::2", "b@example.com"), "API 1")
	wantOpened(t, openCaseVia(t, srv, true, "2001:db8:5::3", "c@example.com"), "form 2")
	r := openCaseVia(t, srv, true, "2001:db8:5::4", "d@example.com")
	wantRefused(t, r, "form 3, over the rate")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("the form was refused with %q, want a page", r.header.Get("Content-Type"))
	}
	wantRefused(t, openCaseVia(t, srv, false, "2001:db8:5::5", "e@example.com"), "API 2, over the rate")
	wantOpened(t, openCaseVia(t, srv, true, "2001:db8:6::1", "f@example.com"), "the form from another /64")
}

// capAudits counts the audit rows of the mail cap.
func capAudits(t *testing.T, st store.Store) int {
	t.Helper()
	events, err := st.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Event == audit.SupportMailCapped {
			n++
		}
	}
	return n
}

// TestSupportMailCap: past support_mails_per_hour, opening a case answers exactly as
// before but sends no mail, and the first refusal of each hour is audited once.
func TestSupportMailCap(t *testing.T) {
	srv := testserver.New(t, testserver.Options{TrustedProxies: behindProxy,
		Support: testserver.SupportOptions{MailsPerHour: 2}})
	var sent, capped []caseAnswer
	for i, form := range []bool{true, false, true, false, true, false} {
		xff := "192.0.2." + string(rune('1'+i))
		r := openCaseVia(t, srv, form, xff, "user"+string(rune('a'+i))+"@example.com")
		wantOpened(t, r, "case "+xff)
		if i < 2 {
			sent = append(sent, answerOf(t, r))
		} else {
			capped = append(capped, answerOf(t, r))
		}
	}
	if n := len(srv.Mail(t)); n != 2 {
		t.Fatalf("%d mails sent, want 2 (the cap)", n)
	}
	for i, a := range capped {
		if want := sent[i%2]; a.status != want.status || a.contentType != want.contentType || a.location != want.location ||
			!slices.Equal(a.keys, want.keys) {
			t.Errorf("answer past the cap %+v, before it %+v: they differ", a, want)
		}
	}
	if n := capAudits(t, srv.Store); n != 1 {
		t.Fatalf("%d %s rows, want 1 for the hour", n, audit.SupportMailCapped)
	}

	// The next hour has a budget of its own, and one audit row when it runs out.
	srv.Clock.Advance(time.Hour)
	for i := range 4 {
		wantOpened(t, openCaseVia(t, srv, false, "198.51.100."+string(rune('1'+i)), "next"+string(rune('a'+i))+"@example.com"), "next hour")
	}
	if n := len(srv.Mail(t)); n != 4 {
		t.Fatalf("%d mails sent over two hours, want 4", n)
	}
	if n := capAudits(t, srv.Store); n != 2 {
		t.Fatalf("%d %s rows over two hours, want 2", n, audit.SupportMailCapped)
	}
}

// TestSupportMailCapAcrossInstances: two instances on one PostgreSQL database share the
// mail cap.
func TestSupportMailCapAcrossInstances(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	clock := testserver.NewClock()
	o := testserver.Options{DatabaseURL: dsn, Clock: clock, TrustedProxies: behindProxy,
		Support: testserver.SupportOptions{MailsPerHour: 3}}
	a, b := testserver.New(t, o), testserver.New(t, o)
	for i := range 6 {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wantOpened(t, openCaseVia(t, srv, i%3 == 0, "192.0.2."+string(rune('1'+i)), "inst"+string(rune('a'+i))+"@example.com"), "case")
	}
	if n := len(a.Mail(t)) + len(b.Mail(t)); n != 3 {
		t.Fatalf("%d mails sent by two instances, want 3 (the shared cap)", n)
	}
	if n := capAudits(t, a.Store); n != 1 {
		t.Fatalf("%d %s rows, want 1", n, audit.SupportMailCapped)
	}
}
