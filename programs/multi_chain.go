package programs

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// rationaleField is the output MultiChainComparison prepends to the
// signature of its comparison step: the LM's holistic reasoning over the
// attempts. Its prefix is DSPy's.
var rationaleField = signature.Field{
	Name:   "rationale",
	Prefix: "Accurate Reasoning: Thank you everyone. Let's now holistically",
	Type:   signature.TypeString,
}

// MultiChainComparison is DSPy's MultiChainComparison: it compares M
// reasoning attempts at a task (WithAttempts, default 3) and produces one
// answer from them. Forward makes the attempts itself, with a
// ChainOfThought over the same signature run with M different rollouts;
// Compare takes attempts the caller made.
//
// It holds two predictors: "attempt.predict", the ChainOfThought making the
// attempts, and "predict", the comparison (DSPy's MultiChainComparison holds
// only "predict" and leaves the attempts to the caller). The comparison
// defaults to temperature 0.7, as in DSPy. A MultiChainComparison is
// immutable and safe for concurrent use.
type MultiChainComparison struct {
	sig     signature.Signature
	m       int
	attempt *ChainOfThought[Values, Values]
	predict *Predictor
}

// NewMultiChainComparison returns a MultiChainComparison over sig. Options
// other than WithAttempts configure both predictors.
func NewMultiChainComparison(sig signature.Signature, opts ...Option) (*MultiChainComparison, error) {
	if sig.IsZero() {
		return nil, fmt.Errorf("programs: MultiChainComparison: zero signature")
	}
	cfg, err := splitOptions("MultiChainComparison", moduleConfig{attempts: 3}, opts)
	if err != nil {
		return nil, err
	}
	attempt, err := newChainOfThought[Values, Values](sig, cfg.predict)
	if err != nil {
		return nil, err
	}
	cmp := sig
	for i := range cfg.attempts {
		cmp, err = cmp.Append(signature.Input, signature.Field{
			Name:   fmt.Sprintf("reasoning_attempt_%d", i+1),
			Prefix: fmt.Sprintf("Student Attempt #%d:", i+1),
			Type:   signature.TypeString,
		})
		if err != nil {
			return nil, fmt.Errorf("programs: MultiChainComparison: %w", err)
		}
	}
	if cmp, err = cmp.Prepend(signature.Output, rationaleField); err != nil {
		return nil, fmt.Errorf("programs: MultiChainComparison: %w", err)
	}
	predict, err := NewPredictFrom(cmp, append([]Option{WithTemperature(0.7)}, cfg.predict...)...)
	if err != nil {
		return nil, err
	}
	return &MultiChainComparison{sig: sig, m: cfg.attempts, attempt: attempt, predict: predict}, nil
}

// Forward makes M reasoning attempts on inputs, with rollouts 1 to M, and
// compares them. The prediction holds the rationale and the signature's
// outputs; its usage sums every call.
func (c *MultiChainComparison) Forward(ctx context.Context, inputs Values) (_ Prediction, err error) {
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, c), c.predict.call.model), "MultiChainComparison", c.sig.Name())
	describeCall(span, "MultiChainComparison", c.sig.Name(), nil)
	defer func() { telemetry.End(span, err) }()
	ctx, meter := history.WithMeter(ctx)
	attempts := make([]Values, c.m)
	var usage Prediction
	cached := true
	for i := range c.m {
		pred, err := c.attempt.predict.Call(ctx, inputs, WithRollout(i+1))
		if err != nil {
			return Prediction{}, err
		}
		attempts[i] = pred.Values
		usage.Usage = usage.Usage.Add(pred.Usage)
		cached = cached && pred.Cached
	}
	pred, err := c.Compare(ctx, inputs, attempts)
	if err != nil {
		return Prediction{}, err
	}
	pred.Usage = pred.Usage.Add(usage.Usage)
	pred.Cached = pred.Cached && cached
	pred.LMUsage = meter.ByModel()
	return pred, nil
}

// Compare compares M attempts (output values holding "reasoning", or
// "rationale", and the signature's last output) on inputs.
func (c *MultiChainComparison) Compare(ctx context.Context, inputs Values, attempts []Values) (Prediction, error) {
	if len(attempts) != c.m {
		return Prediction{}, fmt.Errorf("programs: MultiChainComparison: %d attempts, want %d (see WithAttempts)", len(attempts), c.m)
	}
	ctx = enterModule(ctx, c)
	outs := c.sig.Outputs()
	last := outs[len(outs)-1].Name
	in := maps.Clone(inputs)
	for i, a := range attempts {
		reasoning, ok := a[reasoningField.Name]
		if !ok {
			reasoning = a[rationaleField.Name]
		}
		in[fmt.Sprintf("reasoning_attempt_%d", i+1)] = fmt.Sprintf("«Reasoning: %s Prediction: %s»",
			firstLine(text(reasoning)), firstLine(text(a[last])))
	}
	return c.predict.Forward(ctx, in)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// Signature returns the user's signature.
func (c *MultiChainComparison) Signature() signature.Signature { return c.sig }

// NamedPredictors returns "attempt.predict" and "predict".
func (c *MultiChainComparison) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{{Name: "attempt.predict", Predictor: c.attempt.predict}, {Name: "predict", Predictor: c.predict}}
}

// ReplacePredictors returns a copy with the named predictors replaced.
func (c *MultiChainComparison) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	if err := checkNames("MultiChainComparison", []string{"attempt.predict", "predict"}, replace); err != nil {
		return nil, err
	}
	predict, err := replaceOne("predict", c.predict, replace)
	if err != nil {
		return nil, err
	}
	attempt, err := c.attempt.WithPredictors(subReplacements(replace, "attempt"))
	if err != nil {
		return nil, err
	}
	out := *c
	out.predict, out.attempt = predict, attempt
	return &out, nil
}
