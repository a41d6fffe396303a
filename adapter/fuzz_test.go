package adapter

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dspex-go/dspex/signature"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// checkTyped fails the test unless v has the Go type that the package
// documents for t.
func checkTyped(t *testing.T, path string, typ signature.Type, v any) {
	t.Helper()
	if typ.Optional {
		if v == nil {
			return
		}
		typ = typ.NonOptional()
	}
	switch typ.Kind {
	case signature.Enum:
		if !slices.Contains(typ.Values, v) {
			t.Fatalf("%s: %#v is not one of %v", path, v, typ.Values)
		}
	case signature.Time:
		if _, ok := v.(time.Time); !ok {
			t.Fatalf("%s: %T, want time.Time", path, v)
		}
	case signature.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %T, want map[string]any", path, v)
		}
		for _, p := range typ.Props {
			e, ok := m[p.Name]
			if !ok {
				if p.Required && !p.Type.Optional {
					t.Fatalf("%s: required property %q missing", path, p.Name)
				}
				continue
			}
			checkTyped(t, path+"."+p.Name, p.Type, e)
		}
		if len(m) > len(typ.Props) {
			t.Fatalf("%s: %d keys for %d properties", path, len(m), len(typ.Props))
		}
	case signature.String:
		if _, ok := v.(string); !ok {
			t.Fatalf("%s: %T, want string", path, v)
		}
	case signature.Int:
		if _, ok := v.(int64); !ok {
			t.Fatalf("%s: %T, want int64", path, v)
		}
	case signature.Float:
		if _, ok := v.(float64); !ok {
			t.Fatalf("%s: %T, want float64", path, v)
		}
	case signature.Bool:
		if _, ok := v.(bool); !ok {
			t.Fatalf("%s: %T, want bool", path, v)
		}
	case signature.List:
		items, ok := v.([]any)
		if !ok {
			t.Fatalf("%s: %T, want []any", path, v)
		}
		for _, it := range items {
			checkTyped(t, path+"[]", elemOf(typ), it)
		}
	case signature.Map:
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %T, want map[string]any", path, v)
		}
		for _, it := range m {
			checkTyped(t, path+"{}", elemOf(typ), it)
		}
	default:
		checkJSONValue(t, path, v)
	}
}

func checkJSONValue(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
	case []any:
		for _, it := range x {
			checkJSONValue(t, path+"[]", it)
		}
	case map[string]any:
		for _, it := range x {
			checkJSONValue(t, path+"{}", it)
		}
	default:
		t.Fatalf("%s: %T is not a JSON value type", path, v)
	}
}

// checkParse runs one parser on a completion and checks the contract: no
// panic, either typed values for every output or a *ParseError carrying the
// completion, and the same result on a second run.
func checkParse(t *testing.T, a Adapter, name string, sig signature.Signature, completion string) {
	got, err := a.Parse(sig, completion)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		if pe.Err == nil || pe.Adapter != name || pe.Raw != completion {
			t.Fatalf("malformed ParseError %+v", pe)
		}
		if pe.Field != "" {
			if _, _, ok := sig.Field(pe.Field); !ok {
				t.Fatalf("ParseError names unknown field %q", pe.Field)
			}
		}
		_ = err.Error()
		return
	}
	outs := sig.Outputs()
	if len(got) != len(outs) {
		t.Fatalf("got %d values, want %d", len(got), len(outs))
	}
	for _, f := range outs {
		v, ok := got[f.Name]
		if !ok {
			t.Fatalf("no value for %q", f.Name)
		}
		checkTyped(t, f.Name, f.Type, v)
	}
	again, err := a.Parse(sig, completion)
	if err != nil || !cmp.Equal(got, again, cmpopts.EquateNaNs()) {
		t.Fatalf("second parse differs: %v, %v", again, err)
	}
}

