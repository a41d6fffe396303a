// Package backoff is the one exponential backoff of dspex: the delay
// before a client actor's retry and before a supervised actor's restart
// come from the same Policy, with a random source and a Clock the caller
// injects (tests pass a fake clock and a seeded source).
//
// Delay is a pure function: Policy.Delay(n, r) is the same for the same
// arguments. Sleep waits on a Clock and honours ctx.
package backoff

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Policy is an exponential backoff: attempt n (from 1) waits
// min(Max, Initial*Multiplier^(n-1)), scaled by a random factor in
// [1-Jitter, 1+Jitter] and capped at Max again.
//
// A Multiplier below 1 is treated as 1 (a constant delay); a Max below
// Initial is treated as Initial; Initial <= 0 means no delay. Validate
// rejects such values where a configuration should not hold them.
type Policy struct {
	// Initial is the delay before the first attempt; 0 means none.
	Initial time.Duration
	// Max caps the delay; it must be >= Initial.
	Max time.Duration
	// Multiplier grows the delay after each attempt; >= 1.
	Multiplier float64
	// Jitter is the random fraction in [0, 1] applied to each delay.
	Jitter float64
}

// ErrInvalidPolicy is wrapped by the errors of Policy.Validate.
var ErrInvalidPolicy = errors.New("backoff: invalid policy")

// Validate reports the first invalid field of p, wrapping ErrInvalidPolicy.
func (p Policy) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPolicy, fmt.Sprintf(format, args...))
	}
	switch {
	case p.Initial < 0:
		return bad("initial %v < 0", p.Initial)
	case p.Max < p.Initial:
		return bad("max %v < initial %v", p.Max, p.Initial)
	case p.Multiplier < 1 || math.IsNaN(p.Multiplier):
		return bad("multiplier %v < 1", p.Multiplier)
	case !(p.Jitter >= 0 && p.Jitter <= 1):
		return bad("jitter %v not in [0, 1]", p.Jitter)
	}
	return nil
}

// Delay returns the delay before attempt n (n >= 1; smaller n are treated
// as 1), given a uniform random number r in [0, 1). It is a pure function:
// the same arguments give the same delay.
func (p Policy) Delay(n int, r float64) time.Duration {
	if p.Initial <= 0 {
		return 0
	}
	n = max(n, 1)
	limit := float64(max(p.Max, p.Initial))
	mult := p.Multiplier
	if !(mult >= 1) { // also NaN
		mult = 1
	}
	d := float64(p.Initial) * math.Pow(mult, float64(n-1))
	if math.IsInf(d, 0) || math.IsNaN(d) || d > limit {
		d = limit
	}
	if j := min(p.Jitter, 1); j > 0 {
		d *= 1 + j*(2*r-1)
	}
	return time.Duration(max(min(d, limit), 0))
}
