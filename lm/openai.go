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
	"slices"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Defaults of OpenAIConfig.
const (
	// DefaultOpenAIBaseURL is the base URL of the OpenAI API.
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	// DefaultOpenAIProvider is the provider name of an OpenAI client.
	DefaultOpenAIProvider = "openai"
	// DefaultAzureAPIVersion is the Azure OpenAI API version used when
	// OpenAIConfig.APIVersion is empty and APIType is APITypeAzure.
	DefaultAzureAPIVersion = "2024-10-21"
)

// APIType selects the dialect of an OpenAI-compatible endpoint.
type APIType string

// The API types of OpenAIConfig.
const (
	// APITypeOpenAI is the OpenAI API and every server that copies it
	// (Gemini's OpenAI-compatible endpoint, Ollama, vLLM, llama.cpp server,
	// LiteLLM, ...): Bearer authentication, model in the request body.
	APITypeOpenAI APIType = "openai"
	// APITypeAzure is Azure OpenAI: api-key authentication, the model names
	// a deployment in the URL path, and an api-version query parameter.
	APITypeAzure APIType = "azure"
)

// Environment variables that NewOpenAI reads when OpenAIConfig.APIKey is empty.
const (
	envOpenAIKey = "OPENAI_API_KEY"
	envAzureKey  = "AZURE_OPENAI_API_KEY"
)

// OpenAIConfig configures an OpenAI-compatible provider (see NewOpenAI).
// Zero fields take the defaults documented on each field.
type OpenAIConfig struct {
	// Provider names the provider in errors and metrics. Default "openai".
	Provider string
	// BaseURL is the API root to which endpoint paths such as
	// "/chat/completions" are appended. Default DefaultOpenAIBaseURL.
	// Examples: "http://localhost:11434/v1" (Ollama),
	// "http://localhost:8000/v1" (vLLM), "http://localhost:8080/v1"
	// (llama.cpp server),
	// "https://generativelanguage.googleapis.com/v1beta/openai" (Gemini),
	// "https://RESOURCE.openai.azure.com" (Azure, with APIType azure).
	// It must be an absolute http or https URL without query or fragment.
	BaseURL string
	// APIKey authenticates requests. When empty, NewOpenAI reads
	// OPENAI_API_KEY (AZURE_OPENAI_API_KEY for APITypeAzure) from the
	// environment; with no key at all, no Authorization header is sent,
	// which suits local servers. Azure requires a key. The key never
	// appears in errors or in the client's String.
	APIKey string
	// Organization is sent as the OpenAI-Organization header when set.
	Organization string
	// Model is the chat model used when Request.Model is empty. For Azure
	// it is the deployment name.
	Model string
	// EmbeddingModel is the model used by Embed when EmbedRequest.Model is
	// empty.
	EmbeddingModel string
	// Headers are extra HTTP headers set on every request; they replace
	// headers of the same name set by the client. Values of headers whose
	// names suggest credentials (containing "key", "token", "auth" or
	// "secret") are redacted from errors like the API key.
	Headers map[string]string
	// APIType is APITypeOpenAI (the default) or APITypeAzure.
	APIType APIType
	// APIVersion is sent as the api-version query parameter. Default
	// DefaultAzureAPIVersion for Azure; none otherwise.
	APIVersion string
	// MaxCompletionTokens sends Request.MaxTokens as max_completion_tokens
	// for every model. By default it is sent as max_tokens, which all
	// OpenAI-compatible servers understand, except for the OpenAI reasoning
	// models that reject it (o1, o3, o4, gpt-5 ... as go-openai knows them),
	// which get max_completion_tokens. Set it for reasoning models deployed
	// under other names (Azure deployments).
	MaxCompletionTokens bool
	// SendRolloutID sends a non-zero Request.RolloutID as
	// metadata.rollout_id, for servers that use it to vary otherwise
	// identical samples (the embedded simulator, simlm, does). Off by
	// default: real providers sample freshly at temperature > 0 anyway, and
	// some reject metadata without stored completions.
	SendRolloutID bool
	// StructuredOutputs says the server supports OpenAI's structured
	// outputs: a request for a JSON object that carries a Schema is sent as
	// response_format json_schema (strict as the schema asks) instead of
	// json_object. Leave it off for servers that only know json_object.
	StructuredOutputs bool
	// HTTPClient sends the requests. Default: a client without timeout;
	// bound requests with the context instead. It is not modified.
	HTTPClient *http.Client
	// MaxResponseBytes caps the size of a response body, enforced while it
	// is read: a longer reply fails with ErrResponseTooLarge. 0 means
	// DefaultMaxResponseBytes; negative means no cap.
	MaxResponseBytes int64
}

