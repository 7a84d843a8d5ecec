package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// Authenticate resolves a session token. It returns ErrUnauthenticated for an unknown,
// expired or idle token and for a disabled user; expired rows are left to housekeeping. It
// never checks the state: callers decide which states they serve.
func (s *Service) Authenticate(ctx context.Context, token string) (*Current, error) {
	if token == "" || len(token) > 128 {
		return nil, apperr.ErrUnauthenticated
	}
	// One query reads the session and its user. The store answers it from memory only
	// while nobody committed a change to it since it read it (sqlstore's sessionCache), so
	// a session ended or a user disabled by any instance or process is refused at the next
	// request.
	x, err := s.store.GetSessionUser(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	sess, u := &x.Session, &x.User
	now := s.now()
	seen := s.seenAt(sess, now)
	if now.Sub(seen) >= touchInterval && s.batch.Load() == nil {
		// Decided on below (idle, the next touch): the stored time, not an older one the
		// lookup may have answered from memory (on PostgreSQL another instance's touch
		// empties no cache). With batched touches (SQLite) every commit empties the cache,
		// so the lookup read the stored time, and seenAt added the ones noted since.
		stored, err := s.store.SessionLastSeen(ctx, sess.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, apperr.ErrUnauthenticated
		}
		if err != nil {
			return nil, err
		}
		if stored.After(seen) {
			seen = stored
		}
	}
	expired := !now.Before(sess.ExpiresAt) ||
		(sess.State == store.StateAuthenticated && now.Sub(seen) > s.idle)
	if expired || u.Disabled {
		return nil, apperr.ErrUnauthenticated
	}
	if now.Sub(seen) >= touchInterval {
		if err := s.touch(ctx, sess.ID, now); err != nil {
			return nil, err
		}
		seen = now
	}
	sess.LastSeenAt = seen
	return &Current{Session: sess, User: u, Token: token, HasTOTP: x.HasTOTP, WebAuthnKeys: x.WebAuthnKeys}, nil
}

// newSession builds a session for u in state with amr; the caller stores it.
func (s *Service) newSession(u *store.User, state string, amr []string, m Meta) (*store.SessionRecord, string, error) {
	tok, hash, err := s.newToken()
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	sess := &store.SessionRecord{
		Session: store.Session{ID: newID(), TokenHash: hash, UserID: u.ID, State: state, AMR: amr,
			AuthTime: now, LastSeenAt: now, ExpiresAt: s.expiry(state, now)},
		CreatedAt: now, IP: m.IP, UserAgent: truncate(m.UserAgent, 256),
	}
	return sess, tok, nil
}

// expiry is when a session reaching state at t ends at the latest.
func (s *Service) expiry(state string, t time.Time) time.Time {
	if state == store.StateAuthenticated {
		return t.Add(s.lifetime)
	}
	return t.Add(PartialSessionTTL)
}

// stepUp moves cur's session to state with amr under a fresh token, in st (a transaction),
// and returns the new token; proved says the step proved the second factor (its time is
// recorded; otherwise the session keeps the time of its last proof, and a signed-in one its
// auth time). A token steps up
// once: a parallel step-up of the same token gets ErrUnauthenticated.
func (s *Service) stepUp(ctx context.Context, st store.Store, cur *Current, state string, amr []string, proved bool) (string, error) {
	tok, hash, err := s.newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	next := *cur.Session
	next.TokenHash, next.State, next.AMR, next.LastSeenAt = hash, state, amr, now
	if proved || cur.Session.State != store.StateAuthenticated {
		// An authentication: a second factor, or the end of a sign-in. Adding a factor in
		// a signed-in session authenticates nobody and keeps the sign-in's time.
		next.AuthTime = now
	}
	if proved {
		next.SecondFactorAt = now
	}
	if cur.Session.State != store.StateAuthenticated {
		next.ExpiresAt = s.expiry(state, now)
	}
	if err := st.StepUpSession(ctx, cur.Session.ID, cur.Session.TokenHash, &next); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", apperr.ErrUnauthenticated
		}
		return "", err
	}
	*cur.Session = next
	cur.Token = tok
	return tok, nil
}

// Sessions lists the user's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context, cur *Current) ([]store.SessionRecord, error) {
	return s.store.ListUserSessions(ctx, cur.User.ID, s.now())
}

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && v[n]&0xC0 == 0x80 {
		n--
	}
	return v[:n]
}

// Applications lists the applications the user let in (a consent, or a live grant of a
// first-party application), by name.
func (s *Service) Applications(ctx context.Context, cur *Current) ([]store.OIDCApplication, error) {
	return s.store.ListUserOIDCApplications(ctx, cur.User.ID, s.now())
}

// ErrUnknownUser answers an administrator's question about a user id nobody has.
var ErrUnknownUser = apperr.Msg(apperr.CodeNotFound, "err.user_unknown")

// UserApplications is Applications for an administrator: the user with the id, and the
// applications they let in. ErrUnknownUser when there is no such user.
func (s *Service) UserApplications(ctx context.Context, userID string) (*store.User, []store.OIDCApplication, error) {
	u, err := s.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUnknownUser
	} else if err != nil {
		return nil, nil, err
	}
	apps, err := s.store.ListUserOIDCApplications(ctx, userID, s.now())
	return u, apps, err
}

// ErrNoSuchSession answers a sign-out of a session the user does not have (or no longer has).
var ErrNoSuchSession = apperr.Msg(apperr.CodeNotFound, "err.no_such_session")

// SignOutSession ends one other session of the user (a device on the security page) and
// what was obtained through it. A session that is not the user's is ErrNoSuchSession, so
// nobody learns of others' sessions; the session the user acts from is refused: signing
// out is for that.
func (s *Service) SignOutSession(ctx context.Context, cur *Current, id string, m Meta) error {
	if id == cur.Session.ID {
		return apperr.Msg(apperr.CodeBadRequest, "err.current_session")
	}
	m.ActorID = cur.User.ID
	return s.accountTx(ctx, cur.User.ID, func(st store.Store) error {
		list, err := st.ListUserSessions(ctx, cur.User.ID, s.now())
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(list, func(x store.SessionRecord) bool { return x.ID == id }) {
			return ErrNoSuchSession
		}
		_, err = s.EndIn(ctx, st, SignOutSession, cur.User.ID, id, m)
		return err
	})
}
