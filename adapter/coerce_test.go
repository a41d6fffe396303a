package adapter

import (
	"errors"
	"math"
	"testing"

	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"42", 42, true},
		{" 42 ", 42, true},
		{"-3", -3, true},
		{"+5", 5, true},
		{"0042", 42, true},
		{"42.0", 42, true},
		{"42.", 42, true},
		{"1,234", 1234, true},
		{"-1,234,567", -1234567, true},
		{"1e3", 1000, true},
		{"1.5e1", 15, true},
		{"2500e-2", 25, true},
		{"0.0", 0, true},
		{"0e999999999", 0, true},
		{`"7"`, 7, true},
		{"'8'", 8, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9.223372036854775807e18", math.MaxInt64, true},
		{"4.5", 0, false},
		{"1e-1", 0, false},
		{"0.5", 0, false},
		{"9223372036854775808", 0, false},
		{"1e19", 0, false},
		{"1e401", 0, false},
		{"forty two", 0, false},
		{"42 apples", 0, false},
		{"12,34", 0, false},
		{"1,2345", 0, false},
		{",123", 0, false},
		{"1,234.5", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"1e", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"--1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseInt(tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Errorf("parseInt(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidValue) {
				t.Errorf("error %v does not match ErrInvalidValue", err)
			}
		})
	}
}

func TestParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"3.14", 3.14, true},
		{" -0.5 ", -0.5, true},
		{".5", 0.5, true},
		{"1e3", 1000, true},
		{"1E-3", 0.001, true},
		{"2,500.5", 2500.5, true},
		{"42", 42, true},
		{`"2.5"`, 2.5, true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"nan", math.NaN(), true},
		{"5%", 0, false},
		{"$5", 0, false},
		{"high", 0, false},
		{"1e999", 0, false},
		{"0x1p-2", 0, false},
		{"1_0.5", 0, false},
		{"--inf", 0, false},
		{"", 0, false},
		{"3.14.15", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFloat(tt.in)
			if tt.ok != (err == nil) || !cmp.Equal(got, tt.want, cmpopts.EquateNaNs()) {
				t.Errorf("parseFloat(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in   string
		want bool
		ok   bool
	}{
		{"True", true, true},
		{"true", true, true},
		{" TRUE ", true, true},
		{"yes", true, true},
		{"False", false, true},
		{"no", false, true},
		{`"false"`, false, true},
		{"maybe", false, false},
		{"1", false, false},
		{"", false, false},
		{"True.", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseBool(tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Errorf("parseBool(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestCoerceText(t *testing.T) {
	listStr := signature.ListOf(signature.TypeString)
	listInt := signature.ListOf(signature.TypeInt)
	tests := []struct {
		name string
		typ  signature.Type
		in   string
		want any
		ok   bool
	}{
		{"str kept", signature.TypeString, "  as is ", "  as is ", true},
		{"list json", listStr, `["a", "b"]`, []any{"a", "b"}, true},
		{"list fence no newline", listStr, "```[\"a\"]```", []any{"a"}, true},
		{"list fence with tag", listStr, "```json\n[\"a\"]\n```", []any{"a"}, true},
		{"list numbered paren", listStr, "1) a\n2) b", []any{"a", "b"}, true},
		{"list star", listStr, "* a\n* b", []any{"a", "b"}, true},
		{"list bullet", listStr, "• a\n\n• b", []any{"a", "b"}, true},
		{"list single blob", listStr, "«only»", []any{"only"}, true},
		{"list multi-line blob", listStr, "«««\n    x\n    y\n»»»", []any{"x\ny"}, true},
		{"list unclosed blob", listStr, "[1] «««\n    x", nil, false},
		{"list mixed prose", listStr, "1. a\nand then b", nil, false},
		{"list of ints numbered", listInt, "1. 5\n2. -6", []any{int64(5), int64(-6)}, true},
		{"list of ints json", listInt, "[1, 2.0, \"3\"]", []any{int64(1), int64(2), int64(3)}, true},
		{"list of ints bad", listInt, "[1, 2.5]", nil, false},
		{"nested lists", signature.ListOf(listInt), "[[1], []]", []any{[]any{int64(1)}, []any{}}, true},
		{"list of dicts", signature.ListOf(signature.MapOf(signature.TypeBool)), `[{"a": true}]`, []any{map[string]any{"a": true}}, true},
		{"list of json", signature.ListOf(signature.TypeObject), `[1, 1.5, "s", null, {"k": [2]}]`,
			[]any{int64(1), 1.5, "s", nil, map[string]any{"k": []any{int64(2)}}}, true},
		{"dict of lists", signature.MapOf(listStr), `{"k": ["v"]}`, map[string]any{"k": []any{"v"}}, true},
		{"dict empty text", signature.MapOf(listStr), "", nil, false},
		{"json fenced", signature.TypeObject, "```json\n{\"a\": 1}\n```", map[string]any{"a": int64(1)}, true},
		{"json text", signature.TypeObject, " some text ", "some text", true},
		{"json float", signature.TypeObject, "2.0", 2.0, true},
		{"json bool", signature.TypeObject, "true", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := coerceText(tt.typ, tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("coerceText(%s, %q) error = %v, want ok=%v", tt.typ, tt.in, err, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); tt.ok && diff != "" {
				t.Errorf("coerceText(%s, %q) (-want +got):\n%s", tt.typ, tt.in, diff)
			}
		})
	}
}

func TestPyFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2.5, "-2.5"},
		{0.1, "0.1"},
		{1e-4, "0.0001"},
		{1e-5, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{123456789012345680, "1.2345678901234568e+17"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		if got := pyFloat(tt.in, 64); got != tt.want {
			t.Errorf("pyFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	tests := []struct {
		typ  signature.Type
		want string
	}{
		{signature.TypeString, `{"type": "string"}`},
		{signature.TypeInt, `{"type": "integer"}`},
		{signature.TypeFloat, `{"type": "number"}`},
		{signature.TypeBool, `{"type": "boolean"}`},
		{signature.TypeObject, `{}`},
		{signature.Type{Kind: signature.List}, `{"type": "array", "items": {"type": "string"}}`},
		{signature.ListOf(signature.TypeObject), `{"type": "array", "items": {}}`},
		{signature.MapOf(signature.ListOf(signature.TypeFloat)), `{"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}}`},
	}
	for _, tt := range tests {
		if got := JSONSchema(tt.typ); got != tt.want {
			t.Errorf("JSONSchema(%s) = %s, want %s", tt.typ, got, tt.want)
		}
	}
}

func TestObjectiveDedent(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "In adhering to this structure, your objective is: "},
		{"Do it.", "In adhering to this structure, your objective is: \n        Do it."},
		{"Do it.\n", "In adhering to this structure, your objective is: \n        Do it."},
		{"    a\n      b\n\n    c", "In adhering to this structure, your objective is: \n        a\n          b\n        \n        c"},
		{"\ta\r\n\tb", "In adhering to this structure, your objective is: \n        a\n        b"},
		{"  a\n \tb", "In adhering to this structure, your objective is: \n         a\n        \tb"},
	}
	for _, tt := range tests {
		if got := objective(tt.in); got != tt.want {
			t.Errorf("objective(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ParseError
		want string
	}{
		{&ParseError{Adapter: "chat", Raw: "  ", Err: ErrEmptyCompletion}, "adapter: chat reply: empty completion"},
		{&ParseError{Adapter: "json", Field: "a", Raw: "{}", Err: ErrMissingField}, `adapter: json reply: field "a": missing output field (completion "{}")`},
		{&ParseError{Field: "a", Raw: "x", Err: invalid(`"x" is not an int`)}, `adapter: reply: field "a": "x" is not an int (completion "x")`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if got := truncate("ééééé", 3); got != "ééé…" {
		t.Errorf("truncate = %q", got)
	}
}
