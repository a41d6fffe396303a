package lm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// Defaults of AnthropicConfig.
const (
	// DefaultAnthropicBaseURL is the root of the Anthropic API.
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	// DefaultAnthropicProvider is the provider name of an Anthropic client.
	DefaultAnthropicProvider = "anthropic"
	// DefaultAnthropicMaxTokens is the max_tokens sent when neither the
	// request nor the configuration sets one: the Messages API requires it.
	DefaultAnthropicMaxTokens = 4096
	// EnvAnthropicAPIKey is the environment variable NewAnthropic reads when
	// AnthropicConfig.APIKey is empty.
	EnvAnthropicAPIKey = "ANTHROPIC_API_KEY"
)

// anthropicTimeout is the per-attempt timeout given to the SDK, which
// otherwise refuses large max_tokens without streaming. The runtime bounds
// each attempt with the caller's context instead.
const anthropicTimeout = time.Hour

// AnthropicConfig configures a provider for Anthropic's Messages API (see
// NewAnthropic). Zero fields take the defaults documented on each field.
type AnthropicConfig struct {
	// Provider names the provider in errors and metrics. Default
	// "anthropic".
	Provider string
	// BaseURL is the API root; "/v1/messages" is appended to it. Default
	// DefaultAnthropicBaseURL. A trailing "/v1" is accepted and dropped,
	// so the embedded simulator's URL works as it is. It must be an
	// absolute http or https URL without query or fragment.
	BaseURL string
	// APIKey authenticates requests. When empty, NewAnthropic reads
	// ANTHROPIC_API_KEY; with no key at all no credential is sent, which
	// suits local servers. The key never appears in errors or in the
	// client's String.
	APIKey string
	// Model is the model used when Request.Model is empty (e.g.
	// "claude-sonnet-4-5").
	Model string
	// MaxTokens is the max_tokens sent when Request.MaxTokens is 0.
	// Default DefaultAnthropicMaxTokens.
	MaxTokens int
	// NoPromptCache turns prompt caching off. By default the repeated
	// prefix of a DSPy prompt — the system message, and the demos before
	// the last user message — is marked with cache_control, so repeated
	// calls of a program read it from Anthropic's prompt cache; Usage
	// reports the cached tokens.
	NoPromptCache bool
	// Headers are extra HTTP headers set on every request; they replace
	// headers of the same name set by the client. Values of headers whose
	// names suggest credentials are redacted from errors like the API key.
	Headers map[string]string
	// HTTPClient sends the requests. Default: a client without timeout;
	// bound requests with the context instead. It is not modified.
	HTTPClient *http.Client
}

// Anthropic is an LM that talks to Anthropic's Messages API through the
// official SDK (github.com/anthropics/anthropic-sdk-go/v2). It does not
// retry, cache or rate-limit: the runtime layers those around it. The
// Messages API has no embeddings, so Anthropic is not an Embedder.
//
// The Messages API returns one completion per call: a Request with N > 1 is
// sent N times, one after the other, and the choices and usage combined.
// Temperatures above 1 (the API's maximum) are sent as 1. Seed and
// ResponseFormat have no equivalent and are not sent.
//
// An Anthropic is safe for concurrent use.
type Anthropic struct {
	provider  string
	baseURL   string // credentials removed, for String
	model     string
	maxTokens int
	cache     bool
	client    anthropic.Client
	redact    *redactor
	now       func() time.Time
}

var _ InPlace = (*Anthropic)(nil)

