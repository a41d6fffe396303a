package supervision

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/backoff"
)

// fakeClock hands the timers to the test, which fires them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers chan *fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	mu      sync.Mutex
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_000_000, 0), timers: make(chan *fakeTimer, 16)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	tm := &fakeTimer{d: d, f: f}
	c.timers <- tm
	return func() bool {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// fire runs the timer's function unless it was stopped.
func (tm *fakeTimer) fire() {
	tm.mu.Lock()
	stopped := tm.stopped
	tm.stopped = true
	tm.mu.Unlock()
	if !stopped {
		tm.f()
	}
}

func (c *fakeClock) next(t *testing.T) *fakeTimer {
	t.Helper()
	select {
	case tm := <-c.timers:
		return tm
	case <-time.After(guard):
		t.Fatal("no timer armed")
		return nil
	}
}

func TestRestartWaitsForBackoff(t *testing.T) {
	system := newTestSystem(t)
	rec := newRecorder()
	clock := newFakeClock()
	tree := startTree(t, system, Spec{
		Name:      "tree",
		Intensity: Intensity{MaxRestarts: 10, Within: time.Minute},
		Backoff:   backoff.Policy{Initial: 100 * time.Millisecond, Max: 300 * time.Millisecond, Multiplier: 2, Jitter: 0.1},
		Children:  []Child{{Name: "a", Props: workerProps("a", rec)}},
	}, WithClock(clock), WithRand(func() float64 { return 1 }))
	rec.expect(t, "started:a")
	pid, _ := tree.Child("a")

	// Each failure within the window doubles the delay (r = 1: +10%), up to the cap.
	for _, want := range []time.Duration{110 * time.Millisecond, 220 * time.Millisecond, 300 * time.Millisecond} {
		system.Root.Send(pid, boom{})
		tm := clock.next(t)
		if tm.d != want {
			t.Errorf("delay = %v, want %v", tm.d, want)
		}
		// Messages sent while the child waits are queued, not lost.
		system.Root.Send(pid, incr{})
		select {
		case e := <-rec.events:
			t.Fatalf("child restarted before its backoff elapsed: %s", e)
		default:
		}
		go tm.fire()
		rec.expect(t, "restarting:a", "started:a")
		if got := countOf(t, system, tree, "a"); got != 1 {
			t.Errorf("count after restart = %d, want the 1 queued incr", got)
		}
	}

	// Failures older than the window no longer count: the delay starts over.
	clock.advance(2 * time.Minute)
	system.Root.Send(pid, boom{})
	tm := clock.next(t)
	if tm.d != 110*time.Millisecond {
		t.Errorf("delay after the window = %v, want 110ms", tm.d)
	}

	// Stopping the tree while the child waits cancels the restart and stops
	// the suspended child without waiting for the backoff.
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := tree.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "stopping:a")
	tm.fire() // cancelled: does nothing
	if got := tree.Stats()["a"].Restarts; got != 4 {
		t.Errorf("restarts = %d, want 4", got)
	}
}
