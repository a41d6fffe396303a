// Package supervision declares supervision trees as data and runs them on
// protoactor-go: a supervisor actor that spawns its children in order,
// restarts them when they fail, according to a Strategy, an Intensity and an
// exponential Backoff, and stops them in reverse order.
//
// This is the internal actor layer of dspex: PIDs and props appear here and
// in package actors, never in the user-facing API.
//
// # Declaring a tree
//
//	spec := supervision.Spec{
//		Name:       "runtime",
//		Strategy:   supervision.OneForOne,
//		Intensity:  supervision.Intensity{MaxRestarts: 5, Within: 30 * time.Second},
//		Backoff:    backoff.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2},
//		OnExceeded: supervision.StopChild,
//		Children: []supervision.Child{
//			{Name: "config", Props: configProps},
//			{Name: "telemetry", Props: telemetryProps},
//			{Name: "clients", Props: clientsProps},
//		},
//	}
//	tree, err := supervision.Start(system, spec, supervision.WithLogger(logger))
//	...
//	defer tree.Stop(ctx) // clients, telemetry, config, then the supervisor
//
// # Failures and restarts
//
// A child fails when its Receive panics. protoactor suspends its mailbox
// and asks the supervisor's strategy (here a Policy) what to do:
//
//   - a Temporary child is stopped;
//   - otherwise, if the child failed at most Intensity.MaxRestarts times
//     within Intensity.Within, it is restarted (with AllForOne, all the
//     children are) after Backoff.Delay: the actor value is replaced by a
//     fresh one from its props, which receives *actor.Restarting on the old
//     value, then *actor.Started on the new one; its PID does not change and
//     the messages queued meanwhile are kept;
//   - beyond the intensity, OnExceeded decides: StopChild stops the child
//     (AllForOne: all children), Escalate fails the supervisor, which its
//     own guardian restarts (re-spawning every child) within the same
//     intensity, or stops, closing Tree.Done.
//
// The message whose processing panicked is lost; a caller waiting for a
// reply to it sees a timeout. Actors that serve requests should therefore
// recover per request and reply with an error, and let a crash restart them
// only for faults of their own state.
//
// Every decision is logged (restart at Info, stop at Warn, escalation at
// Error), counted (Tree.Stats, Policy.Stats) and passed to the WithOnEvent
// hook.
//
// protoactor's own NewExponentialBackoffStrategy grows linearly and has no
// cap; Policy implements the declared exponential backoff instead. Actors
// that supervise children of their own (a manager spawning one actor per
// provider) use NewPolicy with actor.WithSupervisor.
//
// # Stopping
//
// Tree.Stop stops the children in reverse spawn order, each with a
// PoisonPill (so it first processes its queued messages, then runs its
// Stopping handler), waiting for each within the context; then the
// supervisor. ActorSystem.Shutdown does not stop actors: stop trees first.
//
// # Actor system
//
// NewSystem creates an actor system whose protoactor logs go through a
// slog.Logger at Warn and above, instead of protoactor's coloured Info
// output.
package supervision
