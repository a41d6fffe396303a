package schema

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dspex-go/dspex/signature"
)

// Object is a JSON schema, or any JSON object inside one. Its values are
// nil, bool, string, int64, float64, []any and Object.
type Object = map[string]any

// For returns the JSON schema of t as pydantic's TypeAdapter(T).json_schema()
// builds it for the Python annotation DSPy would hold:
//
//	str, int, float, bool   {"type": "string"}, "integer", "number", "boolean"
//	datetime                {"type": "string", "format": "date-time"}
//	Any                     {}
//	list[T]                 {"type": "array", "items": T}
//	dict[str, T]            {"type": "object", "additionalProperties": T} (true for Any)
//	Literal[a, b]           {"enum": [a, b]} with "type" when the values share one; a single value is "const"
//	Optional[T]             {"anyOf": [T, {"type": "null"}]}
//	an enumeration E        {"enum": [...], "title": "E", "type": "string"}
//	a model M               {"type": "object", "properties": {...}, "required": [...], "title": "M"}
//
// Models and enumerations nested anywhere below the top are described once
// under "$defs" and referenced with {"$ref": "#/$defs/Name"}, as pydantic
// does. Each property has a "title" (its name, title-cased with spaces for
// underscores), its "description" when it has one, and a "default" when it
// is not required (null for optional values, else the Go zero value). A property that is a bare reference carries no title.
func For(t signature.Type) Object {
	b := builder{defs: Object{}}
	s := b.node(t, true)
	if len(b.defs) > 0 {
		s["$defs"] = b.defs
	}
	return s
}

type builder struct {
	defs Object
}

// node returns the schema of t; top marks the root, where a model or an
// enumeration is written out instead of referenced.
func (b builder) node(t signature.Type, top bool) Object {
	if t.Optional {
		return Object{"anyOf": []any{b.node(t.NonOptional(), false), Object{"type": "null"}}}
	}
	switch t.Kind {
	case signature.String:
		return Object{"type": "string"}
	case signature.Int:
		return Object{"type": "integer"}
	case signature.Float:
		return Object{"type": "number"}
	case signature.Bool:
		return Object{"type": "boolean"}
	case signature.Time:
		return Object{"type": "string", "format": "date-time"}
	case signature.List:
		return Object{"type": "array", "items": b.node(t.ElemType(), false)}
	case signature.Map:
		elem := t.ElemType()
		if elem.Kind == signature.Object && !elem.Optional {
			return Object{"type": "object", "additionalProperties": true}
		}
		return Object{"type": "object", "additionalProperties": b.node(elem, false)}
	case signature.Enum:
		if t.Name == "" {
			return literal(t.Values)
		}
		def := literal(t.Values)
		def["title"] = t.Name
		return b.named(t.Name, def, top)
	case signature.Struct:
		return b.model(t, top)
	default:
		return Object{}
	}
}

// named returns def itself at the top, else records it under $defs and
// returns a reference to it.
func (b builder) named(name string, def Object, top bool) Object {
	if top {
		return def
	}
	if _, ok := b.defs[name]; !ok {
		b.defs[name] = def
	}
	return Object{"$ref": "#/$defs/" + name}
}

func (b builder) model(t signature.Type, top bool) Object {
	name := t.Name
	if name == "" {
		name = "Model"
	}
	if !top {
		if _, ok := b.defs[name]; ok {
			return Object{"$ref": "#/$defs/" + name}
		}
		b.defs[name] = Object{} // reserve the name while the properties are built
	}
	props := Object{}
	var required []any
	for _, p := range t.Props {
		ps := b.node(p.Type, false)
		_, isRef := ps["$ref"]
		if !isRef {
			ps["title"] = Title(p.Name)
		}
		if p.Desc != "" {
			ps["description"] = p.Desc
		}
		if p.Required {
			required = append(required, p.Name)
		} else {
			ps["default"] = zero(p.Type)
		}
		props[p.Name] = ps
	}
	def := Object{"type": "object", "properties": props, "title": name}
	if len(required) > 0 {
		def["required"] = required
	}
	if top {
		return def
	}
	b.defs[name] = def
	return Object{"$ref": "#/$defs/" + name}
}

