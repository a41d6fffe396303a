package programs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"

	"github.com/dspex-go/dspex/schema"
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
	name      string
	desc      string
	params    signature.Type // a Struct: one property per argument
	schema    schema.Object
	validator *schema.Validator
	call      func(ctx context.Context, args json.RawMessage) (any, error)
}

// newTool describes the arguments params (a Struct type) with package
// schema: the JSON schema pydantic would give them, compiled for
// validation.
func newTool(name, desc string, params signature.Type, call func(ctx context.Context, args json.RawMessage) (any, error)) (Tool, error) {
	s := schema.For(params)
	v, err := schema.Compile(s)
	if err != nil {
		return Tool{}, err
	}
	return Tool{name: name, desc: desc, params: params, schema: s, validator: v, call: call}, nil
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
// as signature.TypeOf maps them, and the schema is the one package schema
// builds (pydantic's, as DSPy's tools have): strings to string, integers to
// integer, floats to number, bool to boolean, slices to array, maps with
// string keys to object with additionalProperties, structs to objects
// defined under $defs, time.Time to a date-time string, any and
// json.RawMessage to any value. Arrays are not supported; use slices.
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
	params, err := signature.TypeOf(t)
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
	tool, err := newTool(name, desc, params, call)
	if err != nil {
		return Tool{}, fmt.Errorf("programs: tool %s: %w", name, err)
	}
	return tool, nil
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
// property per argument, as package schema builds it (nested structs under
// $defs).
func (t Tool) Schema() json.RawMessage {
	b, _ := json.Marshal(t.schema)
	return b
}

// arguments is the text of the argument schemas the agent's instructions
// show: the properties with their references resolved, as DSPy shows a
// tool's args.
func (t Tool) arguments() string {
	props, ok := schema.Inline(t.schema)["properties"].(schema.Object)
	if !ok {
		props = schema.Object{}
	}
	return string(schema.AppendPython(nil, props, true))
}

// Call validates args against the tool's schema, then runs the tool and
// returns its observation. As in DSPy, an argument the tool does not declare
// is refused, and each value must follow the JSON schema (no conversion:
// the string "3" is not an integer). Every failure is a *ToolError: invalid
// arguments match ErrInvalidArgs and name the argument's path, a panic in
// the tool is recovered and matches ErrToolPanic, and an error the tool
// returns is wrapped as is.
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
	if args == nil {
		args = map[string]any{}
	}
	if err := t.validate(args); err != nil {
		return nil, &ToolError{Tool: t.name, Err: err}
	}
	raw, err := json.Marshal(args)
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

// validate refuses unknown arguments, then checks args against the schema.
func (t Tool) validate(args map[string]any) error {
	known := make([]string, len(t.params.Props))
	for i, p := range t.params.Props {
		known[i] = p.Name
	}
	var unknown []string
	for k := range args {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return &argError{reason: fmt.Sprintf("unknown argument %s (the arguments are %s)", quoteList(unknown), quoteList(known))}
	}
	err := t.validator.Validate(args)
	var ve *schema.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve) && ve.Path != "":
		return &argError{reason: fmt.Sprintf("argument %q: %s", ve.Path, ve.Reason)}
	case errors.As(err, &ve):
		return &argError{reason: "the arguments: " + ve.Reason}
	default:
		return &argError{reason: err.Error()}
	}
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
