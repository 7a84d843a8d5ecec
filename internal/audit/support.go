package audit

// Support desk events (issue 4). Every step of a support case is one of them; the
// detail names the case reference.
const (
	SupportCaseOpened       = "support.case_opened"
	SupportCaseAssigned     = "support.case_assigned"
	SupportNoteAdded        = "support.note_added"
	SupportVerificationSent = "support.verification_sent"
	SupportEmailConfirmed   = "support.email_confirmed"
	SupportResetRequested   = "support.mfa_reset_requested"
	SupportMFAReset         = "support.mfa_reset"
	SupportResetCancelled   = "support.mfa_reset_cancelled"
	SupportCaseResolved     = "support.case_resolved"
	SupportCaseRejected     = "support.case_rejected"
	// SupportMailCapped: the hourly cap on mail from the public support form was reached;
	// cases are still opened but their confirmations are not sent until the next hour.
	// Written once per hour in which the cap is hit (detail: the cap and the hour).
	SupportMailCapped = "support.mail_capped"
)
