//go:build !linux

package password

// threadCPU is the CPU time the calling thread has used, and whether the platform tells
// it: not here.
func threadCPU() (int64, bool) { return 0, false }
