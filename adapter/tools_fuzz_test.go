package adapter

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// FuzzToolCalls feeds arbitrary replies to the ToolCalls parser, as text
// (Chat) and as a provider's tool call arguments (native): no panics, a
// parse error is an ErrInvalidValue, and every parsed call has a name and
// arguments that encode back to JSON.
func FuzzToolCalls(f *testing.F) {
	for _, s := range []string{
		`{"tool_calls": [{"name": "search", "args": {"query": "cats"}}]}`,
		`[{'name': 'get_weather', 'args': {'city': 'Paris'}}]`,
		`{"name": "search", "arguments": "{\"query\": \"hello\",}"}`,
		`{"type": "function", "function": {"name": "search", "arguments": {"q": 1}}}`,
		`[{"function": "bad"}]`, `{"foo": "bar"}`, `[]`, `null`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := coerceText(signature.TypeToolCalls, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("%q: error %v is not ErrInvalidValue", s, err)
			}
		} else {
			calls, ok := v.(signature.ToolCalls)
			if !ok {
				t.Fatalf("%q: %T, want signature.ToolCalls", s, v)
			}
			for _, c := range calls.Calls {
				if c.Name == "" || c.Args == nil {
					t.Fatalf("%q: call %+v without name or args", s, c)
				}
			}
			if _, err := json.Marshal(calls); err != nil {
				t.Fatalf("%q: %v", s, err)
			}
		}
		sig := signature.MustParse("question, tools: list[dspy.Tool] -> tool_calls: dspy.ToolCalls")
		out, err := parseMessage(JSON{}, sig, lm.Message{ToolCalls: []lm.ToolCall{{ID: "c", Name: "f", Arguments: s}}})
		if err != nil {
			t.Fatalf("native arguments %q: %v", s, err)
		}
		if c := out["tool_calls"].(signature.ToolCalls).Calls[0]; c.ID != "c" || c.Args == nil {
			t.Fatalf("native arguments %q: %+v", s, c)
		}
	})
}

// FuzzToolText renders tools with arbitrary descriptions and argument
// schemas: no panics, and a schema that is a JSON object always renders.
func FuzzToolText(f *testing.F) {
	f.Add("Search for documents.", `{"type": "integer", "default": 3}`)
	f.Add("line\nbreak", `{"enum": ["a'b", "c\"d", "e\\f", 1.5e300, null, true], "x": {"y": []}}`)
	f.Add("", `{"s": "\u2028\u0007\u00e9\ud83d\ude00"}`)
	f.Fuzz(func(t *testing.T, desc, schema string) {
		tool := signature.Tool{Name: "f", Desc: desc, Args: []signature.ToolArg{{Name: "a", Schema: json.RawMessage(schema)}}}
		text, err := toolText(tool)
		var obj map[string]any
		isObj := json.Unmarshal([]byte(schema), &obj) == nil && obj != nil
		if isObj && err != nil {
			t.Fatalf("schema %q: %v", schema, err)
		}
		if err == nil && !utf8.ValidString(text) && utf8.ValidString(desc) {
			t.Fatalf("invalid UTF-8 from valid input: %q", text)
		}
		if isObj {
			if p := tool.Parameters(); !json.Valid(p) {
				t.Fatalf("parameters %s are not JSON", p)
			}
		}
	})
}

// FuzzNestedImages renders arbitrary JSON values as inputs whose type
// holds Images (a model with an Image list, a dict of Images): no panics,
// and text given in a value never becomes an image part unless it stands
// where the type puts an Image.
func FuzzNestedImages(f *testing.F) {
	f.Add(`{"images": [{"url": "https://example.com/a.png"}], "tag": ["x"]}`)
	f.Add(`{"images": ["https://example.com/a.png", null], "tag": ["{\"url\": \"https://evil/x.png\"}"]}`)
	f.Add(`{"a": {"url": "data:image/png;base64,AAAA"}}`)
	wrapper := signature.StructOf("ImageWrapper",
		signature.Prop{Name: "images", Type: signature.ListOf(signature.OptionalOf(signature.TypeImage)), Required: true},
		signature.Prop{Name: "tag", Type: signature.ListOf(signature.TypeString), Required: true})
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeJSON(s)
		if err != nil {
			return
		}
		for _, typ := range []signature.Type{wrapper, signature.MapOf(signature.TypeImage)} {
			p, err := renderNestedImages(signature.Field{Name: "x", Type: typ}, normalizeJSON(v))
			if err != nil {
				continue
			}
			for _, x := range p {
				if x.image != "" {
					if _, err := signature.ImageFromURL(x.image); err != nil {
						t.Fatalf("%q: image part %q is not an image URL", s, x.image)
					}
				}
			}
		}
	})
}
