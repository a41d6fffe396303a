package backoff

import (
	"context"
	"time"
)

// Clock is a time source: the wall clock in production (System), a fake in
// tests. Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, unless the returned
	// stop function is called first (it reports whether it stopped f).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// System returns the wall clock (package time).
func System() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Sleep waits d on clk, or until ctx is done: it returns nil after d and
// context.Cause(ctx) when ctx ends first.
func Sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	done := make(chan struct{})
	stop := clk.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		stop()
		return context.Cause(ctx)
	}
}
