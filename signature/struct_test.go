package signature

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

type Meta struct {
	Source string
	Score  float64
}

type Base struct {
	TraceID string
}

type unexportedBase struct {
	Tenant string
}

type QA struct {
	Question    string   `desc:"a trivia question"`
	ContextDocs []string `prefix:"Context:"`
	Base
	unexportedBase
	UserID   int64
	Ignored  string `dspy:"-"`
	internal string
}

type Answer struct {
	Answer     string  `dspy:"answer" desc:"a few words"`
	Confidence float32 `dspy:"confidence"`
	Sure       bool
	Meta       *Meta
	Scores     map[string]float64
	Extra      any
	Raw        json.RawMessage
	Count      *uint16
	Data       []byte
	Grid       [][]int
}

func (Answer) Instructions() string { return "Answer the question." }

type withInInstructions struct {
	Q string
}

func (withInInstructions) Instructions() string { return "From the input." }

type plainOut struct {
	A string
}

type emptyInstructions struct {
	A string
}

func (emptyInstructions) Instructions() string { return "" }

type Pair[T any] struct {
	V T
}

func TestOf(t *testing.T) {
	sig, err := Of[QA, Answer]()
	if err != nil {
		t.Fatal(err)
	}
	wantIn := []Field{
		{Name: "question", Desc: "a trivia question"},
		{Name: "context_docs", Prefix: "Context:", Type: ListOf(TypeString)},
		{Name: "trace_id"},
		{Name: "tenant"},
		{Name: "user_id", Type: TypeInt},
	}
	wantOut := []Field{
		{Name: "answer", Desc: "a few words"},
		{Name: "confidence", Type: TypeFloat},
		{Name: "sure", Type: TypeBool},
		{Name: "meta", Type: OptionalOf(StructOf("Meta",
			Prop{Name: "Source", Type: TypeString, Required: true},
			Prop{Name: "Score", Type: TypeFloat, Required: true}))},
		{Name: "scores", Type: MapOf(TypeFloat)},
		{Name: "extra", Type: TypeObject},
		{Name: "raw", Type: TypeObject},
		{Name: "count", Type: OptionalOf(TypeInt)},
		{Name: "data", Type: TypeString},
		{Name: "grid", Type: ListOf(ListOf(TypeInt))},
	}
	if diff := cmp.Diff(wantIn, sig.Inputs()); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantOut, sig.Outputs()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if got, want := sig.Name(), "QAToAnswer"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got, want := sig.Instructions(), "Answer the question."; got != want {
		t.Errorf("Instructions() = %q, want %q", got, want)
	}
	// A Go struct type (meta) has no string spelling; the rest round-trips.
	noMeta, err := sig.Delete("meta")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(noMeta.String())
	if err != nil {
		t.Fatalf("Parse(%q): %v", noMeta.String(), err)
	}
	if diff := cmp.Diff(noMeta.String(), again.String()); diff != "" {
		t.Errorf("struct signature does not round-trip through its text:\n%s", diff)
	}
}

func TestOfInstructionsAndName(t *testing.T) {
	tests := []struct {
		name         string
		of           func() (Signature, error)
		wantName     string
		instructions string
	}{
		{"from output", Of[withInInstructions, Answer], "withInInstructionsToAnswer", "Answer the question."},
		{"from input", Of[withInInstructions, plainOut], "withInInstructionsToplainOut", "From the input."},
		{"empty falls back to input", Of[withInInstructions, emptyInstructions], "withInInstructionsToemptyInstructions", "From the input."},
		{"default", Of[plainOut, Pair[int]], "plainOutToPair", "Given the fields `a`, produce the fields `v`."},
		{"anonymous", Of[struct{ X int }, struct{ Y int }], "InputToOutput", "Given the fields `x`, produce the fields `y`."},
		{"no inputs", Of[struct{}, plainOut], "InputToplainOut", "Produce the fields `a`."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := tc.of()
			if err != nil {
				t.Fatal(err)
			}
			if sig.Name() != tc.wantName {
				t.Errorf("Name() = %q, want %q", sig.Name(), tc.wantName)
			}
			if sig.Instructions() != tc.instructions {
				t.Errorf("Instructions() = %q, want %q", sig.Instructions(), tc.instructions)
			}
		})
	}
}

type badTag struct {
	Q string `dspy:"my-question"`
}

type badTagDigit struct {
	Q string `dspy:"2q"`
}

type dupTag struct {
	Question string
	Q        string `dspy:"question"`
}

type dupEmbedded struct {
	Base
	TraceID string
}

type badEmbeddedPtr struct {
	*Base
}

type taggedUnexported struct {
	A string
	b string `dspy:"b"`
}

