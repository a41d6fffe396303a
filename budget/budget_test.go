package budget_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

func TestCaps(t *testing.T) {
	usd := func(a float64) pricing.Cost { return pricing.Cost{Amount: a, Currency: "USD", Calls: 1} }
	tests := []struct {
		name  string
		b     budget.Budget
		calls []lm.Usage
		costs []pricing.Cost
		limit string // "" when the next call is admitted
	}{
		{name: "no caps", b: budget.Budget{}, calls: []lm.Usage{{TotalTokens: 1e9}}, costs: []pricing.Cost{usd(1e6)}},
		{name: "calls left", b: budget.Budget{MaxCalls: 2}, calls: []lm.Usage{{}}, costs: []pricing.Cost{usd(0)}},
		{name: "calls spent", b: budget.Budget{MaxCalls: 2}, calls: []lm.Usage{{}, {}}, costs: []pricing.Cost{usd(0), usd(0)}, limit: "calls"},
		{name: "tokens spent", b: budget.Budget{MaxTokens: 100}, calls: []lm.Usage{{TotalTokens: 100}}, costs: []pricing.Cost{usd(0)}, limit: "tokens"},
		{name: "cost spent", b: budget.Budget{MaxCost: 0.5}, calls: []lm.Usage{{}, {}}, costs: []pricing.Cost{usd(0.25), usd(0.25)}, limit: "cost"},
		{name: "unpriced calls cost nothing", b: budget.Budget{MaxCost: 0.5}, calls: []lm.Usage{{}}, costs: []pricing.Cost{pricing.Unknown()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := budget.With(context.Background(), tt.b)
			for i := range tt.calls {
				r, err := budget.Reserve(ctx)
				if err != nil {
					t.Fatal(err)
				}
				r.Finish(true, tt.calls[i], tt.costs[i])
			}
			_, err := budget.Reserve(ctx)
			var ee *budget.ExceededError
			switch {
			case tt.limit == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.limit != "" && (!errors.As(err, &ee) || ee.Limit != tt.limit || !errors.Is(err, budget.ErrExceeded)):
				t.Fatalf("err = %v, want the %s cap", err, tt.limit)
			}
		})
	}
}

func TestNestedBudgetsAndCacheHits(t *testing.T) {
	outer := budget.With(context.Background(), budget.Budget{MaxCalls: 3})
	inner := budget.With(outer, budget.Budget{MaxCalls: 10})
	for range 5 { // cache hits give their reservation back
		r, err := budget.Reserve(inner)
		if err != nil {
			t.Fatal(err)
		}
		r.Finish(false, lm.Usage{}, pricing.CacheHit("USD"))
	}
	for range 3 {
		r, err := budget.Reserve(inner)
		if err != nil {
			t.Fatal(err)
		}
		r.Finish(true, lm.Usage{TotalTokens: 7}, pricing.Cost{Calls: 1})
	}
	if _, err := budget.Reserve(inner); !errors.Is(err, budget.ErrExceeded) {
		t.Fatalf("the outer budget did not refuse: %v", err)
	}
	in, _ := budget.Spent(inner)
	out, _ := budget.Spent(outer)
	if in.Calls != 3 || out.Calls != 3 || in.Usage.TotalTokens != 21 {
		t.Fatalf("inner %+v outer %+v", in, out)
	}
	if err := budget.Exceeded(inner); !errors.Is(err, budget.ErrExceeded) {
		t.Fatalf("Exceeded = %v", err)
	}
	if _, ok := budget.Spent(context.Background()); ok {
		t.Fatal("a context without a budget has one")
	}
}

func TestConcurrentReservationsNeverExceedMaxCalls(t *testing.T) {
	ctx := budget.With(context.Background(), budget.Budget{MaxCalls: 37})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				r, err := budget.Reserve(ctx)
				if err != nil {
					continue
				}
				admitted.Add(1)
				r.Finish(true, lm.Usage{}, pricing.Cost{})
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 37 {
		t.Fatalf("admitted %d calls, budget 37", admitted.Load())
	}
}

func TestCharge(t *testing.T) {
	outer := budget.With(context.Background(), budget.Budget{MaxCalls: 10})
	inner := budget.With(outer, budget.Budget{MaxTokens: 100})
	budget.Charge(inner, budget.Spend{Calls: 3, Usage: lm.Usage{TotalTokens: 100}})
	if s, _ := budget.Spent(outer); s.Calls != 3 || s.Usage.TotalTokens != 100 {
		t.Fatalf("outer spent %+v", s)
	}
	var ee *budget.ExceededError
	if err := budget.Exceeded(inner); !errors.As(err, &ee) || ee.Limit != "tokens" {
		t.Fatalf("inner: %v", err)
	}
	if _, err := budget.Reserve(inner); !errors.Is(err, budget.ErrExceeded) {
		t.Fatalf("a call after the charge was admitted: %v", err)
	}
	if err := budget.Exceeded(outer); err != nil {
		t.Fatalf("outer: %v", err)
	}
	budget.Charge(context.Background(), budget.Spend{Calls: 1}) // no budget: nothing to charge
}
