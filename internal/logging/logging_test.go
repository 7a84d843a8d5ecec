package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"4f1c2d3e-0000-4000-8000-000000000000", true},
		{"lb.req_7:a", true},
		{strings.Repeat("a", MaxRequestIDLength), true},
		{strings.Repeat("a", MaxRequestIDLength+1), false},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"<script>", false},
		{"id;x=1", false},
		{"ü", false},
		{"a\x00b", false},
	} {
		if got := ValidRequestID(tc.id); got != tc.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	if id := NewRequestID(); !ValidRequestID(id) || len(id) != 32 || id == NewRequestID() {
		t.Errorf("NewRequestID = %q, want 32 fresh hex digits", id)
	}
}

// TestLoggerAddsTheRequestID: a line logged with a request's context carries its id, also
// through With and WithGroup, and a line without one carries none.
func TestLoggerAddsTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info", "json")
	ctx := WithRequestID(context.Background(), "req-1")
	log.InfoContext(ctx, "plain")
	log.With("k", "v").WithGroup("g").InfoContext(ctx, "nested", "x", 1)
	log.Info("no context")
	log.DebugContext(ctx, "below the level")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"req-1", "req-1", ""} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		got, _ := m["request_id"].(string)
		if g, ok := m["g"].(map[string]any); ok && got == "" {
			got, _ = g["request_id"].(string)
		}
		if got != want {
			t.Errorf("line %d request_id = %q, want %q: %s", i, got, want, lines[i])
		}
	}
	if Logger(log) != log {
		t.Error("Logger wrapped a logger that already adds request ids")
	}
}
