package adapter

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// The golden files under testdata/dspy hold the messages DSPy's own adapter
// tests expect, transcribed by testdata/dspy/extract.py from
// stanfordnlp/dspy at the commit each file names (DSPy 3.3.1). Each case
// below rebuilds the test's signature, demos and inputs in Go; the messages
// dspex formats must equal DSPy's byte for byte.

type goldenFile struct {
	Repo     string          `json:"dspy_repo"`
	Commit   string          `json:"dspy_commit"`
	File     string          `json:"dspy_file"`
	Test     string          `json:"dspy_test"`
	Adapter  string          `json:"adapter"`
	Messages []goldenMessage `json:"messages"`
	// LMKwargs are the keyword arguments DSPy's test expects the LM to get,
	// when it checks them.
	LMKwargs map[string]json.RawMessage `json:"lm_kwargs"`
}

// goldenMessage is a message as DSPy writes it: content a string, or a
// list of OpenAI content parts.
type goldenMessage struct {
	Role    lm.Role         `json:"role"`
	Content json.RawMessage `json:"content"`
}

// message converts m to the lm.Message dspex builds for it: a list of
// parts becomes Parts (text and image_url parts), with Content their text
// as lm.PartsText writes it.
func (m goldenMessage) message(t *testing.T) lm.Message {
	t.Helper()
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return lm.Message{Role: m.Role, Content: s}
	}
	var raw []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(m.Content, &raw); err != nil {
		t.Fatalf("golden content: %v", err)
	}
	parts := make([]lm.ContentPart, len(raw))
	for i, p := range raw {
		switch p.Type {
		case "text":
			parts[i] = lm.TextPart(p.Text)
		case "image_url":
			parts[i] = lm.ImageURLPart(p.ImageURL.URL)
		default:
			t.Fatalf("golden content part of type %q", p.Type)
		}
	}
	return lm.Message{Role: m.Role, Content: lm.PartsText(parts), Parts: parts}
}

// openAITools writes request tools as DSPy passes them to the LM (the
// "tools" keyword argument, OpenAI's function tools).
func openAITools(t *testing.T, defs []lm.ToolDef) json.RawMessage {
	t.Helper()
	type function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	}
	type tool struct {
		Type     string   `json:"type"`
		Function function `json:"function"`
	}
	out := make([]tool, len(defs))
	for i, d := range defs {
		out[i] = tool{Type: "function", Function: function{d.Name, d.Description, d.Parameters}}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y)
}

// Types standing for the pydantic models and enums of DSPy's tests.
type (
	goldenAddress struct {
		City    string `json:"city"`
		Country string `json:"country"`
	}
	goldenPerson struct {
		Name    string        `json:"name"`
		Address goldenAddress `json:"address"`
		Tags    []string      `json:"tags"`
	}
	goldenSummary struct {
		Headline string  `json:"headline"`
		Score    float64 `json:"score"`
	}
	goldenPersonIn struct {
		Person goldenPerson
	}
	goldenSummaryOut struct {
		Summary goldenSummary
	}

	JsonNestedAddress struct {
		City    string `json:"city"`
		Country string `json:"country"`
	}
	JsonNestedSummary struct {
		Title   string            `json:"title"`
		Address JsonNestedAddress `json:"address"`
		Scores  []float64         `json:"scores"`
	}
	nestedQuestion struct{ Question string }
	nestedOut      struct{ Summary JsonNestedSummary }

	Label       string
	labelIn     struct{ Text string }
	labelOutput struct {
		Decision string `enum:"accept,reject"`
		Label    Label
	}
)

func (Label) EnumValues() []string { return []string{"positive", "negative"} }

// Go type names differ from the Python class names in two cases; the
// signature carries the Python names so that the prompt says them.
func renamed(t signature.Type, name string) signature.Type {
	t.Name = name
	return t
}

type goldenCase struct {
	sig        signature.Signature
	demos      []Values
	inputs     Values
	systemOnly bool
	// adapter, when set, formats the case instead of Chat{} or JSON{}.
	adapter Adapter
}

