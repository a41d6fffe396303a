package serve

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/signature"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var fuzzSig = signature.MustParse("question: str, k: int, tags: list[str], extra: dict[str, float] -> answer")

// FuzzReadInputs checks that any body either gives inputs of exactly the
// signature's fields and types, or a typed error with a documented code
// and status; nothing panics.
func FuzzReadInputs(f *testing.F) {
	for _, seed := range []string{
		`{"question": "q", "k": 3, "tags": ["a"], "extra": {"x": 1.5}}`,
		`{"question": "q", "k": 3.5, "tags": [], "extra": {}}`,
		`{"question": null}`, `[]`, `{}`, `{"question": "q", "k": 1, "tags": [1], "extra": {}}`,
		`{"question": "q", "k": 1, "tags": [], "extra": {}, "z": 0}`, `{"a":1} x`, ``,
	} {
		f.Add(seed)
	}
	s := &Server{cfg: Config{MaxBodyBytes: 1 << 12}}
	codes := map[string]int{"not_json": 400, "missing_input": 400, "wrong_type": 400, "unknown_field": 400,
		"body_too_large": 413, "bad_request": 400}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/programs/x", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		in, err := s.readInputs(httptest.NewRecorder(), r, fuzzSig.Inputs())
		if err != nil {
			var ie *inputError
			if !errors.As(err, &ie) || codes[ie.code] != ie.status || ie.msg == "" {
				t.Fatalf("error %#v", err)
			}
			if (ie.code == "missing_input" || ie.code == "wrong_type" || ie.code == "unknown_field") && ie.field == "" {
				t.Fatalf("%s names no field", ie.code)
			}
			return
		}
		if len(in) != 4 {
			t.Fatalf("inputs %v", in)
		}
		if _, ok := in["question"].(string); !ok {
			t.Fatalf("question %T", in["question"])
		}
		if _, ok := in["k"].(int64); !ok {
			t.Fatalf("k %T", in["k"])
		}
		for _, tag := range in["tags"].([]any) {
			if _, ok := tag.(string); !ok {
				t.Fatalf("tag %T", tag)
			}
		}
		for _, v := range in["extra"].(map[string]any) {
			if _, ok := v.(float64); !ok {
				t.Fatalf("extra value %T", v)
			}
		}
	})
}

func TestWantsStream(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    false,
		"application/json":                    false,
		"text/event-stream":                   true,
		"application/json, text/event-stream": true,
		"text/event-stream; q=0.9":            true,
		"text/plain":                          false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsStream(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}
