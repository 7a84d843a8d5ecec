package config

import (
	"fmt"
	"time"

	"github.com/twofold-id/twofold/internal/apperr"
)

// Invitations configures the invitation links `twofold user invite` mails.
type Invitations struct {
	// TTL is how long an invitation link works; a resent invitation gets a fresh TTL.
	TTL time.Duration `yaml:"ttl"`
}

// DefaultInvitationTTL is how long an invitation works unless invitations.ttl says otherwise.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// Bounds of invitations.ttl: long enough to read the mail, short enough that a forgotten
// link does not stay a way into the account.
const (
	minInvitationTTL = 10 * time.Minute
	maxInvitationTTL = 30 * 24 * time.Hour
)

// applyInvitationsEnv reads TWOFOLD_INVITATIONS_TTL.
func (c *Config) applyInvitationsEnv(getenv func(string) string) []error {
	if v := getenv("TWOFOLD_INVITATIONS_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return []error{fmt.Errorf("TWOFOLD_INVITATIONS_TTL: %s is not a duration such as 168h (7 days)", apperr.Quote(v))}
		}
		c.Invitations.TTL = d
	}
	return nil
}

// validateInvitations reports an invalid invitations setting.
func (c *Config) validateInvitations() []error {
	if t := c.Invitations.TTL; t < minInvitationTTL || t > maxInvitationTTL {
		return []error{fmt.Errorf("invitations.ttl: %s is outside %s..%s", t, minInvitationTTL, maxInvitationTTL)}
	}
	return nil
}
