// Package register runs self-registration: a request mails a single-use link, and the
// account exists only once that link is confirmed. It never reveals whether an address
// or a name is taken.
package register
