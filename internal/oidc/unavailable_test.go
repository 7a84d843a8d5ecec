package oidc_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/testserver"
)

// TestDatabaseDownIsTemporarilyUnavailable: with the database gone, the protocol endpoints
// answer 503 temporarily_unavailable with Retry-After, so applications retry, never a 500.
func TestDatabaseDownIsTemporarilyUnavailable(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", clientOpts{})
	if err := srv.DB.Close(); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"whatever"}, "redirect_uri": {redirectURI}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+oidc.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.client.Client.ID, app.client.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("token endpoint with the database down: %d %v Retry-After=%q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	wantNoStore(t, "token endpoint with the database down", resp.Header)
}

// TestABodyThatEndsEarlyIsTheClientsFault: a client that closes its side before its form
// body is complete gets 400, not the 503 of a database that does not answer (the check of
// the database ran with the request's context, which the client's leaving cancels).
func TestABodyThatEndsEarlyIsTheClientsFault(t *testing.T) {
	srv := testserver.New(t, testserver.Options{})
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, path := range []string{oidc.TokenPath, oidc.IntrospectionPath, oidc.RevocationPath, oidc.UserinfoPath} {
		t.Run(path, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, err = io.WriteString(conn, "POST "+path+" HTTP/1.1\r\nHost: "+host+
				"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntoken=abc")
			if err != nil {
				t.Fatal(err)
			}
			_ = conn.(*net.TCPConn).CloseWrite()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(body["error_description"], "could not be read") {
				t.Errorf("got %d %v, want 400 invalid_request, the body could not be read", resp.StatusCode, body)
			}
		})
	}
}

// TestWritersQueuedIsTemporarilyUnavailable: while the database answers but a write cannot
// get its turn (here another transaction holds SQLite's write lock for longer than a
// writer waits, 10 s), a refresh answers 503 temporarily_unavailable with Retry-After and
// spends nothing: the same refresh token works once the lock is free. Before, the token
// endpoint answered 500 server_error, as its database check (a ping) succeeded.
func TestWritersQueuedIsTemporarilyUnavailable(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	app := newRP(t, srv, "tenant-app", offline)
	b, _ := signedIn(t, srv, "ada")
	tok, _ := app.tokens(b, app.newRequest())
	release := srv.HoldWrites(t)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	resp, body, err := sendForm(srv, oidc.TokenPath, form, app.client.Client.ID, app.client.Secret)
	release()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refresh while writers cannot get their turn: %d %v Retry-After=%q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	wantNoStore(t, "refresh while writers cannot get their turn", resp.Header)
	if _, err := app.refresh(tok.RefreshToken); err != nil {
		t.Fatalf("the same refresh token once the lock is free: %v", err)
	}
}
