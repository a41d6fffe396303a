package programs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dspex-go/dspex/signature"
)

// Errors a tool call can match with errors.Is, through the *ToolError that
// wraps them.
var (
	// ErrInvalidArgs means the arguments given to a tool do not match its
	// argument struct: a required argument is missing, an argument is
	// unknown, or a value has the wrong type.
	ErrInvalidArgs = errors.New("invalid arguments")
	// ErrToolPanic means the tool's function panicked; the panic was
	// recovered.
	ErrToolPanic = errors.New("tool panicked")
)

// ToolError is a failed tool call: invalid arguments (ErrInvalidArgs), a
// panic (ErrToolPanic) or the error the tool's function returned.
type ToolError struct {
	// Tool names the tool.
	Tool string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ToolError) Error() string { return "tool " + e.Tool + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ToolError) Unwrap() error { return e.Err }

// argError is an ErrInvalidArgs with the reason.
type argError struct{ reason string }

func (e *argError) Error() string        { return "invalid arguments: " + e.reason }
func (e *argError) Is(target error) bool { return target == ErrInvalidArgs }

// panicError is an ErrToolPanic with the recovered value and the stack.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string        { return fmt.Sprintf("tool panicked: %v", e.value) }
func (e *panicError) Is(target error) bool { return target == ErrToolPanic }

// Tool is a Go function an agent (ReAct) can call. Its arguments are a
// struct; the JSON schema the LM sees is read from the struct's fields and
// tags, and the LM's arguments are validated against it before the function
// runs.
//
// A Tool is immutable and safe for concurrent use if its function is.
type Tool struct {
	name   string
	desc   string
	params *schemaNode
	call   func(ctx context.Context, args json.RawMessage) (any, error)
}

// NewTool returns a tool named name that calls fn. Args must be a struct
// type; each exported field is an argument:
//
//	json:"name"            the argument's name (default: the Go field name);
//	                       json:"-" skips the field; ",omitempty" makes it optional
//	desc:"..."             the argument's description
//	enum:"a,b,c"           the values a string argument may take
//
// Pointer fields are optional too; the others are required. Field types map
// to JSON schema types: strings to string, integers to integer, floats to
// number, bool to boolean, slices and arrays to array, maps with string keys
// and structs to object, any and json.RawMessage to any value.
//
// The observation the agent sees is fn's result: a string as is, any other
// value as JSON. name must be an identifier and must not be "finish".
func NewTool[Args, Result any](name, desc string, fn func(ctx context.Context, args Args) (Result, error)) (Tool, error) {
	if !signature.IsIdentifier(name) {
		return Tool{}, fmt.Errorf("programs: tool name %q is not an identifier", name)
	}
	if name == finishTool {
		return Tool{}, fmt.Errorf("programs: tool name %q is reserved for ReAct's own finish tool", name)
	}
	if fn == nil {
		return Tool{}, fmt.Errorf("programs: tool %s: nil function", name)
	}
	t := reflect.TypeFor[Args]()
	if t.Kind() != reflect.Struct {
		return Tool{}, fmt.Errorf("programs: tool %s: argument type %s is not a struct", name, t)
	}
	params, err := schemaOf(t, 0)
	if err != nil {
		return Tool{}, fmt.Errorf("programs: tool %s: %w", name, err)
	}
	call := func(ctx context.Context, raw json.RawMessage) (any, error) {
		var args Args
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, &argError{reason: err.Error()}
		}
		return fn(ctx, args)
	}
	return Tool{name: name, desc: desc, params: params, call: call}, nil
}

// MustTool is like NewTool but panics on error.
func MustTool[Args, Result any](name, desc string, fn func(ctx context.Context, args Args) (Result, error)) Tool {
	t, err := NewTool(name, desc, fn)
	if err != nil {
		panic(err)
	}
	return t
}

// Name returns the tool's name.
func (t Tool) Name() string { return t.name }

// Description returns the tool's description.
func (t Tool) Description() string { return t.desc }

// Schema returns the JSON schema of the tool's arguments: an object with one
// property per argument.
func (t Tool) Schema() json.RawMessage {
	b, _ := json.Marshal(t.params)
	return b
}