// NewAnthropic returns a provider for the Anthropic Messages API that cfg
// describes. It fails with a *ConfigError naming the first invalid field.
func NewAnthropic(cfg AnthropicConfig) (*Anthropic, error) {
	cfg.Provider = cmp.Or(cfg.Provider, DefaultAnthropicProvider)
	cfg.BaseURL = cmp.Or(cfg.BaseURL, DefaultAnthropicBaseURL)
	if strings.TrimSpace(cfg.Provider) != cfg.Provider || strings.ContainsFunc(cfg.Provider, isControl) {
		return nil, &ConfigError{Field: "AnthropicConfig.Provider", Reason: fmt.Sprintf("%q has surrounding spaces or control characters", cfg.Provider)}
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, &ConfigError{Field: "AnthropicConfig.BaseURL", Reason: "malformed URL"}
	}
	switch {
	case base.Scheme != "http" && base.Scheme != "https":
		return nil, &ConfigError{Field: "AnthropicConfig.BaseURL", Reason: fmt.Sprintf("%q is not an http or https URL", base.Redacted())}
	case base.Host == "":
		return nil, &ConfigError{Field: "AnthropicConfig.BaseURL", Reason: fmt.Sprintf("%q has no host", base.Redacted())}
	case base.RawQuery != "" || base.ForceQuery || base.Fragment != "":
		return nil, &ConfigError{Field: "AnthropicConfig.BaseURL", Reason: fmt.Sprintf("%q has a query or fragment; endpoint paths are appended to it", base.Redacted())}
	}
	if cfg.MaxTokens < 0 {
		return nil, &ConfigError{Field: "AnthropicConfig.MaxTokens", Reason: fmt.Sprintf("%d is negative", cfg.MaxTokens)}
	}
	root := *base
	root.Path = strings.TrimSuffix(strings.TrimSuffix(root.Path, "/"), "/v1") + "/"
	root.RawPath = ""

	cfg.APIKey = cmp.Or(cfg.APIKey, os.Getenv(EnvAnthropicAPIKey))
	secrets := []string{cfg.APIKey}
	if pw, ok := base.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	headers := make(map[string]string, len(cfg.Headers))
	for name, value := range cfg.Headers {
		if !validHeaderName(name) {
			return nil, &ConfigError{Field: "AnthropicConfig.Headers", Reason: fmt.Sprintf("invalid header name %q", name)}
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, &ConfigError{Field: "AnthropicConfig.Headers", Reason: fmt.Sprintf("value of header %q contains a line break or NUL", name)}
		}
		headers[name] = value
		if sensitiveHeader(name) {
			secrets = append(secrets, value)
		}
	}
	opts := []option.RequestOption{
		// The configuration is resolved here: the SDK reads nothing from
		// the environment (ANTHROPIC_BASE_URL, profiles, ...).
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(root.String()),
		option.WithHTTPClient(&doer{client: cmp.Or(cfg.HTTPClient, &http.Client{}), headers: headers}),
		// The runtime retries, with its own budget and backoff.
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	return &Anthropic{
		provider:  cfg.Provider,
		baseURL:   base.Redacted(),
		model:     cfg.Model,
		maxTokens: cmp.Or(cfg.MaxTokens, DefaultAnthropicMaxTokens),
		cache:     !cfg.NoPromptCache,
		client:    anthropic.NewClient(opts...),
		redact:    newRedactor(secrets...),
		now:       time.Now,
	}, nil
}

// String describes the client without credentials.
func (c *Anthropic) String() string {
	return fmt.Sprintf("lm.Anthropic{provider: %q, base_url: %q, model: %q, prompt_cache: %t}",
		c.provider, c.baseURL, c.model, c.cache)
}

// GoString is String, so that %#v does not print credentials either.
func (c *Anthropic) GoString() string { return c.String() }

// Chat sends req to the Messages API.
//
// Every error is a *ProviderError: HTTP 429 (rate_limit_error) and 529
// (overloaded_error) are retryable with the provider's Retry-After, like
// 408, 409 and other 5xx; a reply without text or tool calls wraps
// ErrNoChoices; when ctx
// ends first the error matches ctx.Err() with errors.Is and is not
// retryable.
func (c *Anthropic) Chat(ctx context.Context, req Request) (Response, error) {
	var resp Response
	err := c.ChatInto(ctx, &req, &resp)
	return resp, err
}

// ChatInto is Chat by pointer (see InPlace).
func (c *Anthropic) ChatInto(ctx context.Context, req *Request, resp *Response) error {
	// This frame is on the caller's stack while the provider answers: it
	// holds the SDK's request (by value, as the SDK takes it) and little
	// else; building it, on the heap, and reading the reply are helpers
	// of their own.
	*resp = Response{}
	model, params, opts, err := c.newParams(req)
	if err != nil {
		return err
	}
	for i := range max(req.N, 1) {
		ex := &exchange{}
		msg, err := c.client.Messages.New(context.WithValue(ctx, exchangeKey{}, ex), *params, opts...)
		if err != nil {
			*resp = Response{}
			return c.callError(ctx, model, ex, err)
		}
		if err := c.add(resp, i, model, ex, msg); err != nil {
			*resp = Response{}
			return err
		}
	}
	return nil
}

// newParams maps req to the model it goes to and the SDK's parameters and
// options, or fails with the error ChatInto returns for a request it
// cannot send.
//
//go:noinline
func (c *Anthropic) newParams(req *Request) (model string, params *anthropic.MessageNewParams, opts []option.RequestOption, err error) {
	model = cmp.Or(req.Model, c.model)
	if model == "" {
		return "", nil, nil, c.localError(model, errNoModel)
	}
	params = new(anthropic.MessageNewParams)
	if opts, err = c.params(model, req, params); err != nil {
		return "", nil, nil, c.localError(model, err)
	}
	return model, params, opts, nil
}

// add adds the reply msg to Messages API call i to out.
//
//go:noinline
func (c *Anthropic) add(out *Response, i int, model string, ex *exchange, msg *anthropic.Message) error {
	var text strings.Builder
	var calls []ToolCall
	found := false
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
			found = true
		case "tool_use":
			calls = append(calls, ToolCall{ID: b.ID, Name: b.Name, Arguments: string(b.Input)})
			found = true
		}
	}
	if !found {
		return &ProviderError{Provider: c.provider, Model: model, Status: ex.status, Err: ErrNoChoices}
	}
	if i == 0 {
		out.ID, out.Model = msg.ID, string(msg.Model)
	}
	u := msg.Usage
	prompt := int(u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens)
	out.Choices = append(out.Choices, Choice{
		Message:      Message{Role: RoleAssistant, Content: text.String(), ToolCalls: calls},
		FinishReason: finishReason(msg.StopReason),
	})
	out.Usage = out.Usage.Add(Usage{
		PromptTokens:     prompt,
		CompletionTokens: int(u.OutputTokens),
		TotalTokens:      prompt + int(u.OutputTokens),
		CacheReadTokens:  int(u.CacheReadInputTokens),
		CacheWriteTokens: int(u.CacheCreationInputTokens),
	})
	return nil
}

