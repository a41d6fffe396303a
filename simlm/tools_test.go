package simlm_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// toolClients are the two protocols' clients of one simulator.
func toolClients(t *testing.T) map[string]lm.LM {
	t.Helper()
	srv, c := start(t)
	oa, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: srv.Model(), HTTPClient: c})
	if err != nil {
		t.Fatal(err)
	}
	an, err := lm.NewAnthropic(lm.AnthropicConfig{BaseURL: srv.URL(), Model: srv.Model(), HTTPClient: c})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]lm.LM{"openai": oa, "anthropic": an}
}

var simTools = []lm.ToolDef{
	{Name: "lookup", Description: "Looks a place up.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"place":{"type":"string","description":"the place"}},"required":["place"]}`)},
	{Name: "calculator", Description: "Adds numbers.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}`)},
	{Name: "finish", Description: "Marks the task as complete."},
}

// TestNativeToolSteps walks the agent through both protocols: it calls the
// first tool it can fill, tries the next after a failure, and calls finish
// after a success; the results come back as tool messages.
func TestNativeToolSteps(t *testing.T) {
	for name, m := range toolClients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			msgs := []lm.Message{{Role: lm.RoleUser, Content: "What is the population of Paris?"}}
			want := []struct{ tool, args, result string }{
				{"lookup", `{"place":"Paris"}`, "Failed to execute: the service is down"},
				{"finish", `{}`, ""},
			}
			for i, w := range want {
				resp, err := m.Chat(ctx, lm.Request{Messages: msgs, Tools: simTools, ToolChoice: lm.ToolChoiceRequired})
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				ch := resp.Choices[0]
				if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
					t.Fatalf("step %d: finish %q, calls %+v", i, ch.FinishReason, ch.Message.ToolCalls)
				}
				call := ch.Message.ToolCalls[0]
				if call.Name != w.tool || call.Arguments != w.args || call.ID == "" {
					t.Fatalf("step %d: called %+v, want %s %s", i, call, w.tool, w.args)
				}
				msgs = append(msgs, ch.Message, lm.Message{Role: lm.RoleTool, ToolCallID: call.ID, Content: w.result})
			}
			// A success ends the search too: the same run with lookup working.
			msgs = msgs[:1]
			resp, err := m.Chat(ctx, lm.Request{Messages: msgs, Tools: simTools})
			if err != nil {
				t.Fatal(err)
			}
			first := resp.Choices[0].Message
			msgs = append(msgs, first, lm.Message{Role: lm.RoleTool, ToolCallID: first.ToolCalls[0].ID, Content: "2.1 million"})
			resp, err = m.Chat(ctx, lm.Request{Messages: msgs, Tools: simTools})
			if err != nil {
				t.Fatal(err)
			}
			if calls := resp.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Name != "finish" {
				t.Fatalf("after a success: %+v", resp.Choices[0].Message)
			}
		})
	}
}

// TestNativeToolChoice checks none (text only), a named tool, and a reply
// without a finish tool (text).
func TestNativeToolChoice(t *testing.T) {
	for name, m := range toolClients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			q := []lm.Message{{Role: lm.RoleUser, Content: "Add 2 and 3."}}
			resp, err := m.Chat(ctx, lm.Request{Messages: q, Tools: simTools, ToolChoice: lm.ToolChoiceNone})
			if err != nil {
				t.Fatal(err)
			}
			if c := resp.Choices[0]; len(c.Message.ToolCalls) != 0 || c.Message.Content == "" || c.FinishReason != "stop" {
				t.Fatalf("tool choice none: %+v", c)
			}
			resp, err = m.Chat(ctx, lm.Request{Messages: q, Tools: simTools, ToolChoice: "calculator"})
			if err != nil {
				t.Fatal(err)
			}
			if calls := resp.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Name != "calculator" || calls[0].Arguments != `{"a":2,"b":3}` {
				t.Fatalf("named tool choice: %+v", calls)
			}
			// Without a finish tool, and with nothing to call, the model answers.
			resp, err = m.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hello there"}}, Tools: simTools[1:2]})
			if err != nil {
				t.Fatal(err)
			}
			if c := resp.Choices[0]; len(c.Message.ToolCalls) != 0 || c.FinishReason != "stop" {
				t.Fatalf("nothing to call: %+v", c)
			}
		})
	}
}

// TestNativeToolsRejected checks the simulator's answers to broken tool
// traffic: a result for no call, and a named choice that is no tool.
func TestNativeToolsRejected(t *testing.T) {
	for name, m := range toolClients(t) {
		t.Run(name, func(t *testing.T) {
			orphan := []lm.Message{{Role: lm.RoleUser, Content: "hi"}, {Role: lm.RoleTool, ToolCallID: "nope", Content: "x"}}
			_, err := m.Chat(context.Background(), lm.Request{Messages: orphan, Tools: simTools})
			var pe *lm.ProviderError
			if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "nope") {
				t.Fatalf("orphan tool result: %v", err)
			}
		})
	}
}
