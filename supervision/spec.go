package supervision

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/backoff"
)

// Strategy says which children restart when one fails.
type Strategy int

const (
	// OneForOne restarts only the failed child.
	OneForOne Strategy = iota
	// AllForOne restarts every child of the supervisor when one fails: for
	// children that depend on each other's state.
	AllForOne
)

// String returns "one_for_one" or "all_for_one".
func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "one_for_one"
	case AllForOne:
		return "all_for_one"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// Restart says whether a child is restarted after a failure.
type Restart int

const (
	// Permanent children are restarted after a failure (a panic in
	// Receive), within the intensity. The default.
	Permanent Restart = iota
	// Temporary children are never restarted: a failure stops them.
	Temporary
)

// String returns "permanent" or "temporary".
func (r Restart) String() string {
	switch r {
	case Permanent:
		return "permanent"
	case Temporary:
		return "temporary"
	}
	return fmt.Sprintf("Restart(%d)", int(r))
}

// OnExceeded says what a supervisor does when a child fails more often than
// its Intensity allows.
type OnExceeded int

const (
	// StopChild stops the failing child (with AllForOne, every child) and
	// keeps the supervisor running. The default.
	StopChild OnExceeded = iota
	// Escalate fails the supervisor itself: its parent's strategy handles
	// the failure. The parent of a Tree's supervisor restarts it (stopping
	// and re-spawning every child) within the same Intensity and Backoff,
	// and stops the whole Tree beyond them (Tree.Done is then closed).
	Escalate
)

// String returns "stop_child" or "escalate".
func (o OnExceeded) String() string {
	switch o {
	case StopChild:
		return "stop_child"
	case Escalate:
		return "escalate"
	}
	return fmt.Sprintf("OnExceeded(%d)", int(o))
}

// Intensity bounds restarts: more than MaxRestarts failures of one child
// (with AllForOne, of the group) within Within exceed it, as in OTP.
// The zero Intensity means DefaultIntensity().
type Intensity struct {
	// MaxRestarts is the number of restarts allowed within Within; 0 allows
	// none (the first failure exceeds the intensity).
	MaxRestarts int
	// Within is the sliding window over which failures are counted;
	// positive.
	Within time.Duration
}

// DefaultIntensity returns the Intensity of a Spec that sets none: 5
// restarts within 30 seconds.
func DefaultIntensity() Intensity { return Intensity{MaxRestarts: 5, Within: 30 * time.Second} }

// DefaultBackoff returns the Backoff of a Spec that sets none: 100ms
// doubling up to 10s, with 20% jitter.
func DefaultBackoff() backoff.Policy {
	return backoff.Policy{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2}
}

// Child declares one supervised child.
type Child struct {
	// Name is the child's actor name under the supervisor (its PID id is
	// "<supervisor>/<name>"). Required, unique within the supervisor,
	// without "/".
	Name string
	// Props spawns the child, and spawns it again after a supervisor
	// restart. Required.
	Props *actor.Props
	// Restart says whether the child is restarted after a failure.
	Restart Restart
}

// Spec declares a supervision tree: a supervisor actor named Name and its
// children, spawned in order and stopped in reverse order.
type Spec struct {
	// Name is the supervisor's actor name. Required, unique in the actor
	// system.
	Name string
	// Strategy says which children restart when one fails.
	Strategy Strategy
	// Intensity bounds restarts; the zero value means DefaultIntensity().
	Intensity Intensity
	// Backoff delays restarts: restart n (from 1, counted within the
	// Intensity window) waits Backoff.Delay(n, r). While a child waits, its
	// mailbox is suspended: messages queue and are processed by the
	// restarted instance. The zero value means DefaultBackoff();
	// backoff.Policy{Multiplier: 1} restarts at once.
	Backoff backoff.Policy
	// OnExceeded is what happens when Intensity is exceeded.
	OnExceeded OnExceeded
	// Children are spawned in order when the supervisor starts (and again
	// after it restarts); Tree.SpawnChild adds more at run time.
	Children []Child
}

// withDefaults fills the zero Intensity and Backoff.
func (s Spec) withDefaults() Spec {
	if s.Intensity == (Intensity{}) {
		s.Intensity = DefaultIntensity()
	}
	if s.Backoff == (backoff.Policy{}) {
		s.Backoff = DefaultBackoff()
	}
	return s
}

// ErrInvalidSpec is wrapped by the errors of Spec.Validate.
var ErrInvalidSpec = errors.New("supervision: invalid spec")

// Validate reports the first invalid field of s (after defaults are
// applied), wrapping ErrInvalidSpec.
func (s Spec) Validate() error {
	s = s.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
	}
	if s.Name == "" || strings.Contains(s.Name, "/") {
		return bad("name %q must be non-empty without '/'", s.Name)
	}
	if s.Strategy != OneForOne && s.Strategy != AllForOne {
		return bad("%s: unknown strategy %v", s.Name, s.Strategy)
	}
	if s.OnExceeded != StopChild && s.OnExceeded != Escalate {
		return bad("%s: unknown on-exceeded behaviour %v", s.Name, s.OnExceeded)
	}
	if err := s.Intensity.validate(); err != nil {
		return bad("%s: %v", s.Name, err)
	}
	if err := s.Backoff.Validate(); err != nil {
		return bad("%s: %v", s.Name, err)
	}
	seen := make(map[string]bool, len(s.Children))
	for i, c := range s.Children {
		if err := c.validate(); err != nil {
			return bad("%s: children[%d]: %v", s.Name, i, err)
		}
		if seen[c.Name] {
			return bad("%s: children[%d]: duplicate name %q", s.Name, i, c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

func (i Intensity) validate() error {
	if i.MaxRestarts < 0 {
		return fmt.Errorf("intensity: max restarts %d < 0", i.MaxRestarts)
	}
	if i.Within <= 0 {
		return fmt.Errorf("intensity: within %v must be positive", i.Within)
	}
	return nil
}

func (c Child) validate() error {
	switch {
	case c.Name == "" || strings.Contains(c.Name, "/"):
		return fmt.Errorf("name %q must be non-empty without '/'", c.Name)
	case c.Props == nil:
		return fmt.Errorf("%s: nil props", c.Name)
	case c.Restart != Permanent && c.Restart != Temporary:
		return fmt.Errorf("%s: unknown restart %v", c.Name, c.Restart)
	}
	return nil
}
