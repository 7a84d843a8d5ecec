package config_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/twofold-id/twofold/internal/config"
)

// TestEffectiveRedactsSecrets: no secret of the configuration appears anywhere in what
// Effective returns, while the rest of the settings do.
func TestEffectiveRedactsSecrets(t *testing.T) {
	c := config.Default()
	c.Database.URL = "postgres://twofold:dsn-pa55word@db.example.com:5432/twofold?sslmode=require&sslpassword=ssl-pa55"
	c.Mail = config.Mail{Host: "smtp.example.com", Username: "mailer", Password: "smtp-hunter2", From: "a@example.com"}
	c.MFA.Required = config.MFARequired{Roles: []string{"admin", "agent"}}
	got, err := c.Effective()
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	byKey := map[string]config.Setting{}
	for _, s := range got {
		all.WriteString(s.Key + "=" + s.Value + "\n")
		byKey[s.Key] = s
	}
	for _, secret := range []string{"dsn-pa55word", "ssl-pa55", "smtp-hunter2"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the secret %q is in the effective settings:\n%s", secret, all.String())
		}
	}
	for key, want := range map[string]string{
		"server.addr":             "127.0.0.1:8080",
		"mail.username":           "mailer",
		"mail.password":           config.RedactedValue,
		"mfa.required":            "[admin, agent]",
		"session.idle_timeout":    "1h0m0s",
		"secrets.master_key_file": c.MasterKeyPath(),
		"oidc.id_token_lifetime":  "1h0m0s",
	} {
		if byKey[key].Value != want {
			t.Errorf("%s = %q, want %q", key, byKey[key].Value, want)
		}
	}
	db := byKey["database.url"]
	if !db.Redacted || !strings.Contains(db.Value, "db.example.com") || !strings.Contains(db.Value, "twofold:redacted@") {
		t.Errorf("database.url = %+v, want the host kept and the password redacted", db)
	}
	if byKey["oidc.refresh_token_lifetime"].Redacted {
		t.Error("a lifetime setting is redacted as if it were a token")
	}
	if got[0].Key != "server.addr" {
		t.Errorf("first setting %q, want the file's order (server.addr first)", got[0].Key)
	}
}

func TestEffectiveWithoutSecrets(t *testing.T) {
	got, err := config.Default().Effective()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s.Redacted {
			t.Errorf("%s is redacted in the defaults, which hold no secret", s.Key)
		}
	}
}

func TestMFARequiredRoundTrips(t *testing.T) {
	for _, m := range []config.MFARequired{{All: true}, {None: true}, {Roles: []string{"admin"}}} {
		b, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back config.MFARequired
		if err := yaml.Unmarshal(b, &back); err != nil || back.String() != m.String() {
			t.Errorf("%v written as %q reads back as %v (%v)", m, b, back, err)
		}
	}
}

// TestEffectiveRedactsAQueryItCannotRead: a database URL whose query Go cannot read (a
// ";" in it, which url.Query drops silently) is redacted whole, so a password written
// after a semicolon is not shown.
func TestEffectiveRedactsAQueryItCannotRead(t *testing.T) {
	c := config.Default()
	c.Database.URL = "postgres://twofold@db.example.com/twofold?sslmode=require;password=semi-hunter2"
	got, err := c.Effective()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if strings.Contains(s.Value, "semi-hunter2") {
			t.Fatalf("%s = %q shows the password", s.Key, s.Value)
		}
	}
}
