package store

import (
	"context"
	"errors"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
)

// Sentinel errors. Implementations wrap them; callers branch with errors.Is.
var (
	// ErrNotFound: no row matched (including a conditional update whose condition failed).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique constraint would be violated.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable: the database cannot be reached right now. It is also
	// apperr.ErrUnavailable (errors.As finds it), so every caller answers 503 with
	// Retry-After without mapping it: this sentinel is the one place that decides it.
	ErrUnavailable error = unavailable{}
	// ErrInvalidText: a text argument is not valid UTF-8 or holds a NUL. Every method
	// refuses such input with this error before touching the database, on every backend;
	// callers answer 400 (or, where input is a credential, treat it as a wrong one first).
	ErrInvalidText = errors.New("store: text is not valid UTF-8 or holds a NUL")
	// ErrLockOrder: LockAccount was called outside a transaction, after a statement of
	// the transaction that wrote or locked rows, or for a second account. A programming
	// error, found by the tests on either backend.
	ErrLockOrder = errors.New("store: an account's lock must be the transaction's first lock, and its only one")
)

// DeletedUsername is the name the consoles give an account that no longer exists, where
// a case or a pending reset names who acted. No username can be it: auth.ValidateUsername
// allows no parentheses or spaces. Pages say it in their language (the template function
// who); the APIs answer it as it is.
const DeletedUsername = "(deleted user)"

type unavailable struct{}

func (unavailable) Error() string { return "store: unavailable" }

// Unwrap makes the store's unavailability the application's 503 error.
func (unavailable) Unwrap() error { return apperr.ErrUnavailable }

// ConflictError names the field whose uniqueness a write violated. It matches ErrConflict.
type ConflictError struct{ Field string }

func (e *ConflictError) Error() string { return "store: " + e.Field + " already exists" }

// Is reports that a ConflictError is an ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Roles a user can have.
const (
	RoleUser    = "user"
	RoleSupport = "support"
	RoleAdmin   = "admin"
)

// ValidRole reports whether r is one of the known roles.
func ValidRole(r string) bool { return r == RoleUser || r == RoleSupport || r == RoleAdmin }

// PrivilegedRole reports whether r carries powers over other accounts: an administrator,
// or a support agent (who works cases and approves MFA resets).
func PrivilegedRole(r string) bool { return r == RoleSupport || r == RoleAdmin }

// MFA override values for a single user; empty means "follow the policy".
const (
	MFAOverrideDefault = ""
	MFAOverrideYes     = "yes"
	MFAOverrideNo      = "no"
)

// Account is who a user is and what they may do: all that a signed-in request reads of
// its user (GetSessionUser). User holds it with the fields only a few operations read.
type Account struct {
	ID       string
	Username string
	Email    string
	// EmailVerified: the user proved to own Email (a confirmed mail link or invitation,
	// or an operator's word at the console). A new address starts unverified.
	EmailVerified bool
	// DisplayName is the name the user goes by (the OIDC name claim); empty when not set.
	DisplayName string
	// Language is the language the user chose for the pages and their mails (a tag
	// such as "de"); empty when they never chose one.
	Language    string
	Role        string
	Disabled    bool
	MFAOverride string
}

// User is a user's whole record: the Account, its unique lookup keys (UsernameNorm and
// EmailNorm), the password hash and the record's times. Read it (GetUser) where an
// operation needs more than the Account, inside that operation.
type User struct {
	Account
	UsernameNorm string
	EmailNorm    string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  time.Time // zero when never
	// MFAResets is how many times the user's MFA was reset (AddUserMFAReset), so that a
	// reset shows in the account's state even when it removed no factor.
	MFAResets int64
}

// TOTPCredential is a confirmed authenticator. SecretEnc is sealed with the master key.
type TOTPCredential struct {
	UserID     string
	SecretEnc  []byte
	LastStep   int64
	CreatedAt  time.Time
	LastUsedAt time.Time // zero when only the confirming code was used
}

