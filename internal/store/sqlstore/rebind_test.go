package sqlstore

import (
	"strconv"
	"testing"
)

func TestRebindDollar(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT 1":                              "SELECT 1",
		"SELECT a FROM t WHERE b = ?":           "SELECT a FROM t WHERE b = $1",
		"UPDATE t SET a = ?, b = ? WHERE c = ?": "UPDATE t SET a = $1, b = $2 WHERE c = $3",
		"?":                                     "$1",
		"a IN (?,?,?,?,?,?,?,?,?,?) AND b = ?":  "a IN ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) AND b = $11",
	} {
		for i := 0; i < 2; i++ { // rewritten, then kept
			if got := rebindDollar(q); got != want {
				t.Errorf("rebindDollar(%q) #%d = %q, want %q", q, i+1, got, want)
			}
		}
	}
}

// TestRebindDollarKeepsTheText: every query on PostgreSQL passes through rebindDollar, and
// the session check's text is 480 bytes; a text seen before is not rewritten again.
func TestRebindDollarKeepsTheText(t *testing.T) {
	rebindDollar(sessionUserQuery)
	if n := testing.AllocsPerRun(100, func() { rebindDollar(sessionUserQuery) }); n != 0 {
		t.Errorf("rebindDollar of a text seen before allocates %v times, want 0", n)
	}
}

// TestRebindDollarIsBounded: texts built at run time (lists of placeholders) are kept only
// up to maxRebound; past it they are still rewritten right.
func TestRebindDollarIsBounded(t *testing.T) {
	for i := 0; i < maxRebound+50; i++ {
		q := "SELECT ? /* " + strconv.Itoa(i) + " */"
		if got, want := rebindDollar(q), "SELECT $1 /* "+strconv.Itoa(i)+" */"; got != want {
			t.Fatalf("rebindDollar(%q) = %q, want %q", q, got, want)
		}
	}
	if n := reboundN.Load(); n > maxRebound {
		t.Errorf("%d texts kept, want at most %d", n, maxRebound)
	}
}
