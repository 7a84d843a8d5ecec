//go:build unix

package sqlstore

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// shmFiles holds open the -shm files this process mapped, one descriptor per file, until
// the last DB that mapped it has closed all its SQLite connections: closing any descriptor
// of a file releases every POSIX lock the process holds on that file, SQLite's own included
// (the DMS lock that keeps other processes from truncating and rebuilding the -shm file
// under this one, and the WAL read and write locks).
var shmFiles = struct {
	sync.Mutex
	m map[[2]uint64]*shmFile
}{m: map[[2]uint64]*shmFile{}}

// strayShm keeps open the descriptors mapShared may not close (shmFiles).
var strayShm []*os.File

type shmFile struct {
	f    *os.File
	refs int
	key  [2]uint64
}

// mapShared maps the first n bytes of the file at path, shared and read-only, so that
// what another process writes to the file is what the mapping reads. release must be
// called only after every SQLite connection of the caller's DB is closed.
func mapShared(path string, n int) (mem []byte, release func(), err error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil, nil, err
	}
	if st.Size < int64(n) {
		return nil, nil, fmt.Errorf("%s holds %d bytes, fewer than the WAL-index header's %d", path, st.Size, n)
	}
	key := [2]uint64{uint64(st.Dev), uint64(st.Ino)}
	shmFiles.Lock()
	defer shmFiles.Unlock()
	s := shmFiles.m[key]
	if s == nil {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		// Replaced between the stat and the open: this descriptor is of another file, which
		// a later store would open again. It is never closed (that would drop this file's
		// locks); the cache stays off.
		var fst syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &fst); err != nil || fst.Dev != st.Dev || fst.Ino != st.Ino {
			strayShm = append(strayShm, f)
			return nil, nil, fmt.Errorf("%s changed while it was opened", path)
		}
		s = &shmFile{f: f, key: key}
		shmFiles.m[key] = s
	}
	s.refs++
	release = func() {
		shmFiles.Lock()
		defer shmFiles.Unlock()
		if s.refs--; s.refs == 0 {
			delete(shmFiles.m, s.key)
			s.f.Close()
		}
	}
	mem, err = syscall.Mmap(int(s.f.Fd()), 0, n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		// The descriptor stays open (refs 0): closing it would drop the pool's locks.
		s.refs--
		return nil, nil, err
	}
	return mem, release, nil
}

func unmap(b []byte) { syscall.Munmap(b) }
