package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/mail/mailtest"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestRequestDoesNotWaitForSlowSMTP: while the SMTP server holds every message, a request
// that mails (opening a support case) is answered; the server's own sender (the test
// server runs it as serve does) delivers the mail once the SMTP server answers, exactly
// once. The request is given far longer than it needs; the SMTP client's own timeout is
// longer still, so a request that waited for the server would not be answered before the
// bound.
func TestRequestDoesNotWaitForSlowSMTP(t *testing.T) {
	smtpd := mailtest.StartServer(t, mailtest.ServerOptions{})
	m, err := mail.NewSMTP(mail.SMTPConfig{Host: smtpd.Host, Port: smtpd.Port, Security: mail.SecurityNone,
		From: "twofold <no-reply@example.com>", Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv := testserver.New(t, testserver.Options{Support: testserver.SupportOptions{Mailer: m}})
	release := smtpd.Hold()
	defer release()
	arrived := smtpd.Arrived()

	body, err := json.Marshal(supCase("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/api/v1/support/cases", "application/json", bytes.NewReader(body))
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	select {
	case code := <-status:
		if code != http.StatusAccepted {
			t.Fatalf("opening a case: status %d, want 202", code)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the request waited for the SMTP server")
	}
	release()
	select {
	case <-arrived: // the sender, woken by the request's commit, delivered it
	case <-time.After(2 * time.Minute):
		t.Fatal("the server's sender did not deliver the queued mail")
	}
	srv.FlushMail(t)
	if n := len(smtpd.Messages()); n != 1 {
		t.Fatalf("the SMTP server received %d messages, want 1", n)
	}
}
