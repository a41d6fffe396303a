package simlm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The Anthropic Messages API (POST /v1/messages), answered by the same
// simulated model as the chat completions endpoint. Blocks marked with
// cache_control end cacheable prefixes: a prefix seen before is reported
// as cache_read_input_tokens, a new one as cache_creation_input_tokens, as
// Anthropic's prompt cache does (without its minimum prefix length or its
// expiry: the simulator's cache lives until the server closes, bounded by
// maxCachedPrefixes).

type anthropicBlock struct {
	Type         string                `json:"type"`
	Text         string                `json:"text"`
	Source       *anthropicImageSource `json:"source"`
	CacheControl json.RawMessage       `json:"cache_control"`
	// tool_use blocks
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	// tool_result blocks
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

func (b anthropicBlock) marked() bool {
	return len(b.CacheControl) > 0 && string(b.CacheControl) != "null"
}

// anthropicContent is a content: a string or an array of blocks.
type anthropicContent []anthropicBlock

func (c *anthropicContent) UnmarshalJSON(raw []byte) error {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		*c = anthropicContent{{Type: "text", Text: one}}
		return nil
	}
	var many []anthropicBlock
	if err := json.Unmarshal(raw, &many); err != nil {
		return errors.New("content must be a string or an array of blocks")
	}
	*c = many
	return nil
}

type anthropicTurn struct {
	Role    string           `json:"role"`
	Content anthropicContent `json:"content"`
}

type messagesRequest struct {
	Model         string           `json:"model"`
	System        anthropicContent `json:"system"`
	Messages      []anthropicTurn  `json:"messages"`
	MaxTokens     *int             `json:"max_tokens"`
	StopSequences []string         `json:"stop_sequences"`
	Temperature   *float64         `json:"temperature"`
	Stream        bool             `json:"stream"`
	Metadata      struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	Tools      []anthropicTool      `json:"tools"`
	ToolChoice *anthropicToolChoice `json:"tool_choice"`
}

func (r *messagesRequest) validate() error {
	switch {
	case r.Model == "":
		return errors.New("model: field required")
	case r.MaxTokens == nil:
		return errors.New("max_tokens: field required")
	case *r.MaxTokens < 1:
		return errors.New("max_tokens: must be at least 1")
	case len(r.Messages) == 0:
		return errors.New("messages: at least one message is required")
	case r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 1):
		return errors.New("temperature: must be between 0 and 1")
	case r.Stream:
		return errors.New("the simulator does not support stream=true")
	}
	for i, m := range r.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Errorf("messages.%d.role: must be user or assistant, not %q", i, m.Role)
		}
	}
	return nil
}

// messages flattens the request into the chat the model reads: the system
// blocks as one system message, then the turns, but for those that skip
// marks (tool traffic).
func (r *messagesRequest) messages(skip map[int]bool) []message {
	var msgs []message
	if len(r.System) > 0 {
		msgs = append(msgs, message{Role: "system", Text: r.System.text()})
	}
	for i, m := range r.Messages {
		if skip[i] {
			continue
		}
		msgs = append(msgs, message{Role: m.Role, Text: m.Content.text()})
	}
	return msgs
}

func (c anthropicContent) text() string {
	var parts []string
	for _, b := range c {
		switch b.Type {
		case "text":
			parts = append(parts, b.Text)
		case "image":
			parts = append(parts, imageText(b.Source.url())) // see media.go
		}
	}
	return strings.Join(parts, "\n")
}

// cacheUsage splits the request's input tokens into uncached, cache-read
// and cache-written ones, and records the request's cacheable prefixes.
func (r *messagesRequest) cacheUsage(c *prefixCache) (input, read, written int) {
	var (
		total int
		key   strings.Builder
		ends  []prefixEnd
	)
	key.WriteString(r.Model)
	add := func(role string, b anthropicBlock) {
		total += countTokens(b.Text) + countTokens(b.Name+" "+string(b.Input)+" "+string(b.Content))
		fmt.Fprintf(&key, "\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", role, b.Type, b.Text,
			b.ID, b.Name, b.Input, b.ToolUseID, b.Content)
		if b.marked() {
			ends = append(ends, prefixEnd{key: key.String(), tokens: total})
		}
	}
	for _, b := range r.System {
		add("system", b)
	}
	for _, m := range r.Messages {
		total += tokensPerMessage
		for _, b := range m.Content {
			add(m.Role, b)
		}
	}
	read = c.longest(ends)
	if len(ends) > 0 && ends[len(ends)-1].tokens > read {
		written = ends[len(ends)-1].tokens - read
	}
	c.store(ends)
	return total - read - written, read, written
}

