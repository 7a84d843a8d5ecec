package audit

// Self-registration events. Subject is the account concerned: the one that already uses
// the address of a request, or the account a confirmation created; empty otherwise.
const (
	// RegistrationRequested: the registration form or API was submitted and answered. The
	// detail says what was sent: a link, a notice to the account that already uses the
	// address, or nothing (the domain is not allowed, the account is disabled, or the
	// mail cap was reached).
	RegistrationRequested = "registration.requested"
	// RegistrationConfirmed: a registration link was confirmed and its account created.
	RegistrationConfirmed = "registration.confirmed"
	// RegistrationMailCapped: the hourly cap on registration mail was reached; written once
	// per hour, by the first refusal.
	RegistrationMailCapped = "registration.mail_capped"
)
