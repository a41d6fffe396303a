package supervision

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Policy is the actor.SupervisorStrategy a Spec declares: the Strategy, the
// Intensity counted with the injected Clock, exponential Backoff with
// jitter, the OnExceeded behaviour, logging, counting and the OnEvent hook.
// Spec.Children and Spec.Name are not used, except Name to label logs and
// events.
//
// A Tree builds its own Policy; NewPolicy is for actors that supervise
// children of their own, through actor.WithSupervisor on their props:
//
//	props := actor.PropsFromProducer(newManager,
//		actor.WithSupervisor(supervision.NewPolicy(spec, supervision.WithLogger(l))))
//
// Every child is treated as Permanent. Close the Policy when its supervisor
// stops, to cancel restarts still waiting for their backoff. A Policy is
// safe for concurrent use and may serve several supervisors.
type Policy struct {
	spec   Spec
	o      options
	kindOf func(child *actor.PID) Restart // nil: every child is Permanent

	mu       sync.Mutex
	failures map[string][]time.Time    // by intensity key
	pending  map[string]pendingRestart // by child id
	seq      uint64
	counts   map[string]*Counts
	closed   bool
}

type pendingRestart struct {
	seq     uint64
	stop    func() bool
	targets []*actor.PID
}

// NewPolicy returns the Policy spec declares. It panics if spec is invalid
// (see Spec.Validate): specs are program constants.
func NewPolicy(spec Spec, opts ...Option) *Policy {
	if err := spec.Validate(); err != nil {
		panic(err)
	}
	return newPolicy(spec.withDefaults(), newOptions(opts))
}

func newPolicy(spec Spec, o options) *Policy {
	return &Policy{
		spec:     spec,
		o:        o,
		failures: make(map[string][]time.Time),
		pending:  make(map[string]pendingRestart),
		counts:   make(map[string]*Counts),
	}
}

var _ actor.SupervisorStrategy = (*Policy)(nil)

// ChildName returns the name of a child from its PID: the last "/"-separated
// segment of its id, without an incarnation suffix. A parent that spawns a
// child again under a name of its own, name~N (as the ClientManager does
// for a client whose actor stopped, so that its old PID cannot reach the
// new actor), still has one child of that name: its counts and its restart
// intensity carry over.
func ChildName(pid *actor.PID) string {
	if pid == nil {
		return ""
	}
	id := withoutIncarnation(pid.Id)
	return id[strings.LastIndexByte(id, '/')+1:]
}

// withoutIncarnation returns id without a trailing "~N" (N decimal digits).
func withoutIncarnation(id string) string {
	i := strings.LastIndexByte(id, '~')
	if i < 0 || i == len(id)-1 || strings.LastIndexByte(id, '/') > i {
		return id
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return id
		}
	}
	return id[:i]
}

// HandleFailure implements actor.SupervisorStrategy. protoactor calls it on
// the supervisor's goroutine when child panicked; child's mailbox is
// suspended until it is restarted or stopped.
func (p *Policy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, message any) {
	name := ChildName(child)
	ev := Event{Supervisor: p.spec.Name, Child: name, Reason: reason}

	p.mu.Lock()
	switch {
	case p.closed:
		ev.Kind = EventStop
		p.count(name).Stops++
		p.mu.Unlock()
		sup.StopChildren(child)
		p.report(ev, "supervision: stopping failed child of a stopping supervisor")
		return
	case p.kindOf != nil && p.kindOf(child) == Temporary:
		ev.Kind = EventStop
		p.count(name).Stops++
		p.mu.Unlock()
		p.giveUp(sup, child)
		p.report(ev, "supervision: temporary child failed; stopped")
		return
	}
	key := withoutIncarnation(child.Id)
	if p.spec.Strategy == AllForOne {
		key = "*"
	}
	now := p.o.clock.Now()
	fails := p.failures[key][:0:0]
	for _, t := range p.failures[key] {
		if now.Sub(t) < p.spec.Intensity.Within {
			fails = append(fails, t)
		}
	}
	fails = append(fails, now)
	ev.Attempt = len(fails)
	if len(fails) > p.spec.Intensity.MaxRestarts {
		delete(p.failures, key)
		if p.spec.OnExceeded == Escalate {
			ev.Kind = EventEscalate
			p.count(name).Escalations++
			p.mu.Unlock()
			p.report(ev, "supervision: restart intensity exceeded; escalating")
			sup.EscalateFailure(reason, message)
			return
		}
		ev.Kind = EventStop
		p.count(name).Stops++
		p.mu.Unlock()
		p.giveUp(sup, child)
		p.report(ev, "supervision: restart intensity exceeded; child stopped")
		return
	}
	p.failures[key] = fails
	ev.Kind = EventRestart
	ev.Delay = p.spec.Backoff.Delay(len(fails), p.o.rand())
	p.count(name).Restarts++
	targets := []*actor.PID{child}
	if p.spec.Strategy == AllForOne {
		targets = sup.Children()
	}
	if ev.Delay <= 0 {
		p.mu.Unlock()
		p.report(ev, "supervision: restarting child")
		sup.RestartChildren(targets...)
		return
	}
	if old, ok := p.pending[child.Id]; ok {
		old.stop()
	}
	p.seq++
	id, seq := child.Id, p.seq
	stop := p.o.clock.AfterFunc(ev.Delay, func() {
		p.mu.Lock()
		cur, ok := p.pending[id]
		ok = ok && cur.seq == seq
		if ok {
			delete(p.pending, id)
		}
		closed := p.closed
		p.mu.Unlock()
		if ok && !closed {
			sup.RestartChildren(targets...)
		}
	})
	p.pending[id] = pendingRestart{seq: seq, stop: stop, targets: targets}
	p.mu.Unlock()
	p.report(ev, "supervision: restarting child after backoff")
}

// giveUp stops the failed child, or with AllForOne every child, for good.
func (p *Policy) giveUp(sup actor.Supervisor, child *actor.PID) {
	targets := []*actor.PID{child}
	if p.spec.Strategy == AllForOne {
		targets = sup.Children()
	}
	sup.StopChildren(targets...)
}

// count returns the counters of name; p.mu must be held.
func (p *Policy) count(name string) *Counts {
	c, ok := p.counts[name]
	if !ok {
		c = new(Counts)
		p.counts[name] = c
	}
	return c
}

func (p *Policy) report(ev Event, msg string) {
	level := slog.LevelInfo
	switch ev.Kind {
	case EventStop:
		level = slog.LevelWarn
	case EventEscalate:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("supervisor", ev.Supervisor),
		slog.String("child", ev.Child),
		slog.String("reason", fmt.Sprint(ev.Reason)),
		slog.Int("attempt", ev.Attempt),
	}
	if ev.Kind == EventRestart {
		attrs = append(attrs, slog.Duration("delay", ev.Delay))
	}
	p.o.logger.LogAttrs(context.Background(), level, msg, attrs...)
	if p.o.onEvent != nil {
		p.o.onEvent(ev)
	}
}

// Stats returns the decisions taken so far, by child name.
func (p *Policy) Stats() map[string]Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Counts, len(p.counts))
	for k, v := range p.counts {
		out[k] = *v
	}
	return out
}

// Close cancels the restarts waiting for their backoff and makes later
// failures stop the failed child. It returns the PIDs whose restart it
// cancelled: their mailboxes stay suspended, so stop them with Stop (not
// Poison). Close is idempotent.
func (p *Policy) Close() []*actor.PID {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var out []*actor.PID
	for id, pr := range p.pending {
		if pr.stop() {
			out = append(out, pr.targets...)
		}
		delete(p.pending, id)
	}
	return out
}
