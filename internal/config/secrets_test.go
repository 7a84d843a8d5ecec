package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/twofold-id/twofold/internal/config"
)

func TestSecretsInFile(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"none", "server:\n  addr: 127.0.0.1:8080\n", nil},
		{"mail password", "mail:\n  host: smtp.example.com\n  from: a@example.com\n  username: u\n  password: hunter2hunter2\n", []string{"mail.password"}},
		{"database url with a password", "database:\n  url: postgres://twofold:s3cret@db/twofold\n", []string{"database.url"}},
		{"database url without a password", "database:\n  url: postgres://twofold@db/twofold\n", nil},
		{"both", "database:\n  url: postgres://twofold:s3cret@db/twofold\nmail:\n  host: smtp.example.com\n  from: a@example.com\n  password: x\n",
			[]string{"database.url", "mail.password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "twofold.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := config.SecretsInFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SecretsInFile = %v, want %v", got, tc.want)
			}
		})
	}
}
