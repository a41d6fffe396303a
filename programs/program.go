package programs

import (
	"context"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
)

// Values maps field names to values: a program's inputs, a prediction's
// outputs, or a demo holding both.
type Values = adapter.Values

// Program is anything that maps inputs to a prediction: a Predict, a module
// built from several predictors, or a compiled program returned by an
// optimizer. It is the type-erased contract that Evaluate and the optimizers
// run.
//
// Implementations must be safe for concurrent use.
type Program interface {
	Forward(ctx context.Context, inputs Values) (Prediction, error)
}

// ProgramFunc adapts a function to the Program interface.
type ProgramFunc func(ctx context.Context, inputs Values) (Prediction, error)

// Forward calls f.
func (f ProgramFunc) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	return f(ctx, inputs)
}

// Prediction is the result of running a program on one set of inputs.
type Prediction struct {
	// Values holds the output fields of the first completion.
	Values Values
	// Completions holds the output fields of every completion, when the
	// call asked for several (N > 1). Completions[0] equals Values.
	Completions []Values
	// Usage sums the tokens of every LM call the prediction made.
	Usage lm.Usage
	// Model is the model that answered, as the provider reported it.
	Model string
	// Cached reports that every LM response came from a cache.
	Cached bool
	// LMUsage is the usage and cost of the LM calls the prediction made,
	// nested modules' calls included, by "provider/model" (DSPy's
	// get_lm_usage). It counts the calls made through the runtime's LMs or
	// an LM wrapped with history.Wrap; nil when there were none.
	LMUsage map[string]history.ModelUsage
}

// Get returns the output field name of the first completion.
func (p Prediction) Get(name string) (any, bool) {
	v, ok := p.Values[name]
	return v, ok
}
