package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/store"
)

// adminClientPages registers the console's pages of applications, signing keys, settings
// and a user's applications, with the scopes of the API calls they stand for. Every form
// posts to its own page's path or below it and redirects to a page (post/redirect/get).
func (s *Server) adminClientPages(rt *router) {
	rt.admin("GET /admin/clients", admin.ScopeClientsWrite, s.adminClientsPage)
	rt.admin("GET /admin/clients/new", admin.ScopeClientsWrite, s.adminNewClientPage)
	rt.admin("POST /admin/clients/new", admin.ScopeClientsWrite, s.adminAddClientSubmit)
	rt.admin("GET /admin/clients/{id}", admin.ScopeClientsWrite, s.adminClientPage)
	rt.admin("POST /admin/clients/{id}", admin.ScopeClientsWrite, s.adminEditClientSubmit)
	rt.admin("POST /admin/clients/{id}/rotate-secret", admin.ScopeClientsWrite, s.adminRotateSecretSubmit)
	rt.admin("GET /admin/clients/{id}/remove", admin.ScopeClientsWrite, s.adminRemoveClientPage)
	rt.admin("POST /admin/clients/{id}/remove", admin.ScopeClientsWrite, s.adminRemoveClientSubmit)
	rt.admin("GET /admin/keys", admin.ScopeClientsWrite, s.adminKeysPage)
	rt.admin("POST /admin/keys/rotate", admin.ScopeClientsWrite, s.adminRotateKeysSubmit)
	rt.admin("GET /admin/settings", admin.ScopeClientsWrite, s.adminSettingsPage)
	if s.admin != nil { // a user's applications are part of the user
		rt.admin("GET /admin/users/{id}/applications", admin.ScopeUsersRead, s.adminUserAppsPage)
		rt.admin("POST /admin/users/{id}/applications/{client_id}/revoke", admin.ScopeUsersWrite, s.adminUserAppRevokeSubmit)
	}
}

// adminFlashes are the console's messages after a change, by ?done=.
var adminFlashes = map[string]string{
	"client-added":   "admin.client.flash.added",
	"client-saved":   "admin.client.flash.saved",
	"client-rotated": "admin.client.flash.rotated",
	"client-removed": "admin.client.flash.removed",
	"keys-rotated":   "admin.keys.flash.rotated",
	"app-revoked":    "admin.user_apps.flash.revoked",
}

func (s *Server) adminFlash(r *http.Request) string {
	if key, ok := adminFlashes[r.URL.Query().Get("done")]; ok {
		return s.tr(r, key)
	}
	return ""
}

// resultClientSecret is the kind of result that carries a client secret, just made, to
// the client's page: the one page that shows it, once.
const resultClientSecret = "client-secret"

type clientSecretResult struct {
	ClientID, Secret string
}

// clearResult removes the browser's result, so a page that showed it once does not show
// it again on reload.
func (s *Server) clearResult(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.resultCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) adminClientsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.clients.Clients(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_clients", view{Title: s.tr(r, "admin.section.clients"), Flash: s.adminFlash(r), Data: list})
	return nil
}

// clientForm is what the add and edit forms show: what was typed, or the client's.
type clientForm struct {
	Name, RedirectURIs, PostLogoutRedirectURIs, IDTokenAlg string
	Public, FirstParty                                     bool
}

func formOfClient(c *store.OIDCClient) clientForm {
	return clientForm{Name: c.Name, RedirectURIs: strings.Join(c.RedirectURIs, "\n"),
		PostLogoutRedirectURIs: strings.Join(c.PostLogoutRedirectURIs, "\n"), IDTokenAlg: c.IDTokenAlg,
		Public: c.Public, FirstParty: c.FirstParty}
}

func formOfRequest(r *http.Request) clientForm {
	f := r.PostForm
	return clientForm{Name: f.Get("name"), RedirectURIs: f.Get("redirect_uris"), PostLogoutRedirectURIs: f.Get("post_logout_redirect_uris"),
		IDTokenAlg: f.Get("id_token_alg"), Public: f.Get("public") == "yes", FirstParty: f.Get("first_party") == "yes"}
}

// lines splits a text area's value into its non-empty lines.
func lines(v string) []string {
	out := []string{}
	for _, l := range strings.Split(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type newClientData struct {
	Form clientForm
	Algs []string
}

var idTokenAlgs = []string{oidc.AlgES256, oidc.AlgRS256}

func (s *Server) renderNewClient(w http.ResponseWriter, r *http.Request, status int, msg formProblem, f clientForm) error {
	s.render(w, r, status, "admin_client_new", view{Title: s.tr(r, "admin.client.new_title"), Error: msg.Message, Field: msg.Field,
		Data: newClientData{Form: f, Algs: idTokenAlgs}})
	return nil
}

func (s *Server) adminNewClientPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderNewClient(w, r, http.StatusOK, formProblem{}, clientForm{IDTokenAlg: oidc.AlgES256})
}

func (s *Server) adminAddClientSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := formOfRequest(r)
	rc, err := s.clients.Add(r.Context(), oidc.NewClient{Name: f.Name, RedirectURIs: lines(f.RedirectURIs),
		PostLogoutRedirectURIs: lines(f.PostLogoutRedirectURIs), Public: f.Public, FirstParty: f.FirstParty,
		IDTokenAlg: f.IDTokenAlg}, adminMeta(r))
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error { return s.renderNewClient(w, r, status, msg, f) })
	}
	if rc.Secret != "" {
		if err := s.setResult(w, resultClientSecret, clientSecretResult{ClientID: rc.Client.ID, Secret: rc.Secret}); err != nil {
			return err
		}
	}
	redirect(w, r, "/admin/clients/"+url.PathEscape(rc.Client.ID)+"?done=client-added")
	return nil
}

