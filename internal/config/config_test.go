package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/throttle"
)

// env is a getenv backed by a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var noEnv = env(nil)

// writeFile writes a config file into a temporary directory and returns its path.
func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twofold.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, yaml string, getenv func(string) string) *config.Config {
	t.Helper()
	path := ""
	if yaml != "" {
		path = writeFile(t, yaml)
	}
	c, err := config.Load(path, getenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// wantContains fails for every wanted fragment that msg lacks.
func wantContains(t *testing.T, msg string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("message does not mention %q:\n%s", w, msg)
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	if err := config.Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	c := mustLoad(t, "", noEnv)
	if !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("Load without file or environment = %+v, want the defaults %+v", c, config.Default())
	}
	if !c.MFA.Required.All {
		t.Error("MFA is not required for everyone by default")
	}
	if c.SecureCookies() {
		t.Error("SecureCookies is on without an https public_url")
	}
	if c.Database.Postgres() {
		t.Error("the default database is not the embedded SQLite file")
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	for name, content := range map[string]string{
		"empty":         "",
		"comments only": "# nothing configured yet\n\n# really\n",
		"blank lines":   "\n\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, content), noEnv)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(c, config.Default()) {
				t.Errorf("got %+v, want the defaults", c)
			}
		})
	}
}

func TestMissingFileIsAnError(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	wantContains(t, err.Error(), "read config", "nope.yaml")
}

const fullYAML = `
server:
  addr: 0.0.0.0:9443
  public_url: https://id.example.com
  trusted_proxies: [10.0.0.0/8, "2001:db8::1"]
  max_connections: 1000
  idle_timeout: 15s
  tls_cert_file: /etc/twofold/tls.crt
  tls_key_file: /etc/twofold/tls.key
data_dir: /var/lib/twofold
database:
  url: postgres://twofold@db.example.com:5432/twofold
  max_open_conns: 40
  max_idle_conns: 10
  conn_max_lifetime: 15m
secrets:
  master_key_file: /etc/twofold/master.key
mfa:
  required: [admin, support]
  issuer: Example Corp
password:
  min_length: 14
  max_concurrent_hashes: 3
  hash_queue: 200
  argon2:
    memory_kib: 65536
    iterations: 3
    parallelism: 2
session:
  idle_timeout: 30m
  lifetime: 8h
log:
  level: debug
  format: json
audit:
  retention: 2160h
invitations:
  ttl: 72h
limits:
  free_attempts: 3
  first_delay: 1m
  max_delay: 1h
  max_failures: 50
  forget_after: 48h
  sign_in_per_second: 5
  sign_in_burst: 20
  api_per_second: 25.5
  api_burst: 60
  support_cases_per_ip_hour: 20
  support_cases_per_email_hour: 2
  support_mails_per_hour: 500
oidc:
  access_token_lifetime: 5m
  id_token_lifetime: 30m
  refresh_token_lifetime: 168h
  refresh_family_max_age: 1440h
registration:
  enabled: true
  allowed_domains: [example.com]
  requests_per_ip_hour: 4
  requests_per_email_hour: 2
  mails_per_hour: 50
ui:
  product_name: Example ID
  accent_color: "#2f6fd0"
webauthn:
  rp_id: example.com
  rp_origins: [https://id.example.com]
  rp_display_name: Example Corp
  passwordless: false
  allowed_aaguids: [cb69481e-8ff7-4039-93ec-0a2729a154a8]
`

// fullRegistration is the registration section of fullYAML.
var fullRegistration = config.Registration{Enabled: true, AllowedDomains: []string{"example.com"}, RequestsPerIPHour: 4,
	RequestsPerEmailHour: 2, MailsPerHour: 50}

// fullLimits is the limits section of fullYAML.
var fullLimits = config.Limits{Policy: throttle.Policy{FreeAttempts: 3, FirstDelay: time.Minute, MaxDelay: time.Hour,
	MaxFailures: 50, ForgetAfter: 48 * time.Hour}, SignInPerSecond: 5, SignInBurst: 20, APIPerSecond: 25.5, APIBurst: 60,
	SupportCasesPerIPHour: 20, SupportCasesPerEmailHour: 2, SupportMailsPerHour: 500}

