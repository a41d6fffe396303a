package simlm

import (
	"encoding/json"
	"strings"

	"github.com/dspex-go/dspex/schema"
)

// This file makes the simulator honour JSON schemas: the one a request
// gives in response_format json_schema (OpenAI's structured outputs), and
// the ones a DSPy prompt states in its type notes ("must adhere to the JSON
// schema: ..."). A field whose value does not follow its schema gets a
// value built from the schema, so that typed outputs (models, optional
// values, dates) come back in the shape asked for.

// The notes DSPy writes after an output's placeholder in the structure
// section of its system message: a JSON schema, or the values of an
// enumeration or a Literal, separated by "; ".
const (
	schemaNote  = "# note: the value you produce must adhere to the JSON schema: "
	enumNote    = "# note: the value you produce must be one of: "
	literalNote = "# note: the value you produce must exactly match (no extra characters) one of: "
)

// jsonSchemaFormat is response_format's json_schema member.
type jsonSchemaFormat struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

// noteSchemas reads the schema of each output field from the type notes of
// a Chat ("{name}        # note: ...: {...}") or JSON ("  \"name\":
// \"{name}        # note: ...: {...}\"") system message.
func noteSchemas(system string) map[string]schema.Object {
	out := map[string]schema.Object{}
	for _, line := range strings.Split(system, "\n") {
		if !strings.Contains(line, schemaNote) && !strings.Contains(line, enumNote) && !strings.Contains(line, literalNote) {
			continue
		}
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, `"`) { // a member of the JSON adapter's object
			var m map[string]string
			if json.Unmarshal([]byte("{"+strings.TrimSuffix(t, ",")+"}"), &m) != nil {
				continue
			}
			for _, v := range m {
				t = v
			}
		}
		if !strings.HasPrefix(t, "{") {
			continue
		}
		name, rest, ok := strings.Cut(t[1:], "}")
		if !ok || !isIdent(name) {
			continue
		}
		for _, note := range []string{enumNote, literalNote} {
			if i := strings.Index(rest, note); i >= 0 {
				var values []any
				for _, v := range strings.Split(rest[i+len(note):], "; ") {
					values = append(values, v)
				}
				out[name] = schema.Object{"enum": values}
			}
		}
		i := strings.Index(rest, schemaNote)
		if i < 0 {
			continue
		}
		var s schema.Object
		if json.Unmarshal([]byte(rest[i+len(schemaNote):]), &s) == nil {
			out[name] = s
		}
	}
	return out
}

// fieldSchemas splits the schema of a structured-outputs request into one
// schema per output field, each carrying the root's $defs.
func fieldSchemas(root schema.Object) map[string]schema.Object {
	props, _ := root["properties"].(map[string]any)
	out := make(map[string]schema.Object, len(props))
	for name, p := range props {
		ps, ok := p.(map[string]any)
		if !ok {
			continue
		}
		s := schema.Object{}
		for k, v := range ps {
			s[k] = v
		}
		if defs, ok := root["$defs"]; ok {
			s["$defs"] = defs
		}
		out[name] = s
	}
	return out
}

// conform returns the text of a field's value that follows s: value itself
// when it does (as a plain string, or as JSON), else a value built from s
// (hint fills its strings). raw reports JSON text, as opposed to a plain
// string.
func conform(s schema.Object, value, hint string) (text string, raw bool) {
	v, err := schema.Compile(s)
	if err != nil {
		return value, false
	}
	if v.Validate(value) == nil {
		return value, false
	}
	var x any
	if json.Unmarshal([]byte(value), &x) == nil && v.Validate(x) == nil {
		return value, true
	}
	built := sample(s, s, hint, 0)
	if str, ok := built.(string); ok {
		return str, false
	}
	b, err := json.Marshal(built)
	if err != nil {
		return value, false
	}
	return string(b), true
}

// conformObject makes a whole JSON reply follow a structured-outputs
// schema: properties that do not follow theirs are rebuilt, unknown ones
// dropped, missing ones added.
func conformObject(root schema.Object, content, hint string) string {
	v, err := schema.Compile(root)
	if err != nil {
		return content
	}
	var obj map[string]any
	if json.Unmarshal([]byte(content), &obj) == nil && v.Validate(obj) == nil {
		return content
	}
	out := map[string]any{}
	for name, fs := range fieldSchemas(root) {
		fv, err := schema.Compile(fs)
		if x, ok := obj[name]; ok && err == nil && fv.Validate(x) == nil {
			out[name] = x
			continue
		}
		out[name] = sample(fs, fs, hint, 0)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return content
	}
	return string(b)
}

// maxSampleDepth bounds the nesting of sampled values (schemas can refer
// to themselves).
const maxSampleDepth = 16

// sample builds a value that follows node: the first choice of an anyOf
// that is not null, the const or the first enum value, one element for
// arrays, every property for objects.
func sample(root, node schema.Object, hint string, depth int) any {
	if depth > maxSampleDepth {
		return nil
	}
	if ref, ok := node["$ref"].(string); ok {
		defs, _ := root["$defs"].(map[string]any)
		def, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		return sample(root, def, hint, depth+1)
	}
	if alts, ok := node["anyOf"].([]any); ok {
		for _, alt := range alts {
			if a, ok := alt.(map[string]any); ok && a["type"] != "null" {
				return sample(root, a, hint, depth+1)
			}
		}
		return nil
	}
	if c, ok := node["const"]; ok {
		return c
	}
	if e, ok := node["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	switch node["type"] {
	case "string":
		if node["format"] == "date-time" {
			return "2024-01-01T00:00:00Z"
		}
		if hint == "" {
			return "value"
		}
		return hint
	case "integer":
		return 1
	case "number":
		return 0.9
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		items, _ := node["items"].(map[string]any)
		return []any{sample(root, items, hint, depth+1)}
	case "object":
		out := map[string]any{}
		if props, ok := node["properties"].(map[string]any); ok {
			for k, p := range props {
				ps, _ := p.(map[string]any)
				out[k] = sample(root, ps, hint, depth+1)
			}
			return out
		}
		if add, ok := node["additionalProperties"].(map[string]any); ok {
			out["value"] = sample(root, add, hint, depth+1)
		}
		return out
	}
	return hint
}
