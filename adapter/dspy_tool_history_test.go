package adapter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// DSPy's tests of History turns that hold tool calls and their results, at
// stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1).
// DSPy's next_thought is a dspy.Reasoning in the native tests; dspex has no
// Reasoning type and declares it str, which DSPy formats the same way when
// the model has no native reasoning (as the tests' DummyLM).

// plainSearch is dspy.Tool(search) for "def search(query: str) -> str"
// without a docstring.
func plainSearch() signature.Tool {
	return signature.Tool{Name: "search", Args: []signature.ToolArg{{Name: "query", Schema: json.RawMessage(`{"type": "string"}`)}}}
}

const toolHistorySig = "question: str, history: dspy.History, tools: list[dspy.Tool] -> next_thought: str, tool_calls: dspy.ToolCalls"

// toolHistory is a History of one turn whose tool calls have results.
func toolHistory(turn Values) signature.History {
	return signature.History{Messages: []map[string]any{turn}}
}

func searchCall(id, query string) signature.ToolCall {
	return signature.ToolCall{ID: id, Name: "search", Args: map[string]any{"query": query}}
}

// nonNativeToolHistory is the input of test_chat_adapter_format_exact_messages_with_non_native_tool_history,
// test_non_native_tool_history_remains_text_based and
// test_json_adapter_format_exact_non_native_tool_result_history_field.
func nonNativeToolHistory() Values {
	return Values{"question": "Q2", "tools": []signature.Tool{plainSearch()}, "history": toolHistory(Values{
		"question": "Q1", "next_thought": "I should search.",
		"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{searchCall("call_1", "cats")},
			Results: []signature.ToolCallResult{{CallID: "call_1", Name: "search", Value: "cat"}}},
	})}
}

// toolHistoryGoldenCases are the golden-file cases of this file.
func toolHistoryGoldenCases(t *testing.T) map[string]goldenCase {
	t.Helper()
	return map[string]goldenCase{
		// test_chat_adapter_format_exact_messages_with_non_native_tool_history
		"chat_with_non_native_tool_history.json": {
			sig: signature.MustParse(toolHistorySig), inputs: nonNativeToolHistory(),
			adapter: NewChat(WithNativeFunctionCalling(false)),
		},
	}
}

// test_non_native_tool_history_remains_text_based (ChatAdapter and
// JSONAdapter without native function calling) and
// test_json_adapter_format_exact_non_native_tool_result_history_field.
func TestDSPyNonNativeToolHistory(t *testing.T) {
	sig := signature.MustParse(toolHistorySig)
	for _, a := range []Adapter{NewChat(WithNativeFunctionCalling(false)), NewJSON(WithNativeFunctionCalling(false))} {
		req, err := a.Format(sig, nil, nonNativeToolHistory())
		if err != nil {
			t.Fatal(err)
		}
		msgs := req.Messages
		var roles []lm.Role
		for _, m := range msgs[1:] {
			roles = append(roles, m.Role)
		}
		if diff := cmp.Diff([]lm.Role{lm.RoleUser, lm.RoleAssistant, lm.RoleUser, lm.RoleUser}, roles); diff != "" {
			t.Fatalf("%T roles (-dspy +dspex):\n%s", a, diff)
		}
		switch {
		case !strings.Contains(msgs[1].Content, "Q1") || strings.Contains(msgs[1].Content, "tool_call_results"):
			t.Errorf("%T: first user message %q", a, msgs[1].Content)
		case !strings.Contains(msgs[2].Content, "tool_calls"):
			t.Errorf("%T: assistant message %q", a, msgs[2].Content)
		case !strings.Contains(msgs[3].Content, "[[ ## tool_call_results ## ]]") || !strings.Contains(msgs[3].Content, "cat") ||
			strings.Contains(msgs[3].Content, "Q2") || strings.Contains(msgs[3].Content, "None"):
			t.Errorf("%T: results message %q", a, msgs[3].Content)
		case !strings.Contains(msgs[4].Content, "Q2"):
			t.Errorf("%T: last message %q", a, msgs[4].Content)
		}
		if _, ok := a.(JSON); !ok {
			continue
		}
		want := []string{
			"[[ ## tool_call_results ## ]]\n" +
				`{"tool_call_results": [{"call_id": "call_1", "name": "search", "value": "cat", "is_error": false}]}`,
			"[[ ## question ## ]]\nQ2\n\n[[ ## tools ## ]]\n[\"search. It takes arguments {'query': {'type': 'string'}}.\"]\n\n" +
				"Respond with a JSON object in the following order of fields: `next_thought`, then " +
				"`tool_calls` (must be a JSON object like {\"tool_calls\": [{\"name\": \"...\", \"args\": {...}}]}).",
		}
		if diff := cmp.Diff(want, []string{msgs[3].Content, msgs[4].Content}); diff != "" {
			t.Errorf("json messages 3 and 4 (-dspy +dspex):\n%s", diff)
		}
	}
}

// nativeFormat formats a tool-history signature with native function
// calling.
func nativeFormat(t *testing.T, sig string, inputs Values) []lm.Message {
	t.Helper()
	req, err := NewChat(WithNativeFunctionCalling(true)).Format(signature.MustParse(sig), nil, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Tools) != 1 {
		t.Fatalf("tools = %+v, want search", req.Tools)
	}
	return req.Messages
}

