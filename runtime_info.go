package dspex

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/simlm"
)

// Simulated reports whether the runtime serves the embedded simulator
// (package simlm) because no provider was configured. Answers then come
// from a simulator, not a language model.
func (r *Runtime) Simulated() bool { return r.sim != nil }

// ActorSystem returns the runtime's actor system, for dspex packages that
// run their own supervised actors inside it (evaluate's evaluator actors).
// Applications do not need it: programs reach the runtime through LM.
func (r *Runtime) ActorSystem() *actor.ActorSystem { return r.system }

// SimulatorStats returns the request counters of the embedded simulator,
// or false when the runtime does not serve it. A run answered entirely
// from the response cache leaves Requests at 0.
func (r *Runtime) SimulatorStats() (simlm.Stats, bool) {
	if r.sim == nil {
		return simlm.Stats{}, false
	}
	return r.sim.Stats(), true
}