type clientPageData struct {
	Client *store.OIDCClient
	Form   clientForm
	Algs   []string
	// Secret is the client's secret just made (registered or rotated): shown this once.
	Secret string
}

func (s *Server) renderClient(w http.ResponseWriter, r *http.Request, status int, msg formProblem, form *clientForm) error {
	c, err := s.clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d := clientPageData{Client: c, Form: formOfClient(c), Algs: idTokenAlgs}
	if form != nil {
		d.Form = *form
		d.Form.Public = c.Public
	}
	var res clientSecretResult
	if r.Method == http.MethodGet && s.result(r, resultClientSecret, &res) && res.ClientID == c.ID {
		d.Secret = res.Secret
		s.clearResult(w)
	}
	s.render(w, r, status, "admin_client", view{Title: c.Name, Error: msg.Message, Field: msg.Field, Flash: s.adminFlash(r), Data: d})
	return nil
}

func (s *Server) adminClientPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderClient(w, r, http.StatusOK, formProblem{}, nil)
}

func (s *Server) adminEditClientSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := formOfRequest(r)
	redirects, postLogout := lines(f.RedirectURIs), lines(f.PostLogoutRedirectURIs)
	_, err := s.clients.Update(r.Context(), r.PathValue("id"), oidc.ClientChange{Name: &f.Name, RedirectURIs: &redirects,
		PostLogoutRedirectURIs: &postLogout, FirstParty: &f.FirstParty, IDTokenAlg: &f.IDTokenAlg}, adminMeta(r))
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error { return s.renderClient(w, r, status, msg, &f) })
	}
	redirect(w, r, "/admin/clients/"+url.PathEscape(r.PathValue("id"))+"?done=client-saved")
	return nil
}

func (s *Server) adminRotateSecretSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var rc *oidc.RegisteredClient
	err := func() error {
		if r.PostForm.Get("confirm") == "" {
			return apperr.Msg(apperr.CodeBadRequest, "admin.client.rotate_confirm_needed").In("rotate-confirm")
		}
		var err error
		rc, err = s.clients.RotateSecret(r.Context(), r.PathValue("id"), adminMeta(r))
		return err
	}()
	if err != nil {
		return onForm(err, func(status int, msg formProblem) error { return s.renderClient(w, r, status, msg, nil) })
	}
	if err := s.setResult(w, resultClientSecret, clientSecretResult{ClientID: rc.Client.ID, Secret: rc.Secret}); err != nil {
		return err
	}
	redirect(w, r, "/admin/clients/"+url.PathEscape(rc.Client.ID)+"?done=client-rotated")
	return nil
}

func (s *Server) adminRemoveClientPage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.clients.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_client_remove", view{Title: s.tr(r, "admin.client.remove_title", "Name", c.Name), Data: c})
	return nil
}

func (s *Server) adminRemoveClientSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.clients.Remove(r.Context(), r.PathValue("id"), adminMeta(r)); err != nil {
		return err
	}
	redirect(w, r, "/admin/clients?done=client-removed")
	return nil
}

func (s *Server) adminKeysPage(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.clients.SigningKeys(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_keys", view{Title: s.tr(r, "admin.section.keys"), Flash: s.adminFlash(r),
		Data: struct {
			Keys []store.OIDCSigningKey
			Keep string
		}{keys, s.clients.KeyRetention().String()}})
	return nil
}

func (s *Server) adminRotateKeysSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.clients.RotateKeys(r.Context(), 0, adminMeta(r)); err != nil {
		return err
	}
	redirect(w, r, "/admin/keys?done=keys-rotated")
	return nil
}

func (s *Server) adminSettingsPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "admin_settings", view{Title: s.tr(r, "admin.section.settings"), Data: s.settings})
	return nil
}

type userAppsData struct {
	User         *store.User
	Applications []store.OIDCApplication
}

func (s *Server) adminUserAppsPage(w http.ResponseWriter, r *http.Request) error {
	u, apps, err := s.auth.UserApplications(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_user_apps", view{Title: s.tr(r, "admin.user_apps.title", "Username", u.Username),
		Flash: s.adminFlash(r), Data: userAppsData{User: u, Applications: apps}})
	return nil
}

func (s *Server) adminUserAppRevokeSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.admin.RevokeApplication(r.Context(), actorOf(r), id, r.PathValue("client_id"), adminMeta(r)); err != nil {
		return err
	}
	redirect(w, r, "/admin/users/"+url.PathEscape(id)+"/applications?done=app-revoked")
	return nil
}