// DefaultMaxResponseBytes is the default cap on a provider's response
// body: far above any real completion, low enough that a broken or
// hostile server cannot exhaust memory.
const DefaultMaxResponseBytes = 8 << 20

// DefaultOpenAIConfig returns the configuration of the OpenAI API with no
// default model; the API key comes from OPENAI_API_KEY.
func DefaultOpenAIConfig() OpenAIConfig {
	return OpenAIConfig{
		Provider: DefaultOpenAIProvider,
		BaseURL:  DefaultOpenAIBaseURL,
		APIType:  APITypeOpenAI,
	}
}

// OpenAI is an LM and Embedder that talks to an OpenAI-compatible HTTP API
// through github.com/sashabaranov/go-openai. It does not retry, cache or
// rate-limit: the runtime layers those around it.
//
// An OpenAI is safe for concurrent use.
type OpenAI struct {
	provider            string
	baseURL             string // credentials removed, for String
	apiType             APIType
	model               string
	embeddingModel      string
	sendRolloutID       bool
	structuredOutputs   bool
	maxCompletionTokens bool
	client              *openai.Client
	redact              *redactor // behind a pointer: printing an OpenAI never shows a key
	now                 func() time.Time
}

var (
	_ InPlace  = (*OpenAI)(nil)
	_ Embedder = (*OpenAI)(nil)
)

// NewOpenAI returns a provider for the OpenAI-compatible API that cfg
// describes. It fails with a *ConfigError naming the first invalid field.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	cfg.Provider = cmp.Or(cfg.Provider, DefaultOpenAIProvider)
	cfg.BaseURL = cmp.Or(cfg.BaseURL, DefaultOpenAIBaseURL)
	cfg.APIType = cmp.Or(cfg.APIType, APITypeOpenAI)

	if strings.TrimSpace(cfg.Provider) != cfg.Provider || strings.ContainsFunc(cfg.Provider, isControl) {
		return nil, &ConfigError{Field: "OpenAIConfig.Provider", Reason: fmt.Sprintf("%q has surrounding spaces or control characters", cfg.Provider)}
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, &ConfigError{Field: "OpenAIConfig.BaseURL", Reason: "malformed URL"}
	}
	switch {
	case base.Scheme != "http" && base.Scheme != "https":
		return nil, &ConfigError{Field: "OpenAIConfig.BaseURL", Reason: fmt.Sprintf("%q is not an http or https URL", RedactURL(cfg.BaseURL))}
	case base.Host == "":
		return nil, &ConfigError{Field: "OpenAIConfig.BaseURL", Reason: fmt.Sprintf("%q has no host", RedactURL(cfg.BaseURL))}
	case base.RawQuery != "" || base.ForceQuery || base.Fragment != "":
		return nil, &ConfigError{Field: "OpenAIConfig.BaseURL", Reason: fmt.Sprintf("%q has a query or fragment; endpoint paths are appended to it", RedactURL(cfg.BaseURL))}
	}

	secrets := []string{cfg.APIKey}
	if pw, ok := base.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	headers := make(map[string]string, len(cfg.Headers))
	for name, value := range cfg.Headers {
		if !validHeaderName(name) {
			return nil, &ConfigError{Field: "OpenAIConfig.Headers", Reason: fmt.Sprintf("invalid header name %q", name)}
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, &ConfigError{Field: "OpenAIConfig.Headers", Reason: fmt.Sprintf("value of header %q contains a line break or NUL", name)}
		}
		headers[name] = value
		if sensitiveHeader(name) {
			secrets = append(secrets, value)
		}
	}

	var occ openai.ClientConfig
	switch cfg.APIType {
	case APITypeOpenAI:
		cfg.APIKey = cmp.Or(cfg.APIKey, os.Getenv(envOpenAIKey))
		occ = openai.DefaultConfig(cfg.APIKey)
		occ.APIVersion = cfg.APIVersion
	case APITypeAzure:
		cfg.APIKey = cmp.Or(cfg.APIKey, os.Getenv(envAzureKey))
		if cfg.APIKey == "" {
			return nil, &ConfigError{Field: "OpenAIConfig.APIKey", Reason: "required for the azure API type (or set " + envAzureKey + ")"}
		}
		occ = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		occ.APIVersion = cmp.Or(cfg.APIVersion, DefaultAzureAPIVersion)
		occ.AzureModelMapperFunc = func(model string) string { return model }
	default:
		return nil, &ConfigError{Field: "OpenAIConfig.APIType", Reason: fmt.Sprintf("%q is not %q or %q", cfg.APIType, APITypeOpenAI, APITypeAzure)}
	}
	secrets = append(secrets, cfg.APIKey)
	occ.BaseURL = cfg.BaseURL
	occ.OrgID = cfg.Organization
	maxBody := cmp.Or(cfg.MaxResponseBytes, DefaultMaxResponseBytes)
	occ.HTTPClient = &doer{client: cmp.Or(cfg.HTTPClient, &http.Client{}), headers: headers, maxBody: maxBody}

	return &OpenAI{
		provider:            cfg.Provider,
		baseURL:             RedactURL(cfg.BaseURL),
		apiType:             cfg.APIType,
		model:               cfg.Model,
		embeddingModel:      cfg.EmbeddingModel,
		sendRolloutID:       cfg.SendRolloutID,
		structuredOutputs:   cfg.StructuredOutputs,
		maxCompletionTokens: cfg.MaxCompletionTokens,
		client:              openai.NewClientWithConfig(occ),
		redact:              newRedactor(secrets...),
		now:                 time.Now,
	}, nil
}

