package adapter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// DSPy's adapter tests that run the adapter against a (mocked) LM, at
// stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1),
// transcribed onto Call with a scripted LM. dspex has no separate async
// call: each async DSPy test asserts what its sync twin does, and the Go
// test of the sync twin names both.

var capitalQuestion = Values{"question": "What is the capital of France?"}

// test_chat_adapter_sync_call, test_chat_adapter_async_call,
// test_json_adapter_sync_call, test_json_adapter_async_call: DSPy's DummyLM
// answers {"answer": "Paris"} in the adapter's own format.
func TestDSPySyncCall(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	for _, tc := range []struct {
		a     Adapter
		reply string
	}{
		{Chat{}, "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]\n"},
		{JSON{}, "{\n  \"answer\": \"Paris\"\n}"},
	} {
		model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply(tc.reply)}}
		res, err := Call(context.Background(), model, tc.a, sig, nil, capitalQuestion, lm.Request{})
		if err != nil {
			t.Fatalf("%T: %v", tc.a, err)
		}
		if diff := cmp.Diff([]Values{{"answer": "Paris"}}, res.Outputs); diff != "" {
			t.Errorf("%T (-dspy +dspex):\n%s", tc.a, diff)
		}
	}
}

// test_chat_adapter_exception_raised_on_failure: a reply without markers
// is a parse error naming the Chat adapter.
func TestDSPyChatExceptionOnFailure(t *testing.T) {
	_, err := Chat{}.Parse(signature.MustParse("question -> answer"), "{'output':'mismatched value'}")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Adapter != "chat" || !errors.Is(err, ErrMissingField) {
		t.Errorf("err = %v, want the chat adapter's *ParseError", err)
	}
}

// test_chat_adapter_fallback_to_json_adapter_on_exception and
// test_chat_adapter_fallback_to_json_adapter_on_exception_async: a reply
// the Chat parser cannot read is asked again through the JSON adapter.
func TestDSPyChatFallbackToJSON(t *testing.T) {
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply("{'answer': 'Paris'}"), reply("{'answer': 'Paris'}")}}
	res, err := Call(context.Background(), model, Chat{}, signature.MustParse("question -> answer"), nil, capitalQuestion, lm.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fallback || len(model.requests()) != 2 || model.requests()[1].ResponseFormat != lm.FormatJSON {
		t.Errorf("fallback %v after %d calls; want the JSON adapter's second call", res.Fallback, len(model.requests()))
	}
	if diff := cmp.Diff([]Values{{"answer": "Paris"}}, res.Outputs); diff != "" {
		t.Errorf("(-dspy +dspex):\n%s", diff)
	}
}

// test_chat_adapter_respects_use_json_adapter_fallback_flag: without the
// fallback the parse error is returned after one call.
func TestDSPyChatRespectsNoJSONFallback(t *testing.T) {
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply("nonsense"), reply(`{"answer": "Paris"}`)}}
	_, err := Call(context.Background(), model, NewChat(WithoutJSONFallback()), signature.MustParse("question -> answer"), nil, capitalQuestion, lm.Request{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Adapter != "chat" {
		t.Errorf("err = %v, want the chat adapter's *ParseError", err)
	}
	if n := len(model.requests()); n != 1 {
		t.Errorf("%d LM calls, want 1", n)
	}
}

// test_null_content_raises_adapter_parse_error and
// test_empty_string_content_raises_adapter_parse_error (DSPy runs them
// through ChainOfThought; the parse error is the adapter's): an empty
// reply is a parse error, after the JSON fallback too.
func TestDSPyEmptyContentRaises(t *testing.T) {
	sig := signature.MustParse("question -> reasoning, answer")
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply(""), reply("")}}
	_, err := Call(context.Background(), model, Chat{}, sig, nil, Values{"question": "test"}, lm.Request{})
	if !errors.Is(err, ErrEmptyCompletion) {
		t.Errorf("err = %v, want ErrEmptyCompletion", err)
	}
}

// test_chat_adapter_format_exact_messages_preserves_passthrough_lm_kwargs:
// the caller's temperature, max_tokens and cache setting reach the LM
// unchanged (the messages are the golden file
// chat_preserves_passthrough_lm_kwargs.json). DSPy's stream=True is
// StreamCall in dspex.
func TestDSPyPassthroughLMKwargs(t *testing.T) {
	model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){reply("[[ ## answer ## ]]\nA\n\n[[ ## completed ## ]]")}}
	base := lm.Request{Temperature: lm.Float(0.7), MaxTokens: 42, NoCache: true}
	if _, err := Call(context.Background(), model, Chat{}, signature.MustParse("question: str -> answer: str"), nil,
		Values{"question": "Q?"}, base); err != nil {
		t.Fatal(err)
	}
	req := model.requests()[0]
	if req.Temperature == nil || *req.Temperature != 0.7 || req.MaxTokens != 42 || !req.NoCache {
		t.Errorf("request settings = temperature %v, max tokens %d, no cache %v", req.Temperature, req.MaxTokens, req.NoCache)
	}
}

