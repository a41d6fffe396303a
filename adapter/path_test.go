package adapter

import (
	"errors"
	"testing"
	"time"

	"github.com/dspex-go/dspex/signature"
)

type (
	pathItem struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	pathAnswer struct {
		Items  []pathItem         `json:"items"`
		Status string             `json:"status" enum:"open,closed"`
		Note   *string            `json:"note"`
		When   time.Time          `json:"when"`
		Bags   map[string][]int64 `json:"bags"`
	}
	pathIn  struct{ Q string }
	pathOut struct{ Answer pathAnswer }
)

func TestCoercionErrorPaths(t *testing.T) {
	sig := signature.MustOf[pathIn, pathOut]()
	ok := `"items": [{"name": "a", "price": 1}], "status": "open", "when": "2024-05-06T07:08:09Z", "bags": {"x": [1]}`
	tests := []struct {
		name   string
		answer string
		path   string
	}{
		{"third item's price", `{"items": [{"name": "a", "price": 1}, {"name": "b", "price": 2}, {"name": "c", "price": "cheap"}], "status": "open", "when": "2024-05-06T07:08:09Z", "bags": {}}`, "answer.items[2].price"},
		{"missing property", `{"items": [{"price": 1}], "status": "open", "when": "2024-05-06T07:08:09Z", "bags": {}}`, "answer.items[0].name"},
		{"enum", `{"items": [], "status": "maybe", "when": "2024-05-06T07:08:09Z", "bags": {}}`, "answer.status"},
		{"time", `{"items": [], "status": "open", "when": "yesterday", "bags": {}}`, "answer.when"},
		{"dict key with a space", `{"items": [], "status": "open", "when": "2024-05-06T07:08:09Z", "bags": {"a b": [1, "x"]}}`, `answer.bags["a b"][1]`},
		{"not an object", `[1]`, "answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range []Adapter{Chat{}, JSON{}} {
				reply := "[[ ## answer ## ]]\n" + tt.answer
				if _, isJSON := a.(JSON); isJSON {
					reply = `{"answer": ` + tt.answer + `}`
				}
				_, err := a.Parse(sig, reply)
				var pe *ParseError
				if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("%T: err = %v, want an invalid-value *ParseError", a, err)
				}
				if pe.Path != tt.path {
					t.Errorf("%T: Path = %q, want %q (%v)", a, pe.Path, tt.path, err)
				}
			}
		})
	}
	// And a valid answer decodes into the Go struct, optional note nil.
	for _, a := range []Adapter{Chat{}, JSON{}} {
		reply := "[[ ## answer ## ]]\n{" + ok + "}"
		if _, isJSON := a.(JSON); isJSON {
			reply = `{"answer": {` + ok + `}}`
		}
		vals, err := a.Parse(sig, reply)
		if err != nil {
			t.Fatalf("%T: %v", a, err)
		}
		out, err := signature.Decode[pathOut](vals)
		if err != nil {
			t.Fatalf("%T: Decode: %v", a, err)
		}
		want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		if out.Answer.Note != nil || !out.Answer.When.Equal(want) || out.Answer.Items[0].Name != "a" || out.Answer.Bags["x"][0] != 1 {
			t.Errorf("%T: decoded %+v", a, out)
		}
	}
}
