package adapter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dspex-go/dspex/lm"
)

// TestResponseFormatFallback: after a provider's 400 naming
// response_format, structured outputs fall back to a JSON object and that
// to text; other errors, and requests with nothing weaker, do not.
func TestResponseFormatFallback(t *testing.T) {
	refused := &lm.ProviderError{Provider: "openai", Status: 400,
		Err: errors.New("Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.")}
	schema := &lm.ResponseSchema{Name: "DSPyProgramOutputs", Schema: []byte(`{"type":"object"}`), Strict: true}
	tests := []struct {
		name       string
		req        lm.Request
		err        error
		ok         bool
		wantFormat lm.Format
		wantSchema bool
	}{
		{"json_schema refused", lm.Request{ResponseFormat: lm.FormatJSON, Schema: schema}, refused, true, lm.FormatJSON, false},
		{"json_object refused", lm.Request{ResponseFormat: lm.FormatJSON}, refused, true, lm.FormatText, false},
		{"wrapped refusal", lm.Request{ResponseFormat: lm.FormatJSON, Schema: schema}, fmt.Errorf("call: %w", refused), true, lm.FormatJSON, false},
		{"text has nothing weaker", lm.Request{ResponseFormat: lm.FormatText}, refused, false, lm.FormatText, false},
		{"no error", lm.Request{ResponseFormat: lm.FormatJSON, Schema: schema}, nil, false, lm.FormatJSON, true},
		{"other 400", lm.Request{ResponseFormat: lm.FormatJSON, Schema: schema},
			&lm.ProviderError{Provider: "openai", Status: 400, Err: errors.New("context_length_exceeded")}, false, lm.FormatJSON, true},
		{"500 naming response_format", lm.Request{ResponseFormat: lm.FormatJSON, Schema: schema},
			&lm.ProviderError{Provider: "openai", Status: 500, Err: errors.New("response_format backend down")}, false, lm.FormatJSON, true},
		{"not a provider error", lm.Request{ResponseFormat: lm.FormatJSON}, errors.New("response_format"), false, lm.FormatJSON, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := responseFormatFallback(tt.req, tt.err)
			if ok != tt.ok || got.ResponseFormat != tt.wantFormat || (got.Schema != nil) != tt.wantSchema {
				t.Errorf("got (%q, schema %v, %v), want (%q, schema %v, %v)",
					got.ResponseFormat, got.Schema != nil, ok, tt.wantFormat, tt.wantSchema, tt.ok)
			}
		})
	}
}