// PendingTOTP is an authenticator secret shown to the user but not confirmed yet.
type PendingTOTP struct {
	UserID    string
	SessionID string // the session that drew it; only that session may see or confirm it
	SecretEnc []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SecondFactors says which second factors a user has.
type SecondFactors struct {
	TOTP         bool // a confirmed authenticator
	WebAuthnKeys int  // security keys and passkeys
	RecoveryCode bool // an active recovery code
}

// RecoveryCode is the user's one active recovery code, kept as a keyed hash only.
type RecoveryCode struct {
	UserID    string
	CodeHash  []byte
	CreatedAt time.Time
}

// Session states.
const (
	StateMFARequired        = "mfa_required"
	StateEnrollmentRequired = "enrollment_required"
	StateAuthenticated      = "authenticated"
)

// Session is a browser or API session: all that a request reads of its session
// (GetSessionUser). Only the hash of its token is stored; the token changes at every step
// up while ID stays, so the ID can be shown and referenced.
type Session struct {
	ID         string
	TokenHash  []byte
	UserID     string
	State      string
	AMR        []string
	AuthTime   time.Time // when the current state was reached
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end (partial sessions: 10 minutes after creation)
	NoticeEnc  []byte    // sealed recovery code waiting to be acknowledged on the HTML pages; nil when none
	// SecondFactorAt is when the session last proved the second factor (an authenticator
	// code or the recovery code, at sign-in or since); zero when it never did.
	SecondFactorAt time.Time
}

// SessionRecord is a session's whole row: the Session with when it began and from which
// address and browser, which only the list of a user's sessions shows.
type SessionRecord struct {
	Session
	CreatedAt time.Time
	IP        string
	UserAgent string
}

// SessionUser is a session with its user's account and second factors: what every
// authenticated request reads, in one query.
type SessionUser struct {
	Session Session
	User    Account
	HasTOTP bool
	// WebAuthnKeys is how many security keys and passkeys the user has.
	WebAuthnKeys int
}

// AuditEvent is one append-only security event.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Event     string
	ActorID   string // user who acted; empty for anonymous or console
	SubjectID string // user acted upon
	IP        string
	UserAgent string
	Detail    string // short free text, never a secret
	// Count is how many times the event happened: 1, or more for a counted event.
	Count int
	// Dedup makes the event counted: every event appended with the same Dedup is one row
	// (the first one's time, actor, address and detail) whose Count goes up. Empty: a row
	// of its own.
	Dedup string
}

// AuditFilter selects audit events; zero values match everything. Newest first (by ID,
// the order events were appended), so a page that ends at an ID is continued with
// BeforeID and stays stable while events are appended.
type AuditFilter struct {
	UserID string // actor or subject
	// Event is an event name; ending in "*" it is a prefix ("login.*" for every login event).
	Event string
	IP    string    // the address the event came from, exactly
	Since time.Time // events at or after Since; zero: no lower bound
	Until time.Time // events before Until; zero: no upper bound
	// BeforeID keeps the events with an ID below it: the next page after an event. Zero: from
	// the newest.
	BeforeID int64
	Limit    int // 0: no limit
}

