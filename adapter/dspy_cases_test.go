package adapter

import (
	"errors"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/signature"
)

// Cases of DSPy's adapter tests that check parts of the messages (substring
// assertions) or the parser, at stanfordnlp/dspy
// 4ed377ee9110e912d4f5e1be43b317b87455053c (DSPy 3.3.1). Each names the
// DSPy test it transcribes.

const dspyCommit = "4ed377ee9110e912d4f5e1be43b317b87455053c"

// tests/adapters/test_chat_adapter.py: test_chat_adapter_quotes_literals_as_expected
// (five parametrized scenarios).
func TestDSPyQuotesLiterals(t *testing.T) {
	tests := []struct {
		name    string
		sig     string
		in      any
		wantIn  string
		wantOut string
	}{
		{"double quotes", `input_text: Literal["one", "two", 'three"'] -> output_text: Literal["four", "five", 'six"']`, "two",
			`Literal['one', 'two', 'three"']`, `Literal['four', 'five', 'six"']`},
		{"single quotes", `input_text: Literal["she's here", "okay", "test"] -> output_text: Literal["done", "maybe'soon", "later"]`, "she's here",
			`Literal["she's here", 'okay', 'test']`, `Literal['done', "maybe'soon", 'later']`},
		{"both quotes", `input_text: Literal["both\"and'", "another"] -> output_text: Literal["yet\"another'", "plain"]`, "another",
			`Literal['both"and\'', 'another']`, `Literal['yet"another\'', 'plain']`},
		{"no quotes", `input_text: Literal["foo", "bar"] -> output_text: Literal["baz", "qux"]`, "foo",
			`Literal['foo', 'bar']`, `Literal['baz', 'qux']`},
		{"mixed types", `input_text: Literal[1, "bar"] -> output_text: Literal[True, 3, "foo"]`, "bar",
			`Literal[1, 'bar']`, `Literal[True, 3, 'foo']`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := signature.MustParse(tc.sig)
			req, err := Chat{}.Format(sig, nil, Values{"input_text": tc.in})
			if err != nil {
				t.Fatal(err)
			}
			sys := req.Messages[0].Content
			for _, want := range []string{tc.wantIn, tc.wantOut} {
				if !strings.Contains(sys, want) {
					t.Errorf("system message lacks %s:\n%s", want, sys)
				}
			}
		})
	}
}

// tests/adapters/test_chat_adapter.py: test_chat_adapter_signature_information.
func TestDSPySignatureInformation(t *testing.T) {
	sig, err := signature.New("", "", []signature.Field{
		{Name: "input1", Desc: "String Input"}, {Name: "input2", Desc: "Integer Input", Type: signature.TypeInt},
	}, []signature.Field{{Name: "output", Desc: "String Output"}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := Chat{}.Format(sig, nil, Values{"input1": "Test", "input2": 11})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v", req.Messages)
	}
	sys, user := req.Messages[0].Content, req.Messages[1].Content
	for _, want := range []string{"1. `input1` (str)", "2. `input2` (int)", "1. `output` (str)",
		"[[ ## input1 ## ]]\n{input1}", "[[ ## input2 ## ]]\n{input2}", "[[ ## output ## ]]\n{output}", "[[ ## completed ## ]]"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system message lacks %q", want)
		}
	}
	for _, want := range []string{"[[ ## input1 ## ]]", "[[ ## input2 ## ]]", "[[ ## output ## ]]", "[[ ## completed ## ]]"} {
		if !strings.Contains(user, want) {
			t.Errorf("user message lacks %q", want)
		}
	}
}

type (
	DogClass struct {
		DogBreeds []string `json:"dog_breeds" desc:"List of the breeds of dogs"`
		NumDogs   int      `json:"num_dogs" desc:"Number of dogs the owner has"`
	}
	PetOwner struct {
		Name    string   `json:"name" desc:"Name of the owner"`
		NumPets int      `json:"num_pets" desc:"Amount of pets the owner has"`
		Dogs    DogClass `json:"dogs" desc:"Nested Pydantic class with dog specific information "`
	}
	Answer struct {
		Result   string `json:"result"`
		Analysis string `json:"analysis"`
	}
	petIn struct {
		Owner    PetOwner
		Question string
	}
	petOut struct {
		Output Answer
	}
)

// tests/adapters/test_chat_adapter.py: test_chat_adapter_with_pydantic_models.
func TestDSPyPydanticModels(t *testing.T) {
	sig := signature.MustOf[petIn, petOut]()
	req, err := Chat{}.Format(sig, nil, Values{
		"owner":    PetOwner{Name: "John", NumPets: 5, Dogs: DogClass{DogBreeds: []string{"labrador", "chihuahua"}, NumDogs: 2}},
		"question": "How many non-dog pets does John have?",
	})
	if err != nil {
		t.Fatal(err)
	}
	sys, user := req.Messages[0].Content, req.Messages[1].Content
	for _, want := range []string{"1. `owner` (PetOwner)", "2. `question` (str)", "1. `output` (Answer)"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system message lacks %q", want)
		}
	}
	for _, want := range []string{"name", "num_pets", "dogs", "dog_breeds", "num_dogs", "How many non-dog pets does John have?"} {
		if !strings.Contains(user, want) {
			t.Errorf("user message lacks %q", want)
		}
	}
}

