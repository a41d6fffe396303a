package history

import (
	"context"
	"maps"
	"sync"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

// ModelUsage is what the calls to one model used and cost.
type ModelUsage struct {
	// Calls counts the calls, cache hits included.
	Calls int
	// Usage sums their tokens.
	Usage lm.Usage
	// Cost sums their cost.
	Cost pricing.Cost
}

// Meter sums the usage and cost of the recorded LM calls made under a
// context, by "provider/model" (DSPy's get_lm_usage). Meters nest: a call
// counts in every meter of its context. It is safe for concurrent use.
type Meter struct {
	parent *Meter

	mu      sync.Mutex
	byModel map[string]ModelUsage
}

type meterKey struct{}

// WithMeter returns a copy of ctx under which recorded LM calls are added
// to the returned Meter (and to any meter ctx already carries).
func WithMeter(ctx context.Context) (context.Context, *Meter) {
	parent, _ := ctx.Value(meterKey{}).(*Meter)
	m := &Meter{parent: parent}
	return context.WithValue(ctx, meterKey{}, m), m
}

// ByModel returns the usage so far by "provider/model".
func (m *Meter) ByModel() map[string]ModelUsage {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.byModel)
}

// Total returns the usage so far over all models.
func (m *Meter) Total() ModelUsage {
	var t ModelUsage
	for _, u := range m.ByModel() {
		t = t.add(u)
	}
	return t
}

func (u ModelUsage) add(v ModelUsage) ModelUsage {
	return ModelUsage{Calls: u.Calls + v.Calls, Usage: u.Usage.Add(v.Usage), Cost: u.Cost.Add(v.Cost)}
}

func addToMeters(ctx context.Context, r *Record) {
	if ctx.Value(meterKey{}) == nil {
		return // no meter: no key to build
	}
	Add(ctx, r.Provider+"/"+r.Model, ModelUsage{Calls: 1, Usage: r.Usage, Cost: r.Cost})
}

// Add counts u under key in every meter of ctx. It is for LM calls that no
// recorder of this process saw, made elsewhere and reported back, such as
// a cluster node's (key "cluster/<node>").
func Add(ctx context.Context, key string, u ModelUsage) {
	for m, _ := ctx.Value(meterKey{}).(*Meter); m != nil; m = m.parent {
		m.mu.Lock()
		if m.byModel == nil {
			m.byModel = make(map[string]ModelUsage)
		}
		m.byModel[key] = m.byModel[key].add(u)
		m.mu.Unlock()
	}
}
