package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertCheckInterval is how often a handshake may look at the certificate files for a
// change: at most one stat of each file per interval, however many handshakes.
const CertCheckInterval = 5 * time.Second

// CertReloader serves a certificate and key file pair (server.tls_cert_file and
// tls_key_file) and loads them again when they change, so a renewed certificate is used
// without a restart and without dropping a connection: connections already open keep the
// certificate of their handshake, new handshakes get the new one. A pair that fails to
// load (a half-written renewal, a key that does not match) is logged and the previous
// certificate stays in use.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	checkEvery        time.Duration
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp // of the files when they were last loaded, successfully or not
	checked time.Time // when the files were last looked at
}

// NewCertReloader loads the pair; it fails when the pair does not load.
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	c := &CertReloader{certFile: certFile, keyFile: keyFile, log: log, checkEvery: CertCheckInterval, now: time.Now}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked = c.now()
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// TLSConfig is the server's TLS configuration: TLS 1.2 or newer, the certificate from c.
// http.Server.ServeTLS adds HTTP/2 to it.
func (c *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// GetCertificate returns the current certificate for a new handshake, first loading the
// files again when they changed (looked at most once per CertCheckInterval).
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= c.checkEvery {
		c.checked = now
		if st := c.stampFiles(); st != c.stamp {
			_ = c.load() // logged; the previous certificate stays
		}
	}
	return c.cert, nil
}

// Reload loads the files now, changed or not (SIGHUP). On error the previous
// certificate stays in use.
func (c *CertReloader) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked = c.now()
	return c.load()
}

// load reads the pair into c.cert, or logs why it could not.
func (c *CertReloader) load() error {
	c.stamp = c.stampFiles()
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		err = fmt.Errorf("load TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
		if c.cert != nil {
			c.log.Error("TLS certificate not reloaded, the previous one stays in use", "err", err)
		}
		return err
	}
	c.cert = &cert
	c.log.Info("TLS certificate loaded", "file", c.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// fileStamp tells a changed file from an unchanged one without reading it.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func (c *CertReloader) stampFiles() fileStamp {
	var st fileStamp
	if fi, err := os.Stat(c.certFile); err == nil {
		st.certMod, st.certSize = fi.ModTime(), fi.Size()
	}
	if fi, err := os.Stat(c.keyFile); err == nil {
		st.keyMod, st.keySize = fi.ModTime(), fi.Size()
	}
	return st
}
