package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func skipOnWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits are not checked on Windows")
	}
}

func writeKeyFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not subject to umask
		t.Fatal(err)
	}
}

func TestMasterKeyFileIsCreatedAndReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys", "master.key")

	key, created, err := LoadOrCreateMasterKey("", path)
	if err != nil {
		t.Fatalf("first load: %v", err)
	}
	if !created || len(key) != KeySize || bytes.Equal(key, make([]byte, KeySize)) {
		t.Fatalf("first load = %x, created=%v; want %d random bytes, created", key, created, KeySize)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %#o, want 0600", perm)
		}
		for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
			di, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if perm := di.Mode().Perm(); perm != 0o700 {
				t.Errorf("directory %s mode = %#o, want 0700", dir, perm)
			}
		}
	}
	text, _ := os.ReadFile(path)
	if got := strings.TrimSpace(string(text)); got != base64.StdEncoding.EncodeToString(key) {
		t.Errorf("file holds %q, want the base64 of the key", got)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	again, created, err := LoadOrCreateMasterKey("", path)
	if err != nil {
		t.Fatalf("second load: %v", err)
	}
	if created || !bytes.Equal(again, key) {
		t.Errorf("second load = %x, created=%v; want %x, not created", again, created, key)
	}
}

func TestLoadMasterKeyNeverCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "master.key")
	key, err := LoadMasterKey("", path)
	if key != nil || !errors.Is(err, ErrNoMasterKey) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("= %x, %v; want ErrNoMasterKey", key, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("LoadMasterKey created the key's directory (stat: %v)", err)
	}

	want := bytes.Repeat([]byte{3}, KeySize)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeKeyFile(t, path, base64.StdEncoding.EncodeToString(want), 0o600)
	if key, err := LoadMasterKey("", path); err != nil || !bytes.Equal(key, want) {
		t.Errorf("with the file in place = %x, %v; want its key", key, err)
	}
}

func TestMasterKeyFromEnv(t *testing.T) {
	envKey := bytes.Repeat([]byte{0xAB}, KeySize)
	env := base64.StdEncoding.EncodeToString(envKey)

	t.Run("env_overrides_file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "master.key")
		fileKey := bytes.Repeat([]byte{0xCD}, KeySize)
		writeKeyFile(t, path, base64.StdEncoding.EncodeToString(fileKey), 0o600)
		key, created, err := LoadOrCreateMasterKey(env, path)
		if err != nil || created || !bytes.Equal(key, envKey) {
			t.Errorf("= %x, %v, %v; want the env key", key, created, err)
		}
	})
	t.Run("env_set_creates_no_file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := LoadOrCreateMasterKey(env, path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("key file exists after loading from env: %v", err)
		}
	})
	t.Run("surrounding_whitespace_is_trimmed", func(t *testing.T) {
		key, _, err := LoadOrCreateMasterKey("  "+env+"\n", "")
		if err != nil || !bytes.Equal(key, envKey) {
			t.Errorf("= %x, %v; want the env key", key, err)
		}
	})
}

func TestMasterKeyBadEnv(t *testing.T) {
	tests := []struct{ name, env string }{
		{"whitespace_only", "   "},
		{"not_base64", "this is not a key"},
		{"16_bytes", base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"31_bytes", base64.StdEncoding.EncodeToString(make([]byte, 31))},
		{"33_bytes", base64.StdEncoding.EncodeToString(make([]byte, 33))},
		{"hex_of_32_bytes", strings.Repeat("ab", 32)},
		{"unpadded", base64.RawStdEncoding.EncodeToString(make([]byte, 32))},
		{"url_alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 32))},
		{"inner_space", base64.StdEncoding.EncodeToString(make([]byte, 32))[:20] + " " + base64.StdEncoding.EncodeToString(make([]byte, 32))[20:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			key, _, err := LoadOrCreateMasterKey(tc.env, path)
			if err == nil || key != nil {
				t.Fatalf("= %x, %v; want an error", key, err)
			}
			if want := "TWOFOLD_MASTER_KEY: not base64 of 32 bytes"; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			if strings.TrimSpace(tc.env) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.env)) {
				t.Error("error repeats the secret value")
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Error("a bad env value fell back to creating a key file")
			}
		})
	}
}

