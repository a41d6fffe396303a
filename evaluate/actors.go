package evaluate

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The actors of a run, kept out of the public API:
//
//	supervisor (one per Run; spawned under the system's root)
//	 └─ evaluator (one per example, at most WithConcurrency alive)
//
// The supervisor schedules examples, collects rows and decides when the run
// is over. An evaluator starts its example's program call on a goroutine it
// owns, so that it stays responsive: it reports the row when the call ends,
// or a timeout when its receive timeout fires first, and the supervisor
// then stops it. Panics of the program and the metric are recovered on that
// goroutine and become the row's error (a request handler that panics
// leaves its caller to time out, see PROTOACTOR.md); a fault of the
// evaluator itself stops it (the strategy below) and the supervisor records
// the example as failed with ErrEvaluatorStopped.

// outcome is what the supervisor hands back to Run, exactly once.
type outcome struct {
	rows []Row
	err  error
}

// rowDone carries an example's row from an evaluator to the supervisor.
type rowDone struct{ row Row }

// callDone carries the row from the call goroutine to its evaluator.
type callDone struct{ row Row }

// stopRun asks the supervisor to end the run now.
type stopRun struct{ err error }

// evaluatorStrategy stops an evaluator that fails; the supervisor sees it
// terminate without a row and fails the example.
func evaluatorStrategy() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })
}

// supervisor is the per-run actor that owns the evaluators.
type supervisor struct {
	r        *run
	rows     []Row
	done     chan<- outcome
	next     int                // next example to start
	running  map[int]*actor.PID // example index -> evaluator, until its row arrives
	alive    map[string]int     // evaluator id -> example index, until it terminates
	failures int
	stopping bool  // no more rows are recorded nor evaluators started
	err      error // why the run stopped early
	reported bool  // the outcome has been sent
}

func newSupervisor(r *run, rows []Row, done chan<- outcome) *supervisor {
	return &supervisor{
		r:       r,
		rows:    rows,
		done:    done,
		running: make(map[int]*actor.PID, r.cfg.concurrency),
		alive:   make(map[string]int, r.cfg.concurrency),
	}
}

func (s *supervisor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		s.fill(c)
	case rowDone:
		if pid, ok := s.running[m.row.Index]; ok {
			delete(s.running, m.row.Index)
			c.Stop(pid)
			s.record(c, m.row)
		}
	case *actor.Terminated:
		i, ok := s.alive[m.Who.Id]
		if !ok {
			return
		}
		delete(s.alive, m.Who.Id)
		if _, noRow := s.running[i]; noRow {
			delete(s.running, i)
			s.record(c, Row{Index: i, Example: s.r.devset[i], Status: Failed,
				Score: s.r.cfg.failureScore, Err: ErrEvaluatorStopped})
			return
		}
		s.fill(c)
	case stopRun:
		s.stop(c, m.err)
	}
}

// record stores a finished row, then starts more examples or ends the run.
func (s *supervisor) record(c actor.Context, row Row) {
	if s.stopping {
		s.report()
		return
	}
	if err := s.r.parent.Err(); err != nil {
		// The run was cancelled: this row's failure is not the example's.
		s.stop(c, err)
		return
	}
	s.rows[row.Index] = row
	s.r.bar.add(row)
	if row.Status == Failed && !row.OverBudget() { // a spent budget is not the program's error
		s.failures++
		if m := s.r.cfg.maxErrors; m > 0 && s.failures >= m {
			s.stop(c, fmt.Errorf("%w: %d examples failed (max %d)", ErrTooManyErrors, s.failures, m))
			return
		}
	}
	s.fill(c)
}

// fill starts examples up to the concurrency cap, and ends the run when
// every example has its row.
func (s *supervisor) fill(c actor.Context) {
	for !s.stopping && s.next < len(s.rows) && len(s.alive) < s.r.cfg.concurrency {
		i := s.next
		s.next++
		r := s.r
		pid := c.SpawnPrefix(actor.PropsFromProducer(func() actor.Actor {
			return &evaluator{r: r, index: i}
		}), "ex")
		s.running[i] = pid
		s.alive[pid.Id] = i
	}
	if !s.stopping && len(s.running) == 0 && s.next >= len(s.rows) {
		s.stop(c, nil)
	}
	s.report()
}

// stop ends the run: unfinished rows stay NotRun, running calls are
// cancelled and their evaluators stopped.
func (s *supervisor) stop(c actor.Context, err error) {
	if s.stopping {
		return
	}
	s.stopping, s.err = true, err
	s.r.closed.Store(true)
	s.r.cancel()
	for _, pid := range s.running {
		c.Stop(pid)
	}
	s.report()
}

// report hands the rows to Run once the run is stopping and every
// evaluator has terminated.
func (s *supervisor) report() {
	if !s.stopping || s.reported || len(s.alive) > 0 {
		return
	}
	s.reported = true
	s.done <- outcome{rows: s.rows, err: s.err}
}

// evaluator runs one example.
type evaluator struct {
	r       *run
	index   int
	cancel  context.CancelFunc
	claimed bool        // a row (result or timeout) has been sent
	gone    atomic.Bool // the evaluator is stopping: the call goroutine must not send
}

func (e *evaluator) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		e.start(c)
	case callDone:
		if !e.claimed {
			e.claimed = true
			c.CancelReceiveTimeout()
			c.Send(c.Parent(), rowDone(m))
		}
	case *actor.ReceiveTimeout:
		c.CancelReceiveTimeout()
		if !e.claimed {
			e.claimed = true
			e.cancel()
			ex := e.r.devset[e.index]
			c.Send(c.Parent(), rowDone{row: Row{
				Index: e.index, Example: ex, Status: Failed, Score: e.r.cfg.failureScore,
				Err: fmt.Errorf("%w after %v", ErrTimeout, e.r.cfg.timeout), Latency: e.r.cfg.timeout,
			}})
		}
	case *actor.Stopping:
		e.gone.Store(true)
		if e.cancel != nil {
			e.cancel()
		}
	}
}

func (e *evaluator) start(c actor.Context) {
	if e.r.hook != nil {
		e.r.hook(e.index)
	}
	ctx := e.r.ctx
	var deadline time.Time
	if d := e.r.cfg.timeout; d > 0 {
		deadline = time.Now().Add(d)
		ctx, e.cancel = context.WithDeadlineCause(ctx, deadline, ErrTimeout)
		// The actor's own deadline, a little later than the context's: it
		// fires only for a program that ignores its context.
		c.SetReceiveTimeout(d + timeoutGrace(d))
	} else {
		ctx, e.cancel = context.WithCancel(ctx)
	}
	self, root, r, gone := c.Self(), c.ActorSystem().Root, e.r, &e.gone
	r.calls.Add(1)
	r.live.Add(1)
	go func() {
		defer r.calls.Done()
		defer r.live.Add(-1)
		row := r.execTraced(ctx, e.index, deadline)
		if !gone.Load() && !r.closed.Load() {
			root.Send(self, callDone{row: row})
		}
	}()
}

// timeoutGrace is how much longer than the context's deadline an evaluator
// waits for a program before reporting the timeout itself: a tenth of the
// timeout, at least 50ms (a program that returns on cancellation may need a
// scheduler slice and a GC pause to do so) and at most a second.
func timeoutGrace(d time.Duration) time.Duration {
	return min(max(d/10, 50*time.Millisecond), time.Second)
}

func stack() []byte { return debug.Stack() }
