package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
)

// oidcRoutes mounts the OpenID Connect provider (issue 6): the protocol endpoints of the op
// package, and the pages that tie an authorization request to twofold's own sign-in.
func (s *Server) oidcRoutes(rt *router) {
	if s.oidc == nil {
		return
	}
	for _, p := range oidc.ProtocolPaths {
		h := s.oidcProtocol
		switch p {
		case oidc.AuthorizePath:
			h = s.oidcAuthorize
		case oidc.EndSessionPath:
			h = s.oidcEndSession
		}
		methods := oidc.ProtocolMethods[p]
		if len(methods) == 0 {
			panic("oidc endpoint " + p + " has no methods")
		}
		for _, m := range methods {
			if m == http.MethodOptions {
				rt.handle(m+" "+p, public, s.oidcOptions)
			} else {
				rt.handle(m+" "+p, public, h)
			}
		}
	}
	rt.handle("GET "+oidc.CallbackPath, public, s.oidcContinue)
	rt.handle("POST /authorize/consent", signedIn, s.oidcConsentSubmit)
	rt.handle("POST /authorize/select", signedIn, s.oidcSelectSubmit)
	rt.handle("POST /authorize/reauth", public, s.oidcReauthSubmit)
	rt.handle("POST /authorize/key/deny", signedIn, s.oidcDenyKeySubmit)
	rt.handle("GET "+oidc.LogoutConfirmPath, public, s.oidcLogoutPage)
	rt.handle("POST "+oidc.LogoutConfirmPath, public, s.oidcLogoutSubmit)
}

// oidcBypass lets applications call the OAuth endpoints from other origins: they use no
// cookie, so cross-origin requests cannot abuse a session there.
func (s *Server) oidcBypass(c *http.CrossOriginProtection) {
	if s.oidc == nil {
		return
	}
	for _, p := range []string{oidc.AuthorizePath, oidc.TokenPath, oidc.IntrospectionPath, oidc.UserinfoPath, oidc.RevocationPath} {
		c.AddInsecureBypassPattern(p)
	}
}

// isOAuth reports the requests for a protocol endpoint, which answer in OAuth's format.
func (s *Server) isOAuth(r *http.Request) bool {
	_, ok := oidc.ProtocolMethods[r.URL.Path]
	return ok && s.oidc != nil
}

// oidcMethodNotAllowed answers a protocol endpoint's request with a method it does not
// serve, allow (which noRoute has set as Allow): 405 invalid_request, not to be stored.
func (s *Server) oidcMethodNotAllowed(w http.ResponseWriter, r *http.Request, allow []string) {
	w.Header().Set("Pragma", "no-cache") // with writeJSON's no-store, as at the token endpoint
	writeJSON(w, http.StatusMethodNotAllowed, oidc.OAuthError{Error: "invalid_request",
		Description: "This endpoint does not accept " + shownMethod(r) + "; use " + strings.Join(allow, ", ") + "."})
}

// oidcOptions answers OPTIONS at a protocol endpoint. A CORS preflight (it names
// Access-Control-Request-Method) goes to the provider, whose CORS handler answers it; any
// other OPTIONS asks what the endpoint serves: 204 with Allow.
func (s *Server) oidcOptions(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Access-Control-Request-Method") != "" {
		s.serveOIDC(w, r)
		return nil
	}
	w.Header().Set("Allow", strings.Join(s.allowed(r), ", "))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bufferedResponse holds an answer of the op package so it can be replaced by a page.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// flush sends the held answer to w as the op package wrote it.
