package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1, as PEM files' contents.
type testCert struct {
	cert       *x509.Certificate
	certPEM    []byte
	keyPEM     []byte
	commonName string
}

func newTestCert(t *testing.T, name string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{cert: cert, commonName: name,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
}

// install writes the pair over the files certFile and keyFile.
func (c testCert) install(t *testing.T, certFile, keyFile string) {
	t.Helper()
	if err := os.WriteFile(keyFile, c.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, c.certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeTLS: with server.tls_cert_file and tls_key_file, serve answers HTTPS over HTTP/2
// with HSTS, and after the files change and a SIGHUP new connections get
// the new certificate while a keep-alive connection opened before stays open and served.
func TestServeTLS(t *testing.T) {
	first, second := newTestCert(t, "first"), newTestCert(t, "second")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first.install(t, certFile, keyFile)
	cfg := testConfig(t)
	cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile = certFile, keyFile
	s := startServe(t, cfg)
	if !strings.HasPrefix(s.base, "https://127.0.0.1:") {
		t.Fatalf("base URL %q, want https://127.0.0.1:port", s.base)
	}

	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	roots.AddCert(second.cert)
	newClient := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	}
	// get sends GET path on c and returns the answer with whether the connection was reused.
	get := func(c *http.Client, path string) (*http.Response, bool) {
		t.Helper()
		var reused bool
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp, reused
	}
	peer := func(resp *http.Response) string { return resp.TLS.PeerCertificates[0].Subject.CommonName }

	kept := newClient()
	resp, _ := get(kept, "/login")
	if resp.ProtoMajor != 2 || peer(resp) != "first" {
		t.Fatalf("first request: %s with certificate %q, want HTTP/2 with %q", resp.Proto, peer(resp), "first")
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q over TLS, want max-age", h)
	}

	second.install(t, certFile, keyFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := get(newClient(), "/healthz")
		if peer(resp) == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections still get %q 10s after SIGHUP\nstderr: %s", peer(resp), s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, reused := get(kept, "/healthz")
	if !reused || peer(resp) != "first" || resp.StatusCode != http.StatusOK {
		t.Errorf("the connection opened before the reload: reused %v, certificate %q, status %d; want it reused with %q and served",
			reused, peer(resp), resp.StatusCode, "first")
	}
	if !strings.Contains(s.stderr.String(), "TLS certificate loaded") {
		t.Errorf("the log does not record the reload:\n%s", s.stderr)
	}
}
