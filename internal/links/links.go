package links

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

// Store is every store method links use; a store.Store is one. Each function takes only
// the part it needs (Issuer, Peeker, Consumer).
type Store interface {
	Issuer
	Peeker
	Consumer
}

var _ Store = store.Store(nil)

// Issuer is the part of the store Issue and Invalidate use.
type Issuer interface {
	CreateLinkToken(ctx context.Context, l *store.LinkToken) error
	InvalidateLinkTokens(ctx context.Context, purpose, userID string, now time.Time) (int, error)
}

// Peeker is the part of the store Peek uses.
type Peeker interface {
	PeekLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*store.LinkToken, error)
}

// Consumer is the part of the store Consume uses.
type Consumer interface {
	ConsumeLinkToken(ctx context.Context, purpose string, tokenHash []byte, now time.Time) (*store.LinkToken, error)
}

// ErrInvalid is the one answer for a link that cannot be used: unknown, used, replaced,
// expired or of another purpose (400 invalid_token).
var ErrInvalid = apperr.Msg(apperr.CodeInvalidToken, "err.link_invalid")

// maxToken bounds what is hashed and looked up: tokens are 43 characters of base64url.
const maxToken = 128

// Link is a link to issue.
type Link struct {
	Purpose string // one of the store.Link... purposes
	UserID  string // the account it acts on; empty when there is none yet
	Email   string // the address the mail goes to
	// Payload is marshalled to JSON and handed back by Peek and Consume (see Decode); nil
	// for none. At most store.MaxLinkPayload bytes once marshalled.
	Payload any
	TTL     time.Duration
	// Decoy stores a link that is dead at birth (already used), with exactly the store
	// calls a real one takes: a flow that must not tell whether an account exists issues a
	// decoy where it has no account to mail, and mails nothing.
	Decoy bool
}

// Issue stores a new link and returns its token: 256 bits from rnd, base64url. The
// account's earlier live links of the same purpose stop working, so only the newest mail
// works (without an account there are none). Call it inside the transaction that records
// the event the mail belongs to; the token itself is never stored. Known and unknown
// accounts, real links and decoys all take the same store calls.
func Issue(ctx context.Context, st Issuer, rnd io.Reader, now time.Time, l Link) (string, error) {
	if l.Purpose == "" || l.TTL <= 0 {
		return "", fmt.Errorf("links: issue needs a purpose and a positive lifetime")
	}
	var payload []byte
	if l.Payload != nil {
		var err error
		if payload, err = json.Marshal(l.Payload); err != nil {
			return "", fmt.Errorf("links: marshal payload: %w", err)
		}
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("links: read random: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	if _, err := st.InvalidateLinkTokens(ctx, l.Purpose, l.UserID, now); err != nil {
		return "", err
	}
	row := &store.LinkToken{TokenHash: Hash(tok), Purpose: l.Purpose, UserID: l.UserID,
		Email: l.Email, Payload: payload, CreatedAt: now, ExpiresAt: now.Add(l.TTL)}
	if l.Decoy {
		row.UsedAt = now
	}
	err := st.CreateLinkToken(ctx, row)
	if err != nil {
		return "", err
	}
	return tok, nil
}

// Peek returns the live link of purpose that token names, for the page a link's GET
// shows. It changes nothing. ErrInvalid when there is none.
func Peek(ctx context.Context, st Peeker, purpose, token string, now time.Time) (*store.LinkToken, error) {
	if !tokenOK(token) {
		return nil, ErrInvalid
	}
	l, err := st.PeekLinkToken(ctx, purpose, Hash(token), now)
	return l, invalid(err)
}

// Consume uses up the live link of purpose that token names, in one conditional update,
// and returns it; ErrInvalid when there is none. Of parallel consumes exactly one
// succeeds. Call it inside the transaction that does the link's work, after the checks
// that may refuse the attempt: a rollback makes the link live again.
func Consume(ctx context.Context, st Consumer, purpose, token string, now time.Time) (*store.LinkToken, error) {
	if !tokenOK(token) {
		return nil, ErrInvalid
	}
	l, err := st.ConsumeLinkToken(ctx, purpose, Hash(token), now)
	return l, invalid(err)
}

// Invalidate ends every live link of purpose for userID (when what the links were for
// has changed or been done another way).
func Invalidate(ctx context.Context, st Issuer, purpose, userID string, now time.Time) error {
	_, err := st.InvalidateLinkTokens(ctx, purpose, userID, now)
	return err
}

// Decode unmarshals the link's payload into v; an empty payload leaves v as it is.
func Decode(l *store.LinkToken, v any) error {
	if len(l.Payload) == 0 {
		return nil
	}
	return json.Unmarshal(l.Payload, v)
}

// URL returns the address mailed for a link: publicURL (the server's public URL) joined
// with path, and the token as the query parameter token.
func URL(publicURL, path, token string) string {
	return strings.TrimRight(publicURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// Hash returns what is stored for a token: its SHA-256.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func tokenOK(tok string) bool { return tok != "" && len(tok) <= maxToken }

func invalid(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidText) {
		return ErrInvalid
	}
	return err
}
