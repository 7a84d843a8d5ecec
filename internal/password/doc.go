// Package password hashes and verifies passwords with argon2id and decides which new passwords are acceptable.
package password
