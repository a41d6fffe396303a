package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dspex-go/dspex/backoff"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// RetryError is a request that failed after more than one attempt. It
// unwraps to the last attempt's error, so errors.As finds the
// *lm.ProviderError and errors.Is the sentinels.
type RetryError struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Last is the error of the last attempt.
	Last error
}

// Error implements error.
func (e *RetryError) Error() string {
	return fmt.Sprintf("actors: gave up after %d attempts: %v", e.Attempts, e.Last)
}

// Unwrap returns the last attempt's error.
func (e *RetryError) Unwrap() error { return e.Last }

// retryAfter returns the delay a provider asked for in err, or 0.
func retryAfter(err error) time.Duration {
	var pe *lm.ProviderError
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// retry runs attempt until it succeeds, fails for good, or the attempts
// are spent. Between attempts it waits max(backoff, Retry-After) on clk,
// the backoff jittered with rnd (uniform in [0, 1)), and stops early when
// that wait would outlast ctx's deadline. (exchange.run runs the same
// policy as a loop of its own; both decide through afterFailure.)
func retry(ctx context.Context, s config.Retry, clk backoff.Clock, rnd func() float64, attempt func(context.Context) (lm.Response, error)) (lm.Response, error) {
	for n := 1; ; n++ {
		resp, err := attempt(ctx)
		if err == nil {
			return resp, nil
		}
		if err := afterFailure(ctx, &s, clk, rnd, n, err); err != nil {
			return lm.Response{}, err
		}
	}
}

// afterFailure decides what follows attempt n, which failed with err: it
// waits the backoff and returns nil when another attempt may go, or
// returns the error the request gives up with (err itself after the first
// attempt, a *RetryError after more). It is kept out of the frame of the
// retry loop: the caller's stack holds that frame while the provider
// answers.
//
//go:noinline
func afterFailure(ctx context.Context, s *config.Retry, clk backoff.Clock, rnd func() float64, n int, err error) error {
	if n >= max(s.MaxAttempts, 1) || !lm.IsRetryable(err) || ctx.Err() != nil {
		return giveUp(n, err)
	}
	wait := max(s.Policy().Delay(n, rnd()), retryAfter(err))
	if dl, ok := ctx.Deadline(); ok && dl.Sub(clk.Now()) < wait {
		return giveUp(n, err)
	}
	if cause := backoff.Sleep(ctx, clk, wait); cause != nil {
		return giveUp(n, fmt.Errorf("%w (last attempt: %w)", cause, err))
	}
	return nil
}

// giveUp is the error of a request that gives up after n attempts, the
// last of which failed with err.
func giveUp(n int, err error) error {
	if n == 1 {
		return err
	}
	return &RetryError{Attempts: n, Last: err}
}
