package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// RedactedValue replaces a secret in Effective's answer.
const RedactedValue = "[redacted]"

// Setting is one effective setting: its key as the configuration file nests it, joined
// with dots ("server.addr"), and its value as YAML writes it.
type Setting struct {
	Key   string
	Value string
	// Redacted: the value held a secret, which Value no longer shows.
	Redacted bool
}

// Effective returns every setting of c in the order of the configuration file, with every
// secret redacted: the password (and password parameters) of database.url, mail.password,
// and, as a safety net for settings added later, any non-empty value of a key that names a
// password, secret, token or private key unless it is a number, flag or duration. The
// master key is never part of the configuration (only its file name is). Effective never
// returns a secret.
func (c *Config) Effective() ([]Setting, error) {
	shown := *c
	shown.Secrets.MasterKeyFile = c.MasterKeyPath()
	var root yaml.Node
	if err := root.Encode(&shown); err != nil {
		return nil, fmt.Errorf("encode the configuration: %w", err)
	}
	redact := map[string]string{}
	for _, s := range c.secretSettings() {
		redact[s.key] = s.shown
	}
	var out []Setting
	var walk func(prefix string, n *yaml.Node) error
	walk = func(prefix string, n *yaml.Node) error {
		if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if prefix != "" {
					key = prefix + "." + key
				}
				if err := walk(key, n.Content[i+1]); err != nil {
					return err
				}
			}
			return nil
		}
		s := Setting{Key: prefix}
		if n.Kind == yaml.ScalarNode {
			s.Value = n.Value
		} else {
			n.Style = yaml.FlowStyle
			b, err := yaml.Marshal(n)
			if err != nil {
				return err
			}
			s.Value = strings.TrimSpace(string(b))
		}
		if v, ok := redact[s.Key]; ok {
			s.Value, s.Redacted = v, true
		} else if looksSecret(s.Key, s.Value) {
			s.Value, s.Redacted = RedactedValue, true
		}
		out = append(out, s)
		return nil
	}
	if err := walk("", &root); err != nil {
		return nil, err
	}
	return out, nil
}

// secretSetting is a setting of a configuration that holds a secret: its key and what
// Effective shows instead of its value.
type secretSetting struct {
	key, shown string
}

// secretSettings lists the settings of c that hold a secret, in the order of the file.
// SecretsInFile and Effective both go by it.
func (c *Config) secretSettings() []secretSetting {
	var out []secretSetting
	if shown, ok := redactURL(c.Database.URL); ok {
		out = append(out, secretSetting{"database.url", shown})
	}
	if c.Mail.Password != "" {
		out = append(out, secretSetting{"mail.password", RedactedValue})
	}
	return out
}

// redactURL returns raw with its password and password parameters replaced, and whether
// it held any; a URL or query that does not parse is redacted whole.
func redactURL(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return RedactedValue, true
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		// A query Go cannot read whole (a ";" in it): Query would drop what it cannot
		// read, a password included, so nothing of it is shown.
		return RedactedValue, true
	}
	found := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		found = true
	}
	q := u.Query()
	for k := range q {
		if looksSecretKey(k) {
			q.Set(k, "redacted")
			found = true
		}
	}
	if !found {
		return raw, false
	}
	u.RawQuery = q.Encode()
	return u.String(), true
}

// looksSecretKey reports whether a setting's name says it holds a secret.
func looksSecretKey(key string) bool {
	leaf := strings.ToLower(key[strings.LastIndex(key, ".")+1:])
	if strings.HasSuffix(leaf, "_file") || strings.HasSuffix(leaf, "_lifetime") || strings.HasSuffix(leaf, "_ttl") {
		return false // a file name or a duration, not the secret itself
	}
	for _, w := range []string{"password", "secret", "token", "private", "apikey", "api_key", "credential"} {
		if strings.Contains(leaf, w) {
			return true
		}
	}
	return false
}

// looksSecret reports whether a setting not known to hold a secret looks as if it did.
func looksSecret(key, value string) bool {
	if value == "" || value == `""` || value == "[]" || value == "{}" || !looksSecretKey(key) {
		return false
	}
	if _, err := strconv.ParseBool(value); err == nil {
		return false
	}
	if _, err := strconv.ParseFloat(value, 64); err == nil {
		return false
	}
	if _, err := time.ParseDuration(value); err == nil {
		return false
	}
	return true
}
