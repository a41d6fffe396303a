package signature

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// badSignatures are malformed signature texts with the position of the
// problem and a fragment of what Parse should say it expected there.
var badSignatures = []struct {
	name     string
	in       string
	pos      int
	expected string
	found    string
}{
	{"empty", "", 0, `input fields, then "->"`, "end of input"},
	{"blank", "   \t\n", 5, `input fields, then "->"`, "end of input"},
	{"missing arrow", "question", 8, `":", "," or "->"`, "end of input"},
	{"missing arrow after type", "question: str", 13, `"," or "->"`, "end of input"},
	{"two arrows", "a -> b -> c", 7, `single "->"`, `"->"`},
	{"two arrows after type", "a -> b: int -> c", 12, `"," or end of input (a signature has a single "->")`, `"->"`},
	{"no outputs", "a ->", 4, `an output field name after "->"`, "end of input"},
	{"no outputs trailing space", "a -> ", 5, `an output field name after "->"`, "end of input"},
	{"empty input between commas", "a,, b -> c", 2, `an input field name after ","`, `","`},
	{"empty input before arrow", "a, -> b", 3, `an input field name after ","`, `"->"`},
	{"empty output after comma", "a -> b,", 7, `an output field name after ","`, "end of input"},
	{"leading comma", ", a -> b", 0, "an input field name", `","`},
	{"bad identifier digit", "1a -> b", 0, "a field name (a letter or underscore", `"1a"`},
	{"bad identifier dash", "a -> my-answer", 5, "a field name", `"my-answer"`},
	{"bad identifier unicode", "a -> réponse", 5, "a field name", `"réponse"`},
	{"duplicate input", "a, a -> b", 3, `a field name not used before ("a" is already an input field)`, `"a"`},
	{"duplicate across roles", "q -> answer, q", 13, `a field name not used before ("q" is already an input field)`, `"q"`},
	{"duplicate output", "q -> a, b, a", 11, `("a" is already an output field)`, `"a"`},
	{"missing type", "a: -> b", 3, `a type after ":"`, `"->"`},
	{"missing type at end", "a -> b:", 7, `a type after ":"`, "end of input"},
	{"unknown type", "a: foo -> b", 3, "a type (str, int, float, bool, list[T], dict[str, T], Literal[...], Optional[T], datetime or Any)", `"foo"`},
	{"unknown nested type", "a: list[strr] -> b", 8, "a type (str", `"strr"`},
	{"dict int keys", "a: dict[int, str] -> b", 8, `str as the key type of "dict["`, `"int"`},
	{"dict missing comma", "a: dict[str int] -> b", 12, `"," after the dict key type`, `"int"`},
	{"dict one parameter", "a: dict[str] -> b", 11, `"," after the dict key type`, `"]"`},
	{"dict missing value", "a: dict[str, ] -> b", 13, "a type as the dict value type", `"]"`},
	{"unclosed list", "a: list[str -> b", 12, `"]" to close "list["`, `"->"`},
	{"unclosed list at end", "a -> b: list[int", 16, `"]" to close "list["`, "end of input"},
	{"unclosed dict", "a: dict[str, int -> b", 17, `"]" to close "dict["`, `"->"`},
	{"extra bracket", "a: list[str]] -> b", 12, `"," or "->"`, `"]"`},
	{"empty list", "a: list[] -> b", 8, `a type after "list["`, `"]"`},
	{"list two params", "a: list[str, int] -> b", 11, `"]" to close "list["`, `","`},
	{"scalar with params", "a: int[str] -> b", 6, `"," or "->"`, `"["`},
	{"trailing garbage", "a -> b c", 7, `":", "," or end of input`, `"c"`},
	{"trailing garbage after type", "a -> b: int extra", 12, `"," or end of input`, `"extra"`},
	{"two colons", "a: str: int -> b", 6, `"," or "->"`, `":"`},
	{"space in name", "a b -> c", 2, `":", "," or "->"`, `"b"`},
	{"go slice unclosed", "a: [str -> b", 4, `"]" after "[" (as in []T)`, `"str"`},
	{"go slice no elem", "a: [] -> b", 6, `a type after "[]"`, `"->"`},
	{"go map int keys", "a: map[int]str -> b", 7, "string as the map key type", `"int"`},
	{"go map no bracket", "a: map -> b", 7, `"[" after "map"`, `"->"`},
	{"go map unclosed key", "a: map[string str -> b", 14, `"]" after the map key type`, `"str"`},
	{"go map no value", "a: map[string] -> b", 15, "a type as the map value type", `"->"`},
	{"lone dash", "a - > b", 2, `":", "," or "->"`, `"-"`},
	{"stray bracket as name", "[ -> b", 0, "an input field name", `"["`},
	{"colon first", ": str -> b", 0, "an input field name", `":"`},
	{"too deep", "a -> b: " + strings.Repeat("list[", 40) + "str" + strings.Repeat("]", 40), 8 + 33*5, "at most 32 nested lists and dicts", `"list"`},
	{"long word truncated", "a -> b: " + strings.Repeat("x", 100), 8, "a type", `"xxxxxxxxxxxxxxxxxxxxxxxx…"`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range badSignatures {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tc.in, sig)
			}
			if !sig.IsZero() {
				t.Errorf("Parse(%q) returned a non-zero signature with its error", tc.in)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T (%v), want *ParseError", tc.in, err, err)
			}
			if pe.Input != tc.in {
				t.Errorf("Input = %q, want %q", pe.Input, tc.in)
			}
			if pe.Pos != tc.pos {
				t.Errorf("Pos = %d, want %d (%v)", pe.Pos, tc.pos, err)
			}
			if !strings.Contains(pe.Expected, tc.expected) {
				t.Errorf("Expected = %q, want it to contain %q", pe.Expected, tc.expected)
			}
			if pe.Found != tc.found {
				t.Errorf("Found = %q, want %q", pe.Found, tc.found)
			}
			msg := err.Error()
			for _, part := range []string{"signature: at position ", pe.Expected, pe.Found} {
				if !strings.Contains(msg, part) {
					t.Errorf("Error() = %q, want it to contain %q", msg, part)
				}
			}
		})
	}
}

