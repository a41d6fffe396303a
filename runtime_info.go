package dspex

import (
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/supervision"
)

// Simulated reports whether the runtime serves the embedded simulator
// (package simlm) because no provider was configured. Answers then come
// from a simulator, not a language model.
func (r *Runtime) Simulated() bool { return r.sim != nil }

// Actors returns an opaque handle on the runtime's actor system, for dspex
// packages that run their own supervised actors inside it: pass the
// runtime to evaluate.WithRuntime, which calls it. Applications do not
// need it otherwise: programs reach the runtime through LM.
func (r *Runtime) Actors() supervision.Handle { return supervision.HandleOf(r.system) }

// SimulatorStats returns the request counters of the embedded simulator,
// or false when the runtime does not serve it. A run answered entirely
// from the response cache leaves Requests at 0.
func (r *Runtime) SimulatorStats() (simlm.Stats, bool) {
	if r.sim == nil {
		return simlm.Stats{}, false
	}
	return r.sim.Stats(), true
}