// finishReason maps Anthropic's stop_reason to the OpenAI finish reasons
// that the rest of dspex knows.
func finishReason(r anthropic.StopReason) string {
	switch r {
	case anthropic.StopReasonEndTurn, anthropic.StopReasonStopSequence, "":
		return "stop"
	case anthropic.StopReasonMaxTokens, anthropic.StopReasonModelContextWindowExceeded:
		return "length"
	case anthropic.StopReasonToolUse:
		return "tool_calls"
	case anthropic.StopReasonRefusal:
		return "content_filter"
	default:
		return string(r)
	}
}

// params maps req to the SDK's parameters, written to p. Options carry
// the fields the SDK cannot express.
func (c *Anthropic) params(model string, req *Request, p *anthropic.MessageNewParams) ([]option.RequestOption, error) {
	*p = anthropic.MessageNewParams{Model: anthropic.Model(model)}
	opts := []option.RequestOption{option.WithRequestTimeout(anthropicTimeout)}
	switch {
	case req.MaxTokens < 0:
		return nil, fmt.Errorf("lm: Request.MaxTokens %d is negative", req.MaxTokens)
	case req.MaxTokens > 0:
		p.MaxTokens = int64(req.MaxTokens)
	default:
		p.MaxTokens = int64(c.maxTokens)
	}
	if req.N < 0 {
		return nil, fmt.Errorf("lm: Request.N %d is negative", req.N)
	}
	if t := req.Temperature; t != nil {
		if math.IsNaN(*t) || math.IsInf(*t, 0) {
			return nil, fmt.Errorf("lm: Request.Temperature %v is not a finite number", *t)
		}
		// This SDK version has no temperature field; the API still takes
		// one in [0, 1].
		opts = append(opts, option.WithJSONSet("temperature", min(max(*t, 0), 1)))
	}
	switch req.ResponseFormat {
	case FormatText, FormatJSON:
		// No JSON mode: the JSON adapter's prompt asks for JSON anyway.
	default:
		return nil, fmt.Errorf("lm: Request.ResponseFormat %q is not supported", req.ResponseFormat)
	}
	if len(req.Stop) > 0 {
		p.StopSequences = append([]string(nil), req.Stop...)
	}
	var turns []Message
	for _, m := range req.Messages {
		if m.Role == RoleSystem {
			p.System = append(p.System, anthropic.TextBlockParam{Text: m.Content})
			continue
		}
		turns = append(turns, m)
	}
	if c.cache && len(p.System) > 0 {
		p.System[len(p.System)-1].CacheControl = anthropic.NewCacheControlEphemeralParam()
	}
	if err := checkTools(*req); err != nil {
		return nil, err
	}
	for i, m := range turns {
		content, err := anthropicBlocks(m)
		if err != nil {
			return nil, fmt.Errorf("lm: message %d: %w", i, err)
		}
		// The turns before the last one are the demos (and earlier
		// turns of a conversation): the end of the repeated prefix.
		if c.cache && len(turns) > 1 && i == len(turns)-2 {
			if cc := content[len(content)-1].GetCacheControl(); cc != nil {
				*cc = anthropic.NewCacheControlEphemeralParam()
			}
		}
		switch m.Role {
		case RoleUser, RoleTool:
			// Tool results are tool_result blocks of a user turn; the
			// results of one assistant turn's calls share a turn.
			if n := len(p.Messages); m.Role == RoleTool && n > 0 && turns[i-1].Role == RoleTool {
				u := p.Messages[n-1].OfUser
				u.Content = append(u.Content, content...)
				continue
			}
			p.Messages = append(p.Messages, anthropic.NewUserMessage(content...))
		case RoleAssistant:
			p.Messages = append(p.Messages, anthropic.NewAssistantMessage(content...))
		default:
			return nil, fmt.Errorf("lm: message role %q is not supported by the Messages API", m.Role)
		}
	}
	tools, choice, err := anthropicTools(*req)
	if err != nil {
		return nil, err
	}
	p.Tools, p.ToolChoice = tools, choice
	return opts, nil
}

