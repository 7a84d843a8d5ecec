package cli

import (
	"strings"
	"testing"
)

// TestSetupTokenStaysOutOfTheLog: the first-administrator link is a credential. It is
// printed once on standard output for the operator; the log (shipped to aggregators, kept
// for months) only says that a link was printed.
func TestSetupTokenStaysOutOfTheLog(t *testing.T) {
	s := startServe(t, testConfig(t))
	link := setupLink.FindString(s.stdout.String())
	if link == "" {
		t.Fatalf("no setup link on stdout:\n%s", s.stdout)
	}
	token := link[strings.Index(link, "token=")+len("token="):]
	if strings.Contains(s.stderr.String(), token) {
		t.Fatalf("the setup token is in the log:\n%s", s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "no administrator exists yet") {
		t.Errorf("the log does not say that a setup link was printed:\n%s", s.stderr)
	}
}