func (b *bufferedResponse) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = b.body.WriteTo(w)
}

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// oidcProtocol runs an op package endpoint. When it refuses a request while the database
// does not answer, the refusal says nothing true (the library reports a lookup that failed
// as, say, invalid_grant or a 500): the application gets 503 temporarily_unavailable with
// Retry-After (RFC 6749's error for an unavailable server) instead, so it knows to retry.
// Only refused requests pay for the check.
func (s *Server) oidcProtocol(w http.ResponseWriter, r *http.Request) error {
	b := &bufferedResponse{header: http.Header{}}
	tracked := oidc.TrackStore(r.Context())
	s.serveOIDC(b, r.WithContext(tracked))
	if b.status >= 400 && (s.ready != nil || oidc.StoreUnavailable(tracked)) {
		// Not the request's cancellation: a client that left before its body was read is
		// not a database that does not answer.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
		defer cancel()
		err := store.ErrUnavailable // a store call said so: the database answers, its writers are queued
		if !oidc.StoreUnavailable(tracked) {
			err = s.ready(ctx)
		}
		if err != nil {
			s.log.WarnContext(ctx, "oidc endpoint failed, database unavailable", "path", r.URL.Path, "err", err)
			e := apperr.ErrUnavailable // the API's answer, in OAuth's words
			setRetryAfter(w, e.RetryAfter)
			w.Header().Set("Pragma", "no-cache") // with writeJSON's no-store, as RFC 6749 asks of token answers
			writeJSON(w, http.StatusServiceUnavailable, oidc.OAuthError{Error: "temporarily_unavailable", Description: e.Message})
			return nil
		}
	}
	b.flush(w)
	return nil
}

// oidcAuthorize runs the op package's authorization endpoint. A request it refuses without
// sending the browser back (unknown client, unregistered redirect URI) gets twofold's error
// page instead of the library's plain text: 413 for a body too large, else 400.
func (s *Server) oidcAuthorize(w http.ResponseWriter, r *http.Request) error {
	b := &bufferedResponse{header: http.Header{}}
	s.serveOIDC(b, r)
	if b.status >= 400 && !strings.Contains(b.header.Get("Content-Type"), "json") {
		msg := strings.TrimSpace(b.body.String())
		if msg == "" || len(msg) > 300 || strings.Contains(msg, "ErrorType=") { // nothing, or the library's own structure
			msg = s.tr(r, "oidc.invalid_request")
		}
		status := http.StatusBadRequest
		if b.status == http.StatusRequestEntityTooLarge {
			status = b.status
		}
		// The reason is the OpenID Connect library's, in English.
		s.render(w, r, status, "error", view{Title: s.tr(r, "oidc.invalid_signin_title"),
			Error: s.tr(r, "oidc.invalid_signin", "Product", s.brand.Name, "Reason", msg)})
		return nil
	}
	b.flush(w)
	return nil
}

// oidcEndSession tells RP-initiated logout which twofold session the browser holds.
// A request it refuses gets, when a browser sent it, twofold's error page with the reason
// instead of the OAuth error document an application's server gets.
func (s *Server) oidcEndSession(w http.ResponseWriter, r *http.Request) error {
	if cur, err := s.current(r); err == nil {
		r = r.WithContext(oidc.WithBrowserSession(r.Context(), cur.Session.ID, cur.User.ID))
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		s.serveOIDC(w, r)
		return nil
	}
	b := &bufferedResponse{header: http.Header{}}
	s.serveOIDC(b, r)
	if b.status < 400 || b.status >= 500 {
		b.flush(w)
		return nil
	}
	var e struct {
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b.body.Bytes(), &e) != nil || e.Description == "" || len(e.Description) > 300 {
		e.Description = s.tr(r, "oidc.invalid_request")
	}
	s.render(w, r, http.StatusBadRequest, "error", view{Title: s.tr(r, "oidc.invalid_signout_title"),
		Error: s.tr(r, "oidc.invalid_signout", "Product", s.brand.Name, "Reason", e.Description)})
	return nil
}

// serveOIDC runs the op package with the request's client address and user agent, which
// its audit events record.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request) {
	s.oidc.ServeHTTP(w, r.WithContext(oidc.WithRequestMeta(r.Context(), meta(r))))
}