// test_chat_adapter_native_tool_history_replay: the turn's reply carries
// the calls, the result follows as a tool message, and the final user
// message holds only the question. DSPy's tool message also names the tool
// ("name": "search"); lm.Message has no such field (OpenAI and Anthropic
// identify the call by its id), so that key is not checked.
func TestDSPyNativeToolHistoryReplay(t *testing.T) {
	msgs := nativeFormat(t, toolHistorySig, Values{"question": "Q2", "tools": []signature.Tool{plainSearch()},
		"history": toolHistory(Values{"question": "Q1", "next_thought": "I should search.",
			"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{searchCall("call_1", "cats")},
				Results: []signature.ToolCallResult{{CallID: "call_1", Name: "search", Value: map[string]any{"items": []any{"cat"}}}}}})})
	if msgs[1].Role != lm.RoleUser || !strings.Contains(msgs[1].Content, "Q1") {
		t.Errorf("message 1 = %+v", msgs[1])
	}
	want := []lm.Message{
		{Role: lm.RoleAssistant, Content: "[[ ## next_thought ## ]]\nI should search.\n\n[[ ## completed ## ]]\n",
			ToolCalls: []lm.ToolCall{{ID: "call_1", Name: "search", Arguments: `{"query": "cats"}`}}},
		{Role: lm.RoleTool, Content: `{"items": ["cat"]}`, ToolCallID: "call_1"},
	}
	if diff := cmp.Diff(want, msgs[2:4]); diff != "" {
		t.Errorf("(-dspy +dspex):\n%s", diff)
	}
	last := msgs[4]
	if last.Role != lm.RoleUser || !strings.Contains(last.Content, "Q2") {
		t.Errorf("last message = %+v", last)
	}
	for _, s := range []string{"history", "tools", "tool_call_results", "None"} {
		if strings.Contains(last.Content, s) {
			t.Errorf("last message holds %q: %q", s, last.Content)
		}
	}
}

// test_chat_adapter_native_tool_history_replays_parallel_tool_results.
func TestDSPyNativeToolHistoryParallelResults(t *testing.T) {
	msgs := nativeFormat(t, toolHistorySig, Values{"question": "Q2", "tools": []signature.Tool{plainSearch()},
		"history": toolHistory(Values{"question": "Q1", "next_thought": "I should search twice.",
			"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{searchCall("call_1", "cats"), searchCall("call_2", "dogs")},
				Results: []signature.ToolCallResult{
					{CallID: "call_1", Name: "search", Value: map[string]any{"items": []any{"cat"}}},
					{CallID: "call_2", Name: "search", Value: map[string]any{"items": []any{"dog"}}}}}})})
	var ids []string
	for _, c := range msgs[2].ToolCalls {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"call_1", "call_2"}, ids); diff != "" {
		t.Errorf("call ids (-dspy +dspex):\n%s", diff)
	}
	want := []lm.Message{
		{Role: lm.RoleTool, ToolCallID: "call_1", Content: `{"items": ["cat"]}`},
		{Role: lm.RoleTool, ToolCallID: "call_2", Content: `{"items": ["dog"]}`},
	}
	if diff := cmp.Diff(want, msgs[3:5]); diff != "" {
		t.Errorf("(-dspy +dspex):\n%s", diff)
	}
}

// test_chat_adapter_native_tool_history_skips_empty_user_message: a turn
// with no inputs has no user message; its reply is only the calls
// (DSPy's content None is an empty Content).
func TestDSPyNativeToolHistorySkipsEmptyUserMessage(t *testing.T) {
	msgs := nativeFormat(t, "history: dspy.History, tools: list[dspy.Tool] -> next_thought: str, tool_calls: dspy.ToolCalls",
		Values{"tools": []signature.Tool{plainSearch()}, "history": toolHistory(Values{
			"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{searchCall("call_1", "cats")},
				Results: []signature.ToolCallResult{{CallID: "call_1", Name: "search", Value: "cat result"}}}})})
	if msgs[1].Role != lm.RoleAssistant || msgs[1].Content != "" || len(msgs[1].ToolCalls) != 1 {
		t.Errorf("message 1 = %+v, want the assistant's calls without content", msgs[1])
	}
	if msgs[2].Role != lm.RoleTool || msgs[2].Content != "cat result" {
		t.Errorf("message 2 = %+v, want the tool result", msgs[2])
	}
}

// test_chat_adapter_native_tool_history_skips_unmatched_tool_calls (its
// three parameters): without results, with a result for another call, or
// with calls without ids, the turn's reply is replayed as text only.
func TestDSPyNativeToolHistorySkipsUnmatchedToolCalls(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      string
		results []signature.ToolCallResult
	}{
		{"no results", "call_1", nil},
		{"result of another call", "call_1", []signature.ToolCallResult{{CallID: "other_call", Name: "search", Value: "cat result"}}},
		{"no ids", "", []signature.ToolCallResult{{Name: "search", Value: "cat result"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := nativeFormat(t, toolHistorySig, Values{"question": "Q2", "tools": []signature.Tool{plainSearch()},
				"history": toolHistory(Values{"question": "Q1", "next_thought": "I should search.",
					"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{searchCall(tc.id, "cats")}, Results: tc.results}})})
			for i, m := range msgs {
				if len(m.ToolCalls) > 0 || m.Role == lm.RoleTool {
					t.Errorf("message %d replays the calls: %+v", i, m)
				}
			}
			if msgs[2].Role != lm.RoleAssistant || !strings.Contains(msgs[2].Content, "I should search.") {
				t.Errorf("message 2 = %+v", msgs[2])
			}
		})
	}
}