var chatSeeds = []string{
	"",
	"[[ ## answer ## ]]\nParis\n\n[[ ## count ## ]]\n3\n\n[[ ## score ## ]]\n0.5\n\n[[ ## ok ## ]]\nTrue\n\n[[ ## tags ## ]]\n[\"a\"]\n\n[[ ## weights ## ]]\n{\"w\": 1}\n\n[[ ## meta ## ]]\n{\"k\": [1, 2.5]}\n\n[[ ## completed ## ]]\n",
	"[[ ## answer ## ]] x\n[[ ## count ## ]] 1,234\n[[ ## score ## ]] 1e3\n[[ ## ok ## ]] yes\n[[ ## tags ## ]]\n[1] «a»\n[2] «««\n    b\n»»»\n[[ ## weights ## ]]\n```json\n{\"a\": \"2\"}\n```\n[[ ## meta ## ]]\nnot json",
	"[[ ## tags ## ]]\n1. a\n2. b\n[[ ## count ## ]]\n4.5",
	"[[##answer##]]\n[[ ## count ## ]]\n-0e-5\n[[ ## score ## ]]\nnan\n[[ ## tags ## ]]\n- x\n* y\n• z\n[[ ## weights ## ]]\nsee {\"a\": 1,}\n[[ ## meta ## ]]\n```",
	"[[ ## tags ## ]]\n[\"a\", [1]]\n[[ ## weights ## ]]\n{\"a\": {\"b\": 1}}",
	"«",
	"[[ ## tags ## ]]\n«««",
	"[[ ## count ## ]]\n9.223372036854775807e18\n[[ ## score ## ]]\n1e-400",
}