// askingApp names the application whose authorization request the local path next
// continues (oidcHere), or returns "" for any other path or an unknown or expired request.
func (s *Server) askingApp(ctx context.Context, next string) string {
	p, ok := returnPath(next)
	if !ok || s.oidc == nil {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Path != oidc.CallbackPath {
		return ""
	}
	step, err := s.oidc.Describe(ctx, u.Query().Get("id"))
	if err != nil || step.Client == nil {
		return ""
	}
	return step.Client.Name
}

// oidcHere is the path at which the authorization request id continues.
func oidcHere(id string) string { return oidc.CallbackPath + "?id=" + url.QueryEscape(id) }

// oidcContinue is where an authorization request goes once stored, and where the browser
// comes back after each sign-in step.
func (s *Server) oidcContinue(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("id")
	cur, err := s.current(r)
	if e, ok := apperr.As(err); ok && e.Code == apperr.CodeUnauthenticated {
		cur, err = nil, nil // no session, or an expired one: sign in
	}
	if err != nil {
		return err
	}
	if cur != nil && cur.Session.State == store.StateAuthenticated && s.auth.HeldRecoveryCode(cur) != "" {
		// A fresh recovery code waits to be saved: first that, then on to the application.
		s.returnTo(w, oidcHere(id))
		redirect(w, r, "/recovery-code")
		return nil
	}
	step, err := s.oidc.Continue(r.Context(), id, cur, meta(r))
	if err != nil {
		return err
	}
	s.oidcStep(w, r, step, cur)
	return nil
}

// oidcStep sends the browser to the step Continue decided.
func (s *Server) oidcStep(w http.ResponseWriter, r *http.Request, step *oidc.Step, cur *auth.Current) {
	here := oidcHere(step.RequestID)
	switch step.Kind {
	case oidc.StepRedirect:
		s.oidcRedirect(w, r, step)
	case oidc.StepLogin:
		if cur != nil {
			// Half-way through the sign-in (code or enrollment due): finish it first.
			s.returnTo(w, here)
			redirect(w, r, s.nextStep(cur))
			return
		}
		redirect(w, r, "/login?next="+url.QueryEscape(here))
	case oidc.StepEnroll:
		s.returnTo(w, here)
		redirect(w, r, "/mfa/setup")
	case oidc.StepReauth:
		s.render(w, r, http.StatusOK, "oidc_reauth", view{Title: s.tr(r, "oidc_reauth.title"),
			Data: map[string]string{"Client": step.Client.Name, "ID": step.RequestID}})
	case oidc.StepKey:
		if !step.HasKey {
			// Adding a key on the security page comes back here.
			s.returnTo(w, here)
		}
		s.render(w, r, http.StatusOK, "key_confirm", view{Title: s.tr(r, "key_confirm.title"),
			Data: keyConfirmData{Client: step.Client.Name, ID: step.RequestID, HasKey: step.HasKey, Next: here}})
	case oidc.StepConsent:
		s.render(w, r, http.StatusOK, "oidc_consent", view{Title: s.tr(r, "oidc_consent.title", "App", step.Client.Name),
			Data: consentData{Client: step.Client.Name, User: cur.User.Username, ID: step.RequestID, Scopes: scopeTexts(step.Scopes)}})
	case oidc.StepSelectAccount:
		s.render(w, r, http.StatusOK, "oidc_select_account", view{Title: s.tr(r, "oidc_select.title"),
			Data: consentData{Client: step.Client.Name, User: cur.User.Username, ID: step.RequestID}})
	}
}

type consentData struct {
	Client, User, ID string
	Scopes           []string
}

// scopeKeys are the catalog keys that say in words what each scope shares.
var scopeKeys = map[string]string{
	"openid": "scope.openid", "profile": "scope.profile", "email": "scope.email", "offline_access": "scope.offline_access",
}

// scopeTexts returns the catalog keys of the scopes people are told about; a page shows
// each with t.
func scopeTexts(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		if k, ok := scopeKeys[sc]; ok {
			out = append(out, k)
		}
	}
	return out
}

// oidcRedirect sends the browser back to the application. When the way here started on a
// twofold form (the sign-in, the consent), a page continues with a meta refresh instead of
// a redirect: browsers apply the form's Content-Security-Policy form-action 'self' to every
// redirect that follows a form submission, which would block the way to the application.
func (s *Server) oidcRedirect(w http.ResponseWriter, r *http.Request, step *oidc.Step) {
	name := ""
	if step.Client != nil {
		name = step.Client.Name
	}
	// The URL is a redirect URI registered for the client, with the code or error added.
	s.backToApplication(w, r, s.tr(r, "oidc_continue.signed_in"), name, step.URL)
}

