package lm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/lm/lmtest"
	"github.com/google/go-cmp/cmp"
)

// newTestAnthropic returns an Anthropic client with a recognisable key.
func newTestAnthropic(t *testing.T, cfg lm.AnthropicConfig) *lm.Anthropic {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	c, err := lm.NewAnthropic(cfg)
	if err != nil {
		t.Fatalf("NewAnthropic: %v", err)
	}
	return c
}

func TestAnthropicConformance(t *testing.T) {
	lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
		return newTestAnthropic(t, lm.AnthropicConfig{BaseURL: baseURL})
	}, lmtest.WithProtocol(lmtest.Anthropic))
}

func TestAnthropicConformanceWithoutCache(t *testing.T) {
	lmtest.Run(t, func(t *testing.T, baseURL string) lm.LM {
		return newTestAnthropic(t, lm.AnthropicConfig{BaseURL: baseURL, NoPromptCache: true})
	}, lmtest.WithProtocol(lmtest.Anthropic))
}

func TestNewAnthropicValidation(t *testing.T) {
	tests := []struct {
		name  string
		cfg   lm.AnthropicConfig
		field string
	}{
		{"malformed base URL", lm.AnthropicConfig{BaseURL: "http://[::1"}, "AnthropicConfig.BaseURL"},
		{"relative base URL", lm.AnthropicConfig{BaseURL: "localhost:8080"}, "AnthropicConfig.BaseURL"},
		{"base URL with query", lm.AnthropicConfig{BaseURL: "http://h/?a=1"}, "AnthropicConfig.BaseURL"},
		{"negative max tokens", lm.AnthropicConfig{MaxTokens: -1}, "AnthropicConfig.MaxTokens"},
		{"bad header name", lm.AnthropicConfig{Headers: map[string]string{"a b": "x"}}, "AnthropicConfig.Headers"},
		{"header with newline", lm.AnthropicConfig{Headers: map[string]string{"X-A": "x\ny"}}, "AnthropicConfig.Headers"},
		{"provider with spaces", lm.AnthropicConfig{Provider: " a"}, "AnthropicConfig.Provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lm.NewAnthropic(tt.cfg)
			var ce *lm.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("error %v, want a *ConfigError for %s", err, tt.field)
			}
		})
	}
}

// demoRequest is a DSPy-shaped prompt: system, one demo, the input.
func demoRequest() lm.Request {
	return lm.Request{Model: "claude-test", Messages: []lm.Message{
		{Role: lm.RoleSystem, Content: "Answer questions."},
		{Role: lm.RoleUser, Content: "demo question"},
		{Role: lm.RoleAssistant, Content: "demo answer"},
		{Role: lm.RoleUser, Content: "the question"},
	}}
}

