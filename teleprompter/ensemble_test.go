package teleprompter_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/teleprompter"
)

// answerer returns a program answering a fixed value, counting its calls.
func answerer(answer string, calls *atomic.Int32) programs.Program {
	return programs.ProgramFunc(func(context.Context, programs.Values) (programs.Prediction, error) {
		calls.Add(1)
		return programs.Prediction{Values: programs.Values{"answer": answer}, Usage: lm.Usage{TotalTokens: 1}}, nil
	})
}

func TestEnsembleMajorityVote(t *testing.T) {
	var calls atomic.Int32
	failing := programs.ProgramFunc(func(context.Context, programs.Values) (programs.Prediction, error) {
		return programs.Prediction{}, errors.New("boom")
	})
	tests := []struct {
		name    string
		answers []string
		want    string
	}{
		{"majority", []string{"Rome", "paris.", "Paris", "Paris"}, "paris."},
		{"tie goes to the earlier", []string{"Rome", "Paris", "Paris", "Rome"}, "Rome"},
		{"single", []string{"Lima"}, "Lima"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			progs := []programs.Program{failing}
			for _, a := range tt.answers {
				progs = append(progs, answerer(a, &calls))
			}
			e, err := teleprompter.NewEnsemble(progs)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := e.Forward(context.Background(), programs.Values{"question": "q"})
			if err != nil {
				t.Fatal(err)
			}
			if got := pred.Values["answer"]; got != tt.want {
				t.Errorf("answer %v, want %q", got, tt.want)
			}
			if pred.Usage.TotalTokens != len(tt.answers) {
				t.Errorf("usage %d tokens, want the sum %d", pred.Usage.TotalTokens, len(tt.answers))
			}
		})
	}
	e, err := teleprompter.NewEnsemble([]programs.Program{failing, failing})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Forward(context.Background(), programs.Values{}); err == nil {
		t.Error("an ensemble whose programs all fail did not fail")
	}
}

func TestEnsembleSize(t *testing.T) {
	counts := make([]atomic.Int32, 5)
	var progs []programs.Program
	for i := range counts {
		progs = append(progs, answerer(fmt.Sprint("a", i), &counts[i]))
	}
	e, err := teleprompter.NewEnsemble(progs, teleprompter.WithSize(2), teleprompter.WithSeed(4),
		teleprompter.WithReducer(func(preds []programs.Prediction) (programs.Prediction, error) {
			if len(preds) != 2 {
				return programs.Prediction{}, fmt.Errorf("%d predictions, want 2", len(preds))
			}
			return preds[1], nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]any{}
	for i := range 40 {
		in := programs.Values{"question": fmt.Sprint("q", i)}
		pred, err := e.Forward(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		first[fmt.Sprint(i)] = pred.Values["answer"]
		again, _ := e.Forward(context.Background(), in)
		if again.Values["answer"] != pred.Values["answer"] {
			t.Errorf("inputs %v: %v then %v", in, pred.Values["answer"], again.Values["answer"])
		}
	}
	total := 0
	for i := range counts {
		n := int(counts[i].Load())
		total += n
		if n == 0 {
			t.Errorf("program %d never sampled in 80 calls", i)
		}
	}
	if total != 160 {
		t.Errorf("%d program calls, want 2 per call (160)", total)
	}
	for _, bad := range []teleprompter.EnsembleOption{teleprompter.WithSize(0), teleprompter.WithSize(6), teleprompter.WithReducer(nil)} {
		if _, err := teleprompter.NewEnsemble(progs, bad); err == nil {
			t.Error("a bad option was accepted")
		}
	}
	if _, err := teleprompter.NewEnsemble(nil); err == nil {
		t.Error("an empty ensemble was accepted")
	}
}
