package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twofold-id/twofold/internal/address"
	"github.com/twofold-id/twofold/internal/admin"
	"github.com/twofold-id/twofold/internal/apitoken"
	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/auth"
	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/invite"
	"github.com/twofold-id/twofold/internal/logging"
	"github.com/twofold-id/twofold/internal/mail"
	"github.com/twofold-id/twofold/internal/metrics"
	"github.com/twofold-id/twofold/internal/metrics/prom"
	"github.com/twofold-id/twofold/internal/oidc"
	"github.com/twofold-id/twofold/internal/password"
	"github.com/twofold-id/twofold/internal/register"
	"github.com/twofold-id/twofold/internal/secrets"
	"github.com/twofold-id/twofold/internal/store/sqlstore"
	"github.com/twofold-id/twofold/internal/support"
	"github.com/twofold-id/twofold/internal/throttle"
	"github.com/twofold-id/twofold/internal/web"
)

// Options adjust the wiring. The zero value is production: `twofold serve` and every
// command use it; the load harness and the test server (internal/testserver) override the
// clock, the limits and what a test cannot take from a configuration file.
type Options struct {
	Log          *slog.Logger
	MasterKeyEnv string           // TWOFOLD_MASTER_KEY (base64); else the configured key file
	MasterKey    []byte           // when set, used as is and nothing is read or written
	Now          func() time.Time // nil: time.Now
	Argon2       *password.Params // nil: password.argon2 from the config
	Throttle     *throttle.Policy // nil: the failure budgets under limits
	RateLimits   *web.RateLimits  // nil: the per-client limits under limits
	// HashQueueWait is how long a sign-in waits for a free password hasher before 503
	// busy; 0 means 2 s.
	HashQueueWait time.Duration
	// MFARequiredForRole replaces mfa.required (tests with a policy of their own).
	MFARequiredForRole func(role string) bool
	// Mailer replaces the mailer of the mail: section (tests that catch mail).
	Mailer mail.Mailer
	// InsecureCookies drops the Secure attribute that an https server.public_url turns on
	// (tests serve plain HTTP under such a URL).
	InsecureCookies bool
	// ObserveHashCPU, when set, is told the CPU time of every password hash, measured on
	// the thread that computed it (password.Hasher.ObserveCPU): the load harness's servers
	// tell a sign-in's hash from the rest of its CPU time with it.
	ObserveHashCPU func(time.Duration)
	// NewKeyOnPostgres lets Open make a master key file for a PostgreSQL database that holds
	// nothing sealed yet: `twofold serve` only. Every other command on PostgreSQL needs the
	// key its servers use (KeyRequiredError), since a key made for a one-off command (a
	// migration job, a console on a laptop) would become the database's key at its key check.
	NewKeyOnPostgres bool
}

// HousekeepingInterval is how often the housekeeping of every service runs.
const HousekeepingInterval = 5 * time.Minute

// App is one process's wired program. Close it when done.
type App struct {
	Config *config.Config
	Store  *sqlstore.DB
	Keys   *secrets.Keyring
	// Mail is the durable queue every mail is written to, in the transaction of its
	// event; MailSender alone hands mail to the transport (SMTP or the outbox), so no
	// request ever waits for it. SendMail runs it.
	Mail       *mail.Queue
	MailSender *mail.Sender
	Auth       *auth.Service
	Support    *support.Service
	// Register is self-registration (registration.*); off unless configured.
	Register *register.Service
	// Invite sends and accepts invitations.
	Invite  *invite.Service
	Address *address.Service
	// Tokens are the API tokens of the admin API.
	Tokens *apitoken.Service
	// Metrics are the Prometheus metrics of server.metrics_addr; nil when it is not set.
	Metrics *prom.Metrics
	// recorder is Metrics, or a recorder of nothing.
	recorder metrics.Recorder
	// OIDCAdmin manages the OpenID Connect clients and signing keys.
	OIDCAdmin *oidc.Admin
	// Admin is what administrators do to users in the admin console and API.
	Admin *admin.Service
	opts  Options
}