// zero is the default of a property that is not required: None for an
// optional value, else the Go zero value (a Go field tagged omitempty), as
// pydantic shows "x: int = 0".
func zero(t signature.Type) any {
	if t.Optional {
		return nil
	}
	switch t.Kind {
	case signature.String:
		return ""
	case signature.Int:
		return int64(0)
	case signature.Float:
		return 0.0
	case signature.Bool:
		return false
	case signature.List:
		return []any{}
	case signature.Map:
		return Object{}
	}
	return nil
}

// literal is pydantic's schema of Literal[values...].
func literal(values []any) Object {
	var s Object
	if len(values) == 1 {
		s = Object{"const": values[0]}
	} else {
		s = Object{"enum": slices.Clone(values)}
	}
	if typ := commonType(values); typ != "" {
		s["type"] = typ
	}
	return s
}

// commonType is the JSON type all values share, or "".
func commonType(values []any) string {
	typ := ""
	for _, v := range values {
		var vt string
		switch v.(type) {
		case string:
			vt = "string"
		case int64:
			vt = "integer"
		case float64:
			vt = "number"
		case bool:
			vt = "boolean"
		}
		if typ != "" && vt != typ {
			return ""
		}
		typ = vt
	}
	return typ
}

// Title returns the title pydantic gives a property: Python's str.title()
// of its name with underscores turned into spaces ("num_dogs" is
// "Num Dogs").
func Title(name string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range name {
		if unicode.IsLetter(r) {
			if prevCased {
				r = unicode.ToLower(r)
			} else {
				r = unicode.ToTitle(r)
			}
			prevCased = true
		} else {
			prevCased = false
		}
		if r == '_' {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Text returns s as DSPy writes a schema into a prompt: json.dumps of the
// schema after DSPy's move_type_to_front, that is with the keys of every
// object sorted, "type" first, Python's separators (", " and ": ") and
// non-ASCII text left as it is.
func Text(s Object) string {
	return string(AppendPython(nil, s, true))
}

// AppendPython appends v as Python's json.dumps(v, ensure_ascii=False)
// writes it; with sortTypeFirst, object keys are sorted with "type" first
// (DSPy's move_type_to_front), else sorted plainly.
func AppendPython(b []byte, v any, sortTypeFirst bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return AppendPythonString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return append(b, signature.PyFloat(x)...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendPython(b, e, sortTypeFirst)
		}
		return append(b, ']')
	case Object:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, c string) int {
			if sortTypeFirst && (a == "type") != (c == "type") {
				if a == "type" {
					return -1
				}
				return 1
			}
			return strings.Compare(a, c)
		})
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendPythonString(b, k)
			b = append(b, ": "...)
			b = AppendPython(b, x[k], sortTypeFirst)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// AppendPythonString appends s as a JSON string the way Python's json.dumps
// with ensure_ascii=False escapes it: quotes, backslashes and control
// characters only. Invalid UTF-8 becomes U+FFFD.
func AppendPythonString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func sortedKeys(o Object) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Inline returns s with every "$ref" to its "$defs" replaced by the
// definition itself and "$defs" removed, as DSPy resolves the references in
// a tool's argument schemas before showing them. References nested deeper
// than maxInline levels (recursive definitions) are left as they are.
func Inline(s Object) Object {
	defs, _ := s["$defs"].(Object)
	out, _ := inline(s, defs, 0).(Object)
	delete(out, "$defs")
	return out
}

const maxInline = 32

func inline(v any, defs Object, depth int) any {
	switch x := v.(type) {
	case Object:
		if ref, ok := x["$ref"].(string); ok && depth < maxInline {
			if def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(Object); ok {
				merged := Object{}
				for k, e := range def {
					merged[k] = e
				}
				for k, e := range x {
					if k != "$ref" {
						merged[k] = e
					}
				}
				return inline(merged, defs, depth+1)
			}
		}
		out := make(Object, len(x))
		for k, e := range x {
			if k != "$defs" {
				out[k] = inline(e, defs, depth)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = inline(e, defs, depth)
		}
		return out
	}
	return v
}
