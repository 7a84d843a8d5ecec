//go:build unix

package sqlstore

import (
	"fmt"
	"os"
	"syscall"
)

// mapShared maps the first n bytes of the file at path, shared and read-only, so that
// what another process writes to the file is what the mapping reads.
func mapShared(path string, n int) ([]byte, error) {
	size, err := shmSize(path)
	if err != nil {
		return nil, err
	}
	if size < int64(n) {
		return nil, fmt.Errorf("%s holds %d bytes, fewer than the WAL-index header's %d", path, size, n)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// The mapping stays valid after the file is closed.
	defer f.Close()
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmap(b []byte) { syscall.Munmap(b) }
