package adapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// ErrStreamStopped means the consumer of a stream stopped listening
// (onDelta returned false) before the reply was complete.
var ErrStreamStopped = errors.New("adapter: stream stopped by its consumer")

// StreamCall is Call with the reply streamed: it streams the request from
// model (see lm.StreamChat; a model that cannot stream answers in one
// piece), hands each output field's text to onDelta as a's incremental
// parser (NewFieldStream) finds it, and once the reply is complete parses
// it with a.Parse exactly as Call does, JSON fallback included (the
// fallback is not streamed). onDelta runs on the caller's goroutine;
// returning false stops the stream with ErrStreamStopped.
//
// A request for several choices (base.N > 1) is not streamed: it is Call.
// Errors are Call's.
func StreamCall(ctx context.Context, model lm.LM, a Adapter, sig signature.Signature, demos []Values, inputs Values,
	base lm.Request, onDelta func(Delta) bool) (Result, error) {
	if model == nil {
		return Result{}, lm.ErrNoLM
	}
	if sig.IsZero() {
		return Result{}, errZeroSignature
	}
	if a == nil {
		a = Chat{}
	}
	if base.N > 1 {
		return Call(ctx, model, a, sig, demos, inputs, base)
	}
	if err := checkInputs(sig, inputs); err != nil {
		return Result{}, err
	}
	req, err := a.Format(sig, demos, inputs)
	if err != nil {
		return Result{}, err
	}
	applyCallSettings(&req, &base)
	res := Result{Request: req}

	fs := NewFieldStream(a, sig)
	emit := func(ds []Delta) bool {
		for _, d := range ds {
			if !onDelta(d) {
				return false
			}
		}
		return true
	}
	var acc lm.Accumulator
	for c, err := range lm.StreamChat(ctx, model, req) {
		if err != nil {
			return res, fmt.Errorf("adapter: LM call: %w", err)
		}
		acc.Add(c)
		if fs != nil && c.Delta != "" && !emit(fs.Write(c.Delta)) {
			return res, ErrStreamStopped
		}
	}
	if fs != nil && !emit(fs.Close()) {
		return res, ErrStreamStopped
	}
	resp := acc.Response()
	res.Response, res.Usage = resp, resp.Usage
	outs, err := parseChoices(a, sig, resp.Choices)
	if err == nil {
		res.Outputs = outs
		return res, nil
	}
	err = jsonFallback(ctx, &res, model, a, &sig, demos, inputs, &base, err)
	return res, err
}
