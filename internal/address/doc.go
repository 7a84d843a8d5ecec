// Package address proves and changes the e-mail addresses of accounts: the link that
// verifies an address, and a change of address that applies only once the new address
// confirms it.
package address
