package test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// rfSets returns a training and a validation set from the shipped dataset.
func rfSets(nTrain, nVal int) (train, val []dataset.Example) {
	tr, dev := dataset.TrainDev(5, nTrain)
	return dataset.Examples(tr), dataset.Examples(dev)[:nVal]
}

// rfStudent is a zero-shot "question -> answer" Predict on the runtime's
// simulator.
func rfStudent(t *testing.T, rt *dspex.Runtime) programs.Program {
	t.Helper()
	p, err := programs.NewPredictFrom(evSig(t, "question -> answer"), programs.WithLM(rt.LM("sim")))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rfEvalOpts are the evaluation options of the tests' optimizers.
func rfEvalOpts() teleprompter.EvalOption {
	return teleprompter.WithEvaluateOptions(evaluate.WithConcurrency(16), evaluate.WithoutProgress())
}

// rfScore scores prog on set by exact match.
func rfScore(t *testing.T, prog programs.Program, set []dataset.Example) float64 {
	t.Helper()
	res, err := evaluate.Run(context.Background(), prog, set, evaluate.ExactMatch("answer"),
		evaluate.WithConcurrency(16), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	return res.Score
}

// TestGEPAImprovesOnZeroShot runs GEPA on the simulator: reflection on the
// examples and their feedback (outputs holding the quoted gold answer
// among other words, wrong numbers) rewrites the instruction, and the compiled program beats the zero-shot student on
// the validation set and on held-out examples.
func TestGEPAImprovesOnZeroShot(t *testing.T) {
	srv := evSim(t)
	rt := evRuntime(t, srv, nil)
	train, val := rfSets(24, 40)
	_, dev := dataset.TrainDev(5, 24)
	heldOut := dataset.Examples(dev)[40:100]
	student := rfStudent(t, rt)

	const budget = 300
	g, err := teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"),
		teleprompter.WithMaxMetricCalls(budget), teleprompter.WithValset(val), teleprompter.WithSeed(1),
		teleprompter.WithReflectionLM(rt.LM("sim")), rfEvalOpts())
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := g.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	rep := compiled.Report()
	trials := rep.Trials
	for _, tr := range trials {
		sc := "-"
		if tr.Score != nil {
			sc = fmt.Sprintf("%.3f", *tr.Score)
		}
		t.Logf("trial %2d %-7s parents %v %-6s minibatch %.0f -> %.0f val %s cand %d calls %d (%s)",
			tr.N, tr.Kind, tr.Parents, tr.Predictor, tr.Before, tr.After, sc, tr.Candidate, tr.MetricCalls, tr.Note)
	}
	nps := compiled.NamedPredictors()
	t.Logf("best instruction: %q", nps[0].Predictor.Instructions())
	calls, _ := rep.Settings["metric_calls"].(int)
	t.Logf("metric calls %d of %d; pool %d", calls, budget, len(rep.Candidates))
	if calls > budget || calls == 0 {
		t.Errorf("metric calls %d, budget %d", calls, budget)
	}
	if len(trials) < 2 || trials[0].Kind != "seed" {
		t.Fatalf("trial log %+v", trials)
	}

	zeroVal, bestVal := rep.Candidates[0].Score, *rep.Score
	zeroHeld, bestHeld := rfScore(t, student, heldOut), rfScore(t, compiled, heldOut)
	t.Logf("validation: zero-shot %.3f -> GEPA %.3f; held out: %.3f -> %.3f", zeroVal, bestVal, zeroHeld, bestHeld)
	if bestVal <= zeroVal+0.2 {
		t.Errorf("GEPA validation score %.3f not well above zero-shot %.3f", bestVal, zeroVal)
	}
	if bestHeld <= zeroHeld+0.2 {
		t.Errorf("GEPA held-out score %.3f not well above zero-shot %.3f", bestHeld, zeroHeld)
	}
	if got := rfScore(t, compiled, val); got != bestVal {
		t.Errorf("the compiled program scores %.3f on the valset, the report says %.3f", got, bestVal)
	}
	if got := nps[0].Predictor.Instructions(); got == evSig(t, "question -> answer").Instructions() {
		t.Errorf("best instruction %q is the student's", got)
	}

	// Same seed, same simulator: the same program and log.
	again, err := g.Compile(context.Background(), student, train)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := again.NamedPredictors()[0].Predictor.Instructions(), nps[0].Predictor.Instructions(); a != b {
		t.Errorf("recompiling gave %q, then %q", b, a)
	}
	if a, _ := again.Report().Settings["metric_calls"].(int); a != calls {
		t.Errorf("recompiling made %d metric calls, first %d", a, calls)
	}
}