func goldenCases(t *testing.T) map[string]goldenCase {
	t.Helper()
	str := func(name string) signature.Field { return signature.Field{Name: name} }
	typed := func(name string, typ signature.Type) signature.Field { return signature.Field{Name: name, Type: typ} }
	mk := func(instr string, in, out []signature.Field) signature.Signature {
		s, err := signature.New("", instr, in, out)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	multi := mk("Answer the question with multiple answers and scores",
		[]signature.Field{str("question")},
		[]signature.Field{typed("answers", signature.ListOf(signature.TypeString)), typed("scores", signature.ListOf(signature.TypeFloat))})

	personSig := signature.MustOf[goldenPersonIn, goldenSummaryOut]()
	pf, sf := personSig.Inputs()[0], personSig.Outputs()[0]
	pf.Type = renamed(pf.Type, "Person")
	sf.Type = renamed(sf.Type, "Summary")
	personSig = mk("", []signature.Field{pf}, []signature.Field{sf})

	incomplete := func(second string) signature.Signature {
		return mk("", []signature.Field{str("question"), str("context")},
			[]signature.Field{str("answer"), typed(second, signature.TypeFloat)})
	}

	return map[string]goldenCase{
		"chat_for_simple_signature.json": {
			sig:    mk("Answer the question.", []signature.Field{str("question")}, []signature.Field{str("answer")}),
			inputs: Values{"question": "What is the capital of France?"},
		},
		"chat_with_demo_and_typed_outputs.json": {
			sig:    multi,
			demos:  []Values{{"question": "Q1", "answers": []string{"A1", "A2"}, "scores": []float64{0.1, 0.9}}},
			inputs: Values{"question": "Q2"},
		},
		"chat_with_nested_pydantic_models.json": {
			sig: personSig,
			inputs: Values{"person": goldenPerson{Name: "Ada", Address: goldenAddress{City: "London", Country: "UK"},
				Tags: []string{"math", "code"}}},
		},
		"chat_with_incomplete_demo.json": {
			sig:    incomplete("confidence"),
			demos:  []Values{{"question": "Q1", "answer": "A1"}},
			inputs: Values{"question": "Q2", "context": "C2"},
		},
		"chat_with_list_value_for_string_input.json": {
			sig:    mk("", []signature.Field{str("context")}, []signature.Field{str("answer")}),
			inputs: Values{"context": []string{"alpha", "beta"}},
		},
		"chat_with_literal_output.json": {
			sig:    signature.MustParse(`question: str -> verdict: Literal["yes", "no"]`),
			inputs: Values{"question": "Is the sky blue?"},
		},
		"chat_format_system_message.json": {sig: multi, systemOnly: true},
		"json_for_simple_signature.json": {
			sig:    signature.MustParse("question -> answer"),
			inputs: Values{"question": "What is the capital of France?"},
		},
		"json_with_demo_and_typed_output.json": {
			sig:    signature.MustParse("question -> answer, confidence: float"),
			demos:  []Values{{"question": "Q1", "answer": "A1", "confidence": 0.9}},
			inputs: Values{"question": "Q2"},
		},
		"json_with_described_and_bool_outputs.json": {
			sig: mk("", []signature.Field{str("input1")},
				[]signature.Field{{Name: "output1", Desc: "String output field"}, typed("output2", signature.TypeBool)}),
			inputs: Values{"input1": "Test input"},
		},
		"json_with_int_and_mapping_outputs.json": {
			sig:    signature.MustParse("question: str -> count: int, metadata: dict[str, int]"),
			inputs: Values{"question": "Count things"},
		},
		"json_with_literal_and_enum_outputs.json": {
			sig:    signature.MustOf[labelIn, labelOutput](),
			inputs: Values{"text": "Looks good"},
		},
		"json_with_nested_pydantic_output.json": {
			sig:    signature.MustOf[nestedQuestion, nestedOut](),
			inputs: Values{"question": "Summarize"},
		},
		"json_with_incomplete_demo.json": {
			sig:    incomplete("score"),
			demos:  []Values{{"question": "Q1", "answer": "A1"}},
			inputs: Values{"question": "Q2", "context": "C2"},
		},
		"json_format_system_message.json": {sig: multi, systemOnly: true},
	}
}

func TestDSPyGolden(t *testing.T) {
	cases := goldenCases(t)
	maps.Copy(cases, mediaGoldenCases(t))
	maps.Copy(cases, toolGoldenCases(t))
	maps.Copy(cases, toolHistoryGoldenCases(t))
	files, err := filepath.Glob(filepath.Join("testdata", "dspy", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(cases) {
		t.Errorf("%d golden files, %d cases", len(files), len(cases))
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var g goldenFile
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			if g.Repo != "stanfordnlp/dspy" || len(g.Commit) != 40 || g.File == "" || g.Test == "" {
				t.Fatalf("golden file does not cite its DSPy source: %+v", g)
			}
			tc, ok := cases[name]
			if !ok {
				t.Fatalf("no Go case for %s", name)
			}
			var (
				got []lm.Message
				req lm.Request
			)
			if tc.systemOnly {
				got = []lm.Message{{Role: lm.RoleSystem, Content: systemFor(t, g.Adapter, tc.sig)}}
			} else {
				a := tc.adapter
				switch {
				case a != nil:
				case g.Adapter == "json":
					a = JSON{}
				default:
					a = Chat{}
				}
				var err error
				if req, err = a.Format(tc.sig, tc.demos, tc.inputs); err != nil {
					t.Fatal(err)
				}
				got = req.Messages
			}
			want := make([]lm.Message, len(g.Messages))
			for i, m := range g.Messages {
				want[i] = m.message(t)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (%s:%s) messages differ from DSPy's (-dspy +dspex):\n%s", g.Test, g.File, g.Commit[:12], diff)
			}
			// The tools DSPy passes to the LM are the request's Tools. Other
			// keyword arguments are the caller's settings (Call copies them,
			// see TestDSPyPassthroughLMKwargs) or DSPy's response_format,
			// which these tests' DummyLM does not take.
			if wantTools, ok := g.LMKwargs["tools"]; ok {
				if gotTools := openAITools(t, req.Tools); !jsonEqual(t, wantTools, gotTools) {
					t.Errorf("tools = %s, want DSPy's %s", gotTools, wantTools)
				}
			} else if len(req.Tools) > 0 {
				t.Errorf("request has tools %+v; DSPy passes none", req.Tools)
			}
		})
	}
}

func systemFor(t *testing.T, adapter string, sig signature.Signature) string {
	t.Helper()
	if adapter == "json" {
		s, err := JSON{}.systemMessage(sig)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return Chat{}.systemMessage(sig)
}