// String describes the client without credentials.
func (c *OpenAI) String() string {
	return fmt.Sprintf("lm.OpenAI{provider: %q, base_url: %q, api_type: %q, model: %q}",
		c.provider, c.baseURL, c.apiType, c.model)
}

// GoString is String, so that %#v does not print credentials either.
func (c *OpenAI) GoString() string { return c.String() }

// errNoModel means neither the request nor the configuration names a model.
var errNoModel = errors.New("lm: no model: set the request's Model or the config's default")

// Chat sends req to the chat completions endpoint.
//
// Every error is a *ProviderError. Errors for HTTP statuses wrap go-openai's
// *openai.APIError or *openai.RequestError; a response without choices wraps
// ErrNoChoices; when ctx ends first the error matches ctx.Err() with
// errors.Is and is not retryable.
func (c *OpenAI) Chat(ctx context.Context, req Request) (Response, error) {
	var resp Response
	err := c.ChatInto(ctx, &req, &resp)
	return resp, err
}

// ChatInto is Chat by pointer (see InPlace).
func (c *OpenAI) ChatInto(ctx context.Context, req *Request, resp *Response) error {
	// This frame is on the caller's stack while the provider answers, so
	// it holds go-openai's request (by value, as go-openai takes it) and
	// reply once each and little else: the request is built on the heap
	// by newChatCall, and the reply goes straight from go-openai's call
	// to finish's arguments.
	call, creq, err := c.newChatCall(req)
	if err != nil {
		*resp = Response{}
		return err
	}
	to := replyTo{call: call, resp: resp}
	err = to.finish(c.client.CreateChatCompletion(context.WithValue(ctx, exchangeKey{}, &call.exchange), *creq))
	if call.sendErr != nil {
		*resp = Response{}
		return c.callError(ctx, call.model, &call.exchange, err)
	}
	return err
}

// chatCall is one chat call: its exchange, and what it needs to map the
// reply.
type chatCall struct {
	exchange
	c       *OpenAI
	model   string
	sendErr error // go-openai's error, when it gave one
}

// replyTo is where a chat call's reply goes. It is not part of chatCall,
// which is on the heap: that would move every caller's Response there.
type replyTo struct {
	call *chatCall
	resp *Response
}

// newChatCall maps req to a chat call and go-openai's request, or fails
// with the error ChatInto returns for a request it cannot send. Both are
// on the heap, not in ChatInto's frame; once go-openai has its copy of the
// request, nothing holds creq.
//
//go:noinline
func (c *OpenAI) newChatCall(req *Request) (call *chatCall, creq *openai.ChatCompletionRequest, err error) {
	model := cmp.Or(req.Model, c.model)
	if model == "" {
		return nil, nil, c.localError(model, errNoModel)
	}
	creq = new(openai.ChatCompletionRequest)
	set, err := c.chatRequest(model, req, creq)
	if err != nil {
		return nil, nil, c.localError(model, err)
	}
	return &chatCall{exchange: exchange{set: set}, c: c, model: model}, creq, nil
}

// finish maps go-openai's reply to *to.resp, or records err, go-openai's
// error, for ChatInto. Not inlined: ChatInto's frame would then hold the
// reply a second time.
//
//go:noinline
func (to *replyTo) finish(reply openai.ChatCompletionResponse, err error) error {
	if err != nil {
		to.call.sendErr = err
		return err
	}
	return to.call.c.response(to.call.model, &to.call.exchange, &reply, to.resp)
}

