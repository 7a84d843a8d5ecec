// Package throttle decides how long an account must wait after failed sign-in attempts.
package throttle
