package web_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/testserver"
	"github.com/twofold-id/twofold/internal/web"
)

// appendEvents appends events to the server's log in one transaction.
func appendEvents(t *testing.T, srv *testserver.Server, events ...store.AuditEvent) {
	t.Helper()
	err := srv.Store.WithTx(context.Background(), func(tx store.Store) error {
		for i := range events {
			if err := tx.AppendAudit(context.Background(), &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func auditPage(t *testing.T, c *testserver.Client, query string) web.Page[web.AuditEntry] {
	t.Helper()
	r := c.Get("/api/v1/admin/audit?" + query)
	wantStatus(t, r, http.StatusOK)
	return decode[web.Page[web.AuditEntry]](t, r)
}

func eventNames(p web.Page[web.AuditEntry]) string {
	var names []string
	for _, e := range p.Items {
		names = append(names, e.Event)
	}
	return strings.Join(names, " ")
}

// TestAuditAPI: the audit log's filters, its pagination (stable while events are
// appended) and its refusals of bad input, with a session and with a token.
func TestAuditAPI(t *testing.T) {
	srv, root := adminServer(t)
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	day := time.Date(2031, 5, 6, 0, 0, 0, 0, time.UTC)
	appendEvents(t, srv,
		store.AuditEvent{At: day.Add(time.Hour), Event: "t.login.failed", SubjectID: ada.ID, IP: "192.0.2.1"},
		store.AuditEvent{At: day.Add(2 * time.Hour), Event: "t.login.succeeded", ActorID: ada.ID, SubjectID: ada.ID, IP: "192.0.2.2"},
		store.AuditEvent{At: day.Add(26 * time.Hour), Event: "t.user.disabled", ActorID: "token:abc", SubjectID: ada.ID, IP: "198.51.100.9"},
		store.AuditEvent{At: day.Add(50 * time.Hour), Event: "t.other", SubjectID: "gone", IP: "192.0.2.1"},
	)
	for _, tc := range []struct{ query, want string }{
		{"event=t.login.failed", "t.login.failed"},
		{"event=t.login.*", "t.login.succeeded t.login.failed"},
		{"event=t.*&user=ada", "t.user.disabled t.login.succeeded t.login.failed"},
		{"event=t.*&user=ADA%40example.com", "t.user.disabled t.login.succeeded t.login.failed"},
		{"event=t.*&user=" + ada.ID, "t.user.disabled t.login.succeeded t.login.failed"},
		{"event=t.*&user=gone", "t.other"},
		{"event=t.*&user=token:abc", "t.user.disabled"},
		{"event=t.*&ip=192.0.2.1", "t.other t.login.failed"},
		{"event=t.*&since=2031-05-07", "t.other t.user.disabled"},
		{"event=t.*&until=2031-05-06", "t.login.succeeded t.login.failed"},
		{"event=t.*&since=2031-05-06T01:30&until=2031-05-07T12:00:00Z", "t.user.disabled t.login.succeeded"},
		{"event=t.*&since=2031-05-06T01:30:00%2B02:00&until=2031-05-06T02:00:00Z", "t.login.failed"},
		{"event=nothing", ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			if got := eventNames(auditPage(t, root, tc.query)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	p := auditPage(t, root, "event=t.user.disabled")
	if e := p.Items[0]; e.Actor != nil || *e.ActorID != "token:abc" || *e.Subject != "ada" || e.Count != 1 {
		t.Errorf("event %+v: want the subject's username, and the id of a token that no longer exists without a name", e)
	}

	// Pages: three at a time, stable while events are appended between them.
	var all []store.AuditEvent
	for i := range 7 {
		all = append(all, store.AuditEvent{At: day.Add(time.Duration(i) * time.Minute), Event: "p.page", Detail: fmt.Sprint(i)})
	}
	appendEvents(t, srv, all...)
	var seen []string
	query := "event=p.*&limit=3"
	for pages := 0; ; pages++ {
		p := auditPage(t, root, query)
		for _, e := range p.Items {
			seen = append(seen, e.Detail)
		}
		appendEvents(t, srv, store.AuditEvent{At: day, Event: "p.page", Detail: "late"})
		if p.NextCursor == nil {
			break
		}
		if pages > 5 {
			t.Fatal("the pages never end")
		}
		query = "event=p.*&limit=3&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if got := strings.Join(seen, ","); got != "6,5,4,3,2,1,0" {
		t.Fatalf("pages gave %s, want every event once, newest first", got)
	}

	// The same with a token holding audit:read.
	tok := issueToken(t, srv, "audit:read")
	r := withBearer(t, srv, tok, http.MethodGet, "/api/v1/admin/audit?event=t.login.*", nil)
	wantStatus(t, r, http.StatusOK)
	if got := eventNames(decode[web.Page[web.AuditEntry]](t, r)); got != "t.login.succeeded t.login.failed" {
		t.Fatalf("with a token: %q", got)
	}

	for _, q := range []string{
		"limit=0", "limit=501", "limit=1000000000000", "limit=-1", "limit=x",
		"cursor=!!!", "cursor=" + url.QueryEscape(store.Cursor{ID: "abc"}.Encode("audit")), "cursor=" + url.QueryEscape(store.Cursor{ID: "-5"}.Encode("audit")),
		"cursor=" + url.QueryEscape(store.Cursor{At: day, ID: "5"}.Encode("audit")), "cursor=" + strings.Repeat("A", 1000),
		"since=yesterday", "since=2031-13-01", "until=2031-05-06T25:00", "since=2031-05-07&until=2031-05-06", "since=0001-01-01",
		"since=" + strings.Repeat("9", 100), "event=a%20b", "event=login.*.*", "event=" + strings.Repeat("e", 101), "event=%00",
		"user=a%01b", "user=" + strings.Repeat("u", 201), "ip=" + strings.Repeat("1", 65), "ip=a%0ab", "format=xml",
	} {
		t.Run("bad "+q, func(t *testing.T) {
			wantProblem(t, root.Get("/api/v1/admin/audit?"+q), http.StatusBadRequest, "bad_request")
		})
	}
	// Given twice: which one counts is not for the server to guess.
	for _, q := range []string{"limit=1&limit=500", "format=csv&format=ndjson", "event=login.*&event=mfa.*"} {
		r := root.Get("/api/v1/admin/audit?" + q)
		wantProblem(t, r, http.StatusBadRequest, "bad_request")
		if d, _ := r.JSON(t)["detail"].(string); !strings.Contains(d, "given 2 times") {
			t.Errorf("%s: detail %q does not say the parameter is given twice", q, d)
		}
	}
}

// exportOf fetches the export of query with accept and returns the answer.
func exportOf(t *testing.T, c *testserver.Client, srv *testserver.Server, query, accept string) rawResult {
	t.Helper()
	res := rawDo(srv, c, http.MethodGet, "/api/v1/admin/audit?"+query, "", nil, http.Header{"Accept": {accept}})
	if res.err != nil || res.status != http.StatusOK {
		t.Fatalf("export %s as %s: %d %v %s", query, accept, res.status, res.err, res.body)
	}
	return res
}

// TestAuditExport: with Accept text/csv or application/x-ndjson the API streams every
// matching event, across batches, with formula-safe CSV cells; the console links to the
// same export.
func TestAuditExport(t *testing.T) {
	srv, root := adminServer(t)
	const n = 2345 // more than two batches
	events := make([]store.AuditEvent, n)
	for i := range events {
		events[i] = store.AuditEvent{At: testserver.Start.Add(time.Duration(i) * time.Second), Event: "x.bulk", IP: "192.0.2.3", Detail: fmt.Sprint(i)}
	}
	events[7].Detail, events[8].Detail, events[9].UserAgent = "=HYPERLINK(\"http://evil\")", "-2+3", "@SUM(A1)"
	appendEvents(t, srv, events...)
	appendEvents(t, srv, store.AuditEvent{At: testserver.Start, Event: "x.other", Detail: "not exported"})

	res := exportOf(t, root, srv, "event=x.bulk&limit=5&cursor=ignored", "text/csv")
	if ct, cd := res.header.Get("Content-Type"), res.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(cd, `attachment; filename="twofold-audit-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Fatalf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 || strings.Join(rows[0], ",") != "id,at,event,actor_id,actor,subject_id,subject,ip,user_agent,detail,count" {
		t.Fatalf("%d rows (header %v), want a header and %d events", len(rows), rows[0], n)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		if row[2] != "x.bulk" || seen[row[0]] {
			t.Fatalf("row %v: want each x.bulk event once", row)
		}
		seen[row[0]] = true
	}
	if rows[1][9] != fmt.Sprint(n-1) || rows[n][9] != "0" {
		t.Fatalf("first %v, last %v: want newest first", rows[1], rows[n])
	}
	body := string(res.body)
	for _, want := range []string{`"'=HYPERLINK(""http://evil"")"`, ",'-2+3,", ",'@SUM(A1),"} {
		if !strings.Contains(body, want) {
			t.Errorf("CSV lacks the defused cell %s", want)
		}
	}

	res = exportOf(t, root, srv, "event=x.bulk", "application/x-ndjson")
	if ct := res.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(strings.NewReader(string(res.body)))
	lines := 0
	for sc.Scan() {
		var e web.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Event != "x.bulk" {
			t.Fatalf("line %d %q: %v", lines, sc.Text(), err)
		}
		lines++
	}
	if lines != n {
		t.Fatalf("%d JSON lines, want %d", lines, n)
	}

	// A token with audit:read exports too; the console's link gives the same rows.
	tok := issueToken(t, srv, "audit:read")
	r := rawDo(srv, srv.Client(t), http.MethodGet, "/api/v1/admin/audit?event=x.other&format=csv", "", nil, http.Header{"Authorization": {"Bearer " + tok}})
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "not exported") {
		t.Fatalf("token export: %d %s", r.status, r.body)
	}
	page := root.Get("/admin/audit?event=x.bulk")
	wantPage(t, page, http.StatusOK, "x.bulk", "/admin/audit/export?event=x.bulk&format=csv", "Older events")
	r = rawDo(srv, root, http.MethodGet, "/admin/audit/export?event=x.bulk&format=ndjson", "", nil, nil)
	if r.status != http.StatusOK || strings.Count(string(r.body), "\n") != n {
		t.Fatalf("console export: %d, %d lines", r.status, strings.Count(string(r.body), "\n"))
	}
	wantPage(t, root.Get("/admin/audit/export?event=x.bulk&format=xml"), http.StatusBadRequest)
}

// TestAuditTimeBounds: since and until take the years 1970 to 9999, whole days
// included: until=9999-12-31 is the end of that day, on the API, its export and the
// console, while a year outside the range is a 400 everywhere.
func TestAuditTimeBounds(t *testing.T) {
	srv, root := adminServer(t)
	appendEvents(t, srv, store.AuditEvent{At: time.Date(2031, 5, 6, 0, 0, 0, 0, time.UTC), Event: "b.bound", Detail: "bound-event"})
	endpoints := []string{
		"/api/v1/admin/audit?event=b.*&",
		"/api/v1/admin/audit?event=b.*&format=csv&",
		"/api/v1/admin/audit?event=b.*&format=ndjson&",
		"/admin/audit?event=b.*&",
		"/admin/audit/export?event=b.*&format=csv&",
	}
	for _, tc := range []struct {
		query  string
		status int
		found  bool   // whether the event is in the answer
		says   string // what a 400 says
	}{
		{"until=9999-12-31", http.StatusOK, true, ""},
		{"since=9999-12-31", http.StatusOK, false, ""},
		{"since=9999-12-31&until=9999-12-31", http.StatusOK, false, ""},
		{"since=2031-05-06&until=9999-12-31", http.StatusOK, true, ""},
		{"until=9999-12-31T23:59:59.999Z", http.StatusOK, true, ""},
		{"since=1970-01-01", http.StatusOK, true, ""},
		{"until=1970-01-01", http.StatusOK, false, ""},
		{"until=10000-01-01", http.StatusBadRequest, false, "until must be"},
		{"since=10000-01-01", http.StatusBadRequest, false, "since must be"},
		{"until=10000-01-01T00:00:00Z", http.StatusBadRequest, false, "until must be"},
		{"until=1969-12-31", http.StatusBadRequest, false, "until must be between the years 1970 and 9999"},
		{"since=1969-12-31T23:59:59Z", http.StatusBadRequest, false, "since must be between the years 1970 and 9999"},
	} {
		for _, e := range endpoints {
			t.Run(e+tc.query, func(t *testing.T) {
				r := rawDo(srv, root, http.MethodGet, e+tc.query, "", nil, nil)
				if r.err != nil || r.status != tc.status {
					t.Fatalf("%d %v, want %d: %s", r.status, r.err, tc.status, r.body)
				}
				if found := strings.Contains(string(r.body), "bound-event"); tc.status == http.StatusOK && found != tc.found {
					t.Fatalf("the event is in the answer: %v, want %v: %s", found, tc.found, r.body)
				}
				if !strings.Contains(string(r.body), tc.says) {
					t.Fatalf("the answer does not say %q: %s", tc.says, r.body)
				}
			})
		}
	}
}

// TestAuditConsole: the page filters and pages the log, and shows a bad filter at its field.
func TestAuditConsole(t *testing.T) {
	srv, root := adminServer(t)
	ada := srv.CreateUser(t, "ada", "ada@example.com", "user")
	for i := range 60 {
		appendEvents(t, srv, store.AuditEvent{At: testserver.Start.Add(time.Duration(i) * time.Second), Event: "c.event", SubjectID: ada.ID, Detail: fmt.Sprint("n", i)})
	}
	r := root.Get("/admin/audit?event=c.*&user=ada")
	wantPage(t, r, http.StatusOK, "n59", "ada", `href="/admin/audit?cursor=`, "Older events")
	if strings.Contains(string(r.Body), "n9<") {
		t.Fatal("the first page shows the 51st event")
	}
	next := regexpFind(t, string(r.Body), `href="/admin/audit\?([^"]+)" rel="next"`)
	r = root.Get("/admin/audit?" + strings.ReplaceAll(next, "&amp;", "&"))
	wantPage(t, r, http.StatusOK, "n9", "Newest events")
	wantPage(t, root.Get("/admin/audit?since=tomorrow"), http.StatusBadRequest, `id="audit-since-error"`, `aria-invalid="true"`)
	wantPage(t, root.Get("/admin/audit?cursor=zzz"), http.StatusBadRequest, "cursor")
}

func regexpFind(t *testing.T, s, expr string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in %s", expr, s)
	}
	return m[1]
}
