package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

func TestBreakerReadyToTrip(t *testing.T) {
	ratio := config.Breaker{FailureRatio: 0.5, MinRequests: 10}
	consecutive := config.Breaker{ConsecutiveFailures: 5}
	both := config.Breaker{ConsecutiveFailures: 5, FailureRatio: 0.5, MinRequests: 10}
	tests := []struct {
		name string
		s    config.Breaker
		c    gobreaker.Counts
		want bool
	}{
		{"ratio below volume", ratio, gobreaker.Counts{Requests: 9, TotalFailures: 9, ConsecutiveFailures: 9}, false},
		{"ratio at volume and ratio", ratio, gobreaker.Counts{Requests: 10, TotalSuccesses: 5, TotalFailures: 5}, true},
		{"ratio below ratio", ratio, gobreaker.Counts{Requests: 100, TotalSuccesses: 51, TotalFailures: 49}, false},
		// Running and excluded requests are not part of the ratio.
		{"ratio ignores running", ratio, gobreaker.Counts{Requests: 64, TotalFailures: 6, TotalSuccesses: 4}, true},
		{"ratio ignores exclusions", ratio, gobreaker.Counts{Requests: 100, TotalExclusions: 91, TotalFailures: 9}, false},
		{"ratio not consecutive", ratio, gobreaker.Counts{Requests: 200, TotalSuccesses: 190, TotalFailures: 10, ConsecutiveFailures: 10}, false},
		{"consecutive reached", consecutive, gobreaker.Counts{Requests: 5, TotalFailures: 5, ConsecutiveFailures: 5}, true},
		{"consecutive not reached", consecutive, gobreaker.Counts{Requests: 100, TotalFailures: 90, ConsecutiveFailures: 4}, false},
		{"both: consecutive", both, gobreaker.Counts{Requests: 5, TotalFailures: 5, ConsecutiveFailures: 5}, true},
		{"both: ratio", both, gobreaker.Counts{Requests: 20, TotalSuccesses: 10, TotalFailures: 10, ConsecutiveFailures: 1}, true},
		{"zero value is the default policy", config.Breaker{}, gobreaker.Counts{Requests: 10, TotalFailures: 10, ConsecutiveFailures: 10}, true},
		{"zero value needs the volume", config.Breaker{}, gobreaker.Counts{Requests: 9, TotalFailures: 9, ConsecutiveFailures: 9}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readyToTrip(tt.s, tt.c); got != tt.want {
				t.Fatalf("readyToTrip(%+v) = %v, want %v", tt.c, got, tt.want)
			}
		})
	}
}

func TestBreakerDefaultsMatchConfig(t *testing.T) {
	got := SettingsFrom(config.Default(), config.Provider{}).Breaker
	want := config.Breaker{Enabled: true, MaxRequests: 1, Interval: config.Duration(time.Minute),
		Timeout: config.Duration(defaultBreakerTimeout), FailureRatio: defaultFailureRatio, MinRequests: defaultMinRequests}
	if got != want {
		t.Fatalf("config.Default() gives %+v, want the ratio policy %+v", got, want)
	}
}

// breakerConfig is a configuration with the default breaker and quick
// retries (3 attempts).
func breakerConfig() config.Config {
	cfg := config.Default()
	cfg.Cache.Enabled = false
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = config.Duration(time.Microsecond)
	cfg.Retry.Max = config.Duration(time.Microsecond)
	return cfg
}

// clientBreaker returns client id's breaker.
func clientBreaker(t *testing.T, h *harness, id string) *breaker {
	t.Helper()
	h.clients.mu.Lock()
	cs := h.clients.clients[id]
	h.clients.mu.Unlock()
	if cs == nil || cs.breaker.Load() == nil {
		t.Fatalf("client %s has no breaker", id)
	}
	return cs.breaker.Load()
}

func status(code int) error {
	return &lm.ProviderError{Provider: "fake", Status: code, Retryable: lm.RetryableStatus(code), Err: fmt.Errorf("HTTP %d", code)}
}

// TestBreakerCountsRequestsNotAttempts: requests whose first attempts fail
// and whose last succeeds count once each, as successes; requests that end
// on a rate limit, on a client error or because the caller gave up never
// count as failures, and never open the breaker however many there are.
func TestBreakerCountsRequestsNotAttempts(t *testing.T) {
	var attempts sync.Map // request text -> *atomic.Int64
	started := make(chan struct{})
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		text := req.Messages[0].Content
		v, _ := attempts.LoadOrStore(text, new(atomic.Int64))
		n := v.(*atomic.Int64).Add(1)
		switch {
		case text[0] == 'r': // rate limited every time
			return lm.Response{}, status(429)
		case text[0] == 'b': // bad request
			return lm.Response{}, status(400)
		case text[0] == 'h': // hangs until the caller gives up
			started <- struct{}{}
			<-ctx.Done()
			return lm.Response{}, ctx.Err()
		case n < 3: // two 500s, then a success
			return lm.Response{}, status(500)
		}
		return reply("ok"), nil
	})
	h := newHarness(t, breakerConfig(), map[string]lm.LM{"fake": provider})
	ctx := context.Background()
	const n = 30
	for i := range n {
		if _, err := h.clients.Chat(ctx, "fake", hello(fmt.Sprintf("s%d", i)), 5*time.Second); err != nil {
			t.Fatalf("request %d after two 500s = %v, want success", i, err)
		}
	}
	for i := range n {
		if _, err := h.clients.Chat(ctx, "fake", hello(fmt.Sprintf("r%d", i)), 5*time.Second); !errors.Is(err, lm.ErrRateLimited) {
			t.Fatalf("rate-limited request %d = %v", i, err)
		}
		if _, err := h.clients.Chat(ctx, "fake", hello(fmt.Sprintf("b%d", i)), 5*time.Second); err == nil {
			t.Fatalf("bad request %d succeeded", i)
		}
	}
	for i := range n {
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			_, err := h.clients.Chat(cctx, "fake", hello(fmt.Sprintf("h%d", i)), 0)
			errc <- err
		}()
		<-started
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled request %d = %v", i, err)
		}
	}
	// Close waits for the request goroutines, so every request is counted.
	b := clientBreaker(t, h, "fake")
	if err := h.clients.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Successes: n after retries, n client errors. No failure at all.
	if c := b.Counts(); c.TotalFailures != 0 || c.TotalSuccesses != 2*n || c.TotalExclusions != 2*n {
		t.Fatalf("breaker counts %+v, want %d successes, %d exclusions, no failure", c, 2*n, 2*n)
	}
	if s := b.State(); s != gobreaker.StateClosed {
		t.Fatalf("breaker %s, want closed", s)
	}
}

