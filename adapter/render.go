package adapter

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dspex-go/dspex/signature"
)

// This file turns Go values into the text the LM sees, the way DSPy's
// format_field_value does: strings verbatim, numbers and bools as Python
// prints them, everything else as JSON with Python's separators.

// maxDepth bounds the nesting of values the encoder walks, so that cyclic
// structures fail instead of overflowing the stack.
const maxDepth = 1000

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// renderText returns the text of a field's value in a chat message, as
// DSPy's format_field_value writes it: a list given to a field declared str
// becomes DSPy's numbered list of «blobs»; any other value is str() of its
// JSON-ready form, so a typed list[str] is JSON (["a", "b"]).
//
// Object (Any) fields are always rendered as JSON, strings included, so
// that the text parses back to the same value (DSPy writes a string
// verbatim).
func renderText(f signature.Field, v any) (string, error) {
	if isToolField(f) {
		return renderTools(f, v)
	}
	if f.Type.Kind == signature.Object {
		b, err := appendJSON(nil, v, 0)
		if err != nil {
			return "", err
		}
		return string(pythonSpacing(b)), nil
	}
	if f.Type.Kind == signature.String && !f.Type.Optional {
		if items, ok := sliceItems(v); ok {
			return numberedList(items)
		}
	}
	return scalarText(v)
}

// scalarText renders v as DSPy's str() of its JSON-ready form: strings
// (and byte slices) verbatim, bools as True/False, numbers as Python prints them, and lists,
// maps and structs as JSON. A value that encodes to a JSON string (a
// time.Time, say) is rendered without quotes.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return pyBool(x), nil
	case float64:
		return pyFloat(x, 64), nil
	case float32:
		return pyFloat(float64(x), 32), nil
	case json.Number:
		return string(x), nil
	case []byte:
		return string(x), nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return "None", nil
	}
	if !implementsMarshaler(rv.Type()) {
		switch rv.Kind() {
		case reflect.String:
			return rv.String(), nil
		case reflect.Bool:
			return pyBool(rv.Bool()), nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return strconv.FormatInt(rv.Int(), 10), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return strconv.FormatUint(rv.Uint(), 10), nil
		case reflect.Float32:
			return pyFloat(rv.Float(), 32), nil
		case reflect.Float64:
			return pyFloat(rv.Float(), 64), nil
		}
	}
	b, err := appendJSON(nil, v, 0)
	if err != nil {
		return "", err
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			return s, nil
		}
	}
	return string(pythonSpacing(b)), nil
}

// sliceItems returns the elements of a slice or array value (other than
// bytes), or false.
func sliceItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return items, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	items := make([]any, rv.Len())
	for i := range items {
		items[i] = rv.Index(i).Interface()
	}
	return items, true
}

// numberedList renders items like DSPy renders a list given to a str field:
// "N/A" when empty, a single «blob» for one item, else "[1] «a»" lines.
func numberedList(items []any) (string, error) {
	texts := make([]string, len(items))
	for i, it := range items {
		s, err := scalarText(it)
		if err != nil {
			return "", fmt.Errorf("element %d: %w", i, err)
		}
		texts[i] = blob(s)
	}
	switch len(texts) {
	case 0:
		return "N/A", nil
	case 1:
		return texts[0], nil
	}
	var b strings.Builder
	for i, t := range texts {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%d] %s", i+1, t)
	}
	return b.String(), nil
}

// blob quotes one list item in guillemets; multi-line items (or items that
// contain guillemets) use the indented «««…»»» form.
func blob(s string) string {
	if !strings.ContainsAny(s, "\n«»") {
		return "«" + s + "»"
	}
	return "«««\n    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n»»»"
}

// pyBool spells b as Python does.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyFloat spells f as Python's repr does: the shortest text that reads
// back as f, with ".0" on whole numbers and exponents outside [-4, 16).
func pyFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	if i := strings.LastIndexByte(e, 'e'); i >= 0 {
		exp, err := strconv.Atoi(e[i+1:])
		if err == nil && (exp < -4 || exp >= 16) {
			return e
		}
	}
	s := strconv.FormatFloat(f, 'f', -1, bits)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// implementsMarshaler reports whether values of t define their own JSON or
// text encoding.
func implementsMarshaler(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
}

// appendJSON appends v as compact JSON. Maps, slices, strings, numbers and
// bools are encoded here (floats like Python's repr, so 3.0 stays 3.0, map
// keys sorted, no HTML escaping); structs and types with their own
// marshalers go through encoding/json. NaN and infinities are an error.
func appendJSON(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("value nested too deeply (cyclic?)")
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendJSONFloat(b, x, 64)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	case json.Number:
		if x == "" {
			return append(b, '0'), nil
		}
		if !json.Valid([]byte(x)) || x[0] == '"' || x[0] == '[' || x[0] == '{' {
			return nil, fmt.Errorf("invalid json.Number %q", string(x))
		}
		return append(b, x...), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return appendJSONReflect(b, reflect.ValueOf(v), depth)
}

func appendJSONReflect(b []byte, rv reflect.Value, depth int) ([]byte, error) {
	if implementsMarshaler(rv.Type()) {
		return appendStdJSON(b, rv.Interface())
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(b, "null"...), nil
		}
		return appendJSON(b, rv.Elem().Interface(), depth+1)
	case reflect.String:
		return appendJSONString(b, rv.String()), nil
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10), nil
	case reflect.Float32:
		return appendJSONFloat(b, rv.Float(), 32)
	case reflect.Float64:
		return appendJSONFloat(b, rv.Float(), 64)
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			if rv.Kind() == reflect.Slice {
				// Bytes are text, as signature.Encode treats them.
				return appendJSONString(b, string(rv.Bytes())), nil
			}
			return appendStdJSON(b, rv.Interface())
		}
		b = append(b, '[')
		for i := range rv.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, rv.Index(i).Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return appendStdJSON(b, rv.Interface())
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k.String())
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, rv.MapIndex(k).Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return appendStdJSON(b, rv.Interface())
}

// appendStdJSON appends v as encoding/json encodes it, without HTML
// escaping.
func appendStdJSON(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

func appendJSONFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("JSON cannot represent %v", f)
	}
	return append(b, pyFloat(f, bits)...), nil
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD; HTML characters are not escaped.
func appendJSONString(b []byte, s string) []byte {
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
			b = append(b, `\ufffd`...)
		} else {
			// Python's json.dumps(ensure_ascii=False) leaves every other
			// character, U+2028 and U+2029 included, as it is.
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// pythonSpacing rewrites compact JSON with the separators of Python's
// json.dumps: ", " between elements and ": " after keys.
func pythonSpacing(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	inString, escaped := false, false
	for _, c := range compact {
		out = append(out, c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(out, ' ')
		}
	}
	return out
}

// elemOf returns the element type of a list or the value type of a map
// (str when not declared).
func elemOf(t signature.Type) signature.Type {
	if t.Elem == nil {
		return signature.TypeString
	}
	return *t.Elem
}
