package programs

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// withTelemetry is the entry rule of program calls: when ctx carries no
// telemetry providers (telemetry.NewContext), a call whose LM hands some
// out — model, the LM the program was given with WithLM, else the LM in
// ctx (lm.NewContext); the dspex runtime's LMs do — puts that LM's into
// ctx, so that a program called on a runtime LM traces with the runtime's
// providers without the caller saying more. Inner calls then find them in
// ctx. Nothing else is looked up: a module whose LM is not given to it
// directly (BestOfN, Refine without WithLM) traces only under a context
// that carries providers.
func withTelemetry(ctx context.Context, model lm.LM) context.Context {
	if model == nil {
		model, _ = lm.FromContext(ctx)
	}
	if src, ok := model.(telemetry.Source); ok {
		return telemetry.WithDefault(ctx, src)
	}
	return ctx
}

// describeCall sets the attributes of a program call's span (a telemetry.Start
// span named "<typ> <name>"): the program's type and name, and sig when
// not nil. It does nothing when the span does not record.
func describeCall(span trace.Span, typ, name string, sig *signature.Signature) {
	if !span.IsRecording() {
		return
	}
	if sig != nil {
		span.SetAttributes(telemetry.AttrProgramType.String(typ), telemetry.AttrProgram.String(name),
			telemetry.AttrSignature.String(sig.String()))
		return
	}
	span.SetAttributes(telemetry.AttrProgramType.String(typ), telemetry.AttrProgram.String(name))
}

// runTraced runs run on inputs inside the span of a program call of type
// typ named name, taking telemetry from ctx or model (withTelemetry). It is
// the Forward of the agent-like modules (ReAct, CodeAct, ProgramOfThought,
// RLM), whose run also returns what they did (T). The module m names its
// predictors for the history (enterModule).
func runTraced[T any](ctx context.Context, m Module, model lm.LM, typ, name string, inputs Values, opts []CallOption,
	run func(context.Context, Values, []CallOption) (Prediction, T, error)) (Prediction, T, error) {
	ctx, span := telemetry.Start(withTelemetry(enterModule(ctx, m), model), typ, name)
	describeCall(span, typ, name, nil)
	pred, done, err := run(ctx, inputs, opts)
	telemetry.End(span, err)
	return pred, done, err
}

// callTraced is the typed Call of those modules: it encodes in (an error
// wrapped by wrapIn), runs it with runTraced and decodes the outputs into
// Out (an error wrapped by wrapOut).
func callTraced[In, Out, T any](ctx context.Context, m Module, in In, opts []CallOption, model lm.LM, typ, name string,
	wrapIn, wrapOut func(error) error, run func(context.Context, Values, []CallOption) (Prediction, T, error)) (Out, T, error) {
	var zero Out
	values, err := encodeValues(in)
	if err != nil {
		var none T
		return zero, none, wrapIn(err)
	}
	pred, done, err := runTraced(ctx, m, model, typ, name, values, opts, run)
	if err != nil {
		return zero, done, err
	}
	out, err := decodeValues[Out](pred.Values)
	if err != nil {
		return zero, done, wrapOut(err)
	}
	return out, done, nil
}
