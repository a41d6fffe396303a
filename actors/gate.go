package actors

import (
	"container/list"
	"context"
	"sync"
)

// gate caps the number of requests in flight. Its limit may change while
// requests wait; waiters are admitted in arrival order. It is safe for
// concurrent use.
type gate struct {
	mu      sync.Mutex
	limit   int // <= 0: unlimited
	used    int
	waiters list.List // of chan struct{}
}

// acquire takes a slot, waiting for one while ctx allows.
func (g *gate) acquire(ctx context.Context) error {
	return g.acquireWithin(func() context.Context { return ctx })
}

// acquireWithin is acquire within the context within returns, asked for
// only when there is a wait (see requestScope.bound).
func (g *gate) acquireWithin(within func() context.Context) error {
	g.mu.Lock()
	if g.waiters.Len() == 0 && (g.limit <= 0 || g.used < g.limit) {
		g.used++
		g.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	elem := g.waiters.PushBack(ready)
	g.mu.Unlock()

	ctx := within()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-ready:
			// Admitted while giving up: hand the slot on.
			g.mu.Unlock()
			g.release()
		default:
			g.waiters.Remove(elem)
			g.mu.Unlock()
		}
		return context.Cause(ctx)
	}
}

// release returns a slot.
func (g *gate) release() {
	g.mu.Lock()
	g.used--
	g.admit()
	g.mu.Unlock()
}

// setLimit changes the cap; n <= 0 removes it.
func (g *gate) setLimit(n int) {
	g.mu.Lock()
	g.limit = n
	g.admit()
	g.mu.Unlock()
}

// inFlight returns the number of slots taken.
func (g *gate) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// admit wakes waiters while slots are free. g.mu must be held.
func (g *gate) admit() {
	for g.waiters.Len() > 0 && (g.limit <= 0 || g.used < g.limit) {
		ready := g.waiters.Remove(g.waiters.Front()).(chan struct{})
		g.used++
		close(ready)
	}
}
