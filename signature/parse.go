package signature

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// ParseError reports malformed signature text. Every error returned by Parse
// is a *ParseError; for a field declared twice it also wraps a *FieldError
// naming the field, so errors.As finds either.
type ParseError struct {
	// Input is the text given to Parse.
	Input string
	// Pos is the byte offset in Input where the problem was found.
	Pos int
	// Expected says what the parser was looking for at Pos.
	Expected string
	// Found describes what it found there instead: a quoted token or
	// "end of input".
	Found string
	// Err is the underlying cause, if any (a *FieldError for duplicate
	// names).
	Err error
}

// Error implements error, e.g.
// `signature: at position 3: expected a type after ":", found "->"`.
func (e *ParseError) Error() string {
	return fmt.Sprintf("signature: at position %d: expected %s, found %s", e.Pos, e.Expected, e.Found)
}

// Unwrap returns the underlying cause, or nil.
func (e *ParseError) Unwrap() error { return e.Err }

// MaxLength is the longest signature text Parse reads, in bytes: far more
// than any real signature, small enough that hostile input fails fast.
const MaxLength = 64 << 10

// parseCacheLimit bounds the number of parsed signatures kept in the cache,
// so that parsing many distinct strings cannot grow memory without bound.
const parseCacheLimit = 1024

// parseCache maps signature text to its parsed Signature. A Signature is
// immutable, so the cached value can be handed to every caller.
var parseCache struct {
	m sync.Map // string -> Signature
	n atomic.Int64
}

// Parse reads a signature in DSPy's string syntax:
//
//	"question, context: list[str] -> answer, confidence: float"
//
// Fields are separated by commas, inputs from outputs by "->". Inputs may be
// empty ("-> answer"); there must be at least one output. Each field name is
// an identifier, optionally followed by ":" and a type (str when omitted).
// Whitespace between tokens is ignored. The accepted types are:
//
//	str, string                          String
//	int, int8 … int64, uint … uint64     Int
//	float, float32, float64              Float
//	bool                                 Bool
//	list[T], List[T], []T                List of T (bare list: list[json])
//	dict[str, T], Dict[str, T],
//	map[string]T                         Map from strings to T (bare dict: dict[str, json])
//	json, Any, any, object, interface{}  Object
//
// The signature is named "StringSignature" and gets DefaultInstructions; use
// WithInstructions to state the task. Every error is a *ParseError giving the
// byte position, what was expected there and what was found.
//
// Text longer than MaxLength is refused before it is read, with a
// *ParseError at position MaxLength.
//
// Parse caches its results: parsing the same text again is cheap and safe
// for concurrent use.
func Parse(s string) (Signature, error) {
	if len(s) > MaxLength {
		return Signature{}, &ParseError{Input: s, Pos: MaxLength,
			Expected: fmt.Sprintf("a signature of at most %d bytes", MaxLength),
			Found:    fmt.Sprintf("%d bytes", len(s))}
	}
	if v, ok := parseCache.m.Load(s); ok {
		return v.(Signature), nil
	}
	sig, err := parse(s)
	if err != nil {
		return Signature{}, err
	}
	if parseCache.n.Load() < parseCacheLimit {
		if _, loaded := parseCache.m.LoadOrStore(s, sig); !loaded {
			parseCache.n.Add(1)
		}
	}
	return sig, nil
}

// MustParse is like Parse but panics if s cannot be parsed. It simplifies
// the initialization of package-level signatures, like regexp.MustCompile.
func MustParse(s string) Signature {
	sig, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sig
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tColon
	tComma
	tLBrack
	tRBrack
	tArrow
	tString // a quoted Python string literal; text holds its value
	tPipe
)

type token struct {
	kind tokKind
	pos  int
	text string
}

