// Package leakcheck checks that a test binary leaves no goroutine behind.
//
// It wraps goleak with a longer grace period: protoactor-go starts a
// one-second timer goroutine whenever it throttles dead-letter logging, and
// that goroutine may still be asleep when the last test returns. goleak's own
// retries give up after about half a second, so a clean run could fail on a
// loaded machine. Main and None wait up to Grace for such goroutines to end
// and still report any goroutine that outlives it.
package leakcheck

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Grace is how long a goroutine may outlive the code that started it before
// it counts as leaked. It is longer than protoactor-go's dead-letter throttle
// interval (one second).
const Grace = 5 * time.Second

// Main runs the tests of m and then fails the binary if a goroutine outlives
// them by more than Grace. Use it as the body of TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := settle(Grace); err != nil {
			fmt.Fprintf(os.Stderr, "leakcheck: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// None fails t if goroutines other than those running when it was called
// remain Grace after the test ends. Call it at the start of a test.
func None(t testing.TB) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := settle(Grace, current); err != nil {
			t.Error(err)
		}
	})
}

// settle waits until goleak finds no unexpected goroutine or grace passes,
// and returns goleak's last finding.
func settle(grace time.Duration, opts ...goleak.Option) error {
	deadline := time.Now().Add(grace)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
