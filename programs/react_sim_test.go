package programs_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

type simLookupArgs struct {
	Query string `json:"query" desc:"the question to look up"`
}

// simTools returns a tool that returns an error, one that panics, and an
// encyclopedia that answers from the shipped dataset.
func simTools() []programs.Tool {
	broken := programs.MustTool("search_web", "Searches the web.",
		func(context.Context, simLookupArgs) (string, error) { return "", errors.New("network unreachable") })
	panicky := programs.MustTool("ask_oracle", "Asks the oracle.",
		func(_ context.Context, a simLookupArgs) (string, error) {
			var m map[string]string
			m[a.Query] = "boom" // assignment to a nil map panics
			return "", nil
		})
	encyclopedia := programs.MustTool("encyclopedia", "Looks a question up in the encyclopedia.",
		func(_ context.Context, a simLookupArgs) (string, error) {
			it, ok := dataset.Lookup(a.Query)
			if !ok {
				return "", errors.New("no entry")
			}
			return it.Answer, nil
		})
	return []programs.Tool{broken, panicky, encyclopedia}
}

// TestReActOnSimulator runs ReAct against the embedded model server over
// HTTP, with both adapters. The simulated agent tries the tools in order,
// skipping those whose arguments it cannot fill; failures (an error, a
// panic) become observations; after the first useful observation it
// finishes, and the extraction step gives the right answer.
func TestReActOnSimulator(t *testing.T) {
	type step struct {
		Tool string
		Args map[string]any
		Obs  string // a substring of the observation
	}
	japan := map[string]any{"query": "What is the capital of Japan?"}
	tests := []struct {
		name     string
		tools    []programs.Tool
		question string
		answer   string
		steps    []step
	}{
		{"an error and a panic, then a lookup", simTools(), "What is the capital of Japan?", "Tokyo", []step{
			{"search_web", japan, "Failed to execute: tool search_web: network unreachable"},
			{"ask_oracle", japan, "Failed to execute: tool ask_oracle: tool panicked: assignment to entry in nil map"},
			{"encyclopedia", japan, "Tokyo"},
			{"finish", map[string]any{}, "Completed."},
		}},
		// divide needs two numbers the question does not have, so the agent
		// skips it; capital gets the question's key entity.
		{"entity arguments, unfit tools skipped", append(agentTools()[1:], agentTools()[0]), "What is the capital of France?", "Paris", []step{
			{"capital", map[string]any{"country": "France"}, "Paris"},
			{"finish", map[string]any{}, "Completed."},
		}},
		// capital knows no Italy: the error sends the agent to the next tool.
		{"a tool error moves on to the next tool", append(agentTools()[:1], simTools()[2]), "What is the capital of Italy?", "Rome", []step{
			{"capital", map[string]any{"country": "Italy"}, `Failed to execute: tool capital: no country named "Italy"`},
			{"encyclopedia", map[string]any{"query": "What is the capital of Italy?"}, "Rome"},
			{"finish", map[string]any{}, "Completed."},
		}},
		{"every tool fails", simTools()[:2], "What is the capital of Japan?", "Tokyo", []step{
			{"search_web", japan, "network unreachable"},
			{"ask_oracle", japan, "tool panicked"},
			{"finish", map[string]any{}, "Completed."},
		}},
	}
	native := programs.WithNativeTools()
	jsonAdapter := programs.WithAdapter(adapter.NewJSON())
	adapters := []struct {
		name      string
		opts      []programs.Option
		anthropic bool // the Messages API instead of chat completions
	}{
		{"chat", nil, false},
		{"json", []programs.Option{jsonAdapter}, false},
		{"chat/native", []programs.Option{native}, false},
		{"json/native", []programs.Option{jsonAdapter, native}, false},
		{"anthropic/chat/native", []programs.Option{native}, true},
		{"anthropic/json/native", []programs.Option{jsonAdapter, native}, true},
	}
	for _, tt := range tests {
		for _, ad := range adapters {
			t.Run(tt.name+"/"+ad.name, func(t *testing.T) {
				model, srv := startSimulator(t)
				if ad.anthropic {
					var err error
					tr := &http.Transport{}
					t.Cleanup(tr.CloseIdleConnections)
					if model, err = lm.NewAnthropic(lm.AnthropicConfig{BaseURL: srv.URL(), Model: srv.Model(), HTTPClient: &http.Client{Transport: tr}}); err != nil {
						t.Fatal(err)
					}
				}
				agent, err := programs.NewReAct[countryIn, countryOut](tt.tools, append([]programs.Option{programs.WithLM(model)}, ad.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				out, traj, err := agent.Call(context.Background(), countryIn{Question: tt.question})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(out.Answer, tt.answer) {
					t.Errorf("answer = %q, want %s", out.Answer, tt.answer)
				}
				got := make([]step, len(traj))
				for i, s := range numbers(traj) {
					got[i] = step{Tool: s.Tool, Args: s.Args, Obs: s.Observation}
				}
				if len(got) != len(tt.steps) {
					t.Fatalf("trajectory has %d steps, want %d: %+v", len(got), len(tt.steps), got)
				}
				for i, want := range tt.steps {
					if !strings.Contains(got[i].Obs, want.Obs) {
						t.Errorf("step %d observation = %q, want it to contain %q", i, got[i].Obs, want.Obs)
					}
					got[i].Obs = want.Obs
					if strings.TrimSpace(traj[i].Thought) == "" {
						t.Errorf("step %d has no thought", i)
					}
					if native := strings.Contains(ad.name, "native"); native != (traj[i].ToolCallID != "") {
						t.Errorf("step %d: tool call id %q in %s mode", i, traj[i].ToolCallID, ad.name)
					}
				}
				if diff := cmp.Diff(tt.steps, got); diff != "" {
					t.Errorf("trajectory (-want +got):\n%s", diff)
				}
				// One HTTP request per agent step, and one for the extraction.
				if got := srv.Stats().Requests; got != int64(len(tt.steps)+1) {
					t.Errorf("simulator saw %d requests, want %d", got, len(tt.steps)+1)
				}
			})
		}
	}
}
