package signature

import (
	"fmt"
	"slices"
	"strings"
)

// Role says whether a field is an input or an output of a signature.
type Role uint8

// The two roles a field can play.
const (
	Input Role = iota
	Output
)

// String returns "input" or "output".
func (r Role) String() string {
	if r == Output {
		return "output"
	}
	return "input"
}

// Signature declares what an LM step does: its named, typed inputs and
// outputs, and the instructions that state the task.
//
// A Signature is an immutable value and safe for concurrent use. The
// derivation methods (WithInstructions, Prepend, Append, Insert, Delete,
// WithField) return a new Signature and leave the receiver unchanged.
type Signature struct {
	name         string
	instructions string
	inputs       []Field
	outputs      []Field
}

// New builds a signature from its parts. Field names must be valid
// identifiers and unique across inputs and outputs; there must be at least one
// output. When instructions is empty, DefaultInstructions is used.
func New(name, instructions string, inputs, outputs []Field) (Signature, error) {
	s := Signature{
		name:         name,
		instructions: instructions,
		inputs:       slices.Clone(inputs),
		outputs:      slices.Clone(outputs),
	}
	if err := s.validate(); err != nil {
		return Signature{}, err
	}
	if s.instructions == "" {
		s.instructions = DefaultInstructions(s.inputs, s.outputs)
	}
	if s.name == "" {
		s.name = "StringSignature"
	}
	return s, nil
}

// DefaultInstructions returns DSPy's default objective for a signature with
// the given fields, e.g. "Given the fields `question`, produce the fields
// `answer`.". Without inputs it is "Produce the fields `answer`.".
func DefaultInstructions(inputs, outputs []Field) string {
	if len(inputs) == 0 {
		return fmt.Sprintf("Produce the fields %s.", quoteNames(outputs))
	}
	return fmt.Sprintf("Given the fields %s, produce the fields %s.", quoteNames(inputs), quoteNames(outputs))
}

func quoteNames(fs []Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = "`" + f.Name + "`"
	}
	return strings.Join(names, ", ")
}

func (s Signature) validate() error {
	if len(s.outputs) == 0 {
		return &FieldError{Reason: "a signature needs at least one output field"}
	}
	seen := make(map[string]Role, len(s.inputs)+len(s.outputs))
	check := func(role Role, fs []Field) error {
		for _, f := range fs {
			if !IsIdentifier(f.Name) {
				return &FieldError{Field: f.Name, Reason: fmt.Sprintf("%s field name %q is not an identifier", role, f.Name)}
			}
			if !f.Type.valid(0) {
				return &FieldError{Field: f.Name, Reason: fmt.Sprintf("%s field %q has an invalid type (kind %d or nested too deeply)", role, f.Name, f.Type.Kind)}
			}
			if why := mediaPlacement(f.Type, role); why != "" {
				return &FieldError{Field: f.Name, Reason: fmt.Sprintf("%s field %q: %s", role, f.Name, why)}
			}
			if prev, dup := seen[f.Name]; dup {
				return &FieldError{Field: f.Name, Reason: fmt.Sprintf("field %q is declared twice (as %s and as %s)", f.Name, prev, role)}
			}
			seen[f.Name] = role
		}
		return nil
	}
	if err := check(Input, s.inputs); err != nil {
		return err
	}
	return check(Output, s.outputs)
}

