package history_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

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

// TestMeterKeys checks the meter's keys and sums: a recorded call counts
// under "provider/model" (its model from the response, else the
// request's, else none: "provider/"), Add counts under its key as given,
// nested meters all count, and a meter of many keys (past the ones it
// searches in order) keeps them apart.
func TestMeterKeys(t *testing.T) {
	echo := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Usage: lm.Usage{PromptTokens: 10, CompletionTokens: 2, TotalTokens: 12}}, nil
	})
	model := history.Wrap(echo, "openai", history.New(10))
	call := func(ctx context.Context, name string) {
		t.Helper()
		if _, err := model.Chat(ctx, lm.Request{Model: name}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, outer := history.WithMeter(context.Background())
	if got := outer.ByModel(); got != nil {
		t.Fatalf("an unused meter's ByModel = %v, want nil", got)
	}
	call(ctx, "a")
	inner, meter := history.WithMeter(ctx)
	call(inner, "a")
	call(inner, "")
	history.Add(inner, "openai", history.ModelUsage{Calls: 5})
	history.Add(inner, "openai/a", history.ModelUsage{Calls: 7})
	for i := range 20 {
		history.Add(inner, fmt.Sprint("cluster/node-", i%10), history.ModelUsage{Calls: 1})
	}

	calls := func(m map[string]history.ModelUsage) map[string]int {
		out := map[string]int{}
		for k, u := range m {
			out[k] = u.Calls
		}
		return out
	}
	want := map[string]int{"openai/a": 1 + 7, "openai/": 1, "openai": 5}
	for i := range 10 {
		want[fmt.Sprint("cluster/node-", i)] = 2
	}
	if diff := cmp.Diff(want, calls(meter.ByModel())); diff != "" {
		t.Errorf("inner meter (-want +got):\n%s", diff)
	}
	want["openai/a"]++ // the call made before the inner meter
	if diff := cmp.Diff(want, calls(outer.ByModel())); diff != "" {
		t.Errorf("outer meter (-want +got):\n%s", diff)
	}
	if got := meter.ByModel()["openai/a"].Usage.TotalTokens; got != 12 {
		t.Errorf("openai/a tokens = %d, want 12 (the recorded call's; Add's carried none)", got)
	}
	if got, want := meter.Total().Calls, 1+7+1+5+20; got != want {
		t.Errorf("Total().Calls = %d, want %d", got, want)
	}

	got := meter.ByModel()
	delete(got, "openai")
	if _, ok := meter.ByModel()["openai"]; !ok {
		t.Error("changing ByModel's map changed the meter")
	}
}
