package adapter

import (
	"encoding/json"
	"testing"

	"github.com/dspex-go/dspex/signature"
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