// Store is the storage contract. Every method is safe for concurrent use and atomic on its
// own; WithTx groups several calls into one transaction.
type Store interface {
	SupportStore
	ThrottleStore
	CounterStore
	OIDCStore
	MailStore
	LinkTokenStore
	InvitationStore
	AdminStore
	WebAuthnStore
	APITokenStore
	KeyCheckStore

	// WithTx runs fn with a Store bound to one transaction; it commits when fn returns nil
	// and rolls back otherwise. Calls nested inside fn join the same transaction.
	WithTx(ctx context.Context, fn func(Store) error) error
	// LockAccount, the first statement of a transaction (inside WithTx), makes it the only
	// transaction that works on the user's account until it ends: transactions that change
	// an account's second factors, sessions, budgets or password take it first, so two of
	// them (two tabs of one user, an agent's reset beside the user's own action) take
	// turns instead of locking the account's rows in different orders, which on
	// PostgreSQL ends one of them as a deadlock. Locking the same account again is a
	// no-op; locking it outside a transaction, after a statement that wrote or locked
	// rows, or beside another account is ErrLockOrder.
	LockAccount(ctx context.Context, userID string) error
	// AfterCommit runs fn once the transaction this Store is bound to (inside WithTx)
	// has committed, or at once when it is bound to none; never when the transaction
	// rolls back. fn must not block: it runs on the committing goroutine.
	AfterCommit(fn func())
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error

	// CreateUser inserts u; a taken username or e-mail gives a *ConflictError.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns ErrNotFound for an unknown id.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByUsername looks up the normalised username.
	GetUserByUsername(ctx context.Context, usernameNorm string) (*User, error)
	// GetUserByLogin looks up a normalised identifier as username, then as e-mail.
	GetUserByLogin(ctx context.Context, identifierNorm string) (*User, error)
	// ListUsers returns every user, ordered by normalised username.
	ListUsers(ctx context.Context) ([]User, error)
	// CountUsersWithRole counts the enabled users that have role.
	CountUsersWithRole(ctx context.Context, role string) (int, error)
	// SetUserRole and the other SetUser... methods return ErrNotFound for an unknown id.
	SetUserRole(ctx context.Context, id, role string, now time.Time) error
	SetUserDisabled(ctx context.Context, id string, disabled bool, now time.Time) error
	SetUserMFAOverride(ctx context.Context, id, override string, now time.Time) error
	SetUserPasswordHash(ctx context.Context, id, hash string, now time.Time) error
	SetUserDisplayName(ctx context.Context, id, name string, now time.Time) error
	SetUserLanguage(ctx context.Context, id, lang string, now time.Time) error
	SetUserLastLogin(ctx context.Context, id string, at time.Time) error
	// AddUserMFAReset adds one to the user's MFAResets, in one update; ErrNotFound for an
	// unknown id. It leaves UpdatedAt as it is: the profile did not change.
	AddUserMFAReset(ctx context.Context, id string) error
	// SetUserEmailVerified marks the user's address verified, but only while it is still
	// emailNorm, in one conditional update: ErrNotFound for an unknown id or when the
	// address changed meanwhile, so proof of an old address never verifies a new one.
	SetUserEmailVerified(ctx context.Context, id, emailNorm string, now time.Time) error
	// SetUserEmail changes the user's address and whether it is verified; a
	// *ConflictError (field "email") when another account has emailNorm, ErrNotFound for
	// an unknown id.
	SetUserEmail(ctx context.Context, id, email, emailNorm string, verified bool, now time.Time) error
	// DeleteUser removes the account with everything that hangs on it (sessions,
	// authenticator, security keys, recovery code, OIDC consents, grants and tokens); the audit log keeps
	// its rows. ErrNotFound for an unknown id.
	DeleteUser(ctx context.Context, id string) error

	// GetTOTP returns the confirmed authenticator or ErrNotFound.
	GetTOTP(ctx context.Context, userID string) (*TOTPCredential, error)
	// PutTOTP creates or replaces the confirmed authenticator.
	PutTOTP(ctx context.Context, c *TOTPCredential) error
	// AcceptTOTPStep records step as used when it is greater than the last accepted one, in
	// one conditional update; otherwise (replay, older step, no credential) ErrNotFound.
	AcceptTOTPStep(ctx context.Context, userID string, step int64, now time.Time) error
	DeleteTOTP(ctx context.Context, userID string) error

	// PutPendingTOTP creates or replaces the unconfirmed secret of a user.
	PutPendingTOTP(ctx context.Context, p *PendingTOTP) error
	// GetPendingTOTP returns ErrNotFound when there is none or it expired before now.
	GetPendingTOTP(ctx context.Context, userID string, now time.Time) (*PendingTOTP, error)
	// DeleteOrphanedPendingTOTP removes the user's unconfirmed secret when the session that
	// drew it no longer exists, and returns how many went (0 or 1): a setup ends with its
	// session.
	DeleteOrphanedPendingTOTP(ctx context.Context, userID string) (int, error)
	// ClaimPendingTOTP removes the unconfirmed secret only while it is still the one the
	// session drew (sessionID and secretEnc), in one conditional delete; ErrNotFound when
	// it was claimed, replaced or removed meanwhile. Of parallel confirmations one wins, and
	// a setup started since by another session is never taken.
	ClaimPendingTOTP(ctx context.Context, userID, sessionID string, secretEnc []byte) error

	// GetSecondFactors reads in one query which second factors the user has (none for a
	// user without any, or no such user).
	GetSecondFactors(ctx context.Context, userID string) (SecondFactors, error)
	// GetRecoveryCode returns the active code's hash and creation time, or ErrNotFound.
	GetRecoveryCode(ctx context.Context, userID string) (*RecoveryCode, error)
	// PutRecoveryCode creates or replaces the user's one active code.
	PutRecoveryCode(ctx context.Context, c *RecoveryCode) error
	// ConsumeRecoveryCode replaces the code whose hash is oldHash by newHash in one
	// conditional update; ErrNotFound when oldHash is not the active code.
	ConsumeRecoveryCode(ctx context.Context, userID string, oldHash, newHash []byte, now time.Time) error
	DeleteRecoveryCode(ctx context.Context, userID string) error

	CreateSession(ctx context.Context, s *SessionRecord) error
	// GetSessionByToken returns the session whose token hash matches, or ErrNotFound.
	GetSessionByToken(ctx context.Context, tokenHash []byte) (*SessionRecord, error)
	// GetSessionUser returns the session whose token hash matches with its user's account,
	// read together, or ErrNotFound. Its LastSeenAt may be older than the stored one (a
	// session cache that other instances' touches do not empty); SessionLastSeen reads that.
	GetSessionUser(ctx context.Context, tokenHash []byte) (*SessionUser, error)
	// SessionLastSeen returns the stored last-seen time of the session, or ErrNotFound.
	SessionLastSeen(ctx context.Context, id string) (time.Time, error)
	// StepUpSession moves a session to a new token, state and amr, but only while its token
	// hash is still oldHash (ErrNotFound otherwise), so a token steps up once.
	StepUpSession(ctx context.Context, id string, oldHash []byte, s *Session) error
	// TouchSession, SetSessionNotice and SetSessionSecondFactor return ErrNotFound for an
	// unknown (or ended) session.
	TouchSession(ctx context.Context, id string, at time.Time) error
	SetSessionNotice(ctx context.Context, id string, noticeEnc []byte) error
	// SetSessionSecondFactor records that the session proved the second factor at at.
	SetSessionSecondFactor(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of the user except exceptID (may be empty) and
	// returns how many ended.
	DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error)
	// MarkSessionsEnded notes, for every session of the user but exceptID (may be empty),
	// the action that is ending it, so that the browser holding it can be told why; each
	// note lasts as long as its session would have. Call it before the sessions go. It
	// returns how many sessions it noted.
	MarkSessionsEnded(ctx context.Context, userID, exceptID, action string) (int, error)
	// MarkSessionEnded is MarkSessionsEnded for the one session id; ErrNotFound when no
	// such session exists.
	MarkSessionEnded(ctx context.Context, id, action string) error
	// EndedSession returns the action noted for the ended session whose token hash matches,
	// or ErrNotFound when none is (the session was not ended by an action, or its note
	// expired by now).
	EndedSession(ctx context.Context, tokenHash []byte, now time.Time) (string, error)
	// ListUserSessions returns the user's sessions that have not expired by now, newest first.
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]SessionRecord, error)

	// DeleteExpired removes rows that can no longer be used: sessions past their expiry,
	// authenticated sessions idle since before idleBefore, expired pending authenticator
	// secrets, setup tokens and WebAuthn challenges, counter windows (CounterStore) that started more than a
	// day before now, mail links (LinkTokenStore) that expired more than a day before now,
	// and mail (MailStore) sent more than SentMailKept before now. It is idempotent, so
	// every instance may run it at once.
	DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error)

	// AppendAudit appends an event, or counts one more of a counted event (e.Dedup) in one
	// conditional insert, so instances racing on the same key still make one row. Rows
	// never change otherwise: the database refuses other updates and deletions.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PruneAudit deletes the events that happened before before and returns how many. It is
	// the only way rows leave the audit log: it runs in one transaction (the caller's, inside
	// WithTx), in which alone the database lets rows older than before be deleted.
	PruneAudit(ctx context.Context, before time.Time) (int, error)

	// CreateSetupToken stores the hash of a first-administrator setup token.
	CreateSetupToken(ctx context.Context, tokenHash []byte, expiresAt time.Time) error
	// CheckSetupToken returns ErrNotFound unless the token is unused and unexpired.
	CheckSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error
	// UseSetupToken marks the token used in one conditional update; ErrNotFound when it
	// was used already, expired or never existed.
	UseSetupToken(ctx context.Context, tokenHash []byte, now time.Time) error
	// MarkAdminExisted records for good that an administrator exists (idempotent) and
	// deletes every setup token, in one transaction.
	MarkAdminExisted(ctx context.Context, now time.Time) error
	// ClaimFirstAdmin records that an administrator exists, as MarkAdminExisted does
	// (without deleting the setup tokens), in one conditional insert; ErrConflict when one
	// had existed already. When another transaction recorded it first, it waits for that
	// one to end: as the first statement of a transaction it makes concurrent creations of
	// the first administrator take turns, so that one creates it and the others see it.
	ClaimFirstAdmin(ctx context.Context, now time.Time) error
	// AdminHasExisted reports whether MarkAdminExisted was ever called: true even when
	// every administrator has since been disabled or demoted.
	AdminHasExisted(ctx context.Context) (bool, error)
}

// Transactor runs a function in one transaction of a store (AccountTx, audit.Prune): every
// Store is one.
type Transactor interface {
	WithTx(ctx context.Context, fn func(Store) error) error
}

// AccountTx runs fn in one transaction of db that first takes the lock of the user's
// account (Store.LockAccount). Every transaction that changes an account's second factors,
// sessions, budgets, links, address or password goes through it (or takes the lock
// itself before its first write), so two of them for one account take turns instead of
// locking its rows in different orders.
func AccountTx(ctx context.Context, db Transactor, userID string, fn func(Store) error) error {
	return db.WithTx(ctx, func(st Store) error {
		if err := st.LockAccount(ctx, userID); err != nil {
			return err
		}
		return fn(st)
	})
}
