package programs_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// TestReActNativeFallsBackToText: an LM that does not take tools (not an
// lm.ToolSupporter) gets the text-mode agent, tools in the instructions.
func TestReActNativeFallsBackToText(t *testing.T) {
	fake := &recordingLM{f: func(req lm.Request) (string, error) { return agentStep(req.Messages), nil }}
	agent, err := programs.NewReAct[countryIn, countryOut](agentTools(), programs.WithLM(fake), programs.WithNativeTools())
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := agent.Call(context.Background(), countryIn{Question: "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answer != "Paris" {
		t.Errorf("answer = %q, want Paris", out.Answer)
	}
	for i, req := range fake.requests() {
		if len(req.Tools) > 0 || req.ToolChoice != "" {
			t.Errorf("request %d carries tools: %+v", i, req.Tools)
		}
	}
}

// toolLM is a scripted model that takes tools: each reply calls the next
// tool of the script.
type toolLM struct {
	mu     sync.Mutex
	script []lm.ToolCall
	reqs   []lm.Request
}

func (m *toolLM) SupportsTools() bool { return true }

func (m *toolLM) Chat(_ context.Context, req lm.Request) (lm.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, req)
	if len(req.Tools) == 0 { // the extraction
		return fakeResponse("[[ ## reasoning ## ]]\nfound it\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"), nil
	}
	call := m.script[0]
	m.script = m.script[1:]
	resp := fakeResponse("[[ ## next_thought ## ]]\nI call " + call.Name + "\n\n[[ ## completed ## ]]")
	resp.Choices[0].Message.ToolCalls = []lm.ToolCall{call}
	resp.Choices[0].FinishReason = "tool_calls"
	return resp, nil
}

// TestReActNativeRequests checks what native mode sends: the tools with
// their schemas (finish last) and a required tool choice, no tool list in
// the instructions, and the trajectory as the assistant's calls followed
// by one tool result per call, bad arguments and failures included.
func TestReActNativeRequests(t *testing.T) {
	m := &toolLM{script: []lm.ToolCall{
		{ID: "c1", Name: "capital", Arguments: `["France"]`},
		{ID: "c2", Name: "capital", Arguments: `{"country": "France", "extra": 1}`},
		{ID: "c3", Name: "nosuch", Arguments: `{}`},
		{ID: "c4", Name: "capital", Arguments: `{"country": "France"}`},
		{ID: "c5", Name: "finish", Arguments: ``},
	}}
	agent, err := programs.NewReAct[countryIn, countryOut](agentTools(), programs.WithLM(m), programs.WithNativeTools())
	if err != nil {
		t.Fatal(err)
	}
	out, traj, err := agent.Call(context.Background(), countryIn{Question: "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answer != "Paris" {
		t.Errorf("answer = %q", out.Answer)
	}
	wantObs := []string{
		"Failed to execute: the arguments of capital must be a JSON object",
		`Failed to execute: tool capital: invalid arguments: unknown argument "extra"`,
		`Failed to execute: there is no tool named "nosuch"`,
		"Paris",
		"Completed.",
	}
	if len(traj) != len(wantObs) {
		t.Fatalf("trajectory: %+v", traj)
	}
	for i, w := range wantObs {
		if !strings.Contains(traj[i].Observation, w) {
			t.Errorf("step %d observation %q, want %q", i, traj[i].Observation, w)
		}
		if traj[i].Thought == "" {
			t.Errorf("step %d has no thought", i)
		}
	}
	first := m.reqs[0]
	if first.ToolChoice != lm.ToolChoiceRequired || len(first.Tools) != len(agentTools())+1 || first.Tools[len(first.Tools)-1].Name != "finish" {
		t.Fatalf("tools %+v, choice %q", first.Tools, first.ToolChoice)
	}
	var capital lm.ToolDef
	for _, d := range first.Tools {
		if d.Name == "capital" {
			capital = d
		}
	}
	var params map[string]any
	if err := json.Unmarshal(capital.Parameters, &params); err != nil || params["type"] != "object" {
		t.Fatalf("capital's parameters %s: %v", capital.Parameters, err)
	}
	if sys := first.Messages[0].Content; strings.Contains(sys, "It takes arguments") || strings.Contains(sys, "next_tool_name") {
		t.Errorf("native instructions describe the tools in text:\n%s", sys)
	}
	// The fifth step sees the four calls, each followed by its result.
	last := m.reqs[4].Messages
	tail := last[len(last)-8:]
	for i := 0; i < 8; i += 2 {
		call, res := tail[i], tail[i+1]
		if call.Role != lm.RoleAssistant || len(call.ToolCalls) != 1 || res.Role != lm.RoleTool || res.ToolCallID != call.ToolCalls[0].ID {
			t.Fatalf("turn %d: %+v then %+v", i/2, call, res)
		}
		if res.Content != traj[i/2].Observation || res.ToolCallID != traj[i/2].ToolCallID {
			t.Errorf("turn %d result %q, step %+v", i/2, res.Content, traj[i/2])
		}
	}
}