func TestParseDuplicateWrapsFieldError(t *testing.T) {
	_, err := Parse("question -> answer, question")
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v does not wrap a *FieldError", err)
	}
	if fe.Field != "question" {
		t.Errorf("FieldError.Field = %q, want question", fe.Field)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Pos != 20 {
		t.Errorf("error %v: want a *ParseError at position 20", err)
	}
}

// goodSignatures are well-formed signature texts with the fields Parse must
// produce and the canonical text String must write.
var goodSignatures = []struct {
	name    string
	in      string
	inputs  []Field
	outputs []Field
	text    string
}{
	{
		name:    "untyped",
		in:      "question -> answer",
		inputs:  []Field{{Name: "question"}},
		outputs: []Field{{Name: "answer"}},
		text:    "question: str -> answer: str",
	},
	{
		name:    "typed",
		in:      "question, context: list[str] -> answer, confidence: float",
		inputs:  []Field{{Name: "question"}, {Name: "context", Type: ListOf(TypeString)}},
		outputs: []Field{{Name: "answer"}, {Name: "confidence", Type: TypeFloat}},
		text:    "question: str, context: list[str] -> answer: str, confidence: float",
	},
	{
		name:    "no inputs",
		in:      "-> answer",
		outputs: []Field{{Name: "answer"}},
		text:    "-> answer: str",
	},
	{
		name:    "no whitespace",
		in:      "a:int,b:bool->c:dict[str,list[float]]",
		inputs:  []Field{{Name: "a", Type: TypeInt}, {Name: "b", Type: TypeBool}},
		outputs: []Field{{Name: "c", Type: MapOf(ListOf(TypeFloat))}},
		text:    "a: int, b: bool -> c: dict[str, list[float]]",
	},
	{
		name:    "lots of whitespace",
		in:      "\n\t a \t: \n list [ int ] ,\r\n b\u00a0->  c  :  json  ",
		inputs:  []Field{{Name: "a", Type: ListOf(TypeInt)}, {Name: "b"}},
		outputs: []Field{{Name: "c", Type: TypeObject}},
		text:    "a: list[int], b: str -> c: Any",
	},
	{
		name: "object spellings",
		in:   "a: Any, b: any, c: object, d: interface{} -> e: json",
		inputs: []Field{{Name: "a", Type: TypeObject}, {Name: "b", Type: TypeObject},
			{Name: "c", Type: TypeObject}, {Name: "d", Type: TypeObject}},
		outputs: []Field{{Name: "e", Type: TypeObject}},
		text:    "a: Any, b: Any, c: Any, d: Any -> e: Any",
	},
	{
		name: "go spellings",
		in:   "a: string, b: int64, c: uint8, d: float32, e: []string -> f: map[string][]float64, g: map[string]any",
		inputs: []Field{{Name: "a"}, {Name: "b", Type: TypeInt}, {Name: "c", Type: TypeInt},
			{Name: "d", Type: TypeFloat}, {Name: "e", Type: ListOf(TypeString)}},
		outputs: []Field{{Name: "f", Type: MapOf(ListOf(TypeFloat))}, {Name: "g", Type: MapOf(TypeObject)}},
		text:    "a: str, b: int, c: int, d: float, e: list[str] -> f: dict[str, list[float]], g: dict[str, Any]",
	},
	{
		name:    "typing spellings and bare containers",
		in:      "a: List[str], b: Dict[str, int], c: list, d: dict -> e",
		inputs:  []Field{{Name: "a", Type: ListOf(TypeString)}, {Name: "b", Type: MapOf(TypeInt)}, {Name: "c", Type: ListOf(TypeObject)}, {Name: "d", Type: MapOf(TypeObject)}},
		outputs: []Field{{Name: "e"}},
		text:    "a: list[str], b: dict[str, int], c: list[Any], d: dict[str, Any] -> e: str",
	},
	{
		name:   "literals",
		in:     `q: Literal['one', "she's", 'both"and\'', 1, True] -> v: Literal["yes", 'no'], w: Literal[2.5, False]`,
		inputs: []Field{{Name: "q", Type: LiteralOf("one", "she's", `both"and'`, int64(1), true)}},
		outputs: []Field{{Name: "v", Type: LiteralOf("yes", "no")},
			{Name: "w", Type: LiteralOf(2.5, false)}},
		text: `q: Literal['one', "she's", 'both"and\'', 1, True] -> v: Literal['yes', 'no'], w: Literal[2.5, False]`,
	},
	{
		name: "optionals",
		in:   "a: Optional[int], b: int | None, c: None | list[str], d: Union[float, None], e: Union[NoneType, str] -> f: datetime, g: Optional[datetime]",
		inputs: []Field{{Name: "a", Type: OptionalOf(TypeInt)}, {Name: "b", Type: OptionalOf(TypeInt)},
			{Name: "c", Type: OptionalOf(ListOf(TypeString))}, {Name: "d", Type: OptionalOf(TypeFloat)}, {Name: "e", Type: OptionalOf(TypeString)}},
		outputs: []Field{{Name: "f", Type: TypeTime}, {Name: "g", Type: OptionalOf(TypeTime)}},
		text:    "a: Union[int, NoneType], b: Union[int, NoneType], c: Union[list[str], NoneType], d: Union[float, NoneType], e: Union[str, NoneType] -> f: datetime, g: Union[datetime, NoneType]",
	},
	{
		name:    "underscores and digits",
		in:      "_private, q2 -> answer_1",
		inputs:  []Field{{Name: "_private"}, {Name: "q2"}},
		outputs: []Field{{Name: "answer_1"}},
		text:    "_private: str, q2: str -> answer_1: str",
	},
	{
		name:    "deep nesting",
		in:      "a -> b: list[list[dict[str, list[int]]]]",
		inputs:  []Field{{Name: "a"}},
		outputs: []Field{{Name: "b", Type: ListOf(ListOf(MapOf(ListOf(TypeInt))))}},
		text:    "a: str -> b: list[list[dict[str, list[int]]]]",
	},
	{
		name:    "max depth",
		in:      "a -> b: " + strings.Repeat("[]", 16) + strings.Repeat("list[", 16) + "str" + strings.Repeat("]", 16),
		inputs:  []Field{{Name: "a"}},
		outputs: []Field{{Name: "b", Type: nestedList(32)}},
		text:    "a: str -> b: " + strings.Repeat("list[", 32) + "str" + strings.Repeat("]", 32),
	},
}

