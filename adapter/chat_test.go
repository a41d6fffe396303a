package adapter

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// lines joins its arguments with newlines, so that golden texts show every
// line (and its trailing spaces) explicitly.
func lines(ls ...string) string { return strings.Join(ls, "\n") }

var qaChatSystem = lines(
	"Your input fields are:",
	"1. `question` (str): The question to answer",
	"2. `context` (str):",
	"Your output fields are:",
	"1. `answer` (str): often between 1 and 5 words",
	"2. `confidence` (float):",
	"All interactions will be structured in the following way, with the appropriate values filled in.",
	"",
	"[[ ## question ## ]]",
	"{question}",
	"",
	"[[ ## context ## ]]",
	"{context}",
	"",
	"[[ ## answer ## ]]",
	"{answer}",
	"",
	"[[ ## confidence ## ]]",
	"{confidence}        # note: the value you produce must be a single float value",
	"",
	"[[ ## completed ## ]]",
	"In adhering to this structure, your objective is: ",
	"        Answer questions with short factoid answers.",
	"        ",
	"        Be precise.",
)

func TestChatFormat(t *testing.T) {
	sig := qaSig(t)
	tests := []struct {
		name   string
		demos  []Values
		inputs Values
		want   []lm.Message
	}{
		{
			name:   "no demos",
			inputs: Values{"question": "Who wrote Hamlet?", "context": []string{"Shakespeare wrote it.", "In 1600."}},
			want: []lm.Message{
				{Role: lm.RoleSystem, Content: qaChatSystem},
				{Role: lm.RoleUser, Content: lines(
					"[[ ## question ## ]]",
					"Who wrote Hamlet?",
					"",
					"[[ ## context ## ]]",
					"[1] «Shakespeare wrote it.»",
					"[2] «In 1600.»",
					"",
					"Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, then `[[ ## confidence ## ]]` (must be formatted as a valid Python float), and then ending with the marker for `[[ ## completed ## ]]`.",
				)},
			},
		},
		{
			name:   "demos",
			demos:  qaDemos,
			inputs: qaInputs,
			want: []lm.Message{
				{Role: lm.RoleSystem, Content: qaChatSystem},
				{Role: lm.RoleUser, Content: lines(
					"This is an example of the task, though some input or output fields are not supplied.",
					"",
					"[[ ## question ## ]]",
					"Capital of France?",
				)},
				{Role: lm.RoleAssistant, Content: lines(
					"[[ ## answer ## ]]",
					"Paris",
					"",
					"[[ ## confidence ## ]]",
					"Not supplied for this particular example.",
					"",
					"[[ ## completed ## ]]",
					"",
				)},
				{Role: lm.RoleUser, Content: lines(
					"[[ ## question ## ]]",
					"What is 2+2?",
					"",
					"[[ ## context ## ]]",
					"[1] «Arithmetic facts.»",
					"[2] «2+2=4»",
				)},
				{Role: lm.RoleAssistant, Content: lines(
					"[[ ## answer ## ]]",
					"4",
					"",
					"[[ ## confidence ## ]]",
					"1.0",
					"",
					"[[ ## completed ## ]]",
					"",
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
					"Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, then `[[ ## confidence ## ]]` (must be formatted as a valid Python float), and then ending with the marker for `[[ ## completed ## ]]`.",
				)},
			},
		},
		{
			name:   "empty and single lists",
			demos:  []Values{{"question": "q", "context": []string{}, "answer": "a", "confidence": float32(0.25)}},
			inputs: Values{"question": "q2", "context": []any{"only"}},
			want: []lm.Message{
				{Role: lm.RoleSystem, Content: qaChatSystem},
				{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nq\n\n[[ ## context ## ]]\nN/A"},
				{Role: lm.RoleAssistant, Content: "[[ ## answer ## ]]\na\n\n[[ ## confidence ## ]]\n0.25\n\n[[ ## completed ## ]]\n"},
				{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nq2\n\n[[ ## context ## ]]\n«only»\n\n" +
					"Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, then `[[ ## confidence ## ]]` (must be formatted as a valid Python float), and then ending with the marker for `[[ ## completed ## ]]`."},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Chat{}.Format(sig, tt.demos, tt.inputs)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if diff := cmp.Diff(tt.want, req.Messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if req.ResponseFormat != lm.FormatText {
				t.Errorf("ResponseFormat = %q, want text", req.ResponseFormat)
			}
		})
	}
}

func TestChatFormatSingleOutput(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "question"}}, []signature.Field{{Name: "answer"}})
	req, err := NewChat().Format(sig, nil, Values{"question": "Why?"})
	if err != nil {
		t.Fatal(err)
	}
	want := []lm.Message{
		{Role: lm.RoleSystem, Content: lines(
			"Your input fields are:",
			"1. `question` (str):",
			"Your output fields are:",
			"1. `answer` (str):",
			"All interactions will be structured in the following way, with the appropriate values filled in.",
			"",
			"[[ ## question ## ]]",
			"{question}",
			"",
			"[[ ## answer ## ]]",
			"{answer}",
			"",
			"[[ ## completed ## ]]",
			"In adhering to this structure, your objective is: ",
			"        Given the fields `question`, produce the fields `answer`.",
		)},
		{Role: lm.RoleUser, Content: "[[ ## question ## ]]\nWhy?\n\n" +
			"Respond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."},
	}
	if diff := cmp.Diff(want, req.Messages); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestChatTypeNotes(t *testing.T) {
	tests := []struct {
		typ  signature.Type
		want string
	}{
		{signature.TypeString, "{out}"},
		{signature.TypeInt, "{out}        # note: the value you produce must be a single int value"},
		{signature.TypeFloat, "{out}        # note: the value you produce must be a single float value"},
		{signature.TypeBool, "{out}        # note: the value you produce must be True or False"},
		{signature.ListOf(signature.TypeString), `{out}        # note: the value you produce must adhere to the JSON schema: {"type": "array", "items": {"type": "string"}}`},
		{signature.ListOf(signature.ListOf(signature.TypeInt)), `{out}        # note: the value you produce must adhere to the JSON schema: {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}`},
		{signature.MapOf(signature.TypeBool), `{out}        # note: the value you produce must adhere to the JSON schema: {"type": "object", "additionalProperties": {"type": "boolean"}}`},
		{signature.MapOf(signature.TypeObject), `{out}        # note: the value you produce must adhere to the JSON schema: {"type": "object", "additionalProperties": true}`},
		{signature.LiteralOf("a", "b"), "{out}        # note: the value you produce must exactly match (no extra characters) one of: a; b"},
		{signature.EnumOf("Mood", "up", "down"), "{out}        # note: the value you produce must be one of: up; down"},
		{signature.OptionalOf(signature.TypeInt), `{out}        # note: the value you produce must adhere to the JSON schema: {"anyOf": [{"type": "integer"}, {"type": "null"}]}`},
		{signature.TypeTime, `{out}        # note: the value you produce must adhere to the JSON schema: {"type": "string", "format": "date-time"}`},
		{signature.TypeObject, `{out}        # note: the value you produce must adhere to the JSON schema: {}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			sig := newSig(t, "", []signature.Field{{Name: "in", Type: tt.typ}}, []signature.Field{{Name: "out", Type: tt.typ}})
			req, err := Chat{}.Format(sig, nil, Values{"in": "x"})
			if err != nil {
				t.Fatal(err)
			}
			sys := req.Messages[0].Content
			if !strings.Contains(sys, "\n[[ ## out ## ]]\n"+tt.want+"\n\n") {
				t.Errorf("system message lacks %q:\n%s", tt.want, sys)
			}
			if !strings.Contains(sys, "\n[[ ## in ## ]]\n{in}\n\n") {
				t.Errorf("input placeholder has a note:\n%s", sys)
			}
			if !strings.Contains(sys, "1. `out` ("+tt.typ.String()+"):\n") {
				t.Errorf("output description lacks the type:\n%s", sys)
			}
		})
	}
}

func TestChatFormatValues(t *testing.T) {
	type point struct {
		X int    `json:"x"`
		Y string `json:"y"`
	}
	tests := []struct {
		name string
		typ  signature.Type
		in   any
		want string
	}{
		{"string", signature.TypeString, "a <b> & c", "a <b> & c"},
		{"int", signature.TypeInt, 42, "42"},
		{"int64", signature.TypeInt, int64(-7), "-7"},
		{"uint8", signature.TypeInt, uint8(200), "200"},
		{"float whole", signature.TypeFloat, 3.0, "3.0"},
		{"float small", signature.TypeFloat, 0.00001, "1e-05"},
		{"float big", signature.TypeFloat, 1e16, "1e+16"},
		{"float32", signature.TypeFloat, float32(0.1), "0.1"},
		{"nan", signature.TypeFloat, math.NaN(), "nan"},
		{"true", signature.TypeBool, true, "True"},
		{"false", signature.TypeBool, false, "False"},
		{"list of ints", signature.ListOf(signature.TypeInt), []int{1, 2, 3}, "[1, 2, 3]"},
		{"list of floats", signature.ListOf(signature.TypeFloat), []any{1.0, 2.5}, "[1.0, 2.5]"},
		{"map", signature.MapOf(signature.TypeFloat), map[string]float64{"b": 2, "a": 0.5}, `{"a": 0.5, "b": 2.0}`},
		{"struct", signature.TypeObject, point{X: 1, Y: "<p>"}, `{"x": 1, "y": "<p>"}`},
		{"json string", signature.TypeObject, "hello", `"hello"`},
		{"json nested", signature.TypeObject, map[string]any{"k": []any{"a, b", true, nil}}, `{"k": ["a, b", true, null]}`},
		{"list[str] as str input", signature.TypeString, []string{"x", "y"}, "[1] «x»\n[2] «y»"},
		{"list with guillemets as str input", signature.TypeString, []string{"a «b»", "c"}, "[1] «««\n    a «b»\n»»»\n[2] «c»"},
		{"list[str] is JSON", signature.ListOf(signature.TypeString), []string{"a «b»", "c"}, `["a «b»", "c"]`},
		{"struct to str field", signature.TypeString, point{X: 2}, `{"x": 2, "y": ""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := newSig(t, "", []signature.Field{{Name: "v", Type: tt.typ}}, []signature.Field{{Name: "out"}})
			req, err := Chat{}.Format(sig, nil, Values{"v": tt.in})
			if err != nil {
				t.Fatal(err)
			}
			got := req.Messages[len(req.Messages)-1].Content
			got = strings.TrimPrefix(got, "[[ ## v ## ]]\n")
			got = got[:strings.LastIndex(got, "\n\nRespond with")]
			if got != tt.want {
				t.Errorf("rendered %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChatFormatErrors(t *testing.T) {
	sig := qaSig(t)
	tests := []struct {
		name   string
		sig    signature.Signature
		demos  []Values
		inputs Values
		check  func(t *testing.T, err error)
	}{
		{
			name: "zero signature", inputs: Values{},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errZeroSignature) {
					t.Errorf("err = %v", err)
				}
			},
		},
		{
			name: "missing input", sig: sig, inputs: Values{"question": "q"},
			check: func(t *testing.T, err error) {
				var mi *MissingInputError
				if !errors.As(err, &mi) || mi.Field != "context" {
					t.Errorf("err = %v, want *MissingInputError for context", err)
				}
			},
		},
		{
			name: "nil input", sig: sig, inputs: Values{"question": nil, "context": []string{}},
			check: func(t *testing.T, err error) {
				var mi *MissingInputError
				if !errors.As(err, &mi) || mi.Field != "question" {
					t.Errorf("err = %v, want *MissingInputError for question", err)
				}
			},
		},
		{
			name: "unencodable demo", sig: typedSig(t),
			demos:  []Values{{"question": "q", "weights": map[string]any{"a": math.Inf(1)}}},
			inputs: Values{"question": "q"},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "demo 0") || !strings.Contains(err.Error(), `"weights"`) {
					t.Errorf("err = %v, want an error naming demo 0 and the field", err)
				}
			},
		},
		{
			name: "unencodable input", sig: sig,
			inputs: Values{"question": make(chan int), "context": []string{}},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), `"question"`) {
					t.Errorf("err = %v, want an error naming the field", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range []Adapter{Chat{}, JSON{}} {
				_, err := a.Format(tt.sig, tt.demos, tt.inputs)
				tt.check(t, err)
			}
		})
	}
}

func TestChatParse(t *testing.T) {
	sig := typedSig(t)
	full := lines(
		"[[ ## answer ## ]]",
		"Paris is the capital.",
		"It is in France.",
		"",
		"[[ ## count ## ]]",
		"1,234",
		"",
		"[[ ## score ## ]]",
		"0.75",
		"",
		"[[ ## ok ## ]]",
		"True",
		"",
		"[[ ## tags ## ]]",
		`["geo", "europe"]`,
		"",
		"[[ ## weights ## ]]",
		`{"a": 1, "b": 0.5}`,
		"",
		"[[ ## meta ## ]]",
		`{"id": 12345678901234567, "ratio": 2.0, "note": null}`,
		"",
		"[[ ## completed ## ]]",
	)
	fullWant := Values{
		"answer":  "Paris is the capital.\nIt is in France.",
		"count":   int64(1234),
		"score":   0.75,
		"ok":      true,
		"tags":    []any{"geo", "europe"},
		"weights": map[string]any{"a": 1.0, "b": 0.5},
		"meta":    map[string]any{"id": int64(12345678901234567), "ratio": 2.0, "note": nil},
	}
	// with replaces lines of full: each pair is (field, new value text).
	with := func(pairs ...string) string {
		s := full
		for i := 0; i < len(pairs); i += 2 {
			start := strings.Index(s, "[[ ## "+pairs[i]+" ## ]]\n") + len("[[ ## "+pairs[i]+" ## ]]\n")
			end := start + strings.Index(s[start:], "\n\n[[ ##")
			s = s[:start] + pairs[i+1] + s[end:]
		}
		return s
	}
	want := func(kv ...any) Values {
		v := Values{}
		for k, x := range fullWant {
			v[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1]
		}
		return v
	}
	tests := []struct {
		name       string
		completion string
		want       Values
		field      string // for errors
		sentinel   error
	}{
		{name: "all kinds", completion: full, want: fullWant},
		{name: "prose before and after", completion: "Sure! Here you go.\n\n" + full + "\nHope that helps.", want: fullWant},
		{name: "no completed marker", completion: strings.TrimSuffix(full, "[[ ## completed ## ]]"), want: fullWant},
		{name: "crlf", completion: strings.ReplaceAll(with("answer", "x"), "\n", "\r\n"), want: want("answer", "x")},
		{name: "loose header spacing", completion: strings.Replace(full, "[[ ## count ## ]]", "  [[##count##]]  ", 1), want: fullWant},
		{name: "value on the header line", completion: strings.Replace(full, "[[ ## score ## ]]\n0.75", "[[ ## score ## ]] 0.75", 1), want: fullWant},
		{name: "first occurrence wins", completion: full + "\n[[ ## answer ## ]]\nsecond", want: fullWant},
		{name: "unknown header ends the field", completion: with("answer", "Paris\n\n[[ ## rationale ## ]]\nbecause"), want: want("answer", "Paris")},
		{name: "header case folded", completion: strings.Replace(full, "[[ ## ok ## ]]", "[[ ## OK ## ]]", 1), want: fullWant},
		{name: "empty str value", completion: with("answer", ""), want: want("answer", "")},
		{name: "int forms", completion: with("count", " -3 "), want: want("count", int64(-3))},
		{name: "int written as float", completion: with("count", "42.0"), want: want("count", int64(42))},
		{name: "int quoted", completion: with("count", `"7"`), want: want("count", int64(7))},
		{name: "float exponent", completion: with("score", "1e3"), want: want("score", 1000.0)},
		{name: "float commas", completion: with("score", "2,500.5"), want: want("score", 2500.5)},
		{name: "bool lower", completion: with("ok", "false"), want: want("ok", false)},
		{name: "bool yes", completion: with("ok", "Yes"), want: want("ok", true)},
		{name: "list fenced", completion: with("tags", "```json\n[\"a\"]\n```"), want: want("tags", []any{"a"})},
		{name: "list numbered", completion: with("tags", "1. geo\n2. europe"), want: want("tags", []any{"geo", "europe"})},
		{name: "list bulleted", completion: with("tags", "- geo\n- europe"), want: want("tags", []any{"geo", "europe"})},
		{name: "list dspy style", completion: with("tags", "[1] «geo»\n[2] «europe»"), want: want("tags", []any{"geo", "europe"})},
		{name: "list dspy blob", completion: with("tags", "[1] «««\n    two\n    lines\n»»»\n[2] «b»"), want: want("tags", []any{"two\nlines", "b"})},
		{name: "list in prose", completion: with("tags", "The tags are [\"geo\"] I think"), want: want("tags", []any{"geo"})},
		{name: "list of numbers to str", completion: with("tags", "[1, true]"), want: want("tags", []any{"1", "true"})},
		{name: "empty list", completion: with("tags", "[]"), want: want("tags", []any{})},
		{name: "dict in prose", completion: with("weights", "Weights: {\"x\": \"3\"}."), want: want("weights", map[string]any{"x": 3.0})},
		{name: "json not json", completion: with("meta", "plain words"), want: want("meta", "plain words")},
		{name: "json scalar", completion: with("meta", "42"), want: want("meta", int64(42))},

		{name: "empty completion", completion: " \n\t", sentinel: ErrEmptyCompletion},
		{name: "no headers", completion: "Paris", field: "answer", sentinel: ErrMissingField},
		{name: "missing field", completion: strings.Replace(full, "[[ ## tags ## ]]", "[[ ## tag ## ]]", 1), field: "tags", sentinel: ErrMissingField},
		{name: "int words", completion: with("count", "forty two"), field: "count", sentinel: ErrInvalidValue},
		{name: "int fraction", completion: with("count", "4.5"), field: "count", sentinel: ErrInvalidValue},
		{name: "int overflow", completion: with("count", "99999999999999999999"), field: "count", sentinel: ErrInvalidValue},
		{name: "int bad commas", completion: with("count", "12,34"), field: "count", sentinel: ErrInvalidValue},
		{name: "float percent", completion: with("score", "75%"), field: "score", sentinel: ErrInvalidValue},
		{name: "float words", completion: with("score", "high"), field: "score", sentinel: ErrInvalidValue},
		{name: "float overflow", completion: with("score", "1e999"), field: "score", sentinel: ErrInvalidValue},
		{name: "bool maybe", completion: with("ok", "maybe"), field: "ok", sentinel: ErrInvalidValue},
		{name: "list garbage", completion: with("tags", "geo and europe"), field: "tags", sentinel: ErrInvalidValue},
		{name: "list of objects to str", completion: with("tags", `[{"a": 1}]`), field: "tags", sentinel: ErrInvalidValue},
		{name: "list is object", completion: with("tags", `{"a": "b"}`), field: "tags", sentinel: ErrInvalidValue},
		{name: "list with null", completion: with("tags", `["a", null]`), field: "tags", sentinel: ErrInvalidValue},
		{name: "dict bad value", completion: with("weights", `{"a": "heavy"}`), field: "weights", sentinel: ErrInvalidValue},
		{name: "dict is list", completion: with("weights", `[1, 2]`), field: "weights", sentinel: ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Chat{}.Parse(sig, tt.completion)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
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
			if pe.Field != tt.field || pe.Adapter != "chat" || pe.Raw != tt.completion {
				t.Errorf("ParseError{Adapter: %q, Field: %q, Raw: %q}, want field %q", pe.Adapter, pe.Field, pe.Raw, tt.field)
			}
			if tt.field != "" && !strings.Contains(err.Error(), `"`+tt.field+`"`) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestChatParseErrorDetails(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "q"}}, []signature.Field{{Name: "n", Type: signature.TypeInt}})
	completion := "[[ ## n ## ]]\nforty two\n\n[[ ## completed ## ]]\n" + strings.Repeat("padding ", 50)
	_, err := Chat{}.Parse(sig, completion)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if pe.Value != "forty two" {
		t.Errorf("Value = %q, want the field text", pe.Value)
	}
	msg := err.Error()
	for _, want := range []string{`field "n"`, `"forty two" is not an int`, "…"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if len(msg) > 300 {
		t.Errorf("message is %d bytes long; the completion should be truncated", len(msg))
	}
}

func TestChatFormatOutputsRoundTrip(t *testing.T) {
	sig := typedSig(t)
	vals := Values{
		"answer":  "line one\nline two",
		"count":   int64(-12),
		"score":   2.0,
		"ok":      false,
		"tags":    []any{"a, b", "«c»", ""},
		"weights": map[string]any{"x": 0.1, "y": 3.0},
		"meta":    map[string]any{"n": int64(1), "f": 1.5, "s": "str", "l": []any{true, nil}},
	}
	for _, a := range []interface {
		Adapter
		FormatOutputs(signature.Signature, Values) (string, error)
	}{Chat{}, JSON{}} {
		text, err := a.FormatOutputs(sig, vals)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Parse(sig, text)
		if err != nil {
			t.Fatalf("%T: Parse(%q): %v", a, text, err)
		}
		if diff := cmp.Diff(vals, got, cmpopts.EquateNaNs()); diff != "" {
			t.Errorf("%T round trip (-want +got):\n%s", a, diff)
		}
	}
}
