package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/store"
)

// SetupTokenTTL is how long the first-administrator link works.
const SetupTokenTTL = time.Hour

// NewUser is an account to create.
type NewUser struct {
	Username string
	Email    string
	Role     string
	Password string
	// EmailVerified: whoever creates the account vouches for the address.
	EmailVerified bool
}

// CreateUser validates and stores a new account. Bad input and a taken username or e-mail
// return application errors with a clear reason.
func (s *Service) CreateUser(ctx context.Context, nu NewUser, m Meta) (*store.User, error) {
	u, err := s.prepareUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	err = s.store.WithTx(ctx, func(st store.Store) error { return s.insertUser(ctx, st, u, m) })
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Service) prepareUser(ctx context.Context, nu NewUser) (*store.User, error) {
	u, err := s.newUser(nu)
	if err != nil {
		return nil, err
	}
	if err := s.checkPolicy(nu.Password, u.Username, u.Email); err != nil {
		return nil, err
	}
	if u.PasswordHash, err = s.hasher.Hash(ctx, nu.Password); err != nil {
		return nil, hashErr(err)
	}
	return u, nil
}

// newUser validates nu's name, address and role and returns the account without a
// password hash.
func (s *Service) newUser(nu NewUser) (*store.User, error) {
	name, nameNorm, err := ValidateUsername(nu.Username)
	if err != nil {
		return nil, err
	}
	email, emailNorm, err := ValidateEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	if nu.Role == "" {
		nu.Role = store.RoleUser
	}
	if !store.ValidRole(nu.Role) {
		return nil, apperr.New(apperr.CodeBadRequest, "Unknown role "+apperr.Quote(nu.Role)+": use user, support or admin.")
	}
	now := s.now()
	return &store.User{
		Account:      store.Account{ID: newID(), Username: name, Email: email, EmailVerified: nu.EmailVerified, Role: nu.Role},
		UsernameNorm: nameNorm, EmailNorm: emailNorm, CreatedAt: now, UpdatedAt: now,
	}, nil
}

func (s *Service) insertUser(ctx context.Context, st store.Store, u *store.User, m Meta) error {
	// Usernames never contain '@' and e-mails always do, so sign-in by "username or
	// e-mail" can never match two accounts.
	err := st.CreateUser(ctx, u)
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		if key, ok := takenKeys[ce.Field]; ok {
			return apperr.Msg(apperr.CodeConflict, key).In(ce.Field)
		}
		return apperr.New(apperr.CodeConflict, fmt.Sprintf("That %s is already taken.", ce.Field)).In(ce.Field)
	}
	if err != nil {
		return err
	}
	if err := s.noteRole(ctx, st, u.Role); err != nil {
		return err
	}
	detail := "role=" + u.Role
	if u.EmailVerified {
		detail += " email_verified"
	}
	return s.record(ctx, st, audit.UserCreated, u.ID, m, detail)
}

// noteRole records, when role is admin, that an administrator has existed: from then on
// setup links are deleted and never accepted, whatever becomes of that administrator.
func (s *Service) noteRole(ctx context.Context, st store.Store, role string) error {
	if role != store.RoleAdmin {
		return nil
	}
	return st.MarkAdminExisted(ctx, s.now())
}

// FindUser looks a user up by username or e-mail; apperr not_found when none matches.
func (s *Service) FindUser(ctx context.Context, name string) (*store.User, error) {
	u, err := s.store.GetUserByLogin(ctx, NormalizeLogin(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.CodeNotFound, "No user "+apperr.Quote(name)+".")
	}
	return u, err
}

// SetRole changes a user's role. The server's console may demote the last enabled
// administrator (it can make another one); the admin console uses SetRoleKeepingAnAdmin.
func (s *Service) SetRole(ctx context.Context, u *store.User, role string, m Meta) error {
	return s.setRole(ctx, u, role, m, false)
}

// SetRoleKeepingAnAdmin is SetRole that never demotes the last enabled administrator
// (apperr last_admin).
func (s *Service) SetRoleKeepingAnAdmin(ctx context.Context, u *store.User, role string, m Meta) error {
	return s.setRole(ctx, u, role, m, true)
}

