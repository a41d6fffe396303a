package actors

import (
	"context"
	"errors"
	"fmt"
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
	return newTestTelemetryOf(tb, config.Telemetry{SampleRatio: 1}, opts...)
}

// newTestTelemetryOf is newTestTelemetry with providers set up for cfg.
func newTestTelemetryOf(tb testing.TB, cfg config.Telemetry, opts ...telemetry.Option) *clientTelemetry {
	tb.Helper()
	p, err := telemetry.Setup(context.Background(), cfg, opts...)
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

// stepSpans is the telemetry config that gives attempts spans of their
// own.
var stepSpans = config.Telemetry{SampleRatio: 1, StepSpans: true}

// TestLMCallSpans pins the spans of LM calls measured one after the
// other, with step spans: the call span under the caller's (local) span,
// dated from reception, the attempt under it, and each call's attributes
// its own (the call spans' attribute buffers are reused).
func TestLMCallSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel := newTestTelemetryOf(t, stepSpans, telemetry.WithSpanProcessor(rec))
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

// TestLMCallRetries pins the attempts past the prebuilt ones, with step
// spans: numbered and named in order, each under the call span.
func TestLMCallRetries(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel := newTestTelemetryOf(t, stepSpans, telemetry.WithSpanProcessor(rec))
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

// TestLMCallAttemptsWithoutStepSpans pins how attempts are recorded by
// default, without spans of their own: a call answered at once is its
// span alone, with no event; a failed attempt is an "exception" event of
// the call's span naming the step, its number, error type and HTTP
// status; a breaker rejection and a rate limiter's wait are events of the
// call's span; a call that took several attempts says how many.
func TestLMCallAttemptsWithoutStepSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tel := newTestTelemetry(t, telemetry.WithSpanProcessor(rec))
	ok := lm.Response{Model: "m1", Choices: []lm.Choice{{FinishReason: "stop"}}}
	limited := &lm.ProviderError{Provider: "sim", Status: http.StatusTooManyRequests, Err: lm.ErrRateLimited}
	open := fmt.Errorf("actors: %w", lm.ErrCircuitOpen)

	type event struct {
		Name  string
		Attrs map[attribute.Key]string
	}
	type attempt struct {
		err  error
		sent bool
		wait time.Duration
	}
	for _, tc := range []struct {
		name     string
		attempts []attempt
		events   []event
		retries  int64 // dspex.retry.attempts; 0: absent
	}{
		{name: "first attempt answers", attempts: []attempt{{sent: true}}},
		{
			name:     "retried after a 429",
			attempts: []attempt{{err: limited, sent: true}, {sent: true, wait: 2 * time.Second}},
			events: []event{
				{"exception", map[attribute.Key]string{"dspex.step": "attempt", "dspex.retry.attempt": "1",
					"error.type": "429", "http.response.status_code": "429", "exception.type": "*lm.ProviderError",
					"exception.message": limited.Error()}},
				{"dspex.rate_limit.wait", map[attribute.Key]string{"dspex.rate_limit.wait": "2"}},
			},
			retries: 2,
		},
		{
			name:     "breaker open",
			attempts: []attempt{{err: open}},
			events: []event{
				{"dspex.breaker.rejected", map[attribute.Key]string{}},
				{"exception", map[attribute.Key]string{"dspex.step": "attempt", "dspex.retry.attempt": "1",
					"error.type": "circuit_open", "exception.type": "*fmt.wrapError", "exception.message": open.Error()}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			call := tel.startCall(callerSpan(), lm.Request{Model: "m1"}, time.Time{})
			var last error
			for _, a := range tc.attempts {
				_, at := call.startAttempt(call.context(context.Background()))
				at.rateLimited(a.wait, nil)
				at.end(a.err, a.sent)
				last = a.err
			}
			if last != nil {
				call.end(lm.Response{}, last)
			} else {
				call.end(ok, nil)
			}
			spans := rec.Ended()
			if len(spans) != 1 || spans[0].Name() != "chat m1" {
				t.Fatalf("spans %v, want the call's alone", spans)
			}
			chat := spans[0]
			var got []event
			for _, e := range chat.Events() {
				ev := event{Name: e.Name, Attrs: map[attribute.Key]string{}}
				for _, kv := range e.Attributes {
					ev.Attrs[kv.Key] = kv.Value.Emit()
				}
				got = append(got, ev)
			}
			if diff := cmp.Diff(tc.events, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if n := attrsOf(chat)[telemetry.AttrRetryAttempts].AsInt64(); n != tc.retries {
				t.Errorf("dspex.retry.attempts = %d, want %d", n, tc.retries)
			}
		})
	}
}

// BenchmarkLMCallTelemetry measures the telemetry of one LM call answered
// at the first attempt, with the SDK recording into exporters that
// discard: "dspex" through lmCall (the call's span alone), "steps" with
// step spans (an attempt span under it), and "sdk" the call's span,
// attributes and measurements made directly on the SDK with prebuilt
// attributes, the floor "dspex" can reach. 64 goroutines run at once.
//
//	go test -run '^$' -bench LMCallTelemetry -benchmem ./actors/
func BenchmarkLMCallTelemetry(b *testing.B) {
	resp := lm.Response{ID: "r1", Model: "m1", Usage: lm.Usage{PromptTokens: 120, CompletionTokens: 12},
		Choices: []lm.Choice{{FinishReason: "stop"}}}
	setupOf := func(b *testing.B, cfg config.Telemetry) *clientTelemetry {
		return newTestTelemetryOf(b, cfg, telemetry.WithSpanExporter(benchkit.DiscardSpans{}),
			telemetry.WithMetricReader(sdkmetric.NewPeriodicReader(benchkit.DiscardMetrics{}, sdkmetric.WithInterval(time.Second))))
	}
	setup := func(b *testing.B) *clientTelemetry { return setupOf(b, config.Telemetry{SampleRatio: 1}) }
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
	for _, mode := range []struct {
		name string
		cfg  config.Telemetry
	}{{"dspex", config.Telemetry{SampleRatio: 1}}, {"steps", stepSpans}} {
		b.Run(mode.name, func(b *testing.B) {
			tel := setupOf(b, mode.cfg)
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
	}
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
		bg := context.Background()
		run(b, func() {
			start := time.Now()
			_, span := ins.tracer.Start(parent, a.spanName, kind, trace.WithTimestamp(start))
			ins.misses.Add(bg, 1, a.plain...)
			ins.inFlight.Add(bg, 1, a.plain...)
			ins.attempts.Add(bg, 1, a.success...)
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
