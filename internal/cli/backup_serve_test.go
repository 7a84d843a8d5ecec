package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twofold-id/twofold/internal/config"
	"github.com/twofold-id/twofold/internal/testserver"
)

// twofoldCmd runs the command line in-process with an empty environment and returns the
// exit code and what it printed.
func twofoldCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// countLoginFailures counts the login.failed audit rows of the SQLite file at path.
func countLoginFailures(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM audit_events WHERE event = 'login.failed'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writeKeyDir makes a data directory holding a master key file whose bytes count up from
// first (first 0 is the test servers' fixed key).
func writeKeyDir(t *testing.T, first byte) string {
	t.Helper()
	dir := t.TempDir()
	key := make([]byte, 32)
	for i := range key {
		key[i] = first + byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBackupUnderWriteLoadRestoresAndSignsIn: `twofold backup` copies the database while
// the server writes sign-in failures and their audit rows as fast as it can; `twofold
// restore` refuses it beside another master key and puts it into a fresh data directory,
// and a server there with the same master key signs the user in with password and
// authenticator code.
func TestBackupUnderWriteLoadRestoresAndSignsIn(t *testing.T) {
	clock := testserver.NewClock()
	src := filepath.Join(t.TempDir(), "data")
	s := testserver.New(t, testserver.Options{Clock: clock, Config: func(c *config.Config) { c.DataDir = src }})
	s.CreateUser(t, "alice", "alice@example.com", "user")
	secret, _ := s.Enroll(t, s.Client(t), "alice")

	var failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := fmt.Sprintf(`{"username":"ghost%d","password":"not the password at all"}`, i)
			resp, err := http.Post(s.URL+"/api/v1/login", "application/json", strings.NewReader(body))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				failures.Add(1)
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); failures.Load() < 20; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the writer recorded %d failed sign-ins in 30s", failures.Load())
		}
	}

	backup := filepath.Join(t.TempDir(), "twofold-backup.db")
	before := failures.Load()
	code, out, errOut := twofoldCmd("backup", backup, "--data-dir", src)
	if code != 0 {
		t.Fatalf("twofold backup: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "backed up") || !strings.Contains(out, "master key") {
		t.Errorf("twofold backup printed %q, want what it did and the master key reminder", out)
	}
	if fi, err := os.Stat(backup); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup file has mode %v, want 0600", fi.Mode().Perm())
	}
	n := countLoginFailures(t, backup)
	if n < before {
		t.Errorf("the backup holds %d failed sign-ins, want at least the %d answered before it began", n, before)
	}
	t.Logf("failed sign-ins answered: %d before the backup, %d after it; in the backup: %d", before, failures.Load(), n)

	// A data directory whose master key is not the backup's: restore refuses and leaves it.
	wrong := writeKeyDir(t, 0xff)
	code, out, errOut = twofoldCmd("restore", backup, "--data-dir", wrong)
	if code != 1 || !strings.Contains(errOut, "does not open it: it was made with another key") {
		t.Errorf("restore beside another master key: exit %d, stderr %q, want exit 1 saying the key does not open the backup (stdout %q)", code, errOut, out)
	}
	if _, err := os.Stat(filepath.Join(wrong, "twofold.db")); err == nil {
		t.Error("the refused restore left a database behind")
	}
	// Beside the right key it restores without a word about the key.
	right := writeKeyDir(t, 0)
	code, out, errOut = twofoldCmd("restore", backup, "--data-dir", right)
	if code != 0 || strings.Contains(out, "master key") {
		t.Errorf("restore beside the backup's master key: exit %d, stdout %q, stderr %q; want it restored without a key warning", code, out, errOut)
	}

	fresh := filepath.Join(t.TempDir(), "restored")
	code, out, errOut = twofoldCmd("restore", backup, "--data-dir", fresh)
	if code != 0 {
		t.Fatalf("twofold restore: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "restored") || !strings.Contains(out, "no master key") {
		t.Errorf("twofold restore printed %q, want what it did and that the master key is missing", out)
	}

	// The test servers share one fixed master key: the restored server has the backup's key.
	r := testserver.New(t, testserver.Options{Clock: clock, Config: func(c *config.Config) { c.DataDir = fresh }})
	r.NextStep()
	c := r.Client(t)
	c.Login("alice", "mfa_required")
	resp := c.PostJSON("/api/v1/login/totp", map[string]string{"code": r.Code(secret, 0)})
	if resp.Status != http.StatusOK || resp.JSON(t)["state"] != "authenticated" {
		t.Fatalf("sign-in with a code on the restored server: %d %s", resp.Status, resp.Body)
	}
}

// TestRestoreRefusesWhileServing: restore will not replace the database of a data
// directory a server uses, nor a database it holds without --force, nor take a file that
// is not a twofold database; backup will not overwrite a file; both refuse PostgreSQL with
// the pg_dump advice.
func TestRestoreRefusesWhileServing(t *testing.T) {
	cfg := testConfig(t)
	s := startServe(t, cfg)
	dir := cfg.DataDir
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, out, errOut := twofoldCmd("backup", backup, "--data-dir", dir); code != 0 {
		t.Fatalf("twofold backup while serving: exit %d\n%s%s", code, out, errOut)
	}

	refused := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := twofoldCmd(args...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("twofold %s: exit %d, stderr %q, want exit 1 saying %q (stdout %q)", strings.Join(args, " "), code, errOut, want, out)
		}
	}
	refused("a twofold server is using", "restore", backup, "--force", "--data-dir", dir)
	refused("already exists", "backup", backup, "--data-dir", dir)
	refused("pg_dump", "backup", filepath.Join(t.TempDir(), "x.db"), "--database", "postgres://u@127.0.0.1:1/x")
	refused("pg_dump", "restore", backup, "--database", "postgres://u@127.0.0.1:1/x")
	text := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(text, []byte("not a database, just some text that is long enough to look like a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("will not restore", "restore", text, "--data-dir", t.TempDir())
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	refused("is not a twofold database", "restore", other, "--data-dir", t.TempDir())

	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	refused("add --force", "restore", backup, "--data-dir", dir)
	if code, out, errOut := twofoldCmd("restore", backup, "--force", "--data-dir", dir); code != 0 {
		t.Fatalf("twofold restore --force after the server stopped: exit %d\n%s%s", code, out, errOut)
	}
	// A server starts on the restored database.
	startServe(t, cfg)
}
