package programs_test

import (
	"context"
	"testing"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// TestPredictCountsInEnclosingMeters: a typed Predict's LM calls count in
// the meters its context carries whether it is called for its output alone
// (Call, which builds no prediction) or for its prediction (Completions,
// whose LMUsage holds the call's own usage).
func TestPredictCountsInEnclosingMeters(t *testing.T) {
	answer := func(lm.Request) (string, error) { return chatReply("answer", "Paris"), nil }
	p := programs.MustPredict[query, answerOut](programs.WithLM(history.Wrap(&recordingLM{f: answer}, "fake", history.New(8))))
	in := query{Question: "What is the capital of France?"}

	ctx, outer := history.WithMeter(context.Background())
	out, err := p.Call(ctx, in)
	if err != nil || out.Answer != "Paris" {
		t.Fatalf("Call = %+v, %v", out, err)
	}
	if got := outer.Total().Calls; got != 1 {
		t.Errorf("after Call, the enclosing meter counts %d calls, want 1", got)
	}
	_, pred, err := p.Completions(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := outer.Total().Calls; got != 2 {
		t.Errorf("after Completions, the enclosing meter counts %d calls, want 2", got)
	}
	if len(pred.LMUsage) != 1 {
		t.Fatalf("Completions' LMUsage = %v, want one model", pred.LMUsage)
	}
	for key, u := range pred.LMUsage {
		if u.Calls != 1 {
			t.Errorf("Completions' LMUsage[%q].Calls = %d, want its own call alone", key, u.Calls)
		}
	}
}
