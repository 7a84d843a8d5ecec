package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/twofold-id/twofold/internal/apperr"
)

// Config is every setting of twofold. Zero values are replaced by Default's.
type Config struct {
	Server   Server   `yaml:"server"`
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`
	Secrets  Secrets  `yaml:"secrets"`
	MFA      MFA      `yaml:"mfa"`
	Password Password `yaml:"password"`
	Session  Session  `yaml:"session"`
	Limits   Limits   `yaml:"limits"`
	Log      Log      `yaml:"log"`
	Audit    Audit    `yaml:"audit"` // how long the audit log keeps events (audit.go)
	OIDC     OIDC     `yaml:"oidc"`  // OpenID Connect token lifetimes (oidc.go)
	// Invitations: how long an invitation link works (invitations.go).
	Invitations Invitations `yaml:"invitations"`
	// Registration is self-registration, off by default (registration.go).
	Registration Registration `yaml:"registration"`
	// UI is the branding of the pages (ui.go).
	UI UI `yaml:"ui"`
	// WebAuthn is security keys and passkeys (webauthn.go).
	WebAuthn WebAuthn `yaml:"webauthn"`

	SupportDesk `yaml:",inline"` // the mail: and support: sections (support.go)
}

// Server is the HTTP listener.
type Server struct {
	Addr      string `yaml:"addr"`
	PublicURL string `yaml:"public_url"` // how users reach the server; https turns on Secure cookies
	// TrustedProxies are the networks (CIDR or address) whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxConnections caps the connections open at once on each listener; one more is
	// closed as soon as it is accepted.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a keep-alive connection that waits this long for its next request.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// TLSCertFile and TLSKeyFile (PEM) make the listener serve HTTPS (and HTTP/2) itself;
	// both or neither. They are loaded again when they change and on SIGHUP.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// MetricsAddr is the separate listener of the Prometheus metrics (metrics.go); empty
	// turns them off.
	MetricsAddr string `yaml:"metrics_addr"`
	// Pprof serves net/http/pprof on the metrics listener.
	Pprof bool `yaml:"pprof"`
}

// TLS reports whether the listener serves HTTPS itself.
func (s Server) TLS() bool { return s.TLSCertFile != "" && s.TLSKeyFile != "" }

// Scheme is how the listener is reached: https when it serves TLS, else http.
func (s Server) Scheme() string {
	if s.TLS() {
		return "https"
	}
	return "http"
}

// Database selects the store: empty URL means the embedded SQLite file in the data
// directory; postgres://... selects PostgreSQL, for several instances on one database.
type Database struct {
	URL             string        `yaml:"url"`
	MaxOpenConns    int           `yaml:"max_open_conns"`    // PostgreSQL pool size; 0: 20
	MaxIdleConns    int           `yaml:"max_idle_conns"`    // 0: same as max_open_conns
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"` // 0: 30m
}

// Postgres reports whether the PostgreSQL store is selected.
func (d Database) Postgres() bool {
	return strings.HasPrefix(d.URL, "postgres://") || strings.HasPrefix(d.URL, "postgresql://")
}

// Secrets locates the master key. TWOFOLD_MASTER_KEY (base64) overrides the file.
type Secrets struct {
	MasterKeyFile string `yaml:"master_key_file"` // default <data_dir>/master.key
}

// MFA is the multi-factor policy.
type MFA struct {
	Required MFARequired `yaml:"required"`
	Issuer   string      `yaml:"issuer"` // shown in authenticator apps
	// PhishingResistant lists the roles whose second factor must be a security key or
	// passkey (WebAuthn): an app code or the recovery code never finishes their sign-in.
	// MFA is required for them whatever mfa.required and the per-user override say.
	PhishingResistant []string `yaml:"phishing_resistant"`
}

// PhishingResistantFor reports whether mfa.phishing_resistant lists the role.
func (m MFA) PhishingResistantFor(role string) bool {
	return slices.Contains(m.PhishingResistant, role)
}

// MFARequired says who must use MFA: everyone, nobody, or the listed roles.
type MFARequired struct {
	All   bool
	None  bool
	Roles []string
}