// Open loads the master key, opens the database (applying migrations) and builds the
// services.
//
// A new installation, one with no SQLite database file yet, gets its data directory, a new
// master key (unless one is given or in place) and its database. An existing one must find
// its master key: when the key file is missing, Open returns a *MissingKeyError and creates
// nothing, because a new key would open nothing the database holds. On PostgreSQL, where
// no file tells a new database from an old one, a database that holds sealed data
// (sqlstore.DB.HoldsSealedData) counts as existing. A key that does not open the database,
// which was made with another key, is refused with a *WrongKeyError before anything is
// written; a database that does not tell yet (new, or from before the key check) gets a
// value sealed with the key that tells from then on.
func Open(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.Log = logging.Logger(o.Log) // the request id on the lines of a request
	params := password.Params{
		MemoryKiB:   cfg.Password.Argon2.MemoryKiB,
		Iterations:  cfg.Password.Argon2.Iterations,
		Parallelism: cfg.Password.Argon2.Parallelism,
	}
	if o.Argon2 != nil {
		params = *o.Argon2
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("password.argon2: %w", err)
	}
	mailer := o.Mailer
	if mailer == nil {
		var err error
		if mailer, err = newMailer(cfg, o); err != nil {
			return nil, err
		}
	}
	db, keys, err := openData(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if err := db.SessionCacheErr(); err != nil {
		o.Log.Warn("sessions are read from the database at every request: the SQLite WAL index could not be mapped", "err", err)
	}
	queue := mail.NewQueue(keys, o.Now)
	policy := password.DefaultPolicy
	policy.MinLength = cfg.Password.MinLength
	budgets := cfg.Limits.Policy
	if o.Throttle != nil {
		budgets = *o.Throttle
	}
	hashWait := o.HashQueueWait
	if hashWait <= 0 {
		hashWait = 2 * time.Second
	}
	hasher := password.NewHasher(params, cfg.Password.MaxConcurrentHashes, hashWait)
	hasher.LimitQueue(cfg.Password.HashQueue)
	if o.ObserveHashCPU != nil {
		hasher.ObserveCPU(o.ObserveHashCPU)
	}
	pm, recorder := newMetrics(cfg, o, db, hasher)
	sender := mail.NewSender(mail.SenderOptions{Store: db, Queue: queue, Mailer: mailer, Log: o.Log, Now: o.Now, Metrics: recorder})
	mfaFor := cfg.MFA.Required.RequiredFor
	if o.MFARequiredForRole != nil {
		mfaFor = o.MFARequiredForRole
	}
	svc := auth.New(auth.Options{
		Notifier:           mail.NewNotifier(queue, o.Log, cfg.MFA.Issuer),
		Log:                o.Log,
		Store:              db,
		Hasher:             hasher,
		Metrics:            recorder,
		PasswordPolicy:     policy,
		Keyring:            keys,
		MFARequiredForRole: mfaFor,
		KeyRequiredForRole: cfg.MFA.PhishingResistantFor,
		Issuer:             cfg.MFA.Issuer,
		IdleTimeout:        cfg.Session.IdleTimeout,
		// Instances on one PostgreSQL read each other's last-seen times; a SQLite server
		// is the only one that serves its file.
		BatchTouches:   !cfg.Database.Postgres(),
		Lifetime:       cfg.Session.Lifetime,
		Now:            o.Now,
		Throttle:       budgets,
		AuditRetention: cfg.Audit.Retention,
		PublicURL:      baseURL(cfg),
		WebAuthn: auth.WebAuthnOptions{RPID: cfg.WebAuthnRPID(), RPOrigins: cfg.WebAuthnOrigins(),
			RPDisplayName: cfg.WebAuthn.RPDisplayName, Passwordless: cfg.WebAuthn.Passwordless,
			AllowedAAGUIDs: cfg.WebAuthnAAGUIDs()},
	})
	if cfg.Server.PublicURL == "" && cfg.Mail.SMTPConfigured() {
		o.Log.Warn("server.public_url is not set: links in password reset mail lead to " + baseURL(cfg))
	}
	a := &App{Config: cfg, Store: db, Keys: keys, Mail: queue, MailSender: sender, Auth: svc, Metrics: pm, recorder: recorder, opts: o}
	a.Support = a.newSupport()
	a.Register = a.newRegister()
	a.Invite = a.newInvite()
	a.Tokens = apitoken.New(apitoken.Options{Store: db, Log: o.Log, Now: o.Now})
	a.Address = address.New(address.Options{Store: db, Auth: svc, Post: a.post(), Log: o.Log, Now: o.Now})
	a.OIDCAdmin = oidc.NewAdmin(oidc.AdminOptions{Store: db, Keyring: keys, IDTokenLifetime: cfg.OIDC.IDTokenLifetime, Now: o.Now})
	a.Admin = admin.New(admin.Options{Store: db, Auth: svc, Invite: a.Invite, Support: a.Support})
	return a, nil
}

// Close closes the database.
func (a *App) Close() error { return a.Store.Close() }

// openData opens the database and the keyring of its master key: o.MasterKey, else
// TWOFOLD_MASTER_KEY (o.MasterKeyEnv), else the key file, which is created only for a new
// installation (newMasterKey). On SQLite a missing key is dealt with before the database is
// opened: a new installation's key exists before its database does, and an existing
// database whose key is missing is left untouched. On PostgreSQL only the database can
// tell whether it is new. Once both are open, the key must open the database
// (checkMasterKey): else the answer is a *WrongKeyError.
func openData(ctx context.Context, cfg *config.Config, o Options) (*sqlstore.DB, *secrets.Keyring, error) {
	key := o.MasterKey
	if key == nil {
		var err error
		key, err = secrets.LoadMasterKey(o.MasterKeyEnv, cfg.MasterKeyPath())
		if err != nil && !errors.Is(err, secrets.ErrNoMasterKey) {
			return nil, nil, err
		}
	}
	if key == nil && !cfg.Database.Postgres() {
		var existing string
		switch _, err := os.Stat(cfg.DatabasePath()); {
		case err == nil:
			existing = "the database " + apperr.QuotePath(cfg.DatabasePath()) + " exists"
		case !errors.Is(err, fs.ErrNotExist):
			return nil, nil, apperr.QuotePathError(err)
		}
		var err error
		if key, err = newMasterKey(cfg, o, existing); err != nil {
			return nil, nil, err
		}
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if key == nil {
		held, err := db.HoldsSealedData(ctx)
		switch {
		case err != nil:
		case held:
			err = &MissingKeyError{Path: cfg.MasterKeyPath(), Existing: "the PostgreSQL database holds data sealed with a master key " +
				"(its key check value, authenticators, recovery codes, signing keys or mail)"}
		case !o.NewKeyOnPostgres:
			err = &KeyRequiredError{Path: cfg.MasterKeyPath()}
		default:
			key, err = newMasterKey(cfg, o, "")
		}
		if err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	keys, err := secrets.NewKeyring(key)
	if err == nil {
		err = checkMasterKey(ctx, db, keys, o.now())
	}
	if errors.Is(err, errWrongKey) {
		err = newWrongKeyError(cfg, o)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, keys, nil
}

// now is o.Now, else time.Now.
func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// newMasterKey creates the missing master key file of a new installation. existing says
// why the installation is not new, "" when it is; then the answer is a *MissingKeyError
// and nothing is created.
func newMasterKey(cfg *config.Config, o Options, existing string) ([]byte, error) {
	path := cfg.MasterKeyPath()
	if existing != "" {
		return nil, &MissingKeyError{Path: path, Existing: existing}
	}
	key, created, err := secrets.LoadOrCreateMasterKey("", path)
	if created {
		o.Log.Info("generated a new master key; back it up with the database", "file", path)
	}
	return key, err
}

// KeyRequiredError is Open's answer to a command other than serve on PostgreSQL when no
// master key is given (TWOFOLD_MASTER_KEY) or in place (the key file): the servers' key
// is needed, and one made here would be recorded as the database's at the key check.
type KeyRequiredError struct {
	Path string // the key file looked for
}

func (e *KeyRequiredError) Error() string {
	return fmt.Sprintf("no master key: with PostgreSQL this command needs the key the servers use; set "+
		"TWOFOLD_MASTER_KEY to it or put its key file at %s. Only \"twofold serve\" makes a new key, for a "+
		"database that holds nothing sealed yet", apperr.QuotePath(e.Path))
}

// Migrate applies the database's pending migrations and nothing else: no master key is
// read, made or checked (a migration job of a PostgreSQL deployment has none to give).
func Migrate(ctx context.Context, cfg *config.Config) error {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	return db.Close()
}

// MissingKeyError is Open's answer when the master key file is missing (and
// TWOFOLD_MASTER_KEY is not set) while the installation exists: no key is generated,
// since a new key opens nothing the database holds.
type MissingKeyError struct {
	Path     string // the key file
	Existing string // why the installation exists, such as `the database "..." exists`
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("the master key file %s is missing but %s: no new key is made, as it could open none of the "+
		"authenticators and recovery codes there. Put the key this database was made with back at %s "+
		"(or in TWOFOLD_MASTER_KEY); see \"A missing master key\" in docs/operations.md", apperr.QuotePath(e.Path), e.Existing, apperr.QuotePath(e.Path))
}

// openStore opens PostgreSQL when database.url is set, else the embedded SQLite file.
func openStore(ctx context.Context, cfg *config.Config) (*sqlstore.DB, error) {
	if cfg.Database.Postgres() {
		return sqlstore.OpenPostgres(ctx, cfg.Database.URL, sqlstore.PoolOptions{
			MaxOpenConns:    cfg.Database.MaxOpenConns,
			MaxIdleConns:    cfg.Database.MaxIdleConns,
			ConnMaxLifetime: cfg.Database.ConnMaxLifetime,
		})
	}
	return sqlstore.OpenSQLite(ctx, cfg.DatabasePath())
}

// newMailer is SMTP when mail.host is set, else the .eml outbox in the data directory.
func newMailer(cfg *config.Config, o Options) (mail.Mailer, error) {
	m := cfg.Mail
	if !m.SMTPConfigured() {
		return mail.NewOutbox(cfg.OutboxDir(), m.Sender(), o.Log, o.Now), nil
	}
	return mail.NewSMTP(mail.SMTPConfig{Host: m.Host, Port: m.Port, Security: m.Security, Username: m.Username,
		Password: m.Password, From: m.From})
}

// baseURL is where links in mail lead: server.public_url, never a Host header a request
// could forge; without it, the listen address.
func (a *App) baseURL() string { return baseURL(a.Config) }

// post is how the services that write to people send mail: through the queue, naming
// the product, with links to baseURL.
func (a *App) post() mail.Post {
	return mail.Post{Queue: a.Mail, Product: a.Config.MFA.Issuer, BaseURL: a.baseURL()}
}

func baseURL(cfg *config.Config) string {
	if cfg.Server.PublicURL != "" {
		return cfg.Server.PublicURL
	}
	host, port, err := net.SplitHostPort(cfg.Server.Addr)
	if err == nil && (host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified()) {
		host = "127.0.0.1"
	}
	return cfg.Server.Scheme() + "://" + net.JoinHostPort(host, port)
}

// newSupport wires the support desk.
func (a *App) newSupport() *support.Service {
	cfg := a.Config
	base := a.baseURL()
	if cfg.Server.PublicURL == "" && cfg.Mail.SMTPConfigured() {
		a.opts.Log.Warn("server.public_url is not set: links in support mail lead to " + base)
	}
	return support.New(support.Options{
		Store: a.Store, Auth: a.Auth, Post: a.post(), Log: a.opts.Log,
		RequireApproval:   cfg.Support.ResetRequiresApproval,
		CasesPerIPHour:    cfg.Limits.SupportCasesPerIPHour,
		CasesPerEmailHour: cfg.Limits.SupportCasesPerEmailHour,
		MailsPerHour:      cfg.Limits.SupportMailsPerHour,
		Now:               a.opts.Now,
		Metrics:           a.recorder,
	})
}

// newInvite wires invitations.
func (a *App) newInvite() *invite.Service {
	cfg := a.Config
	base := a.baseURL()
	if cfg.Server.PublicURL == "" && cfg.Mail.SMTPConfigured() {
		a.opts.Log.Warn("server.public_url is not set: links in invitation mail lead to " + base)
	}
	return invite.New(invite.Options{Store: a.Store, Auth: a.Auth, Post: a.post(), Log: a.opts.Log,
		TTL: cfg.Invitations.TTL, Now: a.opts.Now})
}

// newRegister wires self-registration.
func (a *App) newRegister() *register.Service {
	cfg := a.Config
	r := cfg.Registration
	if r.Enabled && cfg.Server.PublicURL == "" && cfg.Mail.SMTPConfigured() {
		a.opts.Log.Warn("server.public_url is not set: links in registration mail lead to " + a.baseURL())
	}
	return register.New(register.Options{
		Store: a.Store, Auth: a.Auth, Post: a.post(), Log: a.opts.Log, Enabled: r.Enabled,
		DomainAllowed: r.DomainAllowed, Now: a.opts.Now,
		PerIPHour: r.RequestsPerIPHour, PerEmailHour: r.RequestsPerEmailHour, MailsPerHour: r.MailsPerHour,
	})
}

// OIDC builds the OpenID Connect provider for issuer.
func (a *App) OIDC(issuer string) (*oidc.Provider, error) {
	c := a.Config.OIDC
	return oidc.New(oidc.Options{
		Store: a.Store, Auth: a.Auth, Keyring: a.Keys, Issuer: issuer, Log: a.opts.Log, Now: a.opts.Now,
		AccessTokenLifetime:  c.AccessTokenLifetime,
		IDTokenLifetime:      c.IDTokenLifetime,
		RefreshTokenLifetime: c.RefreshTokenLifetime,
		RefreshFamilyMaxAge:  c.RefreshFamilyMaxAge,
		Metrics:              a.recorder,
		Admin:                a.OIDCAdmin,
	})
}

// Handler builds the HTTP handler with the OIDC provider prov.
func (a *App) Handler(prov *oidc.Provider) (*web.Server, error) {
	cfg := a.Config
	limits := web.RateLimits{SignIn: cfg.Limits.SignIn(), API: cfg.Limits.API()}
	if a.opts.RateLimits != nil {
		limits = *a.opts.RateLimits
	}
	brand := web.Brand{Name: cfg.UI.ProductName, Accent: cfg.UI.AccentColor}
	if f := cfg.UI.LogoFile; f != "" {
		logo, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ui.logo_file: %w", err)
		}
		if len(logo) > config.MaxLogoBytes {
			return nil, fmt.Errorf("ui.logo_file: %s is larger than %d KiB", f, config.MaxLogoBytes>>10)
		}
		brand.Logo, brand.LogoType = logo, config.LogoTypes[strings.ToLower(filepath.Ext(f))]
	}
	settings, err := cfg.Effective()
	if err != nil {
		return nil, err
	}
	return web.New(web.Options{Auth: a.Auth, Log: a.opts.Log, SecureCookies: cfg.SecureCookies() && !a.opts.InsecureCookies, Brand: brand,
		Ready: a.Store.Ping, OIDCAdmin: a.OIDCAdmin, Settings: settings,
		OIDC: prov, RateLimits: limits, TrustedProxies: cfg.TrustedProxyPrefixes(), Support: a.Support,
		Register: a.Register, Invite: a.Invite, Address: a.Address, Tokens: a.Tokens, PublicURL: cfg.Server.PublicURL, Keys: a.Keys,
		Metrics: a.recorder, Admin: a.Admin})
}

// MetricsHandler serves /metrics (and net/http/pprof with server.pprof) for the listener
// of server.metrics_addr; nil when that is not set. Never mount it on the public listener.
func (a *App) MetricsHandler() http.Handler {
	if a.Metrics == nil {
		return nil
	}
	return a.Metrics.Handler(a.Config.Server.Pprof)
}

// Housekeep runs the housekeeping of the services (expired sessions, setups, budgets and
// audit events past the retention; OIDC requests, tokens and keys) at once and then every
// interval, and on SQLite writes the sessions' last-seen times in batches
// (auth.Service.BatchTouches), until ctx ends; it returns when all of it has stopped, so
// the store may close.
func (a *App) Housekeep(ctx context.Context, prov *oidc.Provider, interval time.Duration) {
	var wg sync.WaitGroup
	touches := a.Auth.BatchTouches(ctx)
	wg.Go(func() { a.Auth.Housekeep(ctx, interval, a.opts.Log) })
	if prov != nil {
		wg.Go(func() { prov.Housekeep(ctx, interval) })
	}
	wg.Wait()
	<-touches
}

// SendMail delivers queued mail until ctx ends (mail.Sender.Run): every instance runs
// one; claims keep them from sending a mail twice. It returns when the sender stopped, so
// the store may close.
func (a *App) SendMail(ctx context.Context) { a.MailSender.Run(ctx) }

// FlushMail delivers the mail that is due now, for a console command that queued some:
// it does not wait for a server's sender to pick it up. A failed delivery stays queued
// for the server's sender to retry.
func (a *App) FlushMail(ctx context.Context) error { return a.MailSender.Flush(ctx) }

// HTTPServer is the http.Server twofold serves h with: bounded header size and timeouts. A
// keep-alive connection that stays idle for idle is closed (server.idle_timeout).
func HTTPServer(h http.Handler, log *slog.Logger, idle time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