// Call validates args against the tool's schema, then runs the tool and
// returns its observation. Every failure is a *ToolError: invalid arguments
// match ErrInvalidArgs and name the argument, a panic in the tool is
// recovered and matches ErrToolPanic, and an error the tool returns is
// wrapped as is.
func (t Tool) Call(ctx context.Context, args map[string]any) (string, error) {
	res, err := t.invoke(ctx, args)
	if err != nil {
		return "", err
	}
	return observation(res), nil
}

// invoke is Call returning the tool's result as its function gave it.
func (t Tool) invoke(ctx context.Context, args map[string]any) (res any, err error) {
	if t.call == nil {
		return nil, &ToolError{Tool: t.name, Err: errors.New("zero Tool")}
	}
	norm, err := t.params.validate(args, "")
	if err != nil {
		return nil, &ToolError{Tool: t.name, Err: err}
	}
	raw, err := json.Marshal(norm)
	if err != nil {
		return nil, &ToolError{Tool: t.name, Err: &argError{reason: err.Error()}}
	}
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, &ToolError{Tool: t.name, Err: &panicError{value: v, stack: debug.Stack()}}
		}
	}()
	res, err = t.call(ctx, raw)
	if err != nil {
		return nil, &ToolError{Tool: t.name, Err: err}
	}
	return res, nil
}

// observation renders a tool result for the LM.
func observation(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// schemaNode is a JSON schema, restricted to what NewTool produces.
type schemaNode struct {
	typ        string // "" means any value
	desc       string
	enum       []string
	props      []schemaProp // for objects with known properties
	additional *schemaNode  // for maps
	items      *schemaNode  // for arrays
}

type schemaProp struct {
	name     string
	required bool
	node     *schemaNode
}

const maxSchemaDepth = 16

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

func schemaOf(t reflect.Type, depth int) (*schemaNode, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("type %s nests more than %d levels", t, maxSchemaDepth)
	}
	switch t {
	case rawMessageType:
		return &schemaNode{}, nil
	case timeType:
		return &schemaNode{typ: "string", desc: "an RFC 3339 date-time"}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return &schemaNode{typ: "string"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &schemaNode{typ: "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return &schemaNode{typ: "number"}, nil
	case reflect.Bool:
		return &schemaNode{typ: "boolean"}, nil
	case reflect.Pointer:
		return schemaOf(t.Elem(), depth+1)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, fmt.Errorf("interface type %s is not supported; use any", t)
		}
		return &schemaNode{}, nil
	case reflect.Slice, reflect.Array:
		items, err := schemaOf(t.Elem(), depth+1)
		if err != nil {
			return nil, err
		}
		return &schemaNode{typ: "array", items: items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("type %s is not supported: map keys must be strings", t)
		}
		elem, err := schemaOf(t.Elem(), depth+1)
		if err != nil {
			return nil, err
		}
		return &schemaNode{typ: "object", additional: elem}, nil
	case reflect.Struct:
		n := &schemaNode{typ: "object", props: []schemaProp{}}
		if err := collectProps(n, t, depth); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("type %s is not supported", t)
}

func collectProps(n *schemaNode, t reflect.Type, depth int) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			if err := collectProps(n, sf.Type, depth); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		node, err := schemaOf(sf.Type, depth+1)
		if err != nil {
			return fmt.Errorf("field %s: %w", sf.Name, err)
		}
		node.desc = sf.Tag.Get("desc")
		if e := sf.Tag.Get("enum"); e != "" {
			if node.typ != "string" {
				return fmt.Errorf("field %s: an enum tag needs a string field", sf.Name)
			}
			for _, v := range strings.Split(e, ",") {
				node.enum = append(node.enum, strings.TrimSpace(v))
			}
		}
		optional := sf.Type.Kind() == reflect.Pointer || slices.Contains(strings.Split(opts, ","), "omitempty")
		n.props = append(n.props, schemaProp{name: name, required: !optional, node: node})
	}
	return nil
}

