package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/twofold-id/twofold/internal/apperr"
)

// LockFileName is the file in the data directory that `serve` holds a shared lock on
// while it uses the SQLite database there, and `restore` an exclusive one.
const LockFileName = "twofold.lock"

// ErrDataDirInUse is returned by LockDataDir when the lock is held the other way.
var ErrDataDirInUse = errors.New("the data directory is in use")

// LockDataDir takes the lock on dir's lock file without waiting, creating dir (0700) and
// the file when needed: shared for a server (several may share the directory),
// exclusive for a restore (nothing else may use it). The operating system drops the lock
// when the process ends, however it ends. It returns ErrDataDirInUse when the lock is held
// in a way that excludes this one.
func LockDataDir(dir string, exclusive bool) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", apperr.QuotePathError(err))
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the data directory's lock file: %w", apperr.QuotePathError(err))
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrDataDirInUse
		}
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	return func() { f.Close() }, nil
}