func nestedList(n int) Type {
	t := TypeString
	for range n {
		t = ListOf(t)
	}
	return t
}

func TestParse(t *testing.T) {
	for _, tc := range goodSignatures {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.inputs, sig.Inputs()); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.outputs, sig.Outputs()); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			if got := sig.String(); got != tc.text {
				t.Errorf("String() = %q, want %q", got, tc.text)
			}
			if sig.Name() != "StringSignature" {
				t.Errorf("Name() = %q, want StringSignature", sig.Name())
			}
			if want := DefaultInstructions(tc.inputs, tc.outputs); sig.Instructions() != want {
				t.Errorf("Instructions() = %q, want %q", sig.Instructions(), want)
			}
			again, err := Parse(sig.String())
			if err != nil {
				t.Fatalf("Parse(String()) = %v", err)
			}
			if !again.Equal(sig) {
				t.Errorf("Parse(%q) = %v, not Equal to %v", sig.String(), again, sig)
			}
		})
	}
}

func TestParseCachedValueIsNotShared(t *testing.T) {
	const text = "question -> answer: int"
	first := MustParse(text)
	ins := first.Inputs()
	ins[0].Name = "mutated"
	second := MustParse(text)
	if got := second.Inputs()[0].Name; got != "question" {
		t.Fatalf("second Parse sees input %q after the caller mutated a copy", got)
	}
	derived := first.WithInstructions("Do it.")
	if third := MustParse(text); third.Instructions() == derived.Instructions() {
		t.Fatalf("deriving from a cached signature changed the cache")
	}
}

func TestParseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			tc := goodSignatures[i%len(goodSignatures)]
			sig, err := Parse(tc.in)
			if err == nil && sig.String() != tc.text {
				err = errors.New("wrong signature " + sig.String())
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("a -> b").String(); got != "a: str -> b: str" {
		t.Errorf("MustParse = %q", got)
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		var pe *ParseError
		if !ok || !errors.As(err, &pe) {
			t.Errorf("MustParse panicked with %v, want a *ParseError", r)
		}
	}()
	MustParse("a ->")
	t.Error("MustParse did not panic")
}