type (
	User struct {
		ID    int    `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	AnalysisAnswer struct {
		Analysis string `json:"analysis"`
		Result   string `json:"result"`
	}
	userIn struct {
		User     User   `desc:"The user who asks the question"`
		Question string `desc:"Question the user asks"`
	}
	userOut struct {
		Answer AnalysisAnswer `desc:"Answer to this question"`
	}
)

// tests/adapters/test_json_adapter.py: test_json_adapter_on_pydantic_model.
func TestDSPyJSONOnPydanticModel(t *testing.T) {
	sig := signature.MustOf[userIn, userOut]()
	out := sig.Outputs()[0]
	out.Type = renamed(out.Type, "Answer")
	sig, err := sig.WithField(out)
	if err != nil {
		t.Fatal(err)
	}
	req, err := JSON{}.Format(sig, nil, Values{"user": map[string]any{"id": 5, "name": "name_test", "email": "email_test"},
		"question": "What is the capital of France?"})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(req.Messages))
	}
	sys, user := req.Messages[0].Content, req.Messages[1].Content
	for _, want := range []string{
		"1. `user` (User): The user who asks the question\n2. `question` (str): Question the user asks\n",
		"1. `answer` (Answer): Answer to this question\n",
		"[[ ## user ## ]]\n{user}\n\n[[ ## question ## ]]\n{question}\n\n",
		"Outputs will be a JSON object with the following fields.\n\n{\n  " +
			`"answer": "{answer}        # note: the value you produce must adhere to the JSON schema: ` +
			`{\"type\": \"object\", \"properties\": {\"analysis\": {\"type\": \"string\", \"title\": ` +
			`\"Analysis\"}, \"result\": {\"type\": \"string\", \"title\": \"Result\"}}, \"required\": ` +
			`[\"analysis\", \"result\"], \"title\": \"Answer\"}"` + "\n}",
	} {
		if !strings.Contains(sys, want) {
			t.Errorf("system message lacks %q:\n%s", want, sys)
		}
	}
	// DSPy keeps the dict's insertion order; Go maps have none, and dspex
	// sorts keys (adapter/doc.go), so the user message differs here.
	if want := "[[ ## user ## ]]\n{\"email\": \"email_test\", \"id\": 5, \"name\": \"name_test\"}\n\n[[ ## question ## ]]\nWhat is the capital of France?\n\n"; !strings.Contains(user, want) {
		t.Errorf("user message lacks %q:\n%s", want, user)
	}
	got, err := JSON{}.Parse(sig, "{'answer': {'analysis': 'Paris is the capital of France', 'result': 'Paris'}}")
	if err != nil {
		t.Fatal(err)
	}
	typed, err := signature.Decode[userOut](got)
	if err != nil {
		t.Fatal(err)
	}
	if typed.Answer.Analysis != "Paris is the capital of France" || typed.Answer.Result != "Paris" {
		t.Errorf("parsed %+v", typed)
	}
}

// tests/adapters/test_json_adapter.py: test_json_adapter_parse_raise_error_on_mismatch_fields.
func TestDSPyJSONMismatchFields(t *testing.T) {
	_, err := JSON{}.Parse(signature.MustParse("question -> answer"), "{'answer1': 'Paris'}")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Adapter != "json" || pe.Field != "answer" || !errors.Is(err, ErrMissingField) {
		t.Fatalf("err = %v, want a missing-field *ParseError for answer", err)
	}
}

type scoreOut struct {
	Score struct {
		Score float64 `json:"score"`
	}
}

// tests/adapters/test_chat_adapter.py: test_chat_adapter_parses_float_with_underscores.
func TestDSPyFloatWithUnderscores(t *testing.T) {
	sig := signature.MustOf[nestedQuestion, scoreOut]()
	got, err := Chat{}.Parse(sig, "[[ ## score ## ]]\n{'score': 123_456.789}\n[[ ## completed ## ]]")
	if err != nil {
		t.Fatal(err)
	}
	typed, err := signature.Decode[scoreOut](got)
	if err != nil {
		t.Fatal(err)
	}
	if typed.Score.Score != 123456.789 {
		t.Errorf("score = %v, want 123456.789", typed.Score.Score)
	}
}

// tests/adapters/test_chat_adapter.py: test_optional_type_syntax_output_fields_fall_back_to_defaults
// and test_optional_type_syntax_missing_required_output_field_still_raises
// (dspex has no field defaults: a missing optional output is None).
func TestDSPyOptionalOutputs(t *testing.T) {
	sig := signature.MustParse("question: str -> answer: str, maybe: Optional[str]")
	for _, a := range []Adapter{Chat{}, JSON{}} {
		reply := "[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"
		missing := "[[ ## maybe ## ]]\npresent\n\n[[ ## completed ## ]]"
		if _, ok := a.(JSON); ok {
			reply, missing = `{"answer": "42"}`, `{"maybe": "present"}`
		}
		got, err := a.Parse(sig, reply)
		if err != nil {
			t.Fatalf("%T: %v", a, err)
		}
		if v, ok := got["maybe"]; !ok || v != nil || got["answer"] != "42" {
			t.Errorf("%T: got %v, want answer 42 and maybe None", a, got)
		}
		if _, err := a.Parse(sig, missing); !errors.Is(err, ErrMissingField) {
			t.Errorf("%T: missing required answer: err = %v, want ErrMissingField", a, err)
		}
	}
}

// A whole number in a float field is rendered as Python renders a float,
// where DSPy renders a demo's int value as it was loaded (see doc.go).
func TestWholeFloatRendersAsPythonFloat(t *testing.T) {
	sig := signature.MustParse("question: str -> score: float")
	req, err := Chat{}.Format(sig, []Values{{"question": "Q1", "score": 1.0}}, Values{"question": "Q2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Messages[2].Content; got != "[[ ## score ## ]]\n1.0\n\n[[ ## completed ## ]]\n" {
		t.Errorf("demo reply = %q, want the score written 1.0", got)
	}
}
