package serve

import (
	"github.com/dspex-go/dspex/signature"
)

// openAPI builds the OpenAPI 3 document of the server's programs: one
// path per program, with its inputs as the request schema and its outputs
// in the reply schema, field descriptions included.
func (s *Server) openAPI() map[string]any {
	errorSchema := map[string]any{
		"type": "object",
		"properties": map[string]any{"error": map[string]any{
			"type":     "object",
			"required": []string{"code", "message"},
			"properties": map[string]any{
				"code":    map[string]any{"type": "string"},
				"message": map[string]any{"type": "string"},
				"field":   map[string]any{"type": "string"},
			},
		}},
	}
	usage := map[string]any{"type": "object", "properties": map[string]any{
		"prompt_tokens": map[string]any{"type": "integer"}, "completion_tokens": map[string]any{"type": "integer"},
		"total_tokens": map[string]any{"type": "integer"},
	}}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := map[string]any{}
	for _, name := range s.names {
		p := s.progs[name]
		reply := map[string]any{"type": "object", "required": []string{"outputs", "usage"}, "properties": map[string]any{
			"outputs": objectSchema(p.sig.Outputs()),
			"usage":   usage,
			"model":   map[string]any{"type": "string"},
			"cached":  map[string]any{"type": "boolean"},
		}}
		summary := p.sig.Instructions()
		if summary == "" {
			summary = p.sig.String()
		}
		paths["/v1/programs/"+name] = map[string]any{"post": map[string]any{
			"operationId": "call_" + name,
			"summary":     summary,
			"description": "Runs " + p.sig.String() + ". With Accept: text/event-stream the reply streams chunk, status and prediction events.",
			"requestBody": map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": objectSchema(p.sig.Inputs())}}},
			"responses": map[string]any{
				"200": map[string]any{"description": "the outputs", "content": map[string]any{
					"application/json":  map[string]any{"schema": reply},
					"text/event-stream": map[string]any{"schema": map[string]any{"type": "string"}},
				}},
				"400": errResp("bad input: not_json, missing_input, wrong_type or unknown_field"),
				"413": errResp("body_too_large"),
				"415": errResp("unsupported_media_type"),
				"422": errResp("request_budget_exceeded"),
				"502": errResp("lm_failed"),
				"503": errResp("unavailable or budget_exceeded (see Retry-After), or draining"),
				"504": errResp("timeout"),
			},
		}}
	}
	return map[string]any{
		"openapi":    "3.0.3",
		"info":       map[string]any{"title": "dspex programs", "version": "1"},
		"paths":      paths,
		"components": map[string]any{"schemas": map[string]any{"Error": errorSchema}},
	}
}

// objectSchema is the schema of an object with fs as required properties.
func objectSchema(fs []signature.Field) map[string]any {
	props := map[string]any{}
	req := make([]string, 0, len(fs))
	for _, f := range fs {
		sch := typeSchema(f.Type)
		if f.Desc != "" {
			sch["description"] = f.Desc
		}
		props[f.Name] = sch
		req = append(req, f.Name)
	}
	return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
}

// typeSchema is the JSON schema of a field type.
func typeSchema(t signature.Type) map[string]any {
	switch t.Kind {
	case signature.String:
		return map[string]any{"type": "string"}
	case signature.Int:
		return map[string]any{"type": "integer"}
	case signature.Float:
		return map[string]any{"type": "number"}
	case signature.Bool:
		return map[string]any{"type": "boolean"}
	case signature.List:
		return map[string]any{"type": "array", "items": typeSchema(elem(t))}
	case signature.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(elem(t))}
	}
	return map[string]any{}
}
