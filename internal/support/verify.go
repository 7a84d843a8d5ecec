package support

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/store"
)

// LinkSent says where a verification link went.
type LinkSent struct {
	Username  string
	Email     string
	ExpiresAt time.Time
}

var errNoAccount = apperr.Msg(apperr.CodeConflict, "err.case_no_account")

var errNotMatching = apperr.Msg(apperr.CodeForbidden, "err.case_not_matching")

// target returns the account the agent acts on: the one whose e-mail matches the case.
// userID may be empty (the only match) or must name that account; any other account is
// refused, so an agent can never act on an account the case does not concern.
func (s *Service) target(ctx context.Context, st store.Store, c *store.SupportCase, userID string) (*store.User, error) {
	accounts, err := s.matchingAccounts(ctx, st, c)
	if err != nil {
		return nil, err
	}
	for _, u := range accounts {
		if userID == "" || u.ID == userID {
			return &u, nil
		}
	}
	if userID != "" {
		return nil, errNotMatching
	}
	return nil, errNoAccount
}

// SendVerification e-mails a one-time link (valid LinkTTL) to the address on file of the
// account matching the case; opening it and pressing Confirm proves ownership of that
// address. A new link replaces the case's earlier unused one. The case waits for the
// user until then. The mail is queued with the link, in the same transaction.
func (s *Service) SendVerification(ctx context.Context, agent *store.Account, ref, userID string, m Meta) (*LinkSent, error) {
	if err := requireAgent(agent); err != nil {
		return nil, err
	}
	tok, hash, err := s.newToken()
	if err != nil {
		return nil, err
	}
	m.ActorID = agent.ID
	now := s.now()
	var c *store.SupportCase
	var u *store.User
	err = s.store.WithTx(ctx, func(st store.Store) error {
		var err error
		if c, err = loadOpenCase(ctx, st, ref); err != nil {
			return err
		}
		if u, err = s.target(ctx, st, c, userID); err != nil {
			return err
		}
		if err := st.CreateEmailLink(ctx, &store.EmailLink{TokenHash: hash, CaseID: c.ID, UserID: u.ID, EmailNorm: u.EmailNorm,
			CreatedBy: agent.ID, CreatedAt: now, ExpiresAt: now.Add(LinkTTL)}); err != nil {
			return err
		}
		if err := st.SetCaseStatus(ctx, c.ID, store.CaseWaitingForUser, now); err != nil {
			return err
		}
		body := say("timeline.verification_sent", "Email", u.Email, "Username", u.Username, "Until", now.Add(LinkTTL))
		if err := s.timeline(ctx, st, c.ID, EventVerificationSent, agent.ID, body); err != nil {
			return err
		}
		link := s.post.Link("/support/verify", tok)
		if _, err := s.post.Send(ctx, st, mail.KindEmailVerification, u.Email, mail.Data{Name: u.Username, Reference: c.Reference,
			Link: link, ExpiresAt: now.Add(LinkTTL), Lang: u.Language}); err != nil {
			return err
		}
		return s.record(ctx, st, audit.SupportVerificationSent, u.ID, m, "case="+c.Reference)
	})
	if err != nil {
		return nil, err
	}
	return &LinkSent{Username: u.Username, Email: u.Email, ExpiresAt: now.Add(LinkTTL)}, nil
}

// newToken returns a fresh 256-bit link token and the hash that is stored.
func (s *Service) newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", nil, fmt.Errorf("read random: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// LinkInfo is what the confirmation page shows about a link.
type LinkInfo struct {
	Reference string
	Email     string
	ExpiresAt time.Time
}

var errBadLink = apperr.Msg(apperr.CodeInvalidToken, "err.support_link")

// tokenOK bounds what is looked up: tokens are 43 characters of base64url.
func tokenOK(tok string) bool { return tok != "" && len(tok) <= 128 }

// CheckLink tells whether a link can still be confirmed, for the page its GET shows. It
// changes nothing: mail scanners open links.
func (s *Service) CheckLink(ctx context.Context, tok string) (*LinkInfo, error) {
	if !tokenOK(tok) {
		return nil, errBadLink
	}
	l, err := s.store.GetEmailLink(ctx, hashToken(tok), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadLink
	}
	if err != nil {
		return nil, err
	}
	return s.linkInfo(ctx, s.store, l)
}

func (s *Service) linkInfo(ctx context.Context, st Store, l *store.EmailLink) (*LinkInfo, error) {
	u, err := st.GetUser(ctx, l.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadLink
	}
	if err != nil {
		return nil, err
	}
	if u.EmailNorm != l.EmailNorm {
		return nil, errBadLink // the account's address changed since the link was sent
	}
	c, err := st.GetCase(ctx, l.CaseID)
	if err != nil {
		return nil, err
	}
	if store.CaseClosed(c.Status) {
		return nil, errBadLink
	}
	return &LinkInfo{Reference: c.Reference, Email: u.Email, ExpiresAt: l.ExpiresAt}, nil
}

// ConfirmLink spends a link (once: of parallel confirmations one wins), records on its
// case that ownership of the account's e-mail address is confirmed, with time and the
// client's IP address, and marks the account's address verified. A used, expired or unknown link, a closed case and an account
// whose address changed since give invalid_token.
func (s *Service) ConfirmLink(ctx context.Context, tok string, m Meta) (*LinkInfo, error) {
	if !tokenOK(tok) {
		return nil, errBadLink
	}
	hash := hashToken(tok)
	var info *LinkInfo
	err := s.store.WithTx(ctx, func(st store.Store) error {
		now := s.now()
		l, err := st.GetEmailLink(ctx, hash, now)
		if errors.Is(err, store.ErrNotFound) {
			return errBadLink
		}
		if err != nil {
			return err
		}
		if info, err = s.linkInfo(ctx, st, l); err != nil {
			return err
		}
		if err := st.UseEmailLink(ctx, hash, now); errors.Is(err, store.ErrNotFound) {
			return errBadLink
		} else if err != nil {
			return err
		}
		if err := st.ConfirmCaseEmail(ctx, l.CaseID, l.UserID, l.EmailNorm, clip(m.IP, 64), now); errors.Is(err, store.ErrNotFound) {
			return errBadLink
		} else if err != nil {
			return err
		}
		// The user proved to own the address: the account's address is verified from now
		// on (only while it is still the one the link went to; linkInfo checked that).
		if err := st.SetUserEmailVerified(ctx, l.UserID, l.EmailNorm, now); errors.Is(err, store.ErrNotFound) {
			return errBadLink
		} else if err != nil {
			return err
		}
		if err := st.SetCaseStatus(ctx, l.CaseID, store.CaseOpen, now); err != nil {
			return err
		}
		body := say("timeline.email_confirmed", "Email", info.Email, "IP", orUnknown(m.IP))
		if err := s.timeline(ctx, st, l.CaseID, EventEmailConfirmed, "", body); err != nil {
			return err
		}
		m.ActorID = ""
		return s.record(ctx, st, audit.SupportEmailConfirmed, l.UserID, m, "case="+info.Reference)
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func orUnknown(ip string) any {
	if ip == "" {
		return say("timeline.unknown_address")
	}
	return ip
}
