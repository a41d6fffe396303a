package lm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
	openai "github.com/sashabaranov/go-openai"

	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Main(m)
}

const testKey = "sk-test-SECRET-0123456789abcdef"

// newTestOpenAI returns an OpenAI client for baseURL with a recognisable key.
func newTestOpenAI(t *testing.T, cfg lm.OpenAIConfig) *lm.OpenAI {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	c, err := lm.NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return c
}

func TestOpenAIConformance(t *testing.T) {
	lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
		return newTestOpenAI(t, lm.OpenAIConfig{BaseURL: baseURL})
	})
}

func TestOpenAIAzureConformance(t *testing.T) {
	lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
		return newTestOpenAI(t, lm.OpenAIConfig{BaseURL: strings.TrimSuffix(baseURL, "/v1"), APIType: lm.APITypeAzure})
	})
}

func hello(model string) lm.Request {
	return lm.Request{Model: model, Messages: []lm.Message{{Role: lm.RoleUser, Content: "hello"}}}
}

func TestNewOpenAIValidation(t *testing.T) {
	tests := []struct {
		name  string
		cfg   lm.OpenAIConfig
		field string
	}{
		{"malformed base URL", lm.OpenAIConfig{BaseURL: "http://[::1"}, "OpenAIConfig.BaseURL"},
		{"relative base URL", lm.OpenAIConfig{BaseURL: "localhost:11434/v1"}, "OpenAIConfig.BaseURL"},
		{"ftp base URL", lm.OpenAIConfig{BaseURL: "ftp://example.com/v1"}, "OpenAIConfig.BaseURL"},
		{"base URL without host", lm.OpenAIConfig{BaseURL: "http:///v1"}, "OpenAIConfig.BaseURL"},
		{"base URL with query", lm.OpenAIConfig{BaseURL: "https://example.com/v1?key=x"}, "OpenAIConfig.BaseURL"},
		{"unknown API type", lm.OpenAIConfig{APIType: "anthropic"}, "OpenAIConfig.APIType"},
		{"bad header name", lm.OpenAIConfig{Headers: map[string]string{"X Bad": "v"}}, "OpenAIConfig.Headers"},
		{"header injection", lm.OpenAIConfig{Headers: map[string]string{"X-Ok": "v\r\nEvil: 1"}}, "OpenAIConfig.Headers"},
		{"provider with newline", lm.OpenAIConfig{Provider: "open\nai"}, "OpenAIConfig.Provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.APIKey = testKey
			c, err := lm.NewOpenAI(tt.cfg)
			var ce *lm.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("NewOpenAI = %v, %v; want a *lm.ConfigError", c, err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", ce.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	t.Run("azure without key", func(t *testing.T) {
		t.Setenv("AZURE_OPENAI_API_KEY", "")
		_, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: "https://res.openai.azure.com", APIType: lm.APITypeAzure})
		var ce *lm.ConfigError
		if !errors.As(err, &ce) || ce.Field != "OpenAIConfig.APIKey" {
			t.Errorf("NewOpenAI = %v, want a ConfigError for APIKey", err)
		}
	})
	t.Run("base URL password not echoed", func(t *testing.T) {
		_, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: "ftp://user:hunter2pass@example.com/v1"})
		if err == nil || strings.Contains(err.Error(), "hunter2pass") {
			t.Errorf("NewOpenAI error = %v, want an error without the password", err)
		}
	})
}

func TestOpenAIAPIKeyFromEnvironment(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "sk-from-env-42")
	c, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(t.Context(), hello("")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Calls()[0].Header.Get("Authorization"); got != "Bearer sk-from-env-42" {
		t.Errorf("Authorization = %q, want the key from OPENAI_API_KEY", got)
	}
}

