package supervision

import "github.com/asynkron/protoactor-go/actor"

// Handle is an opaque reference to a running actor system. A runtime hands
// one out (dspex.Runtime.Actors) so that other packages run their
// supervised actors in its system while their own API shows no protoactor
// type: evaluate.WithRuntime takes anything with an Actors() Handle method.
// The zero Handle refers to no system.
type Handle struct{ system *actor.ActorSystem }

// HandleOf returns the Handle of system.
func HandleOf(system *actor.ActorSystem) Handle { return Handle{system: system} }

// System returns the actor system h refers to, or nil for the zero Handle.
func (h Handle) System() *actor.ActorSystem { return h.system }