// lex splits s into tokens. A word is a run of characters other than
// whitespace and the punctuation ":", ",", "[", "]" and "->"; words are
// validated by the parser, which can then say what it expected.
func lex(s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
			continue
		case r == ':':
			toks = append(toks, token{tColon, i, ":"})
		case r == ',':
			toks = append(toks, token{tComma, i, ","})
		case r == '[':
			toks = append(toks, token{tLBrack, i, "["})
		case r == ']':
			toks = append(toks, token{tRBrack, i, "]"})
		case r == '|':
			toks = append(toks, token{tPipe, i, "|"})
		case r == '\'' || r == '"':
			text, end, ok := quoted(s, i)
			if !ok {
				toks = append(toks, token{tWord, i, s[i:]})
				i = len(s)
				continue
			}
			toks = append(toks, token{tString, i, text})
			i = end
			continue
		case strings.HasPrefix(s[i:], "->"):
			toks = append(toks, token{tArrow, i, "->"})
			size = 2
		default:
			start := i
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if unicode.IsSpace(r) || strings.ContainsRune(":,[]|'\"", r) || strings.HasPrefix(s[i:], "->") {
					break
				}
				i += size
			}
			toks = append(toks, token{tWord, start, s[start:i]})
			continue
		}
		i += size
	}
	return append(toks, token{tEOF, len(s), ""})
}

// quoted reads the Python string literal that starts with the quote at
// s[start]: backslash escapes the next character. It returns the literal's
// value and the index just past its closing quote, or false when it is not
// closed.
func quoted(s string, start int) (string, int, bool) {
	q := s[start]
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == q:
			return b.String(), i + 1, true
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// describe renders a token for the Found part of a ParseError.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of input"
	}
	text := t.text
	const maxFound = 24
	if len(text) > maxFound {
		cut := maxFound
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return strconv.Quote(text)
}

