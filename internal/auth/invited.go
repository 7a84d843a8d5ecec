package auth

import (
	"context"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// NoPassword is the password hash of an account created by invitation before the
// invitation is accepted: no password matches it, so the account cannot sign in.
const NoPassword = ""

// CreateInvitedUser validates a new account and stores it in st (the caller's transaction)
// without a password: nu.Password is ignored, and no password signs it in until
// SetFirstPassword gives it one. Bad input and a taken username or e-mail return
// application errors with a clear reason, as CreateUser's.
func (s *Service) CreateInvitedUser(ctx context.Context, st store.Store, nu NewUser, m Meta) (*store.User, error) {
	u, err := s.newUser(nu)
	if err != nil {
		return nil, err
	}
	// The address is verified when the link mailed to it is used, not before.
	u.PasswordHash, u.EmailVerified = NoPassword, false
	if err := s.insertUser(ctx, st, u, m); err != nil {
		return nil, err
	}
	return u, nil
}

// HashNewPassword checks pw against the policy for u (weak_password with the reason) and
// hashes it. It runs outside transactions: hashing is slow.
func (s *Service) HashNewPassword(ctx context.Context, u *store.User, pw string) (string, error) {
	if err := s.checkPolicy(pw, u.Username, u.Email); err != nil {
		return "", err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", hashErr(err)
	}
	return hash, nil
}

// SetFirstPassword gives u, an account that has no password yet, the password hash (from
// HashNewPassword) in st, the caller's transaction, and opens its first session: the
// password was just chosen, so the session is where a sign-in with it would be,
// enrollment_required when the policy wants MFA (the account has no authenticator yet)
// and authenticated otherwise. The caller sets the session cookie.
func (s *Service) SetFirstPassword(ctx context.Context, st store.Store, u *store.User, hash string, m Meta) (*Current, error) {
	now := s.now()
	if err := st.SetUserPasswordHash(ctx, u.ID, hash, now); err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	state := store.StateAuthenticated
	if s.MFARequired(&u.Account) {
		state = store.StateEnrollmentRequired
	}
	sess, tok, err := s.newSession(u, state, []string{"pwd"}, m)
	if err != nil {
		return nil, err
	}
	if err := st.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	m.ActorID = u.ID
	if state == store.StateAuthenticated {
		if err := st.SetUserLastLogin(ctx, u.ID, now); err != nil {
			return nil, err
		}
		if err := s.record(ctx, st, audit.LoginSucceeded, u.ID, m, "amr=pwd via=invitation"); err != nil {
			return nil, err
		}
	}
	return &Current{Session: &sess.Session, User: &u.Account, Token: tok}, nil
}