// MarshalJSON writes the schema with properties in declaration order.
func (n *schemaNode) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := false
	put := func(key string, v any) {
		if sep {
			b.WriteByte(',')
		}
		sep = true
		k, _ := json.Marshal(key)
		val, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	if n.typ != "" {
		put("type", n.typ)
	}
	if n.desc != "" {
		put("description", n.desc)
	}
	if len(n.enum) > 0 {
		put("enum", n.enum)
	}
	if n.props != nil {
		put("properties", json.RawMessage(n.propertiesJSON()))
		var req []string
		for _, p := range n.props {
			if p.required {
				req = append(req, p.name)
			}
		}
		if len(req) > 0 {
			put("required", req)
		}
	}
	if n.items != nil {
		put("items", n.items)
	}
	if n.additional != nil {
		put("additionalProperties", n.additional)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// propertiesJSON returns the properties as one JSON object, in order.
func (n *schemaNode) propertiesJSON() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range n.props {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		v, _ := json.Marshal(p.node)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// validate checks v against n and returns it normalised for encoding/json:
// numbers and booleans written as strings are converted.
func (n *schemaNode) validate(v any, path string) (any, error) {
	where := func() string {
		if path == "" {
			return "the arguments"
		}
		return fmt.Sprintf("argument %q", path)
	}
	fail := func(format string, args ...any) error {
		return &argError{reason: where() + ": " + fmt.Sprintf(format, args...)}
	}
	if v == nil {
		if n.typ == "" {
			return nil, nil
		}
		if path == "" && n.typ == "object" {
			v = map[string]any{}
		} else {
			return nil, fail("is null, want %s", article(n.typ))
		}
	}
	switch n.typ {
	case "":
		return v, nil
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, fail("got %s, want a string", describe(v))
		}
		if len(n.enum) > 0 && !slices.Contains(n.enum, s) {
			return nil, fail("%q is not one of %s", s, strings.Join(n.enum, ", "))
		}
		return s, nil
	case "integer", "number":
		f, ok := number(v)
		if !ok {
			return nil, fail("got %s, want %s", describe(v), article(n.typ))
		}
		if n.typ == "integer" {
			if f != math.Trunc(f) || math.IsInf(f, 0) {
				return nil, fail("%v is not a whole number", f)
			}
			if f < -(1<<63) || f >= 1<<63 {
				return nil, fail("%v is out of range", f)
			}
			if i, ok := v.(json.Number); ok {
				return i, nil
			}
			return int64(f), nil
		}
		return f, nil
	case "boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return p, nil
			}
		}
		return nil, fail("got %s, want a boolean", describe(v))
	case "array":
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, fail("got %s, want an array", describe(v))
		}
		out := make([]any, rv.Len())
		for i := range rv.Len() {
			e, err := n.items.validate(rv.Index(i).Interface(), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fail("got %s, want an object", describe(v))
		}
		out := make(map[string]any, len(m))
		if n.additional != nil {
			for k, e := range m {
				ne, err := n.additional.validate(e, joinArg(path, k))
				if err != nil {
					return nil, err
				}
				out[k] = ne
			}
			return out, nil
		}
		var known []string
		for _, p := range n.props {
			known = append(known, p.name)
			e, ok := m[p.name]
			if !ok || e == nil {
				if p.required {
					return nil, &argError{reason: fmt.Sprintf("argument %q is required", joinArg(path, p.name))}
				}
				continue
			}
			ne, err := p.node.validate(e, joinArg(path, p.name))
			if err != nil {
				return nil, err
			}
			out[p.name] = ne
		}
		var unknown []string
		for k := range m {
			if !slices.Contains(known, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			return nil, &argError{reason: fmt.Sprintf("unknown argument %s (the arguments are %s)",
				quoteList(prefixAll(path, unknown)), quoteList(prefixAll(path, known)))}
		}
		return out, nil
	}
	return nil, fail("unsupported schema type %q", n.typ)
}

func joinArg(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func prefixAll(path string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = joinArg(path, n)
	}
	return out
}

func article(typ string) string {
	switch typ {
	case "integer", "array", "object":
		return "an " + typ
	}
	return "a " + typ
}

// number returns v as a float64 if it is a number or a string holding one.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// describe names the JSON type of v for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", truncateText(x, 40))
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case float64, float32, int, int64, int32, json.Number:
		return fmt.Sprintf("the number %v", x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