func (s *Service) setRole(ctx context.Context, u *store.User, role string, m Meta, keep bool) error {
	if !store.ValidRole(role) {
		return apperr.New(apperr.CodeBadRequest, "Unknown role "+apperr.Quote(role)+": use user, support or admin.")
	}
	if err := TokenMayGiveRole(m, role); err != nil {
		return err
	}
	return s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		if keep && role != store.RoleAdmin {
			if err := s.keepAnAdmin(ctx, st, u.ID, "err.last_admin_demote"); err != nil {
				return err
			}
		}
		if err := st.SetUserRole(ctx, u.ID, role, s.now()); err != nil {
			return err
		}
		if err := s.noteRole(ctx, st, role); err != nil {
			return err
		}
		detail := u.Role + " -> " + role
		if store.PrivilegedRole(role) && role != u.Role {
			// An invitation link not yet accepted was sent for the old role, perhaps by
			// an API token to an address of its holder's: it must not open an
			// administrator's or agent's account. An administrator resends it.
			n, err := st.InvalidateLinkTokens(ctx, store.LinkInvitation, u.ID, s.now())
			if err != nil {
				return err
			}
			if n > 0 {
				detail += fmt.Sprintf(" invitation_links_ended=%d", n)
			}
		}
		if role != store.RoleAdmin {
			revoked, err := s.revokeTokensOf(ctx, st, u.ID)
			if err != nil {
				return err
			}
			if revoked != "" {
				detail += " " + revoked
			}
		}
		return s.record(ctx, st, audit.UserRoleChanged, u.ID, m, detail)
	})
}

// SetDisabled disables or enables an account. Disabling ends all its access at once (End's
// Disabled). The server's console may disable the last enabled administrator; the admin
// console uses SetDisabledKeepingAnAdmin.
func (s *Service) SetDisabled(ctx context.Context, u *store.User, disabled bool, m Meta) error {
	return s.setDisabled(ctx, u, disabled, m, false)
}

// SetDisabledKeepingAnAdmin is SetDisabled that never disables the last enabled
// administrator (apperr last_admin).
func (s *Service) SetDisabledKeepingAnAdmin(ctx context.Context, u *store.User, disabled bool, m Meta) error {
	return s.setDisabled(ctx, u, disabled, m, true)
}

func (s *Service) setDisabled(ctx context.Context, u *store.User, disabled bool, m Meta, keep bool) error {
	return s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		if keep && disabled {
			if err := s.keepAnAdmin(ctx, st, u.ID, "err.last_admin_disable"); err != nil {
				return err
			}
		}
		if err := st.SetUserDisabled(ctx, u.ID, disabled, s.now()); err != nil {
			return err
		}
		event, detail := audit.UserEnabled, ""
		if disabled {
			event = audit.UserDisabled
			if _, err := s.EndIn(ctx, st, Disabled, u.ID, "", m); err != nil {
				return err
			}
			var err error
			if detail, err = s.revokeTokensOf(ctx, st, u.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, st, event, u.ID, m, detail)
	})
}

// DeleteUser deletes the account: End's Deleted ends all its access, then the account goes
// with its factors, consents and grants, in one transaction with its audit rows. The audit
// log keeps the account's history. The last enabled administrator is never deleted
// (apperr last_admin): nobody could administer the server in the browser after.
func (s *Service) DeleteUser(ctx context.Context, u *store.User, m Meta) error {
	err := s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		fresh, err := st.GetUser(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.CodeNotFound, "No user "+apperr.Quote(u.Username)+".")
		}
		if err != nil {
			return err
		}
		if err := s.keepAnAdmin(ctx, st, u.ID, "err.last_admin_delete"); err != nil {
			return err
		}
		if _, err := s.EndIn(ctx, st, Deleted, u.ID, "", m); err != nil {
			return err
		}
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		revoked, err := s.revokeTokensOf(ctx, st, u.ID)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("username=%s role=%s", fresh.Username, fresh.Role)
		if revoked != "" {
			detail += " " + revoked
		}
		return s.record(ctx, st, audit.UserDeleted, u.ID, m, detail)
	})
	return err
}

// keepAnAdmin refuses (apperr last_admin, with the message key that says what was
// refused) to disable, demote or delete the user id when it is the last enabled
// administrator: nobody could administer the server in the
// browser after. It locks the administrators' rows for the rest of the transaction st, so
// parallel changes to the last two take turns and the second is refused.
func (s *Service) keepAnAdmin(ctx context.Context, st store.Store, id, key string) error {
	n, err := st.LockAdmins(ctx)
	if err != nil {
		return err
	}
	fresh, err := st.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.CodeNotFound, "No such user.")
	}
	if err != nil {
		return err
	}
	if fresh.Role == store.RoleAdmin && !fresh.Disabled && n <= 1 {
		return apperr.Msg(apperr.CodeLastAdmin, key, "Username", fresh.Username)
	}
	return nil
}

// revokeTokensOf revokes, in st, the API tokens the user id created: a token acts with
// its creator's authority, so it ends for good when the creator is demoted, disabled or
// deleted (becoming an administrator again later does not bring it back). It returns
// what the audit detail says of it ("api_tokens_revoked=N"), "" when none was.
func (s *Service) revokeTokensOf(ctx context.Context, st store.Store, id string) (string, error) {
	n, err := st.RevokeAPITokensBy(ctx, id, s.now())
	if err != nil || n == 0 {
		return "", err
	}
	return fmt.Sprintf("api_tokens_revoked=%d", n), nil
}

