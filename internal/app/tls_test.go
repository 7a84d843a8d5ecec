package app

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a fresh self-signed certificate named name and its key, with the
// files' modification time set to mod.
func writePair(t *testing.T, certFile, keyFile, name string, mod time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"twofold.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mod)
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), mod)
}

func writeFile(t *testing.T, path string, data []byte, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// TestCertReloaderPicksUpChangedFiles: a handshake looks at the files at most once per
// check interval, loads them again when they changed, and keeps the previous certificate
// when the new pair does not load.
func TestCertReloaderPicksUpChangedFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writePair(t, certFile, keyFile, "first", t0)
	var log bytes.Buffer
	c, err := NewCertReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	c.checked = now
	served := func() string {
		t.Helper()
		cert, err := c.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.Subject.CommonName
	}

	writePair(t, certFile, keyFile, "second", t0.Add(time.Minute))
	if got := served(); got != "first" {
		t.Errorf("within the check interval: %q, want the files not looked at yet (first)", got)
	}
	now = now.Add(CertCheckInterval)
	if got := served(); got != "second" {
		t.Errorf("after the check interval: %q, want the changed files loaded (second)", got)
	}

	writeFile(t, keyFile, []byte("not a key"), t0.Add(2*time.Minute))
	now = now.Add(CertCheckInterval)
	if got := served(); got != "second" {
		t.Errorf("after a broken key was written: %q, want the previous certificate (second)", got)
	}
	if !strings.Contains(log.String(), "TLS certificate not reloaded") {
		t.Errorf("the failed reload is not logged:\n%s", log.String())
	}
	if err := c.Reload(); err == nil {
		t.Error("Reload of a broken pair: no error")
	}

	writePair(t, certFile, keyFile, "third", t0.Add(3*time.Minute))
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != "third" {
		t.Errorf("after Reload: %q, want third", got)
	}
}

// TestCertReloaderRefusesABrokenPairAtStart: serve does not start on a pair that does not load.
func TestCertReloaderRefusesABrokenPairAtStart(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePair(t, certFile, keyFile, "first", time.Now())
	writeFile(t, keyFile, []byte("not a key"), time.Now())
	if _, err := NewCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "tls.key") {
		t.Errorf("NewCertReloader with a broken key: %v, want an error naming the key file", err)
	}
}
