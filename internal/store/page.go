package store

import (
	"bytes"
	"crypto/sha256"
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

// ErrBadCursor: a cursor's text is not one Encode made for that list.
var ErrBadCursor = errors.New("store: malformed cursor")

// cursorSumLen is how many bytes of checksum a cursor's text carries.
const cursorSumLen = 6

// Encode is c as opaque, URL-safe text for ?cursor= of the list named list; the zero
// Cursor is "". The text carries a checksum of the list's name and the position, so
// ParseCursor refuses it on any other list, and refuses it cut short or altered. The
// checksum has no key: it guards against mistakes, not against forgery.
func (c Cursor) Encode(list string) string {
	if c.IsZero() {
		return ""
	}
	var at int64
	if !c.At.IsZero() {
		at = c.At.UnixNano()
	}
	pos := strconv.FormatInt(at, 36) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString(append(cursorSum(list, pos), pos...))
}

// cursorSum is the checksum of position pos in the list named list.
func cursorSum(list, pos string) []byte {
	h := sha256.New()
	h.Write([]byte(list))
	h.Write([]byte{0})
	h.Write([]byte(pos))
	return h.Sum(nil)[:cursorSumLen]
}

// ParseCursor reads what Encode(list) wrote; "" is the start. Anything else, including a
// cursor of another list, is ErrBadCursor.
func ParseCursor(list, text string) (Cursor, error) {
	if text == "" {
		return Cursor{}, nil
	}
	if len(text) > 512 {
		return Cursor{}, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(raw) <= cursorSumLen {
		return Cursor{}, ErrBadCursor
	}
	sum, pos := raw[:cursorSumLen], string(raw[cursorSumLen:])
	if !bytes.Equal(sum, cursorSum(list, pos)) {
		return Cursor{}, ErrBadCursor
	}
	at, id, ok := strings.Cut(pos, ".")
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
