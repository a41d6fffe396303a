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
