package programs_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// sourceLM is a fake LM that hands out telemetry providers, as the dspex
// runtime's LMs do: a tracer provider whose spans go to rec.
type sourceLM struct {
	*recordingLM
	tp  *sdktrace.TracerProvider
	rec *tracetest.SpanRecorder
}

func (m sourceLM) TracerProvider() trace.TracerProvider { return m.tp }
func (m sourceLM) MeterProvider() metric.MeterProvider  { return metricnoop.NewMeterProvider() }

// StepSpans asks for step spans, as a runtime configured with them does:
// the adapter's format and parse spans then show which provider records
// the spans below a program's.
func (m sourceLM) StepSpans() bool { return true }

func newSourceLM(t *testing.T) sourceLM {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	fake := &recordingLM{f: func(lm.Request) (string, error) { return chatReply("reasoning", "r", "answer", "a"), nil }}
	return sourceLM{recordingLM: fake, tp: tp, rec: rec}
}

// spanShape renders the spans rec ended as trees of names, roots in start
// order, e.g. "Predict qa(format chat, parse chat)".
func spanShape(rec *tracetest.SpanRecorder) string {
	spans := rec.Ended()
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if p := s.Parent(); p.IsValid() && ids[p.SpanID()] {
			children[p.SpanID()] = append(children[p.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var shape func(s sdktrace.ReadOnlySpan) string
	shape = func(s sdktrace.ReadOnlySpan) string {
		kids := children[s.SpanContext().SpanID()]
		if len(kids) == 0 {
			return s.Name()
		}
		parts := make([]string, len(kids))
		for i, k := range kids {
			parts[i] = shape(k)
		}
		return s.Name() + "(" + strings.Join(parts, ", ") + ")"
	}
	// Spans end children first: order siblings and roots by start time.
	byStart := func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) }
	slices.SortStableFunc(roots, byStart)
	for _, kids := range children {
		slices.SortStableFunc(kids, byStart)
	}
	parts := make([]string, len(roots))
	for i, r := range roots {
		parts[i] = shape(r)
	}
	return strings.Join(parts, "; ")
}

// TestTelemetryEntryRule checks where program calls take their telemetry
// providers from: the context, else — at the entry of a call that was given
// its LM — that LM, and nothing else.
func TestTelemetryEntryRule(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	in := programs.Values{"question": "q"}
	reward := func(context.Context, programs.Values, programs.Prediction) (float64, error) { return 1, nil }
	const predict = "Predict qa(format chat, parse chat)"

	for _, c := range []struct {
		name string
		// run calls a program on model under ctx, with caller as the
		// providers the caller put in ctx (zero: none).
		run        func(ctx context.Context, model sourceLM) error
		caller     bool
		wantModel  string // what model's provider recorded
		wantCaller string // what the caller's provider recorded
	}{
		{"Predict on its own LM", func(ctx context.Context, m sourceLM) error {
			_, err := programs.MustPredictFrom(sig, programs.WithLM(m), programs.WithName("qa")).Forward(ctx, in)
			return err
		}, false, predict, ""},
		{"Predict on the LM in ctx", func(ctx context.Context, m sourceLM) error {
			_, err := programs.MustPredictFrom(sig, programs.WithName("qa")).Forward(lm.NewContext(ctx, m), in)
			return err
		}, false, predict, ""},
		{"Predict on a call's LM", func(ctx context.Context, m sourceLM) error {
			_, err := programs.MustPredictFrom(sig, programs.WithName("qa")).Call(ctx, in, programs.WithLM(m))
			return err
		}, false, predict, ""},
		{"the caller's providers win", func(ctx context.Context, m sourceLM) error {
			_, err := programs.MustPredictFrom(sig, programs.WithLM(m), programs.WithName("qa")).Forward(ctx, in)
			return err
		}, true, "", predict},
		{"ChainOfThought on its own LM", func(ctx context.Context, m sourceLM) error {
			cot, err := programs.NewChainOfThoughtFrom(sig, programs.WithLM(m), programs.WithName("qa"))
			if err != nil {
				return err
			}
			_, err = cot.Forward(ctx, in)
			return err
		}, false, "ChainOfThought qa(" + predict + ")", ""},
		{"BestOfN is not given an LM", func(ctx context.Context, m sourceLM) error {
			best, err := programs.NewBestOfN(programs.MustPredictFrom(sig, programs.WithLM(m), programs.WithName("qa")), 1, reward, 1)
			if err != nil {
				return err
			}
			_, err = best.Forward(ctx, in)
			return err
		}, false, predict, ""},
		{"BestOfN under the caller's providers", func(ctx context.Context, m sourceLM) error {
			best, err := programs.NewBestOfN(programs.MustPredictFrom(sig, programs.WithLM(m), programs.WithName("qa")), 1, reward, 1)
			if err != nil {
				return err
			}
			_, err = best.Forward(ctx, in)
			return err
		}, true, "", "BestOfN(" + predict + ")"},
	} {
		t.Run(c.name, func(t *testing.T) {
			model, caller := newSourceLM(t), newSourceLM(t)
			ctx := context.Background()
			if c.caller {
				ctx = telemetry.NewContext(ctx, caller)
			}
			if err := c.run(ctx, model); err != nil {
				t.Fatal(err)
			}
			if got := spanShape(model.rec); got != c.wantModel {
				t.Errorf("the LM's provider recorded %q, want %q", got, c.wantModel)
			}
			if got := spanShape(caller.rec); got != c.wantCaller {
				t.Errorf("the caller's provider recorded %q, want %q", got, c.wantCaller)
			}
		})
	}
}

// TestTelemetryJoinsTheCallersTrace calls a predictor under the caller's
// recording span: the program's spans join that trace, with the caller's
// provider, whatever its LM hands out.
func TestTelemetryJoinsTheCallersTrace(t *testing.T) {
	model, caller := newSourceLM(t), newSourceLM(t)
	ctx, parent := caller.tp.Tracer("test").Start(context.Background(), "request")
	qa := programs.MustPredictFrom(signature.MustParse("question -> answer"), programs.WithLM(model), programs.WithName("qa"))
	if _, err := qa.Forward(ctx, programs.Values{"question": "q"}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if got, want := spanShape(caller.rec), "request(Predict qa(format chat, parse chat))"; got != want {
		t.Errorf("the caller's provider recorded %q, want %q", got, want)
	}
	if got := spanShape(model.rec); got != "" {
		t.Errorf("the LM's provider recorded %q", got)
	}
}

// BenchmarkPredictTelemetry measures a Predict call on a fake LM with
// telemetry off (an LM that hands out no providers) and on (an LM that
// hands out an SDK tracer provider, spans discarded).
func BenchmarkPredictTelemetry(b *testing.B) {
	sig := signature.MustParse("question -> answer")
	fake := &recordingLM{f: func(lm.Request) (string, error) { return chatReply("answer", "a"), nil }}
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	for _, c := range []struct {
		name  string
		model lm.LM
	}{
		{"off", fake},
		{"on", sourceLM{recordingLM: fake, tp: tp}},
	} {
		qa := programs.MustPredictFrom(sig, programs.WithLM(c.model), programs.WithName("qa"))
		in := programs.Values{"question": "q"}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fake.mu.Lock()
				fake.reqs = fake.reqs[:0]
				fake.mu.Unlock()
				if _, err := qa.Forward(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
