package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// adminActor is who the admin level let in: an administrator's session (cur), or an API
// token (Actor.TokenID, cur nil).
type adminActor struct {
	admin.Actor
	cur *auth.Current
}

type actorKey struct{}

// actorOf returns who acts on an admin route; the zero Actor elsewhere.
func actorOf(r *http.Request) admin.Actor {
	a, _ := r.Context().Value(actorKey{}).(admin.Actor)
	return a
}

// adminMeta describes an admin route's request for the audit log, with its actor: the
// administrator, or "token:ID" for an API token.
func adminMeta(r *http.Request) auth.Meta {
	m := meta(r)
	m.ActorID = actorOf(r).AuditID()
	return m
}

// admitAdmin applies the admin level to r. An API call with an Authorization: Bearer
// header is judged by its token and scope sc alone (admitToken), never by a cookie beside
// it; anything else needs an administrator's console session (adminAllowed), which holds
// every scope. Refused: the API with 401 unauthenticated or 403 forbidden, a page by
// sending the browser to the sign-in and back, or with the 403 page.
func (s *Server) admitAdmin(w http.ResponseWriter, r *http.Request, sc admin.Scope) (adminActor, bool) {
	if isAPI(r) {
		if tok, ok := bearerToken(r); ok {
			act, err := s.admitToken(r, tok, sc)
			if err != nil {
				s.Error(w, r, err)
				return adminActor{}, false
			}
			return act, true
		}
		cur, err := s.current(r)
		if err == nil {
			if err = administrator.allows(s.auth, cur); err == nil {
				err = s.adminAllowed(cur)
			}
		}
		if err != nil {
			s.Error(w, r, err)
			return adminActor{}, false
		}
		return adminActor{Actor: admin.Actor{UserID: cur.User.ID}, cur: cur}, true
	}
	cur, err := s.current(r)
	if err != nil {
		// The console comes back to the page after the sign-in.
		redirect(w, r, "/login?next="+url.QueryEscape(s.pageOf(r)))
		return adminActor{}, false
	}
	cur, ok := s.pageStep(w, r, cur, nil, administrator.states())
	if !ok {
		return adminActor{}, false
	}
	if err := s.adminAllowed(cur); err != nil {
		if !s.keyPolicyStep(w, r, err) {
			s.Error(w, r, err)
		}
		return adminActor{}, false
	}
	return adminActor{Actor: admin.Actor{UserID: cur.User.ID}, cur: cur}, true
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// admitToken checks an API token for scope sc: 401 with a Bearer invalid_token challenge
// for a token that is malformed, unknown, expired, revoked or whose creator is no longer
// an administrator; 403 forbidden with insufficient_scope for a live token without sc.
// The token acts for the administrator who created it (none for the console's).
func (s *Server) admitToken(r *http.Request, tok string, sc admin.Scope) (adminActor, error) {
	if s.tokens == nil {
		return adminActor{}, &bearerError{reason: "The API token is unknown."}
	}
	t, err := s.tokens.Authenticate(r.Context(), tok)
	var inv *apitoken.ErrInvalid
	if errors.As(err, &inv) {
		return adminActor{}, &bearerError{reason: inv.Reason}
	}
	if err != nil {
		return adminActor{}, err
	}
	if sc == scopeSession {
		return adminActor{}, &bearerError{scope: sc, reason: "API tokens cannot manage API tokens: sign in to the console, or use a signed-in session."}
	}
	if !slices.Contains(t.Scopes, string(sc)) {
		return adminActor{}, &bearerError{scope: sc, reason: "This API token lacks the scope " + string(sc) + " that this call needs."}
	}
	return adminActor{Actor: admin.Actor{UserID: t.CreatedBy, TokenID: t.ID}}, nil
}

// scopeSession is the scope of the routes that manage API tokens themselves: no token
// holds it, so only an administrator's session may create or revoke tokens, and a token
// that leaked can never mint another (say without expiry, or with more scopes).
const scopeSession admin.Scope = "session"

// bearerError refuses an Authorization: Bearer token (RFC 6750): without scope, the token
// cannot be used at all (401, invalid_token); with scope, it lacks that scope (403,
// insufficient_scope). writeProblem sends the WWW-Authenticate challenge it names.
type bearerError struct {
	reason string
	scope  admin.Scope
}

func (e *bearerError) Error() string { return "bearer token refused: " + e.reason }

// Unwrap is the application error the answer carries.
func (e *bearerError) Unwrap() error {
	if e.scope != "" {
		return apperr.New(apperr.CodeForbidden, e.reason)
	}
	return apperr.New(apperr.CodeUnauthenticated, e.reason)
}

// challenge is the WWW-Authenticate header of the refusal.
func (e *bearerError) challenge() string {
	desc := strings.NewReplacer(`"`, "'", `\`, "/").Replace(e.reason)
	if e.scope != "" {
		return `Bearer realm="twofold", error="insufficient_scope", error_description="` + desc + `", scope="` + string(e.scope) + `"`
	}
	return `Bearer realm="twofold", error="invalid_token", error_description="` + desc + `"`
}

var (
	errNotAdmin   = apperr.Msg(apperr.CodeForbidden, "err.not_admin")
	errAdminNoMFA = apperr.Msg(apperr.CodeForbidden, "err.admin_needs_mfa")
)

// adminAllowed lets only administrators who signed in with a second factor use the
// console: an administrator can take over any account, so a stolen password alone must
// never be enough, whatever the MFA policy says.
func (s *Server) adminAllowed(cur *auth.Current) error {
	if cur.User.Role != store.RoleAdmin {
		return errNotAdmin
	}
	if !slices.Contains(cur.Session.AMR, "mfa") {
		return errAdminNoMFA
	}
	if !s.auth.MeetsKeyPolicy(cur) {
		// mfa.phishing_resistant covers administrators: only a sign-in with a key counts.
		return errKeySignInRequired
	}
	return nil
}
