package simlm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/dspex-go/dspex/schema"
)

// TestJSONSchemaHonoured sends structured-outputs requests whose schema the
// prompt does not describe: the reply follows the schema anyway, every
// property present, nested objects, arrays, enums, optional values and
// dates included. Malformed schemas are a 400.
func TestJSONSchemaHonoured(t *testing.T) {
	srv, c := start(t)
	root := schema.Object{
		"type": "object", "additionalProperties": false,
		"required": []any{"answer", "extra", "when", "maybe"},
		"properties": schema.Object{
			"answer": schema.Object{"type": "string"},
			"extra":  schema.Object{"$ref": "#/$defs/Extra"},
			"when":   schema.Object{"type": "string", "format": "date-time"},
			"maybe":  schema.Object{"anyOf": []any{schema.Object{"type": "integer"}, schema.Object{"type": "null"}}},
		},
		"$defs": schema.Object{"Extra": schema.Object{
			"type": "object", "additionalProperties": false, "required": []any{"n", "tags", "kind"},
			"properties": schema.Object{
				"n":    schema.Object{"type": "integer"},
				"tags": schema.Object{"type": "array", "items": schema.Object{"type": "string"}},
				"kind": schema.Object{"enum": []any{"x", "y"}, "type": "string"},
			},
		}},
	}
	raw, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []spec{qa("What is the capital of France?"), cot("What is 2 + 3?")} {
		body := s.request()
		body["response_format"] = map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "DSPyProgramOutputs", "strict": true, "schema": json.RawMessage(raw)}}
		r := post(t, context.Background(), c, srv.URL(), body)
		if r.status != http.StatusOK || len(r.choices) != 1 {
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
		var got any
		if err := json.Unmarshal([]byte(r.choices[0]), &got); err != nil {
			t.Fatalf("reply is not JSON: %q", r.choices[0])
		}
		if err := v.Validate(got); err != nil {
			t.Errorf("reply %s does not follow the schema: %v", r.choices[0], err)
		}
	}
	for _, bad := range []map[string]any{
		{"type": "json_schema"},
		{"type": "json_schema", "json_schema": map[string]any{"name": "x", "schema": map[string]any{"type": 3}}},
	} {
		body := qa("q").request()
		body["response_format"] = bad
		if r := post(t, context.Background(), c, srv.URL(), body); r.status != http.StatusBadRequest {
			t.Errorf("response_format %v: status %d, want 400", bad, r.status)
		}
	}
}
