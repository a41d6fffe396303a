// Package budget caps what LM calls may spend: a Budget attached to a
// context (With) counts every LM call made under it, across goroutines and
// actors, and a call that would go over it is refused before it is sent,
// with an error matching ErrExceeded.
//
// The runtime's LMs and history.Wrap check budgets; an lm.LM used bare
// does not.
package budget

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

// ErrExceeded means a call was refused because it would go over a budget.
var ErrExceeded = errors.New("dspex: budget exceeded")

// Budget caps the LM calls made under a context. A zero field is no cap.
type Budget struct {
	// MaxCost caps the cost of the calls, in the price table's currency.
	// Calls whose model has no known price count nothing against it.
	MaxCost float64
	// MaxCalls caps the calls sent to providers (cache hits are free).
	// It is never exceeded, however many goroutines share the budget.
	MaxCalls int
	// MaxTokens caps prompt plus completion tokens.
	MaxTokens int
}

// Spend is what the calls under a budget have used so far.
type Spend struct {
	// Calls counts the calls sent to providers (failed ones included).
	Calls int
	// Usage sums their tokens.
	Usage lm.Usage
	// Cost sums their cost.
	Cost pricing.Cost
}

// ExceededError is a refused call: it matches ErrExceeded and tells which
// cap it hit.
type ExceededError struct {
	// Limit names the cap: "calls", "tokens" or "cost".
	Limit string
	// Budget is the budget that refused the call.
	Budget Budget
	// Spent is what had been spent when the call was refused.
	Spent Spend
}

// Error implements error.
func (e *ExceededError) Error() string {
	switch e.Limit {
	case "calls":
		return fmt.Sprintf("%v: %d of %d calls made", ErrExceeded, e.Spent.Calls, e.Budget.MaxCalls)
	case "tokens":
		return fmt.Sprintf("%v: %d of %d tokens used", ErrExceeded, e.Spent.Usage.TotalTokens, e.Budget.MaxTokens)
	}
	return fmt.Sprintf("%v: %s of %s spent", ErrExceeded, e.Spent.Cost, pricing.FormatAmount(e.Budget.MaxCost, e.Spent.Cost.Currency))
}

// Is makes errors.Is(err, ErrExceeded) true.
func (e *ExceededError) Is(target error) bool { return target == ErrExceeded }

// account is a budget's running count. Accounts nest: a call counts
// against its context's account and every enclosing one.
type account struct {
	parent *account
	b      Budget

	mu       sync.Mutex
	spent    Spend
	reserved int // calls admitted and not yet finished
}

type ctxKey struct{}

// With returns a copy of ctx under which every LM call counts against b
// (and against any budget ctx already carries).
func With(ctx context.Context, b Budget) context.Context {
	parent, _ := ctx.Value(ctxKey{}).(*account)
	return context.WithValue(ctx, ctxKey{}, &account{parent: parent, b: b})
}

// Spent returns what has been spent under the innermost budget of ctx, and
// false when ctx carries none.
func Spent(ctx context.Context) (Spend, bool) {
	a, _ := ctx.Value(ctxKey{}).(*account)
	if a == nil {
		return Spend{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spent, true
}

// Exceeded reports whether the innermost budget of ctx has no room for
// another call (with the reason), without reserving anything.
func Exceeded(ctx context.Context) error {
	for a, _ := ctx.Value(ctxKey{}).(*account); a != nil; a = a.parent {
		a.mu.Lock()
		err := a.check()
		a.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// check reports whether a has room for one more call; a.mu is held.
func (a *account) check() error {
	s, b := a.spent, a.b
	switch {
	case b.MaxCalls > 0 && s.Calls+a.reserved >= b.MaxCalls:
		return &ExceededError{Limit: "calls", Budget: b, Spent: s}
	case b.MaxTokens > 0 && s.Usage.TotalTokens >= b.MaxTokens:
		return &ExceededError{Limit: "tokens", Budget: b, Spent: s}
	case b.MaxCost > 0 && s.Cost.Amount >= b.MaxCost:
		return &ExceededError{Limit: "cost", Budget: b, Spent: s}
	}
	return nil
}

// Reservation is a call admitted under the budgets of a context. Finish
// it exactly once.
type Reservation struct {
	accounts []*account
}

// Reserve admits one call under every budget ctx carries, or refuses it
// with an *ExceededError when one of them has no room. Tokens and cost are
// known only when a call returns, so the calls in flight together may go
// over MaxTokens or MaxCost by what they use; MaxCalls is exact. Without a
// budget in ctx it returns a no-op reservation (nil, which allocates
// nothing).
func Reserve(ctx context.Context) (*Reservation, error) {
	a, _ := ctx.Value(ctxKey{}).(*account)
	if a == nil {
		return nil, nil
	}
	var r Reservation
	for ; a != nil; a = a.parent {
		a.mu.Lock()
		if err := a.check(); err != nil {
			a.mu.Unlock()
			r.Finish(false, lm.Usage{}, pricing.Cost{})
			return nil, err
		}
		a.reserved++
		a.mu.Unlock()
		r.accounts = append(r.accounts, a)
	}
	return &r, nil
}

// Finish ends the call: when sent (it reached the provider, not a cache),
// its usage and cost count against the budgets; otherwise the reservation
// is given back.
func (r *Reservation) Finish(sent bool, u lm.Usage, c pricing.Cost) {
	if r == nil {
		return
	}
	for _, a := range r.accounts {
		a.mu.Lock()
		a.reserved--
		if sent {
			a.spent.Calls++
			a.spent.Usage = a.spent.Usage.Add(u)
			a.spent.Cost = a.spent.Cost.Add(c)
		}
		a.mu.Unlock()
	}
	r.accounts = nil
}

// Charge counts s against every budget of ctx without admitting a call:
// it is how calls made elsewhere (a cluster node's, once their result
// returns) are paid for. The next call under ctx is refused if s took a
// budget over its cap.
func Charge(ctx context.Context, s Spend) {
	for a, _ := ctx.Value(ctxKey{}).(*account); a != nil; a = a.parent {
		a.mu.Lock()
		a.spent.Calls += s.Calls
		a.spent.Usage = a.spent.Usage.Add(s.Usage)
		a.spent.Cost = a.spent.Cost.Add(s.Cost)
		a.mu.Unlock()
	}
}
