package store

// OIDCStore holds OpenID Connect clients, authorization requests, tokens and signing keys (issue 6).
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type OIDCStore interface {
}
