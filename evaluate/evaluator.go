package evaluate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// Evaluator runs programs over dev sets and scores them with a metric
// (DSPy's Evaluate). Build one with New and call Run as often as needed.
//
// An Evaluator is immutable and safe for concurrent use; concurrent runs
// are independent.
type Evaluator struct {
	metric Metric
	cfg    config
}

// New returns an evaluator scoring with metric, a plain Go function
// returning a float or a bool (true counts as 1).
func New[S Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...Option) (*Evaluator, error) {
	if metric == nil {
		return nil, errors.New("evaluate: New: nil metric")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return &Evaluator{metric: MetricOf(metric), cfg: cfg}, nil
}

// With returns a copy of e with further options applied.
func (e *Evaluator) With(opts ...Option) (*Evaluator, error) {
	cfg := e.cfg
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	return &Evaluator{metric: e.metric, cfg: cfg}, nil
}

// Metric returns the evaluator's metric.
func (e *Evaluator) Metric() Metric { return e.metric }

// Run is New followed by (*Evaluator).Run, for one-off evaluations.
func Run[S Score](ctx context.Context, prog programs.Program, devset []dataset.Example,
	metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S, opts ...Option) (Result, error) {
	ev, err := New(metric, opts...)
	if err != nil {
		return Result{}, err
	}
	return ev.Run(ctx, prog, devset)
}

// Run calls prog on the inputs of every example of devset and scores each
// prediction with the metric.
//
// Every example runs in its own short-lived evaluator actor, spawned by a
// supervisor actor for the run, at most WithConcurrency at a time. A
// program error (such as a provider error that outlasted the retries), a
// panic in the program or the metric, or a per-example timeout fails that
// example only: it gets the failure score and keeps its error, and the run
// goes on.
//
// The result always holds every example exactly once, in dev-set order. If
// ctx is cancelled, or WithMaxErrors examples have failed, the run stops:
// the examples not finished are marked NotRun, Result.Complete is false,
// and the error is ctx's error or ErrTooManyErrors. Otherwise the error is
// nil: failed examples are not errors of the run. Run also fails, without
// running anything, if prog is nil.
//
// Telemetry: a run is an "evaluate" span with one "example" span per
// example, and the evaluation metrics, recorded with the providers ctx
// carries (telemetry.NewContext, or the caller's span), else with those of
// the evaluator's LM or runtime (WithLM, WithRuntime: the dspex runtime
// and its LMs hand them out), which Run puts into ctx at its start so that
// every example's program call finds them there. With none, nothing is
// recorded.
func (e *Evaluator) Run(ctx context.Context, prog programs.Program, devset []dataset.Example) (Result, error) {
	return e.run(ctx, prog, devset, nil)
}

func (e *Evaluator) run(ctx context.Context, prog programs.Program, devset []dataset.Example, hook func(int)) (Result, error) {
	start := time.Now()
	rows := make([]Row, len(devset))
	for i, ex := range devset {
		rows[i] = Row{Index: i, Example: ex, Status: NotRun, Err: ErrNotRun}
	}
	res := Result{Rows: rows}
	ctx, meter := history.WithMeter(ctx)
	finish := func(err error) (Result, error) {
		res.aggregate()
		res.spend(meter)
		res.Elapsed = time.Since(start)
		return res, err
	}
	if prog == nil {
		return finish(errors.New("evaluate: Run: nil program"))
	}
	if len(devset) == 0 {
		return finish(nil)
	}
	if err := ctx.Err(); err != nil {
		return finish(fmt.Errorf("evaluate: %w", err))
	}
	if s := e.source(); s != nil {
		ctx = telemetry.WithDefault(ctx, s)
	}
	ctx, tel := e.startRun(ctx, len(devset))
	if tel != nil {
		untraced := finish
		finish = func(err error) (Result, error) {
			res, err := untraced(err)
			tel.end(res, err)
			return res, err
		}
	}

	sys, owned := e.system()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if e.cfg.model != nil {
		runCtx = lm.NewContext(runCtx, e.cfg.model)
	}
	// The history names each LM call by its predictor's path in prog.
	runCtx = programs.WithPredictorNames(runCtx, prog)
	r := &run{
		parent: ctx,
		ctx:    runCtx,
		cancel: cancel,
		cfg:    &e.cfg,
		metric: e.metric,
		prog:   prog,
		devset: devset,
		bar:    newProgress(&e.cfg, len(devset)),
		hook:   hook,
		tel:    tel,
	}
	done := make(chan outcome, 1)
	props := actor.PropsFromProducer(
		func() actor.Actor { return newSupervisor(r, rows, done) },
		actor.WithSupervisor(evaluatorStrategy()),
	)
	pid := sys.Root.SpawnPrefix(props, "evaluate")

	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		sys.Root.Send(pid, stopRun{err: ctx.Err()})
		out = <-done
	}
	cancel()
	_ = sys.Root.StopFuture(pid).Wait() // stops the evaluator actors too
	res.Abandoned = r.drain(e.cfg.drain)
	if owned {
		sys.Shutdown()
	}
	res.Rows = out.rows
	r.bar.finish()
	if out.err != nil {
		return finish(fmt.Errorf("evaluate: %w", out.err))
	}
	return finish(nil)
}

