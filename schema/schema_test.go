package schema

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/dspex-go/dspex/signature"
)

var (
	address = signature.StructOf("Address",
		signature.Prop{Name: "city", Type: signature.TypeString, Required: true},
		signature.Prop{Name: "zip", Type: signature.OptionalOf(signature.TypeString)})
	mood   = signature.EnumOf("Mood", "up", "down")
	person = signature.StructOf("Person",
		signature.Prop{Name: "name", Desc: "Full name", Type: signature.TypeString, Required: true},
		signature.Prop{Name: "home", Type: address, Required: true},
		signature.Prop{Name: "work", Desc: "Office", Type: signature.OptionalOf(address)},
		signature.Prop{Name: "mood", Type: mood, Required: true},
		signature.Prop{Name: "past_homes", Type: signature.ListOf(address), Required: true},
		signature.Prop{Name: "kind", Type: signature.LiteralOf("a"), Required: true})
)

// The expectations are what pydantic 2 prints for the equivalent Python
// types, after DSPy's move_type_to_front (dspy/adapters/utils.py,
// stanfordnlp/dspy 4ed377ee).
func TestText(t *testing.T) {
	tests := []struct {
		name string
		typ  signature.Type
		want string
	}{
		{"str", signature.TypeString, `{"type": "string"}`},
		{"datetime", signature.TypeTime, `{"type": "string", "format": "date-time"}`},
		{"Any", signature.TypeObject, `{}`},
		{"list[list[int]]", signature.ListOf(signature.ListOf(signature.TypeInt)), `{"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}`},
		{"dict[str, Any]", signature.MapOf(signature.TypeObject), `{"type": "object", "additionalProperties": true}`},
		{"dict[str, float]", signature.MapOf(signature.TypeFloat), `{"type": "object", "additionalProperties": {"type": "number"}}`},
		{"Optional[int]", signature.OptionalOf(signature.TypeInt), `{"anyOf": [{"type": "integer"}, {"type": "null"}]}`},
		{"Literal strings", signature.LiteralOf("yes", "no"), `{"type": "string", "enum": ["yes", "no"]}`},
		{"Literal mixed", signature.LiteralOf(true, int64(3), "foo"), `{"enum": [true, 3, "foo"]}`},
		{"Literal single", signature.LiteralOf("only"), `{"type": "string", "const": "only"}`},
		{"enum", mood, `{"type": "string", "enum": ["up", "down"], "title": "Mood"}`},
		{"list of enums", signature.ListOf(mood), `{"type": "array", "$defs": {"Mood": {"type": "string", "enum": ["up", "down"], "title": "Mood"}}, "items": {"$ref": "#/$defs/Mood"}}`},
		{"model", person, `{"type": "object", "$defs": {` +
			`"Address": {"type": "object", "properties": {"city": {"type": "string", "title": "City"}, "zip": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Zip"}}, "required": ["city"], "title": "Address"}, ` +
			`"Mood": {"type": "string", "enum": ["up", "down"], "title": "Mood"}}, ` +
			`"properties": {"home": {"$ref": "#/$defs/Address"}, "kind": {"type": "string", "const": "a", "title": "Kind"}, "mood": {"$ref": "#/$defs/Mood"}, ` +
			`"name": {"type": "string", "description": "Full name", "title": "Name"}, "past_homes": {"type": "array", "items": {"$ref": "#/$defs/Address"}, "title": "Past Homes"}, ` +
			`"work": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}], "default": null, "description": "Office", "title": "Work"}}, ` +
			`"required": ["name", "home", "mood", "past_homes", "kind"], "title": "Person"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(For(tt.typ))
			if got != tt.want {
				t.Errorf("Text(For(%s)) =\n%s\nwant\n%s", tt.typ, got, tt.want)
			}
			if _, err := Compile(For(tt.typ)); err != nil {
				t.Errorf("not a valid JSON schema: %v", err)
			}
		})
	}
}

func TestTitle(t *testing.T) {
	for in, want := range map[string]string{"num_dogs": "Num Dogs", "name": "Name", "userID": "Userid", "x2y": "X2Y", "_a": " A", "HTTP_code": "Http Code"} {
		if got := Title(in); got != want {
			t.Errorf("Title(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStrict(t *testing.T) {
	s, err := Strict([]signature.Field{{Name: "answer"}, {Name: "who", Type: person}, {Name: "n", Type: signature.OptionalOf(signature.TypeInt)}})
	if err != nil {
		t.Fatal(err)
	}
	if s["title"] != OutputsName || s["additionalProperties"] != false {
		t.Errorf("root = %v", s)
	}
	var check func(path string, o Object)
	check = func(path string, o Object) {
		if o["type"] == "object" {
			props, _ := o["properties"].(Object)
			req, _ := o["required"].([]any)
			if props == nil || len(req) != len(props) || o["additionalProperties"] != false {
				t.Errorf("%s: object not closed: %v", path, o)
			}
		}
		for k, v := range o {
			switch x := v.(type) {
			case Object:
				check(path+"/"+k, x)
			case []any:
				for _, e := range x {
					if eo, ok := e.(Object); ok {
						check(path+"/"+k+"[]", eo)
					}
				}
			}
		}
	}
	check("", s)
	if _, err := Compile(s); err != nil {
		t.Fatal(err)
	}
	_, err = Strict([]signature.Field{{Name: "m", Type: signature.MapOf(signature.TypeInt)}})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Field != "m" {
		t.Errorf("dict output: err = %v, want *UnsupportedError for m", err)
	}
}

func TestValidate(t *testing.T) {
	v, err := Compile(For(person))
	if err != nil {
		t.Fatal(err)
	}
	good := `{"name": "Ada", "home": {"city": "London"}, "mood": "up", "past_homes": [{"city": "Paris", "zip": null}], "kind": "a"}`
	var x any
	if err := json.Unmarshal([]byte(good), &x); err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(x); err != nil {
		t.Errorf("valid value rejected: %v", err)
	}
	bad := `{"name": "Ada", "home": {"city": "London"}, "mood": "up", "past_homes": [{"city": "Paris"}, {"city": 3}], "kind": "a"}`
	if err := json.Unmarshal([]byte(bad), &x); err != nil {
		t.Fatal(err)
	}
	err = v.Validate(x)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Path != "past_homes[1].city" {
		t.Errorf("err = %v, want a *ValidationError at past_homes[1].city", err)
	}
}

// fuzzType builds a type from fuzz bytes (every kind, optional values,
// literals, enumerations, nested structs).
func fuzzType(data []byte, depth int) (signature.Type, []byte) {
	if len(data) == 0 {
		return signature.TypeString, nil
	}
	b, data := data[0], data[1:]
	var typ signature.Type
	switch k := b % 10; {
	case depth > 4 || k < 4:
		typ = []signature.Type{signature.TypeString, signature.TypeInt, signature.TypeFloat, signature.TypeBool}[k%4]
	case k == 4:
		elem, rest := fuzzType(data, depth+1)
		typ, data = signature.ListOf(elem), rest
	case k == 5:
		elem, rest := fuzzType(data, depth+1)
		typ, data = signature.MapOf(elem), rest
	case k == 6:
		typ = signature.LiteralOf("a\"'«", int64(-1), 2.5, false)
	case k == 7:
		typ = signature.EnumOf(string(rune('A'+b%3)), "x", "y")
	case k == 8:
		n := int(b/10)%3 + 1
		props := make([]signature.Prop, n)
		for i := range props {
			var pt signature.Type
			pt, data = fuzzType(data, depth+1)
			props[i] = signature.Prop{Name: string(rune('a'+i)) + "_x", Desc: string(data), Type: pt, Required: i%2 == 0}
		}
		typ = signature.StructOf(string(rune('M'+b%3)), props...)
	default:
		typ = signature.TypeTime
	}
	if b >= 200 {
		typ = signature.OptionalOf(typ)
	}
	return typ, data
}

// FuzzSchema renders random types: no panic, valid JSON, a schema the
// validator compiles, and a strict outputs schema for the same field.
func FuzzSchema(f *testing.F) {
	f.Add([]byte{8, 8, 4, 7, 1})
	f.Add([]byte{4, 8, 5, 8, 206})
	f.Add([]byte{218, 28, 7, 17})
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, _ := fuzzType(data, 0)
		s := For(typ)
		text := Text(s)
		if !json.Valid([]byte(text)) {
			t.Fatalf("Text(For(%s)) is not JSON: %s", typ, text)
		}
		if _, err := Compile(s); err != nil {
			t.Fatalf("For(%s) does not compile: %v\n%s", typ, err, text)
		}
		strict, err := Strict([]signature.Field{{Name: "out", Type: typ}})
		if err != nil {
			if typ.Kind != signature.Map || typ.Optional {
				t.Fatalf("Strict(%s): %v", typ, err)
			}
			return
		}
		if _, err := Compile(strict); err != nil {
			t.Fatalf("Strict(%s) does not compile: %v", typ, err)
		}
	})
}
