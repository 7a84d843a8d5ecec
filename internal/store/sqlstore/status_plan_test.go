package sqlstore

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUserStatusFindsBudgetsByKey: the admin console's user list and counts decide each
// listed account's "locked" status by its budgets; SQLite must find them by the budgets'
// key, not read the whole budget table for every account (a password spray leaves one
// budget per unknown name, so that was accounts × budgets rows per listing).
func TestUserStatusFindsBudgetsByKey(t *testing.T) {
	ctx := t.Context()
	d, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "twofold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+userStatus+` FROM users u`, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "SEARCH b USING PRIMARY KEY") {
		t.Errorf("the status's budget lookup is not a search by the budgets' key:\n%s", text)
	}
	if strings.Contains(text, "SCAN b") {
		t.Errorf("the status reads every budget for each account:\n%s", text)
	}
}