// response maps go-openai's reply to *to.
//
//go:noinline
func (c *OpenAI) response(model string, ex *exchange, resp *openai.ChatCompletionResponse, to *Response) error {
	if len(resp.Choices) == 0 {
		*to = Response{}
		return &ProviderError{Provider: c.provider, Model: model, Status: ex.status, Err: ErrNoChoices}
	}
	// The reply is this call's alone: its choices are sorted in place.
	choices := resp.Choices
	slices.SortStableFunc(choices, func(a, b openai.ChatCompletionChoice) int { return cmp.Compare(a.Index, b.Index) })
	*to = Response{
		ID:      resp.ID,
		Model:   resp.Model,
		Choices: make([]Choice, len(choices)),
		Usage:   usage(resp.Usage),
	}
	for i, ch := range choices {
		to.Choices[i] = Choice{
			Message:      Message{Role: Role(cmp.Or(ch.Message.Role, string(RoleAssistant))), Content: ch.Message.Content, ToolCalls: fromOpenAICalls(ch.Message.ToolCalls)},
			FinishReason: string(ch.FinishReason),
		}
	}
	return nil
}

// chatRequest maps req to go-openai's request, written to creq. set lists
// body fields that go-openai cannot express and the HTTP layer must set.
func (c *OpenAI) chatRequest(model string, req *Request, creq *openai.ChatCompletionRequest) (set map[string]json.RawMessage, err error) {
	*creq = openai.ChatCompletionRequest{
		Model:    model,
		Messages: make([]openai.ChatCompletionMessage, len(req.Messages)),
		Stop:     slices.Clone(req.Stop),
	}
	if err := checkTools(*req); err != nil {
		return nil, err
	}
	for i, m := range req.Messages {
		if len(m.Parts) > 0 {
			parts, err := openAIParts(m.Parts)
			if err != nil {
				return nil, fmt.Errorf("lm: message %d: %w", i, err)
			}
			creq.Messages[i] = openai.ChatCompletionMessage{Role: string(m.Role), MultiContent: parts, ToolCallID: m.ToolCallID}
		} else {
			creq.Messages[i] = openai.ChatCompletionMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		}
		for _, tc := range m.ToolCalls {
			creq.Messages[i].ToolCalls = append(creq.Messages[i].ToolCalls, openai.ToolCall{
				ID: tc.ID, Type: openai.ToolTypeFunction, Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
	}
	creq.Tools, creq.ToolChoice = openAITools(*req)
	if t := req.Temperature; t != nil {
		if math.IsNaN(*t) || math.IsInf(*t, 0) {
			return nil, fmt.Errorf("lm: Request.Temperature %v is not a finite number", *t)
		}
		creq.Temperature = float32(*t)
		if creq.Temperature == 0 {
			// go-openai drops a zero temperature (omitempty), which would
			// leave the provider's default (often 1). Send it explicitly.
			raw, err := json.Marshal(*t)
			if err != nil {
				return nil, fmt.Errorf("lm: Request.Temperature: %w", err)
			}
			set = map[string]json.RawMessage{"temperature": raw}
		}
	}
	switch {
	case req.MaxTokens < 0:
		return nil, fmt.Errorf("lm: Request.MaxTokens %d is negative", req.MaxTokens)
	case req.MaxTokens > 0 && (c.maxCompletionTokens || rejectsMaxTokens(model)):
		creq.MaxCompletionTokens = req.MaxTokens
	default:
		creq.MaxTokens = req.MaxTokens
	}
	if req.N < 0 {
		return nil, fmt.Errorf("lm: Request.N %d is negative", req.N)
	}
	creq.N = req.N
	if req.Seed != nil {
		creq.Seed = Int(*req.Seed)
	}
	if c.sendRolloutID && req.RolloutID != 0 {
		creq.Metadata = map[string]string{"rollout_id": strconv.Itoa(req.RolloutID)}
	}
	switch req.ResponseFormat {
	case FormatText:
	case FormatJSON:
		creq.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
		if s := req.Schema; s != nil && c.structuredOutputs {
			if !json.Valid(s.Schema) {
				return nil, fmt.Errorf("lm: Request.Schema %q is not valid JSON", s.Name)
			}
			creq.ResponseFormat = &openai.ChatCompletionResponseFormat{
				Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: s.Name, Schema: s.Schema, Strict: s.Strict},
			}
		}
	default:
		return nil, fmt.Errorf("lm: Request.ResponseFormat %q is not supported", req.ResponseFormat)
	}
	return set, nil
}

// openAITools maps the request's tools and tool choice to go-openai's.
func openAITools(req Request) ([]openai.Tool, any) {
	if len(req.Tools) == 0 {
		return nil, nil
	}
	tools := make([]openai.Tool, len(req.Tools))
	for i, t := range req.Tools {
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		tools[i] = openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: t.Name, Description: t.Description, Parameters: params,
		}}
	}
	var choice any
	switch {
	case req.ToolChoice == "":
	case req.ToolChoice.named():
		choice = openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: string(req.ToolChoice)}}
	default:
		choice = string(req.ToolChoice)
	}
	return tools, choice
}

