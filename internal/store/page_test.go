package store

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)
	for _, c := range []Cursor{{At: at, ID: "a-b.c"}, {ID: "42"}, {At: at, ID: "x"}} {
		got, err := ParseCursor("users", c.Encode("users"))
		if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
			t.Errorf("%+v: round trip gives %+v, %v", c, got, err)
		}
	}
	if c, err := ParseCursor("users", ""); err != nil || !c.IsZero() {
		t.Errorf("empty cursor: %+v, %v", c, err)
	}
	if (Cursor{}).Encode("users") != "" {
		t.Error("the zero Cursor encodes to text")
	}
}

// TestCursorRefusesWhatEncodeDidNotWrite: a cursor reads back only on its own list, whole
// and unaltered; the position text of the cursors before checksums is refused too.
func TestCursorRefusesWhatEncodeDidNotWrite(t *testing.T) {
	good := Cursor{At: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), ID: "0193a2b4-7c1d-7e8f-9a0b-1c2d3e4f5a6b"}.Encode("tokens")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct{ name, list, text string }{
		{"another_list", "users", good},
		{"a_list_named_like_it", "tokens ", good},
		{"cut_by_one", "tokens", good[:len(good)-1]},
		{"cut_by_two", "tokens", good[:len(good)-2]},
		{"cut_to_the_checksum", "tokens", good[:8]},
		{"first_character_changed", "tokens", flip(good, 0)},
		{"middle_character_changed", "tokens", flip(good, len(good)/2)},
		{"last_character_changed", "tokens", flip(good, len(good)-1)},
		{"one_more_character", "tokens", good + "A"},
		{"plain_position", "tokens", base64.RawURLEncoding.EncodeToString([]byte("0.38"))},
		{"not_base64", "tokens", "!"},
		{"padded", "tokens", good + "=="},
		{"too_long", "tokens", string(make([]byte, 600))},
		{"garbage", "tokens", "Zm9vYmFyYmF6cXV4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := ParseCursor(tc.list, tc.text); !errors.Is(err, ErrBadCursor) {
				t.Errorf("%q on %q: %+v, %v, want ErrBadCursor", tc.text, tc.list, c, err)
			}
		})
	}
}

func TestNextPage(t *testing.T) {
	key := func(n int) Cursor { return Cursor{ID: string(rune('a' + n))} }
	rows, next := NextPage([]int{1, 2, 3}, 2, key)
	if len(rows) != 2 || next.ID != "c" {
		t.Fatalf("got %v %+v", rows, next)
	}
	if rows, next := NextPage([]int{1, 2}, 2, key); len(rows) != 2 || !next.IsZero() {
		t.Fatalf("last page: %v %+v", rows, next)
	}
}

// FuzzParseCursor: any text is a cursor or ErrBadCursor, never a panic, and a cursor read
// back encodes to text that reads back the same.
func FuzzParseCursor(f *testing.F) {
	f.Add("")
	f.Add(Cursor{At: time.Unix(1, 2), ID: "abc"}.Encode("fuzz"))
	f.Add("LWEuYg")
	f.Add("%00")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCursor("fuzz", text)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		again, err := ParseCursor("fuzz", c.Encode("fuzz"))
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("%q: %+v reads back as %+v, %v", text, c, again, err)
		}
	})
}