func TestOpenAINoKey(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	t.Setenv("OPENAI_API_KEY", "")
	c, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: "llama3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(t.Context(), hello("")); err != nil {
		t.Fatal(err)
	}
	if h := srv.Calls()[0].Header; h.Get("Authorization") != "" || h.Get("Api-Key") != "" {
		t.Errorf("credentials sent without a key: %v", h)
	}
}

func TestOpenAIHeadersModelAndOrganization(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{
		BaseURL:      srv.URL() + "/", // a trailing slash is fine
		Model:        "default-model",
		Organization: "org-7",
		Headers:      map[string]string{"x-custom": "one", "X-Goog-Api-Key": "goog-secret-99"},
	})
	if _, err := c.Chat(t.Context(), hello("")); err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	if call.Path != "/v1/chat/completions" {
		t.Errorf("path = %q", call.Path)
	}
	if call.Chat.Model != "default-model" {
		t.Errorf("model = %q, want the configured default", call.Chat.Model)
	}
	for name, want := range map[string]string{
		"Authorization":       "Bearer " + testKey,
		"OpenAI-Organization": "org-7",
		"X-Custom":            "one",
		"X-Goog-Api-Key":      "goog-secret-99",
	} {
		if got := call.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	// A secret-looking extra header is redacted from errors like the key.
	srv.SetHandler(func(c lmtest.Call) lmtest.Script {
		return lmtest.Script{Status: 403, Error: "bad key " + c.Header.Get("X-Goog-Api-Key")}
	})
	_, err := c.Chat(t.Context(), hello(""))
	if err == nil || strings.Contains(err.Error(), "goog-secret-99") {
		t.Errorf("error = %v, want one without the header's secret", err)
	}
}

func TestOpenAIAzureRequest(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.RootURL(), APIType: lm.APITypeAzure, Model: "my-gpt4o.deployment"})
	if _, err := c.Chat(t.Context(), hello("")); err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	if want := "/openai/deployments/my-gpt4o.deployment/chat/completions"; call.Path != want {
		t.Errorf("path = %q, want %q", call.Path, want)
	}
	if got := call.Query.Get("api-version"); got != lm.DefaultAzureAPIVersion {
		t.Errorf("api-version = %q, want %q", got, lm.DefaultAzureAPIVersion)
	}
	if got := call.Header.Get("Api-Key"); got != testKey {
		t.Errorf("api-key header = %q", got)
	}
	if got := call.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none for Azure", got)
	}
}

func TestOpenAIMaxTokensField(t *testing.T) {
	tests := []struct {
		name           string
		model          string
		alwaysNewField bool
		wantCompletion bool
	}{
		{"compatible server", "llama3.1:8b", false, false},
		{"gpt-4o", "gpt-4o-mini", false, false},
		{"reasoning model", "o3-mini", false, true},
		{"forced", "my-azure-o1", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := lmtest.NewServer(nil)
			defer srv.Close()
			c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL(), MaxCompletionTokens: tt.alwaysNewField})
			req := hello(tt.model)
			req.MaxTokens = 99
			if _, err := c.Chat(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			got := srv.Calls()[0].Chat
			field := got.MaxTokens
			if tt.wantCompletion {
				field = got.MaxCompletionTokens
			}
			if field == nil || *field != 99 || (got.MaxTokens != nil && got.MaxCompletionTokens != nil) {
				t.Errorf("max_tokens = %v, max_completion_tokens = %v; want only the %v one = 99",
					got.MaxTokens, got.MaxCompletionTokens, map[bool]string{true: "completion", false: "classic"}[tt.wantCompletion])
			}
		})
	}
}

