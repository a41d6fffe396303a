package lmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dspex-go/dspex/lm"
)

// Server is a fake OpenAI-compatible API on 127.0.0.1. It implements
// POST .../chat/completions and POST .../embeddings (any path prefix, so
// Azure's /openai/deployments/NAME/... paths work too), and Anthropic's
// POST .../v1/messages, records every call, and answers each as its Handler
// scripts (a Messages API call gets one reply, Anthropic-shaped errors and
// usage with the cache token counts of Script.Usage).
//
// By default a chat completion echoes the last user message in every
// choice and embeddings are derived from the input bytes; usage counts
// whitespace-separated words. A Server is safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	done chan struct{}

	mu      sync.Mutex
	handler Handler
	calls   []Call
	seq     int

	closeOnce sync.Once
}

// Handler chooses how the Server answers a call. It runs on the server's
// goroutine for that request and must be safe for concurrent use.
type Handler func(c Call) Script

// Script scripts the Server's answer to one call. The zero Script is a
// successful default answer.
type Script struct {
	// Status is the HTTP status; 0 means 200. A status of 400 or more gets
	// an OpenAI error body ({"error": {"message": ...}}).
	Status int
	// Error is the message of an error body; default the status text.
	Error string
	// Body, when non-empty, is sent verbatim instead of the JSON answer
	// (with Status), e.g. an HTML error page from a proxy.
	Body string
	// Header holds extra response headers.
	Header http.Header
	// RetryAfter, when non-empty, is sent as the Retry-After header.
	RetryAfter string

	// Replies are the contents of the chat choices, one choice each. When
	// empty, the Server makes n choices (the request's n, default 1) that
	// echo the last user message.
	Replies []string
	// FinishReasons are the choices' finish reasons; missing ones are "stop".
	FinishReasons []string
	// ToolCalls are the first choice's tool calls: OpenAI tool_calls, or
	// Anthropic tool_use blocks after the text (stop_reason "tool_use"
	// unless FinishReasons says otherwise). Arguments must be a JSON
	// object for Anthropic.
	ToolCalls []lm.ToolCall
	// NoChoices answers with an empty choices list.
	NoChoices bool
	// ID is the completion's id; default "chatcmpl-N" with a sequence number.
	ID string
	// Model is the model reported back; default the requested model.
	Model string
	// Usage is the reported usage; nil means counted (words).
	Usage *lm.Usage

	// Vectors are the embeddings, one per input; nil means derived from
	// the inputs.
	Vectors [][]float32
	// ReverseData lists the embeddings last input first (each with its
	// index), as the API allows.
	ReverseData bool

	// Delay postpones the answer; the wait ends early if the client goes
	// away or the Server closes.
	Delay time.Duration
	// Wait, when non-nil, postpones the answer until it is closed, the
	// client goes away or the Server closes.
	Wait <-chan struct{}
	// Hangup closes the connection without answering (a network error).
	Hangup bool
}

// Call is one request received by a Server.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path (e.g. "/v1/chat/completions").
	Path string
	// Query holds the URL query (Azure's api-version).
	Query url.Values
	// Header holds the request headers, credentials included.
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Fields holds the body's top-level JSON fields, to check which were sent.
	Fields map[string]json.RawMessage
	// Chat is the decoded chat completion request, or nil.
	Chat *ChatRequest
	// Embed is the decoded embeddings request, or nil.
	Embed *EmbedRequest
	// Anthropic is the decoded Anthropic Messages API request, or nil. Its
	// Chat view is set too: the system blocks first, as system messages.
	Anthropic *AnthropicRequest
}

