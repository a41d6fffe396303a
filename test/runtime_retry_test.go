package test

import (
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/simlm"
)

func rtRetryConfig(srv *simlm.Server, attempts int) config.Config {
	cfg := rtConfig(srv)
	cfg.Retry.MaxAttempts = attempts
	cfg.Retry.Initial = config.Duration(time.Millisecond)
	cfg.Retry.Max = config.Duration(2 * time.Millisecond)
	return cfg
}

func TestRuntimeRetryHonoursRetryAfter(t *testing.T) {
	const retryAfter = 300 * time.Millisecond
	srv := rtSim(t, simlm.WithFaults(simlm.Faults{RetryAfter: retryAfter}))
	rt := rtStart(t, dspex.WithConfig(rtRetryConfig(srv, 3)))

	srv.FailNext(1, 429)
	if _, err := rt.LM("sim").Chat(rtCtx(t), rtAsk("What is 2+2?")); err != nil {
		t.Fatalf("request with one 429: %v", err)
	}
	log := srv.Requests()
	if len(log) != 2 || log[0].Status != 429 || log[1].Status != 200 {
		t.Fatalf("request log = %+v, want a 429 then a 200", log)
	}
	// The backoff is 1 ms; only Retry-After explains a longer wait.
	if gap := log[1].Start.Sub(log[0].End); gap < retryAfter {
		t.Fatalf("retry sent %v after the 429, want at least Retry-After %v", gap, retryAfter)
	}
}

func TestRuntimeRetryStopsAtMaxAttempts(t *testing.T) {
	srv := rtSim(t)
	rt := rtStart(t, dspex.WithConfig(rtRetryConfig(srv, 3)))

	srv.FailNext(10, 503)
	_, err := rt.LM("sim").Chat(rtCtx(t), rtAsk("What is 2+2?"))
	var re *dspex.RetryError
	if !errors.As(err, &re) || re.Attempts != 3 {
		t.Fatalf("error = %v, want a RetryError after 3 attempts", err)
	}
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 503 || !pe.Retryable {
		t.Fatalf("error = %v, want it to wrap the last HTTP 503", err)
	}
	if n := srv.Stats().Requests; n != 3 {
		t.Fatalf("simulator got %d requests, want 3", n)
	}
}

func TestRuntimeRetrySkipsClientErrors(t *testing.T) {
	srv := rtSim(t)
	rt := rtStart(t, dspex.WithConfig(rtRetryConfig(srv, 3)))

	srv.FailNext(1, 400)
	_, err := rt.LM("sim").Chat(rtCtx(t), rtAsk("What is 2+2?"))
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 400 {
		t.Fatalf("error = %v, want HTTP 400", err)
	}
	var re *dspex.RetryError
	if errors.As(err, &re) {
		t.Fatalf("a 400 was retried: %v", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Fatalf("simulator got %d requests, want 1", n)
	}
}
