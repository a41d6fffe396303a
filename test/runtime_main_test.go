package test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/supervision"
)

// TestMain checks that no test of the package leaks a goroutine: every
// runtime, simulator and HTTP transport is closed by its test.
func TestMain(m *testing.M) {
	leakcheck.Main(m)
}

// rtSim starts a simulator closed with the test.
func rtSim(tb testing.TB, opts ...simlm.Option) *simlm.Server {
	tb.Helper()
	srv, err := simlm.Start(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// rtConfig is a configuration whose only provider, "sim", is srv, without
// retries, cache or breaker, restarting actors at once.
func rtConfig(srv *simlm.Server) config.Config {
	cfg := config.Default()
	cfg.Providers = []config.Provider{{
		Name:         "sim",
		BaseURL:      srv.URL(),
		APIKey:       config.Secret("sk-runtime-test"),
		DefaultModel: simlm.DefaultModel,
	}}
	cfg.Retry.MaxAttempts = 1
	cfg.Cache.Enabled = false
	cfg.Breaker.Enabled = false
	cfg.Supervision.Initial = config.Duration(time.Millisecond)
	cfg.Supervision.Max = config.Duration(time.Millisecond)
	return cfg
}

// rtStart starts a runtime closed (and checked) with the test.
func rtStart(tb testing.TB, opts ...dspex.Option) *dspex.Runtime {
	tb.Helper()
	rt, err := dspex.Start(context.Background(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return rt
}

// rtAsk is a one-message request.
func rtAsk(format string, args ...any) lm.Request {
	return lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: fmt.Sprintf(format, args...)}}}
}

// rtCtx is a context bounding one call of a test: a hang fails the test
// instead of blocking it.
func rtCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// rtEvents collects supervision events.
type rtEvents chan supervision.Event

func (ch rtEvents) observe(ev supervision.Event) {
	select {
	case ch <- ev:
	default:
	}
}

// wait returns the next event of kind for child, failing the test after
// 30 s (a hang, not a timing assertion).
func (ch rtEvents) wait(tb testing.TB, kind supervision.EventKind, child string) supervision.Event {
	tb.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind && ev.Child == child {
				return ev
			}
		case <-timeout:
			tb.Fatalf("no %v event for %s", kind, child)
		}
	}
}

// rtBreakerEvents collects breaker state changes.
type rtBreakerEvents chan dspex.BreakerEvent

func (ch rtBreakerEvents) observe(ev dspex.BreakerEvent) {
	select {
	case ch <- ev:
	default:
	}
}

func (ch rtBreakerEvents) wait(tb testing.TB, to string) {
	tb.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			if string(ev.To) == to {
				return
			}
		case <-timeout:
			tb.Fatalf("breaker never went %s", to)
		}
	}
}

// rtHTTPClient is a client for many concurrent requests to one host; its
// idle connections are closed with the test.
func rtHTTPClient(tb testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 2048
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
