package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Cursor is a position in a list ordered by a time and an id (keyset pagination): the
// last row of the page before. The next page starts right after it, so rows inserted
// meanwhile never shift a page or repeat a row. The zero Cursor is the list's start.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the list's start.
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == "" }

// ErrBadCursor: a cursor's text is not one Encode made.
var ErrBadCursor = errors.New("store: malformed cursor")

// Encode is c as opaque text for ?cursor=; the zero Cursor is "".
func (c Cursor) Encode() string {
	if c.IsZero() {
		return ""
	}
	var at int64
	if !c.At.IsZero() {
		at = c.At.UnixNano()
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 36) + "." + c.ID))
}

// ParseCursor reads what Encode wrote; "" is the start. Anything else is ErrBadCursor.
func ParseCursor(text string) (Cursor, error) {
	if text == "" {
		return Cursor{}, nil
	}
	if len(text) > 512 {
		return Cursor{}, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	at, id, ok := strings.Cut(string(raw), ".")
	if !ok || id == "" || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return Cursor{}, ErrBadCursor
	}
	n, err := strconv.ParseInt(at, 36, 64)
	if err != nil || n < 0 {
		return Cursor{}, ErrBadCursor
	}
	c := Cursor{ID: id}
	if n != 0 {
		c.At = time.Unix(0, n).UTC()
	}
	return c, nil
}

// NextPage cuts rows, fetched with a limit of limit+1, to limit, and returns the cursor
// of the page after (the zero Cursor when rows was the last page). key gives a row's
// position.
func NextPage[T any](rows []T, limit int, key func(T) Cursor) ([]T, Cursor) {
	if limit < 1 || len(rows) <= limit {
		return rows, Cursor{}
	}
	rows = rows[:limit]
	return rows, key(rows[limit-1])
}