// anthropicBlocks is the content of one turn: its text, then its tool
// calls as tool_use blocks; a tool result is one tool_result block.
func anthropicBlocks(m Message) ([]anthropic.ContentBlockParamUnion, error) {
	if m.Role == RoleTool {
		return []anthropic.ContentBlockParamUnion{anthropic.NewToolResultBlock(m.ToolCallID, m.Content, false)}, nil
	}
	var content []anthropic.ContentBlockParamUnion
	switch {
	case len(m.Parts) > 0:
		blocks, err := anthropicPartBlocks(m.Parts)
		if err != nil {
			return nil, err
		}
		content = blocks
	case m.Content != "" || len(m.ToolCalls) == 0:
		content = append(content, anthropic.ContentBlockParamUnion{OfText: &anthropic.TextBlockParam{Text: m.Content}})
	}
	for _, tc := range m.ToolCalls {
		input, err := argumentsObject(tc)
		if err != nil {
			return nil, err
		}
		content = append(content, anthropic.NewToolUseBlock(tc.ID, input, tc.Name))
	}
	return content, nil
}

// anthropicTools maps the request's tools to custom tools, their JSON
// schema split into the SDK's input_schema fields, and the tool choice
// (ToolChoiceRequired is Anthropic's "any").
func anthropicTools(req Request) ([]anthropic.ToolUnionParam, anthropic.ToolChoiceUnionParam, error) {
	var choice anthropic.ToolChoiceUnionParam
	if len(req.Tools) == 0 {
		return nil, choice, nil
	}
	tools := make([]anthropic.ToolUnionParam, len(req.Tools))
	for i, t := range req.Tools {
		var schema anthropic.ToolInputSchemaParam
		if len(t.Parameters) > 0 {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(t.Parameters, &fields); err != nil {
				return nil, choice, fmt.Errorf("lm: Request.Tools[%d] (%s): %w", i, t.Name, err)
			}
			for k, v := range fields {
				switch k {
				case "type":
				case "properties":
					schema.Properties = v
				case "required":
					if err := json.Unmarshal(v, &schema.Required); err != nil {
						return nil, choice, fmt.Errorf("lm: Request.Tools[%d] (%s): required: %w", i, t.Name, err)
					}
				default:
					if schema.ExtraFields == nil {
						schema.ExtraFields = map[string]any{}
					}
					schema.ExtraFields[k] = v
				}
			}
		}
		if schema.Properties == nil {
			schema.Properties = map[string]any{}
		}
		tool := anthropic.ToolParam{Name: t.Name, InputSchema: schema}
		if t.Description != "" {
			tool.Description = anthropic.String(t.Description)
		}
		tools[i] = anthropic.ToolUnionParam{OfTool: &tool}
	}
	switch req.ToolChoice {
	case "":
	case ToolChoiceAuto:
		choice.OfAuto = &anthropic.ToolChoiceAutoParam{}
	case ToolChoiceRequired:
		choice.OfAny = &anthropic.ToolChoiceAnyParam{}
	case ToolChoiceNone:
		none := anthropic.NewToolChoiceNoneParam()
		choice.OfNone = &none
	default:
		choice = anthropic.ToolChoiceParamOfTool(string(req.ToolChoice))
	}
	return tools, choice, nil
}

