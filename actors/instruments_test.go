package actors

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/internal/benchkit"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/telemetry"
)

// newTestTelemetry returns a client's telemetry over providers set up
// with opts, shut down when the test ends.
func newTestTelemetry(tb testing.TB, opts ...telemetry.Option) *clientTelemetry {
	tb.Helper()
	p, err := telemetry.Setup(context.Background(), config.Telemetry{SampleRatio: 1}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	ins, err := newInstruments(p)
	if err != nil {
		tb.Fatal(err)
	}
	t := &clientTelemetry{ins: new(atomicInstruments), provider: "sim", model: "m1",
		provCfg: config.Provider{Name: "sim", BaseURL: "http://127.0.0.1:8080/v1"}}
	t.ins.Store(ins)
	return t
}

// callerSpan returns the span context of a caller's span, as a client
// actor receives it.
func callerSpan() trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
	})
}

func attrsOf(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestLMCallSpans pins the spans of LM calls measured one after the
// other: the call span under the caller's (local) span, dated from
// reception, the attempt under it, and each call's attributes its own
// (the call spans' attribute buffers are reused).
func TestLMCallSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel := newTestTelemetry(t, telemetry.WithSpanProcessor(rec))
	parent := callerSpan()
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	temp := 0.5
	ok := lm.Response{ID: "r1", Model: "m1-2026", Usage: lm.Usage{PromptTokens: 10, CompletionTokens: 3},
		Choices: []lm.Choice{{FinishReason: "stop"}}}
	failure := &lm.ProviderError{Provider: "sim", Status: http.StatusTooManyRequests, Err: lm.ErrRateLimited}

	for _, tc := range []struct {
		name string
		resp lm.Response
		err  error
	}{
		{"success", ok, nil},
		{"failure", lm.Response{}, failure},
		{"success again", ok, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			call := tel.startCall(parent, lm.Request{Model: "m1", Temperature: &temp}, received)
			call.lookedUp(false)
			_, at := call.startAttempt(call.context(context.Background()))
			at.end(tc.err, true)
			call.end(tc.resp, tc.err)

			spans := rec.Ended()
			if len(spans) != 2 {
				t.Fatalf("%d spans, want 2", len(spans))
			}
			attempt, chat := spans[0], spans[1]
			if chat.Name() != "chat m1" || attempt.Name() != "attempt 1" {
				t.Errorf("span names %q, %q", chat.Name(), attempt.Name())
			}
			if !chat.Parent().Equal(parent) || chat.Parent().IsRemote() {
				t.Errorf("call span's parent %v, want the caller's %v, local", chat.Parent(), parent)
			}
			if chat.SpanContext().TraceID() != parent.TraceID() {
				t.Error("call span left the caller's trace")
			}
			if attempt.Parent().SpanID() != chat.SpanContext().SpanID() {
				t.Errorf("attempt span's parent %v, want the call span", attempt.Parent())
			}
			if chat.SpanKind() != trace.SpanKindClient || attempt.SpanKind() != trace.SpanKindClient {
				t.Errorf("span kinds %v, %v", chat.SpanKind(), attempt.SpanKind())
			}
			if !chat.StartTime().Equal(received) {
				t.Errorf("call span starts at %v, want %v", chat.StartTime(), received)
			}
			a := attrsOf(chat)
			if got := a[telemetry.AttrGenAIRequestTemperature].AsFloat64(); got != temp {
				t.Errorf("temperature %v", got)
			}
			if got := attrsOf(attempt)[telemetry.AttrRetryAttempt].AsInt64(); got != 1 {
				t.Errorf("attempt number %v", got)
			}
			_, hasModel := a[telemetry.AttrGenAIResponseModel]
			errType := a[telemetry.AttrErrorType].AsString()
			if tc.err == nil {
				if !hasModel || errType != "" || chat.Status().Code != codes.Unset {
					t.Errorf("success: response model %v, error.type %q, status %v", hasModel, errType, chat.Status())
				}
			} else if hasModel || errType != "429" || chat.Status().Code != codes.Error {
				t.Errorf("failure: response model %v, error.type %q, status %v", hasModel, errType, chat.Status())
			}
		})
	}
}

// TestLMCallRetries pins the attempts past the prebuilt ones: numbered
// and named in order, each under the call span.
func TestLMCallRetries(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel := newTestTelemetry(t, telemetry.WithSpanProcessor(rec))
	call := tel.startCall(trace.SpanContext{}, lm.Request{Model: "m1"}, time.Time{})
	const n = len(attemptNames) + 2
	for i := 1; i <= n; i++ {
		_, at := call.startAttempt(call.context(context.Background()))
		var err error
		if i < n {
			err = errors.New("boom")
		}
		at.end(err, true)
	}
	call.end(lm.Response{Choices: []lm.Choice{{FinishReason: "stop"}}}, nil)
	spans := rec.Ended()
	if len(spans) != n+1 {
		t.Fatalf("%d spans, want %d", len(spans), n+1)
	}
	chat := spans[n]
	if chat.Name() != "chat m1" || chat.Parent().IsValid() {
		t.Errorf("call span %q under %v, want a root", chat.Name(), chat.Parent())
	}
	for i, s := range spans[:n] {
		want := "attempt " + strconv.Itoa(i+1)
		if s.Name() != want || attrsOf(s)[telemetry.AttrRetryAttempt].AsInt64() != int64(i+1) {
			t.Errorf("attempt %d: %q, %v", i+1, s.Name(), attrsOf(s)[telemetry.AttrRetryAttempt])
		}
		if s.Parent().SpanID() != chat.SpanContext().SpanID() {
			t.Errorf("attempt %d is not under the call span", i+1)
		}
	}
}

