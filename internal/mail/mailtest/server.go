package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// ServerOptions shape the test SMTP server.
type ServerOptions struct {
	// TLS is "" (plain; STARTTLS not offered), "starttls" (offered) or "tls" (TLS from
	// the first byte).
	TLS string
	// Username and Password, when set, are required (AUTH PLAIN) before MAIL FROM.
	Username string
	Password string
}

// Received is one message the server accepted.
type Received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // the message crossed an encrypted connection
	AuthUser string // who authenticated, "" when nobody did
}

// Server is a real SMTP server on 127.0.0.1 that keeps what it receives. It stops when
// the test ends.
type Server struct {
	Host string
	Port int
	// ClientTLS trusts the server's certificate (for TLS and STARTTLS).
	ClientTLS *tls.Config

	opts     ServerOptions
	mu       sync.Mutex
	msgs     []Received
	refusing bool
	hold     chan struct{} // while not nil, DATA waits until it is closed
	arrived  chan struct{} // closed and replaced at each message accepted
}

// Arrived returns a channel that is closed when the server next accepts a message.
func (s *Server) Arrived() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.arrived == nil {
		s.arrived = make(chan struct{})
	}
	return s.arrived
}

// errTryLater is what a refusing server answers: a temporary failure, as a real server
// that is overloaded or in maintenance does.
var errTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

// SetRefusing makes the server refuse every message with a temporary error (on) or
// accept them again (off).
func (s *Server) SetRefusing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusing = on
}

// Hold makes the server keep every message it is sent waiting (after DATA, before it
// answers) until release is called, like a slow server. release is idempotent.
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// StartServer starts a server with opts.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 10
	srv.AllowInsecureAuth = true // go-mail still refuses PLAIN in clear except to localhost
	var ln net.Listener
	var err error
	switch opts.TLS {
	case "":
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case "starttls", "tls":
		serverTLS, clientTLS := selfSigned(t)
		s.ClientTLS = clientTLS
		if opts.TLS == "starttls" {
			srv.TLSConfig = serverTLS
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		} else {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
		}
	default:
		t.Fatalf("mailtest: unknown TLS mode %q", opts.TLS)
	}
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

type session struct {
	srv      *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return errAuthFailed
		}
		s.authUser = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.srv.mu.Lock()
	refusing := s.srv.refusing
	s.srv.mu.Unlock()
	if refusing {
		return errTryLater
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.from == "" {
		return errors.New("RCPT before MAIL")
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	hold := s.srv.hold
	s.srv.mu.Unlock()
	if hold != nil {
		<-hold
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, Received{From: s.from, To: s.to, Data: b, TLS: isTLS, AuthUser: s.authUser})
	if s.srv.arrived != nil {
		close(s.srv.arrived)
		s.srv.arrived = nil
	}
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a client config that
// trusts it (and only it).
func selfSigned(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "twofold test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}
