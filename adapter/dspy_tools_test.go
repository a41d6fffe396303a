package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// DSPy's adapter tests with dspy.Tool inputs and dspy.ToolCalls outputs, at
// stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1):
// the golden-file cases, and the tests that check parts of the messages or
// the parser, each naming the DSPy test it transcribes.

// searchTool is dspy.Tool(search) for DSPy's
//
//	def search(query: str, k: int = 3) -> str:
//	    """Search for documents."""
func searchTool() signature.Tool {
	return signature.Tool{Name: "search", Desc: "Search for documents.", Args: []signature.ToolArg{
		{Name: "query", Schema: json.RawMessage(`{"type": "string"}`)},
		{Name: "k", Schema: json.RawMessage(`{"type": "integer", "default": 3}`)},
	}}
}

// Types standing for the pydantic models of the
// *_format_exact_messages_with_history_demo_pydantic_tools_and_image tests.
type (
	Location struct {
		City    string `json:"city"`
		Country string `json:"country"`
	}
	Profile struct {
		Name      string   `json:"name"`
		Location  Location `json:"location"`
		Interests []string `json:"interests"`
	}
	AnswerCard struct {
		Answer  string   `json:"answer"`
		Sources []string `json:"sources"`
	}
	richIn struct {
		History  signature.History
		Image    signature.Image
		Tools    []signature.Tool
		Profile  Profile
		Question string
	}
	richOut struct{ Answer AnswerCard }
)

// toolGoldenCases are the golden-file cases of this file.
func toolGoldenCases(t *testing.T) map[string]goldenCase {
	t.Helper()
	rich := signature.MustOf[richIn, richOut]().WithInstructions("Answer using all supplied context.")
	ada := Profile{Name: "Ada", Location: Location{City: "London", Country: "UK"}, Interests: []string{"math", "machines"}}
	grace := Profile{Name: "Grace", Location: Location{City: "Arlington", Country: "USA"}, Interests: []string{"compilers", "navy"}}
	type turn struct {
		Profile  Profile
		Question string
		Answer   AnswerCard
	}
	history, err := signature.HistoryOf(turn{Profile: ada, Question: "Who is Ada?",
		Answer: AnswerCard{Answer: "Ada is a mathematician.", Sources: []string{"memory"}}})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := signature.Encode(struct {
		Image    signature.Image
		Tools    []signature.Tool
		Profile  Profile
		Question string
		Answer   AnswerCard
	}{mustImage(t, "https://example.com/demo.png"), []signature.Tool{searchTool()}, ada, "What should we mention?",
		AnswerCard{Answer: "Mention analytical engines.", Sources: []string{"demo"}}})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := signature.Encode(richIn{History: history, Image: mustImage(t, "https://example.com/current.png"),
		Tools: []signature.Tool{searchTool()}, Profile: grace, Question: "What should the answer include?"})
	if err != nil {
		t.Fatal(err)
	}
	tools := []signature.Tool{searchTool()}
	native := signature.MustParse("question: str, tools: list[dspy.Tool] -> tool_calls: dspy.ToolCalls")
	return map[string]goldenCase{
		// test_chat_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image
		"chat_with_history_demo_pydantic_tools_and_image.json": {sig: rich, demos: []Values{demo}, inputs: inputs},
		// test_json_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image
		"json_with_history_demo_pydantic_tools_and_image.json": {sig: rich, demos: []Values{demo}, inputs: inputs},
		// test_chat_adapter_format_exact_messages_with_tool_input
		"chat_with_tool_input.json": {
			sig:    signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str"),
			inputs: Values{"question": "Q?", "tools": tools},
		},
		// test_chat_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling
		"chat_with_native_tool_calling.json": {
			sig: native, inputs: Values{"question": "Q?", "tools": tools},
			adapter: NewChat(WithNativeFunctionCalling(true)),
		},
		// test_json_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling
		// (JSONAdapter's default is native function calling, as JSON{}'s).
		"json_with_native_tool_calling.json": {sig: native, inputs: Values{"question": "Q?", "tools": tools}},
		// test_json_adapter_format_exact_messages_with_tool_calls_output_demo
		"json_with_tool_calls_output_demo.json": {
			sig: signature.MustParse("question: str -> tool_calls: dspy.ToolCalls"),
			demos: []Values{{"question": "Q1", "tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{
				{Name: "search", Args: map[string]any{"query": "cats"}}}}}},
			inputs:  Values{"question": "Q2"},
			adapter: NewJSON(WithNativeFunctionCalling(false)),
		},
		// test_chat_adapter_format_exact_messages_preserves_passthrough_lm_kwargs
		// (the keyword arguments: TestDSPyPassthroughLMKwargs).
		"chat_preserves_passthrough_lm_kwargs.json": {
			sig:    signature.MustParse("question: str -> answer: str"),
			inputs: Values{"question": "Q?"},
		},
	}
}

