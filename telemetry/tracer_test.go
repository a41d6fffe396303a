package telemetry

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestStartUsesEachProvidersTracer: Start reuses the tracer of the SDK
// provider it used last, yet spans started under two providers in turn
// each go to their own provider, under the dspex instrumentation scope.
func TestStartUsesEachProvidersTracer(t *testing.T) {
	recA, recB := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
	ctxA := NewContext(context.Background(), source{sdkProvider(t, sdktrace.WithSpanProcessor(recA)), nil})
	ctxB := NewContext(context.Background(), source{sdkProvider(t, sdktrace.WithSpanProcessor(recB)), nil})
	for range 3 {
		_, span := Start(ctxA, "op", "a")
		End(span, nil)
		_, span = Start(ctxA, "op", "a")
		End(span, nil)
		_, span = Start(ctxB, "op", "b")
		End(span, nil)
	}
	for name, c := range map[string]struct {
		rec  *tracetest.SpanRecorder
		want int
		span string
	}{"A": {recA, 6, "op a"}, "B": {recB, 3, "op b"}} {
		spans := c.rec.Ended()
		if len(spans) != c.want {
			t.Errorf("provider %s recorded %d spans, want %d", name, len(spans), c.want)
		}
		for _, s := range spans {
			if s.Name() != c.span || s.InstrumentationScope().Name != InstrumentationName {
				t.Errorf("provider %s recorded %q in scope %q", name, s.Name(), s.InstrumentationScope().Name)
			}
		}
	}
}
