package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/store"
)

// Authentication context classes (the acr claim and acr_values). A session that passed a
// second factor is ACRMFA, and only such sessions reach applications; one that passed a
// security key or passkey (WebAuthn, amr "hwk") is ACRPhishingResistant, which also meets
// ACRMFA. ACRPassword names a password alone, which twofold never hands to an application.
// acr_values asking for ACRMFA or the OpenID PAPE multi-factor policy are therefore always
// met; asking for ACRPhishingResistant alone makes a session without a key step up (see
// Continue).
const (
	ACRPassword          = "urn:twofold:acr:pwd"
	ACRMFA               = "urn:twofold:acr:mfa"
	ACRPhishingResistant = "urn:twofold:acr:phr"
	ACRMultiFactorPAPE   = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
)

// meets reports whether a session with amr meets the class acr; unknown classes are never met.
func meets(acr string, amr []string) bool {
	switch acr {
	case ACRPhishingResistant:
		return slices.Contains(amr, "mfa") && slices.Contains(amr, "hwk")
	case ACRMFA, ACRMultiFactorPAPE:
		return slices.Contains(amr, "mfa")
	}
	return false
}

// acrOf is the class of a session with amr: the strongest it meets.
func acrOf(amr []string) string {
	for _, acr := range []string{ACRPhishingResistant, ACRMFA} {
		if meets(acr, amr) {
			return acr
		}
	}
	return ACRPassword
}

// acrFor is the class the tokens name for a session with amr: the first of the requested
// acr_values the session meets, so that the application finds the class it asked for;
// else acrOf(amr).
func acrFor(requested, amr []string) string {
	for _, v := range requested {
		if meets(v, amr) {
			return v
		}
	}
	return acrOf(amr)
}

// needsKey reports whether a request with acr_values requested demands a security key of a
// session with amr: it asks for ACRPhishingResistant and the session meets none of the
// classes it asks for (an application that also lists ACRMFA accepts a code).
func needsKey(requested, amr []string) bool {
	if !slices.Contains(requested, ACRPhishingResistant) {
		return false
	}
	return !slices.ContainsFunc(requested, func(v string) bool { return meets(v, amr) })
}

// StepKind is what the browser does next for an authorization request.
type StepKind int

const (
	// StepRedirect: go back to the application (with a code or an error) at Step.URL.
	StepRedirect StepKind = iota
	// StepLogin: sign in (the browser has no authenticated session).
	StepLogin
	// StepReauth: the session is not good enough (prompt=login, max_age, acr_values):
	// sign in again.
	StepReauth
	// StepEnroll: the application demands MFA and the user has no authenticator: set one up.
	StepEnroll
	// StepConsent: ask the user whether the application may have Step.Scopes.
	StepConsent
	// StepSelectAccount: the application asked (prompt=select_account) that the user
	// choose the account: continue as the signed-in user, or sign in as another.
	StepSelectAccount
	// StepKey: the session did not use a security key, and the application (acr_values
	// urn:twofold:acr:phr) or the phishing-resistant policy demands one: confirm with a key
	// (Step.HasKey), or, without one, add one or give up (DenyKey).
	StepKey
)

// Step is what Continue decided.
type Step struct {
	Kind      StepKind
	URL       string
	RequestID string
	Client    *store.OIDCClient
	Scopes    []string
	HasKey    bool // StepKey: the user has a security key or passkey to confirm with
}

var (
	errUnknownRequest = apperr.Msg(apperr.CodeBadRequest, "err.oidc_unknown_request")
	errUsedRequest    = apperr.Msg(apperr.CodeBadRequest, "err.oidc_used_request")
)

// Continue decides the next step of the authorization request id for the browser's session
// cur (nil without one). Only an authenticated session that satisfies the request (prompt,
// max_age, acr_values) and, for a client that is not first-party, the user's consent, ever
// completes it with a code. The returned error is an apperr for an unknown, expired or
// finished request.
func (p *Provider) Continue(ctx context.Context, id string, cur *auth.Current, m auth.Meta) (*Step, error) {
	return p.proceed(ctx, id, cur, m, false)
}

// SelectAccount continues the request id as the signed-in user of cur, who chose that
// account on the page StepSelectAccount showed.
func (p *Provider) SelectAccount(ctx context.Context, id string, cur *auth.Current, m auth.Meta) (*Step, error) {
	if cur == nil || cur.Session.State != store.StateAuthenticated {
		return nil, apperr.ErrUnauthenticated
	}
	return p.proceed(ctx, id, cur, m, true)
}

