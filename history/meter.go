package history

import (
	"context"
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

	mu sync.Mutex
	// byModel holds the usage by key, in the order keys were first
	// counted: a meter sees one model or a few (a Go map of even one
	// entry of this size takes a kilobyte), and index finds a key once
	// there are more than indexFrom of them.
	byModel []keyedUsage
	index   map[string]int
}

// keyedUsage is a meter's usage under one key.
type keyedUsage struct {
	key string
	u   ModelUsage
}

// indexFrom is the number of keys a meter searches in order before it
// indexes them.
const indexFrom = 8

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
	if len(m.byModel) == 0 {
		return nil
	}
	out := make(map[string]ModelUsage, len(m.byModel))
	for _, e := range m.byModel {
		out[e.key] = e.u
	}
	return out
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
	u := ModelUsage{Calls: 1, Usage: r.Usage, Cost: r.Cost}
	for m, _ := ctx.Value(meterKey{}).(*Meter); m != nil; m = m.parent {
		m.add(usageKey{r.Provider, r.Model, true}, u)
	}
}

// Add counts u under key in every meter of ctx. It is for LM calls that no
// recorder of this process saw, made elsewhere and reported back, such as
// a cluster node's (key "cluster/<node>").
func Add(ctx context.Context, key string, u ModelUsage) {
	for m, _ := ctx.Value(meterKey{}).(*Meter); m != nil; m = m.parent {
		m.add(usageKey{a: key}, u)
	}
}

// usageKey is a meter's key in parts: a+"/"+b when joined, a alone when
// not. A recorded call's key is built only the first time a meter
// counts it.
type usageKey struct {
	a, b   string
	joined bool
}

// String returns the key.
func (k usageKey) String() string {
	if !k.joined {
		return k.a
	}
	return k.a + "/" + k.b
}

// is reports whether key is k, without building k.
func (k usageKey) is(key string) bool {
	if !k.joined {
		return key == k.a
	}
	return len(key) == len(k.a)+1+len(k.b) && key[len(k.a)] == '/' &&
		key[:len(k.a)] == k.a && key[len(k.a)+1:] == k.b
}

// add counts u under k.
func (m *Meter) add(k usageKey, u ModelUsage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.find(k); ok {
		m.byModel[i].u = m.byModel[i].u.add(u)
		return
	}
	key := k.String()
	m.byModel = append(m.byModel, keyedUsage{key: key, u: u})
	switch n := len(m.byModel); {
	case m.index != nil:
		m.index[key] = n - 1
	case n > indexFrom:
		m.index = make(map[string]int, 2*n)
		for i, e := range m.byModel {
			m.index[e.key] = i
		}
	}
}

// find returns the position of k in m.byModel.
func (m *Meter) find(k usageKey) (int, bool) {
	if m.index != nil {
		i, ok := m.index[k.String()]
		return i, ok
	}
	for i, e := range m.byModel {
		if k.is(e.key) {
			return i, true
		}
	}
	return 0, false
}