func TestLoadFileWithEveryField(t *testing.T) {
	c := mustLoad(t, fullYAML, noEnv)
	want := &config.Config{
		Server: config.Server{Addr: "0.0.0.0:9443", PublicURL: "https://id.example.com",
			TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}, MaxConnections: 1000, IdleTimeout: 15 * time.Second,
			TLSCertFile: "/etc/twofold/tls.crt", TLSKeyFile: "/etc/twofold/tls.key"},
		DataDir: "/var/lib/twofold",
		Database: config.Database{URL: "postgres://twofold@db.example.com:5432/twofold", MaxOpenConns: 40,
			MaxIdleConns: 10, ConnMaxLifetime: 15 * time.Minute},
		Secrets:     config.Secrets{MasterKeyFile: "/etc/twofold/master.key"},
		MFA:         config.MFA{Required: config.MFARequired{Roles: []string{"admin", "support"}}, Issuer: "Example Corp"},
		Password:    config.Password{MinLength: 14, MaxConcurrentHashes: 3, HashQueue: 200, Argon2: config.Argon2{MemoryKiB: 65536, Iterations: 3, Parallelism: 2}},
		Session:     config.Session{IdleTimeout: 30 * time.Minute, Lifetime: 8 * time.Hour},
		Limits:      fullLimits,
		Log:         config.Log{Level: "debug", Format: "json"},
		Audit:       config.Audit{Retention: 2160 * time.Hour},
		Invitations: config.Invitations{TTL: 72 * time.Hour},
		OIDC: config.OIDC{AccessTokenLifetime: 5 * time.Minute, IDTokenLifetime: 30 * time.Minute, RefreshTokenLifetime: 168 * time.Hour,
			RefreshFamilyMaxAge: 1440 * time.Hour},
		Registration: fullRegistration,
		UI:           config.UI{ProductName: "Example ID", AccentColor: "#2f6fd0"},
		WebAuthn: config.WebAuthn{RPID: "example.com", RPOrigins: []string{"https://id.example.com"}, RPDisplayName: "Example Corp",
			AllowedAAGUIDs: []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8"}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := c.MasterKeyPath(); got != "/etc/twofold/master.key" {
		t.Errorf("MasterKeyPath = %q", got)
	}
	if got := c.DatabasePath(); got != filepath.Join("/var/lib/twofold", "twofold.db") {
		t.Errorf("DatabasePath = %q", got)
	}
	if !c.SecureCookies() {
		t.Error("SecureCookies is off with an https public_url")
	}
	if !c.Database.Postgres() {
		t.Error("a postgres:// database.url does not select PostgreSQL")
	}
}

func TestPartialFileKeepsOtherDefaults(t *testing.T) {
	c := mustLoad(t, "password:\n  argon2:\n    memory_kib: 8192\n", noEnv)
	want := config.Default()
	want.Password.Argon2.MemoryKiB = 8192
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want the defaults with only memory_kib changed", c)
	}
	if got := c.MasterKeyPath(); got != filepath.Join("./twofold-data", "master.key") {
		t.Errorf("MasterKeyPath = %q, want it inside the data directory", got)
	}
}

func TestUnknownKeyIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, yaml, key string }{
		{"top level", "colour: blue\n", "colour"},
		{"nested", "server:\n  adress: 127.0.0.1:80\n", "adress"},
		{"deep", "password:\n  argon2:\n    memory: 1\n", "memory"},
		{"snake vs camel", "dataDir: /x\n", "dataDir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.yaml)
			_, err := config.Load(path, noEnv)
			if err == nil {
				t.Fatal("Load accepted an unknown key")
			}
			wantContains(t, err.Error(), tc.key, path)
		})
	}
}

func TestBadYAMLIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"syntax", "server: [\n", "config"},
		{"wrong type", "password:\n  min_length: twelve\n", "twelve"},
		{"int for a duration", "session:\n  idle_timeout: 30\n", "line 2: session.idle_timeout must be a duration such as 30m or 12h, not `30`"},
		{"text for a number", "password:\n  min_length: twelve\n", "line 2: password.min_length must be a whole number, not `twelve`"},
		{"negative unsigned", "password:\n  argon2:\n    iterations: -1\n", "line 3: password.argon2.iterations must be a whole number from 0 to 4294967295, not `-1`"},
		{"not a mapping", "just a string\n", "line 1: the file must be a group of settings (key: value lines), not `just a string`"},
		{"long scalar for the file", strings.Repeat("x", 100) + "\n", "the file must be a group of settings"},
		{"list for a group", "server: [1]\n", "line 1: server must be a group of settings (key: value lines), not a list"},
		{"list for text", "server:\n  addr: [1, 2]\n", "line 2: server.addr must be text, not a list"},
		{"group for text", "log:\n  level: {a: b}\n", "line 2: log.level must be text, not a group of settings"},
		{"text for a list", "mfa:\n  phishing_resistant: yes\n", "line 2: mfa.phishing_resistant must be a list, not `yes`"},
		{"long value", "password:\n  min_length: twelvehours\n", "line 2: password.min_length must be a whole number, not `twelvehours`"},
		{"long value, letters of two bytes", "password:\n  min_length: éééééééé\n", "line 2: password.min_length must be a whole number, not `éééééééé`"},
		{"a list's element", "mfa:\n  required: [1, {a: b}]\n", "line 2: mfa.required[1] must be text, not a group of settings"},
		{"out of a small range", "password:\n  argon2:\n    parallelism: 256\n", "line 3: password.argon2.parallelism must be a whole number from 0 to 255, not `256`"},
		{"block of lines", "password:\n  min_length: |\n    a\n    b\n", "line 2: password.min_length must be a whole number, not `a b`"},
		{"own tag", "password:\n  min_length: !foo 12x\n", "line 2: password.min_length must be a whole number, not `12x`"},
		{"flow mapping", "session: {idle_timeout: 1h, lifetime: x}\n", "line 1: session.lifetime must be a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml), noEnv)
			if err == nil {
				t.Fatal("Load accepted invalid YAML")
			}
			wantContains(t, err.Error(), tc.want)
			for _, goWord := range []string{"unmarshal", "time.Duration", "config.", "uint32", "!!"} {
				if strings.Contains(err.Error(), goWord) {
					t.Errorf("the message names the decoder's Go word %q: %v", goWord, err)
				}
			}
		})
	}
}

