package schema

import (
	"fmt"

	"github.com/dspex-go/dspex/signature"
)

// OutputsName is the title DSPy gives the model of a signature's outputs in
// a structured-outputs request.
const OutputsName = "DSPyProgramOutputs"

// UnsupportedError reports a signature whose outputs cannot be described by
// a strict schema: an output is an open-ended mapping (dict[str, T]), whose
// keys a strict schema would have to list. DSPy's JSONAdapter then asks for
// a plain JSON object instead, and so does dspex.
type UnsupportedError struct {
	// Field names the offending output field.
	Field string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("schema: output field %q has an open-ended mapping type, which strict structured outputs do not support", e.Field)
}

// Strict returns the schema of a signature's outputs for a strict
// structured-outputs request (OpenAI's response_format json_schema with
// strict true), built as DSPy's _get_structured_outputs_response_format
// builds it: a model named DSPyProgramOutputs whose properties are the
// output fields, then every object that declares properties made to
// require all of them and to forbid others, and every object without
// properties made an empty closed object. DSPy's own field metadata (desc,
// prefix) is left out of the properties.
func Strict(outputs []signature.Field) (Object, error) {
	props := make([]signature.Prop, len(outputs))
	for i, f := range outputs {
		if f.Type.Kind == signature.Map && !f.Type.Optional {
			return nil, &UnsupportedError{Field: f.Name}
		}
		props[i] = signature.Prop{Name: f.Name, Type: f.Type, Required: true}
	}
	s := For(signature.StructOf(OutputsName, props...))
	enforceRequired(s)
	return s, nil
}

// enforceRequired closes every object schema in s, as DSPy's
// enforce_required does: it walks properties, array items and $defs (not
// anyOf branches, which DSPy leaves alone).
func enforceRequired(s Object) {
	if s["type"] == "object" {
		if props, ok := s["properties"].(Object); ok {
			req := make([]any, 0, len(props))
			// pydantic lists properties in declaration order; the
			// declared required list already is, so extend it.
			seen := map[string]bool{}
			if r, ok := s["required"].([]any); ok {
				for _, k := range r {
					req = append(req, k)
					seen[k.(string)] = true
				}
			}
			for _, k := range sortedKeys(props) {
				if !seen[k] {
					req = append(req, k)
				}
			}
			s["required"] = req
			s["additionalProperties"] = false
			for _, k := range sortedKeys(props) {
				if sub, ok := props[k].(Object); ok {
					enforceRequired(sub)
				}
			}
		} else {
			s["properties"] = Object{}
			s["required"] = []any{}
			s["additionalProperties"] = false
		}
	}
	if s["type"] == "array" {
		if items, ok := s["items"].(Object); ok {
			enforceRequired(items)
		}
	}
	if defs, ok := s["$defs"].(Object); ok {
		for _, k := range sortedKeys(defs) {
			if d, ok := defs[k].(Object); ok {
				enforceRequired(d)
			}
		}
	}
}
