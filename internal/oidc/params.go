package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// repeatable are the parameters a request may carry more than once (RFC 8707's resource).
var repeatable = []string{"resource"}

// checkParams refuses, before the op package reads them, a protocol request whose
// parameters are ambiguous or not text, with invalid_request. A parameter sent twice
// must not be (RFC 6749, section 3.1): twofold's own checks and the library could read
// different copies, say a redirect URI checked against one client and used for another.
// A value with a NUL or bytes that are not UTF-8 is no text any database keeps. It
// reports whether it answered.
func (p *Provider) checkParams(w http.ResponseWriter, r *http.Request) bool {
	// A body or query that is not well-formed still leaves the pairs Go could parse in
	// r.Form, and the op package, parsing again, would serve those: refuse it whole.
	formErr := r.ParseForm()
	malformed := formErr != nil
	problem := paramProblem(r.Form)
	status := http.StatusBadRequest
	if malformed && problem == "" {
		problem, status = formProblem(formErr)
	}
	if problem == "" {
		return false
	}
	p.log.InfoContext(r.Context(), "oidc request refused", "path", r.URL.Path, "reason", problem)
	e := oidc.ErrInvalidRequest().WithDescription("%s", problem)
	switch r.URL.Path {
	case AuthorizePath:
		if malformed {
			http.Error(w, problem, status) // nothing in it is beyond doubt
			break
		}
		p.refuseAuthorize(w, r, e)
	case UserinfoPath:
		// RFC 6750, section 3.
		w.Header().Set("WWW-Authenticate", invalidRequestChallenge(problem))
		httphelper.MarshalJSONWithStatus(w, e, status)
	default:
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		httphelper.MarshalJSONWithStatus(w, e, status)
	}
	return true
}

// formProblem says why r.ParseForm failed, and with which status: a body over
// maxProtocolBody is 413, one that could not be read (it ended before its length, its
// chunks were malformed, it took longer than the server waits) is not the parameters'
// encoding, which the rest are.
func formProblem(err error) (string, int) {
	var tooLarge *http.MaxBytesError
	var escape url.EscapeError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Sprintf("The request body is larger than %d KiB.", maxProtocolBody>>10), http.StatusRequestEntityTooLarge
	case errors.As(err, &escape), strings.Contains(err.Error(), "semicolon"), strings.HasPrefix(err.Error(), "mime:"):
		return "The parameters are not well-formed (URL encoding).", http.StatusBadRequest
	default:
		return "The request body could not be read: it ended early, was malformed or took too long.", http.StatusBadRequest
	}
}

// refuseAuthorize answers an authorization request refused with e: back to the
// application when the client and the redirect URI are beyond doubt (one of each, and the
// URI registered exactly for the client), else twofold's error page (plain text here,
// which the web server turns into the page) and never a redirect.
func (p *Provider) refuseAuthorize(w http.ResponseWriter, r *http.Request, e *oidc.Error) {
	uri, ok := p.trustedRedirect(r)
	if !ok {
		http.Error(w, e.Description, http.StatusBadRequest)
		return
	}
	p.redirectError(w, r, uri, e)
}

