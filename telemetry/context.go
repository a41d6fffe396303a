package telemetry

import (
	"context"
	"maps"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Source hands out the tracer and meter providers dspex instrumentation
// uses: *Providers, the dspex runtime and the LMs it returns, and an
// evaluate.Evaluator given either. An entry point puts one into the
// context (NewContext, WithDefault); instrumented code below it finds it
// there.
type Source interface {
	TracerProvider() trace.TracerProvider
	MeterProvider() metric.MeterProvider
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries src: dspex instrumentation
// running under it (programs, adapters, evaluations, optimizers) takes its
// tracer and meter providers from src (see TracerProviderFrom). It is how
// a caller turns telemetry on for everything below an entry point:
//
//	ctx = telemetry.NewContext(ctx, providers) // or rt.Context(ctx)
//
// Work handed to other goroutines must run under a context derived from
// this one, so that src travels with it.
func NewContext(ctx context.Context, src Source) context.Context {
	return context.WithValue(ctx, ctxKey{}, src)
}

// WithDefault returns ctx when it already carries a Source that records
// something — the caller's choice wins — and else NewContext(ctx, src).
// When src is nil or records nothing (both of its providers are no-ops) it
// returns ctx itself, without allocating. Entry points call it with the
// providers they were given as arguments: a program with the LM it was
// given (the runtime's LMs are Sources), an evaluation with its runtime or
// LM, an optimizer with its evaluator.
func WithDefault(ctx context.Context, src Source) context.Context {
	if src == nil || !records(src) {
		return ctx
	}
	if cur, ok := FromContext(ctx); ok && records(cur) {
		return ctx
	}
	return NewContext(ctx, src)
}

// FromContext returns the Source NewContext put in ctx, if any.
func FromContext(ctx context.Context) (Source, bool) {
	s, ok := ctx.Value(ctxKey{}).(Source)
	return s, ok && s != nil
}

// records reports whether either of src's providers records anything.
func records(src Source) bool {
	return !isNoopTracer(src.TracerProvider()) || !isNoopMeter(src.MeterProvider())
}

// emptyProvider is the tracer provider of the span of an empty context: the
// trace package's own no-op.
var emptyProvider = trace.SpanFromContext(context.Background()).TracerProvider()

// isNoopTracer reports whether tp records nothing.
func isNoopTracer(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return true
	}
	return tp == emptyProvider
}

func isNoopMeter(mp metric.MeterProvider) bool {
	switch mp.(type) {
	case nil, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return true
	}
	return false
}

// StepSpanner is implemented by a Source that says whether the short
// steps of a call get spans of their own (config.Telemetry.StepSpans):
// *Providers, the dspex runtime and its LMs, an evaluate.Evaluator given
// either. The adapter's format and parse follow the Source in the
// context (none under a Source that does not implement StepSpanner); the
// attempts of an LM call follow the providers of the runtime that makes
// the call.
type StepSpanner interface {
	StepSpans() bool
}

// StepSpans reports whether the Source in ctx asks for step spans (see
// StepSpanner). Without them a step records nothing when it succeeds,
// and StepFailed when it fails.
func StepSpans(ctx context.Context) bool {
	s, ok := FromContext(ctx)
	if !ok {
		return false
	}
	st, ok := s.(StepSpanner)
	return ok && st.StepSpans()
}

// StepFailed records on span, the span of the operation a step belongs
// to, that the step failed with err, when the step has no span of its
// own: an "exception" event (the OpenTelemetry convention for errors:
// exception.type and exception.message) with dspex.step = step,
// error.type (ErrorType) and attrs. It does nothing when span is not
// recording.
func StepFailed(span trace.Span, step string, err error, attrs ...attribute.KeyValue) {
	if err == nil || !span.IsRecording() {
		return
	}
	kvs := make([]attribute.KeyValue, 0, len(attrs)+2)
	kvs = append(kvs, AttrStep.String(step), AttrErrorType.String(ErrorType(err)))
	span.RecordError(err, trace.WithAttributes(append(kvs, attrs...)...))
}

// TracerProviderFrom returns the tracer provider dspex instrumentation uses
// under ctx, and false when tracing is off there. It is the one rule of
// dspex tracing: the provider of the recording span in ctx, so that child
// spans join the caller's trace with the caller's provider; else the
// tracer provider of the Source in ctx (NewContext), unless it is a no-op;
// else none. Nothing is looked up anywhere else.
func TracerProviderFrom(ctx context.Context) (trace.TracerProvider, bool) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		return span.TracerProvider(), true
	}
	if s, ok := FromContext(ctx); ok {
		if tp := s.TracerProvider(); !isNoopTracer(tp) {
			return tp, true
		}
	}
	return nil, false
}

