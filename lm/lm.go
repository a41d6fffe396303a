package lm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Role is the author of a chat message.
type Role string

// The chat roles of the OpenAI API.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one chat message.
//
// Content is the message's text. A message that carries images also has
// Parts (text and image parts in order), which providers send instead of
// Content; Content then holds the same text with a short placeholder for
// each image (see PartsText), for logs, rate limits and readers that only
// know text. ToolCalls and ToolCallID are for native tool calling; zero,
// the message is plain text as before.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
	// Parts, when not empty, is the message's content as parts (OpenAI's
	// content array, Anthropic's content blocks).
	Parts []ContentPart `json:"parts,omitempty"`
	// ToolCalls are the tools an assistant message calls.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID, on a RoleTool message, names the call whose result
	// Content is.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Format asks the provider for a response format.
type Format string

// Response formats. FormatText is the provider's default.
const (
	FormatText Format = ""
	FormatJSON Format = "json_object"
)

// Request is one chat completion request.
//
// Zero values mean "the provider's default", except where noted.
type Request struct {
	// Model names the model within the provider (e.g. "gpt-4o-mini").
	// Empty means the LM's configured default model.
	Model string
	// Messages is the conversation, oldest first.
	Messages []Message
	// Temperature is the sampling temperature; nil means the default.
	Temperature *float64
	// MaxTokens caps the completion length; 0 means the default.
	MaxTokens int
	// N is the number of choices to generate; 0 means 1.
	N int
	// Stop lists sequences at which generation stops.
	Stop []string
	// Seed asks the provider for deterministic sampling when it supports it.
	Seed *int
	// ResponseFormat asks for plain text or a JSON object.
	ResponseFormat Format
	// Schema, with ResponseFormat FormatJSON, is the JSON schema the object
	// must follow. Providers configured for structured outputs send it
	// (OpenAI's response_format json_schema); others ask for a plain JSON
	// object and ignore it. The JSON adapter sets it from the signature's
	// outputs.
	Schema *ResponseSchema
	// RolloutID distinguishes otherwise identical requests that must not share
	// a cached response (DSPy's rollout_id). It is not sent to the provider.
	RolloutID int
	// NoCache bypasses any response cache for this request.
	NoCache bool
	// Tools are the functions the model may call (native tool calling).
	// None: a plain chat request.
	Tools []ToolDef
	// ToolChoice tells the model whether it must call one of Tools.
	ToolChoice ToolChoice
}

// ResponseSchema is the JSON schema of a structured-outputs request.
type ResponseSchema struct {
	// Name names the schema (OpenAI requires one): the JSON adapter uses
	// DSPy's "DSPyProgramOutputs".
	Name string
	// Schema is the JSON schema itself.
	Schema json.RawMessage
	// Strict asks the provider to follow the schema exactly.
	Strict bool
}

// Float returns a pointer to v, for Request.Temperature.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for Request.Seed.
func Int(v int) *int { return &v }

// Usage counts the tokens of a request.
//
// PromptTokens counts every input token, those read from or written to the
// provider's prompt cache included; CacheReadTokens and CacheWriteTokens
// tell how many of them were, for providers that report it (OpenAI's
// cached_tokens, Anthropic's cache_read_input_tokens and
// cache_creation_input_tokens).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// CacheReadTokens counts the prompt tokens read from the provider's
	// prompt cache (billed at the cached price).
	CacheReadTokens int `json:"cache_read_tokens,omitempty"`
	// CacheWriteTokens counts the prompt tokens written to the provider's
	// prompt cache (Anthropic bills them at a premium).
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
		CacheReadTokens:  u.CacheReadTokens + v.CacheReadTokens,
		CacheWriteTokens: u.CacheWriteTokens + v.CacheWriteTokens,
	}
}

// Choice is one generated completion.
type Choice struct {
	// Message is the assistant's reply.
	Message Message
	// FinishReason is why generation stopped ("stop", "length", ...).
	FinishReason string
}

// Response is the result of a chat completion request.
type Response struct {
	// ID is the provider's identifier for the completion.
	ID string
	// Model is the model that answered, as the provider reports it.
	Model string
	// Choices holds the generated completions; at least one on success.
	Choices []Choice
	// Usage counts the tokens used.
	Usage Usage
	// Cached reports that the response came from a cache, not the provider.
	Cached bool
	// Attempts is the number of provider requests made for this response,
	// retries included; 0 when unknown or served from a cache.
	Attempts int
}

// LM is a language model that completes chats.
//
// Implementations must be safe for concurrent use.
type LM interface {
	Chat(ctx context.Context, req Request) (Response, error)
}