// TestBreakerRefusalWrapsCause: a dead provider opens the default breaker
// after MinRequests failed requests; the refused requests fail fast with
// an error that matches lm.ErrCircuitOpen and unwraps to the failure that
// opened it.
func TestBreakerRefusalWrapsCause(t *testing.T) {
	var calls atomic.Int64
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		calls.Add(1)
		return lm.Response{}, status(503)
	})
	h := newHarness(t, breakerConfig(), map[string]lm.LM{"fake": provider})
	ctx := context.Background()
	for i := range defaultMinRequests {
		_, err := h.clients.Chat(ctx, "fake", hello(fmt.Sprintf("q%d", i)), 5*time.Second)
		var re *RetryError
		if !errors.As(err, &re) || re.Attempts != 3 || errors.Is(err, lm.ErrCircuitOpen) {
			t.Fatalf("request %d = %v, want 3 attempts failing", i, err)
		}
	}
	sent := calls.Load()
	for i := range 100 {
		_, err := h.clients.Chat(ctx, "fake", hello(fmt.Sprintf("x%d", i)), 5*time.Second)
		var open *lm.CircuitOpenError
		var pe *lm.ProviderError
		if !errors.Is(err, lm.ErrCircuitOpen) || !errors.As(err, &open) || !errors.As(err, &pe) || pe.Status != 503 {
			t.Fatalf("request while open = %v, want ErrCircuitOpen wrapping the 503", err)
		}
		if lm.IsRetryable(err) {
			t.Fatalf("refusal %v is retryable", err)
		}
	}
	if n := calls.Load(); n != sent || sent != 3*defaultMinRequests {
		t.Fatalf("provider called %d times, %d before opening; want %d, none while open", n, sent, 3*defaultMinRequests)
	}
}

// TestBreakerCountsPanicOnce: a request whose provider panics, on its
// first attempt or on a retry after a 500, counts once as a failure of
// the breaker it went through, and fails with ErrProviderPanic; a request
// that fails after its retries reports the attempts it made.
func TestBreakerCountsPanicOnce(t *testing.T) {
	var attempts sync.Map // request text -> *atomic.Int64
	provider := lm.Func(func(ctx context.Context, req lm.Request) (lm.Response, error) {
		text := req.Messages[0].Content
		v, _ := attempts.LoadOrStore(text, new(atomic.Int64))
		n := v.(*atomic.Int64).Add(1)
		switch {
		case text == "ok":
			return reply("ok"), nil
		case text == "down":
			return lm.Response{}, status(503)
		case text == "panic now" || n > 1:
			panic("provider bug")
		}
		return lm.Response{}, status(500)
	})
	for _, tc := range []struct {
		name, text string
	}{
		{"first attempt", "panic now"},
		{"after a retry", "panic later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, breakerConfig(), map[string]lm.LM{"fake": provider})
			ctx := context.Background()
			if _, err := h.clients.Chat(ctx, "fake", hello("ok"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			b := clientBreaker(t, h, "fake")
			resp, err := h.clients.Chat(ctx, "fake", hello(tc.text), 5*time.Second)
			if !errors.Is(err, ErrProviderPanic) || resp.Attempts != 0 {
				t.Fatalf("panicking request = %+v, %v; want ErrProviderPanic and no attempts", resp, err)
			}
			if c := b.Counts(); c.TotalSuccesses != 1 || c.TotalFailures != 1 || c.TotalExclusions != 0 {
				t.Fatalf("breaker counts %+v, want 1 success and 1 failure", c)
			}
			attempts.Delete(tc.text)
		})
	}
	t.Run("attempts of a failed request", func(t *testing.T) {
		h := newHarness(t, breakerConfig(), map[string]lm.LM{"fake": provider})
		resp, err := h.clients.Chat(context.Background(), "fake", hello("down"), 5*time.Second)
		var re *RetryError
		if !errors.As(err, &re) || re.Attempts != 3 || resp.Attempts != 3 {
			t.Fatalf("failed request = %+v, %v; want 3 attempts", resp, err)
		}
	})
}
