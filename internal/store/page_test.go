package store

import (
	"errors"
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 123456789, time.UTC)
	for _, c := range []Cursor{{At: at, ID: "a-b.c"}, {ID: "42"}, {At: at, ID: "x"}} {
		got, err := ParseCursor(c.Encode())
		if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
			t.Errorf("%+v: round trip gives %+v, %v", c, got, err)
		}
	}
	if c, err := ParseCursor(""); err != nil || !c.IsZero() {
		t.Errorf("empty cursor: %+v, %v", c, err)
	}
	for _, bad := range []string{"!", "Zm9v", "LWEuYg", "MC4", string(make([]byte, 600)), "eC4A"} {
		if _, err := ParseCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%q: %v, want ErrBadCursor", bad, err)
		}
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
	f.Add(Cursor{At: time.Unix(1, 2), ID: "abc"}.Encode())
	f.Add("LWEuYg")
	f.Add("%00")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCursor(text)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		again, err := ParseCursor(c.Encode())
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("%q: %+v reads back as %+v, %v", text, c, again, err)
		}
	})
}
