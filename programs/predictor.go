package programs

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// Predictor is the basic LM step over map values: DSPy's Predict with a
// signature, demos, an adapter and default sampling settings. It is both the
// dynamic form of Predict (for signatures parsed from strings) and the
// type-erased view of a typed Predict that optimizers walk and replace.
//
// A Predictor is immutable and safe for concurrent use: the With methods
// return a modified copy.
type Predictor struct {
	name    string
	sig     signature.Signature
	demos   []Values
	adapter adapter.Adapter
	call    callConfig
	// dspy is what LoadDSPy read that dspex does not use, for SaveDSPy.
	dspy *dspyKept
	// prompt is what is computed once for sig, demos and adapter; every
	// copy that changes one of them gets a new one.
	prompt *promptCache
}

// NewPredictFrom returns a predictor for sig.
func NewPredictFrom(sig signature.Signature, opts ...Option) (*Predictor, error) {
	if sig.IsZero() {
		return nil, fmt.Errorf("programs: NewPredictFrom: zero signature")
	}
	var cfg predictConfig
	for _, o := range opts {
		if err := o.applyPredict(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.adapter == nil {
		cfg.adapter = adapter.Chat{}
	}
	return &Predictor{name: cfg.name, sig: sig, demos: cfg.demos, adapter: cfg.adapter, call: cfg.call, prompt: newPrompt()}, nil
}

// MustPredictFrom is like NewPredictFrom but panics on error. It is meant for
// package-level declarations with constant arguments.
func MustPredictFrom(sig signature.Signature, opts ...Option) *Predictor {
	p, err := NewPredictFrom(sig, opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Name returns the predictor's name (empty unless set with WithName or by a
// module that holds it).
func (p *Predictor) Name() string { return p.name }

// Signature returns the predictor's signature.
func (p *Predictor) Signature() signature.Signature { return p.sig }

// Instructions returns the instructions of the predictor's signature.
func (p *Predictor) Instructions() string { return p.sig.Instructions() }

// Demos returns a copy of the predictor's demos.
func (p *Predictor) Demos() []Values { return cloneDemos(p.demos) }

// Adapter returns the predictor's adapter.
func (p *Predictor) Adapter() adapter.Adapter { return p.adapter }

// LM returns the language model set with WithLM, or nil when the
// predictor takes its model from the context of each call.
func (p *Predictor) LM() lm.LM { return p.call.model }

// WithSignature returns a copy of p with another signature.
func (p *Predictor) WithSignature(sig signature.Signature) *Predictor {
	c := *p
	c.sig, c.prompt = sig, newPrompt()
	return &c
}

// WithInstructions returns a copy of p whose signature has new instructions.
func (p *Predictor) WithInstructions(instructions string) *Predictor {
	return p.WithSignature(p.sig.WithInstructions(instructions))
}

// WithDemos returns a copy of p with demos replacing its own.
func (p *Predictor) WithDemos(demos []Values) *Predictor {
	c := *p
	c.demos, c.prompt = cloneDemos(demos), newPrompt()
	return &c
}

// WithName returns a copy of p with another name.
func (p *Predictor) WithName(name string) *Predictor {
	c := *p
	c.name = name
	return &c
}

// WithOptions returns a copy of p with further options applied, for example
// a new default temperature or LM.
func (p *Predictor) WithOptions(opts ...Option) (*Predictor, error) {
	cfg := predictConfig{adapter: p.adapter, demos: p.demos, name: p.name, call: p.call}
	for _, o := range opts {
		if err := o.applyPredict(&cfg); err != nil {
			return nil, err
		}
	}
	c := *p
	c.adapter, c.demos, c.name, c.call = cfg.adapter, cfg.demos, cfg.name, cfg.call
	c.prompt = newPrompt()
	return &c, nil
}

// Forward runs the predictor on inputs with its own settings; it makes a
// Predictor a Program. It is Call without options.
func (p *Predictor) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	return p.Call(ctx, inputs)
}

// Call runs the predictor on inputs and returns the parsed outputs. The LM is
// the call's WithLM, else the predictor's, else the one in ctx
// (lm.NewContext); with none, the error is lm.ErrNoLM.
//
// Errors: a missing input, a provider failure (*lm.ProviderError), or a
// reply that does not parse (*adapter.ParseError), each wrapped in an *Error
// naming the predictor.
func (p *Predictor) Call(ctx context.Context, inputs Values, opts ...CallOption) (Prediction, error) {
	return p.run(ctx, inputs, opts, nil)
}

// settings returns the call settings of one call with opts, and the LM it
// goes to.
func (p *Predictor) settings(ctx context.Context, opts []CallOption) (callConfig, lm.LM, error) {
	call := p.call
	if len(opts) > 0 {
		var o callConfig
		for _, opt := range opts {
			if err := opt.applyCall(&o); err != nil {
				return call, nil, err
			}
		}
		call = call.merge(o)
	}
	model := call.model
	if model == nil {
		var ok bool
		if model, ok = lm.FromContext(ctx); !ok {
			return call, nil, p.wrap(lm.ErrNoLM)
		}
	}
	return call, model, nil
}

// run is Call, with the reply streamed to onDelta when it is not nil.
func (p *Predictor) run(ctx context.Context, inputs Values, opts []CallOption, onDelta func(adapter.Delta) bool) (Prediction, error) {
	var pred Prediction
	_, err := p.into(ctx, inputs, opts, onDelta, &pred)
	return pred, err
}

// callState is what a predictor call carries from its start to its end.
type callState struct {
	ctx   context.Context // the call's: predictor name, meter, span
	model lm.LM
	span  trace.Span
	meter *history.Meter // nil when the caller wants no Prediction
}

// into is run returning the output values of every completion and, when
// pred is not nil, writing the prediction into *pred (left alone on
// error).
//
// Its frame is on the caller's stack while the provider answers: it holds
// the adapter's Result and little else, the call's start and end being
// helpers that return before and after the LM call.
func (p *Predictor) into(ctx context.Context, inputs Values, opts []CallOption, onDelta func(adapter.Delta) bool, pred *Prediction) ([]Values, error) {
	var (
		res adapter.Result
		st  callState
	)
	// The base request is built in res.Request, which adapter.CallInto
	// reads before replacing it.
	if err := p.begin(ctx, opts, pred != nil, &st, &res.Request); err != nil {
		return nil, err
	}
	var err error
	if onDelta == nil {
		err = adapter.CallInto(st.ctx, &res, st.model, p.formatter(), &p.sig, p.demos, inputs, &res.Request)
	} else {
		err = p.stream(&st, inputs, &res, onDelta)
	}
	if err = p.finish(&st, inputs, &res, err, pred); err != nil {
		return nil, err
	}
	return res.Outputs, nil
}

// begin starts a call with opts: it picks the LM, sets up the call's
// context and span in st, and writes the base request into base. With
// metered, the call gets its own usage meter, for the prediction's
// LMUsage (without, the meters ctx carries still count its LM calls).
//
//go:noinline
func (p *Predictor) begin(ctx context.Context, opts []CallOption, metered bool, st *callState, base *lm.Request) error {
	call, model, err := p.settings(ctx, opts)
	if err != nil {
		return err
	}
	ctx = withPredictorName(ctx, p)
	if metered {
		ctx, st.meter = history.WithMeter(ctx)
	}
	ctx, span := telemetry.Start(withTelemetry(ctx, model), "Predict", p.displayName())
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrProgramType.String("Predict"), telemetry.AttrProgram.String(p.displayName()),
			telemetry.AttrSignature.String(p.signatureText()))
	}
	st.ctx, st.model, st.span = ctx, model, span
	*base = call.request()
	return nil
}

// stream is the adapter call of a streamed run: res.Request holds the base
// request.
//
//go:noinline
func (p *Predictor) stream(st *callState, inputs Values, res *adapter.Result, onDelta func(adapter.Delta) bool) error {
	var err error
	*res, err = adapter.StreamCall(st.ctx, st.model, p.adapter, p.sig, p.demos, inputs, res.Request, onDelta)
	return err
}

// finish ends the call st with the adapter's outcome: the error wrapped,
// or the call traced and, when pred is not nil, the prediction written
// into *pred.
//
//go:noinline
func (p *Predictor) finish(st *callState, inputs Values, res *adapter.Result, err error, pred *Prediction) error {
	if err != nil {
		err = p.wrap(err)
		telemetry.End(st.span, err)
		return err
	}
	telemetry.End(st.span, nil)
	if pred != nil {
		*pred = Prediction{
			Values:      res.Outputs[0],
			Completions: res.Outputs,
			Usage:       res.Usage,
			Model:       res.Response.Model,
			Cached:      res.Response.Cached,
			LMUsage:     st.meter.ByModel(),
		}
	}
	if t := traceFrom(st.ctx); t != nil {
		t.record(TraceEntry{Predictor: p, Inputs: inputs, Outputs: res.Outputs[0]})
	}
	return nil
}

func (p *Predictor) wrap(err error) error {
	return &Error{Predictor: p.displayName(), Err: err}
}

// displayName is the predictor's name, or its signature's.
func (p *Predictor) displayName() string {
	if p.name != "" {
		return p.name
	}
	return p.sig.Name()
}

// Error is a failed predictor call. It wraps the cause, which errors.Is and
// errors.As reach (lm.ErrNoLM, *lm.ProviderError, *adapter.ParseError...).
type Error struct {
	// Predictor names the predictor that failed.
	Predictor string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return "programs: " + e.Predictor + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
