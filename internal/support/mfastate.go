package support

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// An mfaState marks the state of an account's MFA as an agent saw it on a case (the case
// page's reset form and the support API carry it back as mfa_state), so that a reset runs
// only on the state the agent decided on: a form posted twice, retried or raced over two
// instances resets once. It is two digests, each 16 hex digits: of the MFA resets the
// support desk recorded for the account (done, on any case), and of its second factors
// (the authenticator, each security key and passkey, the recovery code, each by when it
// was set up, which a use of the recovery code renews) with how many times they were
// reset. Every reset counts one more (store.User.MFAResets) in its transaction, so a
// reset that no case records (an administrator's direct reset, the console's without a
// case) changes the factors' digest even when it removed no factor. The admin console
// and the admin API show the same marker for a user (Service.MFAState), for an
// administrator's reset (ResetByAdmin). It holds no secret, and says nothing a case page
// does not show.
type mfaState struct{ resets, factors string }

// String is the marker as the case page and the API show it.
func (m mfaState) String() string { return m.resets + "." + m.factors }

// errBadMFAState refuses an mfa_state this server does not give out.
var errBadMFAState = apperr.Msg(apperr.CodeBadRequest, "err.mfa_state")

// parseMFAState reads a marker a request carries back: ok is false unless s has the form
// String gives (hex digits in either case). The empty string is the zero mfaState.
func parseMFAState(s string) (m mfaState, ok bool) {
	if s == "" {
		return mfaState{}, true
	}
	resets, factors, found := strings.Cut(strings.ToLower(s), ".")
	if !found || !isDigest(resets) || !isDigest(factors) {
		return mfaState{}, false
	}
	return mfaState{resets, factors}, true
}

func isDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 8
}

// readMFAState reads the state of the user's MFA in st.
func readMFAState(ctx context.Context, st Store, userID string) (mfaState, error) {
	resets, err := st.ListMFAResets(ctx, userID)
	if err != nil {
		return mfaState{}, err
	}
	r := sha256.New()
	for _, x := range resets {
		if x.Status == store.ResetDone {
			fmt.Fprintf(r, "%s\n", x.ID)
		}
	}
	u, err := st.GetUser(ctx, userID)
	if err != nil {
		return mfaState{}, err
	}
	f := sha256.New()
	// Counted only once there is a reset: a marker of an account never reset is the one
	// servers gave out before the count, so forms drawn before an upgrade still post.
	if u.MFAResets > 0 {
		fmt.Fprintf(f, "resets %d\n", u.MFAResets)
	}
	if t, err := st.GetTOTP(ctx, userID); err == nil {
		fmt.Fprintf(f, "app %d\n", t.CreatedAt.UnixMilli())
	} else if !errors.Is(err, store.ErrNotFound) {
		return mfaState{}, err
	}
	keys, err := st.ListWebAuthnCredentials(ctx, userID)
	if err != nil {
		return mfaState{}, err
	}
	for _, k := range keys {
		fmt.Fprintf(f, "key %s %d\n", k.ID, k.CreatedAt.UnixMilli())
	}
	if c, err := st.GetRecoveryCode(ctx, userID); err == nil {
		fmt.Fprintf(f, "recovery %d\n", c.CreatedAt.UnixMilli())
	} else if !errors.Is(err, store.ErrNotFound) {
		return mfaState{}, err
	}
	return mfaState{digest(r.Sum(nil)), digest(f.Sum(nil))}, nil
}

func digest(sum []byte) string { return hex.EncodeToString(sum[:8]) }

// checkMFAState refuses, with a 409 mfa_changed that says what changed, a reset of u on
// case c whose request carries seen, the state of u's MFA the agent saw, when it is no
// longer the state in st (the reset's transaction, which holds the account's lock): a
// reset was recorded since, or a second factor was set up, replaced or removed. A request
// without a state is refused only as refuseRepeat says.
func checkMFAState(ctx context.Context, st store.Store, c *store.SupportCase, u *store.User, seen mfaState) error {
	if seen == (mfaState{}) {
		return refuseRepeat(ctx, st, c, u)
	}
	return compareMFAState(ctx, st, u.ID, seen, caseChanged)
}

// mfaChanged are the catalog keys of the 409 mfa_changed that says what changed, in the
// words of the page the state was read from: a reset recorded since, or the factors.
type mfaChanged struct{ reset, factors string }

var (
	caseChanged = mfaChanged{"err.mfa_changed.reset", "err.mfa_changed.factors"}
	userChanged = mfaChanged{"err.mfa_changed.user_reset", "err.mfa_changed.user_factors"}
)

// compareMFAState refuses, with a 409 mfa_changed in the words of why, when the state of
// the user's MFA in st is no longer seen.
func compareMFAState(ctx context.Context, st store.Store, userID string, seen mfaState, why mfaChanged) error {
	now, err := readMFAState(ctx, st, userID)
	if err != nil {
		return err
	}
	switch {
	case now.resets != seen.resets:
		return apperr.Msg(apperr.CodeMFAChanged, why.reset)
	case now.factors != seen.factors:
		return apperr.Msg(apperr.CodeMFAChanged, why.factors)
	}
	return nil
}

// MFAState is the state of the user's MFA as the admin console and the admin API show it
// (mfa_state), for ResetByAdmin to carry back: the same marker a case shows for the
// account. It holds no secret.
func (s *Service) MFAState(ctx context.Context, userID string) (string, error) {
	m, err := readMFAState(ctx, s.store, userID)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}

// refuseRepeat refuses, with a 409 conflict, a reset of u on case c that carries no state
// of u's MFA (the support API without mfa_state, the console) when c records a reset of
// u done already and u holds no second factor (so none was set up since): the reset would
// remove nothing, and tell the user again of a reset they were told of. A request sent
// twice or retried without the state thus resets once too; a reset after the user set up
// a factor again is made.
func refuseRepeat(ctx context.Context, st store.Store, c *store.SupportCase, u *store.User) error {
	resets, err := st.ListMFAResets(ctx, u.ID)
	if err != nil {
		return err
	}
	done := false
	for _, r := range resets {
		done = done || (r.CaseID == c.ID && r.Status == store.ResetDone)
	}
	if !done {
		return nil
	}
	f, err := st.GetSecondFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	if f.TOTP || f.WebAuthnKeys > 0 || f.RecoveryCode {
		return nil
	}
	return apperr.Msg(apperr.CodeConflict, "err.reset_repeated", "Username", u.Username, "Reference", c.Reference)
}