// unsupported refuses an authorization request for what twofold does not offer, before the
// op package refuses it less helpfully (a 400 page for another response type, or silence
// for request_uri), with the error code the specifications name: back to the application
// when its client and redirect URI are beyond doubt, else the op package answers. It
// reports whether it answered.
func (p *Provider) unsupported(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != AuthorizePath {
		return false
	}
	if r.Form.Get("client_id") == "" {
		// The op package calls this a server_error and logs it at level ERROR, so anyone
		// could fill the error log; it is the request's fault.
		p.log.InfoContext(r.Context(), "oidc request refused", "path", r.URL.Path, "reason", "no client_id")
		http.Error(w, "The request names no application: client_id is missing.", http.StatusBadRequest)
		return true
	}
	if v := r.Form.Get("max_age"); v != "" && !validMaxAge(v) {
		// The op package cannot decode it, so cannot send it back, and shows its parse error.
		p.log.InfoContext(r.Context(), "oidc request refused", "path", r.URL.Path, "reason", "malformed max_age")
		p.refuseAuthorize(w, r, oidc.ErrInvalidRequest().WithDescription("The max_age must be a whole number of seconds, 0 or more."))
		return true
	}
	var e *oidc.Error
	prompt := strings.Fields(r.Form.Get("prompt"))
	switch rt := r.Form.Get("response_type"); {
	case rt == "":
		e = oidc.ErrInvalidRequest().WithDescription("The response_type is missing.")
	case rt != string(oidc.ResponseTypeCode):
		e = &oidc.Error{ErrorType: "unsupported_response_type", Description: "Only response_type=code is supported."}
	case r.Form.Get("request_uri") != "":
		// OpenID Connect Core, section 6.3.
		e = &oidc.Error{ErrorType: "request_uri_not_supported", Description: "The request_uri parameter is not supported."}
	case slices.Contains(prompt, oidc.PromptNone) && slices.Contains(prompt, oidc.PromptSelectAccount):
		e = &oidc.Error{ErrorType: "account_selection_required", Description: "Choosing an account needs a page; prompt=none shows none."}
	default:
		return false
	}
	uri, ok := p.trustedRedirect(r)
	if !ok {
		return false
	}
	p.log.InfoContext(r.Context(), "oidc request refused", "path", r.URL.Path, "error", string(e.ErrorType))
	p.redirectError(w, r, uri, e)
	return true
}

// redirectError sends the browser back to the redirect URI uri, which the caller checked,
// with the error e and the request's state.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, uri string, e *oidc.Error) {
	if state, ok := single(r.Form, "state"); ok {
		e.State = state
	}
	to, err := op.AuthResponseURL(uri, oidc.ResponseTypeCode, oidc.ResponseModeQuery, e, p.op.Encoder())
	if err != nil {
		http.Error(w, e.Description, http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// trustedRedirect returns the authorization request's redirect URI when it names exactly
// one client and one URI registered for that client.
func (p *Provider) trustedRedirect(r *http.Request) (string, bool) {
	clientID, ok := single(r.Form, "client_id")
	if !ok {
		return "", false
	}
	uri, ok := single(r.Form, "redirect_uri")
	if !ok {
		return "", false
	}
	c, err := p.storage.st.GetOIDCClient(r.Context(), clientID)
	if err != nil || !slices.Contains(c.RedirectURIs, uri) {
		return "", false
	}
	return uri, true
}

// single returns the parameter's value when the request has exactly one, and it is text.
func single(form url.Values, name string) (string, bool) {
	v := form[name]
	if len(v) != 1 || v[0] == "" || !isText(v[0]) {
		return "", false
	}
	return v[0], true
}

// paramProblem says what is wrong with the parameters, or "" when nothing is. The
// description names the parameter only when its name is plain, and never repeats a value
// (an error_description allows few characters).
func paramProblem(form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		name := "A parameter"
		if plainName(k) {
			name = "The parameter " + k
		}
		if !isText(k) {
			return "A parameter name is not text."
		}
		if len(form[k]) > 1 && !slices.Contains(repeatable, k) {
			return name + " is repeated."
		}
		for _, v := range form[k] {
			if !isText(v) {
				return name + " is not text (it holds a NUL or bytes that are not UTF-8)."
			}
		}
	}
	return ""
}

// isText reports whether v is UTF-8 without NUL.
func isText(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsRune(v, 0)
}

// plainName reports whether a parameter name may be repeated in a message.
func plainName(k string) bool {
	if k == "" || len(k) > 40 {
		return false
	}
	for _, c := range k {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// validMaxAge reports whether v is a max_age the op package decodes: a whole number of
// seconds that fits its unsigned integer.
func validMaxAge(v string) bool {
	_, err := strconv.ParseUint(v, 10, strconv.IntSize)
	return err == nil
}