// Password holds hashing parameters and the password policy.
type Password struct {
	MinLength           int `yaml:"min_length"`
	MaxConcurrentHashes int `yaml:"max_concurrent_hashes"` // 0: number of cores
	// HashQueue is how many password checks may wait for a free hashing slot; one more
	// gets 503 busy at once.
	HashQueue int    `yaml:"hash_queue"`
	Argon2    Argon2 `yaml:"argon2"`
}

// Argon2 are the argon2id parameters for new hashes.
type Argon2 struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
}

// Session holds the timeouts of signed-in sessions.
type Session struct {
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	Lifetime    time.Duration `yaml:"lifetime"`
}

// Log configures slog.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// DefaultHashQueue is password.hash_queue's default: on two cores at about 20 ms a hash,
// the last of 64 waiting sign-ins starts within about 0.7 s.
const DefaultHashQueue = 64

// MaxHashQueue bounds password.hash_queue.
const MaxHashQueue = 100_000

// Default returns the built-in settings.
func Default() *Config {
	return &Config{
		Server:  Server{Addr: "127.0.0.1:8080", MaxConnections: 4096, IdleTimeout: 30 * time.Second},
		DataDir: "./twofold-data",
		MFA:     MFA{Required: MFARequired{All: true}, Issuer: "twofold"},
		Password: Password{
			MinLength: 12,
			HashQueue: DefaultHashQueue,
			Argon2:    Argon2{MemoryKiB: 19456, Iterations: 2, Parallelism: 1},
		},
		Session: Session{IdleTimeout: time.Hour, Lifetime: 12 * time.Hour},
		Limits:  DefaultLimits(),
		Log:     Log{Level: "info", Format: "text"},
		OIDC:    DefaultOIDC(),

		Invitations:  Invitations{TTL: DefaultInvitationTTL},
		Registration: DefaultRegistration(),
		UI:           UI{ProductName: DefaultProductName},
		WebAuthn:     DefaultWebAuthn(),
	}
}

// Load reads defaults, then the YAML file at path (when path is not empty), then the
// TWOFOLD_* variables that getenv returns. It does not validate; call Validate. A file that
// cannot be read or does not parse as YAML gives a nil Config. Settings that are wrong (an
// unknown key, a value of the wrong type, a file that is YAML but not a mapping of
// settings; in the file or the environment) give the Config, holding the defaults where a
// value was wrong, with every such problem joined, so that Validate can add its own and all
// are told at once.
func Load(path string, getenv func(string) string) (*Config, error) {
	c := Default()
	var problems []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		var wrong *yaml.TypeError // the decoder went on past each of these
		switch err := dec.Decode(c); {
		case errors.As(err, &wrong):
			settings := settingsByLine(data)
			for _, e := range wrong.Errors {
				e = unknownKey.ReplaceAllString(e, "unknown setting $1")
				problems = append(problems, fmt.Errorf("config %s: %s", path, plainTypeError(e, settings)))
			}
		case err != nil && !errors.Is(err, io.EOF):
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		problems = append(problems, err)
	}
	return c, errors.Join(problems...)
}

// unknownKey is how the YAML decoder says a key is unknown, naming a Go type.
var unknownKey = regexp.MustCompile(`field (\S+) not found in type \S+`)

// typeError is how the YAML decoder says a value is of the wrong type, naming the YAML tag,
// the value (when it is a scalar) and the Go type it was to fill.
var typeError = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal (!\\S*)(?: (`.*`))? into (\\S+)$")

// plainTypeError says a decoder's "cannot unmarshal !!int `30` into time.Duration" in the
// words of the settings, naming the setting where the line holds one:
// "line 2: session.idle_timeout must be a duration such as 30m or 12h, not `30`".
func plainTypeError(e string, settings map[int][]setting) string {
	m := typeError.FindStringSubmatch(e)
	if m == nil {
		return e
	}
	line, tag, value, goType := m[1], m[2], m[3], m[4]
	found := value
	if found == "" {
		found = yamlKinds[tag]
		if found == "" {
			found = "a value tagged " + tag
		}
	}
	n, _ := strconv.Atoi(line)
	var named []setting // a group's setting and the first in it can share a line: the inner one
	for _, s := range settings[n] {
		if !sameValue(s.value, value) {
			continue
		}
		if k := len(named) - 1; k >= 0 && (named[k].path == "" || strings.HasPrefix(s.path, named[k].path+".") || strings.HasPrefix(s.path, named[k].path+"[")) {
			named = named[:k]
		}
		named = append(named, s)
	}
	name := "the setting"
	if len(named) == 1 {
		name = named[0].path
		if value != "" { // the decoder cuts a value at 10 characters; a few more say it better
			found = "`" + shorten(named[0].value, 40) + "`"
		}
	}
	if goType == "config.Config" {
		name = "the file"
	}
	if q, ok := strings.CutPrefix(found, "`"); ok { // a block of several lines, on one
		found = "`" + strings.Join(strings.Fields(strings.TrimSuffix(q, "`")), " ") + "`"
	}
	return fmt.Sprintf("line %s: %s must be %s, not %s", line, name, goKind(goType), found)
}

