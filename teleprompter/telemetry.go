package teleprompter

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/telemetry"
)

// startCompile starts the span of one compilation by the optimizer kind:
// "compile <kind>". A compilation is an entry point: unless ctx already
// carries telemetry providers, it puts those of ev (its evaluator's LM or
// runtime, see evaluate.WithRuntime; ev may be nil) into the returned
// context, so that its trials, evaluations and program calls record with
// them. The span records nothing when tracing is off.
func startCompile(ctx context.Context, kind string, ev *evaluate.Evaluator) (context.Context, trace.Span) {
	if ev != nil {
		ctx = telemetry.WithDefault(ctx, ev)
	}
	ctx, span := telemetry.Start(ctx, "compile", kind)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrOptimizer.String(kind))
	}
	return ctx, span
}

// endCompile ends a compilation's span with its outcome.
func endCompile(span trace.Span, c *Compiled, err error) {
	if err == nil && c != nil && span.IsRecording() {
		if s := c.Report().Score; s != nil {
			span.SetAttributes(telemetry.AttrScore.Float64(*s))
		}
	}
	telemetry.End(span, err)
}

// evaluatorFor returns the evaluator the optimizer's evaluation options
// describe, for startCompile; nil when they are invalid (the compilation
// reports that error itself).
func evaluatorFor(metric evaluate.Metric, opts []evaluate.Option) *evaluate.Evaluator {
	ev, err := evaluate.New(metric, opts...)
	if err != nil {
		return nil
	}
	return ev
}

// startTrial starts the span of one optimisation trial n (a candidate's
// seed, a bootstrapping round) under the compilation's span in ctx.
func startTrial(ctx context.Context, n int) (context.Context, trace.Span) {
	ctx, span := telemetry.Start(ctx, "trial", "")
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrTrial.Int(n))
	}
	return ctx, span
}

// endTrial ends a trial's span with the candidate's label and score.
func endTrial(span trace.Span, label string, res evaluate.Result, err error) {
	if span.IsRecording() {
		if label != "" {
			span.SetAttributes(telemetry.AttrCandidate.String(label))
		}
		if err == nil {
			span.SetAttributes(telemetry.AttrScore.Float64(res.Score), telemetry.AttrFailedCount.Int(res.Failed))
		}
	}
	telemetry.End(span, err)
}
