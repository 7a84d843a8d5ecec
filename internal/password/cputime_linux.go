package password

import "golang.org/x/sys/unix"

// threadCPU is the CPU time (user and system) the calling thread has used, and whether
// the platform tells it.
func threadCPU() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}
