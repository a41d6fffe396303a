package test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/teleprompter"
)

type arithIn struct {
	Question string `dspy:"question" desc:"an arithmetic word problem"`
}

type arithOut struct {
	Answer int `dspy:"answer" desc:"the result, a whole number"`
}

// TestProgramOfThoughtBeatsPredictAndChainOfThought runs Predict,
// ChainOfThought and ProgramOfThought on the shipped long arithmetic
// problems against the embedded model server over HTTP. The simulated
// model slips on problems with many operands when it computes in its
// head; the program computes them. Some first programs are buggy, so the
// retry path (code_regenerate with the error shown) runs too.
func TestProgramOfThoughtBeatsPredictAndChainOfThought(t *testing.T) {
	model, _ := predictSim(t)
	ctx := context.Background()
	predict, err := programs.NewPredict[arithIn, arithOut](programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	cot, err := programs.NewChainOfThought[arithIn, arithOut](programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	pot, err := programs.NewProgramOfThought[arithIn, arithOut](programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	items := dataset.Arithmetic()
	var predictOK, cotOK, potOK, retried int
	for _, it := range items {
		want, err := strconv.Atoi(it.Answer)
		if err != nil {
			t.Fatal(err)
		}
		in := arithIn{Question: it.Question}
		if out, err := predict.Call(ctx, in); err != nil {
			t.Fatalf("Predict %s: %v", it.ID, err)
		} else if out.Answer == want {
			predictOK++
		}
		if out, err := cot.Call(ctx, in); err != nil {
			t.Fatalf("ChainOfThought %s: %v", it.ID, err)
		} else if out.Out.Answer == want {
			cotOK++
		}
		out, steps, err := pot.Call(ctx, in)
		if err != nil {
			t.Fatalf("ProgramOfThought %s: %v", it.ID, err)
		}
		if out.Answer == want {
			potOK++
		}
		if len(steps) > 1 {
			retried++
			if steps[0].Error == "" || !strings.Contains(steps[0].Error, "line") {
				t.Errorf("%s: a retried first program has error %q; want one naming the line", it.ID, steps[0].Error)
			}
		}
		if last := steps[len(steps)-1]; last.Error != "" || last.Output == "" {
			t.Errorf("%s: the last program failed: %+v", it.ID, last)
		}
	}
	n := float64(len(items))
	t.Logf("exact match on %d problems: Predict %.2f, ChainOfThought %.2f, ProgramOfThought %.2f (%d first programs failed and were rewritten)",
		len(items), float64(predictOK)/n, float64(cotOK)/n, float64(potOK)/n, retried)
	if potOK <= cotOK || potOK <= predictOK {
		t.Errorf("ProgramOfThought %d correct, ChainOfThought %d, Predict %d: want ProgramOfThought ahead", potOK, cotOK, predictOK)
	}
	if retried == 0 {
		t.Error("no first program failed: the retry path did not run")
	}
}

// TestProgramOfThoughtGivesUp checks that a model whose programs always
// fail ends in a *CodeError holding every attempt.
func TestProgramOfThoughtGivesUp(t *testing.T) {
	model, _ := predictSim(t)
	interp, err := sandbox.NewStarlark(sandbox.WithMaxSteps(3)) // too few steps for any program
	if err != nil {
		t.Fatal(err)
	}
	pot, err := programs.NewProgramOfThought[arithIn, arithOut](programs.WithLM(model), programs.WithInterpreter(interp),
		programs.WithMaxIters(2))
	if err != nil {
		t.Fatal(err)
	}
	_, steps, err := pot.Call(context.Background(), arithIn{Question: dataset.Arithmetic()[0].Question})
	var ce *programs.CodeError
	if !errors.Is(err, programs.ErrCodeFailed) || !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *CodeError", err)
	}
	if len(ce.Steps) != 2 || len(steps) != 2 || !strings.Contains(ce.Steps[1].Error, "steps") {
		t.Errorf("steps = %+v", ce.Steps)
	}
}

type lookupArgs struct {
	Item string `json:"item" desc:"what to look up"`
}

// TestCodeActWithFailingTools gives a CodeAct agent two tools, one that
// returns an error and one that panics. Both failures come back to the
// agent as observations naming the line; the agent then computes the
// answer in code and finishes with the right number.
func TestCodeActWithFailingTools(t *testing.T) {
	model, _ := predictSim(t)
	var rateCalls, stockCalls int
	rates := programs.MustTool("exchange_rate", "Looks up an exchange rate.", func(_ context.Context, a lookupArgs) (float64, error) {
		rateCalls++
		return 0, errors.New("the rates service is unavailable")
	})
	stock := programs.MustTool("inventory", "Counts an item in the warehouse.", func(_ context.Context, a lookupArgs) (int, error) {
		stockCalls++
		var counts map[string]int
		counts[a.Item]++ // a nil map: the tool panics
		return counts[a.Item], nil
	})
	agent, err := programs.NewCodeAct[arithIn, arithOut]([]programs.Tool{rates, stock}, programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range dataset.Arithmetic()[:6] {
		rateCalls, stockCalls = 0, 0
		out, traj, err := agent.Call(context.Background(), arithIn{Question: it.Question})
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		if strconv.Itoa(out.Answer) != it.Answer {
			t.Errorf("%s: answer %d, want %s; trajectory:\n%s", it.ID, out.Answer, it.Answer, traj)
		}
		if rateCalls != 1 || stockCalls != 1 {
			t.Errorf("%s: tools called %d and %d times, want once each", it.ID, rateCalls, stockCalls)
		}
		if len(traj) != 3 {
			t.Fatalf("%s: %d steps, want 3:\n%s", it.ID, len(traj), traj)
		}
		for i, want := range []string{"the rates service is unavailable", "panicked: assignment to entry in nil map"} {
			if !strings.Contains(traj[i].Error, want) || !strings.Contains(traj[i].Error, "line 1") {
				t.Errorf("%s: step %d observation %q, want %q on line 1", it.ID, i, traj[i].Error, want)
			}
		}
		if traj[2].Error != "" || strings.TrimSpace(traj[2].Output) != it.Answer {
			t.Errorf("%s: last step %+v, want output %s", it.ID, traj[2], it.Answer)
		}
	}
}

type archiveIn struct {
	Context string `dspy:"context" desc:"the registry, one entry per line"`
	Query   string `dspy:"query"`
}

type archiveOut struct {
	Answer string `dspy:"answer" desc:"the office holder's name"`
}

// TestRLMReadsADocumentLargerThanTheContext asks questions about the
// shipped archive, more than ten times the simulated model's context
// window. A plain Predict fails: the provider refuses the prompt, as a
// real one does. RLM keeps the archive in the REPL, finds the lines that
// matter with code and has the sub-LM read them, within its sub-call
// budget.
func TestRLMReadsADocumentLargerThanTheContext(t *testing.T) {
	model, srv := predictSim(t)
	ctx := context.Background()
	doc := dataset.Archive()
	questions := dataset.ArchiveQuestions()

	predict, err := programs.NewPredict[archiveIn, archiveOut](programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	_, err = predict.Call(ctx, archiveIn{Context: doc, Query: questions[0].Question})
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(err.Error(), "maximum context length is 8192 tokens") {
		t.Fatalf("Predict on the whole archive: err = %v, want a 400 context-length error", err)
	}
	var tokens int
	if _, after, ok := strings.Cut(err.Error(), "resulted in "); ok {
		tokens, _ = strconv.Atoi(strings.Fields(after)[0])
	}
	if tokens < 10*simlm.DefaultContextTokens {
		t.Fatalf("the prompt has %d tokens, want at least ten times the %d-token context", tokens, simlm.DefaultContextTokens)
	}
	t.Logf("Predict: the prompt has %d tokens, %.1f times the context window", tokens, float64(tokens)/simlm.DefaultContextTokens)

	const budget = 3
	rlm, err := programs.NewRLM[archiveIn, archiveOut](programs.WithLM(model), programs.WithMaxLLMCalls(budget), programs.WithMaxIters(8))
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Requests
	for _, q := range questions[:6] {
		out, run, err := rlm.Call(ctx, archiveIn{Context: doc, Query: q.Question})
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		if out.Answer != q.Answer {
			t.Errorf("%s %q: answer %q, want %q", q.ID, q.Question, out.Answer, q.Answer)
		}
		if run.LLMCalls < 1 || run.LLMCalls > budget {
			t.Errorf("%s: %d sub-LM calls, want 1 to %d", q.ID, run.LLMCalls, budget)
		}
		if run.Extracted {
			t.Errorf("%s: the code never submitted", q.ID)
		}
		if q.ID == questions[0].ID {
			for i, s := range run.Steps {
				t.Logf("step %d:\n%s--> %s", i+1, s.Code, s.Output)
			}
		}
		for i, s := range run.Steps {
			if s.Error != "" {
				t.Errorf("%s: step %d failed: %s", q.ID, i+1, s.Error)
			}
		}
	}
	if got := srv.Stats().Requests - before; got == 0 {
		t.Error("no request reached the server")
	}
}

// TestBootstrapProgramOfThought compiles a ProgramOfThought with
// BootstrapFewShot: the optimizer walks its three predictors and turns the
// traces of successful runs into demos that show the generated code and
// its output, including a failed program and its error for the
// regenerate step.
func TestBootstrapProgramOfThought(t *testing.T) {
	model, _ := predictSim(t)
	ctx := context.Background()
	student, err := programs.NewProgramOfThoughtFrom(evSig(t, "question -> answer: int"), programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	trainset := dataset.Examples(dataset.Arithmetic()[:12])
	bs, err := teleprompter.NewBootstrapFewShot(evaluate.ExactMatch("answer"), teleprompter.WithSeed(1),
		teleprompter.WithMaxBootstrappedDemos(4), teleprompter.WithMaxLabeledDemos(0),
		teleprompter.WithEvaluateOptions(evaluate.WithConcurrency(4), evaluate.WithoutProgress()))
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := bs.Compile(ctx, student, trainset)
	if err != nil {
		t.Fatal(err)
	}
	rep := compiled.Report()
	t.Logf("report %+v", rep)
	if rep.Demos["code_generate.predict"] == 0 || rep.Demos["generate_answer.predict"] == 0 || rep.Demos["code_regenerate.predict"] == 0 {
		t.Fatalf("demos %v: want some on each predictor", rep.Demos)
	}
	nps, err := programs.NamedPredictors(compiled.Program())
	if err != nil {
		t.Fatal(err)
	}
	for _, np := range nps {
		for _, d := range np.Predictor.Demos() {
			switch np.Name {
			case "code_generate.predict":
				if !strings.Contains(fmt.Sprint(d["generated_code"]), "FINAL(") {
					t.Errorf("a code_generate demo without a program: %v", d)
				}
			case "code_regenerate.predict":
				if d["error"] == nil || d["previous_code"] == nil {
					t.Errorf("a code_regenerate demo without the failed program: %v", d)
				}
			case "generate_answer.predict":
				if d["code_output"] == nil {
					t.Errorf("a generate_answer demo without the code output: %v", d)
				}
			}
		}
	}
}
