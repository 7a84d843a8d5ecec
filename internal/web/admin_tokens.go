package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// tokenRoutes registers the API token API and console pages. Only an administrator's
// session manages tokens (scopeSession): no token can create or revoke one.
func (s *Server) tokenRoutes(rt *router) {
	if s.tokens == nil {
		return
	}
	rt.admin("GET /api/v1/admin/tokens", scopeSession, s.apiListTokens)
	rt.admin("POST /api/v1/admin/tokens", scopeSession, s.apiCreateToken)
	rt.admin("DELETE /api/v1/admin/tokens/{id}", scopeSession, s.apiRevokeToken)
	rt.admin("GET /admin/tokens", scopeSession, s.tokensPage)
	rt.admin("POST /admin/tokens", scopeSession, s.tokenCreateSubmit)
	rt.admin("GET /admin/tokens/created", scopeSession, s.tokenCreatedPage)
	rt.admin("POST /admin/tokens/{id}/revoke", scopeSession, s.tokenRevokeSubmit)
}

// APIToken is an API token as the admin API shows it; never its secret.
type APIToken struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Status is active, expired or revoked.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy is the administrator who created the token (id and username); null for
	// the server console.
	CreatedBy  *TokenCreator `json:"created_by"`
	ExpiresAt  *time.Time    `json:"expires_at"`
	LastUsedAt *time.Time    `json:"last_used_at"`
	RevokedAt  *time.Time    `json:"revoked_at"`
}

// TokenCreator is the administrator who created a token; Username is null when the
// account was deleted.
type TokenCreator struct {
	ID       string  `json:"id"`
	Username *string `json:"username"`
}

// APITokenCreated answers POST /api/v1/admin/tokens: the token and, this once, its secret.
type APITokenCreated struct {
	APIToken
	Token string `json:"token"`
}

// newTokenBody is the body of POST /api/v1/admin/tokens.
type newTokenBody struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// Text, read here: a time encoding/json cannot read gave a refusal naming no field.
	ExpiresAt *string `json:"expires_at"`
}

// tokenJSON describes t; names looks up creators' usernames.
func (s *Server) tokenJSON(t *store.APIToken, names func(string) *string) APIToken {
	out := APIToken{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Status: apitoken.Status(t, s.auth.Now()),
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: optTime(t.ExpiresAt), LastUsedAt: optTime(t.LastUsedAt), RevokedAt: optTime(t.RevokedAt)}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if t.CreatedBy != "" {
		out.CreatedBy = &TokenCreator{ID: t.CreatedBy, Username: names(t.CreatedBy)}
	}
	return out
}

// usernames looks up usernames by user id, each once per request; nil for an id without
// an account.
func (s *Server) usernames(r *http.Request) func(string) *string {
	seen := map[string]*string{}
	return func(id string) *string {
		if n, ok := seen[id]; ok {
			return n
		}
		var n *string
		if u, err := s.auth.Store().GetUser(r.Context(), id); err == nil {
			n = &u.Username
		}
		if len(seen) < 10000 {
			seen[id] = n
		}
		return n
	}
}

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageParams(r, listTokens)
	if err != nil {
		return err
	}
	tokens, err := s.tokens.List(r.Context())
	if err != nil {
		return err
	}
	// Tokens are few: the page is cut from the whole list, newest first, after the cursor.
	if !after.IsZero() {
		i := slices.IndexFunc(tokens, func(t store.APIToken) bool {
			return t.CreatedAt.Before(after.At) || t.CreatedAt.Equal(after.At) && t.ID > after.ID
		})
		if i < 0 {
			i = len(tokens)
		}
		tokens = tokens[i:]
	}
	page, next := store.NextPage(tokens, limit, func(t store.APIToken) store.Cursor { return store.Cursor{At: t.CreatedAt, ID: t.ID} })
	names := s.usernames(r)
	writeJSON(w, http.StatusOK, pageOf(listTokens, page, next, func(t *store.APIToken) APIToken { return s.tokenJSON(t, names) }))
	return nil
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var b newTokenBody
	if err := decodeJSON(w, r, &b, false); err != nil {
		return err
	}
	nt := apitoken.NewToken{Name: b.Name, Scopes: b.Scopes, CreatedBy: actorOf(r).UserID}
	if b.ExpiresAt != nil {
		at, err := time.Parse(time.RFC3339, *b.ExpiresAt)
		if err != nil {
			return apperr.New(apperr.CodeBadRequest, `Field "expires_at" must be a time such as 2030-01-31T00:00:00Z (RFC 3339), or null for none.`)
		}
		nt.ExpiresAt = at
	}
	c, err := s.tokens.Create(r.Context(), nt, adminMeta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/tokens/"+url.PathEscape(c.Token.ID))
	writeJSON(w, http.StatusCreated, APITokenCreated{APIToken: s.tokenJSON(&c.Token, s.usernames(r)), Token: c.Secret})
	return nil
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tokens.Revoke(r.Context(), r.PathValue("id"), adminMeta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.tokenJSON(t, s.usernames(r)))
	return nil
}

