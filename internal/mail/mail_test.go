package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/store"
)

var when = time.Date(2030, 3, 4, 5, 6, 0, 0, time.UTC)

func compose(t *testing.T, kind string, d mail.Data) *mail.Message {
	t.Helper()
	m, err := mail.Compose(kind, "ada@example.com", d)
	if err != nil {
		t.Fatalf("Compose(%s): %v", kind, err)
	}
	return m
}

func TestCompose(t *testing.T) {
	d := mail.Data{Name: "ada <script>", Reference: "TF-ABC234", Link: "https://id.example.com/support/verify?token=abc&x=1",
		ExpiresAt: when.Add(24 * time.Hour), At: when, IP: "192.0.2.1", UserAgent: "Firefox"}
	for _, kind := range mail.Kinds {
		t.Run(kind, func(t *testing.T) {
			m := compose(t, kind, d)
			if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject %q is empty or spans lines", m.Subject)
			}
			if m.Kind != kind || m.To != "ada@example.com" {
				t.Errorf("kind %q to %q", m.Kind, m.To)
			}
			for _, body := range []string{m.Text, m.HTML} {
				if kind == mail.KindCaseReceived || kind == mail.KindRegistrationLink {
					// Whoever opens a case or registers chooses the name: the mail sent to the
					// address they typed never repeats it.
					if strings.Contains(body, "ada") {
						t.Errorf("the case confirmation repeats the name typed on the form:\n%s", body)
					}
					continue
				}
				if !strings.Contains(body, "Hello ada") {
					t.Errorf("body does not greet the user:\n%s", body)
				}
			}
			if strings.Contains(m.HTML, "<script>") {
				t.Errorf("HTML body does not escape the name:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "<!doctype html>") {
				t.Errorf("HTML body lacks the layout")
			}
		})
	}
	t.Run("case_received_names_the_reference", func(t *testing.T) {
		m := compose(t, mail.KindCaseReceived, d)
		if !strings.Contains(m.Subject, "TF-ABC234") || !strings.Contains(m.Text, "TF-ABC234") || !strings.Contains(m.HTML, "TF-ABC234") {
			t.Errorf("reference missing: %q\n%s", m.Subject, m.Text)
		}
	})
	t.Run("verification_holds_the_link_and_its_expiry", func(t *testing.T) {
		m := compose(t, mail.KindEmailVerification, d)
		if !strings.Contains(m.Text, d.Link) || !strings.Contains(m.Text, "5 Mar 2030 05:06 UTC") {
			t.Errorf("text body:\n%s", m.Text)
		}
		if !strings.Contains(m.HTML, `href="https://id.example.com/support/verify?token=abc&amp;x=1"`) {
			t.Errorf("HTML link missing or unescaped:\n%s", m.HTML)
		}
	})
	t.Run("invitation_holds_the_link_and_its_expiry", func(t *testing.T) {
		m := compose(t, mail.KindInvitation, d)
		if !strings.Contains(m.Text, d.Link) || !strings.Contains(m.Text, "5 Mar 2030 05:06 UTC") {
			t.Errorf("text body:\n%s", m.Text)
		}
		if !strings.Contains(m.HTML, `href="https://id.example.com/support/verify?token=abc&amp;x=1"`) {
			t.Errorf("HTML link missing or unescaped:\n%s", m.HTML)
		}
	})
	t.Run("unknown_kind_is_an_error", func(t *testing.T) {
		if _, err := mail.Compose("nope", "a@example.com", d); err == nil {
			t.Error("Compose accepted an unknown kind")
		}
	})
}