// MeterProviderFrom returns the meter provider of the Source in ctx
// (NewContext), and false when there is none or it is a no-op: metrics
// are off there.
func MeterProviderFrom(ctx context.Context) (metric.MeterProvider, bool) {
	if s, ok := FromContext(ctx); ok {
		if mp := s.MeterProvider(); !isNoopMeter(mp) {
			return mp, true
		}
	}
	return nil, false
}

// offSpan is the span Start returns when tracing is off: it records
// nothing, and ending it does nothing.
var offSpan = trace.SpanFromContext(context.Background())

// Start starts the span of one dspex operation — a program call, an
// adapter's format or parse, an evaluation or one of its examples, a
// compilation or one of its trials — with the dspex tracer of
// TracerProviderFrom(ctx), and returns a context holding it. The span is
// named "<op> <target>", or op alone when target is empty: "Predict qa",
// "format chat", "compile GEPA", "trial".
//
// When tracing is off under ctx, Start returns ctx itself and a span that
// records nothing, without building the name or allocating: callers guard
// the building of attributes with span.IsRecording(). End the span with
// End either way.
func Start(ctx context.Context, op, target string) (context.Context, trace.Span) {
	tp, ok := TracerProviderFrom(ctx)
	if !ok {
		return ctx, offSpan
	}
	return tracerOf(tp).Start(ctx, spanName(op, target))
}

// spanKey is an op and target of Start.
type spanKey struct{ op, target string }

// maxSpanNames bounds spanNames: programs, adapters and optimizers have
// few names, but a caller may build targets without end.
const maxSpanNames = 256

// spanNames holds the span names Start has built, so that the spans of
// every call of a program do not build the same string again: read
// without a lock, replaced by a copy with one more name.
var spanNames atomic.Pointer[map[spanKey]string]

// spanName returns "<op> <target>", or op when target is empty.
func spanName(op, target string) string {
	if target == "" {
		return op
	}
	k := spanKey{op, target}
	cur := spanNames.Load()
	if name, ok := mapOf(cur)[k]; ok {
		return name
	}
	name := op + " " + target
	for {
		names := mapOf(cur)
		if len(names) >= maxSpanNames {
			return name
		}
		next := make(map[spanKey]string, len(names)+1)
		maps.Copy(next, names)
		next[k] = name
		if spanNames.CompareAndSwap(cur, &next) {
			return name
		}
		cur = spanNames.Load()
		if n, ok := mapOf(cur)[k]; ok {
			return n
		}
	}
}

// mapOf returns *m, or nil.
func mapOf(m *map[spanKey]string) map[spanKey]string {
	if m == nil {
		return nil
	}
	return *m
}

// sdkTracer is the dspex tracer of one SDK tracer provider.
type sdkTracer struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// lastTracer is the dspex tracer of the SDK tracer provider Start used
// last: the SDK's Tracer takes the provider's lock at every call, which
// every span of every concurrent call would wait on. It keeps that one
// provider reachable until another replaces it.
var lastTracer atomic.Pointer[sdkTracer]

// tracerOf returns the dspex tracer of tp.
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	sdk, ok := tp.(*sdktrace.TracerProvider)
	if !ok {
		return tp.Tracer(InstrumentationName)
	}
	if c := lastTracer.Load(); c != nil && c.tp == sdk {
		return c.tracer
	}
	t := sdk.Tracer(InstrumentationName)
	lastTracer.Store(&sdkTracer{tp: sdk, tracer: t})
	return t
}

// End ends span; when err is not nil it first marks the span failed, with
// error.type (ErrorType) and err's message as its status.
func End(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.SetAttributes(AttrErrorType.String(ErrorType(err)))
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
