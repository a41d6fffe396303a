package adapter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

func TestJSONFormat(t *testing.T) {
	sig := qaSig(t)
	req, err := JSON{}.Format(sig, qaDemos, qaInputs)
	if err != nil {
		t.Fatalf("Format: %v", err)
	}
	want := []lm.Message{
		{Role: lm.RoleSystem, Content: lines(
			"Your input fields are:",
			"1. `question` (str): The question to answer",
			"2. `context` (str):",
			"Your output fields are:",
			"1. `answer` (str): often between 1 and 5 words",
			"2. `confidence` (float):",
			"All interactions will be structured in the following way, with the appropriate values filled in.",
			"",
			"Inputs will have the following structure:",
			"",
			"[[ ## question ## ]]",
			"{question}",
			"",
			"[[ ## context ## ]]",
			"{context}",
			"",
			"Outputs will be a JSON object with the following fields.",
			"",
			"{",
			`  "answer": "{answer}",`,
			`  "confidence": "{confidence}        # note: the value you produce must be a single float value"`,
			"}",
			"In adhering to this structure, your objective is: ",
			"        Answer questions with short factoid answers.",
			"        ",
			"        Be precise.",
		)},
		{Role: lm.RoleUser, Content: "This is an example of the task, though some input or output fields are not supplied.\n\n[[ ## question ## ]]\nCapital of France?"},
		{Role: lm.RoleAssistant, Content: "{\n  \"answer\": \"Paris\",\n  \"confidence\": \"Not supplied for this particular example. \"\n}"},
		{Role: lm.RoleUser, Content: lines(
			"[[ ## question ## ]]",
			"What is 2+2?",
			"",
			"[[ ## context ## ]]",
			"[1] «Arithmetic facts.»",
			"[2] «2+2=4»",
		)},
		{Role: lm.RoleAssistant, Content: lines(
			"{",
			`  "answer": "4",`,
			`  "confidence": 1.0`,
			"}",
		)},
		{Role: lm.RoleUser, Content: lines(
			"[[ ## question ## ]]",
			"Who wrote Hamlet?",
			"",
			"[[ ## context ## ]]",
			"«««",
			"    Hamlet is a tragedy.",
			"    It was written around 1600.",
			"»»»",
			"",
			"Respond with a JSON object in the following order of fields: `answer`, then `confidence` (must be formatted as a valid Python float).",
		)},
	}
	if diff := cmp.Diff(want, req.Messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if req.ResponseFormat != lm.FormatJSON {
		t.Errorf("ResponseFormat = %q, want %q", req.ResponseFormat, lm.FormatJSON)
	}
}

func TestJSONFormatOutputsNested(t *testing.T) {
	sig := typedSig(t)
	got, err := JSON{}.FormatOutputs(sig, Values{
		"tags":    []string{"a", "b"},
		"weights": map[string]float64{},
		"meta":    map[string]any{"k": []any{1, map[string]any{"x": "<&>"}}},
		"ok":      true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := lines(
		"{",
		`  "ok": true,`,
		`  "tags": [`,
		`    "a",`,
		`    "b"`,
		`  ],`,
		`  "weights": {},`,
		`  "meta": {`,
		`    "k": [`,
		`      1,`,
		`      {`,
		`        "x": "<&>"`,
		`      }`,
		`    ]`,
		`  }`,
		"}",
	)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FormatOutputs (-want +got):\n%s", diff)
	}
}

func TestJSONParse(t *testing.T) {
	sig := typedSig(t)
	full := `{"answer": "Paris", "count": 3, "score": 0.5, "ok": true, "tags": ["a"], "weights": {"w": 2}, "meta": {"id": 7, "r": 1.0}}`
	fullWant := Values{
		"answer":  "Paris",
		"count":   int64(3),
		"score":   0.5,
		"ok":      true,
		"tags":    []any{"a"},
		"weights": map[string]any{"w": 2.0},
		"meta":    map[string]any{"id": int64(7), "r": 1.0},
	}
	// with replaces the value of a key in full.
	with := func(key, value string) string {
		start := strings.Index(full, `"`+key+`": `) + len(key) + 4
		depth, end := 0, start
		for ; end < len(full); end++ {
			c := full[end]
			if depth == 0 && (c == ',' || c == '}') {
				break
			}
			switch c {
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			}
		}
		return full[:start] + value + full[end:]
	}
	want := func(key string, v any) Values {
		w := Values{}
		for k, x := range fullWant {
			w[k] = x
		}
		w[key] = v
		return w
	}
	tests := []struct {
		name       string
		completion string
		want       Values
		field      string
		sentinel   error
	}{
		{name: "plain", completion: full, want: fullWant},
		{name: "fenced", completion: "```json\n" + full + "\n```", want: fullWant},
		{name: "prose around", completion: "Here is the object: " + full + " -- done {not json}", want: fullWant},
		{name: "stray braces first", completion: "Use {braces} wisely. " + full, want: fullWant},
		{name: "braces inside strings", completion: with("answer", `"a } b { c"`), want: want("answer", "a } b { c")},
		{name: "escaped quotes", completion: with("answer", `"say \"hi\" }"`), want: want("answer", `say "hi" }`)},
		{name: "trailing commas", completion: strings.Replace(full, `}}`, `},}`, 1), want: fullWant},
		{name: "extra keys ignored", completion: strings.Replace(full, `{"answer"`, `{"reasoning": "x", "answer"`, 1), want: fullWant},
		{name: "key case folded", completion: strings.Replace(full, `"ok"`, `"OK"`, 1), want: fullWant},
		{name: "numbers as strings", completion: with("count", `"1,000"`), want: want("count", int64(1000))},
		{name: "float as string", completion: with("score", `"2.5"`), want: want("score", 2.5)},
		{name: "int as float", completion: with("count", `4.0`), want: want("count", int64(4))},
		{name: "float from int", completion: with("score", `2`), want: want("score", 2.0)},
		{name: "bool as string", completion: with("ok", `"False"`), want: want("ok", false)},
		{name: "list as string", completion: with("tags", `"[\"x\", \"y\"]"`), want: want("tags", []any{"x", "y"})},
		{name: "str from number", completion: with("answer", `42`), want: want("answer", "42")},
		{name: "str from list", completion: with("answer", `["a", 1]`), want: want("answer", `["a", 1]`)},
		{name: "json string kept", completion: with("meta", `"{\"a\": 1}"`), want: want("meta", `{"a": 1}`)},
		{name: "json null", completion: with("meta", `null`), want: want("meta", nil)},
		{name: "json big int", completion: with("meta", `123456789012345678`), want: want("meta", int64(123456789012345678))},
		{name: "json huge int", completion: with("meta", `123456789012345678901234567890`), want: want("meta", 1.2345678901234568e29)},

		{name: "empty", completion: "", sentinel: ErrEmptyCompletion},
		{name: "no object", completion: "I cannot answer that.", sentinel: ErrNoJSONObject},
		{name: "bare value", completion: `"Paris"`, sentinel: ErrNoJSONObject},
		{name: "array", completion: `["Paris", 3]`, sentinel: ErrNoJSONObject},
		{name: "object inside array", completion: `[{"answer": "x"}]`, field: "count", sentinel: ErrMissingField},
		{name: "unterminated", completion: `{"answer": "Paris"`, sentinel: ErrNoJSONObject},
		{name: "missing field", completion: strings.Replace(full, `"tags"`, `"tag"`, 1), field: "tags", sentinel: ErrMissingField},
		{name: "int words", completion: with("count", `"forty two"`), field: "count", sentinel: ErrInvalidValue},
		{name: "int fraction", completion: with("count", `4.5`), field: "count", sentinel: ErrInvalidValue},
		{name: "int bool", completion: with("count", `true`), field: "count", sentinel: ErrInvalidValue},
		{name: "bool maybe", completion: with("ok", `"maybe"`), field: "ok", sentinel: ErrInvalidValue},
		{name: "bool number", completion: with("ok", `1`), field: "ok", sentinel: ErrInvalidValue},
		{name: "str null", completion: with("answer", `null`), field: "answer", sentinel: ErrInvalidValue},
		{name: "list garbage", completion: with("tags", `"a and b"`), field: "tags", sentinel: ErrInvalidValue},
		{name: "list is number", completion: with("tags", `5`), field: "tags", sentinel: ErrInvalidValue},
		{name: "dict bad value", completion: with("weights", `{"w": [1]}`), field: "weights", sentinel: ErrInvalidValue},
		{name: "float huge", completion: with("score", `1e400`), field: "score", sentinel: ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JSON{}.Parse(sig, tt.completion)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("Parse(%s): %v", tt.completion, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("values (-want +got):\n%s", diff)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want %v", err, tt.sentinel)
			}
			if pe.Field != tt.field || pe.Adapter != "json" || pe.Raw != tt.completion {
				t.Errorf("ParseError{Adapter: %q, Field: %q, Raw: %q}, want field %q", pe.Adapter, pe.Field, pe.Raw, tt.field)
			}
		})
	}
}

func TestJSONParseErrorValue(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "q"}}, []signature.Field{{Name: "xs", Type: signature.ListOf(signature.TypeInt)}})
	_, err := JSON{}.Parse(sig, `{"xs": [1, "two", 3]}`)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if pe.Value != `[1,"two",3]` {
		t.Errorf("Value = %q", pe.Value)
	}
	if pe.Path != "xs[1]" {
		t.Errorf("Path = %q, want xs[1]", pe.Path)
	}
	if !strings.Contains(err.Error(), `at xs[1]: "two" is not an int`) {
		t.Errorf("message %q does not locate the element", err)
	}
}

func TestFindJSONBounded(t *testing.T) {
	// Many unbalanced braces before a valid object: the search gives up
	// after maxCandidates starts instead of scanning forever.
	s := strings.Repeat("{", maxCandidates) + `{"a": 1}`
	if _, ok := findJSON(s, '{', nil); ok {
		t.Errorf("findJSON found an object past %d candidates", maxCandidates)
	}
	s = strings.Repeat("{x} ", maxCandidates-1) + `{"a": 1}`
	if v, ok := findJSON(s, '{', nil); !ok || !cmp.Equal(v, map[string]any{"a": json.Number("1")}) {
		t.Errorf("findJSON = %v, %v", v, ok)
	}
}