// shorten cuts s to at most n characters, ending it with " ..." when cut.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + " ..."
	}
	return s
}

// sameValue reports whether a setting's text is the value a decoder quotes: `30`, or
// `just a ...` (its first 7 bytes) for a longer one; a list or a group of settings has no text and no quote.
func sameValue(text, quoted string) bool {
	q := strings.TrimSuffix(strings.TrimPrefix(quoted, "`"), "`")
	if cut, ok := strings.CutSuffix(q, "..."); ok { // the decoder keeps 7 bytes of a longer one
		return strings.HasPrefix(text, cut)
	}
	return text == q
}

// yamlKinds names a YAML tag of a value that is not a scalar (a scalar is quoted instead).
var yamlKinds = map[string]string{"!!seq": "a list", "!!map": "a group of settings"}

// goKind says what a Go type of a setting holds.
func goKind(t string) string {
	switch {
	case t == "time.Duration":
		return "a duration such as 30m or 12h"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "text"
	case t == "uint8":
		return "a whole number from 0 to 255"
	case t == "uint16":
		return "a whole number from 0 to 65535"
	case t == "uint32":
		return "a whole number from 0 to 4294967295"
	case strings.HasPrefix(t, "uint"):
		return "a whole number, 0 or more"
	case strings.HasPrefix(t, "int"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a group of settings (key: value lines)"
}

// setting is a value in the file: its dotted name and, for a scalar, its text.
type setting struct{ path, value string }

// settingsByLine finds where each setting's value stands in a file, so that a decoder's
// problem on a line can name it.
func settingsByLine(data []byte) map[int][]setting {
	byLine := map[int][]setting{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return byLine
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode: // a file that is one value, not settings, is named by its line too
			for _, c := range n.Content {
				byLine[c.Line] = append(byLine[c.Line], setting{"", c.Value})
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				v := n.Content[i+1]
				byLine[v.Line] = append(byLine[v.Line], setting{p, v.Value})
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				byLine[v.Line] = append(byLine[v.Line], setting{p, v.Value})
				walk(v, p)
			}
		}
	}
	walk(&doc, "")
	return byLine
}

func (c *Config) applyEnv(getenv func(string) string) error {
	var problems []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	integer := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a whole number", name, apperr.Quote(v)))
				return
			}
			*dst = n
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %s is not a duration such as 30m or 12h", name, apperr.Quote(v)))
				return
			}
			*dst = d
		}
	}
	str("TWOFOLD_ADDR", &c.Server.Addr)
	str("TWOFOLD_PUBLIC_URL", &c.Server.PublicURL)
	integer("TWOFOLD_SERVER_MAX_CONNECTIONS", &c.Server.MaxConnections)
	duration("TWOFOLD_SERVER_IDLE_TIMEOUT", &c.Server.IdleTimeout)
	str("TWOFOLD_SERVER_TLS_CERT_FILE", &c.Server.TLSCertFile)
	str("TWOFOLD_SERVER_TLS_KEY_FILE", &c.Server.TLSKeyFile)
	str("TWOFOLD_DATA_DIR", &c.DataDir)
	str("TWOFOLD_DATABASE_URL", &c.Database.URL)
	integer("TWOFOLD_DATABASE_MAX_OPEN_CONNS", &c.Database.MaxOpenConns)
	integer("TWOFOLD_DATABASE_MAX_IDLE_CONNS", &c.Database.MaxIdleConns)
	duration("TWOFOLD_DATABASE_CONN_MAX_LIFETIME", &c.Database.ConnMaxLifetime)
	str("TWOFOLD_MASTER_KEY_FILE", &c.Secrets.MasterKeyFile)
	str("TWOFOLD_MFA_ISSUER", &c.MFA.Issuer)
	if v := getenv("TWOFOLD_MFA_REQUIRED"); v != "" {
		c.MFA.Required = ParseMFARequired(v)
	}
	if v := getenv("TWOFOLD_MFA_PHISHING_RESISTANT"); v != "" {
		c.MFA.PhishingResistant = splitList(v)
	}
	integer("TWOFOLD_PASSWORD_MIN_LENGTH", &c.Password.MinLength)
	integer("TWOFOLD_PASSWORD_MAX_CONCURRENT_HASHES", &c.Password.MaxConcurrentHashes)
	integer("TWOFOLD_PASSWORD_HASH_QUEUE", &c.Password.HashQueue)
	duration("TWOFOLD_SESSION_IDLE_TIMEOUT", &c.Session.IdleTimeout)
	duration("TWOFOLD_SESSION_LIFETIME", &c.Session.Lifetime)
	str("TWOFOLD_LOG_LEVEL", &c.Log.Level)
	str("TWOFOLD_LOG_FORMAT", &c.Log.Format)
	problems = append(problems, c.applyLimitsEnv(getenv)...)
	problems = append(problems, c.applyAuditEnv(getenv)...)
	problems = append(problems, c.applyInvitationsEnv(getenv)...)
	problems = append(problems, c.applySupportEnv(getenv)...)
	problems = append(problems, c.applyOIDCEnv(getenv)...)
	problems = append(problems, c.applyRegistrationEnv(getenv)...)
	problems = append(problems, c.applyUIEnv(getenv)...)
	problems = append(problems, c.applyWebAuthnEnv(getenv)...)
	problems = append(problems, c.applyMetricsEnv(getenv)...)
	return errors.Join(problems...)
}