// An InPlace LM can also take its request and write its response by
// pointer. ChatInto is Chat with the request read from *req, which it
// neither changes nor keeps, and the response written to *resp: the one
// Chat would return with the same error.
//
// Calls deep on a goroutine's stack go through it (see InPlaceOf): the
// caller's frames then hold no copy of the request or the response while
// the provider answers.
type InPlace interface {
	LM
	ChatInto(ctx context.Context, req *Request, resp *Response) error
}

// InPlaceOf returns m as an InPlace: m itself when it is one, else one
// whose ChatInto calls m.Chat.
func InPlaceOf(m LM) InPlace {
	if p, ok := m.(InPlace); ok {
		return p
	}
	return byValue{m}
}

// byValue is an LM that has only Chat, as an InPlace.
type byValue struct{ LM }

// ChatInto calls Chat.
func (b byValue) ChatInto(ctx context.Context, req *Request, resp *Response) error {
	var err error
	*resp, err = b.Chat(ctx, *req)
	return err
}

// Func adapts a function to the LM interface.
type Func func(ctx context.Context, req Request) (Response, error)

// Chat calls f.
func (f Func) Chat(ctx context.Context, req Request) (Response, error) { return f(ctx, req) }

// Sentinel errors that callers branch on. They are matched with errors.Is,
// usually through a *ProviderError that wraps them.
var (
	// ErrNoLM means a program was run without a language model.
	ErrNoLM = errors.New("lm: no language model configured")
	// ErrNoChoices means the provider answered without any completion.
	ErrNoChoices = errors.New("lm: response has no choices")
	// ErrCircuitOpen means a circuit breaker rejected the request without
	// sending it, because the provider has been failing.
	ErrCircuitOpen = errors.New("lm: circuit breaker open")
	// ErrRateLimited means the provider (HTTP 429) or a local rate limiter
	// refused the request.
	ErrRateLimited = errors.New("lm: rate limited")
	// ErrResponseTooLarge means the provider's reply passed the size cap
	// (OpenAIConfig.MaxResponseBytes); reading stopped there.
	ErrResponseTooLarge = errors.New("lm: response too large")
)

// ProviderError is a failed request to an LM provider.
type ProviderError struct {
	// Provider names the provider (e.g. "openai").
	Provider string
	// Model is the requested model, when known.
	Model string
	// Status is the HTTP status code, or 0 when no response was received.
	Status int
	// Retryable reports whether the same request may succeed if sent again
	// (network errors, 408, 409, 429 and 5xx).
	Retryable bool
	// RetryAfter is the delay the provider asked for (Retry-After), or 0.
	RetryAfter time.Duration
	// Err is the underlying cause.
	Err error
}

// Error implements error. It never includes credentials.
func (e *ProviderError) Error() string {
	msg := "lm: provider " + e.Provider
	if e.Model != "" {
		msg += " model " + e.Model
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *ProviderError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRateLimited) true for HTTP 429.
func (e *ProviderError) Is(target error) bool {
	return target == ErrRateLimited && e.Status == 429
}

// CircuitOpenError is a request that a circuit breaker refused without
// sending it. errors.Is(err, ErrCircuitOpen) is true for it, and it unwraps
// to the failure that opened the breaker, so errors.As finds that
// failure's *ProviderError (its status, its message).
type CircuitOpenError struct {
	// Provider and Model name the client whose breaker is open.
	Provider, Model string
	// Cause is the failed request that opened the breaker; nil when not
	// known.
	Cause error
}

// Error implements error.
func (e *CircuitOpenError) Error() string {
	msg := ErrCircuitOpen.Error() + " for " + e.Provider
	if e.Model != "" {
		msg += "/" + e.Model
	}
	if e.Cause != nil {
		msg += " (opened by: " + e.Cause.Error() + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrCircuitOpen) true.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// Unwrap returns the failure that opened the breaker.
func (e *CircuitOpenError) Unwrap() error { return e.Cause }

// IsRetryable reports whether err is worth retrying: a retryable
// *ProviderError anywhere in its chain. Context cancellation and a refusal
// by an open circuit breaker are never retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrCircuitOpen) {
		return false
	}
	var pe *ProviderError
	return errors.As(err, &pe) && pe.Retryable
}

// RetryableStatus reports whether an HTTP status is worth retrying.
func RetryableStatus(status int) bool {
	return status == 408 || status == 409 || status == 429 || status >= 500
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries m as the default LM for
// programs run with it.
func NewContext(ctx context.Context, m LM) context.Context {
	return context.WithValue(ctx, ctxKey{}, m)
}

// FromContext returns the LM carried by ctx, if any.
func FromContext(ctx context.Context) (LM, bool) {
	m, ok := ctx.Value(ctxKey{}).(LM)
	return m, ok && m != nil
}
