package actors

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// limits holds a client's request and token limiters. Both always exist
// (rate.Inf when uncapped), so they can be changed in place while requests
// use them.
type limits struct {
	requests *rate.Limiter
	tokens   *rate.Limiter
	// uncapped tells both are rate.Inf: a wait then reserves nothing
	// and never waits, and waitWithin returns at once, without the
	// limiters' locks. It is never true while a limiter has a cap (see
	// set).
	uncapped atomic.Bool
}

func newLimits(s config.RateLimit) *limits {
	l := &limits{requests: rate.NewLimiter(rate.Inf, 1), tokens: rate.NewLimiter(rate.Inf, 1)}
	l.set(s)
	return l
}

// set applies s to the limiters. A minute's allowance is the burst.
func (l *limits) set(s config.RateLimit) {
	uncapped := s.RequestsPerMinute <= 0 && s.TokensPerMinute <= 0
	if !uncapped {
		l.uncapped.Store(false) // before a limiter gets its cap
	}
	setPerMinute(l.requests, s.RequestsPerMinute)
	setPerMinute(l.tokens, s.TokensPerMinute)
	if uncapped {
		l.uncapped.Store(true) // once both are rate.Inf
	}
}

func setPerMinute(lim *rate.Limiter, perMinute int) {
	if perMinute <= 0 {
		lim.SetLimit(rate.Inf)
		return
	}
	lim.SetBurst(perMinute)
	lim.SetLimit(rate.Limit(float64(perMinute) / 60))
}

// estimateTokens guesses the tokens a request uses: about four characters
// a token for the prompt, plus the completion cap when one is set.
func estimateTokens(req *lm.Request) int {
	chars := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		chars += len(m.Content)
		for j := range m.ToolCalls {
			chars += len(m.ToolCalls[j].Name) + len(m.ToolCalls[j].Arguments)
		}
	}
	for i := range req.Tools {
		t := &req.Tools[i]
		chars += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return chars/4 + 1 + req.MaxTokens
}

// wait blocks until one request of the given tokens may be sent, and
// returns how long it waited. It fails with lm.ErrRateLimited at once when
// the wait would outlast ctx's deadline, and with ctx's cause when ctx ends
// first.
func (l *limits) wait(ctx context.Context, tokens int) (time.Duration, error) {
	return l.waitWithin(func() context.Context { return ctx }, tokens)
}

// waitWithin is wait within the context within returns, asked for only
// when there is a wait (see requestScope.bound).
func (l *limits) waitWithin(within func() context.Context, tokens int) (time.Duration, error) {
	if l.uncapped.Load() {
		return 0, nil // what rate.Inf limiters answer, without their locks
	}
	now := time.Now()
	if b := l.tokens.Burst(); l.tokens.Limit() != rate.Inf && tokens > b {
		tokens = b
	}
	r1 := l.requests.ReserveN(now, 1)
	r2 := l.tokens.ReserveN(now, tokens)
	cancel := func() {
		r1.CancelAt(now)
		r2.CancelAt(now)
	}
	if !r1.OK() || !r2.OK() {
		cancel()
		return 0, lm.ErrRateLimited
	}
	delay := max(r1.DelayFrom(now), r2.DelayFrom(now))
	if delay <= 0 {
		return 0, nil
	}
	ctx := within()
	if dl, ok := ctx.Deadline(); ok && now.Add(delay).After(dl) {
		cancel()
		return 0, lm.ErrRateLimited
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return delay, nil
	case <-ctx.Done():
		cancel()
		return time.Since(now), context.Cause(ctx)
	}
}