func TestAnthropicPromptCacheMarks(t *testing.T) {
	tests := []struct {
		name    string
		noCache bool
		req     lm.Request
		// marks lists the marked blocks: "system" or the turn index.
		marks []string
	}{
		{name: "system and demos", req: demoRequest(), marks: []string{"system", "1"}},
		{name: "off", noCache: true, req: demoRequest()},
		{name: "no demos", req: lm.Request{Model: "m", Messages: []lm.Message{
			{Role: lm.RoleSystem, Content: "s"}, {Role: lm.RoleUser, Content: "q"}}}, marks: []string{"system"}},
		{name: "no system", req: lm.Request{Model: "m", Messages: []lm.Message{{Role: lm.RoleUser, Content: "q"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := lmtest.NewServer(nil)
			defer srv.Close()
			c := newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.RootURL(), NoPromptCache: tt.noCache})
			if _, err := c.Chat(t.Context(), tt.req); err != nil {
				t.Fatal(err)
			}
			a := srv.Calls()[0].Anthropic
			var got []string
			for _, b := range a.System {
				if b.CacheControl {
					got = append(got, "system")
				}
			}
			for i, m := range a.Messages {
				for _, b := range m.Content {
					if b.CacheControl {
						got = append(got, fmt.Sprint(i))
					}
				}
			}
			if diff := cmp.Diff(tt.marks, got); diff != "" {
				t.Errorf("cache_control marks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnthropicUsage(t *testing.T) {
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
		return lmtest.Script{Replies: []string{"ok"}, Usage: &lm.Usage{
			PromptTokens: 100, CompletionTokens: 5, CacheReadTokens: 60, CacheWriteTokens: 30}}
	})
	defer srv.Close()
	c := newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.RootURL()})
	resp, err := c.Chat(t.Context(), demoRequest())
	if err != nil {
		t.Fatal(err)
	}
	want := lm.Usage{PromptTokens: 100, CompletionTokens: 5, TotalTokens: 105, CacheReadTokens: 60, CacheWriteTokens: 30}
	if diff := cmp.Diff(want, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

func TestAnthropicBaseURLAndDefaults(t *testing.T) {
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	// The simulator's ".../v1" URL works as it is; the default model and
	// max_tokens apply.
	c := newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.URL(), Model: "claude-default", MaxTokens: 77})
	if _, err := c.Chat(t.Context(), lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	if call.Path != "/v1/messages" {
		t.Errorf("path %q, want /v1/messages", call.Path)
	}
	if call.Chat.Model != "claude-default" || *call.Chat.MaxTokens != 77 {
		t.Errorf("model %q max_tokens %d, want claude-default 77", call.Chat.Model, *call.Chat.MaxTokens)
	}
	if got := call.Header.Get("Authorization") + call.Header.Get("X-Api-Key"); !strings.Contains(got, testKey) {
		t.Errorf("the API key was not sent")
	}
}

func TestAnthropicKeyFromEnvironment(t *testing.T) {
	t.Setenv(lm.EnvAnthropicAPIKey, "sk-ant-from-env")
	srv := lmtest.NewServer(nil)
	defer srv.Close()
	c, err := lm.NewAnthropic(lm.AnthropicConfig{BaseURL: srv.RootURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(t.Context(), hello("m")); err != nil {
		t.Fatal(err)
	}
	h := srv.Calls()[0].Header
	if got := h.Get("Authorization") + h.Get("X-Api-Key"); !strings.Contains(got, "sk-ant-from-env") {
		t.Errorf("the key from %s was not sent: %v", lm.EnvAnthropicAPIKey, h)
	}
	if s := fmt.Sprintf("%v %#v", c, c); strings.Contains(s, "sk-ant-from-env") {
		t.Errorf("String reveals the key: %s", s)
	}
}

func TestAnthropicOverloaded(t *testing.T) {
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
		return lmtest.Script{Status: 529, Error: "Overloaded", RetryAfter: "4"}
	})
	defer srv.Close()
	c := newTestAnthropic(t, lm.AnthropicConfig{BaseURL: srv.RootURL()})
	_, err := c.Chat(t.Context(), hello("m"))
	var pe *lm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 529 || !pe.Retryable || pe.RetryAfter != 4*time.Second {
		t.Fatalf("error %#v, want a retryable 529 with RetryAfter 4s", err)
	}
	var ae *lm.AnthropicError
	if !errors.As(err, &ae) || ae.Type != "overloaded_error" || ae.Message != "Overloaded" {
		t.Errorf("error %v does not carry the API's overloaded_error", err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("the SDK retried on its own: %d calls", n)
	}
}

// TestOpenAICachedTokens: OpenAI's prompt_tokens_details.cached_tokens is
// reported as CacheReadTokens.
func TestOpenAICachedTokens(t *testing.T) {
	srv := lmtest.NewServer(func(lmtest.Call) lmtest.Script {
		return lmtest.Script{Usage: &lm.Usage{PromptTokens: 50, CompletionTokens: 2, TotalTokens: 52, CacheReadTokens: 32}}
	})
	defer srv.Close()
	resp, err := newTestOpenAI(t, lm.OpenAIConfig{BaseURL: srv.URL()}).Chat(t.Context(), hello("m"))
	if err != nil {
		t.Fatal(err)
	}
	want := lm.Usage{PromptTokens: 50, CompletionTokens: 2, TotalTokens: 52, CacheReadTokens: 32}
	if diff := cmp.Diff(want, resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}
