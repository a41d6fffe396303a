package signature

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Tool is the value of a Tool input field (DSPy's dspy.Tool): a function
// the model may call, described by its name, a description and the JSON
// schema of each argument in order. The adapters render a Tool as DSPy's
// str(tool) ("search, whose description is <desc>...</desc>. It takes
// arguments {...}."), or, with native function calling, send it as a tool
// definition of the request.
//
// A Tool describes a function; it does not run one.
type Tool struct {
	// Name is the function's name, as the model calls it.
	Name string `json:"name"`
	// Desc tells the model what the function does; it may be empty.
	Desc string `json:"desc,omitempty"`
	// Args are the function's arguments in order, each with its JSON schema.
	Args []ToolArg `json:"args,omitempty"`
}

// ToolArg is one argument of a Tool: its name and its JSON schema, an
// object such as {"type": "integer", "default": 3}. An argument whose
// schema has a "default" key is optional; the others are required, as
// DSPy's format_as_litellm_function_call decides.
type ToolArg struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// ErrBadTool means a Tool value is unusable: no name, an argument without
// a name, twice the same argument, or a schema that is not a JSON object.
var ErrBadTool = errors.New("signature: bad tool")

// NewTool returns the Tool named name with description desc whose
// arguments are the properties of parameters, a JSON object schema such as
// {"type": "object", "properties": {"query": {"type": "string"}}} (as an
// lm.ToolDef holds), in the order parameters lists them. Empty parameters
// means no arguments. An error wraps ErrBadTool.
func NewTool(name, desc string, parameters json.RawMessage) (Tool, error) {
	t := Tool{Name: name, Desc: desc}
	if len(bytes.TrimSpace(parameters)) > 0 {
		args, err := objectProperties(parameters)
		if err != nil {
			return Tool{}, fmt.Errorf("%w: %s: parameters: %w", ErrBadTool, name, err)
		}
		t.Args = args
	}
	if err := t.Validate(); err != nil {
		return Tool{}, err
	}
	return t, nil
}

// Validate reports whether t can be rendered and sent: a name, named and
// distinct arguments, each schema a JSON object. The error wraps ErrBadTool.
func (t Tool) Validate() error {
	if t.Name == "" {
		return fmt.Errorf("%w: a tool needs a name", ErrBadTool)
	}
	seen := make(map[string]bool, len(t.Args))
	for i, a := range t.Args {
		switch {
		case a.Name == "":
			return fmt.Errorf("%w: %s: argument %d has no name", ErrBadTool, t.Name, i)
		case seen[a.Name]:
			return fmt.Errorf("%w: %s: argument %q appears twice", ErrBadTool, t.Name, a.Name)
		case !isObject(a.Schema):
			return fmt.Errorf("%w: %s: the schema of argument %q is not a JSON object", ErrBadTool, t.Name, a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// Required returns the names of the arguments without a "default" key in
// their schema, in order.
func (t Tool) Required() []string {
	req := []string{}
	for _, a := range t.Args {
		var m map[string]json.RawMessage
		if json.Unmarshal(a.Schema, &m) == nil {
			if _, ok := m["default"]; ok {
				continue
			}
		}
		req = append(req, a.Name)
	}
	return req
}

// Parameters returns the JSON object schema of t's arguments as DSPy's
// format_as_litellm_function_call writes it: {"type": "object",
// "properties": {...}, "required": [...]}, properties in order.
func (t Tool) Parameters() json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"type":"object","properties":{`)
	for i, a := range t.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(a.Name)
		b.Write(name)
		b.WriteByte(':')
		var compact bytes.Buffer
		if json.Compact(&compact, a.Schema) != nil {
			compact.Reset()
			compact.WriteString("{}")
		}
		b.Write(compact.Bytes())
	}
	req, _ := json.Marshal(t.Required())
	b.WriteString(`},"required":`)
	b.Write(req)
	b.WriteByte('}')
	return b.Bytes()
}

// AsTool returns the Tool a field value stands for: a Tool or *Tool. The
// error wraps ErrBadTool.
func AsTool(v any) (Tool, error) {
	var t Tool
	switch x := v.(type) {
	case Tool:
		t = x
	case *Tool:
		if x == nil {
			return Tool{}, fmt.Errorf("%w: nil *Tool", ErrBadTool)
		}
		t = *x
	default:
		return Tool{}, fmt.Errorf("%w: cannot use a %T as a tool", ErrBadTool, v)
	}
	return t, t.Validate()
}

// ToolCalls is the value of a ToolCalls output field (DSPy's
// dspy.ToolCalls): the calls the model asks for. With native function
// calling they come from the provider's tool_calls; otherwise the model
// writes them as {"tool_calls": [{"name": ..., "args": {...}}]}.
//
// In a History turn, Results may hold what the calls returned (DSPy's
// tool_call_results); the adapters replay them after the turn's reply, as
// tool messages with native function calling, else as a user message.
// Results are never part of the calls' own JSON (MarshalJSON).
type ToolCalls struct {
	Calls   []ToolCall       `json:"tool_calls"`
	Results []ToolCallResult `json:"tool_call_results,omitempty"`
}

// ToolCallResult is what one tool call returned (DSPy's
// ToolCallResults.ToolCallResult): the id and name of the call, its value,
// and whether the value is an error.
type ToolCallResult struct {
	CallID  string `json:"call_id"`
	Name    string `json:"name"`
	Value   any    `json:"value"`
	IsError bool   `json:"is_error"`
}

// ToolCall is one call of a ToolCalls value. ID is the provider's call id
// (empty when the model wrote the call as text).
type ToolCall struct {
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

// MarshalJSON writes c as DSPy's ToolCalls.format does: {"tool_calls":
// [{"name": ..., "args": {...}}]}, without the call ids and results.
func (c ToolCalls) MarshalJSON() ([]byte, error) {
	type call struct {
		Name string         `json:"name"`
		Args map[string]any `json:"args"`
	}
	calls := make([]call, len(c.Calls))
	for i, tc := range c.Calls {
		args := tc.Args
		if args == nil {
			args = map[string]any{}
		}
		calls[i] = call{Name: tc.Name, Args: args}
	}
	return json.Marshal(struct {
		Calls []call `json:"tool_calls"`
	}{calls})
}

var (
	toolType      = reflect.TypeFor[Tool]()
	toolCallsType = reflect.TypeFor[ToolCalls]()
)

// TypeTool and TypeToolCalls are the types of Tool and ToolCalls fields.
var (
	TypeTool      = Type{Kind: ToolKind}
	TypeToolCalls = Type{Kind: ToolCallsKind}
)

// objectProperties returns the properties of a JSON object schema in the
// order the text lists them.
func objectProperties(schema json.RawMessage) ([]ToolArg, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	props, ok := top["properties"]
	if !ok || bytes.Equal(bytes.TrimSpace(props), []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(props))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("properties is not a JSON object")
	}
	var args []ToolArg
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		args = append(args, ToolArg{Name: tok.(string), Schema: raw})
	}
	return args, nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && m != nil
}