// weatherTools are dspy.Tool(get_weather) and dspy.Tool(get_population)
// of test_chat_adapter_with_tool and test_json_adapter_with_tool.
func weatherTools(t *testing.T) []signature.Tool {
	t.Helper()
	weather, err := signature.NewTool("get_weather", "Get the weather for a city",
		json.RawMessage(`{"type": "object", "properties": {"city": {"type": "string"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	population, err := signature.NewTool("get_population", "Get the population for a country",
		json.RawMessage(`{"type": "object", "properties": {"country": {"type": "string"}, "year": {"type": "integer"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return []signature.Tool{weather, population}
}

// test_chat_adapter_with_tool and test_json_adapter_with_tool. DSPy's
// adapter.format() never applies native function calling (its __call__
// does, before formatting); dspex's Format is what __call__ sends, so the
// text checks use the adapters without native function calling and the
// tools check uses the JSON adapter's default (native).
func TestDSPyWithTool(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str, tool_calls: dspy.ToolCalls").
		WithInstructions("Answer question with the help of the tools")
	inputs := Values{"question": "What is the weather in Tokyo?", "tools": weatherTools(t)}
	for _, a := range []Adapter{Chat{}, NewJSON(WithNativeFunctionCalling(false))} {
		req, err := a.Format(sig, nil, inputs)
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Messages) != 2 || len(req.Tools) != 0 {
			t.Fatalf("%T: %d messages and tools %v, want 2 and none", a, len(req.Messages), req.Tools)
		}
		if !strings.Contains(req.Messages[0].Content, toolCallsDescription) {
			t.Errorf("%T: system message lacks ToolCalls.description():\n%s", a, req.Messages[0].Content)
		}
		for _, want := range []string{"What is the weather in Tokyo?", "get_weather", "get_population",
			"{'city': {'type': 'string'}}", "{'country': {'type': 'string'}, 'year': {'type': 'integer'}}"} {
			if !strings.Contains(req.Messages[1].Content, want) {
				t.Errorf("%T: user message lacks %q:\n%s", a, want, req.Messages[1].Content)
			}
		}
	}
	req, err := JSON{}.Format(sig, nil, inputs)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"type": "function", "function": {"name": "get_weather", "description": "Get the weather for a city",
		"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
		{"type": "function", "function": {"name": "get_population", "description": "Get the population for a country",
		"parameters": {"type": "object", "properties": {"country": {"type": "string"}, "year": {"type": "integer"}},
		"required": ["country", "year"]}}}]`
	if got := openAITools(t, req.Tools); !jsonEqual(t, json.RawMessage(want), got) {
		t.Errorf("tools = %s, want %s", got, want)
	}
}

// toolCallReply answers with tool calls and the given text.
func toolCallReply(text string, calls ...lm.ToolCall) func(lm.Request) (lm.Response, error) {
	return func(lm.Request) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: text, ToolCalls: calls},
			FinishReason: "tool_calls"}}}, nil
	}
}

// test_chat_adapter_toolcalls_native_function_calling and
// test_json_adapter_toolcalls_native_function_calling (both use
// JSONAdapter(use_native_function_calling=True)): the provider's tool
// calls fill tool_calls and the missing answer is None; a text reply
// without tool calls fills answer and leaves tool_calls None.
func TestDSPyToolCallsNativeFunctionCalling(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str, tool_calls: dspy.ToolCalls")
	inputs := Values{"question": "What is the weather in Paris?", "tools": weatherTools(t)[:1]}
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){
		toolCallReply("", lm.ToolCall{ID: "call_pQm8ajtSMxgA0nrzK2ivFmxG", Name: "get_weather", Arguments: `{"city":"Paris"}`}),
		reply("{'answer': 'Paris'}"),
	}}
	a := NewJSON(WithNativeFunctionCalling(true))
	res, err := Call(context.Background(), model, a, sig, nil, inputs, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"answer": nil, "tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{
		{ID: "call_pQm8ajtSMxgA0nrzK2ivFmxG", Name: "get_weather", Args: map[string]any{"city": "Paris"}}}}}
	if diff := cmp.Diff(want, res.Outputs[0]); diff != "" {
		t.Errorf("tool-call reply (-dspy +dspex):\n%s", diff)
	}
	if len(res.Request.Tools) != 1 || res.Request.Tools[0].Name != "get_weather" {
		t.Errorf("request tools = %+v", res.Request.Tools)
	}
	res, err = Call(context.Background(), model, a, sig, nil, inputs, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Values{"answer": "Paris", "tool_calls": nil}, res.Outputs[0]); diff != "" {
		t.Errorf("text reply (-dspy +dspex):\n%s", diff)
	}
}

// nativeChoice parses one reply message with native function calling, as
// DSPy's _call_postprocess does.
func nativeChoice(t *testing.T, sig signature.Signature, msg lm.Message) (Values, error) {
	t.Helper()
	return parseMessage(NewChat(WithNativeFunctionCalling(true)), sig, msg)
}

// test_tool_call_with_null_or_missing_content_does_not_raise (both
// parametrized outputs: text None and no text key are an empty Content),
// test_tool_call_with_structured_content_preserves_other_outputs,
// test_provider_tool_calls_preserve_id_and_repair_arguments, and the tool
// call half of test_tool_call_with_unstructured_content_does_not_raise
// (its next_thought is a dspy.Reasoning filled from the provider's
// reasoning_content, which dspex does not have).
func TestDSPyProviderToolCalls(t *testing.T) {
	sig := signature.MustParse("question, tools: list[dspy.Tool] -> answer, tool_calls: dspy.ToolCalls")
	search := lm.ToolCall{ID: "call_1", Name: "search", Arguments: `{"query": "test"}`}
	calls := signature.ToolCalls{Calls: []signature.ToolCall{{ID: "call_1", Name: "search", Args: map[string]any{"query": "test"}}}}
	tests := []struct {
		name string
		sig  signature.Signature
		msg  lm.Message
		want Values
	}{
		{"null or missing content", sig, lm.Message{ToolCalls: []lm.ToolCall{search}},
			Values{"answer": nil, "tool_calls": calls}},
		{"unstructured content", sig, lm.Message{Content: "I'll search for that now.", ToolCalls: []lm.ToolCall{search}},
			Values{"answer": nil, "tool_calls": calls}},
		{"structured content", sig,
			lm.Message{Content: "[[ ## answer ## ]]\nI should use a tool.\n\n[[ ## completed ## ]]", ToolCalls: []lm.ToolCall{search}},
			Values{"answer": "I should use a tool.", "tool_calls": calls}},
		{"id kept and arguments repaired", signature.MustParse("question, tools: list[dspy.Tool] -> tool_calls: dspy.ToolCalls"),
			lm.Message{ToolCalls: []lm.ToolCall{{ID: "call_from_responses", Name: "search", Arguments: `{"query": "cats",}`}}},
			Values{"tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{
				{ID: "call_from_responses", Name: "search", Args: map[string]any{"query": "cats"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nativeChoice(t, tc.sig, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-dspy +dspex):\n%s", diff)
			}
		})
	}
}

// test_chat_adapter_toolcalls_vague_match: a ToolCalls value written as a
// list of calls or as one call. DSPy's first case,
// "[{'name': 'get_weather', 'args': {'city': 'Paris'}]", lacks a closing
// brace that json_repair adds; dspex does not repair missing brackets
// (adapter/doc.go) and reports the field, which this test pins.
func TestDSPyToolCallsVagueMatch(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> tool_calls: dspy.ToolCalls")
	want := signature.ToolCalls{Calls: []signature.ToolCall{{Name: "get_weather", Args: map[string]any{"city": "Paris"}}}}
	for _, text := range []string{
		"[[ ## tool_calls ## ]]\n{'name': 'get_weather', 'args': {'city': 'Paris'}}",
		"[[ ## tool_calls ## ]]\n[{'name': 'get_weather', 'args': {'city': 'Paris'}}]",
		"[[ ## tool_calls ## ]]\n{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}]}",
	} {
		got, err := Chat{}.Parse(sig, text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if diff := cmp.Diff(want, got["tool_calls"]); diff != "" {
			t.Errorf("%q (-dspy +dspex):\n%s", text, diff)
		}
	}
	_, err := Chat{}.Parse(sig, "[[ ## tool_calls ## ]]\n[{'name': 'get_weather', 'args': {'city': 'Paris'}]")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "tool_calls" || !errors.Is(err, ErrInvalidValue) {
		t.Errorf("unbalanced brackets: err = %v, want an invalid-value *ParseError for tool_calls", err)
	}
}

// test_json_adapter_toolcalls_no_native_function_calling: without native
// function calling a ToolCalls output asks for a JSON object, not
// structured outputs; the reply's tool_calls parse.
func TestDSPyJSONToolCallsNoNativeFunctionCalling(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str, tool_calls: dspy.ToolCalls")
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply("{'answer': 'sunny', 'tool_calls': {'tool_calls': []}}")}}
	res, err := Call(context.Background(), model, NewJSON(WithNativeFunctionCalling(false)), sig, nil,
		Values{"question": "What is the weather in Tokyo?", "tools": weatherTools(t)[:1]}, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	req := model.requests()[0]
	if req.ResponseFormat != lm.FormatJSON || req.Schema != nil || len(req.Tools) != 0 {
		t.Errorf("request format %q, schema %v, tools %v; want a plain JSON object and no tools", req.ResponseFormat, req.Schema, req.Tools)
	}
	if diff := cmp.Diff(Values{"answer": "sunny", "tool_calls": signature.ToolCalls{Calls: []signature.ToolCall{}}}, res.Outputs[0]); diff != "" {
		t.Errorf("(-dspy +dspex):\n%s", diff)
	}
}

// test_chat_adapter_nonnative_strips_native_tool_kwargs: without native
// function calling no tools reach the LM, whatever the caller's request
// held.
func TestDSPyNonNativeStripsToolKwargs(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> tool_calls: dspy.ToolCalls")
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){
		reply("[[ ## tool_calls ## ]]\n{\"tool_calls\": []}\n\n[[ ## completed ## ]]")}}
	base := lm.Request{Tools: []lm.ToolDef{{Name: "submit"}}, ToolChoice: "submit"}
	if _, err := Call(context.Background(), model, NewChat(WithNativeFunctionCalling(false)), sig, nil,
		Values{"question": "Q?", "tools": []signature.Tool{searchTool()}}, base); err != nil {
		t.Fatal(err)
	}
	if req := model.requests()[0]; len(req.Tools) != 0 || req.ToolChoice != "" {
		t.Errorf("request tools %v, tool choice %q; want none", req.Tools, req.ToolChoice)
	}
}

// A ToolCalls output without a Tool input cannot use native function
// calling, as DSPy's _call_preprocess raises.
func TestNativeToolCallsNeedToolsInput(t *testing.T) {
	sig := signature.MustParse("question: str -> tool_calls: dspy.ToolCalls")
	_, err := JSON{}.Format(sig, nil, Values{"question": "Q?"})
	if !errors.Is(err, ErrNoToolsInput) {
		t.Errorf("err = %v, want ErrNoToolsInput", err)
	}
}

// test_chat_adapter_fallback_preserves_native_function_calling_flag and
// test_chat_adapter_async_fallback_preserves_native_function_calling_flag:
// the JSON adapter Chat falls back to keeps Chat's setting, though JSON's
// own default is native.
func TestDSPyFallbackPreservesNativeFunctionCalling(t *testing.T) {
	sig := signature.MustParse("question: str, tools: list[dspy.Tool] -> answer: str, tool_calls: dspy.ToolCalls")
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){
		reply("nonsense"), reply(`{"answer": "Paris", "tool_calls": []}`)}}
	res, err := Call(context.Background(), model, NewChat(WithNativeFunctionCalling(false)), sig, nil,
		Values{"question": "What is the capital of France?", "tools": []signature.Tool{searchTool()}}, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fallback || res.Outputs[0]["answer"] != "Paris" {
		t.Fatalf("fallback %v, outputs %v", res.Fallback, res.Outputs)
	}
	req := model.requests()[1]
	if len(req.Tools) != 0 || !strings.Contains(req.Messages[0].Content, "`tool_calls` (ToolCalls)") {
		t.Errorf("the JSON fallback used native function calling: tools %v", req.Tools)
	}
}

// tests/adapters/test_tool.py at the same commit: the tests of dspy.Tool
// and dspy.ToolCalls that concern what the adapters send and parse.
func TestDSPyToolTypes(t *testing.T) {
	// test_tool_str
	add, err := signature.NewTool("add", "Add two integers.",
		json.RawMessage(`{"properties": {"x": {"type": "integer"}, "y": {"type": "integer", "default": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := toolText(add); got != "add, whose description is <desc>Add two integers.</desc>. It takes arguments {'x': {'type': 'integer'}, 'y': {'type': 'integer', 'default': 0}}." {
		t.Errorf("str(tool) = %q", got)
	}
	// test_format_as_litellm_function_call_excludes_defaulted_args_from_required
	// (dummy_function(x: int, y: str = "hello")).
	dummy, err := signature.NewTool("dummy_function", "", json.RawMessage(
		`{"properties": {"x": {"type": "integer"}, "y": {"type": "string", "default": "hello"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "string", "default": "hello"}}, "required": ["x"]}`
	if got := dummy.Parameters(); !jsonEqual(t, json.RawMessage(want), got) {
		t.Errorf("parameters = %s, want %s", got, want)
	}

	// test_tool_calls_format_basic (its four cases),
	// test_tool_calls_format_from_dict_list and
	// test_tool_calls_preserves_ids_from_dict_list_and_format_omits_ids.
	for _, tc := range []struct {
		calls []signature.ToolCall
		want  string
	}{
		{nil, `{"tool_calls": []}`},
		{[]signature.ToolCall{{Name: "search", Args: map[string]any{"query": "hello"}}},
			`{"tool_calls": [{"name": "search", "args": {"query": "hello"}}]}`},
		{[]signature.ToolCall{{ID: "call_1", Name: "search", Args: map[string]any{"query": "hello"}},
			{Name: "translate", Args: map[string]any{"text": "world", "lang": "fr"}}},
			`{"tool_calls": [{"name": "search", "args": {"query": "hello"}}, {"name": "translate", "args": {"lang": "fr", "text": "world"}}]}`},
		{[]signature.ToolCall{{Name: "get_time"}}, `{"tool_calls": [{"name": "get_time", "args": {}}]}`},
	} {
		got, err := scalarText(signature.ToolCalls{Calls: tc.calls})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("format() = %s, want %s", got, tc.want)
		}
	}

	// test_tool_calls_json_schema_omits_internal_id_field
	want = `{"type": "object", "$defs": {"ToolCall": {"type": "object", "properties": {"args": {"type": "object", ` +
		`"additionalProperties": true, "title": "Args"}, "name": {"type": "string", "title": "Name"}}, "required": ` +
		`["name", "args"], "title": "ToolCall"}}, "properties": {"tool_calls": {"type": "array", "items": {"$ref": ` +
		`"#/$defs/ToolCall"}, "title": "Tool Calls"}}, "required": ["tool_calls"], "title": "ToolCalls"}`
	if got := JSONSchema(toolCallsModel); got != want {
		t.Errorf("schema = %s\nwant     %s", got, want)
	}

	// test_toolcalls_vague_match
	search := signature.ToolCall{Name: "search", Args: map[string]any{"query": "hello"}}
	for _, tc := range []struct {
		in   string
		want []signature.ToolCall
	}{
		{`{"name": "search", "args": {"query": "hello"}}`, []signature.ToolCall{search}},
		{`[{"name": "search", "args": {"query": "hello"}}, {"name": "translate", "args": {"text": "world", "lang": "fr"}}]`,
			[]signature.ToolCall{search, {Name: "translate", Args: map[string]any{"text": "world", "lang": "fr"}}}},
		{`{"tool_calls": [{"name": "search", "args": {"query": "hello"}}, {"name": "get_time", "args": {}}]}`,
			[]signature.ToolCall{search, {Name: "get_time", Args: map[string]any{}}}},
		{`{"name": "search", "arguments": {"query": "hello"}}`, []signature.ToolCall{search}},
		{`[{"name": "search", "arguments": {"query": "hello"}}, {"name": "get_time", "arguments": {}}]`,
			[]signature.ToolCall{search, {Name: "get_time", Args: map[string]any{}}}},
		{`{"tool_calls": [{"name": "search", "arguments": {"query": "hello"}}]}`, []signature.ToolCall{search}},
		{`{"type": "function", "function": {"name": "search", "arguments": {"query": "hello"}}}`, []signature.ToolCall{search}},
		{`{"type": "function", "function": {"name": "search", "arguments": "{\"query\":\"hello\"}"}}`, []signature.ToolCall{search}},
	} {
		got, err := coerceText(signature.TypeToolCalls, tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(signature.ToolCalls{Calls: tc.want}, got); diff != "" {
			t.Errorf("%s (-dspy +dspex):\n%s", tc.in, diff)
		}
	}
	for _, in := range []string{`{"foo": "bar"}`, `[{"foo": "bar"}]`, `[{"function": "bad"}]`} {
		if _, err := coerceText(signature.TypeToolCalls, in); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: err = %v, want ErrInvalidValue", in, err)
		}
	}
}
