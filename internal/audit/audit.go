package audit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Event names. They are stable: operators filter and alert on them.
const (
	LoginSucceeded      = "login.succeeded"
	LoginFailed         = "login.failed"
	PasswordVerified    = "login.password_verified"
	TOTPFailed          = "login.totp_failed"
	RecoveryCodeFailed  = "login.recovery_code_failed"
	RecoveryCodeUsed    = "recovery_code.used"
	RecoveryCodeRenewed = "recovery_code.renewed"
	TOTPSetupStarted    = "totp.setup_started"
	TOTPEnrolled        = "totp.enrolled"
	TOTPReplaced        = "totp.replaced"
	TOTPConfirmFailed   = "totp.confirm_failed"
	ReauthFailed        = "reauthentication.failed"
	// Security keys and passkeys (WebAuthn).
	WebAuthnAdded          = "webauthn.added"
	WebAuthnRemoved        = "webauthn.removed"
	WebAuthnRenamed        = "webauthn.renamed"
	WebAuthnRegisterFailed = "webauthn.register_failed" // a registration answer was refused
	WebAuthnFailed         = "login.webauthn_failed"    // a key's answer at sign-in or step-up was refused
	WebAuthnVerified       = "webauthn.verified"        // a signed-in session proved a key again (step-up)
	// WebAuthnCounterRegressed: a key's signature counter did not increase; two
	// authenticators may hold the key (a cloned key). The assertion was refused.
	WebAuthnCounterRegressed = "webauthn.counter_regressed"
	PasswordChanged          = "password.changed"
	PasswordChangeFailed     = "password.change_failed"
	// PasswordResetRequested: someone asked for a reset link; the detail says whether a
	// link was mailed (subject empty when no account matched).
	PasswordResetRequested = "password.reset_requested"
	PasswordReset          = "password.reset"        // a reset link set a new password
	PasswordResetFailed    = "password.reset_failed" // a reset refused a wrong second factor
	PasswordSet            = "password.set"          // an administrator set the password at the console
	ProfileChanged         = "profile.changed"       // the user set or cleared the display name
	Logout                 = "session.logout"
	SessionReplaced        = "session.replaced"    // a new sign-in in the browser replaced the session
	ClientLogout           = "oidc.logout"         // an application signed the user out (RP-initiated logout)
	ApplicationRemoved     = "oidc.access_removed" // the user removed an application's access (consent and grants)
	AccessEnded            = "access.ended"        // what a password, factor or account change ended
	UserDeleted            = "user.deleted"
	SessionsRevoked        = "session.others_revoked"
	SessionRevoked         = "session.revoked" // the user signed out one other session (a device)
	UserCreated            = "user.created"
	UserRoleChanged        = "user.role_changed"
	UserDisabled           = "user.disabled"
	UserEnabled            = "user.enabled"
	UserMFAOverride        = "user.mfa_override_changed"
	InvitationSent         = "invitation.sent"
	InvitationResent       = "invitation.resent"
	InvitationAccepted     = "invitation.accepted"
	SetupTokenIssued       = "setup.token_issued"
	SetupAdminCreated      = "setup.admin_created"

	// The account's e-mail address.
	EmailVerifySent      = "email.verification_sent" // a link to verify the address went out
	EmailVerified        = "email.verified"          // the user confirmed such a link
	EmailChangeRequested = "email.change_requested"  // a link to a new address went out (detail: to which)
	EmailChangeFailed    = "email.change_failed"     // wrong current password
	EmailChanged         = "email.changed"           // the user confirmed the new address (detail: old -> new)

	// Failure budgets. Subject is the user, or empty for an unknown identifier.
	ThrottleDelayed = "throttle.delayed"  // a failure made the next attempt wait
	ThrottleLocked  = "throttle.locked"   // the failure limit is reached: nothing is checked any more
	ThrottleRefused = "throttle.refused"  // attempts came too early (or locked) and were not checked: one row per wait, counting them
	ThrottleCleared = "throttle.cleared"  // an administrator reset the user's budgets
	SessionsEnded   = "session.all_ended" // an administrator ended every session of the user

	// API tokens for the admin API. The subject is empty; the detail names the token (its
	// id and name, and the scopes of a new one). An action taken with a token has the
	// actor "token:" followed by the token's id.
	APITokenCreated = "api_token.created"
	APITokenRevoked = "api_token.revoked"

	// Pruned: events older than a cutoff left the log (audit.retention, or an operator's
	// twofold audit prune). The detail names the cutoff and how many went.
	Pruned = "audit.pruned"
)

