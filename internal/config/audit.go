package config

import (
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
	"github.com/twofold-id/twofold/internal/audit"
)

// Audit configures the audit log.
type Audit struct {
	// Retention is how long events are kept; housekeeping prunes older ones once a day.
	// 0 keeps them forever.
	Retention time.Duration `yaml:"retention"`
}

// applyAuditEnv reads TWOFOLD_AUDIT_RETENTION.
func (c *Config) applyAuditEnv(getenv func(string) string) []error {
	if v := getenv("TWOFOLD_AUDIT_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return []error{fmt.Errorf("TWOFOLD_AUDIT_RETENTION: %s is not a duration such as 2160h (90 days)", apperr.Quote(v))}
		}
		c.Audit.Retention = d
	}
	return nil
}

// validateAudit reports an invalid audit setting.
func (c *Config) validateAudit() []error {
	if r := c.Audit.Retention; r != 0 && r < audit.MinRetention {
		return []error{fmt.Errorf("audit.retention: %s is shorter than %s (0 keeps events forever)", r, audit.MinRetention)}
	}
	return nil
}