// ParseMFARequired reads "all", "none" or a comma-separated list of roles.
func ParseMFARequired(v string) MFARequired {
	switch strings.TrimSpace(strings.ToLower(v)) {
	case "all":
		return MFARequired{All: true}
	case "none":
		return MFARequired{None: true}
	}
	var roles []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	return MFARequired{Roles: roles}
}

// UnmarshalYAML accepts "all", "none" or a list of roles.
func (m *MFARequired) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch strings.ToLower(n.Value) {
		case "all":
			*m = MFARequired{All: true}
		case "none":
			*m = MFARequired{None: true}
		default:
			return wrongValue(n, fmt.Sprintf("mfa.required must be all, none or a list of roles, not %s", apperr.Quote(n.Value)))
		}
		return nil
	case yaml.SequenceNode:
		var roles []string
		if err := n.Decode(&roles); err != nil {
			return err
		}
		*m = MFARequired{Roles: roles}
		return nil
	}
	return wrongValue(n, "mfa.required must be all, none or a list of roles")
}

// wrongValue is a value the decoder refuses and goes on past (a *yaml.TypeError), so
// that Load reports it together with every other problem.
func wrongValue(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}

// MarshalYAML writes the policy as UnmarshalYAML reads it.
func (m MFARequired) MarshalYAML() (any, error) {
	switch {
	case m.All:
		return "all", nil
	case m.None:
		return "none", nil
	}
	return append([]string{}, m.Roles...), nil
}

// String renders the policy as it is written in the config.
func (m MFARequired) String() string {
	switch {
	case m.All:
		return "all"
	case m.None:
		return "none"
	}
	return strings.Join(m.Roles, ",")
}

