package programs

import (
	"context"
	"fmt"
	"maps"

	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// reasoningField is the output field ChainOfThought prepends to a
// signature: the LM writes its step-by-step reasoning there before the
// other outputs. Its prefix is DSPy's.
var reasoningField = signature.Field{
	Name:   "reasoning",
	Prefix: "Reasoning: Let's think step by step in order to",
	Type:   signature.TypeString,
}

// Reasoned is the result of a typed ChainOfThought: the user's output
// together with the reasoning that preceded it.
type Reasoned[Out any] struct {
	// Reasoning is what the LM wrote in the reasoning field.
	Reasoning string
	// Out holds the signature's own outputs.
	Out Out
}

// ChainOfThought is DSPy's ChainOfThought: a predictor whose signature is
// the user's with a `reasoning` output prepended, so the LM reasons before
// it answers. The typed form (NewChainOfThought) returns the user's Out
// wrapped in Reasoned, without a reasoning field in the user's struct; the
// dynamic form (NewChainOfThoughtFrom) works on Values and returns the
// reasoning as the "reasoning" output.
//
// It holds one predictor, named "predict" (as in DSPy), which optimizers
// reach through NamedPredictors. A ChainOfThought is immutable and safe for
// concurrent use.
type ChainOfThought[In, Out any] struct {
	predict *Predictor
}

// NewChainOfThought returns a typed ChainOfThought whose signature comes
// from the struct tags of In and Out (see signature.Of), extended with the
// reasoning field. Options configure the inner predictor. Out must not
// declare a field named "reasoning".
func NewChainOfThought[In, Out any](opts ...Option) (*ChainOfThought[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	return newChainOfThought[In, Out](sig, opts)
}

// MustChainOfThought is like NewChainOfThought but panics on error.
func MustChainOfThought[In, Out any](opts ...Option) *ChainOfThought[In, Out] {
	c, err := NewChainOfThought[In, Out](opts...)
	if err != nil {
		panic(err)
	}
	return c
}

// NewChainOfThoughtFrom returns a ChainOfThought over sig (for example one
// from signature.Parse) that maps input Values to output Values, the
// reasoning included.
func NewChainOfThoughtFrom(sig signature.Signature, opts ...Option) (*ChainOfThought[Values, Values], error) {
	return newChainOfThought[Values, Values](sig, opts)
}

func newChainOfThought[In, Out any](sig signature.Signature, opts []Option) (*ChainOfThought[In, Out], error) {
	if sig.IsZero() {
		return nil, fmt.Errorf("programs: ChainOfThought: zero signature")
	}
	if _, err := splitOptions("ChainOfThought", moduleConfig{}, opts); err != nil {
		return nil, err
	}
	ext, err := sig.Prepend(signature.Output, reasoningField)
	if err != nil {
		return nil, fmt.Errorf("programs: ChainOfThought: %w", err)
	}
	p, err := NewPredictFrom(ext, opts...)
	if err != nil {
		return nil, err
	}
	return &ChainOfThought[In, Out]{predict: p}, nil
}

// Call runs the chain of thought on in and returns the typed output of the
// first completion with its reasoning.
func (c *ChainOfThought[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Reasoned[Out], error) {
	outs, _, err := c.run(ctx, in, opts)
	if err != nil {
		return Reasoned[Out]{}, err
	}
	return outs[0], nil
}

// Completions runs the chain of thought on in and returns every completion
// (use WithN to ask for several) with the untyped prediction.
func (c *ChainOfThought[In, Out]) Completions(ctx context.Context, in In, opts ...CallOption) ([]Reasoned[Out], Prediction, error) {
	return c.run(ctx, in, opts)
}

func (c *ChainOfThought[In, Out]) run(ctx context.Context, in In, opts []CallOption) ([]Reasoned[Out], Prediction, error) {
	values, err := encodeValues(in)
	if err != nil {
		return nil, Prediction{}, c.predict.wrap(err)
	}
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, c), c.predict.call.model), "ChainOfThought", c.predict.displayName())
	describeCall(span, "ChainOfThought", c.predict.displayName(), nil)
	pred, err := c.predict.Call(ctx, values, opts...)
	telemetry.End(span, err)
	if err != nil {
		return nil, Prediction{}, err
	}
	outs := make([]Reasoned[Out], len(pred.Completions))
	for i, comp := range pred.Completions {
		r, _ := comp[reasoningField.Name].(string)
		rest := maps.Clone(comp)
		if _, isValues := any(outs[i].Out).(Values); !isValues {
			delete(rest, reasoningField.Name)
		}
		out, err := decodeValues[Out](rest)
		if err != nil {
			return nil, Prediction{}, c.predict.wrap(fmt.Errorf("completion %d: %w", i, err))
		}
		outs[i] = Reasoned[Out]{Reasoning: r, Out: out}
	}
	return outs, pred, nil
}

// Forward runs the chain of thought on map inputs; the prediction holds the
// reasoning and the signature's outputs. It makes ChainOfThought a Program.
func (c *ChainOfThought[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, c), c.predict.call.model), "ChainOfThought", c.predict.displayName())
	describeCall(span, "ChainOfThought", c.predict.displayName(), nil)
	pred, err := c.predict.Forward(ctx, inputs)
	telemetry.End(span, err)
	return pred, err
}

// Signature returns the extended signature, reasoning field included.
func (c *ChainOfThought[In, Out]) Signature() signature.Signature { return c.predict.Signature() }

// Predictor returns the inner predictor.
func (c *ChainOfThought[In, Out]) Predictor() *Predictor { return c.predict }

// NamedPredictors returns the inner predictor, named "predict".
func (c *ChainOfThought[In, Out]) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{{Name: "predict", Predictor: c.predict}}
}

// ReplacePredictors returns a copy with the "predict" predictor replaced.
func (c *ChainOfThought[In, Out]) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	return c.WithPredictors(replace)
}

// WithPredictors is ReplacePredictors returning the concrete type.
func (c *ChainOfThought[In, Out]) WithPredictors(replace map[string]*Predictor) (*ChainOfThought[In, Out], error) {
	if err := checkNames("ChainOfThought", []string{"predict"}, replace); err != nil {
		return nil, err
	}
	p, err := replaceOne("predict", c.predict, replace)
	if err != nil {
		return nil, err
	}
	return &ChainOfThought[In, Out]{predict: p}, nil
}
