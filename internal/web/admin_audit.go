package web

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// auditRoutes registers the audit log's API, console page and export.
func (s *Server) auditRoutes(rt *router) {
	rt.admin("GET /api/v1/admin/audit", admin.ScopeAuditRead, s.apiAudit)
	rt.admin("GET /admin/audit", admin.ScopeAuditRead, s.auditPage)
	rt.admin("GET /admin/audit/export", admin.ScopeAuditRead, s.auditExport)
}

// AuditEntry is an audit event as the admin API shows it. Actor and Subject are the
// usernames of ActorID and SubjectID (for an API token actor, "token " and its name);
// null when there is no such account (any more), or no actor.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Event     string    `json:"event"`
	ActorID   *string   `json:"actor_id"`
	Actor     *string   `json:"actor"`
	SubjectID *string   `json:"subject_id"`
	Subject   *string   `json:"subject"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail"`
	// Count is how many times a counted event happened (1 for others).
	Count int `json:"count"`
}

// auditBatch is how many events an export reads at a time: its memory, whatever the size
// of the log.
const auditBatch = 1000

// Audit filter bounds.
const (
	maxAuditUser  = 200
	maxAuditEvent = 100
	maxAuditIP    = 64
)

// auditQuery reads the audit filters of r: user (username, e-mail or id), event (a name,
// or a prefix ending in *), ip, since and until (RFC 3339, a date, or a date and time
// without zone in UTC; until a bare date takes that whole day). Bad input is a 400 naming
// the parameter.
func (s *Server) auditQuery(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	var f store.AuditFilter
	bad := func(field, key string, args ...any) error {
		return apperr.Msg(apperr.CodeBadRequest, key, args...).In(field)
	}
	if u := strings.TrimSpace(q.Get("user")); u != "" {
		if len(u) > maxAuditUser || !printable(u) {
			return f, bad("user", "audit.err_user", "Max", maxAuditUser)
		}
		f.UserID = u
		if found, err := s.auth.FindUser(r.Context(), u); err == nil {
			f.UserID = found.ID
		} else if e, ok := apperr.As(err); !ok || e.Code != apperr.CodeNotFound {
			return f, err
		}
		// No account by that name: the text is taken as an id (a deleted account's, or
		// "token:ID" for an API token's actions).
	}
	if ev := strings.TrimSpace(q.Get("event")); ev != "" {
		if len(ev) > maxAuditEvent || !validEventFilter(ev) {
			return f, bad("event", "audit.err_event")
		}
		f.Event = ev
	}
	if ip := strings.TrimSpace(q.Get("ip")); ip != "" {
		if len(ip) > maxAuditIP || !printable(ip) {
			return f, bad("ip", "audit.err_ip", "Max", maxAuditIP)
		}
		f.IP = ip
	}
	var err error
	if f.Since, err = parseAuditTime(q.Get("since"), false); err != nil {
		return f, bad("since", timeKey(err), "Field", "since")
	}
	if f.Until, err = parseAuditTime(q.Get("until"), true); err != nil {
		return f, bad("until", timeKey(err), "Field", "until")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, bad("until", "audit.err_until")
	}
	return f, nil
}

// parseAuditTime reads a time filter; "" is none. A bare date is midnight UTC, or with
// endOfDay the midnight after it. The years 1970 to 9999 are the range of what is read,
// so with endOfDay 9999-12-31 is read as the first instant of the year 10000.
func parseAuditTime(v string, endOfDay bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if len(v) <= 40 {
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			if _, err := auditTimeInRange(t); err != nil {
				return time.Time{}, err
			}
			if endOfDay {
				t = t.AddDate(0, 0, 1)
			}
			return t, nil
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(layout, v); err == nil {
				return auditTimeInRange(t.UTC())
			}
		}
	}
	return time.Time{}, errBadTime
}

// The ways a time filter is refused.
var (
	errBadTime   = errors.New("not a date or time")
	errTimeRange = errors.New("outside the years 1970 to 9999")
)

// timeKey is the catalog key of a refused time filter.
func timeKey(err error) string {
	if errors.Is(err, errTimeRange) {
		return "audit.err_time_range"
	}
	return "audit.err_time"
}

func auditTimeInRange(t time.Time) (time.Time, error) {
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, errTimeRange
	}
	return t, nil
}