// prefixEnd is a cacheable prefix: its text and its length in tokens.
type prefixEnd struct {
	key    string
	tokens int
}

// maxCachedPrefixes bounds the simulator's prompt cache; when full it
// starts over.
const maxCachedPrefixes = 4096

// prefixCache remembers the cacheable prefixes seen, by hash.
type prefixCache struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

// longest returns the tokens of the longest prefix in ends seen before.
func (c *prefixCache) longest(ends []prefixEnd) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(ends) - 1; i >= 0; i-- {
		if _, ok := c.seen[hashOf(ends[i].key)]; ok {
			return ends[i].tokens
		}
	}
	return 0
}

func (c *prefixCache) store(ends []prefixEnd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil || len(c.seen)+len(ends) > maxCachedPrefixes {
		c.seen = make(map[uint64]struct{})
	}
	for _, e := range ends {
		c.seen[hashOf(e.key)] = struct{}{}
	}
}

type messagesBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
	// tool_use blocks
	ID    string
	Name  string
	Input json.RawMessage
}

// MarshalJSON writes a text block as {type, text} and a tool_use block as
// {type, id, name, input}, as the API does.
func (b messagesBlock) MarshalJSON() ([]byte, error) {
	if b.Type == "tool_use" {
		return json.Marshal(struct {
			Type  string          `json:"type"`
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		}{b.Type, b.ID, b.Name, b.Input})
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{b.Type, b.Text})
}

type messagesUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

type messagesResponse struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []messagesBlock `json:"content"`
	StopReason   string          `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        messagesUsage   `json:"usage"`
}

// writeAnthropicError answers with an error in the Anthropic API's shape.
func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) outcome {
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	return outcome{status: status}
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request, seq int64) outcome {
	var req messagesRequest
	body, err := s.readBody(w, r, &req)
	if err == nil {
		err = req.validate()
	}
	var (
		tools    []offeredTool
		choice   toolChoice
		past     []agentObs
		toolOnly map[int]bool
	)
	if err == nil {
		tools, choice, err = req.anthropicTools()
	}
	if err == nil {
		past, toolOnly, err = req.toolTurns()
	}
	if err != nil {
		return writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
	}
	out, done, garbled := s.applyFaults(w, r, RequestInfo{Seq: seq, Path: r.URL.Path, Model: req.Model, Body: body})
	if done {
		return out
	}
	p := parsePrompt(req.messages(toolOnly), false)
	var content string
	var calls []toolCallOut
	if len(tools) > 0 {
		content, calls = s.model.toolStep(p, tools, choice, past, anthropicSalt(&req))
	} else {
		content = s.model.complete(p, anthropicSalt(&req))
	}
	if garbled {
		content = garble(content, false)
	}
	resp := messagesResponse{
		ID: "msg_simlm_" + strconv.FormatInt(seq, 10), Type: "message", Role: "assistant",
		Model: req.Model, StopReason: "end_turn",
	}
	if cut := stopAt(content, req.StopSequences); cut != content {
		for _, stop := range req.StopSequences {
			if strings.HasPrefix(content[len(cut):], stop) {
				resp.StopReason, resp.StopSequence = "stop_sequence", &stop
				break
			}
		}
		content = cut
	}
	if cut, ok := truncateTokens(content, *req.MaxTokens); ok {
		content, resp.StopReason, resp.StopSequence = cut, "max_tokens", nil
	}
	if content != "" || len(calls) == 0 {
		resp.Content = []messagesBlock{{Type: "text", Text: content}}
	}
	if len(calls) > 0 && resp.StopReason == "end_turn" {
		resp.StopReason = "tool_use"
		for _, c := range calls {
			resp.Content = append(resp.Content, messagesBlock{Type: "tool_use", ID: "toolu_" + c.ID, Name: c.Name, Input: json.RawMessage(c.Args)})
			content += " " + c.Name + " " + c.Args // counted as output
		}
	}
	u := &resp.Usage
	u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens = req.cacheUsage(&s.prompts)
	u.OutputTokens = countTokens(content)
	s.stats.prompt.Add(int64(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens))
	s.stats.completion.Add(int64(u.OutputTokens))
	s.stats.completions.Add(1)
	if garbled {
		s.stats.garbled.Add(1)
	}
	writeJSON(w, http.StatusOK, resp)
	out.status = http.StatusOK
	return out
}

// anthropicSalt is the sampling luck of a Messages API call: empty at
// temperature 0 (or unset), else the temperature and metadata.user_id.
func anthropicSalt(req *messagesRequest) string {
	if req.Temperature == nil || *req.Temperature == 0 {
		return ""
	}
	return fmt.Sprintf("t=%g;user=%s", *req.Temperature, req.Metadata.UserID)
}
