package signature

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// structField is one Go struct field that maps to a signature field.
type structField struct {
	index  []int  // path for reflect.Value.FieldByIndex
	goName string // Go field name, dotted through embedded structs
	field  Field
}

// structPlan is what a struct type contributes to a signature, read once
// from its field tags.
type structPlan struct {
	typ    reflect.Type
	fields []structField
}

// Caches of struct reflection. Struct types are few and fixed in a program,
// so these never grow without bound; the values are immutable.
var (
	plans   sync.Map // reflect.Type -> planResult
	ofCache sync.Map // typePair -> ofResult
)

type planResult struct {
	plan *structPlan
	err  error
}

type typePair struct{ in, out reflect.Type }

type ofResult struct {
	sig Signature
	err error
}

// instructioner is implemented by struct types that state their task.
type instructioner interface{ Instructions() string }

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
	instrType      = reflect.TypeFor[instructioner]()
)

// Of returns the signature declared by the struct types In (inputs) and Out
// (outputs). Each exported field of In and Out is a signature field, in
// declaration order; fields of embedded structs are promoted, as with
// encoding/json. Struct tags control the mapping:
//
//	dspy:"name"    the field's name (default: the Go name in snake_case,
//	               "ContextDocs" becomes "context_docs"); dspy:"-" skips it
//	desc:"..."     the field's description
//	prefix:"..."   the field's prefix (default: DefaultPrefix of the name)
//
// Field types map to signature types as follows: string kinds and []byte to
// str; integer kinds to int; float32 and float64 to float; bool to bool;
// slices to list; maps with string keys to dict; structs, pointers to
// structs, any and json.RawMessage to json. A pointer to another supported
// type has that type and marks the value optional. Other types (arrays,
// channels, functions, complex numbers, maps with other keys, interfaces
// other than any, time.Time) are rejected with a *FieldError naming the
// struct field, as are tags that are not identifiers and names used twice
// across In and Out.
//
// The instructions come from an Instructions() string method with a value
// receiver on Out, else on In (called on the zero value); without one, or
// when it returns "", they are DefaultInstructions. The signature is named
// after the types: In "QA" and Out "Answer" give "QAToAnswer".
//
// In and Out must be struct types, and Out must declare at least one field.
// The result, or the error, is computed once per (In, Out) pair and cached;
// Of is safe for concurrent use.
func Of[In, Out any]() (Signature, error) {
	key := typePair{reflect.TypeFor[In](), reflect.TypeFor[Out]()}
	if v, ok := ofCache.Load(key); ok {
		r := v.(ofResult)
		return r.sig, r.err
	}
	sig, err := structSignature(key.in, key.out)
	v, _ := ofCache.LoadOrStore(key, ofResult{sig, err})
	r := v.(ofResult)
	return r.sig, r.err
}

// MustOf is like Of but panics on error.
func MustOf[In, Out any]() Signature {
	sig, err := Of[In, Out]()
	if err != nil {
		panic(err)
	}
	return sig
}

func structSignature(in, out reflect.Type) (Signature, error) {
	inPlan, err := planOf(in)
	if err != nil {
		return Signature{}, err
	}
	outPlan, err := planOf(out)
	if err != nil {
		return Signature{}, err
	}
	if len(outPlan.fields) == 0 {
		return Signature{}, &FieldError{Struct: out.String(), Reason: "declares no output fields (exported fields not tagged dspy:\"-\")"}
	}
	owner := make(map[string]string, len(inPlan.fields))
	for _, f := range inPlan.fields {
		owner[f.field.Name] = in.String() + "." + f.goName
	}
	for _, f := range outPlan.fields {
		if prev, dup := owner[f.field.Name]; dup {
			return Signature{}, &FieldError{Struct: out.String(), Field: f.goName,
				Reason: fmt.Sprintf("field name %q is already used by input field %s", f.field.Name, prev)}
		}
	}
	instructions := instructionsOf(out)
	if instructions == "" {
		instructions = instructionsOf(in)
	}
	name := typeName(in, "Input") + "To" + typeName(out, "Output")
	return New(name, instructions, inPlan.signatureFields(), outPlan.signatureFields())
}

func (p *structPlan) signatureFields() []Field {
	fs := make([]Field, len(p.fields))
	for i, f := range p.fields {
		fs[i] = f.field
	}
	return fs
}

// instructionsOf calls t's Instructions method on its zero value, if t has
// one with a value receiver.
func instructionsOf(t reflect.Type) string {
	if !t.Implements(instrType) {
		return ""
	}
	return reflect.Zero(t).Interface().(instructioner).Instructions()
}

