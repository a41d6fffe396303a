package evaluate

import (
	"context"
	"errors"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
)

// Dispatcher runs the program calls of a run somewhere else than in the
// evaluating process: on the nodes of a cluster (package cluster), for
// example. With WithDispatcher, every evaluator actor of a run hands its
// example's program call to the dispatcher instead of calling the program
// itself; the metric, the timeouts, WithMaxErrors, the progress bar and the
// result stay where Run is called.
//
// Forward runs call.Program on call.Example's inputs and returns the
// prediction. When the run records traces (WithTraces), ctx carries a
// programs.Trace and Forward must record in it the predictor calls the
// remote program made, as a local call would. ctx carries the example's
// deadline (WithTimeout) and is cancelled when the run stops.
//
// Implementations must be safe for concurrent use: Forward is called from
// one goroutine per running example.
type Dispatcher interface {
	Forward(ctx context.Context, call Call) (programs.Prediction, error)
}

// StatusReporter is implemented by dispatchers whose state is worth
// showing next to a run's progress bar, such as a cluster's live nodes
// ("3/3 nodes"). Status must be cheap and safe for concurrent use.
type StatusReporter interface {
	Status() string
}

// Call is one example's program call, as a Dispatcher receives it.
type Call struct {
	// Program is the program the run evaluates. A dispatcher that ships
	// programs as saved state asks a Portable program for the form to
	// ship (see PortableFor).
	Program programs.Program
	// Index is the example's position in the dev set of the run.
	Index int
	// Example is the example; the program runs on its Inputs.
	Example dataset.Example
	// Traces reports that the run records traces (WithTraces): ctx holds
	// a programs.Trace to fill.
	Traces bool
}

// Portable is implemented by programs that wrap another program and run it
// differently for some inputs, such as a bootstrapping optimizer's teacher
// (which leaves out the demo that is the example itself, and samples later
// rounds at another rollout and temperature). A dispatcher that ships a
// program to another process as saved state (programs.Save) ships the
// program PortableFor returns instead of the wrapper, which it cannot save.
type Portable interface {
	PortableFor(inputs programs.Values) (PortableProgram, error)
}

// PortableProgram is the form of a program to run elsewhere for one example:
// a program whose predictors' saved state (programs.Save) travels, and the
// call settings that saved state does not carry.
type PortableProgram struct {
	// Program is the program to save and rebuild elsewhere.
	Program programs.Program
	// Rollout, when not zero, is applied to every predictor
	// (programs.WithRollout).
	Rollout int
	// Temperature, when not nil, is applied to every predictor
	// (programs.WithTemperature).
	Temperature *float64
}

// PortableFor returns the form of prog to ship for inputs: what a Portable
// program says, or prog itself.
func PortableFor(prog programs.Program, inputs programs.Values) (PortableProgram, error) {
	if p, ok := prog.(Portable); ok {
		return p.PortableFor(inputs)
	}
	return PortableProgram{Program: prog}, nil
}

// WithDispatcher hands every example's program call to d (see Dispatcher),
// for example a cluster coordinator spreading examples over nodes. Set
// WithConcurrency to at least the number of calls d can run at once, or the
// run leaves d idle.
func WithDispatcher(d Dispatcher) Option {
	return optionFunc(func(c *config) error {
		if d == nil {
			return errors.New("evaluate: WithDispatcher(nil)")
		}
		c.dispatcher = d
		return nil
	})
}

// forward runs the example's program call, here or through the dispatcher,
// recovering panics.
func (r *run) forward(ctx context.Context, index int, ex dataset.Example) (pred programs.Prediction, err error) {
	d := r.cfg.dispatcher
	if d == nil {
		return callProgram(ctx, r.prog, ex.Inputs())
	}
	defer func() {
		if v := recover(); v != nil {
			pred, err = programs.Prediction{}, &PanicError{In: "dispatcher", Value: v, Stack: stack()}
		}
	}()
	return d.Forward(ctx, Call{Program: r.prog, Index: index, Example: ex, Traces: r.cfg.traces})
}
