package programs

import (
	"context"
	"fmt"

	"github.com/dspex-go/dspex/signature"
)

// Predict is the typed LM step: it maps an In struct to an Out struct through
// the signature read from their field tags (see signature.Of). A field that
// does not exist is a compile error in the caller's code, not a runtime
// surprise.
//
// Predict is immutable and safe for concurrent use. Its type-erased view,
// Predictor, is what optimizers walk; WithPredictor returns a typed copy
// built from an optimized view.
type Predict[In, Out any] struct {
	p *Predictor
}

// NewPredict returns a typed Predict whose signature comes from the struct
// tags of In and Out. The struct types are read once and cached.
func NewPredict[In, Out any](opts ...Option) (*Predict[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	p, err := NewPredictFrom(sig, opts...)
	if err != nil {
		return nil, err
	}
	return &Predict[In, Out]{p: p}, nil
}

// MustPredict is like NewPredict but panics on error.
func MustPredict[In, Out any](opts ...Option) *Predict[In, Out] {
	p, err := NewPredict[In, Out](opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Call runs the predictor on in and returns the typed output of the first
// completion.
func (p *Predict[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Out, error) {
	// Encoding and decoding are helpers, out of this frame, which is on
	// the stack while the provider answers.
	values, err := encodeInput(p.p, in)
	if err == nil {
		var completions []Values
		if completions, err = p.p.into(ctx, values, opts, nil, nil); err == nil {
			var outs []Out
			if outs, err = decodeCompletions[Out](p.p, completions); err == nil {
				return outs[0], nil
			}
		}
	}
	var zero Out
	return zero, err
}

// Completions runs the predictor on in and returns every completion (use
// WithN to ask for several) together with the untyped prediction, which
// carries token usage.
func (p *Predict[In, Out]) Completions(ctx context.Context, in In, opts ...CallOption) ([]Out, Prediction, error) {
	values, err := encodeInput(p.p, in)
	if err != nil {
		return nil, Prediction{}, err
	}
	var pred Prediction
	if _, err := p.p.into(ctx, values, opts, nil, &pred); err != nil {
		return nil, Prediction{}, err
	}
	outs, err := decodeCompletions[Out](p.p, pred.Completions)
	if err != nil {
		return nil, Prediction{}, err
	}
	return outs, pred, nil
}

// encodeInput is signature.Encode, its error naming p.
//
//go:noinline
func encodeInput[In any](p *Predictor, in In) (Values, error) {
	values, err := signature.Encode(in)
	if err != nil {
		return nil, p.wrap(err)
	}
	return values, nil
}

// decodeCompletions decodes every completion into an Out, its error naming
// p.
//
//go:noinline
func decodeCompletions[Out any](p *Predictor, completions []Values) ([]Out, error) {
	outs := make([]Out, len(completions))
	for i, c := range completions {
		var err error
		if outs[i], err = signature.Decode[Out](c); err != nil {
			return nil, p.wrap(fmt.Errorf("completion %d: %w", i, err))
		}
	}
	return outs, nil
}

// Forward runs the predictor on map inputs; it makes Predict a Program.
func (p *Predict[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	return p.p.Forward(ctx, inputs)
}

// Signature returns the signature read from In and Out.
func (p *Predict[In, Out]) Signature() signature.Signature { return p.p.Signature() }

// Predictor returns the type-erased view of p.
func (p *Predict[In, Out]) Predictor() *Predictor { return p.p }

// WithPredictor returns a typed copy of p backed by q, usually an optimized
// version of p.Predictor(). It fails if q's signature does not have the same
// fields as p's (instructions, descriptions and prefixes may differ).
func (p *Predict[In, Out]) WithPredictor(q *Predictor) (*Predict[In, Out], error) {
	if err := sameShape(p.p.Signature(), q.Signature()); err != nil {
		return nil, err
	}
	return &Predict[In, Out]{p: q}, nil
}

// WithDemos returns a copy of p with typed demos replacing its own.
func (p *Predict[In, Out]) WithDemos(demos ...Demo[In, Out]) (*Predict[In, Out], error) {
	vs := make([]Values, len(demos))
	for i, d := range demos {
		v, err := d.values()
		if err != nil {
			return nil, fmt.Errorf("programs: demo %d: %w", i, err)
		}
		vs[i] = v
	}
	return &Predict[In, Out]{p: p.p.WithDemos(vs)}, nil
}

// Demo is a typed demonstration: an input and the output the LM should give.
type Demo[In, Out any] struct {
	In  In
	Out Out
}

func (d Demo[In, Out]) values() (Values, error) {
	in, err := signature.Encode(d.In)
	if err != nil {
		return nil, err
	}
	out, err := signature.Encode(d.Out)
	if err != nil {
		return nil, err
	}
	for k, v := range out {
		in[k] = v
	}
	return in, nil
}

// sameShape reports an error unless a and b have the same field names, roles
// and types in the same order.
func sameShape(a, b signature.Signature) error {
	for _, role := range []signature.Role{signature.Input, signature.Output} {
		fa, fb := a.Fields(role), b.Fields(role)
		if len(fa) != len(fb) {
			return fmt.Errorf("programs: signature shape mismatch: %d %s fields, want %d", len(fb), role, len(fa))
		}
		for i := range fa {
			if fa[i].Name != fb[i].Name || !fa[i].Type.Equal(fb[i].Type) {
				return fmt.Errorf("programs: signature shape mismatch: %s field %d is %s %s, want %s %s",
					role, i, fb[i].Name, fb[i].Type, fa[i].Name, fa[i].Type)
			}
		}
	}
	return nil
}
