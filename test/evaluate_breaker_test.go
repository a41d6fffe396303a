package test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// faultMixRuns is how many times TestBreakerFaultMix evaluates: 10 by
// default, 3 under the race detector (a run takes ~5 s without it and
// ~17 s with it on the 2-core development machine), 1 with -short, or
// DSPEX_FAULT_MIX_RUNS (DSPEX_FAULT_MIX_RUNS=10 go test -race -run
// TestBreakerFaultMix ./test runs all ten under -race).
func faultMixRuns(t *testing.T) int {
	if v := os.Getenv("DSPEX_FAULT_MIX_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("DSPEX_FAULT_MIX_RUNS=%q: want a positive integer", v)
		}
		return n
	}
	switch {
	case testing.Short():
		return 1
	case raceEnabled:
		return 3
	}
	return 10
}

// faultMixEval evaluates 1000 examples at concurrency 64 with rt's "sim"
// LM and checks that every example is accounted for exactly once.
func faultMixEval(t *testing.T, rt *dspex.Runtime, n int) evaluate.Result {
	t.Helper()
	dev := evQA(n)
	qa := programs.MustPredictFrom(evSig(t, "question -> answer").WithInstructions("Answer concisely."),
		programs.WithLM(rt.LM("sim")))
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithConcurrency(64),
		evaluate.WithTimeout(time.Minute), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	res, err := ev.Run(context.Background(), qa, dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(dev) || !res.Complete || res.Scored+res.Failed != len(dev) || res.NotRun != 0 {
		t.Fatalf("not every example accounted for: %s", res.Summary())
	}
	seen := make(map[string]bool, len(dev))
	for i, row := range res.Rows {
		id := row.Example.ID()
		if row.Index != i || id != dev[i].ID() || seen[id] {
			t.Fatalf("row %d: index %d id %s (seen before: %v)", i, row.Index, id, seen[id])
		}
		seen[id] = true
		if row.Status == evaluate.Failed && row.Err == nil {
			t.Fatalf("row %d failed without an error", i)
		}
	}
	return res
}

// defaultBreakerRuntime is evRuntime with the default breaker and retry
// policy of config.Default (3 attempts, 250 ms backoff, ratio breaker).
func defaultBreakerRuntime(t *testing.T, srv *simlm.Server, opts ...dspex.Option) *dspex.Runtime {
	t.Helper()
	cfg := config.Default()
	cfg.Providers = []config.Provider{{
		Name: "sim", BaseURL: srv.URL(), APIKey: config.Secret("sk-breaker-test"), DefaultModel: simlm.DefaultModel,
	}}
	cfg.Cache.Enabled = false
	cfg.Concurrency = 64
	return rtStart(t, append([]dspex.Option{dspex.WithConfig(cfg)}, opts...)...)
}

// TestBreakerFaultMix: 1000 examples at concurrency 64 against a provider
// that fails 20% of requests with 500, 10% with 429 (Retry-After 1 s) and
// garbles 5% of replies, with the default breaker and retries. Each run
// completes with at most 5% of the examples failed and every example
// accounted for once; the breaker never opens. Ten runs (see faultMixRuns).
func TestBreakerFaultMix(t *testing.T) {
	runs := faultMixRuns(t)
	const n, maxFailed = 1000, 50
	for run := range runs {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			srv := evSim(t, simlm.WithSeed(int64(100+run)), simlm.WithFaults(simlm.Faults{
				Rate500: 0.20, Rate429: 0.10, RetryAfter: time.Second, RateGarbled: 0.05,
				Latency: 100 * time.Microsecond,
			}))
			opened := make(rtBreakerEvents, 64)
			rt := defaultBreakerRuntime(t, srv, dspex.WithBreakerObserver(opened.observe))
			res := faultMixEval(t, rt, n)
			st := srv.Stats()
			t.Logf("%s; server: %d requests, %d garbled", res.Summary(), st.Requests, st.Garbled)
			if res.Failed > maxFailed {
				t.Errorf("%d of %d examples failed, want at most %d", res.Failed, n, maxFailed)
			}
			for _, row := range res.Rows {
				if errors.Is(row.Err, lm.ErrCircuitOpen) {
					t.Fatalf("row %d refused by the breaker: %v", row.Index, row.Err)
				}
			}
			if len(opened) != 0 {
				t.Fatalf("the breaker changed state %d times: %v", len(opened), <-opened)
			}
		})
	}
}

// TestBreakerDeadProvider: against a provider that fails every request
// (HTTP 500, or a refused connection), the default breaker opens after its
// minimum volume of failed requests and the rest of the 1000 examples fail
// fast without reaching the provider, with an error that names the
// failure that opened it.
func TestBreakerDeadProvider(t *testing.T) {
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return "http://" + addr + "/v1"
	}
	tests := []struct {
		name  string
		cause func(error) bool
	}{
		{"http 500", func(err error) bool {
			var pe *lm.ProviderError
			return errors.As(err, &pe) && pe.Status == 500
		}},
		{"connection refused", func(err error) bool {
			var oe *net.OpError
			return errors.As(err, &oe)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := evSim(t, simlm.WithFaults(simlm.Faults{Rate500: 1, Latency: 100 * time.Microsecond}))
			cfg := config.Default()
			url := srv.URL()
			if tt.name == "connection refused" {
				url = closedPort(t)
			}
			cfg.Providers = []config.Provider{{Name: "sim", BaseURL: url, APIKey: config.Secret("sk-dead"), DefaultModel: simlm.DefaultModel}}
			cfg.Cache.Enabled = false
			cfg.Concurrency = 64
			opened := make(rtBreakerEvents, 64)
			rt := rtStart(t, dspex.WithConfig(cfg), dspex.WithBreakerObserver(opened.observe))
			res := faultMixEval(t, rt, 1000)
			opened.wait(t, "open")
			refused := 0
			for _, row := range res.Rows {
				if row.Status != evaluate.Failed {
					t.Fatalf("row %d: %v, want failed", row.Index, row.Status)
				}
				if errors.Is(row.Err, lm.ErrCircuitOpen) {
					refused++
					if !tt.cause(row.Err) {
						t.Fatalf("row %d: refusal %v does not wrap the failure that opened the breaker", row.Index, row.Err)
					}
				}
			}
			// At most the first wave of 64 requests ran to the end of
			// their retries (3 attempts each); all others were refused.
			if refused < 1000-64 {
				t.Fatalf("%d of 1000 examples refused by the open breaker, want at least %d", refused, 1000-64)
			}
			if tt.name == "http 500" {
				if got := srv.Stats().Requests; got > 3*64 {
					t.Fatalf("the dead provider got %d requests, want at most %d", got, 3*64)
				}
			}
			t.Logf("%s; %d refused by the breaker", res.Summary(), refused)
		})
	}
}
