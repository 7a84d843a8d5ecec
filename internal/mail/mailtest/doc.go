// Package mailtest helps tests see twofold's mail: an in-process SMTP server (emersion/go-smtp) that records what it receives, a recording Mailer, and a parser for .eml messages.
package mailtest