func TestMFARequiredInFile(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        config.MFARequired
		loadErr     string // fragment of the Load error; empty when Load succeeds
		validateErr string // fragment of the Validate error; empty when valid
	}{
		{name: "all", value: "all", want: config.MFARequired{All: true}},
		{name: "all in capitals", value: "ALL", want: config.MFARequired{All: true}},
		{name: "none", value: "none", want: config.MFARequired{None: true}},
		{name: "flow list", value: "[admin, support]", want: config.MFARequired{Roles: []string{"admin", "support"}}},
		{name: "block list", value: "\n    - admin\n", want: config.MFARequired{Roles: []string{"admin"}}},
		{name: "invalid scalar", value: "sometimes", loadErr: `mfa.required must be all, none or a list of roles, not "sometimes"`},
		{name: "a role as scalar", value: "admin", loadErr: "mfa.required"},
		{name: "mapping", value: "{admin: yes}", loadErr: "mfa.required"},
		{name: "empty list", value: "[]", want: config.MFARequired{Roles: []string{}}, validateErr: "mfa.required: must be all, none or a list of roles"},
		{name: "null keeps the default", value: "", want: config.MFARequired{All: true}},
		{name: "unknown role", value: "[admin, root]", want: config.MFARequired{Roles: []string{"admin", "root"}}, validateErr: `unknown role "root"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, "mfa:\n  required: "+tc.value+"\n"), noEnv)
			if tc.loadErr != "" {
				if err == nil {
					t.Fatalf("Load accepted mfa.required: %s", tc.value)
				}
				wantContains(t, err.Error(), tc.loadErr)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = c.Validate()
			if tc.validateErr != "" {
				if err == nil {
					t.Fatalf("Validate accepted mfa.required: %s", tc.value)
				}
				wantContains(t, err.Error(), tc.validateErr)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !reflect.DeepEqual(c.MFA.Required, tc.want) {
				t.Errorf("mfa.required = %+v, want %+v", c.MFA.Required, tc.want)
			}
		})
	}
}

func TestMFARequiredFor(t *testing.T) {
	for _, tc := range []struct {
		policy         string
		user, sup, adm bool
	}{
		{"all", true, true, true},
		{"none", false, false, false},
		{"admin", false, false, true},
		{"admin, support", false, true, true},
	} {
		m := config.ParseMFARequired(tc.policy)
		got := []bool{m.RequiredFor("user"), m.RequiredFor("support"), m.RequiredFor("admin")}
		if want := []bool{tc.user, tc.sup, tc.adm}; !reflect.DeepEqual(got, want) {
			t.Errorf("%q: RequiredFor(user, support, admin) = %v, want %v", tc.policy, got, want)
		}
		if back := config.ParseMFARequired(m.String()); !reflect.DeepEqual(back, m) {
			t.Errorf("%q: String() = %q does not parse back (got %+v)", tc.policy, m.String(), back)
		}
	}
}

func TestEnvOverridesFile(t *testing.T) {
	e := map[string]string{
		"TWOFOLD_ADDR":                           "127.0.0.1:7000",
		"TWOFOLD_UI_PRODUCT_NAME":                "Env ID",
		"TWOFOLD_UI_ACCENT_COLOR":                "#3a7bd5",
		"TWOFOLD_PUBLIC_URL":                     "https://env.example.com",
		"TWOFOLD_SERVER_MAX_CONNECTIONS":         "64",
		"TWOFOLD_SERVER_IDLE_TIMEOUT":            "5s",
		"TWOFOLD_SERVER_TLS_CERT_FILE":           "/etc/twofold/tls.crt",
		"TWOFOLD_SERVER_TLS_KEY_FILE":            "/etc/twofold/tls.key",
		"TWOFOLD_DATA_DIR":                       "/srv/env",
		"TWOFOLD_DATABASE_URL":                   "postgresql://env@db/twofold",
		"TWOFOLD_DATABASE_MAX_OPEN_CONNS":        "7",
		"TWOFOLD_DATABASE_MAX_IDLE_CONNS":        "3",
		"TWOFOLD_DATABASE_CONN_MAX_LIFETIME":     "5m",
		"TWOFOLD_MASTER_KEY_FILE":                "/run/secrets/key",
		"TWOFOLD_MFA_ISSUER":                     "Env Inc",
		"TWOFOLD_MFA_REQUIRED":                   "admin,support",
		"TWOFOLD_PASSWORD_MIN_LENGTH":            "16",
		"TWOFOLD_PASSWORD_MAX_CONCURRENT_HASHES": "9",
		"TWOFOLD_PASSWORD_HASH_QUEUE":            "30",
		"TWOFOLD_SESSION_IDLE_TIMEOUT":           "20m",
		"TWOFOLD_SESSION_LIFETIME":               "2h",
		"TWOFOLD_LOG_LEVEL":                      "warn",
		"TWOFOLD_LOG_FORMAT":                     "text",
		"TWOFOLD_AUDIT_RETENTION":                "8760h",
		"TWOFOLD_INVITATIONS_TTL":                "48h",
	}
	c := mustLoad(t, fullYAML, env(e))
	want := &config.Config{
		Server: config.Server{Addr: "127.0.0.1:7000", PublicURL: "https://env.example.com",
			TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}, MaxConnections: 64, IdleTimeout: 5 * time.Second,
			TLSCertFile: "/etc/twofold/tls.crt", TLSKeyFile: "/etc/twofold/tls.key"},
		DataDir: "/srv/env",
		Database: config.Database{URL: "postgresql://env@db/twofold", MaxOpenConns: 7, MaxIdleConns: 3,
			ConnMaxLifetime: 5 * time.Minute},
		Secrets:     config.Secrets{MasterKeyFile: "/run/secrets/key"},
		MFA:         config.MFA{Required: config.MFARequired{Roles: []string{"admin", "support"}}, Issuer: "Env Inc"},
		Password:    config.Password{MinLength: 16, MaxConcurrentHashes: 9, HashQueue: 30, Argon2: config.Argon2{MemoryKiB: 65536, Iterations: 3, Parallelism: 2}},
		Session:     config.Session{IdleTimeout: 20 * time.Minute, Lifetime: 2 * time.Hour},
		Limits:      fullLimits,
		Log:         config.Log{Level: "warn", Format: "text"},
		Audit:       config.Audit{Retention: 8760 * time.Hour},
		Invitations: config.Invitations{TTL: 48 * time.Hour},
		OIDC: config.OIDC{AccessTokenLifetime: 5 * time.Minute, IDTokenLifetime: 30 * time.Minute, RefreshTokenLifetime: 168 * time.Hour,
			RefreshFamilyMaxAge: 1440 * time.Hour},
		Registration: fullRegistration,
		UI:           config.UI{ProductName: "Env ID", AccentColor: "#3a7bd5"},
		WebAuthn: config.WebAuthn{RPID: "example.com", RPOrigins: []string{"https://id.example.com"}, RPDisplayName: "Example Corp",
			AllowedAAGUIDs: []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8"}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load with environment:\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	t.Run("one variable changes one setting", func(t *testing.T) {
		c := mustLoad(t, fullYAML, env(map[string]string{"TWOFOLD_ADDR": "[::1]:8443"}))
		want := mustLoad(t, fullYAML, noEnv)
		want.Server.Addr = "[::1]:8443"
		if !reflect.DeepEqual(c, want) {
			t.Errorf("got %+v, want the file's settings with only the address changed", c)
		}
	})
	t.Run("empty variable is ignored", func(t *testing.T) {
		c := mustLoad(t, fullYAML, env(map[string]string{"TWOFOLD_ADDR": "", "TWOFOLD_LOG_LEVEL": ""}))
		if c.Server.Addr != "0.0.0.0:9443" || c.Log.Level != "debug" {
			t.Errorf("empty variables changed the file's settings: addr %q, level %q", c.Server.Addr, c.Log.Level)
		}
	})
	t.Run("mfa policy from the environment", func(t *testing.T) {
		for v, want := range map[string]config.MFARequired{
			"none":           {None: true},
			" All ":          {All: true},
			"admin":          {Roles: []string{"admin"}},
			" admin , user ": {Roles: []string{"admin", "user"}},
		} {
			c := mustLoad(t, "", env(map[string]string{"TWOFOLD_MFA_REQUIRED": v}))
			if !reflect.DeepEqual(c.MFA.Required, want) {
				t.Errorf("TWOFOLD_MFA_REQUIRED=%q: got %+v, want %+v", v, c.MFA.Required, want)
			}
		}
		c := mustLoad(t, "", env(map[string]string{"TWOFOLD_MFA_REQUIRED": " , "}))
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "mfa.required") {
			t.Errorf("TWOFOLD_MFA_REQUIRED with no role: Validate = %v, want an mfa.required problem", err)
		}
	})
}

func TestBadEnvIsReported(t *testing.T) {
	_, err := config.Load("", env(map[string]string{
		"TWOFOLD_SESSION_IDLE_TIMEOUT":       "soon",
		"TWOFOLD_SESSION_LIFETIME":           "12",
		"TWOFOLD_PASSWORD_MIN_LENGTH":        "twelve",
		"TWOFOLD_DATABASE_MAX_OPEN_CONNS":    "1.5",
		"TWOFOLD_DATABASE_CONN_MAX_LIFETIME": "forever",
	}))
	if err == nil {
		t.Fatal("Load accepted malformed variables")
	}
	// Every bad variable is reported at once, with its value.
	wantContains(t, err.Error(),
		`TWOFOLD_SESSION_IDLE_TIMEOUT: "soon" is not a duration`,
		`TWOFOLD_SESSION_LIFETIME: "12" is not a duration`,
		`TWOFOLD_PASSWORD_MIN_LENGTH: "twelve" is not a whole number`,
		`TWOFOLD_DATABASE_MAX_OPEN_CONNS: "1.5" is not a whole number`,
		`TWOFOLD_DATABASE_CONN_MAX_LIFETIME: "forever" is not a duration`,
	)
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := config.Default()
	c.Server.Addr = "localhost"
	c.Server.PublicURL = "ftp://example.com"
	c.Server.MaxConnections = 0
	c.Server.IdleTimeout = 2 * time.Hour
	c.DataDir = "  "
	c.Database.URL = "mysql://db/twofold"
	c.Database.MaxOpenConns = -1
	c.MFA.Required = config.MFARequired{Roles: []string{"admin", "boss"}}
	c.MFA.Issuer = "Example:Corp"
	c.Password.MinLength = 3
	c.Password.MaxConcurrentHashes = -2
	c.Password.HashQueue = 0
	c.Password.Argon2 = config.Argon2{MemoryKiB: 1024, Iterations: 0, Parallelism: 0}
	c.Session.IdleTimeout = 10 * time.Second
	c.Session.Lifetime = 5 * time.Second
	c.Log = config.Log{Level: "loud", Format: "xml"}

	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a broken configuration")
	}
	wants := []string{
		`server.addr: "localhost" is not host:port`,
		`server.public_url: "ftp://example.com" is not an http(s) URL`,
		"server.max_connections: 0 must be at least 1",
		"server.idle_timeout: 2h0m0s is outside (0, 1h]",
		"data_dir: must not be empty",
		"database.url: must be empty (embedded SQLite) or a postgres:// URL",
		"database: pool limits must not be negative",
		`mfa.required: unknown role "boss"`,
		"mfa.issuer: must be 1 to 64 characters without ':'",
		"password.min_length: 3 is outside 8..128",
		"password.max_concurrent_hashes: must not be negative",
		"password.hash_queue: 0 is outside 1..100000",
		"password.argon2.memory_kib: 1024 is outside 8192..4194304",
		"password.argon2.iterations: 0 is outside 1..100",
		"password.argon2.parallelism: 0 is outside 1..64",
		"session.idle_timeout: 10s is shorter than 1m",
		"session.lifetime: 5s is shorter than session.idle_timeout",
		`log.level: "loud" is not debug, info, warn or error`,
		`log.format: "xml" is not text or json`,
	}
	wantContains(t, err.Error(), wants...)
	if lines := strings.Count(err.Error(), "\n") + 1; lines != len(wants) {
		t.Errorf("Validate reported %d problems, want %d:\n%s", lines, len(wants), err)
	}
}

func TestValidateEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		bad    string // fragment of the problem; empty when valid
	}{
		{"min length 8", func(c *config.Config) { c.Password.MinLength = 8 }, ""},
		{"min length 7", func(c *config.Config) { c.Password.MinLength = 7 }, "password.min_length"},
		{"min length 128", func(c *config.Config) { c.Password.MinLength = 128 }, ""},
		{"min length 129", func(c *config.Config) { c.Password.MinLength = 129 }, "password.min_length"},
		{"memory 8192", func(c *config.Config) { c.Password.Argon2.MemoryKiB = 8192 }, ""},
		{"memory 8191", func(c *config.Config) { c.Password.Argon2.MemoryKiB = 8191 }, "memory_kib"},
		{"idle 1m", func(c *config.Config) { c.Session.IdleTimeout = time.Minute }, ""},
		{"lifetime equals idle", func(c *config.Config) { c.Session.Lifetime = c.Session.IdleTimeout }, ""},
		{"issuer 64 chars", func(c *config.Config) { c.MFA.Issuer = strings.Repeat("x", 64) }, ""},
		{"issuer 65 chars", func(c *config.Config) { c.MFA.Issuer = strings.Repeat("x", 65) }, "mfa.issuer"},
		{"empty issuer", func(c *config.Config) { c.MFA.Issuer = "" }, "mfa.issuer"},
		{"ipv6 addr", func(c *config.Config) { c.Server.Addr = "[::1]:8080" }, ""},
		{"http public url", func(c *config.Config) { c.Server.PublicURL = "http://localhost:8080" }, ""},
		{"public url without host", func(c *config.Config) { c.Server.PublicURL = "https://" }, "server.public_url"},
		{"tls pair", func(c *config.Config) { c.Server.TLSCertFile, c.Server.TLSKeyFile = "c.pem", "k.pem" }, ""},
		{"tls cert without key", func(c *config.Config) { c.Server.TLSCertFile = "c.pem" }, "server.tls_cert_file and server.tls_key_file"},
		{"tls key without cert", func(c *config.Config) { c.Server.TLSKeyFile = "k.pem" }, "server.tls_cert_file and server.tls_key_file"},
		{"tls with http public url", func(c *config.Config) {
			c.Server.TLSCertFile, c.Server.TLSKeyFile, c.Server.PublicURL = "c.pem", "k.pem", "http://id.example.com"
		}, "server.public_url"},
		{"tls with https public url", func(c *config.Config) {
			c.Server.TLSCertFile, c.Server.TLSKeyFile, c.Server.PublicURL = "c.pem", "k.pem", "https://id.example.com"
		}, ""},
		{"postgresql scheme", func(c *config.Config) { c.Database.URL = "postgresql://db/x" }, ""},
		{"mfa none", func(c *config.Config) { c.MFA.Required = config.MFARequired{None: true} }, ""},
		{"invitations 10m", func(c *config.Config) { c.Invitations.TTL = 10 * time.Minute }, ""},
		{"invitations 9m", func(c *config.Config) { c.Invitations.TTL = 9 * time.Minute }, "invitations.ttl"},
		{"invitations 30 days", func(c *config.Config) { c.Invitations.TTL = 720 * time.Hour }, ""},
		{"invitations 31 days", func(c *config.Config) { c.Invitations.TTL = 744 * time.Hour }, "invitations.ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.change(c)
			err := c.Validate()
			switch {
			case tc.bad == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tc.bad != "" && err == nil:
				t.Errorf("Validate accepted it, want a %s problem", tc.bad)
			case tc.bad != "":
				wantContains(t, err.Error(), tc.bad)
			}
		})
	}
}

// FuzzLoad feeds arbitrary bytes to Load as a config file: it must return a config or an
// error, never panic, and a config it returns must survive Validate.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"", fullYAML, "mfa:\n  required: all\n", "mfa:\n  required: [admin]\n", "mfa: {required: ~}\n",
		"server: [\n", "colour: blue\n", "session:\n  idle_timeout: 30m\n", "a: &a [*a]\n",
		"mfa:\n  required: &r [admin]\n  issuer: x\n", "--- \n--- \n", "password:\n  argon2:\n    parallelism: 300\n",
		"!!binary aGVsbG8=", "? [a]\n: b\n", "data_dir: !!int 3\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(path, noEnv)
		if err != nil {
			return
		}
		_ = c.Validate()
		_ = c.MFA.Required.String()
	})
}

// TestLongValuesAreQuotedShort: a refused setting's value is repeated quoted, cut at 80
// characters and escaped, from the environment and from the file alike, so a 100 kB value
// or a terminal escape never reaches the operator's terminal whole (`twofold serve --addr`
// of 100 kB printed it in full).
func TestLongValuesAreQuotedShort(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	c := config.Default()
	c.Server.Addr = long
	c.Log.Format = "\x1b[31mjson"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a 100 kB server.addr")
	}
	msg := err.Error()
	wantContains(t, msg, `server.addr: "xxxx`, `…" is not host:port`, `log.format: "\x1b[31mjson" is not text or json`)
	if len(msg) > 400 || strings.Contains(msg, "\x1b") {
		t.Errorf("Validate's message is %d bytes or holds a raw escape: %.300q", len(msg), msg)
	}
	_, err = config.Load("", env(map[string]string{"TWOFOLD_SESSION_IDLE_TIMEOUT": long, "TWOFOLD_MAIL_PORT": "\u202e25"}))
	if err == nil {
		t.Fatal("Load accepted a 100 kB duration")
	}
	msg = err.Error()
	wantContains(t, msg, "TWOFOLD_SESSION_IDLE_TIMEOUT", `…" is not a duration`, `TWOFOLD_MAIL_PORT: "\u202e25" is not a whole number`)
	if len(msg) > 400 || strings.Contains(msg, "\u202e") {
		t.Errorf("Load's message is %d bytes or holds a raw override: %.300q", len(msg), msg)
	}
}
