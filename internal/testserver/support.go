package testserver

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
)

// SupportOptions adjust the support desk and the mail of a test server.
type SupportOptions struct {
	// Mailer receives every message; nil writes them to an outbox in a temporary
	// directory (Server.Outbox), as the embedded default does.
	Mailer mail.Mailer
	// ResetRequiresApproval turns on dual control of MFA resets.
	ResetRequiresApproval bool
	// Per-hour limits on opening cases; 0 means 1000 (every test client is 127.0.0.1).
	CasesPerIPHour    int
	CasesPerEmailHour int
	// MailsPerHour caps the mail the public support form sends per hour; 0 means 1000.
	MailsPerHour int
}

// listen opens the test server's listener first, so links in mail can name the server.
func listen(t testing.TB) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// serve serves h on ln until the test ends.
func serve(t testing.TB, ln net.Listener, h http.Handler) *httptest.Server {
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	hs.Start()
	t.Cleanup(hs.Close)
	return hs
}

// FlushMail delivers every queued mail that is due, waiting for a delivery in progress:
// after it, what the server queued so far has reached its Mailer or the outbox (or failed
// an attempt and waits for its retry). Tests call it instead of sleeping.
func (s *Server) FlushMail(t testing.TB) {
	t.Helper()
	if err := s.app.FlushMail(context.Background()); err != nil {
		t.Fatalf("flush the mail queue: %v", err)
	}
}

// Mail flushes the mail queue (FlushMail) and returns the messages in the server's
// outbox, oldest first (none with a Mailer).
func (s *Server) Mail(t testing.TB) []*mailtest.Parsed {
	t.Helper()
	s.FlushMail(t)
	if s.Outbox == "" {
		return nil
	}
	return mailtest.Outbox(t, s.Outbox)
}

// LastMailTo returns the newest outbox message to the address, or fails the test.
func (s *Server) LastMailTo(t testing.TB, to string) *mailtest.Parsed {
	t.Helper()
	return mailtest.LastTo(t, s.Mail(t), to)
}
