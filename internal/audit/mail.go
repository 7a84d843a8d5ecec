package audit

// Mail queue events. The detail names the mail's id and kind, never its content.
const (
	MailFailed  = "mail.failed"  // the queue gave up on a mail: undeliverable for mail.MaxAge, or unreadable
	MailRetried = "mail.retried" // an operator queued a failed mail again (twofold mail retry)
)
