package history_test

import (
	"context"
	"testing"

	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// TestPredictionUsageIncludesNestedCalls checks DSPy's get_lm_usage: a
// BestOfN over a ChainOfThought reports every attempt's calls, by model.
func TestPredictionUsageIncludesNestedCalls(t *testing.T) {
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return reply(cotReply), nil })
	model := history.Wrap(fake, "openai", history.New(10))
	cot := programs.MustChainOfThought[CityQuestion, CityAnswer](programs.WithLM(model))
	never := func(context.Context, programs.Values, programs.Prediction) (float64, error) { return 0, nil }
	best, err := programs.NewBestOfN(cot, 3, never, 1)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := best.Forward(context.Background(), programs.Values{"question": "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := pred.LMUsage["openai/gpt-4o-mini-2024-07-18"]
	if !ok || len(pred.LMUsage) != 1 {
		t.Fatalf("LMUsage = %+v", pred.LMUsage)
	}
	if got.Calls != 3 || got.Usage.TotalTokens != 3*1240 || got.Usage.CacheReadTokens != 3*1024 || got.Cost.Calls != 3 || !got.Cost.Known() {
		t.Fatalf("usage = %+v", got)
	}
	if got.Usage != pred.Usage {
		t.Errorf("LMUsage %+v disagrees with Usage %+v", got.Usage, pred.Usage)
	}

	one, err := cot.Forward(context.Background(), programs.Values{"question": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if one.LMUsage["openai/gpt-4o-mini-2024-07-18"].Calls != 1 {
		t.Errorf("ChainOfThought LMUsage = %+v", one.LMUsage)
	}
}