// Meta is who did something and from where.
type Meta struct {
	ActorID   string
	IP        string
	UserAgent string
}

// TokenActorPrefix starts the actor of an action taken with an API token; the token's id
// follows.
const TokenActorPrefix = "token:"

// TokenID is the id of the API token the action is taken with (its actor is "token:" and
// the id), "" when none.
func (m Meta) TokenID() string {
	id, _ := strings.CutPrefix(m.ActorID, TokenActorPrefix)
	if id == m.ActorID {
		return ""
	}
	return id
}

// ByToken reports whether the action is an API token's.
func (m Meta) ByToken() bool { return m.TokenID() != "" }

// Appender is the storage an event is recorded in: a store, or a transaction of one.
type Appender interface {
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
}

// Record appends one event through s (which may be bound to a transaction, so the event
// commits or rolls back with the change it describes).
func Record(ctx context.Context, s Appender, at time.Time, event, subjectID string, m Meta, detail string) error {
	return RecordCounted(ctx, s, at, "", event, subjectID, m, detail)
}

// recordTimeout bounds an audit write that no longer follows its request: as long as SQLite
// waits for its write lock (busy_timeout).
const recordTimeout = 10 * time.Second

// RecordCounted is Record for an event that repeats: every event recorded with the same
// key is one row (the first one's time, address and detail) that counts them. An empty
// key records a row of its own.
//
// An event is recorded also when the client whose request caused it has gone away (ctx
// canceled): it happened all the same, and a guesser who drops each connection must leave
// the same trace as one who waits for the answer. The write then has recordTimeout of its
// own, so a stalled database cannot hold it for good. In a transaction, the transaction's
// own context still decides whether the row commits with the rest.
func RecordCounted(ctx context.Context, s Appender, at time.Time, key, event, subjectID string, m Meta, detail string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return s.AppendAudit(ctx, &store.AuditEvent{
		Dedup:     key,
		At:        at,
		Event:     event,
		ActorID:   m.ActorID,
		SubjectID: subjectID,
		IP:        truncate(m.IP, 64),
		UserAgent: truncate(m.UserAgent, 256),
		Detail:    truncate(detail, 512),
	})
}

// MinRetention is the youngest an event may be to be pruned: a typing slip in a cutoff or
// in audit.retention must not empty the log.
const MinRetention = 24 * time.Hour

// Prune deletes the events that happened before before and records, in the same
// transaction, an audit.pruned event saying how many went: the log never loses rows
// without a row saying so. When always is false (housekeeping) a prune that found nothing
// to delete records nothing. A cutoff within MinRetention of now is refused.
func Prune(ctx context.Context, s store.Transactor, now, before time.Time, m Meta, always bool) (int, error) {
	if before.After(now.Add(-MinRetention)) {
		return 0, fmt.Errorf("prune before %s: the log always keeps the last %s; give an earlier cutoff",
			before.UTC().Format(time.RFC3339), MinRetention)
	}
	var n int
	err := s.WithTx(ctx, func(tx store.Store) error {
		var err error
		if n, err = tx.PruneAudit(ctx, before); err != nil || (n == 0 && !always) {
			return err
		}
		return Record(ctx, tx, now, Pruned, "", m, fmt.Sprintf("%d events before %s", n, before.UTC().Format(time.RFC3339)))
	})
	return n, err
}

// Aside reports an event recorded beside an answer already decided (a failed attempt, a
// refusal, a denial): the answer must not depend on the log, so when recording failed
// (err) the event is logged at error level instead, never dropped in silence. Where the
// event is the point of a change, record it in the change's transaction instead.
func Aside(ctx context.Context, log *slog.Logger, event, subjectID string, err error) {
	if err != nil {
		log.ErrorContext(ctx, "audit event not recorded", "event", event, "subject", subjectID, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
