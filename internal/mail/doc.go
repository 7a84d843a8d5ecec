// Package mail sends twofold's outgoing e-mail: over SMTP, or, with no SMTP server configured, into a file outbox of .eml messages.
package mail
