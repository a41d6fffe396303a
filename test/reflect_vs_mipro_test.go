package test

import (
	"context"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestGEPAMatchesMIPROv2Light compiles the same ChainOfThought on the same
// training set with MIPROv2-light and with GEPA given as many metric calls
// as MIPROv2's trials made, and checks on the held-out dev set that GEPA's
// program scores about as high (within 0.03). Both run against the embedded simulator,
// not a model.
func TestGEPAMatchesMIPROv2Light(t *testing.T) {
	srv := evSim(t)
	rt := evRuntime(t, srv, nil)
	train, dev := dataset.TrainDev(0, 100)
	trainset, devset := dataset.Examples(train), dataset.Examples(dev)
	student, err := programs.NewChainOfThoughtFrom(evSig(t, "question -> answer"), programs.WithLM(rt.LM("sim")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	metric := evaluate.ExactMatch("answer")
	ev, err := evaluate.New(metric, evaluate.WithConcurrency(32), evaluate.WithoutProgress())
	if err != nil {
		t.Fatal(err)
	}
	score := func(p programs.Program) float64 {
		t.Helper()
		res, err := ev.Run(ctx, p, devset)
		if err != nil {
			t.Fatal(err)
		}
		return res.Score
	}
	quiet := teleprompter.WithEvaluateOptions(evaluate.WithConcurrency(16), evaluate.WithoutProgress())

	mipro, err := teleprompter.NewMIPROv2(metric, teleprompter.WithAuto(teleprompter.AutoLight),
		teleprompter.WithSeed(1), quiet, teleprompter.WithoutTrialProgress())
	if err != nil {
		t.Fatal(err)
	}
	miproProg, log, err := mipro.Optimize(ctx, student, trainset)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, tr := range log.Trials {
		calls += tr.Examples
	}
	miproScore := score(miproProg)

	valset := trainset[len(trainset)/5:] // MIPROv2's own default validation split
	gepa, err := teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"),
		teleprompter.WithMaxMetricCalls(calls), teleprompter.WithValset(valset), teleprompter.WithSeed(1),
		teleprompter.WithReflectionLM(rt.LM("sim")), quiet)
	if err != nil {
		t.Fatal(err)
	}
	gepaProg, err := gepa.Compile(ctx, student, trainset)
	if err != nil {
		t.Fatal(err)
	}
	gepaScore := score(gepaProg)
	gepaCalls := gepaProg.Report().Settings["metric_calls"]
	t.Logf("dev exact match (%d examples): MIPROv2-light %.4f with %d metric calls in its trials; GEPA %.4f with %v metric calls (budget %d)",
		len(devset), miproScore, calls, gepaScore, gepaCalls, calls)
	for _, np := range gepaProg.NamedPredictors() {
		t.Logf("GEPA's %s instruction: %q", np.Name, np.Predictor.Instructions())
	}
	// GEPA rewrites instructions only; MIPROv2's program also has demos
	// that show the answer format. On the simulator an instruction alone,
	// however plainly it limits the answer, leaves a chance of about one
	// in a hundred of a wordy answer (simlm's doc.go), so GEPA may trail by
	// a few answers in 205.
	const tolerance = 0.03
	if gepaScore < miproScore-tolerance {
		t.Errorf("GEPA scores %.4f on dev, more than %.2f below MIPROv2-light's %.4f for the same metric-call budget", gepaScore, tolerance, miproScore)
	}
}
