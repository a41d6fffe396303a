package adapter

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dspex-go/dspex/signature"
)

// This file coerces parsed text and decoded JSON to a field's declared type.
// The Go types produced are:
//
//	str    string
//	int    int64
//	float  float64
//	bool   bool
//	list   []any, elements coerced to the element type
//	dict   map[string]any, values coerced to the value type
//	json   nil, bool, string, int64, float64, []any or map[string]any
//
// For json, a JSON number without fraction or exponent that fits an int64 is
// an int64 and every other number a float64, as Python's json.loads does;
// json.Number never escapes the package.

// maxExponent bounds the decimal exponents the integer parser shifts by.
const maxExponent = 400

// coerceText converts the text of a field to t.
func coerceText(t signature.Type, text string) (any, error) {
	if t.Optional {
		switch strings.TrimSpace(text) {
		case "", "None", "null":
			return nil, nil
		}
		t = t.NonOptional()
	}
	switch t.Kind {
	case signature.String:
		return text, nil
	case signature.Int:
		return parseInt(text)
	case signature.Float:
		return parseFloat(text)
	case signature.Bool:
		return parseBool(text)
	case signature.Enum:
		return matchEnum(t, text)
	case signature.Time:
		return parseTime(text)
	case signature.List, signature.Map, signature.Struct:
		return parseStructured(t, text)
	case signature.ToolCallsKind:
		v, err := decodeLenient(stripFences(strings.TrimSpace(text)))
		if err != nil {
			return nil, invalid("%q is not a JSON object or list of tool calls", truncate(strings.TrimSpace(text), maxQuoted))
		}
		return coerceToolCalls(normalizeJSON(v))
	default:
		s := stripFences(strings.TrimSpace(text))
		if v, err := decodeLenient(s); err == nil {
			return normalizeJSON(v), nil
		}
		return strings.TrimSpace(text), nil
	}
}

// coerceJSON converts a value decoded with json.Decoder.UseNumber to t.
// Strings are accepted for every kind and parsed as text; a str accepts
// numbers and bools as their JSON text, but not arrays, objects or null.
func coerceJSON(t signature.Type, v any) (any, error) {
	if t.Optional {
		if v == nil {
			return nil, nil
		}
		t = t.NonOptional()
	}
	if s, ok := v.(string); ok {
		if t.Kind == signature.Object {
			return s, nil
		}
		return coerceText(t, s)
	}
	if v == nil && t.Kind != signature.Object {
		return nil, invalid("expected %s, got null", t)
	}
	switch t.Kind {
	case signature.String:
		switch x := v.(type) {
		case json.Number:
			return string(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	case signature.Int:
		if n, ok := v.(json.Number); ok {
			return parseInt(string(n))
		}
	case signature.Float:
		if n, ok := v.(json.Number); ok {
			return parseFloat(string(n))
		}
	case signature.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case signature.Enum:
		if x, ok := enumValue(t, normalizeJSON(v)); ok {
			return x, nil
		}
		return nil, invalid("%s is not one of %s", describeJSON(v), enumChoices(t))
	case signature.List:
		if items, ok := v.([]any); ok {
			out := make([]any, len(items))
			for i, it := range items {
				c, err := coerceJSON(elemOf(t), it)
				if err != nil {
					return nil, within(index(i), err)
				}
				out[i] = c
			}
			return out, nil
		}
	case signature.Map:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, it := range m {
				c, err := coerceJSON(elemOf(t), it)
				if err != nil {
					return nil, within(key(k), err)
				}
				out[k] = c
			}
			return out, nil
		}
	case signature.Struct:
		if m, ok := v.(map[string]any); ok {
			return coerceStruct(t, m)
		}
	case signature.Time:
	case signature.ToolCallsKind:
		return coerceToolCalls(normalizeJSON(v))
	default:
		return normalizeJSON(v), nil
	}
	return nil, invalid("expected %s, got %s", t, describeJSON(v))
}

// coerceStruct checks a decoded object against the properties of a Struct
// type and coerces each property; unknown keys are dropped and a missing
// optional property is left out, as pydantic validates a model. Properties
// are checked in declaration order, so the first error is deterministic.
func coerceStruct(t signature.Type, m map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(t.Props))
	for _, p := range t.Props {
		raw, ok := m[p.Name]
		if !ok {
			if p.Required && !p.Type.Optional {
				return nil, within(key(p.Name), invalid("missing required property %q of %s", p.Name, t))
			}
			continue
		}
		c, err := coerceJSON(p.Type, raw)
		if err != nil {
			return nil, within(key(p.Name), err)
		}
		out[p.Name] = c
	}
	return out, nil
}

