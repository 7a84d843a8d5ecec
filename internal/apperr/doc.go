// Package apperr defines application errors: a stable code and a message safe to show to users.
package apperr
