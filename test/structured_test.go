package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
)

// The output of a typed Predict with every rich type at once: a struct
// with a nested struct, a list of structs, an enum and an optional field.
type (
	stockSize struct {
		Width  float64 `json:"width" desc:"in metres"`
		Height float64 `json:"height"`
	}
	stockLine struct {
		Name string `json:"name" desc:"the product"`
		Qty  int    `json:"qty"`
	}
	stockReport struct {
		Size   stockSize   `json:"size" desc:"the warehouse's size"`
		Lines  []stockLine `json:"lines"`
		Status string      `json:"status" enum:"open,closed"`
		Note   *string     `json:"note"`
		Seen   time.Time   `json:"seen"`
	}
	stockIn struct {
		Question string `desc:"what to report on"`
	}
	stockOut struct {
		Report stockReport `desc:"the stock report"`
		Mood   Sentiment
		Count  *int
	}
)

// Sentiment is a named string enumeration.
type Sentiment string

// EnumValues lists the values of a Sentiment.
func (Sentiment) EnumValues() []string { return []string{"positive", "negative", "neutral"} }

// recordingTransport keeps the bodies of the requests it sends.
type recordingTransport struct {
	next   http.RoundTripper
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *recordingTransport) responseFormats(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		var body struct {
			ResponseFormat *struct {
				Type       string `json:"type"`
				JSONSchema *struct {
					Name   string          `json:"name"`
					Strict bool            `json:"strict"`
					Schema json.RawMessage `json:"schema"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		switch {
		case body.ResponseFormat == nil:
			out = append(out, "")
		case body.ResponseFormat.JSONSchema != nil:
			js := body.ResponseFormat.JSONSchema
			if js.Name != "DSPyProgramOutputs" || !js.Strict || !json.Valid(js.Schema) {
				t.Errorf("json_schema = %+v", js)
			}
			out = append(out, body.ResponseFormat.Type)
		default:
			out = append(out, body.ResponseFormat.Type)
		}
	}
	return out
}

// TestStructuredPredictOverHTTP runs a typed Predict whose output has a
// nested struct, a list of structs, an enum, optional fields and a time
// against the embedded model server over HTTP, with both adapters, with
// structured outputs on (the provider sends the signature's strict schema
// as response_format json_schema and the server honours it) and off (the
// server reads the schemas from the prompt's type notes).
func TestStructuredPredictOverHTTP(t *testing.T) {
	srv := rtSim(t)
	tests := []struct {
		name       string
		adapter    adapter.Adapter
		structured bool
		wantFormat string
	}{
		{"chat", adapter.Chat{}, false, ""},
		{"chat, provider with structured outputs", adapter.Chat{}, true, ""},
		{"json, json_object", adapter.JSON{}, false, "json_object"},
		{"json, structured outputs", adapter.JSON{}, true, "json_schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := &http.Transport{}
			t.Cleanup(base.CloseIdleConnections)
			rec := &recordingTransport{next: base}
			model, err := lm.NewOpenAI(lm.OpenAIConfig{
				BaseURL:           srv.URL(),
				APIKey:            "sk-structured-test",
				Model:             srv.Model(),
				HTTPClient:        &http.Client{Transport: rec},
				StructuredOutputs: tt.structured,
			})
			if err != nil {
				t.Fatal(err)
			}
			report, err := programs.NewPredict[stockIn, stockOut](programs.WithLM(model), programs.WithAdapter(tt.adapter))
			if err != nil {
				t.Fatal(err)
			}
			out, err := report.Call(context.Background(), stockIn{Question: "How is the Lyon warehouse stocked?"})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if !slices.Contains([]string{"open", "closed"}, out.Report.Status) {
				t.Errorf("status = %q, not one of the enum", out.Report.Status)
			}
			if !slices.Contains(Sentiment("").EnumValues(), string(out.Mood)) {
				t.Errorf("mood = %q, not one of the enum", out.Mood)
			}
			if len(out.Report.Lines) == 0 || out.Report.Lines[0].Name == "" {
				t.Errorf("lines = %+v, want at least one named line", out.Report.Lines)
			}
			if out.Report.Seen.IsZero() {
				t.Errorf("seen = %v, want a time", out.Report.Seen)
			}
			formats := rec.responseFormats(t)
			if len(formats) != 1 || formats[0] != tt.wantFormat {
				t.Errorf("response formats sent = %q, want [%q]", formats, tt.wantFormat)
			}
		})
	}
}

// TestStructuredOutputsFallBack runs the typed Predict with the JSON adapter
// and structured outputs on against an embedded server whose model refuses
// response formats, as DSPy's JSONAdapter meets a provider without
// structured outputs: refused json_schema, the adapter asks for a
// json_object; refused that too, for plain text, parsed all the same.
func TestStructuredOutputsFallBack(t *testing.T) {
	tests := []struct {
		name    string
		refused []string
		want    []string
	}{
		{"json_schema refused", []string{"json_schema"}, []string{"json_schema", "json_object"}},
		{"json_schema and json_object refused", []string{"json_schema", "json_object"}, []string{"json_schema", "json_object", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := rtSim(t, simlm.WithRefusedResponseFormats(tt.refused...))
			base := &http.Transport{}
			t.Cleanup(base.CloseIdleConnections)
			rec := &recordingTransport{next: base}
			model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), APIKey: "sk-fallback-test", Model: srv.Model(),
				HTTPClient: &http.Client{Transport: rec}, StructuredOutputs: true})
			if err != nil {
				t.Fatal(err)
			}
			report, err := programs.NewPredict[stockIn, stockOut](programs.WithLM(model), programs.WithAdapter(adapter.JSON{}))
			if err != nil {
				t.Fatal(err)
			}
			out, err := report.Call(context.Background(), stockIn{Question: "How is the Lyon warehouse stocked?"})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if !slices.Contains([]string{"open", "closed"}, out.Report.Status) || len(out.Report.Lines) == 0 {
				t.Errorf("report = %+v, want a parsed report", out.Report)
			}
			if got := rec.responseFormats(t); !slices.Equal(got, tt.want) {
				t.Errorf("response formats sent = %q, want %q", got, tt.want)
			}
		})
	}
}
