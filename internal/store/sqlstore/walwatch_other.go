//go:build !unix

package sqlstore

import "errors"

// mapShared is not implemented here: without it, sessions are read from the database at
// every request (the session cache is off).
func mapShared(string, int) ([]byte, func(), error) {
	return nil, nil, errors.New("mapping the WAL index is implemented for unix only")
}

func unmap([]byte) {}