type parser struct {
	input string
	toks  []token
	i     int
	seen  map[string]Role
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(t token, expected string) *ParseError {
	return &ParseError{Input: p.input, Pos: t.pos, Expected: expected, Found: t.describe()}
}

const (
	expectName = "a field name (a letter or underscore, then letters, digits or underscores)"
	expectType = "a type (str, int, float, bool, list[T], dict[str, T], Literal[...], Optional[T], datetime or Any)"
)

func parse(s string) (Signature, error) {
	p := &parser{input: s, toks: lex(s), seen: make(map[string]Role)}
	var inputs []Field
	if p.peek().kind != tArrow {
		if p.peek().kind == tEOF {
			return Signature{}, p.fail(p.peek(), `input fields, then "->" and output fields`)
		}
		var err error
		if inputs, err = p.fields(Input); err != nil {
			return Signature{}, err
		}
	}
	p.next() // the arrow, checked by fields
	outputs, err := p.fields(Output)
	if err != nil {
		return Signature{}, err
	}
	sig, err := New("", "", inputs, outputs)
	if err != nil {
		// Unreachable: the parser checks everything New checks.
		return Signature{}, &ParseError{Input: s, Pos: 0, Expected: "a valid signature", Found: strconv.Quote(s), Err: err}
	}
	return sig, nil
}

// fields parses a comma-separated field list and checks the token after it:
// "->" after the inputs, the end of input after the outputs.
func (p *parser) fields(role Role) ([]Field, error) {
	var fs []Field
	after := ""
	if role == Output {
		after = ` after "->"`
	}
	for {
		t := p.next()
		if t.kind != tWord || !IsIdentifier(t.text) {
			what := "an " + role.String() + " field name"
			if t.kind == tWord {
				what = expectName
			}
			return nil, p.fail(t, what+after)
		}
		if prev, dup := p.seen[t.text]; dup {
			e := p.fail(t, fmt.Sprintf("a field name not used before (%q is already an %s field)", t.text, prev))
			e.Err = &FieldError{Field: t.text, Reason: fmt.Sprintf("field %q is declared twice (as %s and as %s)", t.text, prev, role)}
			return nil, e
		}
		p.seen[t.text] = role
		f := Field{Name: t.text, Type: TypeString}
		typed := false
		if p.peek().kind == tColon {
			p.next()
			typ, err := p.typ(0, `after ":"`)
			if err != nil {
				return nil, err
			}
			f.Type, typed = typ, true
		}
		fs = append(fs, f)
		after = ` after ","`
		t = p.peek()
		if t.kind == tComma {
			p.next()
			continue
		}
		want := []string{`","`}
		if !typed {
			want = []string{`":"`, `","`}
		}
		switch {
		case role == Input && t.kind == tArrow, role == Output && t.kind == tEOF:
			return fs, nil
		case role == Input:
			want = append(want, `"->"`)
		case t.kind == tArrow:
			return nil, p.fail(t, joinOr(append(want, "end of input"))+` (a signature has a single "->")`)
		default:
			want = append(want, "end of input")
		}
		return nil, p.fail(t, joinOr(want))
	}
}

func joinOr(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// typ parses a type, optionally followed by "| None" (or None | T); where
// says where it was expected, for error messages.
func (p *parser) typ(depth int, where string) (Type, error) {
	if t := p.peek(); t.kind == tWord && t.text == "None" && p.toks[p.i+1].kind == tPipe {
		p.next()
		p.next()
		inner, err := p.typ(depth, `after "None |"`)
		if err != nil {
			return Type{}, err
		}
		return OptionalOf(inner), nil
	}
	typ, err := p.single(depth, where)
	if err != nil {
		return Type{}, err
	}
	for p.peek().kind == tPipe {
		p.next()
		if n := p.next(); n.kind != tWord || n.text != "None" {
			return Type{}, p.fail(n, `None after "|" (only T | None unions are supported)`)
		}
		typ = OptionalOf(typ)
	}
	return typ, nil
}

// single parses a type without a trailing "| None".
func (p *parser) single(depth int, where string) (Type, error) {
	t := p.next()
	if depth > maxTypeDepth {
		return Type{}, p.fail(t, fmt.Sprintf("at most %d nested lists and dicts", maxTypeDepth))
	}
	switch t.kind {
	case tLBrack: // Go slice: []T
		if c := p.next(); c.kind != tRBrack {
			return Type{}, p.fail(c, `"]" after "[" (as in []T)`)
		}
		elem, err := p.typ(depth+1, `after "[]"`)
		if err != nil {
			return Type{}, err
		}
		return ListOf(elem), nil
	case tWord:
	default:
		return Type{}, p.fail(t, "a type "+where)
	}
	switch t.text {
	case "str", "string":
		return TypeString, nil
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return TypeInt, nil
	case "float", "float32", "float64":
		return TypeFloat, nil
	case "bool":
		return TypeBool, nil
	case "json", "Any", "any", "object", "interface{}":
		return TypeObject, nil
	case "datetime", "time.Time":
		return TypeTime, nil
	case "Image", "dspy.Image", "signature.Image":
		return TypeImage, nil
	case "History", "dspy.History", "signature.History":
		return TypeHistory, nil
	case "Tool", "dspy.Tool", "signature.Tool":
		return TypeTool, nil
	case "ToolCalls", "dspy.ToolCalls", "signature.ToolCalls":
		return TypeToolCalls, nil
	case "Literal":
		return p.literal(t)
	case "Optional":
		inner, err := p.bracketed(depth, t.text)
		if err != nil {
			return Type{}, err
		}
		return OptionalOf(inner), nil
	case "Union":
		return p.union(depth, t)
	case "list", "List":
		if p.peek().kind != tLBrack {
			return ListOf(TypeObject), nil
		}
		p.next()
		elem, err := p.typ(depth+1, fmt.Sprintf("after %q", t.text+"["))
		if err != nil {
			return Type{}, err
		}
		if c := p.next(); c.kind != tRBrack {
			return Type{}, p.fail(c, fmt.Sprintf(`"]" to close %q`, t.text+"["))
		}
		return ListOf(elem), nil
	case "dict", "Dict":
		if p.peek().kind != tLBrack {
			return MapOf(TypeObject), nil
		}
		p.next()
		if k := p.next(); k.kind != tWord || (k.text != "str" && k.text != "string") {
			return Type{}, p.fail(k, fmt.Sprintf("str as the key type of %q (keys are always strings)", t.text+"["))
		}
		if c := p.next(); c.kind != tComma {
			return Type{}, p.fail(c, `"," after the dict key type`)
		}
		elem, err := p.typ(depth+1, "as the dict value type")
		if err != nil {
			return Type{}, err
		}
		if c := p.next(); c.kind != tRBrack {
			return Type{}, p.fail(c, fmt.Sprintf(`"]" to close %q`, t.text+"["))
		}
		return MapOf(elem), nil
	case "map":
		if c := p.next(); c.kind != tLBrack {
			return Type{}, p.fail(c, `"[" after "map" (as in map[string]T)`)
		}
		if k := p.next(); k.kind != tWord || (k.text != "string" && k.text != "str") {
			return Type{}, p.fail(k, `string as the map key type (keys are always strings)`)
		}
		if c := p.next(); c.kind != tRBrack {
			return Type{}, p.fail(c, `"]" after the map key type`)
		}
		elem, err := p.typ(depth+1, "as the map value type")
		if err != nil {
			return Type{}, err
		}
		return MapOf(elem), nil
	default:
		return Type{}, p.fail(t, expectType)
	}
}

// bracketed parses "[T]" after a type constructor such as Optional.
func (p *parser) bracketed(depth int, name string) (Type, error) {
	if c := p.next(); c.kind != tLBrack {
		return Type{}, p.fail(c, fmt.Sprintf(`"[" after %q`, name))
	}
	inner, err := p.typ(depth+1, fmt.Sprintf("after %q", name+"["))
	if err != nil {
		return Type{}, err
	}
	if c := p.next(); c.kind != tRBrack {
		return Type{}, p.fail(c, fmt.Sprintf(`"]" to close %q`, name+"["))
	}
	return inner, nil
}

// union parses "Union[T, None]" (or "Union[None, T]", NoneType for None):
// the only unions a field can declare are optional values.
func (p *parser) union(depth int, name token) (Type, error) {
	if c := p.next(); c.kind != tLBrack {
		return Type{}, p.fail(c, `"[" after "Union"`)
	}
	isNone := func(t token) bool { return t.kind == tWord && (t.text == "None" || t.text == "NoneType") }
	var (
		inner   Type
		typed   bool
		sawNone bool
	)
	for i := 0; ; i++ {
		if i > 0 {
			c := p.next()
			if c.kind == tRBrack {
				break
			}
			if c.kind != tComma {
				return Type{}, p.fail(c, `"," or "]" in "Union["`)
			}
		}
		if t := p.peek(); isNone(t) {
			p.next()
			sawNone = true
			continue
		}
		if typed {
			return Type{}, p.fail(p.peek(), "None (only Union[T, None] is supported)")
		}
		t, err := p.typ(depth+1, `in "Union["`)
		if err != nil {
			return Type{}, err
		}
		inner, typed = t, true
	}
	if !typed || !sawNone {
		return Type{}, p.fail(name, "Union[T, None] (only optional values are supported)")
	}
	return OptionalOf(inner), nil
}

// literal parses "[v1, v2, ...]" after Literal: quoted strings, integers,
// floats, True and False.
func (p *parser) literal(name token) (Type, error) {
	if c := p.next(); c.kind != tLBrack {
		return Type{}, p.fail(c, `"[" after "Literal"`)
	}
	var values []any
	for {
		t := p.next()
		switch {
		case t.kind == tString:
			values = append(values, t.text)
		case t.kind == tWord && t.text == "True":
			values = append(values, true)
		case t.kind == tWord && t.text == "False":
			values = append(values, false)
		case t.kind == tWord:
			if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				values = append(values, n)
				break
			}
			if f, err := strconv.ParseFloat(t.text, 64); err == nil && !strings.ContainsAny(t.text, "nN") {
				values = append(values, f)
				break
			}
			fallthrough
		default:
			return Type{}, p.fail(t, "a literal value (a quoted string, a number, True or False)")
		}
		c := p.next()
		if c.kind == tRBrack {
			break
		}
		if c.kind != tComma {
			return Type{}, p.fail(c, `"," or "]" in "Literal["`)
		}
	}
	return LiteralOf(values...), nil
}
