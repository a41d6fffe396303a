package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/message"
)

// Validator checks JSON values against a schema. It is compiled once and
// safe for concurrent use.
type Validator struct {
	s *jsonschema.Schema
}

// Compile checks that s is a valid JSON schema (draft 2020-12) and returns
// a Validator for it.
func Compile(s Object) (*Validator, error) {
	doc, err := toJSONValue(s)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("dspex:schema.json", doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	compiled, err := c.Compile("dspex:schema.json")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Validator{s: compiled}, nil
}

// ValidationError reports a value that does not match a schema. Path
// locates the first offending value ("items[2].name"; empty for the value
// as a whole).
type ValidationError struct {
	// Path locates the offending value.
	Path string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Path == "" {
		return "schema: " + e.Reason
	}
	return "schema: at " + e.Path + ": " + e.Reason
}

// Validate checks v, a value as encoding/json decodes it (maps, slices,
// strings, float64 or json.Number, bools, nil) or any value that encodes to
// such JSON, against the schema. A mismatch is a *ValidationError naming
// the deepest offending value.
func (v *Validator) Validate(x any) error {
	inst, err := toJSONValue(x)
	if err != nil {
		return &ValidationError{Reason: err.Error()}
	}
	err = v.s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &ValidationError{Reason: err.Error()}
	}
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	return &ValidationError{Path: joinPath(leaf.InstanceLocation), Reason: leaf.ErrorKind.LocalizedString(message.NewPrinter(message.MatchLanguage("en")))}
}

// joinPath spells an instance location as a path: properties after dots
// (or quoted in brackets when not identifiers), indexes in brackets.
func joinPath(loc []string) string {
	var b strings.Builder
	for _, seg := range loc {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if isIdent(seg) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
			continue
		}
		b.WriteString("[" + strconv.Quote(seg) + "]")
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// toJSONValue turns x into the plain JSON value the validator expects.
func toJSONValue(x any) (any, error) {
	var b []byte
	var err error
	if o, ok := x.(Object); ok {
		b = AppendPython(nil, o, false)
	} else if b, err = json.Marshal(x); err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}