// localError is a failure before anything was sent.
func (c *Anthropic) localError(model string, err error) *ProviderError {
	return &ProviderError{Provider: c.provider, Model: model, Err: c.redact.error(err)}
}

// AnthropicError is an error answer of the Anthropic API, such as
// {"type": "error", "error": {"type": "overloaded_error", "message": ...}}.
// Its message has credentials removed.
type AnthropicError struct {
	// Type is the error type ("rate_limit_error", "overloaded_error",
	// "invalid_request_error", ...), or "" when the body had none.
	Type string
	// Message is the error message, or the HTTP status text.
	Message string
	// RequestID is the request-id response header, when sent.
	RequestID string
}

// Error implements error.
func (e *AnthropicError) Error() string {
	msg := "anthropic"
	if e.Type != "" {
		msg += " " + e.Type
	}
	msg += ": " + e.Message
	if e.RequestID != "" {
		msg += " (request " + e.RequestID + ")"
	}
	return msg
}

// callError classifies a failed SDK call. The SDK's own error values hold
// the request (and its credentials), so they are replaced by an
// *AnthropicError rather than wrapped.
func (c *Anthropic) callError(ctx context.Context, model string, ex *exchange, err error) *ProviderError {
	pe := &ProviderError{Provider: c.provider, Model: model, Status: ex.status}
	var apiErr *anthropic.Error
	switch {
	case errors.As(err, &apiErr):
		pe.Status = cmp.Or(pe.Status, apiErr.StatusCode)
		pe.Retryable = RetryableStatus(pe.Status)
		msg := apiErr.Message
		if msg == "" {
			msg = strings.TrimSpace(apiErr.RawJSON())
			if msg == "" || len(msg) > 512 {
				msg = http.StatusText(pe.Status)
			}
		}
		err = &AnthropicError{Type: string(apiErr.Type()), Message: c.redact.string(msg), RequestID: apiErr.RequestID}
	case ctx.Err() != nil:
		// The caller gave up; whatever the HTTP layer says, report that.
		if !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	case ex.transportErr != nil:
		pe.Retryable = true
		if errors.Is(err, context.DeadlineExceeded) {
			err = &networkError{err: err}
		}
	case pe.Status >= 400:
		pe.Retryable = RetryableStatus(pe.Status)
	case !ex.sent:
		// Rejected before sending.
	default:
		// A success status whose body could not be read or decoded.
		var syntaxErr *json.SyntaxError
		pe.Retryable = !errors.As(err, &syntaxErr)
	}
	if pe.Status >= 400 && ex.header != nil {
		pe.RetryAfter = parseRetryAfter(ex.header, c.now())
	}
	pe.Err = c.redact.error(err)
	return pe
}