func TestMasterKeyBadFile(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize)) + "\n"
	tests := []struct {
		name    string
		text    string
		mode    os.FileMode
		wantErr string
		unix    bool // mode checks only
	}{
		{"world_readable_refused", good, 0o644, "has mode 0644, want 0600 or stricter", true},
		{"group_readable_refused", good, 0o640, "has mode 0640, want 0600 or stricter", true},
		{"world_writable_refused", good, 0o602, "has mode 0602, want 0600 or stricter", true},
		{"read_only_accepted", good, 0o400, "", false},
		{"empty_file_refused", "", 0o600, "not base64 of 32 bytes", false},
		{"short_key_refused", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "not base64 of 32 bytes", false},
		{"garbage_refused", "hello world", 0o600, "not base64 of 32 bytes", false},
		{"huge_file_refused", strings.Repeat("A", 1<<20), 0o600, "not base64 of 32 bytes", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unix {
				skipOnWindows(t)
			}
			path := filepath.Join(t.TempDir(), "master.key")
			writeKeyFile(t, path, tc.text, tc.mode)
			key, created, err := LoadOrCreateMasterKey("", path)
			if tc.wantErr == "" {
				if err != nil || len(key) != KeySize || created {
					t.Errorf("= %x, %v, %v; want the key", key, created, err)
				}
				return
			}
			if err == nil || key != nil || created {
				t.Fatalf("= %x, %v, %v; want an error", key, created, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %q, want it to name %s and say %q", err, path, tc.wantErr)
			}
			// The bad file is reported, never replaced.
			if text, _ := os.ReadFile(path); string(text) != tc.text {
				t.Error("the key file was changed")
			}
		})
	}

	t.Run("directory_refused", func(t *testing.T) {
		path := t.TempDir()
		if _, _, err := LoadOrCreateMasterKey("", path); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error = %v, want not a regular file", err)
		}
	})
	t.Run("no_env_and_no_path", func(t *testing.T) {
		if _, _, err := LoadOrCreateMasterKey("", ""); err == nil {
			t.Error("no error without env value or path")
		}
	})
}

func TestMasterKeyConcurrentCreation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateMasterKey("", path) })
	}
	wg.Wait()
	onDisk, _, err := LoadOrCreateMasterKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || !bytes.Equal(keys[i], onDisk) {
			t.Errorf("caller %d got %x, %v; the file holds %x", i, keys[i], errs[i], onDisk)
		}
	}
}

// TestMasterKeyErrorsQuoteThePath: a key file's path is quoted in every message, so a
// directory named with a terminal escape or a line break cannot reach the terminal or
// split a log line (before, the refusal of a readable key file printed it raw).
func TestMasterKeyErrorsQuoteThePath(t *testing.T) {
	skipOnWindows(t)
	dir := filepath.Join(t.TempDir(), "evil\x1b[31m\nkeys")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize)) + "\n"
	readable := filepath.Join(dir, "readable.key")
	writeKeyFile(t, readable, good, 0o644)
	garbage := filepath.Join(dir, "garbage.key")
	writeKeyFile(t, garbage, "hello", 0o600)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"mode refused", readable, "has mode 0644"},
		{"not a key", garbage, "not base64"},
		{"not a regular file", dir, "not a regular file"},
		{"cannot create", filepath.Join(readable, "master.key"), "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadOrCreateMasterKey("", tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\x1b\n") || !strings.Contains(msg, `evil\x1b[31m\nkeys`) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want the path quoted and %q", msg, tc.want)
			}
		})
	}
}
