package support_test

import (
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/auth"
)

// TestReviewCaseConfirmationIsFixedText: the public form can make the server mail any
// address, so the confirmation carries no text the requester typed (only the reference):
// otherwise the form relays an attacker's words ("call +1 555 ... to keep your account")
// from the organisation's own mail server. docs/support.md promises "a fixed-text
// confirmation".
func TestReviewCaseConfirmationIsFixedText(t *testing.T) {
	f := newFixture(t)
	req := request("victim@example.com")
	req.FullName = "Urgent: your account will be deleted, confirm at evil.example"
	req.Organisation = "Org evil.example"
	req.Description = "Visit evil.example"
	ref, err := f.svc.OpenCase(t.Context(), req, auth.Meta{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	for name, part := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
		if strings.Contains(part, "evil.example") {
			t.Errorf("the confirmation's %s repeats text the requester typed:\n%s", name, part)
		}
		if !strings.Contains(part, ref) {
			t.Errorf("the confirmation's %s lacks the reference %s", name, ref)
		}
	}
}