// RequiredFor reports whether the policy requires MFA for a role.
func (m MFARequired) RequiredFor(role string) bool {
	if m.All {
		return true
	}
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// MasterKeyPath is where the master key file lives.
func (c *Config) MasterKeyPath() string {
	if c.Secrets.MasterKeyFile != "" {
		return c.Secrets.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// DatabasePath is the embedded SQLite database file.
func (c *Config) DatabasePath() string { return filepath.Join(c.DataDir, "twofold.db") }

// SecureCookies reports whether users reach the server over HTTPS: server.public_url is
// https, or the server serves TLS itself. It turns on Secure __Host- cookies and HSTS.
func (c *Config) SecureCookies() bool {
	return strings.HasPrefix(c.Server.PublicURL, "https://") || c.Server.TLS()
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var p []error
	bad := func(format string, args ...any) { p = append(p, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		bad("server.addr: %s is not host:port", apperr.Quote(c.Server.Addr))
	}
	if c.Server.PublicURL != "" {
		u, err := url.Parse(c.Server.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("server.public_url: %s is not an http(s) URL", apperr.Quote(c.Server.PublicURL))
		}
	}
	if (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == "") {
		bad("server.tls_cert_file and server.tls_key_file: set both or neither")
	}
	if c.Server.TLS() && strings.HasPrefix(c.Server.PublicURL, "http://") {
		bad("server.public_url: %s is http, but the server serves TLS (server.tls_cert_file): use https", apperr.Quote(c.Server.PublicURL))
	}
	if c.Server.MaxConnections < 1 {
		bad("server.max_connections: %d must be at least 1", c.Server.MaxConnections)
	}
	if c.Server.IdleTimeout <= 0 || c.Server.IdleTimeout > time.Hour {
		bad("server.idle_timeout: %s is outside (0, 1h]", c.Server.IdleTimeout)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir: must not be empty")
	}
	if c.Database.URL != "" && !c.Database.Postgres() {
		bad("database.url: must be empty (embedded SQLite) or a postgres:// URL")
	}
	if c.Database.MaxOpenConns < 0 || c.Database.MaxIdleConns < 0 || c.Database.ConnMaxLifetime < 0 {
		bad("database: pool limits must not be negative")
	}
	if !c.MFA.Required.All && !c.MFA.Required.None && len(c.MFA.Required.Roles) == 0 {
		bad("mfa.required: must be all, none or a list of roles")
	}
	for _, r := range c.MFA.Required.Roles {
		if r != "user" && r != "support" && r != "admin" {
			bad("mfa.required: unknown role %s (want user, support or admin)", apperr.Quote(r))
		}
	}
	for _, r := range c.MFA.PhishingResistant {
		if r != "user" && r != "support" && r != "admin" {
			bad("mfa.phishing_resistant: unknown role %s (want user, support or admin)", apperr.Quote(r))
		}
	}
	if c.MFA.Issuer == "" || len(c.MFA.Issuer) > 64 || strings.Contains(c.MFA.Issuer, ":") {
		bad("mfa.issuer: must be 1 to 64 characters without ':'")
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 128 {
		bad("password.min_length: %d is outside 8..128", c.Password.MinLength)
	}
	if c.Password.MaxConcurrentHashes < 0 {
		bad("password.max_concurrent_hashes: must not be negative")
	}
	if c.Password.HashQueue < 1 || c.Password.HashQueue > MaxHashQueue {
		bad("password.hash_queue: %d is outside 1..%d", c.Password.HashQueue, MaxHashQueue)
	}
	a := c.Password.Argon2
	if a.MemoryKiB < 8*1024 || a.MemoryKiB > 4*1024*1024 {
		bad("password.argon2.memory_kib: %d is outside 8192..4194304", a.MemoryKiB)
	}
	if a.Iterations < 1 || a.Iterations > 100 {
		bad("password.argon2.iterations: %d is outside 1..100", a.Iterations)
	}
	if a.Parallelism < 1 || a.Parallelism > 64 {
		bad("password.argon2.parallelism: %d is outside 1..64", a.Parallelism)
	}
	if c.Session.IdleTimeout < time.Minute {
		bad("session.idle_timeout: %s is shorter than 1m", c.Session.IdleTimeout)
	}
	if c.Session.Lifetime < c.Session.IdleTimeout {
		bad("session.lifetime: %s is shorter than session.idle_timeout", c.Session.Lifetime)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %s is not debug, info, warn or error", apperr.Quote(c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format: %s is not text or json", apperr.Quote(c.Log.Format))
	}
	p = append(p, c.validateLimits()...)
	p = append(p, c.validateAudit()...)
	p = append(p, c.validateInvitations()...)
	p = append(p, c.validateSupport()...)
	p = append(p, c.validateOIDC()...)
	p = append(p, c.validateRegistration()...)
	p = append(p, c.validateUI()...)
	p = append(p, c.validateWebAuthn()...)
	p = append(p, c.validateMetrics()...)
	return errors.Join(p...)
}
