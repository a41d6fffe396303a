package adapter

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/signature"
)

type label string

type level int

type score float32

type flag bool

func TestScalarText(t *testing.T) {
	n := 5
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"named string", label("spam"), "spam"},
		{"named int", level(-2), "-2"},
		{"uint64", uint64(math.MaxUint64), "18446744073709551615"},
		{"named float32", score(0.1), "0.1"},
		{"named bool", flag(true), "True"},
		{"json.Number", json.Number("1e3"), "1e3"},
		{"time", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), "2024-05-01T12:00:00Z"},
		{"duration", 2 * time.Second, "2000000000"},
		{"pointer", &n, "5"},
		{"nil pointer", (*int)(nil), "null"},
		{"bytes", []byte("hi"), "hi"},
		{"bytes in a list", [][]byte{[]byte("hi")}, `["hi"]`},
		{"raw message", map[string]any{"r": json.RawMessage(`{"a":1}`)}, `{"r": {"a": 1}}`},
		{"named slice", []label{"a", "b"}, `["a", "b"]`},
		{"array", [2]int{1, 2}, "[1, 2]"},
		{"map of ints", map[string]int{"b": 2, "a": 1}, `{"a": 1, "b": 2}`},
		{"map with int keys", map[int]string{2: "b", 1: "a"}, `{"1": "a", "2": "b"}`},
		{"nested pointer", map[string]*int{"p": &n, "q": nil}, `{"p": 5, "q": null}`},
		{"escapes", []any{"a\"b\\c\n\t\r\b\f\x01", "\u2028\u2029", "bad\xffutf8", "<&>"},
			"[\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\", \"\u2028\u2029\", \"bad\\ufffdutf8\", \"<&>\"]"}, // U+2028 is left as it is, as Python's json.dumps(ensure_ascii=False) does
		{"python separators only outside strings", map[string]any{"k": "a, b: c"}, `{"k": "a, b: c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scalarText(tt.in)
			if err != nil {
				t.Fatalf("scalarText: %v", err)
			}
			if got != tt.want {
				t.Errorf("scalarText = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestScalarTextErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for name, v := range map[string]any{
		"nan in list":     []float64{math.NaN()},
		"inf in map":      map[string]any{"x": math.Inf(1)},
		"channel":         []any{make(chan int)},
		"func":            map[string]any{"f": func() {}},
		"cycle":           cyclic,
		"bad json.Number": []any{json.Number("1x")},
	} {
		if s, err := scalarText(v); err == nil {
			t.Errorf("%s: scalarText = %q, want an error", name, s)
		}
	}
}

func TestNumberedListInputs(t *testing.T) {
	// DSPy numbers a list given to a field declared str; a field declared
	// list[str] gets JSON (below).
	sig := newSig(t, "", []signature.Field{{Name: "xs"}}, []signature.Field{{Name: "y"}})
	tests := []struct {
		in   any
		want string
	}{
		{[]int{7, 8}, "[1] «7»\n[2] «8»"},
		{[2]string{"a", "b"}, "[1] «a»\n[2] «b»"},
		{[]label{"x"}, "«x»"},
		{[]any{"two\nlines", true}, "[1] «««\n    two\n    lines\n»»»\n[2] «True»"},
		{"not a list", "not a list"},
		{[]byte("raw"), "raw"},
	}
	typed := newSig(t, "", []signature.Field{{Name: "xs", Type: signature.ListOf(signature.TypeString)}}, []signature.Field{{Name: "y"}})
	req, err := Chat{}.Format(typed, nil, Values{"xs": []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Messages[1].Content; !strings.HasPrefix(got, "[[ ## xs ## ]]\n[\"a\", \"b\"]\n\n") {
		t.Errorf("list[str] input rendered %q, want JSON", got)
	}
	for _, tt := range tests {
		req, err := Chat{}.Format(sig, nil, Values{"xs": tt.in})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimPrefix(req.Messages[1].Content, "[[ ## xs ## ]]\n")
		got = got[:strings.Index(got, "\n\nRespond")]
		if got != tt.want {
			t.Errorf("%#v rendered %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMissingInputError(t *testing.T) {
	err := error(&MissingInputError{Field: "question"})
	if got, want := err.Error(), `adapter: missing input field "question"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var mi *MissingInputError
	if !errors.As(err, &mi) {
		t.Error("errors.As failed")
	}
}

func TestLookupAmbiguousCase(t *testing.T) {
	sig := newSig(t, "", []signature.Field{{Name: "q"}}, []signature.Field{{Name: "answer"}, {Name: "Answer"}})
	// Exact names work.
	got, err := Chat{}.Parse(sig, "[[ ## answer ## ]]\na\n[[ ## Answer ## ]]\nb")
	if err != nil || got["answer"] != "a" || got["Answer"] != "b" {
		t.Fatalf("Parse = %v, %v", got, err)
	}
	// A header that folds to both names matches neither.
	_, err = Chat{}.Parse(sig, "[[ ## ANSWER ## ]]\na\n[[ ## Answer ## ]]\nb")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "answer" || !errors.Is(err, ErrMissingField) {
		t.Errorf("err = %v, want answer missing", err)
	}
	_, err = JSON{}.Parse(sig, `{"ANSWER": "a", "Answer": "b"}`)
	if !errors.As(err, &pe) || pe.Field != "answer" || !errors.Is(err, ErrMissingField) {
		t.Errorf("JSON: err = %v, want answer missing", err)
	}
	// With one candidate, case is forgiven; the smallest key wins.
	one := newSig(t, "", []signature.Field{{Name: "q"}}, []signature.Field{{Name: "answer"}})
	got, err = JSON{}.Parse(one, `{"Answer": "b", "ANSWER": "a"}`)
	if err != nil || got["answer"] != "a" {
		t.Errorf("JSON fold: %v, %v", got, err)
	}
	_ = NewJSON()
}
