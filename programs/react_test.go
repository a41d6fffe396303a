package programs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

type capitalArgs struct {
	Country string `json:"country" desc:"the country's name"`
}

type divideArgs struct {
	A int `json:"a"`
	B int `json:"b" desc:"the divisor"`
}

var capitals = map[string]string{"France": "Paris", "Japan": "Tokyo"}

// agentTools returns a tool that errors on unknown countries and one that
// panics on a zero divisor.
func agentTools() []programs.Tool {
	capital := programs.MustTool("capital", "Returns the capital city of a country.",
		func(_ context.Context, a capitalArgs) (string, error) {
			if c, ok := capitals[a.Country]; ok {
				return c, nil
			}
			return "", fmt.Errorf("no country named %q", a.Country)
		})
	divide := programs.MustTool("divide", "Divides a by b.",
		func(_ context.Context, a divideArgs) (int, error) { return a.A / a.B, nil })
	return []programs.Tool{capital, divide}
}

type countryIn struct {
	Question string
}

type countryOut struct {
	Answer string
}

// agentStep is the scripted agent: it picks its next step from the number
// of observations in the trajectory it is shown, and answers the
// extraction from the last observation.
func agentStep(msgs []lm.Message) string {
	var sys, user string
	for _, m := range msgs {
		switch m.Role {
		case lm.RoleSystem:
			sys = m.Content
		case lm.RoleUser:
			user = m.Content
		}
	}
	if !strings.Contains(sys, "next_tool_name") {
		return chatReply("reasoning", "The capital tool answered Paris.", "answer", "Paris")
	}
	steps := []struct{ thought, tool, args string }{
		{"Try the division first.", "divide", `{"a": 10, "b": 0}`},
		{"Look up the capital.", "capital", `{"country": 42}`},
		{"The country must be a string.", "capital", `{"country": "Atlantis"}`},
		{"Atlantis is not a country; France is.", "capital", `{"country": "France"}`},
		{"I know the answer.", "finish", `{}`},
	}
	i := min(strings.Count(user, "[[ ## observation_"), len(steps)-1)
	s := steps[i]
	return chatReply("next_thought", s.thought, "next_tool_name", s.tool, "next_tool_args", s.args)
}

func wantTrajectory() programs.Trajectory {
	return programs.Trajectory{
		{Thought: "Try the division first.", Tool: "divide", Args: map[string]any{"a": 10.0, "b": 0.0},
			Observation: "Failed to execute: tool divide: tool panicked: runtime error: integer divide by zero"},
		{Thought: "Look up the capital.", Tool: "capital", Args: map[string]any{"country": 42.0},
			Observation: `Failed to execute: tool capital: invalid arguments: argument "country": got number, want string`},
		{Thought: "The country must be a string.", Tool: "capital", Args: map[string]any{"country": "Atlantis"},
			Observation: `Failed to execute: tool capital: no country named "Atlantis"`},
		{Thought: "Atlantis is not a country; France is.", Tool: "capital", Args: map[string]any{"country": "France"},
			Observation: "Paris"},
		{Thought: "I know the answer.", Tool: "finish", Args: map[string]any{}, Observation: "Completed."},
	}
}

// numbers normalises JSON numbers in tool arguments to float64, whatever
// type the adapter decoded them to.
func numbers(tr programs.Trajectory) programs.Trajectory {
	out := make(programs.Trajectory, len(tr))
	for i, s := range tr {
		raw, _ := json.Marshal(s.Args)
		var args map[string]any
		_ = json.Unmarshal(raw, &args)
		s.Args = args
		out[i] = s
	}
	return out
}

