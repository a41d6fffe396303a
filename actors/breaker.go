package actors

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// Defaults of the breaker policy.
const (
	defaultFailureRatio   = 0.5
	defaultMinRequests    = 10
	defaultBreakerTimeout = 30 * time.Second
	breakerBuckets        = 10
)

// readyToTrip is the trip policy of s over gobreaker's counts: after
// s.ConsecutiveFailures failed requests in a row (when > 0), or when the
// share of failed requests reaches s.FailureRatio once s.MinRequests (0
// means 10) have ended; with neither set, a ratio of 0.5. The ratio is taken
// over the requests that ended (successes and failures), not those still
// running nor those excluded (see newBreaker).
func readyToTrip(s config.Breaker, c gobreaker.Counts) bool {
	ratio, minimum := s.FailureRatio, s.MinRequests
	if ratio <= 0 && s.ConsecutiveFailures == 0 {
		ratio = defaultFailureRatio
	}
	if minimum == 0 {
		minimum = defaultMinRequests
	}
	if s.ConsecutiveFailures > 0 && c.ConsecutiveFailures >= s.ConsecutiveFailures {
		return true
	}
	ended := c.TotalSuccesses + c.TotalFailures
	return ratio > 0 && ended >= minimum && float64(c.TotalFailures) >= ratio*float64(ended)
}

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

// breaker is a client's circuit breaker, which remembers the failure that
// last opened it.
type breaker struct {
	// Two-step: a request takes a ticket with Allow and reports its
	// outcome with the ticket's done, so no closure of the request's
	// stands between the breaker and the provider call (see
	// exchange.run).
	*gobreaker.TwoStepCircuitBreaker[lm.Response]
	// lastFailure is the latest request counted as a failure; it is
	// written and read only under gobreaker's lock (in its IsSuccessful and
	// OnStateChange callbacks).
	lastFailure error
	// openedBy holds the failure that last opened the breaker.
	openedBy atomic.Pointer[failure]
}

// failure boxes an error for an atomic.Pointer.
type failure struct{ err error }

// callerGone marks a request that ended because the caller gave up (its
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
	timeout, interval := s.Timeout.Duration(), s.Interval.Duration()
	if timeout <= 0 {
		timeout = defaultBreakerTimeout
	}
	b := &breaker{}
	st := gobreaker.Settings{
		Name:        name,
		MaxRequests: s.MaxRequests,
		Interval:    interval,
		Timeout:     timeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return readyToTrip(s, c) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedBy.Store(&failure{b.lastFailure})
			}
			if onChange != nil {
				onChange(from, to)
			}
		},
		IsSuccessful: func(err error) bool {
			ok := err == nil || isClientError(err)
			if !ok {
				b.lastFailure = err
			}
			return ok
		},
		IsExcluded: isExcluded,
	}
	if interval > 0 {
		st.BucketPeriod = max(interval/breakerBuckets, time.Millisecond)
	}
	b.TwoStepCircuitBreaker = gobreaker.NewTwoStepCircuitBreaker[lm.Response](st)
	return b
}

// isExcluded reports a request the breaker must not count: the caller gave
// up, the runtime closed, a rate limit, or a refusal by this breaker (a
// request cut short when the breaker opened during its retries).
func isExcluded(err error) bool {
	if err == nil {
		return false
	}
	var gone callerGone
	return errors.As(err, &gone) || errors.Is(err, ErrClosed) ||
		errors.Is(err, lm.ErrRateLimited) || errors.Is(err, lm.ErrCircuitOpen)
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

// isOpen reports whether b (when not nil) refuses requests now.
func (b *breaker) isOpen() bool {
	return b != nil && b.State() == gobreaker.StateOpen
}

// refusal is the error of a request b refused: an *lm.CircuitOpenError
// that wraps the failure that opened b.
func (b *breaker) refusal(provider, model string) error {
	e := &lm.CircuitOpenError{Provider: provider, Model: model}
	if f := b.openedBy.Load(); f != nil {
		e.Cause = f.err
	}
	return e
}

// throughBreaker runs request through b (when not nil): one whole request,
// its retries included, counts once. A refusal is an *lm.CircuitOpenError;
// the caller's own cancellation (ctx ending) is kept out of the counts. A
// panic in request counts as a failure and goes on.
func throughBreaker(ctx context.Context, b *breaker, provider, model string, request func() (lm.Response, error)) (lm.Response, error) {
	if b == nil {
		return request()
	}
	done, err := b.Allow()
	if err != nil {
		return lm.Response{}, b.refused(err, provider, model)
	}
	defer func() {
		if v := recover(); v != nil {
			done(panicFailure(v))
			panic(v)
		}
	}()
	resp, err := request()
	settle(err != nil && ctx.Err() != nil, done, err)
	if err != nil {
		return lm.Response{}, err
	}
	return resp, nil
}

// settle reports the outcome err of a request the breaker let through to
// done, its ticket from Allow. A failure because the caller gave up (gone:
// the request's context ended) is kept out of the counts.
func settle(gone bool, done func(error), err error) {
	if gone {
		err = callerGone{err}
	}
	done(err)
}

// refused turns the error of Allow into the request's: a refusal (the
// breaker is open, or half-open with its probes taken) is an
// *lm.CircuitOpenError.
//
//go:noinline
func (b *breaker) refused(err error, provider, model string) error {
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return b.refusal(provider, model)
	}
	return err
}

// panicFailure is what the breaker counts for a request that panicked: a
// failure, as gobreaker's Execute counts it.
func panicFailure(v any) error { return fmt.Errorf("%v", v) }