// fromOpenAICalls maps the tool calls of a reply.
func fromOpenAICalls(calls []openai.ToolCall) []ToolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]ToolCall, len(calls))
	for i, c := range calls {
		out[i] = ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments}
	}
	return out
}

// rejectsMaxTokens reports whether go-openai knows model as a reasoning
// model that only accepts max_completion_tokens.
func rejectsMaxTokens(model string) bool {
	err := openai.NewReasoningValidator().Validate(openai.ChatCompletionRequest{Model: model, MaxTokens: 1})
	return errors.Is(err, openai.ErrReasoningModelMaxTokensDeprecated)
}

// Embed returns the embeddings of req.Inputs from the embeddings endpoint.
// Errors are as for Chat.
func (c *OpenAI) Embed(ctx context.Context, req EmbedRequest) (EmbedResponse, error) {
	model := cmp.Or(req.Model, c.embeddingModel)
	if model == "" {
		return EmbedResponse{}, c.localError(model, errNoModel)
	}
	if len(req.Inputs) == 0 {
		return EmbedResponse{Model: model, Vectors: [][]float32{}}, nil
	}
	ex := &exchange{}
	resp, err := c.client.CreateEmbeddings(context.WithValue(ctx, exchangeKey{}, ex), openai.EmbeddingRequest{
		Input: slices.Clone(req.Inputs),
		Model: openai.EmbeddingModel(model),
	})
	if err != nil {
		return EmbedResponse{}, c.callError(ctx, model, ex, err)
	}
	vectors := make([][]float32, len(req.Inputs))
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(vectors) || vectors[d.Index] != nil {
			return EmbedResponse{}, &ProviderError{Provider: c.provider, Model: model, Status: ex.status,
				Err: fmt.Errorf("lm: embeddings response has a bad or repeated index %d for %d inputs", d.Index, len(vectors))}
		}
		vectors[d.Index] = d.Embedding
	}
	if len(resp.Data) != len(vectors) {
		return EmbedResponse{}, &ProviderError{Provider: c.provider, Model: model, Status: ex.status,
			Err: fmt.Errorf("lm: embeddings response has %d vectors for %d inputs", len(resp.Data), len(vectors))}
	}
	return EmbedResponse{Model: string(resp.Model), Vectors: vectors, Usage: usage(resp.Usage)}, nil
}

// localError is a failure before anything was sent.
func (c *OpenAI) localError(model string, err error) *ProviderError {
	return &ProviderError{Provider: c.provider, Model: model, Err: c.redact.error(err)}
}

// callError classifies a failed go-openai call.
func (c *OpenAI) callError(ctx context.Context, model string, ex *exchange, err error) *ProviderError {
	pe := &ProviderError{Provider: c.provider, Model: model, Status: ex.status}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	statusErr := false
	switch {
	case errors.As(err, &apiErr):
		pe.Status, statusErr = cmp.Or(pe.Status, apiErr.HTTPStatusCode), true
	case errors.As(err, &reqErr):
		pe.Status, statusErr = cmp.Or(pe.Status, reqErr.HTTPStatusCode), true
	}
	switch {
	case ex.tooLarge != nil:
		// Not retryable: the same request would likely get as long a reply.
		err = ex.tooLarge
	case statusErr && pe.Status >= 400:
		pe.Retryable = RetryableStatus(pe.Status)
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
		// The error body could not be read.
		pe.Retryable = RetryableStatus(pe.Status)
	case !ex.sent:
		// Rejected before sending (go-openai's request validation).
	default:
		// A success status whose body could not be read or decoded: a
		// broken connection is worth retrying, malformed JSON is not.
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		pe.Retryable = !errors.As(err, &syntaxErr) && !errors.As(err, &typeErr)
	}
	if pe.Status >= 400 && ex.header != nil {
		pe.RetryAfter = parseRetryAfter(ex.header, c.now())
	}
	pe.Err = c.redact.error(err)
	return pe
}

func usage(u openai.Usage) Usage {
	out := Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CacheReadTokens = d.CachedTokens
	}
	return out
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// sensitiveHeader reports whether a header's value is likely a credential.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "key") || strings.Contains(n, "token") ||
		strings.Contains(n, "auth") || strings.Contains(n, "secret") || strings.Contains(n, "cookie")
}
