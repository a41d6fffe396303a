package test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/telemetry"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestTelemetryEvaluationTrace evaluates a program on the runtime, with
// step spans: one trace holds the evaluation, one child span per example,
// and under each the program's, adapter's and client actor's spans down
// to the HTTP attempt. The evaluation metrics count the examples and
// their scores.
func TestTelemetryEvaluationTrace(t *testing.T) {
	srv := rtSim(t)
	rt, rec, reader := telRuntime(t, telStepSpans(srv))
	devset := evQA(6)
	srv.FailNext(1, 500) // one example needs a retry
	res, err := evaluate.Run(rtCtx(t), programs.MustPredictFrom(evSig(t, "question -> answer")), devset,
		evaluate.ExactMatch("answer"), evaluate.WithRuntime(rt), evaluate.WithLM(rt.LM("sim")),
		evaluate.WithConcurrency(3), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored != len(devset) {
		t.Fatalf("result: %s", res.Summary())
	}
	spans := rec.Ended()
	trees := telTrees(spans)
	if len(trees) != 1 {
		t.Fatalf("%d root spans, want 1: %v", len(trees), spanNames(spans))
	}
	root := trees[0]
	if root.span.Name() != "evaluate" {
		t.Fatalf("root span %q", root.span.Name())
	}
	if v, _ := telAttr(root.span, telemetry.AttrScore); math.Abs(v.AsFloat64()-res.Score) > 1e-9 {
		t.Errorf("evaluation score attribute %v, result %v", v.AsFloat64(), res.Score)
	}
	if len(root.children) != len(devset) {
		t.Fatalf("%d example spans, want %d: %s", len(root.children), len(devset), root.shape())
	}
	var indices []int64
	attempts := 0
	for _, ex := range root.children {
		if ex.span.Name() != "example" {
			t.Errorf("child %q", ex.span.Name())
			continue
		}
		v, _ := telAttr(ex.span, telemetry.AttrExampleIndex)
		indices = append(indices, v.AsInt64())
		predict := ex.child(t, "Predict")
		predict.child(t, "parse ") // the evaluator passes the runtime's step spans on
		chat := predict.child(t, "chat ")
		attempts += len(chat.children)
	}
	slices.Sort(indices)
	if want := []int64{0, 1, 2, 3, 4, 5}; !slices.Equal(indices, want) {
		t.Errorf("example indices %v", indices)
	}
	if want := int(srv.Stats().Requests); attempts != want {
		t.Errorf("%d attempt spans under the examples, server saw %d requests", attempts, want)
	}
	for _, s := range spans {
		if s.SpanContext().TraceID() != root.span.SpanContext().TraceID() {
			t.Errorf("span %s is in another trace", s.Name())
		}
	}

	rm := telCollect(t, reader)
	if got := telSum(t, rm, telemetry.MetricEvalExamples, telemetry.AttrExampleStatus.String("scored")); got != int64(len(devset)) {
		t.Errorf("scored examples metric = %d", got)
	}
	n, sum := telHist[float64](t, rm, telemetry.MetricEvalScore)
	var want float64
	for _, row := range res.Rows {
		want += row.Score
	}
	if n != uint64(len(devset)) || math.Abs(sum-want) > 1e-9 {
		t.Errorf("score histogram: %d scores summing to %v, want %d summing to %v", n, sum, len(devset), want)
	}
	if n, _ := telHist[float64](t, rm, telemetry.MetricEvalRunScore); n != 1 {
		t.Errorf("%d run scores recorded", n)
	}
}

// TestTelemetryOptimizerTrials compiles with random search: one trace
// holds the compilation, a span per trial (candidate) with its score, the
// bootstrapping compilations and every evaluation inside them. The
// providers reach the compilation at its entry, either from the caller's
// context (rt.Context) or from the runtime given to its evaluations
// (evaluate.WithRuntime); nothing is found through the student's LM.
func TestTelemetryOptimizerTrials(t *testing.T) {
	for _, c := range []struct {
		name  string
		entry func(rt *dspex.Runtime) (context.Context, []evaluate.Option)
	}{
		{"caller's context", func(rt *dspex.Runtime) (context.Context, []evaluate.Option) {
			return rt.Context(context.Background()), nil
		}},
		{"evaluation runtime", func(rt *dspex.Runtime) (context.Context, []evaluate.Option) {
			return context.Background(), []evaluate.Option{evaluate.WithRuntime(rt)}
		}},
	} {
		t.Run(c.name, func(t *testing.T) { testOptimizerTrials(t, c.entry) })
	}
}

func testOptimizerTrials(t *testing.T, entry func(rt *dspex.Runtime) (context.Context, []evaluate.Option)) {
	srv := rtSim(t)
	rec := tracetest.NewSpanRecorder()
	cfg := telConfig(srv)
	rt := rtStart(t, dspex.WithConfig(cfg), dspex.WithTelemetry(telemetry.WithSpanProcessor(rec)))
	train, dev := dataset.TrainDev(3, 12)
	trainset, valset := dataset.Examples(train)[:8], dataset.Examples(dev)[:6]
	student, err := programs.NewPredictFrom(evSig(t, "question -> answer"), programs.WithLM(rt.LM("sim")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, evOpts := entry(rt)
	rs, err := teleprompter.NewBootstrapFewShotWithRandomSearch(evaluate.ExactMatch("answer"),
		teleprompter.WithNumCandidates(1), teleprompter.WithValset(valset), teleprompter.WithSeed(1),
		teleprompter.WithMaxBootstrappedDemos(2), teleprompter.WithMaxLabeledDemos(2),
		teleprompter.WithEvaluateOptions(append(evOpts, evaluate.WithConcurrency(4), evaluate.WithoutProgress())...))
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := rs.Compile(ctx, student, trainset)
	if err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	trees := telTrees(spans)
	if len(trees) != 1 {
		t.Fatalf("%d root spans, want 1", len(trees))
	}
	root := trees[0]
	if root.span.Name() != "compile "+teleprompter.NameBootstrapFewShotWithRandomSearch {
		t.Fatalf("root span %q", root.span.Name())
	}
	rep := compiled.Report()
	if len(root.children) != len(rep.Candidates) {
		t.Fatalf("%d trial spans for %d candidates: %v", len(root.children), len(rep.Candidates), spanNames(spans))
	}
	for i, trial := range root.children {
		c := rep.Candidates[i]
		seed, _ := telAttr(trial.span, telemetry.AttrTrial)
		score, _ := telAttr(trial.span, telemetry.AttrScore)
		label, _ := telAttr(trial.span, telemetry.AttrCandidate)
		if trial.span.Name() != "trial" || seed.AsInt64() != int64(c.Seed) || score.AsFloat64() != c.Score || label.AsString() != c.Label {
			t.Errorf("trial %d: %s seed %v score %v label %q; candidate %+v", i, trial.span.Name(), seed.Emit(), score.Emit(), label.AsString(), c)
		}
		last := trial.children[len(trial.children)-1]
		if last.span.Name() != "evaluate candidate" || len(last.children) != len(valset) {
			t.Errorf("trial %d ends with %s", i, last.shape())
		}
		if c.Seed >= -1 {
			if boot := trial.child(t, "compile "+teleprompter.NameBootstrapFewShot); len(boot.children) == 0 {
				t.Errorf("trial %d: bootstrapping has no round: %s", i, boot.shape())
			}
		}
	}
	chats := 0
	for _, s := range spans {
		if s.SpanContext().TraceID() != root.span.SpanContext().TraceID() {
			t.Errorf("span %s is in another trace", s.Name())
		}
		if strings.HasPrefix(s.Name(), "chat ") {
			chats++
		}
	}
	st, err := rt.Status(rtCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := st.Clients[0].Requests; int64(chats) != want {
		t.Errorf("%d chat spans, the client served %d calls", chats, want)
	}
}
