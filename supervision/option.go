package supervision

import (
	"log/slog"
	"math/rand/v2"

	"github.com/dspex-go/dspex/backoff"
)

// Option configures Start and NewPolicy.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	logger  *slog.Logger
	onEvent func(Event)
	clock   backoff.Clock
	rand    func() float64
}

func newOptions(opts []Option) options {
	o := options{logger: slog.Default(), clock: backoff.System(), rand: rand.Float64}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	return o
}

// WithLogger logs restarts (Info), stops (Warn) and escalations (Error) to
// l instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}

// WithOnEvent calls f after each supervision decision, on the supervisor's
// goroutine: f must be quick and must not block on the supervised actors.
func WithOnEvent(f func(Event)) Option {
	return optionFunc(func(o *options) { o.onEvent = f })
}

// WithClock replaces the wall clock that times the intensity window and the
// backoff delays (for tests).
func WithClock(c backoff.Clock) Option {
	return optionFunc(func(o *options) {
		if c != nil {
			o.clock = c
		}
	})
}

// WithRand replaces the source of the uniform [0, 1) numbers that jitter
// backoff delays (math/rand/v2.Float64 by default).
func WithRand(f func() float64) Option {
	return optionFunc(func(o *options) {
		if f != nil {
			o.rand = f
		}
	})
}
