package store

import (
	"context"
	"time"
)

// Support case statuses. Resolved and rejected cases are closed: they change no more,
// except for notes.
const (
	CaseOpen           = "open"
	CaseWaitingForUser = "waiting_for_user"
	CaseResolved       = "resolved"
	CaseRejected       = "rejected"
)

// CaseClosed reports whether status is a final one.
func CaseClosed(status string) bool { return status == CaseResolved || status == CaseRejected }

// SupportCase is a request for help opened on the public support page. It names no
// account: the accounts it concerns are those whose e-mail matches EmailNorm when an
// agent looks (so opening a case never looks an account up).
type SupportCase struct {
	ID           string
	Reference    string // TF-XXXXXX, unique
	FullName     string
	Email        string
	EmailNorm    string
	Organisation string
	Phone        string
	Category     string
	Description  string
	// DescriptionMessage is the description as a catalog sentence with its arguments
	// (support.Text, in JSON) where twofold wrote it (a case an administrator opened for
	// an MFA reset); "" for a description people typed.
	DescriptionMessage string
	Status             string
	AssigneeID         string // empty when unassigned
	IP                 string // who opened it
	UserAgent          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// Proof of e-mail ownership: set when a verification link sent to an account's
	// address was confirmed. Zero time when not confirmed.
	EmailConfirmedAt     time.Time
	EmailConfirmedIP     string
	EmailConfirmedUserID string
	EmailConfirmedNorm   string // the account's e-mail at confirmation time
	ClosedAt             time.Time
	ClosedBy             string
	Resolution           string // the reason given when resolving or rejecting
}

// CaseFilter selects cases; zero values match everything. Newest first.
type CaseFilter struct {
	Status string
	// Search matches, case-insensitively, a part of the reference, name, e-mail or organisation.
	Search string
	Limit  int
}

// CaseEvent is one entry of a case's timeline (a note, an assignment, a reset, ...).
type CaseEvent struct {
	ID      int64
	CaseID  string
	At      time.Time
	Kind    string
	ActorID string // the agent; empty for the public or the console
	Body    string // in English, or a note as typed
	// Message is the entry as a catalog sentence with its arguments (support.Text, in
	// JSON), for the case page to say in its reader's language; "" for a note and for
	// entries written before schema 23.
	Message string
}

// EmailLink is a one-time link proving ownership of an account's e-mail address for a
// case. Only the hash of its token is stored.
type EmailLink struct {
	TokenHash []byte
	CaseID    string
	UserID    string
	EmailNorm string // the address it was sent to
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// MFA reset request statuses.
const (
	ResetPending   = "pending"
	ResetDone      = "done"
	ResetCancelled = "cancelled"
)

// MFAReset records an MFA reset of UserID for CaseID: done at once, or pending until a
// second agent approves it (dual control).
type MFAReset struct {
	ID          string
	CaseID      string
	UserID      string
	RequestedBy string
	// RequestedByToken is the id of the API token that filed the request (RequestedBy is
	// then the token's creator); empty when a person did.
	RequestedByToken string
	Verification     string
	Note             string
	RequestedAt      time.Time
	Status           string
	DecidedBy        string
	DecidedAt        time.Time
}

// SupportStore holds support cases, e-mail verification links and MFA resets (issue 4).
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type SupportStore interface {
	// CreateCase inserts c; a taken reference gives a *ConflictError.
	CreateCase(ctx context.Context, c *SupportCase) error
	// GetCase and GetCaseByReference return ErrNotFound for an unknown id or reference.
	GetCase(ctx context.Context, id string) (*SupportCase, error)
	GetCaseByReference(ctx context.Context, reference string) (*SupportCase, error)
	// ListCases returns the cases f selects, newest first.
	ListCases(ctx context.Context, f CaseFilter) ([]SupportCase, error)
	// AssignCase, SetCaseStatus and ConfirmCaseEmail change a case that is not closed;
	// ErrNotFound for an unknown or closed case.
	AssignCase(ctx context.Context, id, assigneeID string, now time.Time) error
	SetCaseStatus(ctx context.Context, id, status string, now time.Time) error
	ConfirmCaseEmail(ctx context.Context, id, userID, emailNorm, ip string, now time.Time) error
	// CloseCase sets a final status with its reason in one conditional update; ErrNotFound
	// when the case is unknown or already closed, so of parallel closings one wins.
	CloseCase(ctx context.Context, id, status, closedBy, reason string, now time.Time) error
	// AddCaseEvent appends to the case's timeline and sets e.ID, and e.At to the time as kept
	// (to the millisecond).
	AddCaseEvent(ctx context.Context, e *CaseEvent) error
	// ListCaseEvents returns the case's timeline, oldest first.
	ListCaseEvents(ctx context.Context, caseID string) ([]CaseEvent, error)

	// CreateEmailLink stores a verification link. Earlier unused links of the same case
	// stop working, and expired links of every case are dropped.
	CreateEmailLink(ctx context.Context, l *EmailLink) error
	// GetEmailLink returns ErrNotFound unless the link is unused and unexpired at now.
	GetEmailLink(ctx context.Context, tokenHash []byte, now time.Time) (*EmailLink, error)
	// UseEmailLink marks the link used in one conditional update; ErrNotFound when it was
	// used already, expired or never existed, so a link works once.
	UseEmailLink(ctx context.Context, tokenHash []byte, now time.Time) error

	// CreateMFAReset stores a reset; a second pending reset for one case gives a
	// *ConflictError.
	CreateMFAReset(ctx context.Context, r *MFAReset) error
	// GetPendingMFAReset returns the case's reset waiting for approval, or ErrNotFound.
	GetPendingMFAReset(ctx context.Context, caseID string) (*MFAReset, error)
	// ListPendingMFAResets returns the user's resets waiting for approval (on any case),
	// oldest first; none is not an error.
	ListPendingMFAResets(ctx context.Context, userID string) ([]MFAReset, error)
	// ListMFAResets returns the user's resets on every case and in every status, oldest
	// first (by request time, then id); none is not an error.
	ListMFAResets(ctx context.Context, userID string) ([]MFAReset, error)
	// ApproveMFAReset marks a pending reset done by approverID in one conditional update;
	// ErrNotFound when it is not pending any more or approverID requested it.
	ApproveMFAReset(ctx context.Context, id, approverID string, now time.Time) error
	// CancelMFAResets cancels the case's pending resets and returns how many.
	CancelMFAResets(ctx context.Context, caseID, by string, now time.Time) (int, error)
}
