package lmtest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// toolCalling checks native tool calling: the tools and tool choice are
// sent in the protocol's shape, an assistant's earlier calls and the
// tools' results go back as the protocol wants them (OpenAI tool_calls
// and role "tool" messages, Anthropic tool_use and tool_result blocks),
// the reply's calls come back typed with finish reason "tool_calls", a
// plain request sends no tool fields, and a tool result without its call's
// id fails before anything is sent.
//
// Each part runs as its own subtest, so that each LM is closed before the
// next starts (an LM may hold a connection with process-wide state, as a
// cluster gateway's does).
func (s suite) toolCalling(t *testing.T) {
	t.Run("CallsAndResults", s.toolCallsAndResults)
	t.Run("PlainRequest", s.toolFieldsAbsent)
	t.Run("ResultWithoutID", s.toolResultWithoutID)
}

func (s suite) toolCallsAndResults(t *testing.T) {
	params := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)
	want := lm.ToolCall{ID: "call_2", Name: "finish", Arguments: `{}`}
	srv, m := s.start(t, func(c Call) Script {
		if c.Chat == nil || len(c.Chat.Tools) == 0 {
			return Script{}
		}
		return Script{Replies: []string{"done looking"}, ToolCalls: []lm.ToolCall{want}, FinishReasons: []string{"tool_calls"}}
	})
	req := lm.Request{
		Model: "m",
		Messages: []lm.Message{
			{Role: lm.RoleSystem, Content: "You are an agent."},
			{Role: lm.RoleUser, Content: "Weather in Paris?"},
			{Role: lm.RoleAssistant, Content: "I look it up.", ToolCalls: []lm.ToolCall{{ID: "call_1", Name: "weather", Arguments: `{"city":"Paris"}`}}},
			{Role: lm.RoleTool, ToolCallID: "call_1", Content: "sunny"},
		},
		Tools: []lm.ToolDef{
			{Name: "weather", Description: "Gives the weather.", Parameters: params},
			{Name: "finish", Description: "Ends the task."},
		},
		ToolChoice: lm.ToolChoiceRequired,
	}
	resp, err := m.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("reply %+v, want one tool call and finish reason tool_calls", ch)
	}
	if got := ch.Message.ToolCalls[0]; got.ID != want.ID || got.Name != want.Name || !jsonEqual(got.Arguments, want.Arguments) {
		t.Errorf("tool call %+v, want %+v", got, want)
	}
	sent := lastCall(t, srv).Chat
	if len(sent.Tools) != 2 || sent.Tools[0].Name != "weather" || sent.Tools[0].Description != "Gives the weather." ||
		!jsonEqual(string(sent.Tools[0].Parameters), string(params)) || sent.Tools[1].Name != "finish" {
		t.Errorf("tools sent: %+v", sent.Tools)
	}
	wantChoice := `"required"`
	if s.protocol == Anthropic {
		wantChoice = `{"type":"any"}`
	}
	if !jsonEqual(string(sent.ToolChoice), wantChoice) {
		t.Errorf("tool_choice sent %s, want %s", sent.ToolChoice, wantChoice)
	}
	var call, result *lm.Message
	for i := range sent.Messages {
		switch {
		case len(sent.Messages[i].ToolCalls) > 0:
			call = &sent.Messages[i]
		case sent.Messages[i].Role == lm.RoleTool:
			result = &sent.Messages[i]
		}
	}
	switch {
	case call == nil || call.Role != lm.RoleAssistant || call.Content != "I look it up.":
		t.Errorf("the assistant's call was not sent back: %+v", sent.Messages)
	case call.ToolCalls[0].ID != "call_1" || call.ToolCalls[0].Name != "weather" || !jsonEqual(call.ToolCalls[0].Arguments, `{"city":"Paris"}`):
		t.Errorf("tool call sent back as %+v", call.ToolCalls[0])
	case result == nil || result.ToolCallID != "call_1" || result.Content != "sunny":
		t.Errorf("tool result sent as %+v", result)
	}
}

// toolFieldsAbsent: a plain request sends no tool fields.
func (s suite) toolFieldsAbsent(t *testing.T) {
	srv, m := s.start(t, nil)
	if _, err := m.Chat(context.Background(), lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tools", "tool_choice"} {
		if _, ok := lastCall(t, srv).Fields[f]; ok {
			t.Errorf("a plain request sent %q", f)
		}
	}
}

// toolResultWithoutID: a tool result must name its call; without, the
// request fails before it is sent.
func (s suite) toolResultWithoutID(t *testing.T) {
	srv, m := s.start(t, nil)
	bad := lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}, {Role: lm.RoleTool, Content: "x"}},
		Tools: []lm.ToolDef{{Name: "weather"}}}
	if pe := providerError(t, func() error { _, err := m.Chat(context.Background(), bad); return err }()); pe.Status != 0 || pe.Retryable {
		t.Errorf("tool result without id: %v (status %d, retryable %v), want a local error", pe, pe.Status, pe.Retryable)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("a request with a tool result without id reached the server (%d calls)", n)
	}
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}
