package sqlstore

import (
	"context"
	"strings"
)

// listQuery is the text of a filtered list query being built, with the arguments of its
// placeholders in order.
type listQuery struct {
	text string
	args []any
}

// add appends text and the arguments of its placeholders.
func (q *listQuery) add(text string, args ...any) {
	q.text += text
	q.args = append(q.args, args...)
}

// limit appends LIMIT n; 0 adds nothing (no limit).
func (q *listQuery) limit(n int) {
	if n > 0 {
		q.add(` LIMIT ?`, n)
	}
}

// likeEscaper makes user input literal inside a LIKE pattern (ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containing is the LIKE pattern (ESCAPE '\') of the text that holds search, case-folded.
func containing(search string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(search)) + "%"
}

// collect runs q and returns its rows in order, each read by scan.
// A query that writes (ClaimMail's UPDATE … RETURNING) holds the write lock until its rows
// are read and closed (query).
func collect[T any](ctx context.Context, d *DB, q listQuery, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := d.query(ctx, q.text, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, d.wrap(err)
		}
		out = append(out, v)
	}
	return out, d.wrap(rows.Err())
}
