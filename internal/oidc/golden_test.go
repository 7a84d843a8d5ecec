package oidc_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestDiscoveryDocumentGolden pins the discovery document, the contract every relying
// party reads first. Regenerate with: go test ./internal/oidc -run Golden -update
func TestDiscoveryDocumentGolden(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	resp := srv.Client(t).Get(oidc.DiscoveryPath)
	var doc any
	if err := json.Unmarshal(bytes.ReplaceAll(resp.Body, []byte(srv.URL), []byte("https://id.example.com")), &doc); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "discovery.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("discovery document changed (run with -update if on purpose):\n%s", diffLines(string(want), string(got)))
	}
}

// diffLines lists the lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