// backToApplication sends the browser to to, a URI registered for the application client,
// after a form where needed by a page (see oidcRedirect).
func (s *Server) backToApplication(w http.ResponseWriter, r *http.Request, title, client, to string) {
	if r.Header.Get("Sec-Fetch-Site") != "same-origin" {
		status := http.StatusFound // after the callback's GET, as OAuth's redirects are
		if r.Method == http.MethodPost {
			status = http.StatusSeeOther // after a form, as every form POST
		}
		http.Redirect(w, r, to, status)
		return
	}
	if client == "" {
		client = s.tr(r, "oidc_continue.the_app")
	}
	s.render(w, r, http.StatusOK, "oidc_continue", view{Title: title,
		Data: map[string]any{"Client": client, "URL": template.URL(to)}})
}

// oidcConsentSubmit records the answer of the consent page.
func (s *Server) oidcConsentSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	cur, ok := s.pageSession(w, r, store.StateAuthenticated)
	if !ok {
		return nil
	}
	id := r.PostForm.Get("id")
	step, err := s.oidc.Consent(r.Context(), id, cur, r.PostForm.Get("decision") == "allow", meta(r))
	if err != nil {
		return err
	}
	s.oidcStep(w, r, step, cur)
	return nil
}

// oidcSelectSubmit continues an authorization request as the signed-in user, chosen on the
// account chooser ("Use another account" posts to oidcReauthSubmit).
func (s *Server) oidcSelectSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	cur := sessionOf(r)
	step, err := s.oidc.SelectAccount(r.Context(), r.PostForm.Get("id"), cur, meta(r))
	if err != nil {
		return err
	}
	s.oidcStep(w, r, step, cur)
	return nil
}

// oidcDenyKeySubmit answers "Cancel" on the page that asks for a security key: the
// application gets access_denied.
func (s *Server) oidcDenyKeySubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	step, err := s.oidc.DenyKey(r.Context(), r.PostForm.Get("id"), sessionOf(r), meta(r))
	if err != nil {
		return err
	}
	s.oidcRedirect(w, r, step)
	return nil
}

// oidcReauthSubmit ends the current session and starts a fresh sign-in that returns to the
// authorization request.
func (s *Server) oidcReauthSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PostForm.Get("id")
	if _, err := s.oidc.Describe(r.Context(), id); err != nil {
		return err
	}
	s.endOldSession(r, "")
	s.clearSession(w)
	redirect(w, r, "/login?next="+url.QueryEscape(oidcHere(id)))
	return nil
}

// logoutData is the confirmation page of an application's logout request.
type logoutData struct {
	Client, User                   string
	ClientID, PostLogoutURI, State string
}

// oidcLogoutPage asks the user to confirm a logout request without id_token_hint. Without
// a session there is nothing to end: the browser goes where the request said at once.
func (s *Server) oidcLogoutPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := logoutData{ClientID: q.Get("client_id"), PostLogoutURI: q.Get("post_logout_redirect_uri"), State: q.Get("state")}
	to, client, err := s.oidc.LogoutReturn(r.Context(), d.ClientID, d.PostLogoutURI, d.State)
	if err != nil {
		return err
	}
	cur, err := s.current(r)
	if err != nil {
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	}
	d.Client, d.User = client, cur.User.Username
	s.render(w, r, http.StatusOK, "oidc_logout", view{Title: s.tr(r, "logout.title"), Data: d})
	return nil
}

// oidcLogoutSubmit ends the session (auth.RPLogout: the session and the grants obtained
// through it) and sends the browser where the confirmed request said, checked again.
func (s *Server) oidcLogoutSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	to, client, err := s.oidc.LogoutReturn(r.Context(), f.Get("client_id"), f.Get("post_logout_redirect_uri"), f.Get("state"))
	if err != nil {
		return err
	}
	if cur, err := s.current(r); err == nil {
		m := meta(r)
		m.ActorID = cur.User.ID
		if _, err := s.auth.End(r.Context(), auth.RPLogout, cur.User.ID, cur.Session.ID, m); err != nil {
			return err
		}
	}
	s.clearSession(w)
	if to == oidc.LoggedOutPath {
		redirect(w, r, to)
		return nil
	}
	// to is a post-logout URI registered exactly for the client.
	s.backToApplication(w, r, s.tr(r, "oidc_continue.signed_out"), client, to)
	return nil
}