func TestSMTP(t *testing.T) {
	msg := func(t *testing.T) *mail.Message {
		return compose(t, mail.KindCaseReceived, mail.Data{Name: "Ada", Reference: "TF-ABC234"})
	}
	for _, tc := range []struct {
		name     string
		server   mailtest.ServerOptions
		security string
		user     string
		wantTLS  bool
	}{
		{"plain_relay_without_auth", mailtest.ServerOptions{}, mail.SecurityNone, "", false},
		{"starttls_with_auth", mailtest.ServerOptions{TLS: "starttls", Username: "twofold", Password: "pw"}, mail.SecuritySTARTTLS, "twofold", true},
		{"implicit_tls_with_auth", mailtest.ServerOptions{TLS: "tls", Username: "twofold", Password: "pw"}, mail.SecurityTLS, "twofold", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.StartServer(t, tc.server)
			m, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Security: tc.security,
				Username: tc.server.Username, Password: tc.server.Password, From: "twofold <no-reply@example.com>",
				TLSConfig: srv.ClientTLS, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Send(t.Context(), msg(t)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "no-reply@example.com" || len(r.To) != 1 || r.To[0] != "ada@example.com" {
				t.Errorf("envelope from %q to %v", r.From, r.To)
			}
			if r.TLS != tc.wantTLS || r.AuthUser != tc.user {
				t.Errorf("TLS %v (want %v), authenticated as %q (want %q)", r.TLS, tc.wantTLS, r.AuthUser, tc.user)
			}
			p := mailtest.MustParse(t, r.Data)
			if p.Subject != "Your support request TF-ABC234" || !strings.Contains(p.Text, "TF-ABC234") || !strings.Contains(p.HTML, "TF-ABC234") {
				t.Errorf("subject %q, text %q, html %q", p.Subject, p.Text, p.HTML)
			}
			if p.Header.Get("Auto-Submitted") != "auto-generated" || p.Header.Get("Message-Id") == "" || p.Header.Get("Date") == "" {
				t.Errorf("headers: %v", p.Header)
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	msg := compose(t, mail.KindCaseReceived, mail.Data{Name: "Ada", Reference: "TF-ABC234"})
	for _, tc := range []struct {
		name   string
		server mailtest.ServerOptions
		cfg    func(s *mailtest.Server) mail.SMTPConfig
	}{
		{"starttls_required_but_not_offered", mailtest.ServerOptions{}, func(s *mailtest.Server) mail.SMTPConfig {
			return mail.SMTPConfig{Host: s.Host, Port: s.Port, Security: mail.SecuritySTARTTLS}
		}},
		{"untrusted_certificate", mailtest.ServerOptions{TLS: "starttls"}, func(s *mailtest.Server) mail.SMTPConfig {
			return mail.SMTPConfig{Host: s.Host, Port: s.Port, Security: mail.SecuritySTARTTLS}
		}},
		{"wrong_password", mailtest.ServerOptions{TLS: "starttls", Username: "twofold", Password: "pw"}, func(s *mailtest.Server) mail.SMTPConfig {
			return mail.SMTPConfig{Host: s.Host, Port: s.Port, Security: mail.SecuritySTARTTLS, Username: "twofold", Password: "wrong", TLSConfig: s.ClientTLS}
		}},
		{"credentials_never_sent_in_clear", mailtest.ServerOptions{Username: "twofold", Password: "pw"}, func(s *mailtest.Server) mail.SMTPConfig {
			return mail.SMTPConfig{Host: s.Host, Port: s.Port, Security: mail.SecurityNone, Username: "twofold", Password: "pw"}
		}},
		{"authentication_required", mailtest.ServerOptions{TLS: "starttls", Username: "twofold", Password: "pw"}, func(s *mailtest.Server) mail.SMTPConfig {
			return mail.SMTPConfig{Host: s.Host, Port: s.Port, Security: mail.SecuritySTARTTLS, TLSConfig: s.ClientTLS}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.StartServer(t, tc.server)
			cfg := tc.cfg(srv)
			cfg.From, cfg.Timeout = "no-reply@example.com", 5*time.Second
			m, err := mail.NewSMTP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Send(t.Context(), msg); err == nil {
				t.Fatal("Send succeeded")
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
		})
	}
	t.Run("server_down", func(t *testing.T) {
		srv := mailtest.StartServer(t, mailtest.ServerOptions{})
		m, err := mail.NewSMTP(mail.SMTPConfig{Host: srv.Host, Port: 1, Security: mail.SecurityNone, From: "a@example.com", Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(t.Context(), msg); err == nil {
			t.Fatal("Send to a closed port succeeded")
		}
	})
}

func TestNewSMTPChecksConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  mail.SMTPConfig
	}{
		{"no_host", mail.SMTPConfig{From: "a@example.com"}},
		{"no_sender", mail.SMTPConfig{Host: "smtp.example.com"}},
		{"bad_sender", mail.SMTPConfig{Host: "smtp.example.com", From: "not an address"}},
		{"unknown_security", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Security: "ssl3"}},
		{"bad_port", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Port: 70000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mail.NewSMTP(tc.cfg)
			if err == nil {
				// A bad sender is found when the first message is built.
				err = m.Send(context.Background(), &mail.Message{To: "b@example.com", Subject: "s", Text: "t"})
			}
			if err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var logs bytes.Buffer
	o := mail.NewOutbox(dir, "twofold <no-reply@localhost>", slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return when })
	link := "http://127.0.0.1:8080/support/verify?token=" + strings.Repeat("Ab_-", 12)
	first := compose(t, mail.KindEmailVerification, mail.Data{Name: "ada", Reference: "TF-ABC234", Link: link, ExpiresAt: when.Add(24 * time.Hour)})
	second := compose(t, mail.KindMFAReset, mail.Data{Name: "ada", At: when})
	for _, m := range []*mail.Message{first, second} {
		if err := o.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	msgs := mailtest.Outbox(t, dir)
	if len(msgs) != 2 {
		t.Fatalf("outbox holds %d messages, want 2", len(msgs))
	}
	got := mailtest.LastTo(t, msgs[:1], "ada@example.com")
	if got := got.Link("/support/verify?token="); got != link {
		t.Errorf("link read back from the .eml is %q, want %q", got, link)
	}
	if msgs[1].Subject != second.Subject || msgs[1].From != `"twofold" <no-reply@localhost>` {
		t.Errorf("second message: subject %q from %q", msgs[1].Subject, msgs[1].From)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("outbox directory mode %#o, want 0700", fi.Mode().Perm())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || !strings.HasSuffix(f, ".eml") {
			t.Errorf("%s: mode %#o, want an .eml file with 0600", f, fi.Mode().Perm())
		}
	}
	if !strings.Contains(logs.String(), "mail written to the outbox") || !strings.Contains(logs.String(), "file="+dir) ||
		strings.Contains(logs.String(), "token=") {
		t.Errorf("log should name each file and not the link:\n%s", logs.String())
	}
}

// notified queues the notice through a Notifier in a transaction and returns what a
// sender then delivered.
func notified(t *testing.T, u *store.User, n auth.Notice) []mail.Message {
	t.Helper()
	db, rec := openDB(t), &mailtest.Recorder{}
	q := mail.NewQueue(testKeys(t), nil)
	err := db.WithTx(t.Context(), func(tx store.Store) error {
		return mail.NewNotifier(q, quiet(), "Example ID").Notify(t.Context(), tx, &u.Account, n)
	})
	mustNil(t, "Notify", err)
	flush(t, mail.NewSender(mail.SenderOptions{Store: db, Queue: q, Mailer: rec, Log: quiet()}))
	return rec.Messages()
}

func TestNotifier(t *testing.T) {
	u := &store.User{Account: store.Account{Username: "ada", Email: "ada@example.com"}}
	for _, tc := range []struct {
		notice  string
		subject string
	}{
		{auth.NoticeTOTPEnrolled, "Two-step sign-in is set up"},
		{auth.NoticeTOTPReplaced, "Your authenticator app was replaced"},
		{auth.NoticeRecoveryCodeUsed, "Your recovery code was used"},
		{auth.NoticePasswordChanged, "Your password was changed"},
	} {
		t.Run(tc.notice, func(t *testing.T) {
			got := notified(t, u, auth.Notice{Kind: tc.notice, At: when, IP: "192.0.2.1", UserAgent: "Firefox"})
			if len(got) != 1 || got[0].To != "ada@example.com" || got[0].Subject != tc.subject {
				t.Fatalf("messages: %+v", got)
			}
			for _, want := range []string{"192.0.2.1", "Firefox", "4 Mar 2030 05:06 UTC", "Example ID"} {
				if !strings.Contains(got[0].Text, want) {
					t.Errorf("text lacks %q:\n%s", want, got[0].Text)
				}
			}
		})
	}
	t.Run("unknown_notice_sends_nothing", func(t *testing.T) {
		if got := notified(t, u, auth.Notice{Kind: "nope"}); len(got) != 0 {
			t.Error("a message was sent")
		}
	})
}
