package test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestSIMBAImprovesOnZeroShot runs SIMBA on the simulator: demos from
// good trajectories and rules from comparing good and bad ones make the
// compiled program beat the zero-shot student, reproducibly.
func TestSIMBAImprovesOnZeroShot(t *testing.T) {
	srv := evSim(t)
	rt := evRuntime(t, srv, nil)
	train, val := rfSets(32, 40)
	_, dev := dataset.TrainDev(5, 32)
	heldOut := dataset.Examples(dev)[40:100]
	student := rfStudent(t, rt)

	s, err := teleprompter.NewSIMBA(teleprompter.ExactMatchFeedback("answer"),
		teleprompter.WithMaxSteps(4), teleprompter.WithBatchSize(8), teleprompter.WithNumCandidates(4),
		teleprompter.WithValset(val), teleprompter.WithSeed(3),
		teleprompter.WithReflectionLM(rt.LM("sim")), rfEvalOpts())
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := s.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	rep := compiled.Report()
	trials := rep.Trials
	for _, tr := range trials {
		t.Logf("step %d: %s; metric calls %d", tr.N, tr.Note, tr.MetricCalls)
	}
	for i, c := range rep.Candidates {
		t.Logf("finalist %d: pool #%d %-12s val %.3f demos %v", i, c.Seed, c.Label, c.Score, c.Demos)
	}
	calls, _ := rep.Settings["metric_calls"].(int)
	np := compiled.NamedPredictors()[0]
	t.Logf("best: %q with %d demos; metric calls %d", np.Predictor.Instructions(), len(np.Predictor.Demos()), calls)
	if len(trials) != 4 || calls == 0 {
		t.Fatalf("%d steps logged, %d metric calls", len(trials), calls)
	}
	if rep.Candidates[0].Label != "student" {
		t.Fatalf("first finalist %+v, want the student", rep.Candidates[0])
	}
	best := rep.Candidates[rep.Best]
	for _, c := range rep.Candidates {
		if c.Score > best.Score {
			t.Errorf("finalist %+v scores above the chosen %+v", c, best)
		}
	}
	zeroVal := rep.Candidates[0].Score
	zeroHeld, bestHeld := rfScore(t, student, heldOut), rfScore(t, compiled, heldOut)
	t.Logf("validation: zero-shot %.3f -> SIMBA %.3f; held out: %.3f -> %.3f", zeroVal, *rep.Score, zeroHeld, bestHeld)
	if *rep.Score <= zeroVal+0.2 {
		t.Errorf("SIMBA validation score %.3f not well above zero-shot %.3f", *rep.Score, zeroVal)
	}
	if bestHeld <= zeroHeld+0.2 {
		t.Errorf("SIMBA held-out score %.3f not well above zero-shot %.3f", bestHeld, zeroHeld)
	}
	if got := rfScore(t, compiled, val); got != *rep.Score {
		t.Errorf("the compiled program scores %.3f on the valset, the report says %.3f", got, *rep.Score)
	}

	again, err := s.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	a, b := again.NamedPredictors()[0].Predictor, np.Predictor
	if a.Instructions() != b.Instructions() || fmt.Sprint(a.Demos()) != fmt.Sprint(b.Demos()) {
		t.Errorf("recompiling gave another program: %q %v, then %q %v", b.Instructions(), b.Demos(), a.Instructions(), a.Demos())
	}
}
