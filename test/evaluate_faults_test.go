package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// evMarker is how question appears inside a JSON request body.
func evMarker(tb testing.TB, question string) []byte {
	b, err := json.Marshal(question)
	if err != nil {
		tb.Fatal(err)
	}
	return b[1 : len(b)-1]
}

// TestEvaluateFaultIsolation: one example's program panics, one metric
// panics, one meets a provider 500 that outlasts the retries, one times
// out; the run completes, those four fail with their errors, the others are
// scored, and every example is in the result exactly once.
func TestEvaluateFaultIsolation(t *testing.T) {
	dev := dataset.Examples(dataset.QA()[:16])
	const (
		progPanic   = 3
		metricPanic = 4
		provider500 = 5
		timesOut    = 6
	)
	always500 := evMarker(t, dev[provider500].Text("question"))
	hang := evMarker(t, dev[timesOut].Text("question"))
	srv := evSim(t, simlm.WithFaults(simlm.Faults{Script: func(info simlm.RequestInfo) *simlm.Fault {
		switch {
		case bytes.Contains(info.Body, always500):
			return &simlm.Fault{Status: 500}
		case bytes.Contains(info.Body, hang):
			return &simlm.Fault{Hang: true}
		}
		return nil
	}}))
	rt := evRuntime(t, srv, func(c *config.Config) { c.Cache.Enabled = false })

	sig := evSig(t, "question -> answer").WithInstructions("Answer concisely.")
	qa := programs.MustPredictFrom(sig, programs.WithLM(rt.LM("sim")), programs.WithName("qa"))
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		if in["question"] == dev[progPanic].Text("question") {
			panic("program bug")
		}
		return qa.Forward(ctx, in)
	})
	em := evaluate.ExactMatch("answer")
	metric := func(ex dataset.Example, p programs.Prediction, tr *programs.Trace) float64 {
		if ex.ID() == dev[metricPanic].ID() {
			panic("metric bug")
		}
		return em(ex, p, tr)
	}
	ev, err := evaluate.New(metric, evaluate.WithTimeout(time.Second), evaluate.WithConcurrency(4),
		evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	res, err := ev.Run(context.Background(), prog, dev)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())

	if len(res.Rows) != len(dev) || !res.Complete {
		t.Fatalf("%d rows for %d examples, complete %v", len(res.Rows), len(dev), res.Complete)
	}
	var pe *evaluate.PanicError
	var perr *lm.ProviderError
	want := map[int]func(error) bool{
		progPanic:   func(err error) bool { return errors.As(err, &pe) && pe.In == "program" },
		metricPanic: func(err error) bool { return errors.As(err, &pe) && pe.In == "metric" },
		provider500: func(err error) bool { return errors.As(err, &perr) && perr.Status == 500 },
		timesOut:    func(err error) bool { return errors.Is(err, evaluate.ErrTimeout) },
	}
	for i, row := range res.Rows {
		if row.Index != i || !row.Example.Equal(dev[i]) {
			t.Fatalf("row %d holds example %d (%s)", i, row.Index, row.Example.ID())
		}
		if check, ok := want[i]; ok {
			if row.Status != evaluate.Failed || !check(row.Err) {
				t.Errorf("row %d: status %v, err %v; want that failure", i, row.Status, row.Err)
			}
			continue
		}
		if row.Status != evaluate.Scored || row.Err != nil {
			t.Errorf("row %d: status %v, err %v; want scored", i, row.Status, row.Err)
		}
	}
	if res.Failed != 4 || res.Scored != len(dev)-4 || res.NotRun != 0 {
		t.Errorf("summary %s", res.Summary())
	}
	// The 500 was retried before it became the example's failure.
	n500 := 0
	for _, r := range srv.Requests() {
		if r.Status == 500 {
			n500++
		}
	}
	if n500 != 3 {
		t.Errorf("the failing request was sent %d times, want 3 (max_attempts)", n500)
	}
}

// TestEvaluateUnderInjectedFaults: 2000 examples against a server that
// fails 10% of requests with 500, 10% with 429 and garbles 5% of replies.
// Every example is accounted for exactly once, and failures carry the
// provider's or the parser's error.
func TestEvaluateUnderInjectedFaults(t *testing.T) {
	srv := evSim(t, simlm.WithSeed(7), simlm.WithFaults(simlm.Faults{Rate500: 0.10, Rate429: 0.10, RateGarbled: 0.05}))
	rt := evRuntime(t, srv, func(c *config.Config) { c.Cache.Enabled = false })
	dev := evQA(2000)
	sig := evSig(t, "question -> answer").WithInstructions("Answer concisely.")
	qa := programs.MustPredictFrom(sig, programs.WithLM(rt.LM("sim")))
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		return qa.Forward(ctx, in)
	})
	ev, err := evaluate.New(evaluate.ExactMatch("answer"), evaluate.WithConcurrency(64),
		evaluate.WithTimeout(20*time.Second), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	res, err := ev.Run(context.Background(), prog, dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(dev) || !res.Complete || res.Scored+res.Failed != len(dev) {
		t.Fatalf("not every example accounted for: %s", res.Summary())
	}
	seen := make(map[string]bool, len(dev))
	for i, row := range res.Rows {
		id := row.Example.ID()
		if row.Index != i || id != dev[i].ID() || seen[id] {
			t.Fatalf("row %d: index %d id %s (seen before: %v)", i, row.Index, id, seen[id])
		}
		seen[id] = true
		if row.Status == evaluate.Failed && row.Err == nil {
			t.Fatalf("row %d failed without an error", i)
		}
	}
	st := srv.Stats()
	t.Logf("%s; server: %+v", res.Summary(), st)
	if st.Garbled == 0 {
		t.Errorf("no garbled replies were injected: %+v", st)
	}
	if res.Score < 0.5 {
		t.Errorf("score %.2f: retries did not absorb the injected faults", res.Score)
	}
}
