package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/twofold-id/twofold/internal/apperr"
)

// KeySize is the size in bytes of the master key and of every derived key.
const KeySize = 32

// maxKeyFileSize bounds what is read from a key file: the base64 text of 32
// bytes is 44 characters.
const maxKeyFileSize = 1024

// ErrNoMasterKey is returned by LoadMasterKey when TWOFOLD_MASTER_KEY is not set and the
// key file does not exist.
var ErrNoMasterKey = errors.New("no master key")

// LoadMasterKey returns the master key and never creates one.
//
// If envValue (the TWOFOLD_MASTER_KEY variable) is not empty it is the key:
// standard, padded base64 of exactly 32 bytes, surrounding whitespace
// ignored; the file is then not read.
//
// Otherwise the key is read from the file at path, in the same text format.
// The file must not be readable or writable by group or others. A missing
// file is an error for which errors.Is(err, ErrNoMasterKey) and
// errors.Is(err, fs.ErrNotExist) hold.
func LoadMasterKey(envValue, path string) ([]byte, error) {
	if envValue != "" {
		key, err := decodeKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("TWOFOLD_MASTER_KEY: %w", err)
		}
		return key, nil
	}
	if path == "" {
		return nil, errors.New("master key: TWOFOLD_MASTER_KEY is not set and no key file is configured")
	}
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNoMasterKey, err)
	}
	return key, err
}

// LoadOrCreateMasterKey is LoadMasterKey, except that a missing key file is
// created: a new random key is written to it (mode 0600, missing parent
// directories 0700) atomically, so that a crash never leaves a partial key,
// and created is true. If another process creates the file at the same time,
// its key is loaded instead of being overwritten. Call it only for a new
// installation: a new key cannot open what an earlier one sealed.
//
// An existing file that cannot be used is an error, never replaced: data
// encrypted under the old key would be lost.
func LoadOrCreateMasterKey(envValue, path string) (key []byte, created bool, err error) {
	key, err = LoadMasterKey(envValue, path)
	if !errors.Is(err, ErrNoMasterKey) {
		return key, false, err
	}
	return createKeyFile(path)
}

var errNotKey = fmt.Errorf("not base64 of %d bytes", KeySize)

// decodeKey decodes the text form of a key: standard padded base64 of
// KeySize bytes, surrounding whitespace trimmed.
func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != KeySize {
		return nil, errNotKey
	}
	return key, nil
}

// readKeyFile reads and checks the key file at path. A missing file yields an
// error for which errors.Is(err, fs.ErrNotExist) holds.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", apperr.QuotePathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("master key file: %w", apperr.QuotePathError(err))
	}
	q := apperr.QuotePath(path) // the path as messages show it: no terminal escape gets through
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("master key file %s is not a regular file", q)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("master key file %s has mode %#o, want 0600 or stricter", q, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", q, err)
	}
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("master key file %s: %w", q, errNotKey)
	}
	key, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", q, err)
	}
	return key, nil
}

// createKeyFile writes a new random key to path without ever exposing a
// partial file: it writes a temporary file in the same directory and links
// it into place, which fails if path appeared meanwhile. Where hard links are
// unsupported it renames instead.
func createKeyFile(path string) ([]byte, bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("master key: creating directory: %w", apperr.QuotePathError(err))
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("master key: %w", err)
	}
	text := []byte(base64.StdEncoding.EncodeToString(key) + "\n")

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, false, fmt.Errorf("master key: creating file: %w", apperr.QuotePathError(err))
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return nil, false, fmt.Errorf("master key: creating file: %w", apperr.QuotePathError(err))
	}
	if _, err := tmp.Write(text); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("master key: writing file: %w", apperr.QuotePathError(err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("master key: writing file: %w", apperr.QuotePathError(err))
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("master key: writing file: %w", apperr.QuotePathError(err))
	}

	switch err := os.Link(tmpName, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		// Another process won the race; use its key.
		key, err := readKeyFile(path)
		return key, false, err
	default:
		if err := os.Rename(tmpName, path); err != nil {
			return nil, false, fmt.Errorf("master key: creating file: %w", apperr.QuotePathError(err))
		}
	}
	syncDir(dir)

	// Read back what is on disk, so the key in use is certainly the one saved.
	got, err := readKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	if !bytes.Equal(got, key) {
		return got, false, nil
	}
	return key, true, nil
}

// syncDir makes a new directory entry durable where the platform allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
