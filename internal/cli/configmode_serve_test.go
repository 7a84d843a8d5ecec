package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeWarnsAboutAReadableConfigWithSecrets: serve warns once at start when the config
// file holds a secret and group or others can read it, and not otherwise.
func TestServeWarnsAboutAReadableConfigWithSecrets(t *testing.T) {
	const secret = "mail:\n  host: smtp.example.com\n  from: twofold@example.com\n  username: twofold\n  password: hunter2hunter2\n"
	for _, tc := range []struct {
		name string
		yaml string
		mode os.FileMode
		warn bool
	}{
		{"secret readable by others", secret, 0o644, true},
		{"secret readable by the group", secret, 0o640, true},
		{"secret private", secret, 0o600, false},
		{"no secret, readable", "log:\n  level: info\n", 0o644, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "twofold.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			s := startServeWith(t, testConfig(t), func(e *env) { e.configPath = path })
			log := s.stderr.String()
			n := strings.Count(log, "group or others can read it")
			if tc.warn && (n != 1 || !strings.Contains(log, "mail.password") || !strings.Contains(log, path)) {
				t.Errorf("want one warning naming the file and mail.password, got %d:\n%s", n, log)
			}
			if !tc.warn && n != 0 {
				t.Errorf("want no warning:\n%s", log)
			}
			if strings.Contains(log, "hunter2") {
				t.Errorf("the log shows the secret:\n%s", log)
			}
		})
	}
}
