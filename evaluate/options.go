package evaluate

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/supervision"
)

// Option configures an Evaluator.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// DefaultConcurrency is how many examples run at once unless WithConcurrency
// says otherwise.
const DefaultConcurrency = 16

// DefaultDrain is how long Run waits, at its end, for program calls that
// have not yet returned after their context was cancelled.
const DefaultDrain = 5 * time.Second

// config is what an Evaluator runs with.
type config struct {
	concurrency  int
	timeout      time.Duration
	failureScore float64
	maxErrors    int
	traces       bool
	model        lm.LM
	progress     progressMode
	progressOut  io.Writer
	system       *actor.ActorSystem
	runtime      Runtime // WithRuntime's, a telemetry source when it is one
	logger       *slog.Logger
	drain        time.Duration
	description  string
	dispatcher   Dispatcher // nil: programs run in this process
}

func defaultConfig() config {
	return config{
		concurrency: DefaultConcurrency,
		drain:       DefaultDrain,
		description: "evaluate",
	}
}

type progressMode uint8

const (
	progressAuto progressMode = iota // stderr, only on a terminal
	progressOn                       // the given writer, always
	progressOff
)

// Runtime is what WithRuntime needs of a runtime: an opaque handle on the
// actor system the evaluator actors run in. *dspex.Runtime implements it;
// applications pass their runtime and never see the actor plumbing.
type Runtime interface {
	// Actors returns the handle of the runtime's actor system.
	Actors() supervision.Handle
}

// WithConcurrency caps how many examples run at once (default
// DefaultConcurrency). Each running example is one evaluator actor.
func WithConcurrency(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("evaluate: concurrency %d must be positive", n)
		}
		c.concurrency = n
		return nil
	})
}

// WithTimeout bounds each example: its program and metric must finish
// within d, or the example fails with ErrTimeout. The example's context is
// cancelled at the deadline. Zero (the default) means no per-example bound.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("evaluate: timeout %v must not be negative", d)
		}
		c.timeout = d
		return nil
	})
}

// WithFailureScore sets the score given to an example that fails (a program
// error, a panic, a timeout); the default is 0.
func WithFailureScore(s float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("evaluate: failure score %v is not finite", s)
		}
		c.failureScore = s
		return nil
	})
}

// WithMaxErrors stops the run once n examples have failed: the examples not
// yet finished are marked NotRun and Run returns ErrTooManyErrors with the
// partial result. Zero (the default) never stops early.
func WithMaxErrors(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("evaluate: max errors %d must not be negative", n)
		}
		c.maxErrors = n
		return nil
	})
}

// WithTraces records, for every example, the predictor calls its program
// made (Row.Trace) and passes the trace to the metric, as bootstrapping
// optimizers do.
func WithTraces() Option {
	return optionFunc(func(c *config) error { c.traces = true; return nil })
}

// WithLM sets the language model that programs without their own use
// during the run (it is put in each example's context with lm.NewContext).
func WithLM(m lm.LM) Option {
	return optionFunc(func(c *config) error {
		if m == nil {
			return errors.New("evaluate: WithLM(nil)")
		}
		c.model = m
		return nil
	})
}

// WithProgress draws a progress bar on w (whatever w is). Without this
// option a bar is drawn on standard error only when it is a terminal.
func WithProgress(w io.Writer) Option {
	return optionFunc(func(c *config) error {
		if w == nil {
			return errors.New("evaluate: WithProgress(nil)")
		}
		if c.progress == progressOff {
			return errors.New("evaluate: WithProgress conflicts with WithoutProgress")
		}
		c.progress, c.progressOut = progressOn, w
		return nil
	})
}

// WithoutProgress never draws a progress bar.
func WithoutProgress() Option {
	return optionFunc(func(c *config) error {
		if c.progress == progressOn {
			return errors.New("evaluate: WithoutProgress conflicts with WithProgress")
		}
		c.progress = progressOff
		return nil
	})
}

// WithDescription sets the label of the progress bar (default "evaluate").
func WithDescription(s string) Option {
	return optionFunc(func(c *config) error { c.description = s; return nil })
}

// WithRuntime runs the evaluator actors in the actor system of rt, usually
// the *dspex.Runtime, under a supervisor actor spawned for each run and
// stopped at its end. Without it each run starts a private actor system and
// shuts it down when the run ends. When rt hands out telemetry providers
// (the *dspex.Runtime does), runs record their spans and metrics with them
// unless their context carries others (see Evaluator.Run).
func WithRuntime(rt Runtime) Option {
	return optionFunc(func(c *config) error {
		if rt == nil || rt.Actors().System() == nil {
			return errors.New("evaluate: WithRuntime: no actor system")
		}
		c.system = rt.Actors().System()
		c.runtime = rt
		return nil
	})
}

// WithLogger sets the logger of the private actor system a run starts
// (ignored with WithRuntime). The default discards actor-system logs.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return errors.New("evaluate: WithLogger(nil)")
		}
		c.logger = l
		return nil
	})
}

// WithDrain sets how long Run waits at its end for program calls that have
// not returned after their context was cancelled (a program that ignores
// cancellation); after d they are abandoned and counted in
// Result.Abandoned. The default is DefaultDrain.
func WithDrain(d time.Duration) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("evaluate: drain %v must not be negative", d)
		}
		c.drain = d
		return nil
	})
}
