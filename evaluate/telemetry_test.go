package evaluate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
)

// providers is a telemetry.Source recording spans and metrics in memory.
type providers struct {
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	rec    *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func (p *providers) TracerProvider() trace.TracerProvider { return p.tp }
func (p *providers) MeterProvider() metric.MeterProvider  { return p.mp }

func newProviders(t *testing.T) *providers {
	t.Helper()
	p := &providers{rec: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	p.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p.rec))
	p.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(p.reader))
	t.Cleanup(func() {
		_ = p.tp.Shutdown(context.Background())
		_ = p.mp.Shutdown(context.Background())
	})
	return p
}

// summary describes what p recorded: each trace as "root: n children,
// each with m children" and the examples counted by the metric.
func (p *providers) summary(t *testing.T) string {
	t.Helper()
	spans := p.rec.Ended()
	byParent := map[trace.SpanID][]string{}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().IsValid() {
			byParent[s.Parent().SpanID()] = append(byParent[s.Parent().SpanID()], s.Name())
		} else {
			roots = append(roots, s)
		}
	}
	var parts []string
	for _, r := range roots {
		kids := byParent[r.SpanContext().SpanID()]
		grandkids := 0
		for _, s := range spans {
			if s.Parent().SpanID() == r.SpanContext().SpanID() {
				grandkids += len(byParent[s.SpanContext().SpanID()])
			}
		}
		parts = append(parts, fmt.Sprintf("%s: %d %s, %d below", r.Name(), len(kids), strings.Join(unique(kids), "/"), grandkids))
	}
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != telemetry.MetricEvalExamples {
				continue
			}
			var n int64
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				n += dp.Value
			}
			parts = append(parts, fmt.Sprintf("%d examples counted", n))
		}
	}
	return strings.Join(parts, "; ")
}

func unique(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// sourceLM is an LM that hands out telemetry providers, as the dspex
// runtime's LMs do; it is never called here.
type sourceLM struct{ *providers }

func (sourceLM) Chat(context.Context, lm.Request) (lm.Response, error) {
	return lm.Response{}, lm.ErrNoLM
}

// sourceRuntime is a WithRuntime runtime that hands out providers.
type sourceRuntime struct {
	sysHolder
	*providers
}

// spanning is a program that opens a "program" span under its context, as
// any dspex program does: it finds providers only in ctx.
var spanning = programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
	_, span := telemetry.Start(ctx, "program", "")
	defer telemetry.End(span, nil)
	return echo(ctx, in)
})

// TestRunTelemetryEntry checks where a run takes its providers from — the
// context, else its LM or runtime — and that the examples, run by evaluator
// actors on their own goroutines, find them in their context.
func TestRunTelemetryEntry(t *testing.T) {
	const n = 5
	const recorded = "evaluate: 5 example, 5 below; 5 examples counted"
	for _, c := range []struct {
		name                 string
		caller, model, rtSrc bool
		want                 [3]string // what the caller's, the LM's and the runtime's providers recorded
	}{
		{"nothing", false, false, false, [3]string{}},
		{"the evaluator's LM", false, true, false, [3]string{"", recorded, ""}},
		{"the evaluator's runtime", false, false, true, [3]string{"", "", recorded}},
		{"the LM before the runtime", false, true, true, [3]string{"", recorded, ""}},
		{"the caller's context wins", true, true, true, [3]string{recorded, "", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			caller, model, rtp := newProviders(t), newProviders(t), newProviders(t)
			ctx := context.Background()
			if c.caller {
				ctx = telemetry.NewContext(ctx, caller)
			}
			opts := []Option{WithConcurrency(3)}
			if c.model {
				opts = append(opts, WithLM(sourceLM{model}))
			}
			if c.rtSrc {
				sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
					return slog.New(slog.DiscardHandler)
				}))
				defer sys.Shutdown()
				opts = append(opts, WithRuntime(sourceRuntime{sysHolder{sys}, rtp}))
			}
			res, err := mustNew(t, ExactMatch("answer"), opts...).Run(ctx, spanning, qa(n))
			if err != nil || res.Scored != n {
				t.Fatalf("run: %v, %s", err, res.Summary())
			}
			for i, p := range []*providers{caller, model, rtp} {
				if got := p.summary(t); got != c.want[i] {
					t.Errorf("providers %d recorded %q, want %q", i, got, c.want[i])
				}
			}
		})
	}
}

// TestRunMetricAttributes pins the attribute sets of the evaluation
// metrics: the examples counted and timed by description and status, the
// scores by description alone.
func TestRunMetricAttributes(t *testing.T) {
	p := newProviders(t)
	failing := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		if in["question"] == "q1" || in["question"] == "q3" {
			return programs.Prediction{}, errors.New("boom")
		}
		return echo(ctx, in)
	})
	ctx := telemetry.NewContext(context.Background(), p)
	res, err := mustNew(t, ExactMatch("answer"), WithDescription("dev"), WithConcurrency(2)).Run(ctx, failing, qa(5))
	if err != nil || res.Scored != 3 || res.Failed != 2 {
		t.Fatalf("run: %v, %s", err, res.Summary())
	}
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	add := func(name string, set attribute.Set, v any) {
		var kvs []string
		for _, kv := range set.ToSlice() {
			kvs = append(kvs, string(kv.Key)+"="+kv.Value.Emit())
		}
		got[name+"{"+strings.Join(kvs, ",")+"}"] = fmt.Sprint(v)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					add(m.Name, dp.Attributes, dp.Value)
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					add(m.Name, dp.Attributes, dp.Count)
				}
			}
		}
	}
	want := map[string]string{
		telemetry.MetricEvalExamples + "{dspex.evaluate.description=dev,dspex.example.status=scored}":        "3",
		telemetry.MetricEvalExamples + "{dspex.evaluate.description=dev,dspex.example.status=failed}":        "2",
		telemetry.MetricEvalExampleDuration + "{dspex.evaluate.description=dev,dspex.example.status=scored}": "3",
		telemetry.MetricEvalExampleDuration + "{dspex.evaluate.description=dev,dspex.example.status=failed}": "2",
		telemetry.MetricEvalScore + "{dspex.evaluate.description=dev}":                                       "3",
		telemetry.MetricEvalRunScore + "{dspex.evaluate.description=dev}":                                    "1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metric data points (-want +got):\n%s", diff)
	}
}
