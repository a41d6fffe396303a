package telemetry

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// source is a Source over fixed providers.
type source struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

func (s source) TracerProvider() trace.TracerProvider { return s.tp }
func (s source) MeterProvider() metric.MeterProvider  { return s.mp }

func sdkProvider(t *testing.T, opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	t.Helper()
	tp := sdktrace.NewTracerProvider(opts...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

func TestTracerProviderFromRule(t *testing.T) {
	spanTP, ctxTP := sdkProvider(t), sdkProvider(t)
	never := sdkProvider(t, sdktrace.WithSampler(sdktrace.NeverSample()))
	bg := context.Background()
	recording, span := spanTP.Tracer("t").Start(bg, "parent")
	defer span.End()
	sampledOut, span2 := never.Tracer("t").Start(bg, "dropped")
	defer span2.End()
	remote := trace.ContextWithRemoteSpanContext(bg, span.SpanContext())
	src := source{ctxTP, metricnoop.NewMeterProvider()}
	noopSrc := source{tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()}

	for _, c := range []struct {
		name string
		ctx  context.Context
		want trace.TracerProvider // nil: off
	}{
		{"nothing", bg, nil},
		{"context source", NewContext(bg, src), ctxTP},
		{"no-op context source", NewContext(bg, noopSrc), nil},
		{"nil context source", NewContext(bg, nil), nil},
		{"not a source", context.WithValue(bg, ctxKey{}, "not a source"), nil},
		{"recording span alone", recording, spanTP},
		{"recording span before context source", NewContext(recording, src), spanTP},
		{"sampled-out span alone", sampledOut, nil},
		{"sampled-out span, context source", NewContext(sampledOut, src), ctxTP},
		{"remote parent alone", remote, nil},
		{"remote parent, context source", NewContext(remote, src), ctxTP},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp, ok := TracerProviderFrom(c.ctx)
			if ok != (c.want != nil) || ok && tp != c.want {
				t.Errorf("TracerProviderFrom = %v, %v; want %v", tp, ok, c.want)
			}
		})
	}
}

func TestMeterProviderFromRule(t *testing.T) {
	a := sdkmetric.NewMeterProvider()
	bg := context.Background()
	tp := sdkProvider(t)
	recording, span := tp.Tracer("t").Start(bg, "parent")
	defer span.End()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want metric.MeterProvider
	}{
		{"nothing", bg, nil},
		{"context source", NewContext(bg, source{nil, a}), a},
		{"no-op context source", NewContext(bg, source{nil, metricnoop.NewMeterProvider()}), nil},
		{"a recording span is no meter", recording, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			mp, ok := MeterProviderFrom(c.ctx)
			if ok != (c.want != nil) || ok && mp != c.want {
				t.Errorf("MeterProviderFrom = %v, %v; want %v", mp, ok, c.want)
			}
		})
	}
}

func TestWithDefault(t *testing.T) {
	callerTP, entryTP := sdkProvider(t), sdkProvider(t)
	mp := sdkmetric.NewMeterProvider()
	caller := source{callerTP, metricnoop.NewMeterProvider()}
	entry := source{entryTP, metricnoop.NewMeterProvider()}
	metersOnly := source{tracenoop.NewTracerProvider(), mp}
	off := source{tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()}
	bg := context.Background()
	withCaller := NewContext(bg, caller)
	withOff := NewContext(bg, off)

	for _, c := range []struct {
		name      string
		ctx       context.Context
		src       Source
		want      Source // the Source in the result; nil: none
		unchanged bool   // the result is ctx itself
	}{
		{"empty context takes src", bg, entry, entry, false},
		{"the caller's source wins", withCaller, entry, caller, true},
		{"a source that records nothing is replaced", withOff, entry, entry, false},
		{"a meters-only source counts", bg, metersOnly, metersOnly, false},
		{"nil src", bg, nil, nil, true},
		{"src recording nothing", bg, off, nil, true},
		{"src recording nothing keeps the caller's", withCaller, off, caller, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := WithDefault(c.ctx, c.src)
			if (got == c.ctx) != c.unchanged {
				t.Errorf("context unchanged = %v, want %v", got == c.ctx, c.unchanged)
			}
			s, ok := FromContext(got)
			if ok != (c.want != nil) || ok && s != c.want {
				t.Errorf("source = %v, %v; want %v", s, ok, c.want)
			}
		})
	}
}

func TestWithDefaultKeepsCostsNothing(t *testing.T) {
	ctx := NewContext(context.Background(), source{sdkProvider(t), metricnoop.NewMeterProvider()})
	var entry, off Source = source{sdkProvider(t), metricnoop.NewMeterProvider()},
		source{tracenoop.NewTracerProvider(), metricnoop.NewMeterProvider()}
	allocs := testing.AllocsPerRun(1000, func() {
		if WithDefault(ctx, entry) != ctx || WithDefault(context.Background(), off) != context.Background() {
			t.Fatal("WithDefault replaced the caller's source or put a silent one")
		}
	})
	if allocs != 0 {
		t.Errorf("WithDefault that keeps the context allocates %v times", allocs)
	}
}

