package test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// anthropicRuntime starts a runtime whose only provider, "claude", is of
// kind anthropic and points at the embedded model server's Messages API.
func anthropicRuntime(t *testing.T) (*dspex.Runtime, *simlm.Server) {
	t.Helper()
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = []config.Provider{{
		Name:         "claude",
		Kind:         config.KindAnthropic,
		BaseURL:      srv.URL(),
		APIKey:       config.Secret("sk-ant-runtime-test"),
		DefaultModel: "claude-sim",
	}}
	return rtStart(t, dspex.WithConfig(cfg)), srv
}

// checkMessagesAPI fails unless every request srv received went to the
// Messages API and succeeded.
func checkMessagesAPI(t *testing.T, srv *simlm.Server) {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the simulator received no request")
	}
	for _, r := range reqs {
		if r.Path != "/v1/messages" || r.Status != 200 {
			t.Errorf("request %d: %s answered %d, want /v1/messages answered 200", r.Seq, r.Path, r.Status)
		}
	}
}

func oneStepMath(t *testing.T, n int) []dataset.Item {
	t.Helper()
	var items []dataset.Item
	for _, it := range dataset.QA() {
		if it.Kind == dataset.KindMath && it.Steps == 1 && len(items) < n {
			items = append(items, it)
		}
	}
	if len(items) < n {
		t.Fatalf("the dataset has %d one-step math problems, want %d", len(items), n)
	}
	return items
}

// TestAnthropicPredictPromptCaching runs a Predict with a demo on the
// Anthropic provider: the first call writes the prompt's prefix (system
// message and demo) to the prompt cache, the second, with another
// question, reads it back; both answers are right.
func TestAnthropicPredictPromptCaching(t *testing.T) {
	rt, srv := anthropicRuntime(t)
	items := oneStepMath(t, 3)
	solve, err := programs.NewPredict[predictMathIn, predictMathOut](
		programs.WithLM(rt.LM("claude")),
		programs.WithDemos(programs.Values{"question": items[2].Question, "answer": items[2].Answer}))
	if err != nil {
		t.Fatal(err)
	}
	var usages []lm.Usage
	for _, it := range items[:2] {
		outs, pred, err := solve.Completions(rtCtx(t), predictMathIn{Question: it.Question})
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		if want, _ := strconv.Atoi(it.Answer); outs[0].Answer != want {
			t.Errorf("%s: answer %d, want %d", it.ID, outs[0].Answer, want)
		}
		usages = append(usages, pred.Usage)
	}
	first, second := usages[0], usages[1]
	if first.CacheWriteTokens == 0 || first.CacheReadTokens != 0 {
		t.Errorf("first call usage %+v, want the prefix written to the cache and nothing read", first)
	}
	if second.CacheReadTokens != first.CacheWriteTokens || second.CacheWriteTokens != 0 {
		t.Errorf("second call usage %+v, want the %d prefix tokens read from the cache", second, first.CacheWriteTokens)
	}
	for i, u := range usages {
		if u.PromptTokens <= u.CacheReadTokens+u.CacheWriteTokens || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Errorf("call %d usage %+v is inconsistent", i, u)
		}
	}
	checkMessagesAPI(t, srv)
}

type anthropicQuestion struct {
	Question string `dspy:"question"`
}

type anthropicAnswer struct {
	Answer string `dspy:"answer"`
}

func TestAnthropicChainOfThought(t *testing.T) {
	rt, srv := anthropicRuntime(t)
	cot, err := programs.NewChainOfThought[predictMathIn, predictMathOut](programs.WithLM(rt.LM("claude/claude-sim")))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range oneStepMath(t, 2) {
		out, err := cot.Call(rtCtx(t), predictMathIn{Question: it.Question})
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		if want, _ := strconv.Atoi(it.Answer); out.Out.Answer != want {
			t.Errorf("%s: answer %d, want %d", it.ID, out.Out.Answer, want)
		}
		if strings.TrimSpace(out.Reasoning) == "" {
			t.Errorf("%s: no reasoning", it.ID)
		}
	}
	checkMessagesAPI(t, srv)
}

type anthropicLookup struct {
	Query string `json:"query" desc:"the question to look up"`
}

// TestAnthropicReAct runs ReAct (tools described in text) on the
// Anthropic provider: a tool returning an error and one panicking become
// observations, the encyclopedia answers.
func TestAnthropicReAct(t *testing.T) {
	rt, srv := anthropicRuntime(t)
	tools := []programs.Tool{
		programs.MustTool("search_web", "Searches the web.",
			func(context.Context, anthropicLookup) (string, error) { return "", errors.New("network unreachable") }),
		programs.MustTool("ask_oracle", "Asks the oracle.",
			func(context.Context, anthropicLookup) (string, error) { panic("the oracle is silent") }),
		programs.MustTool("encyclopedia", "Looks a question up in the encyclopedia.",
			func(_ context.Context, a anthropicLookup) (string, error) {
				it, ok := dataset.Lookup(a.Query)
				if !ok {
					return "", errors.New("no entry")
				}
				return it.Answer, nil
			}),
	}
	agent, err := programs.NewReAct[anthropicQuestion, anthropicAnswer](tools, programs.WithLM(rt.LM("claude")))
	if err != nil {
		t.Fatal(err)
	}
	out, traj, err := agent.Call(rtCtx(t), anthropicQuestion{Question: "What is the capital of Japan?"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Answer, "Tokyo") {
		t.Errorf("answer %q, want Tokyo", out.Answer)
	}
	var obs []string
	for _, s := range traj {
		obs = append(obs, s.Tool+": "+s.Observation)
	}
	joined := strings.Join(obs, "\n")
	for _, want := range []string{"search_web: Failed to execute", "network unreachable", "ask_oracle: Failed to execute", "tool panicked", "encyclopedia: Tokyo"} {
		if !strings.Contains(joined, want) {
			t.Errorf("trajectory lacks %q:\n%s", want, joined)
		}
	}
	checkMessagesAPI(t, srv)
}

// TestAnthropicOverloadedRetried: a 529 (overloaded) and a 429 from the
// Messages API are retried by the runtime, and the program succeeds.
func TestAnthropicOverloadedRetried(t *testing.T) {
	srv := rtSim(t)
	cfg := rtConfig(srv)
	cfg.Providers = []config.Provider{{Name: "claude", Kind: config.KindAnthropic, BaseURL: srv.URL(), DefaultModel: "claude-sim"}}
	cfg.Retry.MaxAttempts = 3
	cfg.Retry.Initial = config.Duration(time.Millisecond)
	cfg.Retry.Max = config.Duration(2 * time.Millisecond)
	rt := rtStart(t, dspex.WithConfig(cfg))
	srv.FailNext(1, 529)
	srv.FailNext(1, 429)
	it := oneStepMath(t, 1)[0]
	solve, err := programs.NewPredict[predictMathIn, predictMathOut](programs.WithLM(rt.LM("claude")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := solve.Call(rtCtx(t), predictMathIn{Question: it.Question})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := strconv.Atoi(it.Answer); out.Answer != want {
		t.Errorf("answer %d, want %d", out.Answer, want)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[529 429 200]" {
		t.Errorf("simulator statuses %v, want [529 429 200]", statuses)
	}
}