// SetMFAOverride sets whether this user must use MFA: yes, no, or "" to follow the policy.
func (s *Service) SetMFAOverride(ctx context.Context, u *store.User, value string, m Meta) error {
	if value != store.MFAOverrideYes && value != store.MFAOverrideNo && value != store.MFAOverrideDefault {
		return apperr.New(apperr.CodeBadRequest, "Use yes, no or default.")
	}
	return s.accountTx(ctx, u.ID, func(st store.Store) error {
		if err := TokenMayChangeIn(ctx, st, u.ID, m); err != nil {
			return err
		}
		if err := st.SetUserMFAOverride(ctx, u.ID, value, s.now()); err != nil {
			return err
		}
		shown := value
		if shown == "" {
			shown = "default"
		}
		return s.record(ctx, st, audit.UserMFAOverride, u.ID, m, "mfa_required="+shown)
	})
}

// NeedsSetup reports whether no administrator has ever existed, so a setup link is due.
// Once one has, the console creates or re-enables administrators, never a link.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	existed, err := s.store.AdminHasExisted(ctx)
	return !existed, err
}

// IssueSetupToken makes a one-time token for creating the first administrator in the
// browser, valid for SetupTokenTTL; errSetupToken once an administrator has existed.
func (s *Service) IssueSetupToken(ctx context.Context) (string, error) {
	tok, hash, err := s.newToken()
	if err != nil {
		return "", err
	}
	err = s.store.WithTx(ctx, func(st store.Store) error {
		if err := s.refuseSetupWithAdmin(ctx, st); err != nil {
			return err
		}
		if err := st.CreateSetupToken(ctx, hash, s.now().Add(SetupTokenTTL)); err != nil {
			return err
		}
		return s.record(ctx, st, audit.SetupTokenIssued, "", Meta{}, "")
	})
	return tok, err
}

var errSetupToken = apperr.Msg(apperr.CodeInvalidToken, "err.setup_token")

// takenKeys are the catalog keys of "That ... is already taken." for the fields a person
// types.
var takenKeys = map[string]string{"username": "err.taken_username", "email": "err.taken_email"}

// ErrSetupDone refuses a setup link once an administrator has existed: no link works
// again, and the console adds further administrators.
var ErrSetupDone = apperr.Msg(apperr.CodeInvalidToken, "err.setup_done")

// CheckSetupToken reports whether the setup link still works. A link stops working for
// good once an administrator has existed, even when it was never used (every start and
// every instance prints its own link while none exists) and even when no enabled
// administrator is left.
//
// Once an administrator has existed it returns ErrSetupDone for any link, used or not, so
// the page gives the advice that is true then; before, a link that does not work gets
// errSetupToken.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	if err := s.refuseSetupWithAdmin(ctx, s.store); err != nil {
		return err
	}
	if token == "" || len(token) > 128 {
		return errSetupToken
	}
	err := s.store.CheckSetupToken(ctx, hashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return errSetupToken
	}
	return err
}

// refuseSetupWithAdmin returns ErrSetupDone once an administrator has existed.
func (s *Service) refuseSetupWithAdmin(ctx context.Context, st Store) error {
	existed, err := st.AdminHasExisted(ctx)
	if err != nil {
		return err
	}
	if existed {
		return ErrSetupDone
	}
	return nil
}

// CompleteSetup creates the first administrator with a one-time setup token. The token is
// spent in the same transaction, so it creates one account at most.
func (s *Service) CompleteSetup(ctx context.Context, token string, nu NewUser, m Meta) (*store.User, error) {
	if err := s.CheckSetupToken(ctx, token); err != nil {
		return nil, err
	}
	nu.Role = store.RoleAdmin
	u, err := s.prepareUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	err = s.store.WithTx(ctx, func(st store.Store) error {
		// First the claim, then the link: parallel setups (a link per instance) wait here
		// for the one before them and then see an administrator. Marking the links used
		// first let each hold its own link while the winner deleted them all, and on
		// PostgreSQL every loser waited for the winner that waited for them.
		if err := st.ClaimFirstAdmin(ctx, s.now()); errors.Is(err, store.ErrConflict) {
			return ErrSetupDone
		} else if err != nil {
			return err
		}
		if err := st.UseSetupToken(ctx, hashToken(token), s.now()); errors.Is(err, store.ErrNotFound) {
			return errSetupToken
		} else if err != nil {
			return err
		}
		if err := s.insertUser(ctx, st, u, m); err != nil {
			return err
		}
		return s.record(ctx, st, audit.SetupAdminCreated, u.ID, m, "")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