var jsonSeeds = []string{
	"",
	`{"answer": "Paris", "count": 3, "score": 0.5, "ok": true, "tags": ["a"], "weights": {"w": 2}, "meta": {"id": 7}}`,
	"```json\n{\"answer\": 1, \"count\": \"1,000\", \"score\": \"2.5\", \"ok\": \"no\", \"tags\": \"[\\\"x\\\"]\", \"weights\": {}, \"meta\": null,}\n```",
	`prose {x} {"answer": "a } {", "count": 1e2, "score": -0, "ok": false, "tags": [], "weights": {"a": 1e308}, "meta": [1, 2.5, {"k": 12345678901234567890}]}`,
	`{"answer": null}`,
	`{"count": 4.5}`,
	`[{"a": 1}`,
	`{"tags": "1. a\n2. b"}`,
	`{{{{{{{{`,
	`{"a": "\`,
}

func FuzzChatParse(f *testing.F) {
	for _, s := range chatSeeds {
		f.Add(s)
	}
	sig := typedSig(f)
	f.Fuzz(func(t *testing.T, completion string) {
		checkParse(t, Chat{}, "chat", sig, completion)
	})
}

func FuzzJSONParse(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	sig := typedSig(f)
	f.Fuzz(func(t *testing.T, completion string) {
		checkParse(t, JSON{}, "json", sig, completion)
	})
}

// FuzzRoundTrip formats a demo whose outputs are built from the fuzz inputs,
// takes the assistant message of the prompt and parses it back with the
// same adapter: the values must come back unchanged. Values the format
// cannot carry are skipped: for Chat, str values with surrounding space or a
// line that reads as a field marker; for JSON, invalid UTF-8 and non-finite
// floats (which Format must reject).
func FuzzRoundTrip(f *testing.F) {
	f.Add("Paris", int64(3), 0.5, true, "a", "b, c", "k", int64(-7), "s")
	f.Add("two\nlines", int64(math.MinInt64), 3.0, false, "«x»", "", "", int64(0), "")
	f.Add("x", int64(math.MaxInt64), math.NaN(), true, "\"q\"", "\\", "ключ", int64(1)<<60, "{}")
	f.Add("", int64(0), math.Inf(-1), false, "[1] «a»", "\n", "a\"b", int64(42), "123")
	f.Add("1e3", int64(1), 1e-7, true, "<&>", "\u2028", "x", int64(5), "true")
	sig := typedSig(f)
	f.Fuzz(func(t *testing.T, s string, i int64, x float64, b bool, t1, t2, key string, n int64, ms string) {
		finite := !math.IsNaN(x) && !math.IsInf(x, 0)
		w := x
		if !finite {
			w = 0.25
		}
		demo := Values{
			"question": "q",
			"answer":   s,
			"count":    i,
			"score":    x,
			"ok":       b,
			"tags":     []any{t1, t2},
			"weights":  map[string]any{key: w},
			"meta":     map[string]any{"s": ms, "n": n, "f": w, "l": []any{b, nil, []any{}}},
		}
		validUTF8 := utf8.ValidString(s) && utf8.ValidString(t1) && utf8.ValidString(t2) && utf8.ValidString(key) && utf8.ValidString(ms)

		chatOK := s == strings.TrimSpace(s) && utf8.ValidString(t1) && utf8.ValidString(t2) && utf8.ValidString(key) && utf8.ValidString(ms)
		for _, line := range strings.Split(s, "\n") {
			if isHeader(strings.TrimSpace(line)) {
				chatOK = false
			}
		}
		if chatOK {
			roundTrip(t, Chat{}, sig, demo)
		}

		if !validUTF8 {
			return
		}
		if !finite {
			if _, err := (JSON{}).Format(sig, []Values{demo}, Values{"question": "q"}); err == nil {
				t.Fatalf("JSON.Format accepted a non-finite float %v", x)
			}
			return
		}
		roundTrip(t, JSON{}, sig, demo)
	})
}

func roundTrip(t *testing.T, a Adapter, sig signature.Signature, demo Values) {
	t.Helper()
	req, err := a.Format(sig, []Values{demo}, Values{"question": "q"})
	if err != nil {
		t.Fatalf("%T.Format: %v", a, err)
	}
	if len(req.Messages) != 4 {
		t.Fatalf("%T.Format: %d messages, want 4", a, len(req.Messages))
	}
	reply := req.Messages[2].Content
	got, err := a.Parse(sig, reply)
	if err != nil {
		t.Fatalf("%T.Parse(%q): %v", a, reply, err)
	}
	want := Values{}
	for _, f := range sig.Outputs() {
		want[f.Name] = demo[f.Name]
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Fatalf("%T round trip of %q (-want +got):\n%s", a, reply, diff)
	}
}

// fuzzType builds a type from fuzz bytes: every kind, optional values,
// literals, enumerations and nested structs, at most a few levels deep.
func fuzzType(data []byte, depth int) (signature.Type, []byte) {
	if len(data) == 0 {
		return signature.TypeString, nil
	}
	b, data := data[0], data[1:]
	var typ signature.Type
	switch k := b % 10; {
	case depth > 3 || k < 4:
		typ = []signature.Type{signature.TypeString, signature.TypeInt, signature.TypeFloat, signature.TypeBool}[k%4]
	case k == 4:
		elem, rest := fuzzType(data, depth+1)
		typ, data = signature.ListOf(elem), rest
	case k == 5:
		elem, rest := fuzzType(data, depth+1)
		typ, data = signature.MapOf(elem), rest
	case k == 6:
		typ = signature.LiteralOf("a", "b c", int64(1), true)
	case k == 7:
		typ = signature.EnumOf("Mood", "up", "down")
	case k == 8:
		n := int(b/10)%3 + 1
		props := make([]signature.Prop, n)
		for i := range props {
			var pt signature.Type
			pt, data = fuzzType(data, depth+1)
			props[i] = signature.Prop{Name: string(rune('a' + i)), Type: pt, Required: i%2 == 0}
		}
		typ = signature.StructOf("Model", props...)
	default:
		typ = signature.TypeTime
	}
	if b >= 200 {
		typ = signature.OptionalOf(typ)
	}
	return typ, data
}

// FuzzRichCoerce parses replies for a field of a random rich type with both
// adapters: no panic, values of the documented Go types, errors that name
// the path of the bad value inside the field.
func FuzzRichCoerce(f *testing.F) {
	f.Add([]byte{8, 4, 1, 0}, `{"a": [1, "x"], "b": 2}`)
	f.Add([]byte{4, 8, 0}, `[{"a": "x"}, {"a": 1}, {"b": 2}]`)
	f.Add([]byte{206}, "Literal['a']")
	f.Add([]byte{9}, "2024-01-02T03:04:05Z")
	f.Add([]byte{205, 7}, "None")
	f.Add([]byte{5, 8, 1}, `{'k': {'a': True, 'b': 1_000}}`)
	f.Fuzz(func(t *testing.T, typeBytes []byte, value string) {
		typ, _ := fuzzType(typeBytes, 0)
		sig, err := signature.New("", "", []signature.Field{{Name: "q"}}, []signature.Field{{Name: "answer", Type: typ}})
		if err != nil {
			t.Fatalf("signature.New(%s): %v", typ, err)
		}
		checkParse(t, Chat{}, "chat", sig, "[[ ## answer ## ]]\n"+value)
		checkParse(t, JSON{}, "json", sig, `{"answer": `+value+`}`)
		for _, a := range []Adapter{Chat{}, JSON{}} {
			_, err := a.Parse(sig, "[[ ## answer ## ]]\n"+value)
			var pe *ParseError
			if errors.As(err, &pe) && pe.Field != "" && pe.Path != "" && !strings.HasPrefix(pe.Path, pe.Field) {
				t.Fatalf("Path %q does not start with the field %q", pe.Path, pe.Field)
			}
		}
		if _, err := (Chat{}).Format(sig, []Values{{"q": "x", "answer": value}}, Values{"q": value}); err != nil {
			t.Fatalf("Format: %v", err)
		}
	})
}

// sectionsByLines is how sections split a reply before it found lines in
// place: split at every newline, the lines of a section joined again. The
// two must agree on every reply.
func sectionsByLines(completion string) []section {
	var (
		out   []section
		name  string
		lines []string
		open  bool
	)
	flush := func() {
		if open {
			out = append(out, section{name: name, text: strings.TrimSpace(strings.Join(lines, "\n"))})
		}
	}
	for _, line := range strings.Split(completion, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[[") {
			if n, end, ok := matchHeader(trimmed); ok {
				flush()
				name, lines, open = n, lines[:0], true
				if rest := strings.TrimSpace(trimmed[end:]); rest != "" {
					lines = append(lines, rest)
				}
				continue
			}
		}
		if open {
			lines = append(lines, line)
		}
	}
	flush()
	return out
}

// FuzzSections: sections agrees with splitting the reply into lines and
// joining each section's lines again.
func FuzzSections(f *testing.F) {
	for _, s := range []string{
		"", "\n", "[[ ## answer ## ]]", "[[ ## answer ## ]]\n", "[[ ## answer ## ]] Paris \n",
		"intro\n[[ ## answer ## ]]\nParis\n\n[[ ## year ## ]]\n1600\n\n[[ ## completed ## ]]",
		"[[ ## a ## ]] x  \n  y \r\n[[ ## b ## ]]\n[[ ## c ## ]]  z\n\n",
		"[[ ## a ## ]]\n\n\n[[ ## a ## ]]\nsecond\n", "[[ ## a ## ]]\nx", "[[ ## a ## ]]\ny\n[[ ## b ## ]]\nz", "  [[ ## a ## ]]\t1\n\t[[ ## b ## ]]2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, completion string) {
		got, want := sections(completion), sectionsByLines(completion)
		if !slices.Equal(got, want) {
			t.Fatalf("sections(%q) = %q, by lines %q", completion, got, want)
		}
	})
}
