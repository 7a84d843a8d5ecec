package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// CheckNewPassword checks a new account's password against the policy, with its username
// and e-mail address as context words: weak_password with the reason, or nil.
func (s *Service) CheckNewPassword(pw, username, email string) error {
	return s.checkPolicy(pw, username, email)
}

// MinPasswordLength is the policy's minimum length, for the hint beside a new password.
func (s *Service) MinPasswordLength() int { return s.policy.MinLength }

// HashPassword returns the argon2id hash of a password CheckNewPassword accepted (busy when
// too many hashes run at once). A registration waiting for its mail link keeps only this
// hash, never the clear password.
func (s *Service) HashPassword(ctx context.Context, pw string) (string, error) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", hashErr(err)
	}
	return hash, nil
}

// Registration is an account a confirmed self-registration creates: the name and address
// it was requested with and the hash HashPassword made of its password.
type Registration struct {
	Username     string
	Email        string
	PasswordHash string
}

// ErrRegistrationTaken* are the clear refusals of a confirmation whose name or address an
// account took after the registration was requested. Only whoever holds the link (the
// address's owner) sees them.
var (
	ErrRegistrationNameTaken  = apperr.Msg(apperr.CodeConflict, "err.registration_name_taken")
	ErrRegistrationEmailTaken = apperr.Msg(apperr.CodeConflict, "err.registration_email_taken")
)

// CreateRegistered creates the account of a confirmed registration in st (the transaction
// that consumes its mail link, so a refusal leaves the link as it was) and opens the
// account's first session: enrollment_required when the MFA policy wants an authenticator,
// else authenticated. The account has the user role, and its address is verified: the link
// that confirms it came to that address. A name or address taken since the request gives
// ErrRegistrationNameTaken or ErrRegistrationEmailTaken.
func (s *Service) CreateRegistered(ctx context.Context, st store.Store, reg Registration, m Meta) (*Current, error) {
	name, nameNorm, err := ValidateUsername(reg.Username)
	if err != nil {
		return nil, err
	}
	email, emailNorm, err := ValidateEmail(reg.Email)
	if err != nil {
		return nil, err
	}
	if reg.PasswordHash == "" {
		return nil, errors.New("registration without a password hash")
	}
	now := s.now()
	u := &store.User{
		Account:      store.Account{ID: newID(), Username: name, Email: email, Role: store.RoleUser},
		UsernameNorm: nameNorm, EmailNorm: emailNorm, PasswordHash: reg.PasswordHash, CreatedAt: now, UpdatedAt: now,
	}
	var ce *store.ConflictError
	if err := st.CreateUser(ctx, u); errors.As(err, &ce) {
		if ce.Field == "username" {
			return nil, ErrRegistrationNameTaken
		}
		return nil, ErrRegistrationEmailTaken
	} else if err != nil {
		return nil, err
	}
	// The link that confirms the registration came to this address: it is verified.
	if err := st.SetUserEmailVerified(ctx, u.ID, emailNorm, now); err != nil {
		return nil, err
	}
	u.EmailVerified = true
	m.ActorID = u.ID
	if err := s.record(ctx, st, audit.UserCreated, u.ID, m, "role="+u.Role+" email_verified registered"); err != nil {
		return nil, err
	}
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
	if state == store.StateAuthenticated {
		if err := st.SetUserLastLogin(ctx, u.ID, now); err != nil {
			return nil, err
		}
		u.LastLoginAt = now
		err = s.record(ctx, st, audit.LoginSucceeded, u.ID, m, "amr=pwd registered")
	} else {
		err = s.record(ctx, st, audit.PasswordVerified, u.ID, m, fmt.Sprintf("next=%s registered", state))
	}
	if err != nil {
		return nil, err
	}
	return &Current{Session: &sess.Session, User: &u.Account, Token: tok}, nil
}
