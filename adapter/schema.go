package adapter

import (
	"strings"

	"github.com/dspex-go/dspex/schema"
	"github.com/dspex-go/dspex/signature"
)

// JSONSchema returns the JSON schema of t as the compact text DSPy puts in
// the type notes of structured output fields: pydantic's schema with the
// keys of every object sorted, "type" first, printed by Python's
// json.dumps (see schema.For and schema.Text):
//
//	list[str]        {"type": "array", "items": {"type": "string"}}
//	dict[str, int]   {"type": "object", "additionalProperties": {"type": "integer"}}
//	dict[str, Any]   {"type": "object", "additionalProperties": true}
//	Any              {}
func JSONSchema(t signature.Type) string {
	return schema.Text(schema.For(t))
}

// typeNote returns the note DSPy's translate_field_type appends to an
// output field's placeholder in the structure section ("must be a single
// int value"), or "" for str.
func typeNote(t signature.Type) string {
	if t.Optional {
		return "must adhere to the JSON schema: " + JSONSchema(t)
	}
	switch t.Kind {
	case signature.String:
		return ""
	case signature.ToolCallsKind:
		return "must adhere to the JSON schema: " + JSONSchema(toolCallsModel)
	case signature.Bool:
		return "must be True or False"
	case signature.Int, signature.Float:
		return "must be a single " + t.Kind.String() + " value"
	case signature.Enum:
		vals := make([]string, len(t.Values))
		for i, v := range t.Values {
			vals[i] = signature.ValueText(v)
		}
		if t.Name != "" {
			return "must be one of: " + strings.Join(vals, "; ")
		}
		return "must exactly match (no extra characters) one of: " + strings.Join(vals, "; ")
	default:
		return "must adhere to the JSON schema: " + JSONSchema(t)
	}
}

// placeholder returns the structure-section value of a field: "{name}",
// followed for non-str outputs by the type note.
func placeholder(f signature.Field, output bool) string {
	p := "{" + f.Name + "}"
	if !output {
		return p
	}
	if note := typeNote(f.Type); note != "" {
		p += "        # note: the value you produce " + note
	}
	return p
}
