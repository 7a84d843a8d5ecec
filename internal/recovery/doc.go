// Package recovery generates, normalizes and hashes the one-time recovery code a user keeps in case the authenticator is lost.
package recovery