// typeName returns t's name without type arguments, or def for unnamed types.
func typeName(t reflect.Type, def string) string {
	name, _, _ := strings.Cut(t.Name(), "[")
	if name == "" {
		return def
	}
	return name
}

// planOf returns the cached plan for struct type t, building it on first
// use.
func planOf(t reflect.Type) (*structPlan, error) {
	if v, ok := plans.Load(t); ok {
		r := v.(planResult)
		return r.plan, r.err
	}
	p, err := buildPlan(t)
	v, _ := plans.LoadOrStore(t, planResult{p, err})
	r := v.(planResult)
	return r.plan, r.err
}

func buildPlan(t reflect.Type) (*structPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, &FieldError{Struct: t.String(), Reason: fmt.Sprintf("%s is not a struct type", t)}
	}
	p := &structPlan{typ: t}
	used := make(map[string]string)
	if err := p.collect(t, t, nil, "", used); err != nil {
		return nil, err
	}
	return p, nil
}

// collect appends the fields of t (root itself, or a struct embedded in it)
// to p.
func (p *structPlan) collect(root, t reflect.Type, index []int, goPrefix string, used map[string]string) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		goName := goPrefix + sf.Name
		fail := func(format string, args ...any) error {
			return &FieldError{Struct: root.String(), Field: goName, Reason: fmt.Sprintf(format, args...)}
		}
		tag, tagged := sf.Tag.Lookup("dspy")
		if tag == "-" {
			continue
		}
		path := append(append([]int(nil), index...), i)
		if sf.Anonymous && tag == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Struct && ft != timeType && ft != imageType && ft != historyType && ft != toolType && ft != toolCallsType {
				if err := p.collect(root, ft, path, goName+".", used); err != nil {
					return err
				}
				continue
			}
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				return fail("embedded pointer %s is not supported: embed the struct itself or give the field a name", ft)
			}
		}
		if !sf.IsExported() {
			if tagged {
				return fail("unexported field has a dspy tag %q; export it or remove the tag", tag)
			}
			continue
		}
		name := tag
		if name == "" {
			name = snakeCase(sf.Name)
		}
		if !IsIdentifier(name) {
			if tag != "" {
				return fail("dspy tag %q is not an identifier (a letter or underscore, then letters, digits or underscores)", tag)
			}
			return fail("field name %q derived from the Go name is not an identifier; set one with a dspy tag", name)
		}
		if prev, dup := used[name]; dup {
			return fail("field name %q is already used by field %s", name, prev)
		}
		typ, err := goTypes{}.fieldType(sf, 0)
		if err != nil {
			return fail("%v", err)
		}
		used[name] = goName
		p.fields = append(p.fields, structField{
			index:  path,
			goName: goName,
			field:  Field{Name: name, Desc: sf.Tag.Get("desc"), Prefix: sf.Tag.Get("prefix"), Type: typ},
		})
	}
	return nil
}

// Enumerator is implemented by named string types that list their values,
// such as
//
//	type Sentiment string
//	func (Sentiment) EnumValues() []string { return []string{"positive", "negative"} }
//
// A field of such a type is an Enum named after the Go type, as a Python
// enum.Enum appears in DSPy's prompts. EnumValues is called on the zero
// value.
type Enumerator interface{ EnumValues() []string }

var enumeratorType = reflect.TypeFor[Enumerator]()

// TypeOf returns the signature type of a Go type, as Of maps the types of
// struct fields: a struct becomes a Struct whose properties are the fields
// encoding/json would encode (a pointer field, or one tagged omitempty, is
// not required), a pointer an optional value, time.Time a datetime. Tools
// (package programs) describe their argument structs with it.
func TypeOf(t reflect.Type) (Type, error) {
	return goTypes{}.of(t, 0)
}

// goTypes maps Go types to signature types, remembering the struct types
// being mapped so that recursive types are reported instead of looping.
type goTypes map[reflect.Type]bool