func TestStartOffCostsNothing(t *testing.T) {
	ctx := context.WithValue(context.Background(), ctxKey{}, "not a source")
	allocs := testing.AllocsPerRun(1000, func() {
		got, span := Start(ctx, "op", "target")
		if got != ctx || span.IsRecording() {
			t.Fatal("Start with tracing off changed the context or recorded")
		}
		End(span, context.Canceled)
	})
	if allocs != 0 {
		t.Errorf("Start with tracing off allocates %v times", allocs)
	}
}

func TestSpanName(t *testing.T) {
	spanNames.Store(nil)
	t.Cleanup(func() { spanNames.Store(nil) })
	for _, tc := range []struct{ op, target, want string }{
		{"evaluate", "", "evaluate"},
		{"Predict", "qa", "Predict qa"},
		{"format", "chat", "format chat"},
		{"Predict", "qa", "Predict qa"}, // from the cache
		{"Predict", "qa.predict", "Predict qa.predict"},
		{"", "x", " x"},
	} {
		if got := spanName(tc.op, tc.target); got != tc.want {
			t.Errorf("spanName(%q, %q) = %q, want %q", tc.op, tc.target, got, tc.want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { spanName("Predict", "qa") }); allocs != 0 {
		t.Errorf("a cached span name allocates %v times", allocs)
	}
}

func TestSpanNamesAreBounded(t *testing.T) {
	spanNames.Store(nil)
	t.Cleanup(func() { spanNames.Store(nil) })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2 * maxSpanNames {
				target := strconv.Itoa(i % (maxSpanNames + 50))
				if got, want := spanName("op", target), "op "+target; got != want {
					t.Errorf("goroutine %d: spanName(op, %q) = %q, want %q", g, target, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(*spanNames.Load()); n != maxSpanNames {
		t.Errorf("%d span names kept, want the bound %d", n, maxSpanNames)
	}
}

func TestStartJoinsTheTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdkProvider(t, sdktrace.WithSpanProcessor(rec))
	ctx, parent := Start(NewContext(context.Background(), source{tp, nil}), "evaluate", "")
	_, child := Start(ctx, "Predict", "qa")
	End(child, context.DeadlineExceeded)
	End(parent, nil)
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	c, p := spans[0], spans[1]
	if c.Name() != "Predict qa" || p.Name() != "evaluate" {
		t.Errorf("span names %q, %q; want %q, %q", c.Name(), p.Name(), "Predict qa", "evaluate")
	}
	if c.Parent().SpanID() != p.SpanContext().SpanID() || c.SpanContext().TraceID() != p.SpanContext().TraceID() {
		t.Errorf("child %v is not under parent %v", c.Parent(), p.SpanContext())
	}
	if c.Status().Description == "" || c.Status().Code.String() != "Error" {
		t.Errorf("failed span status = %+v", c.Status())
	}
	var errType string
	for _, kv := range c.Attributes() {
		if kv.Key == AttrErrorType {
			errType = kv.Value.AsString()
		}
	}
	if errType != "timeout" {
		t.Errorf("error.type = %q, want timeout", errType)
	}
	if p.Status().Code.String() != "Unset" {
		t.Errorf("successful span status = %+v", p.Status())
	}
}

func TestProvidersAreSources(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	p, err := Setup(context.Background(), defaultCfg(), WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if !p.Enabled() || p.MetricsEnabled() {
		t.Fatalf("Enabled %v, MetricsEnabled %v", p.Enabled(), p.MetricsEnabled())
	}
	ctx := NewContext(context.Background(), p)
	_, span := Start(ctx, "op", "")
	span.End()
	// A span processor sees spans synchronously: no flush needed.
	if n := len(rec.Ended()); n != 1 {
		t.Errorf("%d spans recorded", n)
	}
	if _, ok := MeterProviderFrom(ctx); ok {
		t.Error("metrics on without a reader")
	}
}

// stepSource is a Source that answers StepSpans.
type stepSource struct {
	source
	steps bool
}

func (s stepSource) StepSpans() bool { return s.steps }

func TestStepSpans(t *testing.T) {
	bg := context.Background()
	plain := source{tp: sdkProvider(t), mp: metricnoop.NewMeterProvider()}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no source", bg, false},
		{"a source that does not say", NewContext(bg, plain), false},
		{"a source that asks for them", NewContext(bg, stepSource{plain, true}), true},
		{"a source that does not ask", NewContext(bg, stepSource{plain, false}), false},
	} {
		if got := StepSpans(tc.ctx); got != tc.want {
			t.Errorf("%s: StepSpans = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStepFailed(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdkProvider(t, sdktrace.WithSpanProcessor(rec))
	_, span := tp.Tracer("t").Start(context.Background(), "Predict qa")
	StepFailed(span, StepParse, nil)                         // no failure: nothing
	StepFailed(offSpan, StepParse, context.DeadlineExceeded) // not recording: nothing
	StepFailed(span, StepParse, context.DeadlineExceeded, AttrAdapter.String("chat"))
	span.End()
	evs := rec.Ended()[0].Events()
	if len(evs) != 1 || evs[0].Name != "exception" {
		t.Fatalf("events %v, want one exception", evs)
	}
	got := map[string]string{}
	for _, kv := range evs[0].Attributes {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	want := map[string]string{"dspex.step": "parse", "error.type": ErrorType(context.DeadlineExceeded),
		"dspex.adapter": "chat", "exception.type": "context.deadlineExceededError",
		"exception.message": context.DeadlineExceeded.Error()}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
