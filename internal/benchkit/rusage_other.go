//go:build !unix

package benchkit

import "time"

// CPUTime is not measured on this system.
func CPUTime() time.Duration { return 0 }

// RaiseFileLimit does nothing on this system.
func RaiseFileLimit() {}
