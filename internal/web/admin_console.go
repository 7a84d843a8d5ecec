package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// adminRoutes registers the admin console (/admin) and the admin API (/api/v1/admin), each
// behind level admin with the scope it needs (router.admin).
func (s *Server) adminRoutes(rt *router) {
	rt.admin("GET /admin", admin.ScopeUsersRead, s.adminHome)
	s.adminUserRoutes(rt)
	s.tokenRoutes(rt)
	s.auditRoutes(rt)
}

// adminSection is one part of the console in its navigation; Label is a catalog key.
type adminSection struct{ Path, Label string }

// adminSections are the console's parts, in the order its navigation shows them; the
// navigation links only to those whose page is registered.
var adminSections = []adminSection{
	{"/admin/users", "admin.section.users"},
	{"/admin/audit", "admin.section.audit"},
	{"/admin/clients", "admin.section.clients"},
	{"/admin/keys", "admin.section.keys"},
	{"/admin/settings", "admin.section.settings"},
	{"/admin/tokens", "admin.section.tokens"},
}

// consoleNav returns the console's sections that have a page, marking the one path is in.
func (s *Server) consoleNav(path string) []consoleLink {
	var out []consoleLink
	for _, sec := range adminSections {
		if _, pattern := s.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: sec.Path}}); pattern == "/" || pattern == "" {
			continue
		}
		here := path == sec.Path || len(path) > len(sec.Path) && path[:len(sec.Path)+1] == sec.Path+"/"
		out = append(out, consoleLink{Path: sec.Path, Label: sec.Label, Here: here, Current: path == sec.Path})
	}
	return out
}

// consoleLink is a section in the console's navigation: Here when the page is in it,
// Current when the page is the section's own.
type consoleLink struct {
	Path, Label   string
	Here, Current bool
}

// adminHome is the console's start: its sections.
func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "admin_home", view{Title: s.tr(r, "nav.admin")})
	return nil
}

// The admin lists that hand out cursors. A cursor carries the name of its list, so every
// other list refuses it (store.ParseCursor); the console's pages share the API's lists.
const (
	listUsers       = "users"
	listTokens      = "tokens"
	listClients     = "clients"
	listSigningKeys = "signing-keys"
	listAudit       = "audit"
)

// listApplications names the list of the applications of the user with id userID: a
// cursor of one user's applications is refused on another's.
func listApplications(userID string) string { return "users/" + userID + "/applications" }

// Page is one page of a list of the admin API: its items, and the cursor of the page
// after it (null on the last page). Pass next_cursor as ?cursor= to get that page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// newPage is the page of items of list whose next page starts after next (the zero
// Cursor when there is none).
func newPage[T any](list string, items []T, next store.Cursor) Page[T] {
	if items == nil {
		items = []T{}
	}
	p := Page[T]{Items: items}
	if !next.IsZero() {
		c := next.Encode(list)
		p.NextCursor = &c
	}
	return p
}

// pageOf is the page of items of list, each as convert writes it, whose next page starts
// after next (the zero Cursor when there is none).
func pageOf[T, J any](list string, items []T, next store.Cursor, convert func(*T) J) Page[J] {
	out := make([]J, 0, len(items))
	for i := range items {
		out = append(out, convert(&items[i]))
	}
	return newPage(list, out, next)
}

// Page sizes of the admin lists.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
)

// pageParams reads the ?cursor=&limit= of list: the position to start after (the zero
// Cursor for the first page) and the page size (defaultPageLimit when not given). A
// cursor list did not hand out (another list's, cut short, altered), or a limit outside
// 1..maxPageLimit, is a 400.
func pageParams(r *http.Request, list string) (store.Cursor, int, error) {
	q := r.URL.Query()
	limit := defaultPageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return store.Cursor{}, 0, apperr.Msg(apperr.CodeBadRequest, "err.admin_limit", "Max", maxPageLimit).In("limit")
		}
		limit = n
	}
	c, err := store.ParseCursor(list, q.Get("cursor"))
	if err != nil {
		return store.Cursor{}, 0, apperr.Msg(apperr.CodeBadRequest, "err.admin_cursor").In("cursor")
	}
	return c, limit, nil
}