// matchEnum finds the value of an Enum that text names, as DSPy's
// parse_value does for a Literal: the text itself, or trimmed, without a
// "Literal[...]" or "str[...]" wrapper and without one pair of quotes.
// Values that are not strings match their Python spelling or their JSON
// text.
func matchEnum(t signature.Type, text string) (any, error) {
	if x, ok := enumValue(t, text); ok {
		return x, nil
	}
	v := strings.TrimSpace(text)
	if (strings.HasPrefix(v, "Literal[") || strings.HasPrefix(v, "str[")) && strings.HasSuffix(v, "]") {
		v = v[strings.IndexByte(v, '[')+1 : len(v)-1]
	}
	if len(v) > 1 && v[0] == v[len(v)-1] && (v[0] == '"' || v[0] == '\'') {
		v = v[1 : len(v)-1]
	}
	if x, ok := enumValue(t, v); ok {
		return x, nil
	}
	for _, want := range t.Values {
		if _, isString := want.(string); !isString && signature.ValueText(want) == v {
			return want, nil
		}
	}
	if dec, err := decodeJSON(v); err == nil {
		if x, ok := enumValue(t, normalizeJSON(dec)); ok {
			return x, nil
		}
	}
	return nil, invalid("%q is not one of %s", truncate(strings.TrimSpace(text), maxQuoted), enumChoices(t))
}

// enumValue returns the value of t equal to v.
func enumValue(t signature.Type, v any) (any, bool) {
	for _, want := range t.Values {
		switch w := want.(type) {
		case float64:
			switch x := v.(type) {
			case float64:
				if x == w {
					return want, true
				}
			case int64:
				if float64(x) == w {
					return want, true
				}
			}
		default:
			if v == want {
				return want, true
			}
		}
	}
	return nil, false
}

