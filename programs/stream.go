package programs

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/telemetry"
)

// FieldChunk is a piece of an output field's text, streamed as the LM
// writes it.
type FieldChunk struct {
	// Predictor names the predictor whose reply it is ("predict" for a
	// Predict or ChainOfThought; "react" or "extract" inside ReAct).
	Predictor string `json:"predictor"`
	// Field is the output field.
	Field string `json:"field"`
	// Text continues the field's text. A field's chunks concatenate to
	// the text its value was parsed from.
	Text string `json:"text"`
}

// ToolStatus reports a tool call of a ReAct agent.
type ToolStatus struct {
	// Tool names the tool.
	Tool string `json:"tool"`
	// Args holds the arguments the agent passed.
	Args map[string]any `json:"args,omitempty"`
	// Returned is false when the tool is called and true when it has
	// returned Observation.
	Returned bool `json:"returned"`
	// Observation is what the tool returned (or its failure), once
	// Returned.
	Observation string `json:"observation,omitempty"`
}

// StreamEvent is one event of a streamed program call: a field chunk, a
// tool status, or, last, the outcome. Exactly one of Chunk, Status and
// Output is set.
type StreamEvent[Out any] struct {
	// Chunk is a piece of an output field.
	Chunk *FieldChunk `json:"chunk,omitempty"`
	// Status reports a tool call (ReAct only).
	Status *ToolStatus `json:"status,omitempty"`
	// Output is the typed output of the call, parsed and coerced exactly
	// as the blocking call does; it comes with Prediction in the last
	// event.
	Output *Out `json:"-"`
	// Prediction is the untyped prediction (values, usage), in the last
	// event.
	Prediction *Prediction `json:"prediction,omitempty"`
}

// StreamProgram is a Program whose calls can stream. Predict,
// ChainOfThought and ReAct implement it.
type StreamProgram interface {
	Program
	// StreamForward is Forward streamed: field chunks (and tool
	// statuses) as they come, then the prediction, as in the last event
	// of a StreamEvent sequence. An error ends the sequence.
	StreamForward(ctx context.Context, inputs Values) iter.Seq2[StreamEvent[Values], error]
}

var (
	_ StreamProgram = (*Predictor)(nil)
	_ StreamProgram = (*Predict[Values, Values])(nil)
	_ StreamProgram = (*ChainOfThought[Values, Values])(nil)
	_ StreamProgram = (*ReAct[Values, Values])(nil)
)

// emitter sends the events of one streamed call to its consumer and
// remembers when the consumer stopped listening.
type emitter[Out any] struct {
	yield   func(StreamEvent[Out], error) bool
	stopped bool
}

func (e *emitter[Out]) send(ev StreamEvent[Out]) bool {
	if e.stopped {
		return false
	}
	if !e.yield(ev, nil) {
		e.stopped = true
	}
	return !e.stopped
}

// chunks returns the delta callback of a predictor named name.
func (e *emitter[Out]) chunks(name string) func(adapter.Delta) bool {
	return func(d adapter.Delta) bool {
		return e.send(StreamEvent[Out]{Chunk: &FieldChunk{Predictor: name, Field: d.Field, Text: d.Text}})
	}
}

// fail yields err unless the consumer stopped listening (then the error
// is the consequence of that).
func (e *emitter[Out]) fail(err error) {
	if !e.stopped && !errors.Is(err, adapter.ErrStreamStopped) {
		e.yield(StreamEvent[Out]{}, err)
	}
}

// finish sends the last event.
func (e *emitter[Out]) finish(out Out, pred Prediction) {
	e.send(StreamEvent[Out]{Output: &out, Prediction: &pred})
}

// Stream runs the predictor on inputs with the reply streamed: a chunk
// for each piece of an output field as the LM writes it, then the
// prediction, exactly as Call returns it. A model that cannot stream, or
// a reply that needs the JSON fallback, gives the prediction at the end
// only. Breaking out of the loop or cancelling ctx stops the LM call.
func (p *Predictor) Stream(ctx context.Context, inputs Values, opts ...CallOption) iter.Seq2[StreamEvent[Values], error] {
	return func(yield func(StreamEvent[Values], error) bool) {
		e := &emitter[Values]{yield: yield}
		pred, err := p.run(ctx, inputs, opts, e.chunks(p.streamName()))
		if err != nil {
			e.fail(err)
			return
		}
		e.finish(pred.Values, pred)
	}
}

// StreamForward is Stream without options; it makes a Predictor a
// StreamProgram.
func (p *Predictor) StreamForward(ctx context.Context, inputs Values) iter.Seq2[StreamEvent[Values], error] {
	return p.Stream(ctx, inputs)
}

// streamName names the predictor in chunks: its name, or "predict".
func (p *Predictor) streamName() string {
	if p.name != "" {
		return p.name
	}
	return "predict"
}

// Stream runs the predictor on in with the reply streamed (see
// Predictor.Stream); the last event holds the typed output of the first
// completion.
func (p *Predict[In, Out]) Stream(ctx context.Context, in In, opts ...CallOption) iter.Seq2[StreamEvent[Out], error] {
	return func(yield func(StreamEvent[Out], error) bool) {
		e := &emitter[Out]{yield: yield}
		values, err := encodeValues(in)
		if err != nil {
			e.fail(p.p.wrap(err))
			return
		}
		pred, err := p.p.run(ctx, values, opts, e.chunks(p.p.streamName()))
		if err != nil {
			e.fail(err)
			return
		}
		out, err := decodeValues[Out](pred.Values)
		if err != nil {
			e.fail(p.p.wrap(err))
			return
		}
		e.finish(out, pred)
	}
}

