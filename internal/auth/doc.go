// Package auth is the sign-in state machine: passwords, sessions, the MFA policy, authenticator and recovery-code steps, and account administration.
package auth
