package audit

import (
	"context"
	"time"

	"github.com/twofold-id/twofold/internal/store"
)

// Event names. They are stable: operators filter and alert on them.
const (
	LoginSucceeded       = "login.succeeded"
	LoginFailed          = "login.failed"
	PasswordVerified     = "login.password_verified"
	TOTPFailed           = "login.totp_failed"
	RecoveryCodeFailed   = "login.recovery_code_failed"
	RecoveryCodeUsed     = "recovery_code.used"
	RecoveryCodeRenewed  = "recovery_code.renewed"
	TOTPSetupStarted     = "totp.setup_started"
	TOTPEnrolled         = "totp.enrolled"
	TOTPReplaced         = "totp.replaced"
	TOTPConfirmFailed    = "totp.confirm_failed"
	ReauthFailed         = "reauthentication.failed"
	PasswordChanged      = "password.changed"
	PasswordChangeFailed = "password.change_failed"
	Logout               = "session.logout"
	SessionReplaced      = "session.replaced" // a new sign-in in the browser replaced the session
	ClientLogout         = "oidc.logout"      // an application signed the user out (RP-initiated logout)
	AccessEnded          = "access.ended"     // what a password, factor or account change ended
	UserDeleted          = "user.deleted"
	SessionsRevoked      = "session.others_revoked"
	UserCreated          = "user.created"
	UserRoleChanged      = "user.role_changed"
	UserDisabled         = "user.disabled"
	UserEnabled          = "user.enabled"
	UserMFAOverride      = "user.mfa_override_changed"
	SetupTokenIssued     = "setup.token_issued"
	SetupAdminCreated    = "setup.admin_created"

	// Failure budgets (issue 5). Subject is the user, or empty for an unknown identifier.
	ThrottleDelayed = "throttle.delayed"  // a failure made the next attempt wait
	ThrottleLocked  = "throttle.locked"   // the failure limit is reached: nothing is checked any more
	ThrottleRefused = "throttle.refused"  // an attempt came too early (or locked) and was not checked
	ThrottleCleared = "throttle.cleared"  // an administrator reset the user's budgets
	SessionsEnded   = "session.all_ended" // an administrator ended every session of the user
)

// Meta is who did something and from where.
type Meta struct {
	ActorID   string
	IP        string
	UserAgent string
}

// Record appends one event through s (which may be bound to a transaction, so the event
// commits or rolls back with the change it describes).
func Record(ctx context.Context, s store.Store, at time.Time, event, subjectID string, m Meta, detail string) error {
	return s.AppendAudit(ctx, &store.AuditEvent{
		At:        at,
		Event:     event,
		ActorID:   m.ActorID,
		SubjectID: subjectID,
		IP:        truncate(m.IP, 64),
		UserAgent: truncate(m.UserAgent, 256),
		Detail:    truncate(detail, 512),
	})
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