func (g goTypes) of(t reflect.Type, depth int) (Type, error) {
	if depth > maxTypeDepth {
		return Type{}, fmt.Errorf("type %s nests more than %d levels", t, maxTypeDepth)
	}
	switch t {
	case rawMessageType:
		return TypeObject, nil
	case timeType:
		return TypeTime, nil
	case imageType:
		return TypeImage, nil
	case historyType:
		return TypeHistory, nil
	case toolType:
		return TypeTool, nil
	case toolCallsType:
		return TypeToolCalls, nil
	}
	if t.Kind() == reflect.String && t.Implements(enumeratorType) {
		values := reflect.Zero(t).Interface().(Enumerator).EnumValues()
		if len(values) == 0 {
			return Type{}, fmt.Errorf("enum type %s lists no values", t)
		}
		return EnumOf(typeName(t, "Enum"), values...), nil
	}
	switch t.Kind() {
	case reflect.String:
		return TypeString, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return TypeInt, nil
	case reflect.Float32, reflect.Float64:
		return TypeFloat, nil
	case reflect.Bool:
		return TypeBool, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return TypeString, nil // []byte holds text
		}
		elem, err := g.of(t.Elem(), depth+1)
		if err != nil {
			return Type{}, err
		}
		return ListOf(elem), nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return Type{}, fmt.Errorf("type %s is not supported: map keys must be strings", t)
		}
		elem, err := g.of(t.Elem(), depth+1)
		if err != nil {
			return Type{}, err
		}
		return MapOf(elem), nil
	case reflect.Struct:
		return g.structType(t, depth)
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return Type{}, fmt.Errorf("type %s is not supported: pointer to pointer", t)
		}
		elem, err := g.of(t.Elem(), depth+1)
		if err != nil {
			return Type{}, err
		}
		return OptionalOf(elem), nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return TypeObject, nil
		}
		return Type{}, fmt.Errorf("interface type %s is not supported; use any", t)
	case reflect.Array:
		return Type{}, fmt.Errorf("array type %s is not supported; use a slice", t)
	default:
		return Type{}, fmt.Errorf("type %s is not supported", t)
	}
}

// structType maps a Go struct to a Struct type. Its properties are the
// fields encoding/json would encode, under the same names (the json tag,
// else the Go name), with the desc tag as description and the enum tag
// restricting a string field to a list of values; pointer fields are
// optional and not required.
func (g goTypes) structType(t reflect.Type, depth int) (Type, error) {
	if g[t] {
		return Type{}, fmt.Errorf("recursive type %s is not supported", t)
	}
	g[t] = true
	defer delete(g, t)
	var props []Prop
	seen := make(map[string]bool)
	var collect func(t reflect.Type) error
	collect = func(t reflect.Type) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			jsonTag := sf.Tag.Get("json")
			name, opts, _ := strings.Cut(jsonTag, ",")
			if name == "-" && opts == "" {
				continue
			}
			if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct && sf.Type != timeType && sf.Type != imageType && sf.Type != historyType && sf.Type != toolType && sf.Type != toolCallsType {
				if err := collect(sf.Type); err != nil {
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
			if seen[name] {
				return fmt.Errorf("%s: property %q is declared twice", t, name)
			}
			seen[name] = true
			pt, err := g.fieldType(sf, depth+1)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
			}
			omitempty := slices.Contains(strings.Split(opts, ","), "omitempty")
			props = append(props, Prop{Name: name, Desc: sf.Tag.Get("desc"), Type: pt, Required: !pt.Optional && !omitempty})
		}
		return nil
	}
	if err := collect(t); err != nil {
		return Type{}, err
	}
	return StructOf(typeName(t, "Object"), props...), nil
}

// fieldType maps the type of a struct field, applying its enum tag.
func (g goTypes) fieldType(sf reflect.StructField, depth int) (Type, error) {
	typ, err := g.of(sf.Type, depth)
	if err != nil {
		return Type{}, err
	}
	enum, ok := sf.Tag.Lookup("enum")
	if !ok {
		return typ, nil
	}
	base := typ.NonOptional()
	if base.Kind != String {
		return Type{}, fmt.Errorf("enum tag on a field of type %s; it applies to strings", sf.Type)
	}
	var values []any
	for _, v := range strings.Split(enum, ",") {
		if v = strings.TrimSpace(v); v != "" {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return Type{}, fmt.Errorf("enum tag %q lists no values", enum)
	}
	lit := LiteralOf(values...)
	lit.Optional = typ.Optional
	return lit, nil
}

// FieldName returns the name Of gives a Go struct field that has no dspy
// tag: its snake_case form. "ContextDocs" becomes "context_docs", "UserID"
// "user_id", "HTTPServer" "http_server". Other dspex packages that name
// things after struct fields (the program walker) use the same rule.
func FieldName(goName string) string { return snakeCase(goName) }

// snakeCase converts a Go identifier to snake_case.
func snakeCase(s string) string {
	runes := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			if i > 0 && runes[i-1] != '_' {
				prev := runes[i-1]
				nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					b.WriteByte('_')
				}
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