// BenchmarkLMCallTelemetry measures the telemetry of one LM call answered
// at the first attempt, with the SDK recording into exporters that
// discard: "dspex" through lmCall, and "sdk" the same spans, attributes
// and measurements made directly on the SDK with prebuilt attributes, the
// floor lmCall can reach. 64 goroutines run at once.
//
//	go test -run '^$' -bench LMCallTelemetry -benchmem ./actors/
func BenchmarkLMCallTelemetry(b *testing.B) {
	resp := lm.Response{ID: "r1", Model: "m1", Usage: lm.Usage{PromptTokens: 120, CompletionTokens: 12},
		Choices: []lm.Choice{{FinishReason: "stop"}}}
	setup := func(b *testing.B) *clientTelemetry {
		return newTestTelemetry(b, telemetry.WithSpanExporter(benchkit.DiscardSpans{}),
			telemetry.WithMetricReader(sdkmetric.NewPeriodicReader(benchkit.DiscardMetrics{}, sdkmetric.WithInterval(time.Second))))
	}
	run := func(b *testing.B, one func()) {
		b.ReportAllocs()
		b.SetParallelism(32)
		cpu := benchkit.CPUTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one()
			}
		})
		if cpu := benchkit.CPUTime() - cpu; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
		}
	}
	b.Run("dspex", func(b *testing.B) {
		tel := setup(b)
		parent := callerSpan()
		req := lm.Request{Model: "m1"}
		run(b, func() {
			call := tel.startCall(parent, req, time.Now())
			call.lookedUp(false)
			ctx := call.context(context.Background())
			call.inFlight(1)
			_, at := call.startAttempt(ctx)
			at.end(nil, true)
			call.inFlight(-1)
			call.end(resp, nil)
		})
	})
	b.Run("sdk", func(b *testing.B) {
		tel := setup(b)
		ins := tel.ins.Load()
		a := tel.attrsFor("m1")
		parent := trace.ContextWithSpanContext(context.Background(), callerSpan())
		kind := trace.WithSpanKind(trace.SpanKindClient)
		spanAttrs := append(append([]attribute.KeyValue(nil), a.span...),
			telemetry.AttrCacheHit.Bool(false),
			telemetry.AttrGenAIResponseModel.String(resp.Model),
			finishStop,
			telemetry.AttrGenAIUsageInputTokens.Int(resp.Usage.PromptTokens),
			telemetry.AttrGenAIUsageOutputTokens.Int(resp.Usage.CompletionTokens),
			telemetry.AttrGenAIResponseID.String(resp.ID))
		attemptAttrs := []attribute.KeyValue{telemetry.AttrRetryAttempt.Int(1)}
		bg := context.Background()
		run(b, func() {
			start := time.Now()
			ctx, span := ins.tracer.Start(parent, a.spanName, kind, trace.WithTimestamp(start))
			ins.misses.Add(bg, 1, a.plain...)
			ins.inFlight.Add(bg, 1, a.plain...)
			_, as := ins.tracer.Start(ctx, "attempt 1", kind)
			ins.attempts.Add(bg, 1, a.success...)
			as.SetAttributes(attemptAttrs...)
			as.End()
			ins.inFlight.Add(bg, -1, a.plain...)
			ins.requests.Add(bg, 1, a.success...)
			ins.duration.Record(bg, time.Since(start).Seconds(), a.durSuccess...)
			ins.tokens.Record(bg, int64(resp.Usage.PromptTokens), a.tokensIn...)
			ins.tokens.Record(bg, int64(resp.Usage.CompletionTokens), a.tokensOut...)
			span.SetAttributes(spanAttrs...)
			span.End()
		})
	})
}

// TestLMCallFailureMetrics pins the attribute sets of failed calls and
// attempts, built once per error type: each error type its own data
// point, next to the successes'.
func TestLMCallFailureMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	tel := newTestTelemetry(t, telemetry.WithMetricReader(reader))
	status := func(code int) error {
		return &lm.ProviderError{Provider: "sim", Status: code, Err: errors.New("failed")}
	}
	for _, err := range []error{status(500), status(429), nil, status(500), context.DeadlineExceeded, status(500)} {
		call := tel.startCall(trace.SpanContext{}, lm.Request{Model: "m1"}, time.Time{})
		_, at := call.startAttempt(context.Background())
		at.end(err, true)
		resp := lm.Response{Choices: []lm.Choice{{FinishReason: "stop"}}}
		if err != nil {
			resp = lm.Response{}
		}
		call.end(resp, err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			point := func(set attribute.Set, v int64) {
				outcome, _ := set.Value(telemetry.AttrOutcome)
				errType, _ := set.Value(telemetry.AttrErrorType)
				model, _ := set.Value(telemetry.AttrGenAIRequestModel)
				got[m.Name+" "+model.AsString()+" "+outcome.AsString()+" "+errType.AsString()] += v
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == telemetry.MetricRequests || m.Name == telemetry.MetricAttempts {
					for _, dp := range d.DataPoints {
						point(dp.Attributes, dp.Value)
					}
				}
			case metricdata.Histogram[float64]:
				if m.Name == telemetry.MetricOperationDuration {
					for _, dp := range d.DataPoints {
						point(dp.Attributes, int64(dp.Count))
					}
				}
			}
		}
	}
	want := map[string]int64{}
	for _, name := range []string{telemetry.MetricRequests, telemetry.MetricAttempts, telemetry.MetricOperationDuration} {
		want[name+" m1 success "] = 1
		want[name+" m1 error 500"] = 3
		want[name+" m1 error 429"] = 1
		want[name+" m1 error timeout"] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data points (-want +got):\n%s", diff)
	}
}
