package store

// SupportStore holds support cases, e-mail verification links and MFA resets (issue 4).
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type SupportStore interface {
}
