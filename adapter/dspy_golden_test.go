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
	Repo     string       `json:"dspy_repo"`
	Commit   string       `json:"dspy_commit"`
	File     string       `json:"dspy_file"`
	Test     string       `json:"dspy_test"`
	Adapter  string       `json:"adapter"`
	Messages []lm.Message `json:"messages"`
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
			var got []lm.Message
			if tc.systemOnly {
				got = []lm.Message{{Role: lm.RoleSystem, Content: systemFor(t, g.Adapter, tc.sig)}}
			} else {
				var a Adapter = Chat{}
				if g.Adapter == "json" {
					a = JSON{}
				}
				req, err := a.Format(tc.sig, tc.demos, tc.inputs)
				if err != nil {
					t.Fatal(err)
				}
				got = req.Messages
			}
			if diff := cmp.Diff(g.Messages, got); diff != "" {
				t.Errorf("%s (%s:%s) messages differ from DSPy's (-dspy +dspex):\n%s", g.Test, g.File, g.Commit[:12], diff)
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
