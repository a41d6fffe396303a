package backoff

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestDelay(t *testing.T) {
	b := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	noJitter := Policy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	for _, tc := range []struct {
		name string
		p    Policy
		n    int
		r    float64
		want time.Duration
	}{
		{"first", b, 1, 0.5, 100 * time.Millisecond}, // r = 0.5: no jitter
		{"second", b, 2, 0.5, 200 * time.Millisecond},
		{"third", b, 3, 0.5, 400 * time.Millisecond},
		{"fourth", b, 4, 0.5, 800 * time.Millisecond},
		{"capped", b, 5, 0.5, time.Second},
		{"far", b, 1000, 0.5, time.Second},
		{"n below 1 is 1", b, 0, 0.5, 100 * time.Millisecond},
		{"jitter down", b, 1, 0, 50 * time.Millisecond},
		{"jitter up", b, 1, 0.75, 125 * time.Millisecond},
		{"jitter below the cap", b, 5, 0, 500 * time.Millisecond},
		{"jitter above the cap is capped", b, 5, 0.999, time.Second},
		{"no jitter ignores r", noJitter, 3, 0.99, 400 * time.Millisecond},
		{"zero initial", Policy{Multiplier: 1}, 3, 0.9, 0},
		{"initial at max", Policy{Initial: time.Second, Max: time.Second, Multiplier: 3}, 7, 0.5, time.Second},
		{"max below initial is initial", Policy{Initial: time.Second, Multiplier: 2}, 3, 0.5, time.Second},
		{"steep", Policy{Initial: 10 * time.Millisecond, Max: time.Hour, Multiplier: 10}, 3, 0.5, time.Second},
		{"multiplier below 1 is 1", Policy{Initial: 10 * time.Millisecond, Max: time.Hour, Multiplier: 0.5}, 4, 0.5, 10 * time.Millisecond},
		{"zero multiplier is 1", Policy{Initial: 10 * time.Millisecond, Max: time.Hour}, 4, 0.5, 10 * time.Millisecond},
		{"NaN multiplier is 1", Policy{Initial: 10 * time.Millisecond, Max: time.Hour, Multiplier: math.NaN()}, 4, 0.5, 10 * time.Millisecond},
		{"overflow is capped", Policy{Initial: time.Second, Max: time.Hour, Multiplier: 1e300}, 1 << 20, 0.5, time.Hour},
		{"jitter above 1 is 1", Policy{Initial: time.Second, Max: time.Hour, Multiplier: 1, Jitter: 3}, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Delay(tc.n, tc.r); got != tc.want {
				t.Errorf("%+v.Delay(%d, %v) = %v, want %v", tc.p, tc.n, tc.r, got, tc.want)
			}
		})
	}
}

// TestDelaySeeded draws r from a seeded source: every delay is within
// ±Jitter of the un-jittered one and never above Max, and the same seed
// gives the same delays.
func TestDelaySeeded(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: 0.2}
	draw := func(seed uint64) []time.Duration {
		rng := rand.New(rand.NewPCG(seed, seed))
		var out []time.Duration
		for n := 1; n <= 8; n++ {
			out = append(out, p.Delay(n, rng.Float64()))
		}
		return out
	}
	a, b := draw(7), draw(7)
	for i, d := range a {
		if d != b[i] {
			t.Fatalf("same seed, attempt %d: %v then %v", i+1, d, b[i])
		}
		base := Policy{Initial: p.Initial, Max: p.Max, Multiplier: p.Multiplier}.Delay(i+1, 0)
		lo, hi := time.Duration(float64(base)*0.8), min(time.Duration(float64(base)*1.2), p.Max)
		if d < lo || d > hi {
			t.Errorf("attempt %d: %v outside [%v, %v]", i+1, d, lo, hi)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"good", Policy{Initial: time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.2}, true},
		{"immediate", Policy{Multiplier: 1}, true},
		{"negative initial", Policy{Initial: -1, Multiplier: 1}, false},
		{"max below initial", Policy{Initial: time.Second, Max: time.Millisecond, Multiplier: 2}, false},
		{"multiplier below 1", Policy{Multiplier: 0.5}, false},
		{"NaN multiplier", Policy{Multiplier: math.NaN()}, false},
		{"jitter above 1", Policy{Multiplier: 2, Jitter: 2}, false},
		{"negative jitter", Policy{Multiplier: 2, Jitter: -0.1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("%v does not wrap ErrInvalidPolicy", err)
			}
		})
	}
}

// fakeClock hands each timer to the test, which fires it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers chan fakeTimer
}

type fakeTimer struct {
	d    time.Duration
	fire func()
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	var once sync.Once
	run := func() { once.Do(f) }
	c.timers <- fakeTimer{d: d, fire: run}
	return func() bool {
		stopped := false
		once.Do(func() { stopped = true })
		return stopped
	}
}

func TestSleep(t *testing.T) {
	clk := &fakeClock{now: time.Unix(0, 0), timers: make(chan fakeTimer, 1)}
	t.Run("fires", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- Sleep(context.Background(), clk, time.Minute) }()
		tm := <-clk.timers
		if tm.d != time.Minute {
			t.Errorf("timer for %v, want 1m", tm.d)
		}
		tm.fire()
		if err := <-done; err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cause := errors.New("stop")
		done := make(chan error, 1)
		go func() { done <- Sleep(ctx, clk, time.Hour) }()
		tm := <-clk.timers
		cancel(cause)
		if err := <-done; !errors.Is(err, cause) {
			t.Errorf("Sleep = %v, want %v", err, cause)
		}
		tm.fire() // after the stop: a no-op
	})
	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Sleep(ctx, clk, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep = %v, want context.Canceled", err)
		}
	})
	t.Run("zero", func(t *testing.T) {
		if err := Sleep(context.Background(), clk, 0); err != nil {
			t.Errorf("Sleep(0) = %v", err)
		}
	})
}
