package teleprompter_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// optimizer is what MIPROv2, BEACON and COPRO have in common.
type optimizer interface {
	Optimize(ctx context.Context, student programs.Program, trainset []dataset.Example) (*teleprompter.Compiled, *teleprompter.TrialLog, error)
}

var (
	allCountries = []string{"France", "Japan", "Italy", "Spain", "Kenya", "Peru", "Chile", "Egypt"}
	instructTips = teleprompter.WithTips("Write at length about the answer.", "Answer concisely.", "Be creative.", "Answer in full sentences.")
)

// instructOption is an option every instruction optimizer takes.
type instructOption interface {
	teleprompter.MIPROv2Option
	teleprompter.COPROOption
}

// searchOpts are the options of a test's search: those every instruction
// optimizer takes, and those of MIPROv2 and BEACON or of COPRO.
type searchOpts struct {
	shared []instructOption
	mipro  []teleprompter.MIPROv2Option
	copro  []teleprompter.COPROOption
}

func newOptimizer(t *testing.T, kind string, o searchOpts) optimizer {
	t.Helper()
	var (
		opt optimizer
		err error
	)
	metric := evaluate.ExactMatch("answer")
	switch kind {
	case teleprompter.NameMIPROv2, teleprompter.NameBEACON:
		opts := make([]teleprompter.MIPROv2Option, 0, len(o.shared)+len(o.mipro))
		for _, x := range o.shared {
			opts = append(opts, x)
		}
		opts = append(opts, o.mipro...)
		if kind == teleprompter.NameMIPROv2 {
			opt, err = teleprompter.NewMIPROv2(metric, opts...)
		} else {
			opt, err = teleprompter.NewBEACON(metric, opts...)
		}
	case teleprompter.NameCOPRO:
		opts := make([]teleprompter.COPROOption, 0, len(o.shared)+len(o.copro))
		for _, x := range o.shared {
			opts = append(opts, x)
		}
		opt, err = teleprompter.NewCOPRO(metric, append(opts, o.copro...)...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// TestInstructionSearchFindsTheConciseInstruction runs each optimizer
// zero-shot on a fake LM that answers tersely only when told to be
// concise: the proposer turns the tips into instructions and the search
// must pick the concise one.
func TestInstructionSearchFindsTheConciseInstruction(t *testing.T) {
	tests := []struct {
		kind string
		opts searchOpts
	}{
		{teleprompter.NameMIPROv2, searchOpts{mipro: []teleprompter.MIPROv2Option{teleprompter.WithMaxBootstrappedDemos(0), teleprompter.WithMaxLabeledDemos(0),
			teleprompter.WithNumCandidates(6), teleprompter.WithNumTrials(8), teleprompter.WithMinibatchSize(3)}}},
		{teleprompter.NameBEACON, searchOpts{mipro: []teleprompter.MIPROv2Option{teleprompter.WithMaxBootstrappedDemos(0), teleprompter.WithMaxLabeledDemos(0),
			teleprompter.WithNumCandidates(6), teleprompter.WithNumTrials(8), teleprompter.WithMinibatchSize(3)}}},
		{teleprompter.NameCOPRO, searchOpts{copro: []teleprompter.COPROOption{teleprompter.WithBreadth(3), teleprompter.WithDepth(2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			model := &tipLM{}
			student := programs.MustPredict[QA, Answer](programs.WithLM(model))
			train := capitalSet(allCountries...)
			opts := tt.opts
			opts.shared = []instructOption{quiet, instructTips, teleprompter.WithSeed(3),
				teleprompter.WithValset(capitalSet(allCountries[2:]...)), teleprompter.WithoutTrialProgress()}
			compiled, log, err := newOptimizer(t, tt.kind, opts).Optimize(context.Background(), student, train)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", log)
			got := compiled.NamedPredictors()[0].Predictor.Instructions()
			if got != "Answer concisely." {
				t.Errorf("chosen instruction %q, want the concise one; candidates %q", got, log.Instructions["self"])
			}
			if log.BestScore != 1 || *compiled.Report().Score != 1 {
				t.Errorf("best score %v, report %v, want 1", log.BestScore, *compiled.Report().Score)
			}
			if cands := log.Instructions["self"]; len(cands) < 2 || cands[0] != student.Signature().Instructions() {
				t.Errorf("candidate 0 is not the student's instruction: %q", cands)
			}
			if ins := student.Signature().Instructions(); ins == got {
				t.Errorf("student modified: %q", ins)
			}
			if log.Trials[0].Number != 0 || log.Trials[0].Kind != teleprompter.TrialFull || log.Trials[0].Choices[0].Instruction != 0 {
				t.Errorf("trial 0 is not the baseline: %+v", log.Trials[0])
			}
			if rep := compiled.Report(); rep.Teleprompter != tt.kind || len(rep.Candidates) == 0 ||
				rep.Candidates[rep.Best].Score != 1 {
				t.Errorf("report %+v", rep)
			}
			// The compiled program scores what the log says.
			res, err := evaluate.Run(context.Background(), compiled, capitalSet(allCountries[2:]...),
				evaluate.ExactMatch("answer"), evaluate.WithoutProgress())
			if err != nil || res.Score != log.BestScore {
				t.Errorf("compiled program scores %v (%v), log says %v", res.Score, err, log.BestScore)
			}
		})
	}
}

// TestInstructionSearchIsReproducible runs a search twice with the same
// seed and concurrent trials: the logs and programs are identical, and the
// log survives a JSON round trip.
func TestInstructionSearchIsReproducible(t *testing.T) {
	for _, kind := range []string{teleprompter.NameMIPROv2, teleprompter.NameBEACON, teleprompter.NameCOPRO} {
		t.Run(kind, func(t *testing.T) {
			opts := searchOpts{
				shared: []instructOption{quiet, instructTips, teleprompter.WithSeed(9), teleprompter.WithTrialConcurrency(3),
					teleprompter.WithoutTrialProgress()},
				mipro: []teleprompter.MIPROv2Option{teleprompter.WithNumCandidates(4), teleprompter.WithNumTrials(9), teleprompter.WithMinibatchSize(3),
					teleprompter.WithMaxBootstrappedDemos(1), teleprompter.WithMaxLabeledDemos(2), teleprompter.WithFullEvalSteps(3)},
				copro: []teleprompter.COPROOption{teleprompter.WithBreadth(3), teleprompter.WithDepth(2)},
			}
			run := func() (*teleprompter.Compiled, *teleprompter.TrialLog) {
				student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
				c, log, err := newOptimizer(t, kind, opts).Optimize(context.Background(), student, capitalSet(allCountries...))
				if err != nil {
					t.Fatal(err)
				}
				return c, log
			}
			c1, l1 := run()
			c2, l2 := run()
			if diff := cmp.Diff(l1, l2); diff != "" {
				t.Errorf("same seed, different logs:\n%s", diff)
			}
			var s1, s2 bytes.Buffer
			if err := c1.Save(&s1); err != nil {
				t.Fatal(err)
			}
			if err := c2.Save(&s2); err != nil {
				t.Fatal(err)
			}
			if s1.String() != s2.String() {
				t.Errorf("same seed, different programs:\n%s\n---\n%s", s1.String(), s2.String())
			}
			var js bytes.Buffer
			if err := l1.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			back, err := teleprompter.ReadTrialLog(&js)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(l1, back); diff != "" {
				t.Errorf("JSON round trip:\n%s", diff)
			}
			if l1.String() != l2.String() || !strings.Contains(l1.String(), "score") {
				t.Errorf("tables differ or are empty:\n%s\n%s", l1, l2)
			}
		})
	}
}

// poisonProposer proposes, by rollout, an instruction that makes every
// call fail, the concise one, or a verbose one.
type poisonProposer struct{}

func (poisonProposer) ProposeInstruction(_ context.Context, req teleprompter.ProposalRequest) (string, error) {
	switch req.Rollout % 3 {
	case 1:
		return "Poison: this instruction breaks the model.", nil
	case 2:
		return "Answer concisely.", nil
	}
	return "Explain the answer at length.", nil
}

// TestFailedTrialsAreRecordedAndTheSearchGoesOn gives the search an
// instruction whose every call fails: its trials are logged as failed and
// the search still returns the best working program.
func TestFailedTrialsAreRecordedAndTheSearchGoesOn(t *testing.T) {
	for _, kind := range []string{teleprompter.NameMIPROv2, teleprompter.NameBEACON, teleprompter.NameCOPRO} {
		t.Run(kind, func(t *testing.T) {
			student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
			opts := searchOpts{
				shared: []instructOption{quiet, teleprompter.WithSeed(1), teleprompter.WithProposer(poisonProposer{}),
					teleprompter.WithValset(capitalSet(allCountries[:5]...)), teleprompter.WithoutTrialProgress()},
				mipro: []teleprompter.MIPROv2Option{teleprompter.WithNumCandidates(4), teleprompter.WithNumTrials(12), teleprompter.WithoutMinibatch(),
					teleprompter.WithMaxBootstrappedDemos(0), teleprompter.WithMaxLabeledDemos(0)},
				copro: []teleprompter.COPROOption{teleprompter.WithBreadth(4), teleprompter.WithDepth(1)},
			}
			compiled, log, err := newOptimizer(t, kind, opts).Optimize(context.Background(), student, capitalSet(allCountries...))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", log)
			failed := log.Failed()
			if len(failed) == 0 {
				t.Fatalf("no failed trial logged; candidates %q", log.Instructions["self"])
			}
			for _, f := range failed {
				ins := log.Instructions["self"][f.Choices[0].Instruction]
				if !strings.HasPrefix(ins, "Poison") || !strings.Contains(f.Error, "poisoned") || f.Score != 0 {
					t.Errorf("failed trial %+v with instruction %q", f, ins)
				}
			}
			if last := log.Trials[len(log.Trials)-1]; last.Number <= failed[0].Number {
				t.Errorf("the search stopped at the failed trial %d", failed[0].Number)
			}
			if got := compiled.NamedPredictors()[0].Predictor.Instructions(); got != "Answer concisely." {
				t.Errorf("chosen instruction %q", got)
			}
		})
	}
}

// TestAllTrialsFailing ends with ErrAllTrialsFailed and the log.
func TestAllTrialsFailing(t *testing.T) {
	student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
	student, err := student.WithPredictor(student.Predictor().WithInstructions("Poison everything."))
	if err != nil {
		t.Fatal(err)
	}
	mipro := newOptimizer(t, teleprompter.NameMIPROv2, searchOpts{mipro: []teleprompter.MIPROv2Option{quiet, teleprompter.WithSeed(1),
		teleprompter.WithProposer(poisonProposer{}), teleprompter.WithTips("x"), teleprompter.WithNumCandidates(2), teleprompter.WithNumTrials(3),
		teleprompter.WithoutMinibatch(), teleprompter.WithMaxBootstrappedDemos(0), teleprompter.WithMaxLabeledDemos(0),
		teleprompter.WithoutTrialProgress()}})
	_, log, err := mipro.Optimize(context.Background(), student, capitalSet(allCountries...))
	if !errors.Is(err, teleprompter.ErrAllTrialsFailed) {
		t.Fatalf("err = %v, want ErrAllTrialsFailed", err)
	}
	if log == nil || len(log.Failed()) != len(log.Trials) || len(log.Trials) != 4 {
		t.Fatalf("log %v", log)
	}
}

// TestInstructionOptions checks conflicts, bad values, the budget
// report and the progress bar.
func TestInstructionOptions(t *testing.T) {
	metric := evaluate.ExactMatch("answer")
	bad := []struct {
		name string
		err  func() error
	}{
		{"auto with candidates", func() error {
			_, err := teleprompter.NewMIPROv2(metric, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithNumCandidates(3))
			return err
		}},
		{"auto with trials", func() error {
			_, err := teleprompter.NewBEACON(metric, teleprompter.WithNumTrials(3), teleprompter.WithAuto(teleprompter.AutoHeavy))
			return err
		}},
		{"unknown auto", func() error { _, err := teleprompter.NewMIPROv2(metric, teleprompter.WithAuto("huge")); return err }},
		{"proposer and prompt model", func() error {
			_, err := teleprompter.NewMIPROv2(metric, teleprompter.WithProposer(poisonProposer{}), teleprompter.WithPromptModel(&tipLM{}))
			return err
		}},
		{"minibatch both ways", func() error {
			_, err := teleprompter.NewMIPROv2(metric, teleprompter.WithMinibatchSize(5), teleprompter.WithoutMinibatch())
			return err
		}},
		{"zero candidates", func() error { _, err := teleprompter.NewMIPROv2(metric, teleprompter.WithNumCandidates(0)); return err }},
		{"progress both ways", func() error {
			_, err := teleprompter.NewCOPRO(metric, teleprompter.WithoutTrialProgress(), teleprompter.WithTrialProgress(&bytes.Buffer{}))
			return err
		}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil {
				t.Error("accepted")
			}
		})
	}

	t.Run("budget and progress", func(t *testing.T) {
		var budget, bar bytes.Buffer
		student := programs.MustPredict[QA, Answer](programs.WithLM(&tipLM{}))
		mipro := newOptimizer(t, teleprompter.NameMIPROv2, searchOpts{mipro: []teleprompter.MIPROv2Option{quiet, instructTips,
			teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithBudgetReport(&budget), teleprompter.WithTrialProgress(&bar)}})
		_, log, err := mipro.Optimize(context.Background(), student, capitalSet(allCountries...))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", budget.String())
		// light: 6 candidates, one predictor with demo sets: 2 variables,
		// max(2*2*log2(6), 1.5*6) = 11 trials.
		if !strings.Contains(budget.String(), "auto=light") || !strings.Contains(budget.String(), "11 trials") ||
			!strings.Contains(budget.String(), "Expected LM calls") {
			t.Errorf("budget report:\n%s", budget.String())
		}
		// 6 validation examples: no minibatches, every trial is full.
		if n := len(log.Trials) - 1; n != 11 {
			t.Errorf("%d trials after the baseline, want 11:\n%s", n, log)
		}
		if !strings.Contains(bar.String(), "MIPROv2 trials") {
			t.Errorf("no progress bar drawn: %q", bar.String())
		}
	})
}

// TestPromptModelRunsTheProposer sends every proposer call to the prompt
// model and none to the student's LM.
func TestPromptModelRunsTheProposer(t *testing.T) {
	task, prompt := &tipLM{}, &tipLM{}
	student := programs.MustPredict[QA, Answer](programs.WithLM(task))
	c := newOptimizer(t, teleprompter.NameCOPRO, searchOpts{copro: []teleprompter.COPROOption{quiet, instructTips,
		teleprompter.WithPromptModel(prompt), teleprompter.WithBreadth(3), teleprompter.WithDepth(2), teleprompter.WithoutTrialProgress()}})
	_, log, err := c.Optimize(context.Background(), student, capitalSet(allCountries...))
	if err != nil {
		t.Fatal(err)
	}
	// COPRO: one summary, breadth-1 first proposals, breadth in round 2.
	if got := prompt.calls.Load(); got != int64(log.ProposerCalls) || got != 1+2+3 {
		t.Errorf("prompt model got %d calls, log says %d proposer calls, want 6", got, log.ProposerCalls)
	}
	if got, want := task.calls.Load(), int64(log.LMCalls()); got != want {
		t.Errorf("task model got %d calls, log says %d", got, want)
	}
}

func FuzzReadTrialLog(f *testing.F) {
	var buf bytes.Buffer
	_ = (&teleprompter.TrialLog{Optimizer: "MIPROv2", Predictors: []string{"p"}, Trials: []teleprompter.Trial{
		{Number: 0, Kind: teleprompter.TrialFull, Choices: []teleprompter.Choice{{Predictor: "p"}}, Score: 0.5, Status: teleprompter.TrialOK},
	}}).WriteJSON(&buf)
	f.Add(buf.String())
	f.Add(`{"trials": [{"choices": null}]}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, s string) {
		l, err := teleprompter.ReadTrialLog(strings.NewReader(s))
		if err != nil {
			return
		}
		_ = l.String()
		var out bytes.Buffer
		if err := l.WriteJSON(&out); err != nil {
			return // NaN or infinite scores do not encode
		}
		back, err := teleprompter.ReadTrialLog(&out)
		if err != nil {
			t.Fatalf("re-reading a written log: %v", err)
		}
		if diff := cmp.Diff(l, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip:\n%s", diff)
		}
	})
}