// proceed is Continue; chosen says that the user chose the account for this request
// already (on the account chooser, or by answering the consent page that names it).
func (p *Provider) proceed(ctx context.Context, id string, cur *auth.Current, m auth.Meta, chosen bool) (*Step, error) {
	ctx = p.context(ctx)
	a, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	step := &Step{RequestID: a.ID, Client: c, Scopes: a.Scopes}
	needs := func(kind StepKind, e *oidc.Error) (*Step, error) {
		if slices.Contains(a.Prompt, oidc.PromptNone) {
			return p.errorRedirect(ctx, a, e)
		}
		step.Kind = kind
		return step, nil
	}
	if cur == nil || cur.Session.State != store.StateAuthenticated {
		return needs(StepLogin, oidc.ErrLoginRequired())
	}
	now := p.now()
	fresh := !cur.Session.AuthTime.Before(a.CreatedAt) // signed in after the application asked
	switch {
	case slices.Contains(a.Prompt, oidc.PromptLogin) && !fresh:
		return needs(StepReauth, oidc.ErrLoginRequired())
	case a.MaxAge >= 0 && now.Sub(cur.Session.AuthTime) > time.Duration(a.MaxAge)*time.Second && !fresh:
		return needs(StepReauth, oidc.ErrLoginRequired())
	case !slices.Contains(cur.Session.AMR, "mfa"):
		// A password-only session never reaches an application (DESIGN, journey 7), even
		// when the policy lets the user sign in to twofold itself without MFA and even when
		// the application did not ask (acr_values) for it.
		if _, err := p.storage.st.GetTOTP(ctx, cur.User.ID); err == nil {
			return needs(StepReauth, oidc.ErrLoginRequired())
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if has, err := p.storage.auth.HasKey(ctx, cur.User.ID); err != nil {
			return nil, err
		} else if has {
			return needs(StepReauth, oidc.ErrLoginRequired())
		}
		return needs(StepEnroll, oidc.ErrInteractionRequired().WithDescription("The application requires multi-factor authentication."))
	case needsKey(a.ACRValues, cur.Session.AMR) || !p.storage.auth.MeetsKeyPolicy(cur):
		has, err := p.storage.auth.HasKey(ctx, cur.User.ID)
		if err != nil {
			return nil, err
		}
		step.HasKey = has
		return needs(StepKey, oidc.ErrInteractionRequired().WithDescription("The application requires a sign-in with a security key or passkey."))
	}
	if slices.Contains(a.Prompt, oidc.PromptSelectAccount) && !chosen && !fresh {
		// A sign-in after the request was the choice already.
		return needs(StepSelectAccount, &oidc.Error{ErrorType: "account_selection_required"})
	}
	if !c.FirstParty {
		ok, err := p.consented(ctx, a, cur.User.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return needs(StepConsent, &oidc.Error{ErrorType: "consent_required"})
		}
	}
	return p.complete(ctx, a, c, cur, m)
}

// context prepares ctx for the op package's functions: the issuer, the logger, the call.
func (p *Provider) context(ctx context.Context) context.Context {
	return op.ContextWithIssuer(withLogger(withCall(ctx), p.log), p.issuer)
}

// request loads an open request and its client.
func (p *Provider) request(ctx context.Context, id string) (*store.OIDCAuthRequest, *store.OIDCClient, error) {
	if id == "" || len(id) > 64 || !isText(id) {
		return nil, nil, errUnknownRequest
	}
	a, err := p.storage.st.GetOIDCAuthRequest(ctx, id, p.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errUnknownRequest
	}
	if err != nil {
		return nil, nil, err
	}
	if a.UserID != "" {
		return nil, nil, errUsedRequest
	}
	c, err := p.storage.st.GetOIDCClient(ctx, a.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errUnknownRequest
	}
	return a, c, err
}

// consented reports whether the user let the client have every scope of the request (and,
// with prompt=consent, did so after the request was made).
func (p *Provider) consented(ctx context.Context, a *store.OIDCAuthRequest, userID string) (bool, error) {
	cs, err := p.storage.st.GetOIDCConsent(ctx, userID, a.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if slices.Contains(a.Prompt, oidc.PromptConsent) && cs.GrantedAt.Before(a.CreatedAt) {
		return false, nil
	}
	for _, s := range a.Scopes {
		if !slices.Contains(cs.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// complete binds the request to the session and issues the code (valid CodeLifetime,
// once): the step back to the application.
func (p *Provider) complete(ctx context.Context, a *store.OIDCAuthRequest, c *store.OIDCClient, cur *auth.Current, m auth.Meta) (*Step, error) {
	if cur.Session.State != store.StateAuthenticated || cur.User.Disabled {
		return nil, apperr.ErrUnauthenticated // unreachable: Continue checked it
	}
	done := &store.OIDCAuthRequest{UserID: cur.User.ID, SessionID: cur.Session.ID, AuthTime: cur.Session.AuthTime,
		AMR: slices.Clone(cur.Session.AMR), ACR: acrFor(a.ACRValues, cur.Session.AMR)}
	if err := p.storage.st.CompleteOIDCAuthRequest(ctx, a.ID, done, p.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errUsedRequest
		}
		return nil, err
	}
	a.UserID, a.SessionID, a.AuthTime, a.AMR, a.ACR = done.UserID, done.SessionID, done.AuthTime, done.AMR, done.ACR
	u, err := op.BuildAuthResponseCallbackURL(ctx, &authRequest{a}, p.op)
	if err != nil {
		return nil, fmt.Errorf("issue authorization code: %w", err)
	}
	m.ActorID = cur.User.ID
	if err := audit.Record(ctx, p.storage.st, p.now(), EventAuthorized, cur.User.ID, m,
		fmt.Sprintf("client %s, amr=%v", c.Name, a.AMR)); err != nil {
		p.log.WarnContext(ctx, "audit", "err", err)
	}
	return &Step{Kind: StepRedirect, URL: u, RequestID: a.ID, Client: c}, nil
}

// errorRedirect sends the browser back to the application with an OAuth error.
func (p *Provider) errorRedirect(ctx context.Context, a *store.OIDCAuthRequest, e *oidc.Error) (*Step, error) {
	r, err := op.TryErrorRedirect(ctx, &authRequest{a}, e, p.op.Encoder(), nil)
	if err != nil {
		return nil, err
	}
	return &Step{Kind: StepRedirect, URL: r.URL, RequestID: a.ID}, nil
}

// Consent records the user's answer on the consent page. Allowing it remembers the scopes
// for the client and continues the request; denying it sends access_denied back.
func (p *Provider) Consent(ctx context.Context, id string, cur *auth.Current, allow bool, m auth.Meta) (*Step, error) {
	if cur == nil || cur.Session.State != store.StateAuthenticated {
		return nil, apperr.ErrUnauthenticated
	}
	ctx = p.context(ctx)
	a, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	m.ActorID = cur.User.ID
	if !allow {
		audit.Aside(ctx, p.log, EventConsentDenied, cur.User.ID,
			audit.Record(ctx, p.storage.st, p.now(), EventConsentDenied, cur.User.ID, m, "client "+c.Name))
		return p.errorRedirect(ctx, a, oidc.ErrAccessDenied().WithDescription("The user did not allow access."))
	}
	scopes := slices.Clone(a.Scopes)
	if old, err := p.storage.st.GetOIDCConsent(ctx, cur.User.ID, c.ID); err == nil {
		for _, s := range old.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	err = p.storage.st.WithTx(ctx, func(tx store.Store) error {
		if err := tx.PutOIDCConsent(ctx, &store.OIDCConsent{UserID: cur.User.ID, ClientID: c.ID, Scopes: scopes, GrantedAt: p.now()}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p.now(), EventConsentGranted, cur.User.ID, m, fmt.Sprintf("client %s, scopes %v", c.Name, a.Scopes))
	})
	if err != nil {
		return nil, err
	}
	return p.proceed(ctx, id, cur, m, true) // the consent page named the account
}

// DenyKey sends the browser back to the application with access_denied: the user gave up
// confirming with a security key (or, without one, adding one) on the page StepKey showed.
func (p *Provider) DenyKey(ctx context.Context, id string, cur *auth.Current, m auth.Meta) (*Step, error) {
	if cur == nil || cur.Session.State != store.StateAuthenticated {
		return nil, apperr.ErrUnauthenticated
	}
	ctx = p.context(ctx)
	a, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	has, err := p.storage.auth.HasKey(ctx, cur.User.ID)
	if err != nil {
		return nil, err
	}
	desc := "The user did not confirm the sign-in with a security key or passkey, which the application requires."
	if !has {
		desc = "The application requires a sign-in with a security key or passkey (" + ACRPhishingResistant + "), and the user has none."
	}
	m.ActorID = cur.User.ID
	audit.Aside(ctx, p.log, EventKeyDenied, cur.User.ID,
		audit.Record(ctx, p.storage.st, p.now(), EventKeyDenied, cur.User.ID, m, "client "+c.Name))
	return p.errorRedirect(ctx, a, oidc.ErrAccessDenied().WithDescription("%s", desc))
}

// Describe returns an open request's client and scopes, for pages about it.
func (p *Provider) Describe(ctx context.Context, id string) (*Step, error) {
	a, c, err := p.request(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Step{RequestID: a.ID, Client: c, Scopes: a.Scopes}, nil
}
