//go:build unix

package dspex

import "syscall"

// fileLimit returns the process's soft limit on open files, or false when
// it cannot be read.
func fileLimit() (uint64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	return uint64(l.Cur), true
}