// test_json_adapter_does_not_fallback_to_json_mode_on_structured_output_lm_error
// (and _async): an LM failure that is not a refusal of the response format
// is returned after one call made with structured outputs; and
// test_error_message_on_json_adapter_failure (and _async): the error says
// what the LM said.
func TestDSPyJSONLMErrorNotRetried(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "question"}}, []signature.Field{{Name: "answer", Desc: "String output field"}})
	for _, msg := range []string{"Structured output failed!", "RuntimeError!", "ValueError!"} {
		model := &scriptedLM{replies: []func(lm.Request) (lm.Response, error){fail(errors.New(msg)), reply(`{"answer": "x"}`)}}
		_, err := Call(context.Background(), model, JSON{}, sig, nil, Values{"question": "Dummy question!"}, lm.Request{})
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("err = %v, want it to say %q", err, msg)
		}
		reqs := model.requests()
		if len(reqs) != 1 || reqs[0].Schema == nil {
			t.Errorf("%d calls, first with schema %v; want one structured-output call", len(reqs), reqs[0].Schema)
		}
	}
}

// test_json_adapter_passes_structured_output_when_supported_by_model: the
// request carries the schema of every output (the provider sends it when
// it supports structured outputs, see lm.OpenAIConfig); and
// test_json_adapter_with_structured_outputs_does_not_mutate_original_signature.
func TestDSPyJSONStructuredOutputSchema(t *testing.T) {
	type OutputField3 struct {
		Subfield1 int     `json:"subfield1" desc:"Int subfield 1"`
		Subfield2 float64 `json:"subfield2" desc:"Float subfield 2"`
	}
	type in struct{ Input1 string }
	type out struct {
		Output1            string
		Output2            bool         `desc:"Boolean output field"`
		Output3            OutputField3 `desc:"Nested output field"`
		Output4Unannotated string       `dspy:"output4_unannotated" desc:"Unannotated output field"`
	}
	sig := signature.MustOf[in, out]()
	before := sig.String()
	req, err := JSON{}.Format(sig, nil, Values{"input1": "Test input"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Schema == nil || !req.Schema.Strict {
		t.Fatalf("schema = %+v, want a strict schema", req.Schema)
	}
	for _, name := range []string{"output1", "output2", "output3", "output4_unannotated"} {
		if !strings.Contains(string(req.Schema.Schema), `"`+name+`"`) {
			t.Errorf("schema lacks %s: %s", name, req.Schema.Schema)
		}
	}
	if sig.String() != before {
		t.Errorf("signature changed: %s, was %s", sig, before)
	}
}

// test_output_field_default_is_overridden_by_lm_response (the chat file's
// OptionalOutputSignature): values in the reply are parsed, a JSON list in
// a list[str] field included.
func TestDSPyOutputsFromReply(t *testing.T) {
	sig := signature.MustParse("question: str -> answer: str, note: Optional[str], tags: list[str], maybe: Optional[str]")
	got, err := Chat{}.Parse(sig, "[[ ## answer ## ]]\n42\n\n[[ ## note ## ]]\nhello\n\n[[ ## tags ## ]]\n[\"a\"]\n\n[[ ## maybe ## ]]\nyes\n\n[[ ## completed ## ]]")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Values{"answer": "42", "note": "hello", "tags": []any{"a"}, "maybe": "yes"}, got); diff != "" {
		t.Errorf("(-dspy +dspex):\n%s", diff)
	}
}

// test_missing_optional_output_fields_fall_back_to_defaults (chat and
// json files) and test_missing_required_output_field_still_raises: dspex
// has no output defaults (adapter/doc.go), so where DSPy fills note with
// its default "No note" and tags with [] dspex gives nil for the optional
// note and an error for the list without a default; a missing required
// answer is an error in both.
func TestDSPyMissingOutputsWithoutDefaults(t *testing.T) {
	sig := signature.MustParse("question: str -> answer: str, note: Optional[str], maybe: Optional[str]")
	got, err := JSON{}.Parse(sig, `{"answer": "42"}`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Values{"answer": "42", "note": nil, "maybe": nil}, got); diff != "" {
		t.Errorf("(-dspy's None fields +dspex):\n%s", diff)
	}
	if _, err := (JSON{}).Parse(sig, `{"note": "present"}`); !errors.Is(err, ErrMissingField) {
		t.Errorf("missing answer: err = %v, want ErrMissingField", err)
	}
	withTags := signature.MustParse("question: str -> answer: str, tags: list[str]")
	if _, err := (Chat{}).Parse(withTags, "[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"); !errors.Is(err, ErrMissingField) {
		t.Errorf("missing tags (DSPy: default []): err = %v, want ErrMissingField", err)
	}
}
