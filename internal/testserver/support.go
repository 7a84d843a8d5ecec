package testserver

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
	"github.com/twofold-id/twofold/internal/support"
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

// mailer returns the mailer of the server and its outbox directory ("" with o.Mailer).
func (o SupportOptions) mailer(t testing.TB, now func() time.Time) (mail.Mailer, string) {
	if o.Mailer != nil {
		return o.Mailer, ""
	}
	dir := filepath.Join(t.TempDir(), "outbox")
	return mail.NewOutbox(dir, "twofold <no-reply@localhost>", slog.New(slog.NewTextHandler(io.Discard, nil)), now), dir
}

func (o SupportOptions) service(db store.Store, a *auth.Service, m mail.Mailer, baseURL string, now func() time.Time) *support.Service {
	perIP, perEmail := o.CasesPerIPHour, o.CasesPerEmailHour
	if perIP == 0 {
		perIP = 1000
	}
	if perEmail == 0 {
		perEmail = 1000
	}
	mails := o.MailsPerHour
	if mails == 0 {
		mails = 1000
	}
	return support.New(support.Options{Store: db, Auth: a, Mailer: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL: baseURL, RequireApproval: o.ResetRequiresApproval, CasesPerIPHour: perIP, CasesPerEmailHour: perEmail,
		MailsPerHour: mails, Now: now})
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

// Mail returns the messages in the server's outbox, oldest first (none with a Mailer).
func (s *Server) Mail(t testing.TB) []*mailtest.Parsed {
	t.Helper()
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
