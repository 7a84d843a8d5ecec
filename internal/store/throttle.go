package store

// ThrottleStore holds failure budgets and throttling state shared by all instances (issue 5).
// Its methods follow the same rules as Store's: atomic on their own, sentinel errors.
type ThrottleStore interface {
}