// tokenExpiries are the lifetimes the console's form offers (value, catalog key of the
// label); the API takes any time.
var tokenExpiries = []struct{ Value, Label string }{
	{"30d", "tokens.expiry.30d"}, {"90d", "tokens.expiry.90d"}, {"365d", "tokens.expiry.365d"}, {"never", "tokens.expiry.never"},
}

// tokensData is the API tokens page.
type tokensData struct {
	Tokens   []APIToken
	Scopes   []admin.Scope
	Expiries []struct{ Value, Label string }
	// Form is what was typed into the create form when it is drawn again with an error.
	Form tokenForm
}

type tokenForm struct {
	Name    string
	Scopes  []string
	Expires string
}

// Has reports whether the form had scope sc ticked.
func (f tokenForm) Has(sc admin.Scope) bool { return slices.Contains(f.Scopes, string(sc)) }

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, msg formProblem, flash string, form tokenForm) error {
	tokens, err := s.tokens.List(r.Context())
	if err != nil {
		return err
	}
	names := s.usernames(r)
	d := tokensData{Scopes: admin.Scopes, Expiries: tokenExpiries, Form: form}
	for i := range tokens {
		d.Tokens = append(d.Tokens, s.tokenJSON(&tokens[i], names))
	}
	s.render(w, r, status, "admin_tokens", view{Title: s.tr(r, "admin.section.tokens"), Error: msg.Message, Field: msg.Field, Flash: flash, Data: d})
	return nil
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) error {
	flash := ""
	if r.URL.Query().Get("done") == "revoked" {
		flash = s.tr(r, "tokens.revoked_flash")
	}
	return s.renderTokens(w, r, http.StatusOK, formProblem{}, flash, tokenForm{Expires: "90d"})
}

// resultTokenCreated is the kind of result a created token hands to the page that shows
// its secret.
const resultTokenCreated = "api-token-created"

// tokenCreated is what the created page shows.
type tokenCreated struct {
	ID, Name, Secret string
}

func (s *Server) tokenCreateSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	form := tokenForm{Name: f.Get("name"), Scopes: f["scopes"], Expires: f.Get("expires")}
	show := func(err error) error {
		return onForm(err, func(status int, msg formProblem) error {
			return s.renderTokens(w, r, status, msg, "", form)
		})
	}
	if !slices.ContainsFunc(tokenExpiries, func(e struct{ Value, Label string }) bool { return e.Value == form.Expires }) {
		return show(apperr.Msg(apperr.CodeBadRequest, "tokens.err_expiry_choice").In("expires"))
	}
	exp, err := apitoken.ParseExpiry(form.Expires, s.auth.Now())
	if err != nil {
		return show(apperr.Msg(apperr.CodeBadRequest, "tokens.err_expiry_choice").In("expires"))
	}
	c, err := s.tokens.Create(r.Context(), apitoken.NewToken{Name: form.Name, Scopes: form.Scopes, ExpiresAt: exp,
		CreatedBy: actorOf(r).UserID}, adminMeta(r))
	if e, ok := apperr.As(err); ok && e.Field == "scopes" {
		err = e.In(scopeID(admin.Scopes[0]))
	}
	if err != nil {
		return show(err)
	}
	if err := s.setResult(w, resultTokenCreated, tokenCreated{ID: c.Token.ID, Name: c.Token.Name, Secret: c.Secret}); err != nil {
		return err
	}
	redirect(w, r, "/admin/tokens/created")
	return nil
}

// tokenCreatedPage shows a new token's secret, once: the result that carries it is
// dropped as the page is drawn, so a reload or the back button shows it no more.
func (s *Server) tokenCreatedPage(w http.ResponseWriter, r *http.Request) error {
	var c tokenCreated
	if !s.result(r, resultTokenCreated, &c) {
		redirect(w, r, "/admin/tokens")
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: s.resultCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.render(w, r, http.StatusOK, "admin_token_created", view{Title: s.tr(r, "tokens.created_title"), Data: c})
	return nil
}

func (s *Server) tokenRevokeSubmit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.tokens.Revoke(r.Context(), r.PathValue("id"), adminMeta(r)); err != nil {
		if e, ok := apperr.As(err); ok && (e.Code == apperr.CodeConflict || e.Code == apperr.CodeNotFound) {
			return onForm(err, func(status int, msg formProblem) error {
				return s.renderTokens(w, r, status, msg, "", tokenForm{Expires: "90d"})
			})
		}
		return err
	}
	redirect(w, r, "/admin/tokens?done=revoked")
	return nil
}

// scopeID is the id of a scope's checkbox.
func scopeID(sc admin.Scope) string { return "scope-" + strings.ReplaceAll(string(sc), ":", "-") }
