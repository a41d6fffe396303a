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
// that wait would outlast ctx's deadline.
func retry(ctx context.Context, s config.Retry, clk backoff.Clock, rnd func() float64, attempt func(context.Context) (lm.Response, error)) (lm.Response, error) {
	attempts := max(s.MaxAttempts, 1)
	policy := s.Policy()
	for n := 1; ; n++ {
		resp, err := attempt(ctx)
		if err == nil {
			return resp, nil
		}
		giveUp := func(err error) (lm.Response, error) {
			if n == 1 {
				return lm.Response{}, err
			}
			return lm.Response{}, &RetryError{Attempts: n, Last: err}
		}
		if n >= attempts || !lm.IsRetryable(err) || ctx.Err() != nil {
			return giveUp(err)
		}
		wait := max(policy.Delay(n, rnd()), retryAfter(err))
		if dl, ok := ctx.Deadline(); ok && dl.Sub(clk.Now()) < wait {
			return giveUp(err)
		}
		if cause := backoff.Sleep(ctx, clk, wait); cause != nil {
			return giveUp(fmt.Errorf("%w (last attempt: %w)", cause, err))
		}
	}
}
