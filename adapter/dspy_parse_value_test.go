package adapter

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
)

// tests/adapters/test_adapter_utils.py at stanfordnlp/dspy
// 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1): DSPy's parse_value
// coerces a field's text (or an already decoded value) to the field's
// annotation; dspex's coerceText and coerceJSON do that for the Chat and
// JSON parsers. Values DSPy gets as Python objects are given here as
// encoding/json decodes them (json.Number for numbers).
func TestDSPyParseValue(t *testing.T) {
	profile := signature.StructOf("Profile",
		signature.Prop{Name: "name", Type: signature.TypeString, Required: true},
		signature.Prop{Name: "age", Type: signature.TypeInt, Required: true})
	literal := signature.LiteralOf("option1", "option2")
	tests := []struct {
		dspy string // the DSPy test
		typ  signature.Type
		in   any // a string is the field's text; anything else a decoded JSON value
		want any
	}{
		{"test_parse_value_pydantic_types", profile, `{"name": "John", "age": 30}`, map[string]any{"name": "John", "age": int64(30)}},
		{"test_parse_value_pydantic_types", profile, map[string]any{"name": "Jane", "age": json.Number("25")}, map[string]any{"name": "Jane", "age": int64(25)}},
		{"test_parse_value_basic_types", signature.TypeInt, "42", int64(42)},
		{"test_parse_value_basic_types", signature.TypeInt, json.Number("42"), int64(42)},
		{"test_parse_value_basic_types", signature.TypeFloat, "3.14", 3.14},
		{"test_parse_value_basic_types", signature.TypeFloat, json.Number("3.14"), 3.14},
		{"test_parse_value_basic_types", signature.TypeBool, "true", true},
		{"test_parse_value_basic_types", signature.TypeBool, true, true},
		{"test_parse_value_basic_types", signature.TypeBool, "false", false},
		{"test_parse_value_basic_types", signature.ListOf(signature.TypeInt), "[1, 2, 3]", []any{int64(1), int64(2), int64(3)}},
		{"test_parse_value_basic_types", signature.ListOf(signature.TypeInt), []any{json.Number("1"), json.Number("2"), json.Number("3")}, []any{int64(1), int64(2), int64(3)}},
		{"test_parse_value_literal", literal, "option1", "option1"},
		{"test_parse_value_literal", literal, "option2", "option2"},
		{"test_parse_value_literal", literal, "'option1'", "option1"},
		{"test_parse_value_literal", literal, `"option1"`, "option1"},
		{"test_parse_value_literal", literal, "Literal[option1]", "option1"},
		{"test_parse_value_literal", literal, "str[option1]", "option1"},
		{"test_parse_value_union", signature.OptionalOf(signature.TypeString), "test", "test"},
		{"test_parse_value_union", signature.OptionalOf(signature.TypeInt), "5", int64(5)},
		{"test_parse_value_union", signature.OptionalOf(signature.TypeString), nil, nil},
		{"test_parse_value_union", signature.OptionalOf(signature.TypeString), "text with [placeholder]", "text with [placeholder]"},
		{"test_parse_value_json_repair", signature.MapOf(signature.TypeObject), `{"key": "value"}`, map[string]any{"key": "value"}},
		{"test_parse_value_json_repair", signature.MapOf(signature.TypeObject), "{'key': 'value'}", map[string]any{"key": "value"}},
	}
	for _, tc := range tests {
		var (
			got any
			err error
		)
		if s, ok := tc.in.(string); ok {
			got, err = coerceText(tc.typ, s)
		} else {
			got, err = coerceJSON(tc.typ, tc.in)
		}
		if err != nil {
			t.Errorf("%s: %s from %#v: %v", tc.dspy, tc.typ, tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: %s from %#v (-dspy +dspex):\n%s", tc.dspy, tc.typ, tc.in, diff)
		}
	}
	for _, tc := range []struct {
		dspy string
		typ  signature.Type
		text string
	}{
		{"test_parse_value_pydantic_types", profile, `{"name": "John"}`},
		{"test_parse_value_literal", literal, "invalid"},
		{"test_parse_value_json_repair", signature.MapOf(signature.TypeObject), "not json or literal"},
	} {
		if _, err := coerceText(tc.typ, tc.text); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: %s from %q: err = %v, want ErrInvalidValue", tc.dspy, tc.typ, tc.text, err)
		}
	}
}