// StreamForward streams the predictor on map inputs; it makes Predict a
// StreamProgram.
func (p *Predict[In, Out]) StreamForward(ctx context.Context, inputs Values) iter.Seq2[StreamEvent[Values], error] {
	return p.p.Stream(ctx, inputs)
}

// Stream runs the chain of thought on in with the reply streamed: the
// reasoning's chunks, then the outputs' chunks, then the typed output with
// its reasoning, exactly as Call returns it.
func (c *ChainOfThought[In, Out]) Stream(ctx context.Context, in In, opts ...CallOption) iter.Seq2[StreamEvent[Reasoned[Out]], error] {
	return func(yield func(StreamEvent[Reasoned[Out]], error) bool) {
		e := &emitter[Reasoned[Out]]{yield: yield}
		values, err := encodeValues(in)
		if err != nil {
			e.fail(c.predict.wrap(err))
			return
		}
		ctx, span := telemetry.Start(withTelemetry(ctx, c.predict.call.model), "ChainOfThought", c.predict.displayName())
		describeCall(span, "ChainOfThought", c.predict.displayName(), nil)
		pred, err := c.predict.run(ctx, values, opts, e.chunks(c.predict.streamName()))
		telemetry.End(span, err)
		if err != nil {
			e.fail(err)
			return
		}
		r, _ := pred.Values[reasoningField.Name].(string)
		rest := maps.Clone(pred.Values)
		var out Reasoned[Out]
		if _, isValues := any(out.Out).(Values); !isValues {
			delete(rest, reasoningField.Name)
		}
		o, err := decodeValues[Out](rest)
		if err != nil {
			e.fail(c.predict.wrap(fmt.Errorf("completion 0: %w", err)))
			return
		}
		e.finish(Reasoned[Out]{Reasoning: r, Out: o}, pred)
	}
}

// StreamForward streams the chain of thought on map inputs; the
// prediction holds the reasoning and the outputs. It makes ChainOfThought
// a StreamProgram.
func (c *ChainOfThought[In, Out]) StreamForward(ctx context.Context, inputs Values) iter.Seq2[StreamEvent[Values], error] {
	return func(yield func(StreamEvent[Values], error) bool) {
		e := &emitter[Values]{yield: yield}
		ctx, span := telemetry.Start(withTelemetry(ctx, c.predict.call.model), "ChainOfThought", c.predict.displayName())
		describeCall(span, "ChainOfThought", c.predict.displayName(), nil)
		pred, err := c.predict.run(ctx, inputs, nil, e.chunks(c.predict.streamName()))
		telemetry.End(span, err)
		if err != nil {
			e.fail(err)
			return
		}
		e.finish(pred.Values, pred)
	}
}

// Stream runs the agent on in with its steps streamed: the chunks of each
// step's thought and tool choice (predictor "react"), a status when a tool
// is called and when it returns, the chunks of the final extraction
// (predictor "extract"), then the typed output, exactly as Call returns
// it; the prediction's values hold the trajectory.
func (r *ReAct[In, Out]) Stream(ctx context.Context, in In, opts ...CallOption) iter.Seq2[StreamEvent[Out], error] {
	return func(yield func(StreamEvent[Out], error) bool) {
		e := &emitter[Out]{yield: yield}
		values, err := encodeValues(in)
		if err != nil {
			e.fail(r.react.wrap(err))
			return
		}
		ctx, span := telemetry.Start(withTelemetry(ctx, r.react.call.model), "ReAct", r.sig.Name())
		describeCall(span, "ReAct", r.sig.Name(), nil)
		pred, _, err := r.runStreamed(ctx, values, opts, reactHooks{
			react:   e.chunks("react"),
			extract: e.chunks("extract"),
			status:  func(s ToolStatus) bool { return e.send(StreamEvent[Out]{Status: &s}) },
		})
		telemetry.End(span, err)
		if err != nil {
			e.fail(err)
			return
		}
		out, err := decodeValues[Out](pred.Values)
		if err != nil {
			e.fail(r.extract.predict.wrap(err))
			return
		}
		e.finish(out, pred)
	}
}

// StreamForward streams the agent on map inputs (see Stream); it makes
// ReAct a StreamProgram.
func (r *ReAct[In, Out]) StreamForward(ctx context.Context, inputs Values) iter.Seq2[StreamEvent[Values], error] {
	return func(yield func(StreamEvent[Values], error) bool) {
		e := &emitter[Values]{yield: yield}
		ctx, span := telemetry.Start(withTelemetry(ctx, r.react.call.model), "ReAct", r.sig.Name())
		describeCall(span, "ReAct", r.sig.Name(), nil)
		pred, _, err := r.runStreamed(ctx, inputs, nil, reactHooks{
			react:   e.chunks("react"),
			extract: e.chunks("extract"),
			status:  func(s ToolStatus) bool { return e.send(StreamEvent[Values]{Status: &s}) },
		})
		telemetry.End(span, err)
		if err != nil {
			e.fail(err)
			return
		}
		e.finish(pred.Values, pred)
	}
}

// reactHooks receive the events of a streamed ReAct run; each returns
// false when the consumer stopped listening.
type reactHooks struct {
	react, extract func(adapter.Delta) bool
	status         func(ToolStatus) bool
}