// system returns the actor system to run in and whether the run owns it.
func (e *Evaluator) system() (*actor.ActorSystem, bool) {
	if e.cfg.system != nil {
		return e.cfg.system, false
	}
	logger := e.cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger })), true
}

// run is what the actors of one Run share. Its fields are set before the
// supervisor starts and read-only after, except the counters.
type run struct {
	parent context.Context // Run's context: its end ends the run
	ctx    context.Context // the parent of every example's context
	cancel context.CancelFunc
	cfg    *config
	metric Metric
	prog   programs.Program
	devset []dataset.Example
	bar    *progress

	closed atomic.Bool     // the run has finished: late outcomes are dropped
	calls  sync.WaitGroup  // running program calls
	live   atomic.Int64    // running program calls, for Abandoned
	hook   func(index int) // tests: called as an evaluator actor starts
	tel    *runTelemetry   // nil when telemetry is off
}

// drain waits up to d for the program calls still running (their context
// is cancelled) and returns how many were left behind.
func (r *run) drain(d time.Duration) int {
	waited := make(chan struct{})
	go func() {
		r.calls.Wait()
		close(waited)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-waited:
		return 0
	case <-t.C:
		return int(r.live.Load())
	}
}

// exec runs one example: the program, then the metric, each with panics
// recovered. It never panics. deadline is the example's (zero for none).
func (r *run) exec(ctx context.Context, index int, deadline time.Time) Row {
	ex := r.devset[index]
	row := Row{Index: index, Example: ex}
	fail := func(err error) Row {
		row.Status, row.Score, row.Err = Failed, r.cfg.failureScore, err
		return row
	}
	if err := ex.Validate(); err != nil {
		return fail(err)
	}
	// Once a budget of the run is spent, the remaining examples are not
	// run: each would be refused its first LM call.
	if err := budget.Exceeded(ctx); err != nil {
		return fail(err)
	}
	var tr *programs.Trace
	if r.cfg.traces {
		ctx, tr = programs.WithTrace(ctx)
	}
	start := time.Now()
	pred, err := r.forward(ctx, index, ex)
	row.Prediction, row.Usage = pred, pred.Usage
	var score float64
	if err == nil {
		score, err = callMetric(r.metric, ex, pred, tr)
	}
	row.Latency = time.Since(start)
	if tr != nil {
		row.Trace = tr.Entries()
	}
	if err != nil {
		// The example's deadline passed (a client may report it through its
		// own context, a moment before ours fires).
		if errors.Is(context.Cause(ctx), ErrTimeout) ||
			!deadline.IsZero() && r.parent.Err() == nil && !time.Now().Before(deadline) {
			err = fmt.Errorf("%w after %v: %w", ErrTimeout, r.cfg.timeout, err)
		}
		return fail(err)
	}
	row.Status, row.Score = Scored, score
	return row
}

func callProgram(ctx context.Context, prog programs.Program, inputs map[string]any) (pred programs.Prediction, err error) {
	defer func() {
		if v := recover(); v != nil {
			pred, err = programs.Prediction{}, &PanicError{In: "program", Value: v, Stack: stack()}
		}
	}()
	return prog.Forward(ctx, inputs)
}

func callMetric(m Metric, ex dataset.Example, pred programs.Prediction, tr *programs.Trace) (score float64, err error) {
	defer func() {
		if v := recover(); v != nil {
			score, err = 0, &PanicError{In: "metric", Value: v, Stack: stack()}
		}
	}()
	score = m(ex, pred, tr)
	if score != score {
		return 0, &MetricError{Score: score}
	}
	return score, nil
}
