package config_test

import (
	"slices"
	"strings"
	"testing"
)

// TestPhishingResistantRoles: mfa.phishing_resistant lists roles, from the file or
// TWOFOLD_MFA_PHISHING_RESISTANT; an unknown role is a problem Validate reports.
func TestPhishingResistantRoles(t *testing.T) {
	t.Run("default is nobody", func(t *testing.T) {
		c := mustLoad(t, "", env(nil))
		if len(c.MFA.PhishingResistant) != 0 || c.MFA.PhishingResistantFor("admin") {
			t.Errorf("default mfa.phishing_resistant %v, want none", c.MFA.PhishingResistant)
		}
	})
	t.Run("file", func(t *testing.T) {
		c := mustLoad(t, "mfa:\n  phishing_resistant: [admin, support]\n", env(nil))
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if !c.MFA.PhishingResistantFor("admin") || !c.MFA.PhishingResistantFor("support") || c.MFA.PhishingResistantFor("user") {
			t.Errorf("mfa.phishing_resistant %v", c.MFA.PhishingResistant)
		}
	})
	t.Run("environment", func(t *testing.T) {
		c := mustLoad(t, "", env(map[string]string{"TWOFOLD_MFA_PHISHING_RESISTANT": " admin , support "}))
		if !slices.Equal(c.MFA.PhishingResistant, []string{"admin", "support"}) {
			t.Errorf("TWOFOLD_MFA_PHISHING_RESISTANT: %v", c.MFA.PhishingResistant)
		}
	})
	t.Run("unknown role", func(t *testing.T) {
		c := mustLoad(t, "mfa:\n  phishing_resistant: [admins]\n", env(nil))
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `mfa.phishing_resistant: unknown role "admins"`) {
			t.Errorf("Validate = %v, want the unknown role reported", err)
		}
	})
}
