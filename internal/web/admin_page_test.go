package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/store"
)

func TestPageParams(t *testing.T) {
	next := store.Cursor{At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "u1"}
	for _, tc := range []struct {
		name, query string
		cursor      store.Cursor
		limit       int
		bad         string // the field of a 400
	}{
		{"defaults", "", store.Cursor{}, defaultPageLimit, ""},
		{"limit_and_cursor", "?limit=7&cursor=" + next.Encode(listUsers), next, 7, ""},
		{"largest_limit", "?limit=500", store.Cursor{}, maxPageLimit, ""},
		{"zero_limit", "?limit=0", store.Cursor{}, 0, "limit"},
		{"huge_limit", "?limit=501", store.Cursor{}, 0, "limit"},
		{"word_limit", "?limit=ten", store.Cursor{}, 0, "limit"},
		{"forged_cursor", "?cursor=%00%ff", store.Cursor{}, 0, "cursor"},
		{"base64_garbage", "?cursor=Zm9vYmFy", store.Cursor{}, 0, "cursor"},
		{"another_lists_cursor", "?cursor=" + next.Encode(listTokens), store.Cursor{}, 0, "cursor"},
		{"cut_cursor", "?cursor=" + next.Encode(listUsers)[:len(next.Encode(listUsers))-2], store.Cursor{}, 0, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n, err := pageParams(httptest.NewRequest("GET", "/api/v1/admin/users"+tc.query, nil), listUsers)
			if tc.bad != "" {
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.CodeBadRequest || e.Field != tc.bad {
					t.Fatalf("got %v, want a 400 about %s", err, tc.bad)
				}
				return
			}
			if err != nil || n != tc.limit || !c.At.Equal(tc.cursor.At) || c.ID != tc.cursor.ID {
				t.Fatalf("got %+v %d %v", c, n, err)
			}
		})
	}
}

func TestNewPageJSON(t *testing.T) {
	b, _ := json.Marshal(newPage[int](listUsers, nil, store.Cursor{}))
	if string(b) != `{"items":[],"next_cursor":null}` {
		t.Fatalf("last page: %s", b)
	}
	more := store.Cursor{ID: "x"}
	b, _ = json.Marshal(newPage(listUsers, []int{1}, more))
	if string(b) != `{"items":[1],"next_cursor":"`+more.Encode(listUsers)+`"}` {
		t.Fatalf("page with more: %s", b)
	}
}

func TestAdminMetaNamesTheActor(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/v1/admin/users", nil)
	r = r.WithContext(context.WithValue(r.Context(), actorKey{}, admin.Actor{UserID: "u1"}))
	if m := adminMeta(r); m.ActorID != "u1" {
		t.Errorf("session actor %q", m.ActorID)
	}
	r = r.WithContext(context.WithValue(r.Context(), actorKey{}, admin.Actor{UserID: "u1", TokenID: "t9"}))
	if m := adminMeta(r); m.ActorID != "token:t9" {
		t.Errorf("token actor %q", m.ActorID)
	}
}
