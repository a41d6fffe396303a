package leakcheck

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestSettle(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration // how long the extra goroutine runs; 0 means until the test ends
		grace    time.Duration
		leaked   bool
	}{
		{name: "ends within grace", lifetime: 300 * time.Millisecond, grace: 3 * time.Second},
		{name: "outlives grace", grace: 200 * time.Millisecond, leaked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			current := goleak.IgnoreCurrent()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				if tt.lifetime > 0 {
					time.Sleep(tt.lifetime)
					return
				}
				<-stop
			}()
			err := settle(tt.grace, current)
			close(stop)
			<-done
			if got := err != nil; got != tt.leaked {
				t.Fatalf("settle() = %v, want leaked=%v", err, tt.leaked)
			}
			if tt.leaked && !strings.Contains(err.Error(), "TestSettle") {
				t.Errorf("report %q does not name the leaking goroutine's creator", err)
			}
		})
	}
}