type outUsesInputName struct {
	Reply string `dspy:"question"`
}

type unsupported struct {
	Ch chan int
}

type unsupportedFunc struct {
	F func()
}

type unsupportedComplex struct {
	C complex128
}

type unsupportedMapKey struct {
	M map[int]string
}

type unsupportedPointer struct {
	P unsafe.Pointer
}

type unsupportedInterface struct {
	E error
}

type node struct {
	Children []*node
}

type recursiveOut struct {
	Tree node
}

type enumOnInt struct {
	N int `enum:"1,2"`
}

type noValues string

func (noValues) EnumValues() []string { return nil }

type emptyEnumOut struct {
	E noValues
}

// Sentiment is a named string type that lists its values.
type Sentiment string

func (Sentiment) EnumValues() []string { return []string{"positive", "negative", "neutral"} }

type Product struct {
	Name  string   `json:"name" desc:"the item's name"`
	Price *float64 `json:"price,omitempty"`
	Tags  []string `json:"tags"`
}

type Report struct {
	Verdict string    `enum:"accept,reject"`
	Mood    Sentiment `desc:"overall mood"`
	Items   []Product `desc:"the items found"`
	Best    Product
	Note    *string
	When    time.Time
	Due     *time.Time
	Grid    [][]int
	Bags    map[string]Product
	Skip    string `json:"-"`
}

func TestOfRichTypes(t *testing.T) {
	sig, err := Of[plainOut, Report]()
	if err != nil {
		t.Fatal(err)
	}
	item := StructOf("Product",
		Prop{Name: "name", Desc: "the item's name", Type: TypeString, Required: true},
		Prop{Name: "price", Type: OptionalOf(TypeFloat)},
		Prop{Name: "tags", Type: ListOf(TypeString), Required: true})
	want := []Field{
		{Name: "verdict", Type: LiteralOf("accept", "reject")},
		{Name: "mood", Desc: "overall mood", Type: EnumOf("Sentiment", "positive", "negative", "neutral")},
		{Name: "items", Desc: "the items found", Type: ListOf(item)},
		{Name: "best", Type: item},
		{Name: "note", Type: OptionalOf(TypeString)},
		{Name: "when", Type: TypeTime},
		{Name: "due", Type: OptionalOf(TypeTime)},
		{Name: "grid", Type: ListOf(ListOf(TypeInt))},
		{Name: "bags", Type: MapOf(item)},
		{Name: "skip", Type: TypeString},
	}
	if diff := cmp.Diff(want, sig.Outputs()); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	wantText := "a: str -> verdict: Literal['accept', 'reject'], mood: Sentiment, items: list[Product], best: Product, " +
		"note: Union[str, NoneType], when: datetime, due: Union[datetime, NoneType], grid: list[list[int]], bags: dict[str, Product], skip: str"
	if got := sig.String(); got != wantText {
		t.Errorf("String() = %q, want %q", got, wantText)
	}
}

type unsupportedArray struct {
	A [3]int
}

type unsupportedNested struct {
	L []map[string]chan int
}

type unsupportedPtrPtr struct {
	P **int
}

type unsupportedUintptr struct {
	U uintptr
}

type noOutputs struct {
	Hidden string `dspy:"-"`
	hidden string
}

type tooDeep struct {
	X [][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][][]int
}

