//go:build !unix

package dspex_test

import "time"

// cpuTime reports no CPU time where getrusage does not exist.
func cpuTime() time.Duration { return 0 }
