package test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/simlm"
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

var _ = lm.Usage{}
var _ = simlm.DefaultModel
