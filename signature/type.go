package signature

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the shape of a field's value.
type Kind uint8

// The kinds a field can have.
//
// Object is any JSON value (DSPy's Any). Enum is a closed set of values:
// Python's Literal[...] when Type.Name is empty, a named enumeration (a
// Python enum.Enum, a Go string type listing its values) otherwise. Struct is
// a named record with typed properties (a pydantic model, a Go struct). Time
// is a date and time, written as RFC 3339 text (Python's datetime).
const (
	String Kind = iota
	Int
	Float
	Bool
	List
	Map
	Object
	Enum
	Struct
	Time
	// ImageKind is an image (DSPy's dspy.Image), given as an Image value.
	ImageKind
	// HistoryKind is the earlier turns of a conversation (DSPy's
	// dspy.History), given as a History value.
	HistoryKind
	// ToolKind is a function the model may call (DSPy's dspy.Tool), given
	// as a Tool value; an input only, alone or as a list's element.
	ToolKind
	// ToolCallsKind is the calls the model asks for (DSPy's
	// dspy.ToolCalls), parsed into a ToolCalls value; an output only.
	ToolCallsKind
)

var kindNames = [...]string{
	String: "str",
	Int:    "int",
	Float:  "float",
	Bool:   "bool",
	List:   "list",
	Map:    "dict",
	Object: "Any",
	Enum:   "Literal",
	Struct: "object",
	Time:   "datetime",

	ImageKind:   "Image",
	HistoryKind: "History",

	ToolKind:      "Tool",
	ToolCallsKind: "ToolCalls",
}

// String returns the DSPy spelling of k ("str", "int", "list", "Any", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Type is the declared type of a field. The zero Type is str.
//
// A Type is an immutable value: Elem, Values and Props are shared between
// copies and must not be modified after construction.
type Type struct {
	// Kind is the type's shape.
	Kind Kind
	// Elem is the element type of a List or the value type of a Map
	// (whose keys are always strings). It is nil for the other kinds.
	Elem *Type
	// Optional reports that the value may also be None (null): Python's
	// Optional[T] or T | None, a Go pointer field.
	Optional bool
	// Name names an Enum (an enumeration class, as opposed to a Literal)
	// or a Struct (the model's class name). DSPy shows it as the type.
	Name string
	// Values are the allowed values of an Enum, each a string, int64,
	// float64 or bool, in declaration order.
	Values []any
	// Props are the properties of a Struct, in declaration order.
	Props []Prop
}

// Prop is one property of a Struct type: a field of a pydantic model or of
// a Go struct nested in a signature.
type Prop struct {
	// Name is the property's JSON name.
	Name string
	// Desc describes the property (pydantic's Field(description=...), the
	// Go desc tag). May be empty.
	Desc string
	// Type is the property's type.
	Type Type
	// Required reports that the property must be present. Optional
	// properties of Go structs (pointer fields) are not required and
	// default to None, as a pydantic field declared "x: T | None = None".
	Required bool
}

// Scalar types, ready to use.
var (
	TypeString = Type{Kind: String}
	TypeInt    = Type{Kind: Int}
	TypeFloat  = Type{Kind: Float}
	TypeBool   = Type{Kind: Bool}
	TypeObject = Type{Kind: Object}
	TypeTime   = Type{Kind: Time}
)

// ListOf returns the type list[elem].
func ListOf(elem Type) Type { return Type{Kind: List, Elem: &elem} }

// MapOf returns the type dict[str, elem].
func MapOf(elem Type) Type { return Type{Kind: Map, Elem: &elem} }

// LiteralOf returns the type Literal[values...]. Each value must be a
// string, int64, float64 or bool.
func LiteralOf(values ...any) Type { return Type{Kind: Enum, Values: slices.Clone(values)} }

// EnumOf returns a named enumeration of strings, as a Python enum.Enum
// whose members have these values.
func EnumOf(name string, values ...string) Type {
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = v
	}
	return Type{Kind: Enum, Name: name, Values: vs}
}

// StructOf returns the named record type with the given properties.
func StructOf(name string, props ...Prop) Type {
	return Type{Kind: Struct, Name: name, Props: slices.Clone(props)}
}

// OptionalOf returns t that also admits None.
func OptionalOf(t Type) Type {
	t.Optional = true
	return t
}

// NonOptional returns t without the None alternative.
func (t Type) NonOptional() Type {
	t.Optional = false
	return t
}

