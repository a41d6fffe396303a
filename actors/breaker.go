package actors

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// BreakerState is the state of a circuit breaker.
type BreakerState string

// The breaker states. BreakerDisabled is reported by a client without one.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerHalfOpen BreakerState = "half-open"
	BreakerOpen     BreakerState = "open"
	BreakerDisabled BreakerState = "disabled"
)

func breakerState(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	default:
		return BreakerClosed
	}
}

// BreakerEvent reports a change of a client's breaker state.
type BreakerEvent struct {
	// Client is the client's "provider/model".
	Client string
	// From and To are the states before and after.
	From, To BreakerState
	// At is when the change happened.
	At time.Time
}

// breaker is a client's circuit breaker.
type breaker = gobreaker.CircuitBreaker[lm.Response]

// callerGone marks an attempt that ended because the caller gave up (its
// context ended) or the runtime closed: the breaker ignores it.
type callerGone struct{ err error }

func (e callerGone) Error() string { return e.err.Error() }
func (e callerGone) Unwrap() error { return e.err }

// newBreaker returns a breaker for s, or nil when s disables it. onChange
// is called, under the breaker's lock, on every state change: it must not
// block.
func newBreaker(name string, s config.Breaker, onChange func(from, to gobreaker.State)) *breaker {
	if !s.Enabled {
		return nil
	}
	threshold := s.ConsecutiveFailures
	if threshold == 0 {
		threshold = 5
	}
	trip := func(c gobreaker.Counts) bool {
		if c.ConsecutiveFailures >= threshold {
			return true
		}
		return s.FailureRatio > 0 && c.Requests >= max(s.MinRequests, 1) &&
			float64(c.TotalFailures)/float64(c.Requests) >= s.FailureRatio
	}
	timeout := s.Timeout.Duration()
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return gobreaker.NewCircuitBreaker[lm.Response](gobreaker.Settings{
		Name:        name,
		MaxRequests: s.MaxRequests,
		Interval:    s.Interval.Duration(),
		Timeout:     timeout,
		ReadyToTrip: trip,
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if onChange != nil {
				onChange(from, to)
			}
		},
		IsSuccessful: func(err error) bool { return err == nil || isClientError(err) },
		IsExcluded: func(err error) bool {
			var gone callerGone
			return errors.As(err, &gone) || errors.Is(err, ErrClosed)
		},
	})
}

// isClientError reports an HTTP 4xx other than 408 and 429: the request
// was wrong, the provider is healthy.
func isClientError(err error) bool {
	var pe *lm.ProviderError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Status >= 400 && pe.Status < 500 && pe.Status != 408 && pe.Status != 429
}

// throughBreaker runs call through b (when not nil), turning a rejection
// into an *lm.ProviderError that wraps lm.ErrCircuitOpen, and keeping the
// caller's own cancellation (ctx ending) out of the breaker's counts.
func throughBreaker(ctx context.Context, b *breaker, provider, model string, call func() (lm.Response, error)) (lm.Response, error) {
	if b == nil {
		return call()
	}
	resp, err := b.Execute(func() (lm.Response, error) {
		resp, err := call()
		if err != nil && ctx.Err() != nil {
			err = callerGone{err}
		}
		return resp, err
	})
	switch {
	case err == nil:
		return resp, nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return lm.Response{}, &lm.ProviderError{Provider: provider, Model: model, Err: lm.ErrCircuitOpen}
	}
	var gone callerGone
	if errors.As(err, &gone) {
		err = gone.err
	}
	return lm.Response{}, err
}