// ChatRequest is a chat completion request as the Server decoded it.
// Pointer fields are nil when the field was not sent.
type ChatRequest struct {
	// Model is the requested model.
	Model string
	// Messages is the conversation.
	Messages []lm.Message
	// Temperature is the sampling temperature.
	Temperature *float64
	// MaxTokens is max_tokens.
	MaxTokens *int
	// MaxCompletionTokens is max_completion_tokens.
	MaxCompletionTokens *int
	// N is the number of choices asked for.
	N *int
	// Stop holds the stop sequences (a single string is one sequence).
	Stop []string
	// Seed is the sampling seed.
	Seed *int
	// ResponseFormat is the response_format type ("json_object", ...), or "".
	ResponseFormat string
	// Tools are the tools offered (native tool calling), their schemas as
	// sent (OpenAI parameters, Anthropic input_schema).
	Tools []lm.ToolDef
	// ToolChoice is the tool_choice as sent (raw JSON), or nil.
	ToolChoice json.RawMessage
}

// EmbedRequest is an embeddings request as the Server decoded it.
type EmbedRequest struct {
	// Model is the requested embedding model.
	Model string
	// Input holds the texts to embed (a single string is one text).
	Input []string
}

// NewServer starts a Server on 127.0.0.1 that answers with h (nil means
// always the zero Script). Close it when done.
func NewServer(h Handler) *Server {
	s := &Server{done: make(chan struct{}), handler: h}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL returns the base URL to configure a client with, ending in "/v1".
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// RootURL returns the server's root URL, without "/v1" (for Azure-style
// clients that build their own paths).
func (s *Server) RootURL() string { return s.srv.URL }

// SetHandler replaces the Handler for subsequent calls.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Calls returns the calls received so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Close releases waiting answers, stops the Server and waits for its
// handlers to return. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	kind := ""
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		kind = "chat"
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		kind = "embeddings"
	case strings.HasSuffix(r.URL.Path, "/messages"):
		kind = "messages"
	default:
		writeError(w, http.StatusNotFound, "unknown endpoint "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if err := json.Unmarshal(body, &c.Fields); err != nil {
		writeError(w, http.StatusBadRequest, "body is not a JSON object: "+err.Error())
		return
	}
	switch kind {
	case "chat":
		c.Chat, err = decodeChat(body)
	case "messages":
		c.Anthropic, c.Chat, err = decodeMessages(body)
	default:
		c.Embed, err = decodeEmbed(body)
	}
	if err != nil {
		if kind == "messages" {
			writeAnthropicError(w, http.StatusBadRequest, err.Error())
		} else {
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return
	}

	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.seq++
	seq, h := s.seq, s.handler
	s.mu.Unlock()

	var sc Script
	if h != nil {
		sc = h(c)
	}
	if !s.wait(r, sc) {
		hangup(w)
		return
	}
	if sc.Hangup {
		hangup(w)
		return
	}
	for name, values := range sc.Header {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	if sc.RetryAfter != "" {
		w.Header().Set("Retry-After", sc.RetryAfter)
	}
	status := sc.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case sc.Body != "":
		w.WriteHeader(status)
		_, _ = io.WriteString(w, sc.Body)
	case status >= 400 && kind == "messages":
		writeAnthropicError(w, status, sc.Error)
	case status >= 400:
		writeError(w, status, sc.Error)
	case kind == "messages":
		writeJSON(w, status, messagesResponse(c.Chat, sc, seq))
	case kind == "chat":
		writeJSON(w, status, chatResponse(c.Chat, sc, seq))
	default:
		writeJSON(w, status, embedResponse(c.Embed, sc))
	}
}

// wait applies the Script's delays. It reports false when the client went
// away or the Server closed.
func (s *Server) wait(r *http.Request, sc Script) bool {
	if sc.Delay > 0 {
		t := time.NewTimer(sc.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	if sc.Wait != nil {
		select {
		case <-sc.Wait:
		case <-r.Context().Done():
			return false
		case <-s.done:
			return false
		}
	}
	return true
}

// hangup closes the connection without a response.
func hangup(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // makes net/http drop the connection
}

// decodeChat decodes and checks a chat completion request body.
func decodeChat(body []byte) (*ChatRequest, error) {
	var raw struct {
		Model               string          `json:"model"`
		Messages            []openaiMessage `json:"messages"`
		Tools               []openaiTool    `json:"tools"`
		ToolChoice          json.RawMessage `json:"tool_choice"`
		Temperature         *float64        `json:"temperature"`
		MaxTokens           *int            `json:"max_tokens"`
		MaxCompletionTokens *int            `json:"max_completion_tokens"`
		N                   *int            `json:"n"`
		Stop                json.RawMessage `json:"stop"`
		Seed                *int            `json:"seed"`
		ResponseFormat      *struct {
			Type string `json:"type"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("invalid chat completion request: %w", err)
	}
	req := &ChatRequest{
		Model:               raw.Model,
		Messages:            make([]lm.Message, len(raw.Messages)),
		ToolChoice:          raw.ToolChoice,
		Temperature:         raw.Temperature,
		MaxTokens:           raw.MaxTokens,
		MaxCompletionTokens: raw.MaxCompletionTokens,
		N:                   raw.N,
		Seed:                raw.Seed,
	}
	for i, m := range raw.Messages {
		req.Messages[i] = lm.Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			req.Messages[i].ToolCalls = append(req.Messages[i].ToolCalls, lm.ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
		}
	}
	for i, t := range raw.Tools {
		if t.Type != "function" || t.Function.Name == "" {
			return nil, fmt.Errorf("tools[%d] must be a function with a name", i)
		}
		req.Tools = append(req.Tools, lm.ToolDef{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if raw.ResponseFormat != nil {
		req.ResponseFormat = raw.ResponseFormat.Type
	}
	if len(raw.Stop) > 0 && string(raw.Stop) != "null" {
		var one string
		if err := json.Unmarshal(raw.Stop, &one); err == nil {
			req.Stop = []string{one}
		} else if err := json.Unmarshal(raw.Stop, &req.Stop); err != nil {
			return nil, fmt.Errorf("stop must be a string or a list of strings: %w", err)
		}
	}
	switch {
	case req.Model == "":
		return nil, fmt.Errorf("you must provide a model parameter")
	case len(req.Messages) == 0:
		return nil, fmt.Errorf("messages must not be empty")
	case req.N != nil && *req.N < 1:
		return nil, fmt.Errorf("n must be at least 1")
	case req.Temperature != nil && (*req.Temperature < 0 || *req.Temperature > 2):
		return nil, fmt.Errorf("temperature must be between 0 and 2")
	}
	return req, nil
}

// decodeEmbed decodes and checks an embeddings request body.
func decodeEmbed(body []byte) (*EmbedRequest, error) {
	var raw struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("invalid embeddings request: %w", err)
	}
	req := &EmbedRequest{Model: raw.Model}
	var one string
	if err := json.Unmarshal(raw.Input, &one); err == nil {
		req.Input = []string{one}
	} else if err := json.Unmarshal(raw.Input, &req.Input); err != nil {
		return nil, fmt.Errorf("input must be a string or a list of strings: %w", err)
	}
	switch {
	case req.Model == "":
		return nil, fmt.Errorf("you must provide a model parameter")
	case len(req.Input) == 0:
		return nil, fmt.Errorf("input must not be empty")
	}
	return req, nil
}

type chatChoice struct {
	Index        int           `json:"index"`
	Message      openaiMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

// openaiMessage is a chat message on the wire.
type openaiMessage struct {
	Role       lm.Role          `json:"role"`
	Content    string           `json:"content"`
	ToolCalls  []openaiToolCall `json:"tool_calls,omitempty"`
	ToolCallID string           `json:"tool_call_id,omitempty"`
}

type openaiToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type openaiTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   openaiUsage  `json:"usage"`
}

// openaiUsage is usage as the chat completions API reports it; cached
// prompt tokens go in prompt_tokens_details.
type openaiUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	Details          *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details,omitempty"`
}

func toOpenAIUsage(u lm.Usage) openaiUsage {
	out := openaiUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CacheReadTokens > 0 {
		out.Details = &struct {
			CachedTokens int `json:"cached_tokens"`
		}{u.CacheReadTokens}
	}
	return out
}

func chatResponse(req *ChatRequest, sc Script, seq int) chatCompletion {
	replies := sc.Replies
	if len(replies) == 0 {
		n := 1
		if req.N != nil {
			n = *req.N
		}
		echo := ""
		for _, m := range req.Messages {
			if m.Role == lm.RoleUser {
				echo = m.Content
			}
		}
		replies = slices.Repeat([]string{echo}, n)
	}
	if sc.NoChoices {
		replies = nil
	}
	resp := chatCompletion{
		ID:      sc.ID,
		Object:  "chat.completion",
		Created: 1700000000 + int64(seq),
		Model:   sc.Model,
		Choices: []chatChoice{},
	}
	if resp.ID == "" {
		resp.ID = fmt.Sprintf("chatcmpl-%d", seq)
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	completion := 0
	for i, text := range replies {
		reason := "stop"
		if i < len(sc.FinishReasons) && sc.FinishReasons[i] != "" {
			reason = sc.FinishReasons[i]
		}
		msg := openaiMessage{Role: lm.RoleAssistant, Content: text}
		if i == 0 {
			for _, c := range sc.ToolCalls {
				wc := openaiToolCall{ID: c.ID, Type: "function"}
				wc.Function.Name, wc.Function.Arguments = c.Name, c.Arguments
				msg.ToolCalls = append(msg.ToolCalls, wc)
			}
		}
		resp.Choices = append(resp.Choices, chatChoice{Index: i, Message: msg, FinishReason: reason})
		completion += words(text)
	}
	if sc.Usage != nil {
		resp.Usage = toOpenAIUsage(*sc.Usage)
	} else {
		prompt := 0
		for _, m := range req.Messages {
			prompt += words(m.Content)
		}
		resp.Usage = openaiUsage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
	}
	return resp
}

type embedding struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

type embeddingList struct {
	Object string      `json:"object"`
	Model  string      `json:"model"`
	Data   []embedding `json:"data"`
	Usage  lm.Usage    `json:"usage"`
}

func embedResponse(req *EmbedRequest, sc Script) embeddingList {
	resp := embeddingList{Object: "list", Model: sc.Model, Data: []embedding{}}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	prompt := 0
	for i, text := range req.Input {
		var v []float32
		if sc.Vectors != nil {
			if i >= len(sc.Vectors) {
				break
			}
			v = sc.Vectors[i]
		} else {
			v = Vector(text)
		}
		resp.Data = append(resp.Data, embedding{Object: "embedding", Index: i, Embedding: v})
		prompt += words(text)
	}
	if sc.ReverseData {
		slices.Reverse(resp.Data)
	}
	if sc.Usage != nil {
		resp.Usage = *sc.Usage
	} else {
		resp.Usage = lm.Usage{PromptTokens: prompt, TotalTokens: prompt}
	}
	return resp
}

// VectorDims is the length of the Server's default embeddings.
const VectorDims = 8

// Vector returns the Server's default embedding of text: a unit vector
// derived from its bytes, so equal texts embed equally and texts sharing
// bytes lie close.
func Vector(text string) []float32 {
	v := make([]float64, VectorDims)
	for i := 0; i < len(text); i++ {
		v[int(text[i])%VectorDims] += 1 + float64(i%3)
	}
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, VectorDims)
	if norm == 0 {
		out[0] = 1
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

func words(s string) int { return len(strings.Fields(s)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	typ := "invalid_request_error"
	switch {
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case status >= 500:
		typ = "server_error"
	}
	body := map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}}
	writeJSON(w, status, body)
}