// IsIdentifier reports whether name can name a field: a letter or underscore
// followed by letters, digits or underscores.
func IsIdentifier(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// FieldError reports an invalid field in a signature or in a struct used as
// one. Field names the offending field (the Go struct field for struct
// signatures) and may be empty when the problem is the signature as a whole.
type FieldError struct {
	// Struct is the Go type of the struct, for struct signatures.
	Struct string
	// Field names the offending field.
	Field string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying cause, if any (for example strconv.ErrRange
	// when Decode meets a number that overflows the field).
	Err error
}

// Error implements error.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("signature: ")
	switch {
	case e.Struct != "" && e.Field != "":
		fmt.Fprintf(&b, "%s.%s: ", e.Struct, e.Field)
	case e.Struct != "":
		fmt.Fprintf(&b, "%s: ", e.Struct)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the underlying cause, or nil.
func (e *FieldError) Unwrap() error { return e.Err }

// Name returns the signature's name ("StringSignature" for parsed ones, the
// Go type names for struct signatures).
func (s Signature) Name() string { return s.name }

// Instructions returns the task description given to the LM.
func (s Signature) Instructions() string { return s.instructions }

// Inputs returns a copy of the input fields, in order.
func (s Signature) Inputs() []Field { return slices.Clone(s.inputs) }

// Outputs returns a copy of the output fields, in order.
func (s Signature) Outputs() []Field { return slices.Clone(s.outputs) }

// NumInputs returns the number of input fields.
func (s Signature) NumInputs() int { return len(s.inputs) }

// Input returns the i-th input field (0 <= i < NumInputs). With NumInputs
// it walks the inputs without the copy Inputs makes, for code that runs
// at every LM call.
func (s Signature) Input(i int) Field { return s.inputs[i] }

// NumOutputs returns the number of output fields.
func (s Signature) NumOutputs() int { return len(s.outputs) }

// Output returns the i-th output field (0 <= i < NumOutputs), without the
// copy Outputs makes.
func (s Signature) Output(i int) Field { return s.outputs[i] }

// Fields returns a copy of the fields of the given role.
func (s Signature) Fields(role Role) []Field {
	if role == Output {
		return s.Outputs()
	}
	return s.Inputs()
}

// Field returns the field with the given name and its role.
func (s Signature) Field(name string) (Field, Role, bool) {
	for _, f := range s.inputs {
		if f.Name == name {
			return f, Input, true
		}
	}
	for _, f := range s.outputs {
		if f.Name == name {
			return f, Output, true
		}
	}
	return Field{}, 0, false
}

// IsZero reports whether s is the zero Signature (not built by New, Parse or
// Of).
func (s Signature) IsZero() bool { return len(s.outputs) == 0 }

// String returns the signature in DSPy's string syntax with types, e.g.
// "question: str -> answer: str" (or "-> answer: str" without inputs).
// Parse reads it back into a signature with the same fields.
func (s Signature) String() string {
	if len(s.inputs) == 0 {
		return "-> " + fieldList(s.outputs)
	}
	return fieldList(s.inputs) + " -> " + fieldList(s.outputs)
}

func fieldList(fs []Field) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + ": " + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

// Equal reports whether s and t have the same name, instructions and fields.
func (s Signature) Equal(t Signature) bool {
	eq := func(a, b []Field) bool {
		return slices.EqualFunc(a, b, func(x, y Field) bool {
			return x.Name == y.Name && x.Desc == y.Desc && x.Prefix == y.Prefix && x.Type.Equal(y.Type)
		})
	}
	return s.name == t.name && s.instructions == t.instructions && eq(s.inputs, t.inputs) && eq(s.outputs, t.outputs)
}

// WithInstructions returns a copy of s with new instructions.
func (s Signature) WithInstructions(instructions string) Signature {
	s.inputs, s.outputs = slices.Clone(s.inputs), slices.Clone(s.outputs)
	s.instructions = instructions
	return s
}

// WithName returns a copy of s with a new name.
func (s Signature) WithName(name string) Signature {
	s.inputs, s.outputs = slices.Clone(s.inputs), slices.Clone(s.outputs)
	s.name = name
	return s
}

// Prepend returns a copy of s with f as the first field of the given role.
func (s Signature) Prepend(role Role, f Field) (Signature, error) {
	return s.Insert(role, 0, f)
}

// Append returns a copy of s with f as the last field of the given role.
func (s Signature) Append(role Role, f Field) (Signature, error) {
	return s.Insert(role, len(s.fieldsOf(role)), f)
}

// Insert returns a copy of s with f inserted at index i among the fields of
// the given role. It fails if the name is taken or not an identifier, or if i
// is out of range.
func (s Signature) Insert(role Role, i int, f Field) (Signature, error) {
	fs := s.fieldsOf(role)
	if i < 0 || i > len(fs) {
		return Signature{}, &FieldError{Field: f.Name, Reason: fmt.Sprintf("insert index %d out of range [0, %d]", i, len(fs))}
	}
	out := s.WithInstructions(s.instructions)
	if role == Output {
		out.outputs = slices.Insert(out.outputs, i, f)
	} else {
		out.inputs = slices.Insert(out.inputs, i, f)
	}
	if err := out.validate(); err != nil {
		return Signature{}, err
	}
	return out, nil
}

// Delete returns a copy of s without the named field. It fails if there is
// no such field or if it is the last output.
func (s Signature) Delete(name string) (Signature, error) {
	_, role, ok := s.Field(name)
	if !ok {
		return Signature{}, &FieldError{Field: name, Reason: fmt.Sprintf("no field %q", name)}
	}
	out := s.WithInstructions(s.instructions)
	drop := func(f Field) bool { return f.Name == name }
	if role == Output {
		out.outputs = slices.DeleteFunc(out.outputs, drop)
	} else {
		out.inputs = slices.DeleteFunc(out.inputs, drop)
	}
	if err := out.validate(); err != nil {
		return Signature{}, err
	}
	return out, nil
}

// WithoutFields returns a copy of s without the named fields (names it does
// not have are ignored), keeping the instructions, as DSPy's
// Signature.delete does for each name. Unlike Delete it may leave no output
// field: an adapter formats such a signature when the provider produces the
// outputs natively (tool calls). IsZero reports true for it, and Parse,
// Call and programs refuse it; it is meant for formatting only.
func (s Signature) WithoutFields(names ...string) Signature {
	out := s.WithInstructions(s.instructions)
	drop := func(f Field) bool { return slices.Contains(names, f.Name) }
	out.inputs = slices.DeleteFunc(out.inputs, drop)
	out.outputs = slices.DeleteFunc(out.outputs, drop)
	return out
}

// WithField returns a copy of s in which the field named f.Name is replaced
// by f, keeping its role and position. Optimizers use it to change a field's
// prefix or description.
func (s Signature) WithField(f Field) (Signature, error) {
	_, role, ok := s.Field(f.Name)
	if !ok {
		return Signature{}, &FieldError{Field: f.Name, Reason: fmt.Sprintf("no field %q", f.Name)}
	}
	out := s.WithInstructions(s.instructions)
	fs := out.inputs
	if role == Output {
		fs = out.outputs
	}
	for i := range fs {
		if fs[i].Name == f.Name {
			fs[i] = f
		}
	}
	return out, nil
}

func (s Signature) fieldsOf(role Role) []Field {
	if role == Output {
		return s.outputs
	}
	return s.inputs
}
