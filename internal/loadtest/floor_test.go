package loadtest

import (
	"net/http"
	"strings"
	"testing"
)

func TestFloorAnswerDiffers(t *testing.T) {
	twofold := func() *floorAnswer {
		return &floorAnswer{Status: http.StatusOK, Body: []byte(`{"user":"load00001"}`),
			Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"20"}}}
	}
	tests := []struct {
		name   string
		change func(a *floorAnswer)
		want   string // in the difference; "": none
	}{
		{"the same answer", func(*floorAnswer) {}, ""},
		{"another status", func(a *floorAnswer) { a.Status = http.StatusNotFound }, "status 404"},
		{"another body", func(a *floorAnswer) { a.Body = []byte(`{"user":"load00002"}`) }, "body"},
		{"another header value", func(a *floorAnswer) { a.Header.Set("Content-Type", "text/plain") }, "Content-Type"},
		{"a header field more", func(a *floorAnswer) { a.Header.Set("Vary", "Cookie") }, "Vary"},
		{"a header field less", func(a *floorAnswer) { a.Header.Del("Content-Length") }, "Content-Length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := twofold()
			tc.change(got)
			d := twofold().differs(got)
			if tc.want == "" && d != "" || tc.want != "" && !strings.Contains(d, tc.want) {
				t.Errorf("differs = %q, want %q", d, tc.want)
			}
		})
	}
}
