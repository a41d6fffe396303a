package simlm

import (
	"github.com/dspex-go/dspex/schema"

	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleSystem = "Your input fields are:\n" +
	"1. `question` (str): The question to answer\n" +
	"2. `context` (list[str])\n" +
	"Your output fields are:\n" +
	"1. `reasoning` (str)\n" +
	"2. `answer` (dict[str, float]): A mapping\n" +
	"3. `choice` (Literal['yes', 'no'])\n" +
	"All interactions will be structured in the following way, with the appropriate values filled in.\n\n" +
	"[[ ## question ## ]]\n{question}\n\n[[ ## context ## ]]\n{context}\n\n" +
	"[[ ## reasoning ## ]]\n{reasoning}\n\n" +
	"[[ ## answer ## ]]\n{answer}        # note: the value you produce must adhere to the JSON schema: {\"type\": \"object\"}\n\n" +
	"[[ ## choice ## ]]\n{choice}\n\n" +
	"[[ ## completed ## ]]\n" +
	"In adhering to this structure, your objective is: \n" +
	"        Answer the question.\n" +
	"        Be brief."

func TestParsePrompt(t *testing.T) {
	msgs := []message{
		{Role: "system", Text: sampleSystem},
		{Role: "user", Text: "[[ ## question ## ]]\nWhat is 1+1?\n\n[[ ## context ## ]]\n[\"math\"]"},
		{Role: "assistant", Text: "[[ ## reasoning ## ]]\nAdd.\n\n[[ ## answer ## ]]\n{\"x\": 2}\n\n[[ ## choice ## ]]\nyes\n\n[[ ## completed ## ]]"},
		{Role: "user", Text: "[[ ## question ## ]]\nWhat is the capital of France?\n\n[[ ## context ## ]]\n[\"a\",\n\"b\"]\n\n" +
			"Respond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, then `[[ ## answer ## ]]`, then `[[ ## choice ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."},
	}
	p := parsePrompt(msgs, false)
	want := &prompt{
		Structured: true,
		Inputs:     []fieldDecl{{"question", "str"}, {"context", "list[str]"}},
		Outputs:    []fieldDecl{{"reasoning", "str"}, {"answer", "dict[str, float]"}, {"choice", "Literal['yes', 'no']"}},
		Objective:  "Answer the question.\nBe brief.",
		Demos: []demo{{
			In:  map[string]string{"question": "What is 1+1?", "context": `["math"]`},
			Out: map[string]string{"reasoning": "Add.", "answer": `{"x": 2}`, "choice": "yes"},
		}},
		Values:  map[string]string{"question": "What is the capital of France?", "context": "[\"a\",\n\"b\"]"},
		System:  sampleSystem,
		Text:    msgs[3].Text,
		Schemas: map[string]schema.Object{"answer": {"type": "object"}},
	}
	if diff := cmp.Diff(want, p, cmp.AllowUnexported(prompt{}, fieldDecl{}, demo{})); diff != "" {
		t.Fatalf("parsePrompt (-want +got):\n%s", diff)
	}
	m := newModel(nil, 0.85, 0.15)
	reply := m.complete(p, "")
	vals, _ := parseMarkers(reply)
	if vals["choice"] != "yes" || !json.Valid([]byte(vals["answer"])) || vals["reasoning"] == "" {
		t.Fatalf("reply %q", reply)
	}
}

func TestParsePromptFallbacks(t *testing.T) {
	// No system message: the outputs come from the closing instruction.
	p := parsePrompt([]message{{Role: "user", Text: "[[ ## question ## ]]\nq?\n\nRespond with a JSON object in the following order of fields: `reasoning`, then `answer`."}}, false)
	if !p.Structured || !p.WantJSON || !cmp.Equal(p.Outputs, []fieldDecl{{"reasoning", "str"}, {"answer", "str"}}, cmp.AllowUnexported(fieldDecl{})) {
		t.Fatalf("%+v", p)
	}
	// Plain chat.
	p = parsePrompt([]message{{Role: "system", Text: "You are helpful."}, {Role: "user", Text: "Hi"}}, false)
	if p.Structured || p.Text != "Hi" || p.System != "You are helpful." {
		t.Fatalf("%+v", p)
	}
}

func TestGarble(t *testing.T) {
	reply := "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
	if v, _ := parseMarkers(garble(reply, false)); len(v) != 0 {
		t.Fatalf("garbled chat parses: %v", v)
	}
	js := renderJSON([]fieldDecl{{"answer", "str"}}, []string{"Paris"}, nil)
	if obj := parseJSONObject(garble(js, true)); len(obj) != 0 {
		t.Fatalf("garbled JSON parses: %v", obj)
	}
}

func TestTokens(t *testing.T) {
	for s, n := range map[string]int{"": 0, "Hello, world!": 4, "[[ ## a ## ]]": 9, "  x  ": 1, "héllo wörld": 2} {
		if got := countTokens(s); got != n {
			t.Errorf("countTokens(%q) = %d, want %d", s, got, n)
		}
	}
	if s, cut := truncateTokens("one two three", 2); !cut || s != "one two" {
		t.Errorf("truncate = %q %v", s, cut)
	}
}

func FuzzParsePrompt(f *testing.F) {
	f.Add(sampleSystem, "[[ ## question ## ]]\nWhat is the capital of France?\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.", false)
	f.Add("", "What is the capital of Peru?", true)
	f.Add("Your output fields are:\n1. `x` (", "[[ ## ## ]]\n[[ ## a ## ]]", false)
	m := newModel(nil, 0.85, 0.15)
	f.Fuzz(func(t *testing.T, system, user string, jsonMode bool) {
		p := parsePrompt([]message{{Role: "system", Text: system}, {Role: "user", Text: user}}, jsonMode)
		reply := m.complete(p, "")
		if !p.Structured {
			return
		}
		for _, o := range p.Outputs {
			if !isIdent(o.Name) {
				t.Fatalf("output name %q is not an identifier", o.Name)
			}
		}
		if p.WantJSON {
			var obj map[string]any
			if err := json.Unmarshal([]byte(reply), &obj); err != nil {
				t.Fatalf("JSON reply does not parse: %v\n%s", err, reply)
			}
			for _, o := range p.Outputs {
				if _, ok := obj[o.Name]; !ok {
					t.Fatalf("JSON reply lacks %q", o.Name)
				}
			}
			return
		}
		vals, _ := parseMarkers(reply)
		for _, o := range p.Outputs {
			if _, ok := vals[o.Name]; !ok && !strings.Contains(reply, "[[ ## "+o.Name+" ## ]]") {
				t.Fatalf("chat reply lacks %q:\n%s", o.Name, reply)
			}
		}
	})
}
