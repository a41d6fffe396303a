package programs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/programs"
)

type searchArgs struct {
	Query   string             `json:"query" desc:"what to look for"`
	Limit   int                `json:"limit,omitempty" desc:"at most this many results"`
	Sort    string             `json:"sort,omitempty" enum:"relevance, date"`
	Tags    []string           `json:"tags,omitempty"`
	Filter  *searchFilter      `json:"filter"`
	Weights map[string]float64 `json:"weights,omitempty"`
	Exact   bool               `json:"exact,omitempty"`
	skip    int
}

type searchFilter struct {
	Site string `json:"site"`
}

func searchTool(t *testing.T) (programs.Tool, *searchArgs) {
	t.Helper()
	var got searchArgs
	tool, err := programs.NewTool("search", "Searches the web.", func(_ context.Context, a searchArgs) ([]string, error) {
		got = a
		return []string{"result for " + a.Query}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tool, &got
}

func TestToolSchema(t *testing.T) {
	tool, _ := searchTool(t)
	// pydantic's schema of the arguments (package schema), nested structs
	// under $defs, keys sorted by encoding/json.
	want := `{"$defs":{"searchFilter":{"properties":{"site":{"title":"Site","type":"string"}},"required":["site"],"title":"searchFilter","type":"object"}},` +
		`"properties":{"exact":{"default":false,"title":"Exact","type":"boolean"},"filter":{"anyOf":[{"$ref":"#/$defs/searchFilter"},{"type":"null"}],"default":null,"title":"Filter"},` +
		`"limit":{"default":0,"description":"at most this many results","title":"Limit","type":"integer"},` +
		`"query":{"description":"what to look for","title":"Query","type":"string"},` +
		`"sort":{"default":null,"enum":["relevance","date"],"title":"Sort","type":"string"},` +
		`"tags":{"default":[],"items":{"type":"string"},"title":"Tags","type":"array"},` +
		`"weights":{"additionalProperties":{"type":"number"},"default":{},"title":"Weights","type":"object"}},` +
		`"required":["query"],"title":"searchArgs","type":"object"}`
	if got := string(tool.Schema()); got != want {
		t.Errorf("schema:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(tool.Schema()) {
		t.Error("schema is not valid JSON")
	}
}

func TestToolCall(t *testing.T) {
	tool, got := searchTool(t)
	obs, err := tool.Call(context.Background(), map[string]any{
		"query": "go generics", "limit": 3.0, "sort": "date", "tags": []any{"lang"},
		"filter": map[string]any{"site": "go.dev"}, "weights": map[string]any{"title": 2.5}, "exact": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if obs != `["result for go generics"]` {
		t.Errorf("observation = %q", obs)
	}
	want := searchArgs{Query: "go generics", Limit: 3, Sort: "date", Tags: []string{"lang"},
		Filter: &searchFilter{Site: "go.dev"}, Weights: map[string]float64{"title": 2.5}, Exact: true}
	if diff := cmp.Diff(want, *got, cmp.AllowUnexported(searchArgs{})); diff != "" {
		t.Errorf("arguments (-want +got):\n%s", diff)
	}
}

func TestToolCallInvalidArgs(t *testing.T) {
	tool, _ := searchTool(t)
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"missing", map[string]any{}, `the arguments: missing property 'query'`},
		{"null", map[string]any{"query": nil}, `argument "query": got null, want string`},
		{"wrong type", map[string]any{"query": 7.0}, `argument "query": got number, want string`},
		{"fraction", map[string]any{"query": "x", "limit": 2.5}, `argument "limit": got number, want integer`},
		{"enum", map[string]any{"query": "x", "sort": "random"}, `argument "sort": value must be one of 'relevance', 'date'`},
		{"unknown", map[string]any{"query": "x", "page": 2.0}, `unknown argument "page"`},
		{"nested", map[string]any{"query": "x", "filter": map[string]any{}}, `argument "filter": missing property 'site'`},
		{"element", map[string]any{"query": "x", "tags": []any{"a", 1.0}}, `argument "tags[1]": got number, want string`},
		{"not an object", map[string]any{"query": "x", "filter": "go.dev"}, `argument "filter": got string, want object`},
		// As in DSPy (jsonschema.validate), values are not converted.
		{"string for a bool", map[string]any{"query": "x", "exact": "true"}, `argument "exact": got string, want boolean`},
		{"dict value", map[string]any{"query": "x", "weights": map[string]any{"title": "2.5"}}, `argument "weights.title": got string, want number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tool.Call(context.Background(), tt.args)
			if !errors.Is(err, programs.ErrInvalidArgs) {
				t.Fatalf("Call: %v, want ErrInvalidArgs", err)
			}
			var te *programs.ToolError
			if !errors.As(err, &te) || te.Tool != "search" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Call: %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestToolCallFailures(t *testing.T) {
	boom := errors.New("backend down")
	failing := programs.MustTool("fail", "", func(context.Context, struct{}) (string, error) { return "", boom })
	if _, err := failing.Call(context.Background(), nil); !errors.Is(err, boom) || err.Error() != "tool fail: backend down" {
		t.Errorf("Call: %v", err)
	}
	panicking := programs.MustTool("explode", "", func(context.Context, struct{}) (string, error) { panic("kaboom") })
	if _, err := panicking.Call(context.Background(), nil); !errors.Is(err, programs.ErrToolPanic) || !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("Call: %v", err)
	}
	if _, err := (programs.Tool{}).Call(context.Background(), nil); err == nil {
		t.Error("zero Tool: no error")
	}
}

func TestNewToolErrors(t *testing.T) {
	ok := func(context.Context, searchArgs) (string, error) { return "", nil }
	for name, f := range map[string]func() error{
		"bad name": func() error { _, err := programs.NewTool("two words", "", ok); return err },
		"finish":   func() error { _, err := programs.NewTool("finish", "", ok); return err },
		"nil func": func() error {
			_, err := programs.NewTool[searchArgs, string]("x", "", nil)
			return err
		},
		"not a struct": func() error {
			_, err := programs.NewTool("x", "", func(context.Context, string) (string, error) { return "", nil })
			return err
		},
		"channel": func() error {
			_, err := programs.NewTool("x", "", func(context.Context, struct{ C chan int }) (string, error) { return "", nil })
			return err
		},
		"enum on int": func() error {
			_, err := programs.NewTool("x", "", func(context.Context, struct {
				N int `enum:"1,2"`
			}) (string, error) {
				return "", nil
			})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzToolArgs feeds arbitrary JSON arguments to a tool: Call must either
// run the tool with valid arguments or return ErrInvalidArgs, never panic.
func FuzzToolArgs(f *testing.F) {
	for _, s := range []string{`{"query": "x"}`, `{"query": 1}`, `{"query": "x", "limit": "3", "tags": [1]}`,
		`{"query": "x", "filter": {"site": null}}`, `{"query": "x", "weights": {"a": "NaN"}}`, `{"query": "x", "limit": 1e300}`} {
		f.Add(s)
	}
	tool, err := programs.NewTool("search", "", func(_ context.Context, a searchArgs) (string, error) { return a.Query, nil })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args map[string]any
		if json.Unmarshal([]byte(s), &args) != nil {
			return
		}
		obs, err := tool.Call(context.Background(), args)
		if err != nil {
			if !errors.Is(err, programs.ErrInvalidArgs) {
				t.Fatalf("Call(%s): %v, want ErrInvalidArgs", s, err)
			}
			return
		}
		if obs != args["query"] {
			t.Fatalf("Call(%s) = %q", s, obs)
		}
	})
}