// validEventFilter: letters, digits, '.', '_' and '-', optionally ending in '*'.
func validEventFilter(ev string) bool {
	body := strings.TrimSuffix(ev, "*")
	for _, c := range body {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// printable reports text without control characters, valid UTF-8.
func printable(v string) bool {
	return strings.ToValidUTF8(v, "\uFFFD") == v && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// auditCursor reads ?cursor= and ?limit=: the id the page continues below, and its size.
func auditCursor(r *http.Request) (int64, int, error) {
	c, limit, err := pageParams(r, listAudit)
	if err != nil {
		return 0, 0, err
	}
	if c.IsZero() {
		return 0, limit, nil
	}
	id, err := strconv.ParseInt(c.ID, 10, 64)
	if err != nil || id < 1 || !c.At.IsZero() {
		return 0, 0, apperr.Msg(apperr.CodeBadRequest, "err.admin_cursor").In("cursor")
	}
	return id, limit, nil
}

// auditEvents reads one page of events: the events and the id the next page continues
// below (0 on the last page).
func (s *Server) auditEvents(r *http.Request, f store.AuditFilter, before int64, limit int) ([]store.AuditEvent, int64, error) {
	f.BeforeID, f.Limit = before, limit+1
	events, err := s.auth.Store().ListAudit(r.Context(), f)
	if err != nil {
		return nil, 0, err
	}
	if len(events) > limit {
		return events[:limit], events[limit-1].ID, nil
	}
	return events, 0, nil
}

// Export formats of the audit log.
const (
	exportCSV    = "csv"
	exportNDJSON = "ndjson"
)

// exportFormat is the export r asks for, by ?format= (csv, ndjson; json for a page) or
// else by its Accept header (text/csv, application/x-ndjson); "" for a page of JSON.
func exportFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case exportCSV, exportNDJSON:
		return f, nil
	case "json":
		return "", nil
	case "":
	default:
		return "", apperr.Msg(apperr.CodeBadRequest, "audit.err_format").In("format")
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "text/csv":
			return exportCSV, nil
		case "application/x-ndjson", "application/jsonl":
			return exportNDJSON, nil
		}
	}
	return "", nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	if format != "" {
		return s.writeAuditExport(w, r, f, format)
	}
	before, limit, err := auditCursor(r)
	if err != nil {
		return err
	}
	events, next, err := s.auditEvents(r, f, before, limit)
	if err != nil {
		return err
	}
	names := s.auditNames(r)
	var cur store.Cursor
	if next > 0 {
		cur = store.Cursor{ID: strconv.FormatInt(next, 10)}
	}
	writeJSON(w, http.StatusOK, pageOf(listAudit, events, cur, func(e *store.AuditEvent) AuditEntry { return auditJSON(*e, names) }))
	return nil
}

func auditJSON(e store.AuditEvent, names func(string) *string) AuditEntry {
	out := AuditEntry{ID: e.ID, At: e.At.UTC(), Event: e.Event, ActorID: optString(e.ActorID), SubjectID: optString(e.SubjectID),
		IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail, Count: max(e.Count, 1)}
	if e.ActorID != "" {
		out.Actor = names(e.ActorID)
	}
	if e.SubjectID != "" {
		out.Subject = names(e.SubjectID)
	}
	return out
}

// auditNames names the actors and subjects of events: usernames, and "token NAME" for API
// tokens; each looked up once per request (up to a bound, so an export's memory stays flat).
func (s *Server) auditNames(r *http.Request) func(string) *string {
	users := s.usernames(r)
	return func(id string) *string {
		if tokID, ok := strings.CutPrefix(id, audit.TokenActorPrefix); ok {
			if s.tokens == nil {
				return nil
			}
			if t, err := s.tokens.Get(r.Context(), tokID); err == nil {
				n := "token " + t.Name
				return &n
			}
			return nil
		}
		return users(id)
	}
}

