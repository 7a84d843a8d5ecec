package config_test

import (
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
)

func TestAuditRetention(t *testing.T) {
	if r := config.Default().Audit.Retention; r != 0 {
		t.Fatalf("default audit.retention %s, want 0 (keep forever)", r)
	}
	for _, tc := range []struct {
		name      string
		retention time.Duration
		bad       string
	}{
		{"forever", 0, ""},
		{"a_day", 24 * time.Hour, ""},
		{"a_year", 8760 * time.Hour, ""},
		{"an_hour", time.Hour, "audit.retention: 1h0m0s is shorter than 24h0m0s"},
		{"negative", -time.Hour, "audit.retention"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.Audit.Retention = tc.retention
			err := c.Validate()
			switch {
			case tc.bad == "" && err != nil:
				t.Fatalf("Validate = %v, want valid", err)
			case tc.bad != "" && err == nil:
				t.Fatalf("Validate accepted %s", tc.retention)
			case tc.bad != "":
				wantContains(t, err.Error(), tc.bad)
			}
		})
	}
	_, err := config.Load("", env(map[string]string{"TWOFOLD_AUDIT_RETENTION": "90d"}))
	if err == nil {
		t.Fatal("Load accepted TWOFOLD_AUDIT_RETENTION=90d")
	}
	wantContains(t, err.Error(), `TWOFOLD_AUDIT_RETENTION: "90d" is not a duration`)
}