func TestReActRecoversFromToolFailures(t *testing.T) {
	fake := &recordingLM{f: func(req lm.Request) (string, error) { return agentStep(req.Messages), nil }}
	agent, err := programs.NewReAct[countryIn, countryOut](agentTools(), programs.WithLM(fake))
	if err != nil {
		t.Fatal(err)
	}
	out, traj, err := agent.Call(context.Background(), countryIn{Question: "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answer != "Paris" {
		t.Errorf("answer = %q, want Paris", out.Answer)
	}
	if diff := cmp.Diff(wantTrajectory(), numbers(traj)); diff != "" {
		t.Errorf("trajectory (-want +got):\n%s", diff)
	}
	reqs := fake.requests()
	if len(reqs) != 6 {
		t.Fatalf("%d LM calls, want 5 steps and 1 extraction", len(reqs))
	}
	// The second step sees the first observation.
	if !strings.Contains(lastUserMsg(reqs[1]), "tool panicked: runtime error: integer divide by zero") {
		t.Errorf("second step's prompt lacks the panic observation:\n%s", lastUserMsg(reqs[1]))
	}
	// The tools and their schemas are in the instructions.
	if sys := systemMsg(reqs[0]); !strings.Contains(sys, `capital, whose description is <desc>Returns the capital city of a country.</desc>. It takes arguments {"country": {"type": "string", "description": "the country's name", "title": "Country"}} in JSON format.`) {
		t.Errorf("instructions do not describe the capital tool:\n%s", sys)
	}
	// The extraction sees the whole trajectory.
	if got := lastUserMsg(reqs[5]); !strings.Contains(got, "[[ ## observation_3 ## ]]\nParis") {
		t.Errorf("extraction prompt lacks the trajectory:\n%s", got)
	}
}

// TestReActOverHTTP runs the agent against an OpenAI-compatible server on
// 127.0.0.1 scripted with the same tool-call replies.
func TestReActOverHTTP(t *testing.T) {
	srv := lmtest.NewServer(func(c lmtest.Call) lmtest.Script {
		return lmtest.Script{Replies: []string{agentStep(c.Chat.Messages)}}
	})
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-test", Model: "agent",
		HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := programs.NewReActFrom(signature.MustParse("question -> answer"), agentTools())
	if err != nil {
		t.Fatal(err)
	}
	pred, err := agent.Forward(lm.NewContext(context.Background(), model), programs.Values{"question": "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if pred.Values["answer"] != "Paris" {
		t.Errorf("answer = %v, want Paris", pred.Values["answer"])
	}
	traj, ok := pred.Values["trajectory"].(programs.Trajectory)
	if !ok {
		t.Fatalf("trajectory is %T", pred.Values["trajectory"])
	}
	if diff := cmp.Diff(wantTrajectory(), numbers(traj)); diff != "" {
		t.Errorf("trajectory (-want +got):\n%s", diff)
	}
	if n := len(srv.Calls()); n != 6 {
		t.Errorf("%d HTTP calls, want 6", n)
	}
	if pred.Usage.TotalTokens == 0 {
		t.Error("usage not summed")
	}
}

func TestReActLoopEnds(t *testing.T) {
	tests := []struct {
		name      string
		step      string // the reply to every step
		opts      []programs.Option
		wantSteps int
		wantObs   string
	}{
		{"max iters", chatReply("next_thought", "again", "next_tool_name", "capital", "next_tool_args", `{"country": "Japan"}`),
			[]programs.Option{programs.WithMaxIters(3)}, 3, "Tokyo"},
		// The tool name is a Literal of the tools, as in DSPy: a name that
		// is not a tool does not parse, and the loop ends.
		{"unknown tool", chatReply("next_thought", "hm", "next_tool_name", "search", "next_tool_args", `{}`),
			[]programs.Option{programs.WithMaxIters(3)}, 0, ""},
		{"unparsable step", "I refuse to follow the format.", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &recordingLM{f: func(req lm.Request) (string, error) {
				if strings.Contains(systemMsg(req), "next_tool_name") {
					return tt.step, nil
				}
				return chatReply("reasoning", "r", "answer", "done"), nil
			}}
			agent, err := programs.NewReAct[countryIn, countryOut](agentTools(), append(tt.opts, programs.WithLM(fake))...)
			if err != nil {
				t.Fatal(err)
			}
			out, traj, err := agent.Call(context.Background(), countryIn{Question: "q"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Answer != "done" {
				t.Errorf("answer = %q", out.Answer)
			}
			if len(traj) != tt.wantSteps {
				t.Fatalf("%d steps, want %d", len(traj), tt.wantSteps)
			}
			if tt.wantSteps > 0 && traj[len(traj)-1].Observation != tt.wantObs {
				t.Errorf("last observation = %q, want %q", traj[len(traj)-1].Observation, tt.wantObs)
			}
		})
	}
}

func TestReActProviderErrorIsReturned(t *testing.T) {
	boom := &lm.ProviderError{Provider: "fake", Status: 500, Retryable: true, Err: errors.New("down")}
	fake := lm.Func(func(context.Context, lm.Request) (lm.Response, error) { return lm.Response{}, boom })
	agent, err := programs.NewReAct[countryIn, countryOut](agentTools(), programs.WithLM(fake))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := agent.Call(context.Background(), countryIn{Question: "q"}); !errors.Is(err, boom) {
		t.Errorf("Call: %v, want the provider error", err)
	}
}

func TestReActConstructionErrors(t *testing.T) {
	tools := agentTools()
	if _, err := programs.NewReAct[countryIn, countryOut](append(tools, tools[0])); err == nil {
		t.Error("duplicate tool names: no error")
	}
	if _, err := programs.NewReAct[countryIn, countryOut]([]programs.Tool{{}}); err == nil {
		t.Error("zero Tool: no error")
	}
	if _, err := programs.NewReAct[countryIn, countryOut](tools, programs.WithMaxIters(0)); err == nil {
		t.Error("WithMaxIters(0): no error")
	}
	if _, err := programs.NewReAct[countryIn, countryOut](tools, programs.WithAttempts(2)); err == nil {
		t.Error("WithAttempts on ReAct: no error")
	}
}

func TestReActPredictorNames(t *testing.T) {
	agent, err := programs.NewReAct[countryIn, countryOut](agentTools())
	if err != nil {
		t.Fatal(err)
	}
	nps, err := programs.NamedPredictors(agent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, np := range nps {
		names = append(names, np.Name)
	}
	if diff := cmp.Diff([]string{"react", "extract.predict"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