// enumChoices lists the values of t for error messages.
func enumChoices(t signature.Type) string {
	parts := make([]string, len(t.Values))
	for i, v := range t.Values {
		parts[i] = signature.LiteralText(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// timeLayouts are the date and time spellings a Time field accepts: RFC
// 3339, the same without a zone (taken as UTC) and a bare date.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// parseTime reads a date and time.
func parseTime(text string) (time.Time, error) {
	s := strings.TrimSpace(text)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	for _, layout := range timeLayouts {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm, nil
		}
	}
	return time.Time{}, invalid("%q is not a date and time (RFC 3339, as 2006-01-02T15:04:05Z)", truncate(s, maxQuoted))
}

// describeJSON names the JSON type of a decoded value for error messages.
func describeJSON(v any) string {
	switch x := v.(type) {
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case json.Number:
		return "number " + truncate(string(x), maxQuoted)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// normalizeJSON replaces the json.Numbers in v by int64 or float64.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		f, _ := strconv.ParseFloat(s, 64) // ±Inf when out of range, like Python
		return f
	case []any:
		for i := range x {
			x[i] = normalizeJSON(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeJSON(e)
		}
	}
	return v
}

// decodeJSON decodes s, which must hold exactly one JSON value, keeping
// numbers as json.Number.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}

// stripFences removes a Markdown code fence (```json … ```) around s.
func stripFences(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	body := s[3:]
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = strings.TrimLeft(body, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	}
	body = strings.TrimSpace(body)
	body = strings.TrimSuffix(body, "```")
	return strings.TrimSpace(body)
}

// parseStructured coerces the text of a list or dict field: JSON (possibly
// fenced), for lists of scalars a numbered or bulleted list, and as a last
// resort the first JSON array or object found in the text.
func parseStructured(t signature.Type, text string) (any, error) {
	s := stripFences(strings.TrimSpace(text))
	if v, err := decodeLenient(s); err == nil {
		return coerceJSON(t, v)
	}
	if t.Kind == signature.List && elemOf(t).Kind <= signature.Bool && !elemOf(t).Optional {
		if items, ok := parseItems(s); ok {
			out := make([]any, len(items))
			for i, it := range items {
				c, err := coerceText(elemOf(t), it)
				if err != nil {
					return nil, within(index(i), err)
				}
				out[i] = c
			}
			return out, nil
		}
	}
	open, what := byte('['), "a JSON array"
	if t.Kind == signature.Map || t.Kind == signature.Struct {
		open, what = '{', "a JSON object"
	}
	// Skip "[1]": in list text it is the index of a DSPy-style item.
	isIndex := func(c string) bool {
		d := strings.TrimSpace(c[1 : len(c)-1])
		return open == '[' && d != "" && allDigits(d)
	}
	if v, ok := findJSON(s, open, isIndex); ok {
		return coerceJSON(t, v)
	}
	return nil, invalid("%q is not %s", truncate(strings.TrimSpace(text), maxQuoted), what)
}

var (
	numberedItem = regexp.MustCompile(`^(?:\[\d+\]|\d+[.)]|[-*•+])\s*`)
	// numberedItemStrict is the form that needs a space after the marker,
	// so that "1.5" or "-3" are not taken for list items.
	numberedItemStrict = regexp.MustCompile(`^(?:\d+[.)]|[-*•+])\s`)
)

// parseItems reads a list written as lines: "[1] «a»", "1. a", "2) a",
// "- a", "* a", "• a", DSPy's «««…»»» multi-line blobs, or a single «blob».
func parseItems(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	lines := strings.Split(s, "\n")
	var items []string
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		var rest string
		switch {
		case strings.HasPrefix(line, "["):
			m := numberedItem.FindString(line)
			if m == "" || !strings.HasPrefix(m, "[") {
				return nil, false
			}
			rest = line[len(m):]
		case strings.HasPrefix(line, "«"):
			if len(lines) > 1 && line != "«««" || i > 0 {
				return nil, false
			}
			rest = line
		default:
			m := numberedItemStrict.FindString(line)
			if m == "" {
				return nil, false
			}
			rest = strings.TrimSpace(line[len(m):])
		}
		if rest == "«««" {
			var body []string
			closed := false
			for i++; i < len(lines); i++ {
				if strings.TrimSpace(lines[i]) == "»»»" {
					closed = true
					break
				}
				body = append(body, strings.TrimPrefix(strings.TrimRight(lines[i], "\r"), "    "))
			}
			if !closed {
				return nil, false
			}
			items = append(items, strings.Join(body, "\n"))
			continue
		}
		if strings.HasPrefix(rest, "«") && strings.HasSuffix(rest, "»") && len(rest) >= len("«»") {
			rest = strings.TrimSuffix(strings.TrimPrefix(rest, "«"), "»")
		}
		items = append(items, rest)
	}
	return items, len(items) > 0
}

// cleanNumber trims s, removes one pair of quotes around it and the commas
// of a well-formed thousands grouping ("1,234,567.5").
func cleanNumber(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if !strings.Contains(s, ",") {
		return s
	}
	intPart := s
	if i := strings.IndexAny(s, ".eE"); i >= 0 {
		intPart = s[:i]
		if strings.Contains(s[i:], ",") {
			return s
		}
	}
	digits := strings.TrimLeft(intPart, "+-")
	if len(intPart)-len(digits) > 1 {
		return s
	}
	groups := strings.Split(digits, ",")
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return s
	}
	for i, g := range groups {
		if i > 0 && len(g) != 3 || !allDigits(g) {
			return s
		}
	}
	return strings.ReplaceAll(s, ",", "")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decimal is a number written as sign, integer digits, fraction digits and
// a decimal exponent.
type decimal struct {
	neg        bool
	int, frac  string
	exp        int
	expTooWide bool
}

// scanDecimal splits s, which must be a plain decimal number such as
// "-12.5e3", "42", "42." or ".5", into its parts.
func scanDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	d.int = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		d.frac = s[start:i]
	}
	if d.int == "" && d.frac == "" {
		return d, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		start = i
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ds := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == ds {
			return d, false
		}
		digits := strings.TrimLeft(s[ds:i], "0")
		if len(digits) > 6 {
			d.expTooWide = true
		} else {
			d.exp, _ = strconv.Atoi(s[start:i])
		}
	}
	return d, i == len(s)
}