// writeAuditExport streams every event f matches, newest first, as CSV or JSON Lines. It
// reads the log in batches of auditBatch by id (a keyset walk: events appended meanwhile
// are not included, none is repeated or skipped), writes and flushes each batch before it
// reads the next, so memory stays flat for any number of rows. A failure after the first
// batch aborts the connection, so a partial file never looks complete.
func (s *Server) writeAuditExport(w http.ResponseWriter, r *http.Request, f store.AuditFilter, format string) error {
	f.Limit = auditBatch
	batch, err := s.auth.Store().ListAudit(r.Context(), f)
	if err != nil {
		return err // nothing sent yet: a problem document
	}
	ext, ctype := "csv", "text/csv; charset=utf-8"
	if format == exportNDJSON {
		ext, ctype = "jsonl", "application/x-ndjson"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="twofold-audit-`+s.auth.Now().UTC().Format("20060102T150405Z")+`.`+ext+`"`)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, 32<<10)
	var cw *csv.Writer
	var enc *json.Encoder
	if format == exportCSV {
		cw = csv.NewWriter(bw)
		_ = cw.Write([]string{"id", "at", "event", "actor_id", "actor", "subject_id", "subject", "ip", "user_agent", "detail", "count"})
	} else {
		enc = json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
	}
	names := s.auditNames(r)
	for {
		// Each batch gets its own write deadline: an export of millions of rows outlasts
		// the server's write timeout, which is for ordinary answers.
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		for _, e := range batch {
			a := auditJSON(e, names)
			if cw != nil {
				err = cw.Write(csvCells(strconv.FormatInt(a.ID, 10), a.At.Format(time.RFC3339Nano), a.Event, deref(a.ActorID),
					deref(a.Actor), deref(a.SubjectID), deref(a.Subject), a.IP, a.UserAgent, a.Detail, strconv.Itoa(a.Count)))
			} else {
				err = enc.Encode(a)
			}
			if err != nil {
				break
			}
		}
		if cw != nil && err == nil {
			cw.Flush()
			err = cw.Error()
		}
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = rc.Flush()
		}
		if err == nil && len(batch) == auditBatch {
			f.BeforeID = batch[len(batch)-1].ID
			batch, err = s.auth.Store().ListAudit(r.Context(), f)
			if err == nil {
				continue
			}
		}
		if err != nil {
			if r.Context().Err() == nil {
				s.log.ErrorContext(r.Context(), "audit export failed", "err", err)
			}
			panic(http.ErrAbortHandler)
		}
		return nil
	}
}

// csvCells makes cells safe to open in a spreadsheet: a cell that starts with =, +, -, @,
// a tab or a carriage return would be read as a formula, so it gets a leading '.
func csvCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// auditPageData is the audit log page.
type auditPageData struct {
	User, Event, IP, Since, Until string
	Events                        []AuditEntry
	// Next is the page of older events; empty on the last page.
	Next string
	// First links back to the newest events when the page is not the first.
	First string
	// ExportCSV and ExportNDJSON download every event the filters match.
	ExportCSV, ExportNDJSON string
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := auditPageData{User: q.Get("user"), Event: q.Get("event"), IP: q.Get("ip"), Since: q.Get("since"), Until: q.Get("until")}
	show := func(err error) error {
		return onForm(err, func(status int, msg formProblem) error {
			s.render(w, r, status, "admin_audit", view{Title: s.tr(r, "admin.section.audit"), Error: msg.Message, Field: "audit-" + msg.Field, Data: d})
			return nil
		})
	}
	f, err := s.auditQuery(r)
	if err != nil {
		return show(err)
	}
	before, limit, err := auditCursor(r)
	if err != nil {
		return show(err)
	}
	events, next, err := s.auditEvents(r, f, before, limit)
	if err != nil {
		return err
	}
	names := s.auditNames(r)
	for _, e := range events {
		d.Events = append(d.Events, auditJSON(e, names))
	}
	filters := url.Values{}
	for _, k := range []string{"user", "event", "ip", "since", "until"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			filters.Set(k, v)
		}
	}
	if q.Get("limit") != "" {
		filters.Set("limit", q.Get("limit"))
	}
	for _, x := range []struct {
		to     *string
		format string
	}{{&d.ExportCSV, exportCSV}, {&d.ExportNDJSON, exportNDJSON}} {
		v := url.Values{"format": {x.format}}
		for k, vs := range filters {
			if k != "limit" {
				v[k] = vs
			}
		}
		*x.to = "/admin/audit/export?" + v.Encode()
	}
	if next > 0 {
		v := url.Values{}
		for k, vs := range filters {
			v[k] = vs
		}
		v.Set("cursor", store.Cursor{ID: strconv.FormatInt(next, 10)}.Encode(listAudit))
		d.Next = "/admin/audit?" + v.Encode()
	}
	if before > 0 {
		d.First = "/admin/audit?" + filters.Encode()
	}
	s.render(w, r, http.StatusOK, "admin_audit", view{Title: s.tr(r, "admin.section.audit"), Data: d})
	return nil
}

// auditExport is the console's download of the filtered log (?format=csv or ndjson).
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditQuery(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != exportCSV && format != exportNDJSON {
		return apperr.Msg(apperr.CodeBadRequest, "audit.err_export_format")
	}
	return s.writeAuditExport(w, r, f, format)
}
