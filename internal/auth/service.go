package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/twofold-id/twofold/internal/audit"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/recovery"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/throttle"
)

// Fixed lifetimes from the design.
const (
	PartialSessionTTL = 10 * time.Minute // mfa_required and enrollment_required sessions
	PendingSetupTTL   = 10 * time.Minute // an unconfirmed authenticator secret
	touchInterval     = time.Minute      // how often activity is written back
)

// Options configure a Service. Store, Hasher and Keyring are required.
type Options struct {
	Store          Store
	Hasher         *password.Hasher
	PasswordPolicy password.Policy
	Keyring        *secrets.Keyring
	// MFARequiredForRole is the configured policy; a user's override wins over it.
	MFARequiredForRole func(role string) bool
	// KeyRequiredForRole is mfa.phishing_resistant: whose second factor must be a security
	// key or passkey (nil: nobody's).
	KeyRequiredForRole func(role string) bool
	Issuer             string // shown in authenticator apps
	IdleTimeout        time.Duration
	Lifetime           time.Duration
	Now                func() time.Time // default time.Now
	Rand               io.Reader        // default crypto/rand.Reader
	Notifier           Notifier         // default: tells nobody
	Metrics            metrics.Recorder // default: records nothing
	Log                *slog.Logger     // default: slog.Default()
	// Throttle is the failure budget of the password step and of the second factor; zero
	// fields take throttle.Default's.
	Throttle throttle.Policy
	// PublicURL is where users reach the server (server.public_url): links in mail lead
	// there, never to a Host header a request could forge.
	PublicURL string
	// AuditRetention is how long audit events are kept (audit.retention); housekeeping
	// prunes older ones. 0 keeps them forever.
	AuditRetention time.Duration
	// WebAuthn is the relying party of security keys and passkeys.
	WebAuthn WebAuthnOptions
	// BatchTouches writes the sessions' last-seen times in batches while FlushTouches
	// runs (SQLite: each commit empties the session cache). Off, each is written at once,
	// as instances on one PostgreSQL need to see each other's.
	BatchTouches bool
	// TouchFlushInterval is how often batched last-seen times are written (default 5 s).
	TouchFlushInterval time.Duration
}

// Service implements every sign-in and account operation. It knows nothing of HTTP.
type Service struct {
	store      Store
	hasher     *password.Hasher
	policy     password.Policy
	totpBox    *secrets.Box
	noticeBox  *secrets.Box
	proofBox   *secrets.Box
	recovery   *recovery.Hasher
	mfaForRole func(string) bool
	keyForRole func(string) bool
	issuer     string
	idle       time.Duration
	lifetime   time.Duration
	now        func() time.Time
	rand       io.Reader
	notifier   Notifier
	metrics    metrics.Recorder
	log        *slog.Logger
	throttle   throttle.Policy
	retention  time.Duration
	publicURL  string
	// webauthn is the relying party; passwordless and allowedAAGUIDs as in WebAuthnOptions.
	webauthn       *webauthn.WebAuthn
	passwordless   bool
	allowedAAGUIDs []uuid.UUID
	// batchTouches is Options.BatchTouches; batch holds the noted last-seen times while
	// FlushTouches runs (nil: write each at once).
	batchTouches bool
	touchFlush   time.Duration
	batch        atomic.Pointer[touches]
}

// TOTPSecretPurpose names the keyring box that seals authenticator secrets, with the user's
// id as additional data (twofold restore opens one to check the master key).
const TOTPSecretPurpose = "totp-secret"

// New returns a Service. It panics when o.WebAuthn is not a valid relying party
// (config.Validate refuses such settings first).
func New(o Options) *Service {
	s := &Service{
		store:        o.Store,
		hasher:       o.Hasher,
		policy:       o.PasswordPolicy,
		totpBox:      o.Keyring.Box(TOTPSecretPurpose),
		noticeBox:    o.Keyring.Box("session-notice"),
		proofBox:     o.Keyring.Box("reset-proof"),
		recovery:     recovery.NewHasher(o.Keyring.Derive("recovery-code")),
		mfaForRole:   o.MFARequiredForRole,
		keyForRole:   o.KeyRequiredForRole,
		issuer:       o.Issuer,
		idle:         o.IdleTimeout,
		batchTouches: o.BatchTouches,
		touchFlush:   cmp.Or(o.TouchFlushInterval, touchFlushInterval),
		lifetime:     o.Lifetime,
		now:          o.Now,
		rand:         o.Rand,
		notifier:     o.Notifier,
		metrics:      metrics.Or(o.Metrics),
		log:          o.Log,
		throttle:     o.Throttle.OrDefault(),
		retention:    o.AuditRetention,
		publicURL:    o.PublicURL,
	}
	wa, err := newWebAuthn(o.WebAuthn)
	if err != nil {
		panic(fmt.Sprintf("auth: webauthn relying party: %v", err))
	}
	s.webauthn, s.passwordless, s.allowedAAGUIDs = wa, o.WebAuthn.Passwordless, o.WebAuthn.AllowedAAGUIDs
	if s.policy.MaxLength <= 0 {
		s.policy.MaxLength = password.DefaultPolicy.MaxLength
	}
	if s.policy.MinLength <= 0 {
		s.policy.MinLength = password.DefaultPolicy.MinLength
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.notifier == nil {
		s.notifier = nopNotifier{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.mfaForRole == nil {
		s.mfaForRole = func(string) bool { return true }
	}
	if s.issuer == "" {
		s.issuer = "twofold"
	}
	if s.idle == 0 {
		s.idle = time.Hour
	}
	if s.lifetime == 0 {
		s.lifetime = 12 * time.Hour
	}
	return s
}

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.now() }

// Meta describes the request an operation comes from, for the audit log.
type Meta = audit.Meta

// Current is an authenticated request's session with its user's account. What else an
// operation needs of the user (the password hash, the record's times) it reads itself.
type Current struct {
	Session *store.Session
	User    *store.Account
	Token   string
	// HasTOTP and WebAuthnKeys say whether the user had a confirmed authenticator and how
	// many security keys when Authenticate read the session (not kept up to date by the
	// steps that change them).
	HasTOTP      bool
	WebAuthnKeys int
}

// MFARequired reports whether the user must use MFA: always under the phishing-resistant
// policy, else the per-user override, else the policy.
func (s *Service) MFARequired(u *store.Account) bool {
	if s.PhishingResistant(u) {
		return true
	}
	switch u.MFAOverride {
	case store.MFAOverrideYes:
		return true
	case store.MFAOverrideNo:
		return false
	}
	return s.mfaForRole(u.Role)
}

// newToken returns a fresh 256-bit session token and its stored hash.
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

func (s *Service) record(ctx context.Context, st audit.Appender, event, subject string, m Meta, detail string) error {
	return audit.Record(ctx, st, s.now(), event, subject, m, detail)
}

// recordAside records an event beside an answer already decided, such as a failed
// attempt: a failure to record it is logged (audit.Aside), and the answer stands. Like
// every audit row it is written also when the client has gone away (audit.RecordCounted).
func (s *Service) recordAside(ctx context.Context, event, subject string, m Meta, detail string) {
	audit.Aside(ctx, s.log, event, subject, s.record(ctx, s.store, event, subject, m, detail))
}

func newID() string { return uuid.NewString() }