func TestOpenAILocalErrors(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL()})
	tests := []struct {
		name string
		req  lm.Request
	}{
		{"no model", hello("")},
		{"negative max tokens", lm.Request{Model: "m", MaxTokens: -1}},
		{"negative n", lm.Request{Model: "m", N: -2}},
		{"unknown format", lm.Request{Model: "m", ResponseFormat: "yaml"}},
		{"NaN temperature", lm.Request{Model: "m", Temperature: lm.Float(nan())}},
		{"go-openai validation", lm.Request{Model: "o1-mini", N: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Chat(t.Context(), tt.req)
			var pe *lm.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ProviderError", err)
			}
			if pe.Retryable || pe.Status != 0 {
				t.Errorf("Retryable = %v, Status = %d; want false, 0", pe.Retryable, pe.Status)
			}
		})
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("server received %d calls, want none", n)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestOpenAIErrorsUnwrapToGoOpenAI(t *testing.T) {
	srv := lmtest.NewServer(func(c lmtest.Call) lmtest.Script {
		return lmtest.Script{Status: 401, Error: "Incorrect API key provided: " + c.Header.Get("Authorization")}
	})
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL()})
	_, err := c.Chat(t.Context(), hello("m"))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v does not unwrap to *openai.APIError", err)
	}
	if apiErr.HTTPStatusCode != 401 || strings.Contains(apiErr.Error(), testKey) {
		t.Errorf("APIError = %v (status %d), want 401 without the key", apiErr, apiErr.HTTPStatusCode)
	}
	if !strings.Contains(err.Error(), "Bearer [REDACTED]") {
		t.Errorf("error %q does not show where the key was redacted", err)
	}
}

func TestOpenAIHTTPClientTimeoutIsRetryable(t *testing.T) {
	never := make(chan struct{})
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script { return lmtest.Script{Wait: never} })
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL(), HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	_, err := c.Chat(t.Context(), hello("m"))
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || !pe.Retryable || !lm.IsRetryable(err) {
		t.Fatalf("error %v: want a retryable ProviderError", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("client timeout %v looks like the caller's deadline", err)
	}
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("error %v does not report a timeout", err)
	}
}

func TestOpenAIEmbedDefaults(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL(), EmbeddingModel: "text-embedding-3-small"})
	got, err := c.Embed(t.Context(), lm.EmbedRequest{Inputs: []string{"a b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "text-embedding-3-small" || len(got.Vectors) != 2 || got.Usage.PromptTokens != 3 {
		t.Errorf("Embed = %+v", got)
	}
	for i, in := range []string{"a b", "c"} {
		if fmt.Sprint(got.Vectors[i]) != fmt.Sprint(lmtest.Vector(in)) {
			t.Errorf("vector %d = %v, want %v", i, got.Vectors[i], lmtest.Vector(in))
		}
	}
	empty, err := c.Embed(t.Context(), lm.EmbedRequest{})
	if err != nil || len(empty.Vectors) != 0 {
		t.Errorf("Embed of nothing = %+v, %v", empty, err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("server received %d calls, want 1", n)
	}

	t.Run("missing vector", func(t *testing.T) {
		srv.SetHandler(func(lmtest.Call) lmtest.Script { return lmtest.Script{Vectors: [][]float32{{1}}} })
		_, err := c.Embed(t.Context(), lm.EmbedRequest{Inputs: []string{"a", "b"}})
		var pe *lm.ProviderError
		if !errors.As(err, &pe) || pe.Retryable {
			t.Errorf("error %v, want a non-retryable ProviderError", err)
		}
	})
	t.Run("no model", func(t *testing.T) {
		c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL()})
		if _, err := c.Embed(t.Context(), lm.EmbedRequest{Inputs: []string{"a"}}); err == nil {
			t.Error("Embed without a model succeeded")
		}
	})
}

func TestOpenAIString(t *testing.T) {
	c := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: "https://user:pw-secret@example.com/v1", Model: "gpt-4o-mini"})
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", *c)} {
		if strings.Contains(s, testKey) || strings.Contains(s, "pw-secret") {
			t.Errorf("%q reveals a credential", s)
		}
	}
	if !strings.Contains(c.String(), "gpt-4o-mini") || !strings.Contains(c.String(), "openai") {
		t.Errorf("String() = %q, want the provider and model", c.String())
	}
}