func TestOfErrors(t *testing.T) {
	tests := []struct {
		name   string
		of     func() (Signature, error)
		strct  string
		field  string
		reason string
	}{
		{"tag with dash", Of[badTag, plainOut], "signature.badTag", "Q", `dspy tag "my-question" is not an identifier`},
		{"tag with digit", Of[plainOut, badTagDigit], "signature.badTagDigit", "Q", `dspy tag "2q" is not an identifier`},
		{"duplicate in struct", Of[dupTag, plainOut], "signature.dupTag", "Q", `"question" is already used by field Question`},
		{"duplicate with embedded", Of[dupEmbedded, plainOut], "signature.dupEmbedded", "TraceID", `"trace_id" is already used by field Base.TraceID`},
		{"embedded pointer", Of[badEmbeddedPtr, plainOut], "signature.badEmbeddedPtr", "Base", "embedded pointer"},
		{"tagged unexported", Of[taggedUnexported, plainOut], "signature.taggedUnexported", "b", "unexported field has a dspy tag"},
		{"duplicate across in and out", Of[QA, outUsesInputName], "signature.outUsesInputName", "Reply", `"question" is already used by input field signature.QA.Question`},
		{"chan", Of[unsupported, plainOut], "signature.unsupported", "Ch", "chan int is not supported"},
		{"func", Of[plainOut, unsupportedFunc], "signature.unsupportedFunc", "F", "func() is not supported"},
		{"complex", Of[unsupportedComplex, plainOut], "signature.unsupportedComplex", "C", "complex128 is not supported"},
		{"map key", Of[unsupportedMapKey, plainOut], "signature.unsupportedMapKey", "M", "map keys must be strings"},
		{"unsafe pointer", Of[unsupportedPointer, plainOut], "signature.unsupportedPointer", "P", "unsafe.Pointer is not supported"},
		{"interface", Of[unsupportedInterface, plainOut], "signature.unsupportedInterface", "E", "interface type error is not supported"},
		{"recursive", Of[plainOut, recursiveOut], "signature.recursiveOut", "Tree", "recursive type signature.node is not supported"},
		{"enum tag on int", Of[plainOut, enumOnInt], "signature.enumOnInt", "N", "enum tag on a field of type int"},
		{"empty enum", Of[plainOut, emptyEnumOut], "signature.emptyEnumOut", "E", "lists no values"},
		{"array", Of[unsupportedArray, plainOut], "signature.unsupportedArray", "A", "use a slice"},
		{"nested", Of[unsupportedNested, plainOut], "signature.unsupportedNested", "L", "chan int is not supported"},
		{"pointer to pointer", Of[unsupportedPtrPtr, plainOut], "signature.unsupportedPtrPtr", "P", "pointer to pointer"},
		{"uintptr", Of[unsupportedUintptr, plainOut], "signature.unsupportedUintptr", "U", "uintptr is not supported"},
		{"too deep", Of[tooDeep, plainOut], "signature.tooDeep", "X", "nests more than 32 levels"},
		{"no outputs", Of[plainOut, noOutputs], "signature.noOutputs", "", "declares no output fields"},
		{"input not a struct", Of[string, plainOut], "string", "", "string is not a struct type"},
		{"output pointer", Of[plainOut, *plainOut], "*signature.plainOut", "", "is not a struct type"},
		{"output interface", Of[plainOut, any], "interface {}", "", "is not a struct type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := tc.of()
			if err == nil {
				t.Fatalf("got signature %v, want an error", sig)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T (%v), want *FieldError", err, err)
			}
			if fe.Struct != tc.strct || fe.Field != tc.field {
				t.Errorf("error names %s.%s, want %s.%s (%v)", fe.Struct, fe.Field, tc.strct, tc.field, err)
			}
			if !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", fe.Reason, tc.reason)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.strct+"."+tc.field+": ") {
				t.Errorf("Error() = %q does not name %s.%s", err, tc.strct, tc.field)
			}
			// The error is cached along with successes.
			if _, again := tc.of(); again != err {
				t.Errorf("second call returned a different error: %v", again)
			}
		})
	}
}

func TestMustOfPanics(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		var fe *FieldError
		if !ok || !errors.As(err, &fe) || fe.Field != "Ch" {
			t.Errorf("MustOf panicked with %v, want a *FieldError for Ch", r)
		}
	}()
	MustOf[unsupported, plainOut]()
	t.Error("MustOf did not panic")
}

type concIn struct {
	Question string
	Context  []string
}

type concOut struct {
	Answer string
	Score  float64
}

func TestOfConcurrent(t *testing.T) {
	want := "question: str, context: list[str] -> answer: str, score: float"
	var wg sync.WaitGroup
	results := make([]Signature, 32)
	errs := make([]error, 32)
	for i := range results {
		wg.Go(func() {
			if i%2 == 0 {
				results[i], errs[i] = Of[concIn, concOut]()
			} else {
				results[i] = MustOf[concIn, concOut]()
			}
			// Decoding concurrently exercises the plan cache too.
			if _, err := Decode[concOut](map[string]any{"answer": "x", "score": 1}); err != nil && errs[i] == nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for i, sig := range results {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if sig.String() != want || !sig.Equal(results[0]) {
			t.Fatalf("goroutine %d got %v, want %s", i, sig, want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	tests := map[string]string{
		"Question":     "question",
		"ContextDocs":  "context_docs",
		"UserID":       "user_id",
		"ID":           "id",
		"HTTPServer":   "http_server",
		"PDFFile2Text": "pdf_file2_text",
		"Answer2":      "answer2",
		"V2Answer":     "v2_answer",
		"Already_Cut":  "already_cut",
		"X":            "x",
		"ÉtéAnswer":    "été_answer",
	}
	for in, want := range tests {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

type unicodeName struct {
	Été string
}

func TestOfNonASCIIName(t *testing.T) {
	_, err := Of[unicodeName, plainOut]()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "Été" || !strings.Contains(fe.Reason, "set one with a dspy tag") {
		t.Fatalf("Of = %v, want a *FieldError for Été asking for a tag", err)
	}
}