// parseInt coerces text to an int64. It accepts "42", " -3 ", "1,234",
// "42.0" and "1e3" (whole numbers written as decimals) and rejects
// fractions, words and numbers that do not fit.
func parseInt(text string) (int64, error) {
	s := cleanNumber(text)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	notInt := func() error { return invalid("%q is not an int", truncate(strings.TrimSpace(text), maxQuoted)) }
	d, ok := scanDecimal(s)
	if !ok {
		return 0, notInt()
	}
	digits := d.int + d.frac
	if strings.Trim(digits, "0") == "" {
		return 0, nil
	}
	if d.expTooWide || d.exp > maxExponent || d.exp < -maxExponent {
		return 0, notInt()
	}
	point := len(d.int) + d.exp
	var whole string
	switch {
	case point <= 0:
		return 0, invalid("%q is not a whole number", truncate(strings.TrimSpace(text), maxQuoted))
	case point >= len(digits):
		whole = digits + strings.Repeat("0", point-len(digits))
	default:
		if strings.Trim(digits[point:], "0") != "" {
			return 0, invalid("%q is not a whole number", truncate(strings.TrimSpace(text), maxQuoted))
		}
		whole = digits[:point]
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 19 {
		return 0, invalid("%q does not fit an int64", truncate(strings.TrimSpace(text), maxQuoted))
	}
	if d.neg {
		whole = "-" + whole
	}
	i, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, invalid("%q does not fit an int64", truncate(strings.TrimSpace(text), maxQuoted))
	}
	return i, nil
}

// parseFloat coerces text to a float64. It accepts decimal numbers with an
// optional exponent and thousands commas ("2,500.5", "1e3"), and nan, inf
// and infinity with an optional sign; it rejects words, units ("5%") and
// numbers too large for a float64.
func parseFloat(text string) (float64, error) {
	s := cleanNumber(text)
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "nan", "inf", "infinity":
		if len(s) > 1 && (s[0] == '+' || s[0] == '-') && (s[1] == '+' || s[1] == '-') {
			break
		}
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return f, nil
		}
	}
	if _, ok := scanDecimal(s); !ok {
		return 0, invalid("%q is not a float", truncate(strings.TrimSpace(text), maxQuoted))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, invalid("%q does not fit a float64", truncate(strings.TrimSpace(text), maxQuoted))
	}
	return f, nil
}

// parseBool coerces text to a bool: true, false, yes or no in any case.
func parseBool(text string) (bool, error) {
	s := cleanNumber(text)
	switch strings.ToLower(s) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, invalid("%q is not True or False", truncate(strings.TrimSpace(text), maxQuoted))
}

// decodeLenient decodes s as JSON, else as a Python literal (single-quoted
// strings, True, False, None, digits grouped with underscores) as DSPy's
// parser accepts through json_repair and ast.literal_eval.
func decodeLenient(s string) (any, error) {
	v, err := decodeJSON(s)
	if err == nil {
		return v, nil
	}
	if py, ok := pythonToJSON(s); ok {
		if v, perr := decodeJSON(py); perr == nil {
			return v, nil
		}
	}
	return nil, err
}

// pythonToJSON rewrites the text of a Python literal as JSON: strings in
// single quotes get double quotes, True, False and None their JSON names,
// and underscores between digits are dropped. It reports false when there
// was nothing to rewrite.
func pythonToJSON(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	changed := false
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		case c == '\'':
			changed = true
			b.WriteByte('"')
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				switch {
				case s[j] == '\\' && j+1 < len(s):
					j++
					if s[j] == '\'' {
						b.WriteByte('\'')
					} else {
						b.WriteByte('\\')
						b.WriteByte(s[j])
					}
				case s[j] == '"':
					b.WriteString(`\"`)
				default:
					b.WriteByte(s[j])
				}
			}
			b.WriteByte('"')
			i = j
		case c == '_' && i > 0 && i+1 < len(s) && s[i-1] >= '0' && s[i-1] <= '9' && s[i+1] >= '0' && s[i+1] <= '9':
			changed = true
		case isWord(c) && (i == 0 || !isWord(s[i-1])):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			word := s[i:j]
			switch word {
			case "True":
				word, changed = "true", true
			case "False":
				word, changed = "false", true
			case "None":
				word, changed = "null", true
			}
			if strings.Contains(word, "_") && word[0] >= '0' && word[0] <= '9' {
				word, changed = strings.ReplaceAll(word, "_", ""), true
			}
			b.WriteString(word)
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), changed
}