// String returns the DSPy spelling of t, as DSPy's get_annotation_name
// prints the Python annotation: "list[str]", "dict[str, float]",
// "Literal['yes', 'no']", a model's class name, "Union[int, NoneType]" for
// an optional int (Python 3.10–3.13's spelling of Optional[int]).
func (t Type) String() string {
	if t.Optional {
		return "Union[" + t.NonOptional().String() + ", NoneType]"
	}
	switch t.Kind {
	case List:
		return "list[" + t.elem().String() + "]"
	case Map:
		return "dict[str, " + t.elem().String() + "]"
	case Enum:
		if t.Name != "" {
			return t.Name
		}
		parts := make([]string, len(t.Values))
		for i, v := range t.Values {
			parts[i] = LiteralText(v)
		}
		return "Literal[" + strings.Join(parts, ", ") + "]"
	case Struct:
		if t.Name != "" {
			return t.Name
		}
		return "object"
	default:
		return t.Kind.String()
	}
}

// LiteralText spells one value of a Literal as Python's repr does inside
// the annotation: strings quoted (single quotes unless the text holds only
// single quotes), True and False, numbers as Python prints them.
func LiteralText(v any) string {
	switch x := v.(type) {
	case string:
		hasSingle, hasDouble := strings.Contains(x, "'"), strings.Contains(x, `"`)
		switch {
		case hasSingle && !hasDouble:
			return `"` + x + `"`
		case hasSingle:
			return "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
		default:
			return "'" + x + "'"
		}
	default:
		return ValueText(v)
	}
}

// ValueText spells an enum value as Python's str() does: strings as they
// are, True and False, integers in decimal, floats as Python's repr.
func ValueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return PyFloat(x)
	default:
		return fmt.Sprint(v)
	}
}

// PyFloat spells f as Python's repr does: the shortest text that reads back
// as f, with ".0" on whole numbers and exponents outside [-4, 16).
func PyFloat(f float64) string {
	switch {
	case f != f:
		return "nan"
	case f > 1.7976931348623157e308:
		return "inf"
	case f < -1.7976931348623157e308:
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	if i := strings.LastIndexByte(e, 'e'); i >= 0 {
		exp, err := strconv.Atoi(e[i+1:])
		if err == nil && (exp < -4 || exp >= 16) {
			mant, ex := e[:i], e[i+1:]
			// Python writes 1e-05 and 1e+16: at least two exponent digits.
			sign := ex[:1]
			digits := ex[1:]
			if len(digits) < 2 {
				digits = "0" + digits
			}
			return mant + "e" + sign + digits
		}
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// Equal reports whether t and u denote the same type.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind || t.Optional != u.Optional || t.Name != u.Name {
		return false
	}
	switch t.Kind {
	case List, Map:
		return t.elem().Equal(u.elem())
	case Enum:
		return slices.Equal(t.Values, u.Values)
	case Struct:
		return slices.EqualFunc(t.Props, u.Props, func(a, b Prop) bool {
			return a.Name == b.Name && a.Desc == b.Desc && a.Required == b.Required && a.Type.Equal(b.Type)
		})
	}
	return true
}

// maxTypeDepth bounds the nesting of list, dict and struct types, so that
// String, Equal and the adapters' schema builders never recurse without
// bound.
const maxTypeDepth = 32

// valid reports whether t has a known kind at every level, nests at most
// maxTypeDepth levels below depth, and has well-formed enum values and
// struct properties.
func (t Type) valid(depth int) bool {
	if depth > maxTypeDepth || int(t.Kind) >= len(kindNames) {
		return false
	}
	switch t.Kind {
	case List, Map:
		return t.elem().valid(depth + 1)
	case Enum:
		if len(t.Values) == 0 {
			return false
		}
		for _, v := range t.Values {
			switch v.(type) {
			case string, int64, float64, bool:
			default:
				return false
			}
		}
	case Struct:
		seen := make(map[string]bool, len(t.Props))
		for _, p := range t.Props {
			if p.Name == "" || seen[p.Name] || !p.Type.valid(depth+1) {
				return false
			}
			seen[p.Name] = true
		}
	}
	return true
}

func (t Type) elem() Type {
	if t.Elem == nil {
		return TypeString
	}
	return *t.Elem
}

// ElemType returns the element type of a list or the value type of a dict
// (str when not declared).
func (t Type) ElemType() Type { return t.elem() }

// Field is one input or output of a signature.
type Field struct {
	// Name is the field's identifier, as the LM sees it (e.g. "question").
	Name string
	// Desc describes the field to the LM. May be empty.
	Desc string
	// Prefix is the label DSPy puts before the field (e.g. "Question:").
	// Empty means DefaultPrefix(Name).
	Prefix string
	// Type is the field's declared type.
	Type Type
}

// DefaultPrefix returns the prefix DSPy derives from a field name:
// "some_field" becomes "Some Field:".
func DefaultPrefix(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' })
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[size:]
	}
	return strings.Join(words, " ") + ":"
}

// Label returns f.Prefix, or DefaultPrefix(f.Name) when it is empty.
func (f Field) Label() string {
	if f.Prefix != "" {
		return f.Prefix
	}
	return DefaultPrefix(f.Name)
}
