package dspex_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

type Problem struct {
	Question string `dspy:"question"`
}

type Solution struct {
	Answer string `dspy:"answer"`
}

// TestMIPROv2StopsAtTheBudget runs MIPROv2-light under a budget of a third
// of the calls it expects to make.
func TestMIPROv2StopsAtTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an optimizer")
	}
	ctx := context.Background()
	rt, err := dspex.Start(ctx, dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	train, dev := dataset.TrainDev(0, 60)
	trainset, valset := dataset.Examples(train), dataset.Examples(dev)
	var report bytes.Buffer
	metric := evaluate.ExactMatch("answer")
	evalOpts := teleprompter.WithEvaluateOptions(evaluate.WithRuntime(rt), evaluate.WithConcurrency(8))
	opt, err := teleprompter.NewMIPROv2(metric, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithSeed(1),
		teleprompter.WithValset(valset), teleprompter.WithBudgetReport(&report), evalOpts)
	if err != nil {
		t.Fatal(err)
	}
	student := programs.MustChainOfThought[Problem, Solution](programs.WithLM(rt.LM("")))

	// The optimizer prints its expected calls when it starts: a run under
	// a one-call budget prints them and stops at once (with or without a
	// program, depending on whether the baseline got to run).
	_, _, _ = opt.Optimize(dspex.WithBudget(ctx, dspex.Budget{MaxCalls: 1}), student, trainset)
	m := regexp.MustCompile(`at most (\d+) in all`).FindStringSubmatch(report.String())
	if m == nil {
		t.Fatalf("no expected calls in the report:\n%s", report.String())
	}
	expected, _ := strconv.Atoi(m[1])
	maxCalls := expected / 3

	bctx := dspex.WithBudget(ctx, dspex.Budget{MaxCalls: maxCalls})
	compiled, log, err := opt.Optimize(bctx, student, trainset)
	if err != nil {
		t.Fatalf("expected %d calls, budget %d: %v", expected, maxCalls, err)
	}
	spent, _ := dspex.Spent(bctx)
	oneTrial := 0
	for _, tr := range log.Trials {
		oneTrial = max(oneTrial, tr.LMCalls)
	}
	if log.StoppedBy == "" || spent.Calls > maxCalls || spent.Calls < maxCalls-oneTrial {
		t.Fatalf("stopped by %q after %d calls; budget %d, one trial %d calls", log.StoppedBy, spent.Calls, maxCalls, oneTrial)
	}
	if compiled.Report().StoppedBy != log.StoppedBy || !bytes.Contains([]byte(log.String()), []byte("stopped early: "+dspex.ErrBudgetExceeded.Error())) {
		t.Errorf("the trial log does not say why it stopped:\n%s", log)
	}
	ev, err := evaluate.New(metric, evaluate.WithRuntime(rt), evaluate.WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	zero, err := ev.Run(ctx, student, valset)
	if err != nil {
		t.Fatal(err)
	}
	after, err := ev.Run(ctx, compiled, valset)
	if err != nil {
		t.Fatal(err)
	}
	if after.Score < zero.Score {
		t.Errorf("budgeted program %.3f is worse than zero-shot %.3f", after.Score, zero.Score)
	}
	fmt.Fprintf(&report, "expected %d, budget %d, spent %d, stopped by %s\n", expected, maxCalls, spent.Calls, log.StoppedBy)
	t.Log(report.String())
}

// TestOptimizersStopAtTheBudget runs every optimizer that makes LM calls
// under a budget smaller than its run: each stops cleanly, within the
// budget, and returns a program whose report says why it stopped.
func TestOptimizersStopAtTheBudget(t *testing.T) {
	ctx := context.Background()
	rt, err := dspex.Start(ctx, dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	train, dev := dataset.TrainDev(2, 16)
	trainset, valset := dataset.Examples(train), dataset.Examples(dev)[:10]
	metric := evaluate.ExactMatch("answer")
	evalOpts := teleprompter.WithEvaluateOptions(evaluate.WithRuntime(rt), evaluate.WithConcurrency(4), evaluate.WithoutProgress())
	sim := rt.LM("")
	build := map[string]func() (teleprompter.Teleprompter, error){
		"BootstrapFewShot": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewBootstrapFewShot(metric, teleprompter.WithMaxBootstrappedDemos(4), evalOpts)
		},
		"BootstrapFewShotWithRandomSearch": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewBootstrapFewShotWithRandomSearch(metric, teleprompter.WithNumCandidates(2),
				teleprompter.WithValset(valset), evalOpts)
		},
		"COPRO": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewCOPRO(metric, teleprompter.WithBreadth(2), teleprompter.WithDepth(2),
				teleprompter.WithValset(valset), teleprompter.WithPromptModel(sim), teleprompter.WithoutTrialProgress(), evalOpts)
		},
		"GEPA": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewGEPA(teleprompter.ExactMatchFeedback("answer"), teleprompter.WithMaxMetricCalls(80),
				teleprompter.WithValset(valset), teleprompter.WithSeed(1), teleprompter.WithReflectionLM(sim), evalOpts)
		},
		"SIMBA": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewSIMBA(teleprompter.ExactMatchFeedback("answer"), teleprompter.WithMaxSteps(3),
				teleprompter.WithBatchSize(6), teleprompter.WithNumCandidates(2), teleprompter.WithValset(valset),
				teleprompter.WithSeed(3), teleprompter.WithReflectionLM(sim), evalOpts)
		},
		"KNNFewShot": func() (teleprompter.Teleprompter, error) {
			return teleprompter.NewKNNFewShot(2, rt.Embedder(""), teleprompter.WithBootstrap(metric), evalOpts)
		},
	}
	tests := []struct {
		name     string
		maxCalls int
	}{
		{"BootstrapFewShot", 6},
		{"BootstrapFewShotWithRandomSearch", 15},
		{"COPRO", 14},
		{"GEPA", 16},
		{"SIMBA", 10},
		{"KNNFewShot", 6},
		{"GEPA", 1}, // spent before anything is scored: the student comes back
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.name, tt.maxCalls), func(t *testing.T) {
			opt, err := build[tt.name]()
			if err != nil {
				t.Fatal(err)
			}
			student := programs.MustChainOfThought[Problem, Solution](programs.WithLM(sim))
			bctx := dspex.WithBudget(ctx, dspex.Budget{MaxCalls: tt.maxCalls})
			compiled, err := opt.Compile(bctx, student, trainset)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			spent, _ := dspex.Spent(bctx)
			rep := compiled.Report()
			if !strings.HasPrefix(rep.StoppedBy, dspex.ErrBudgetExceeded.Error()) || spent.Calls > tt.maxCalls {
				t.Fatalf("stopped by %q after %d calls (budget %d)", rep.StoppedBy, spent.Calls, tt.maxCalls)
			}
			// The program returned runs, outside the budget.
			if _, err := compiled.Forward(ctx, programs.Values{"question": valset[0].Inputs()["question"]}); err != nil {
				t.Errorf("the program returned fails: %v", err)
			}
		})
	}
}
