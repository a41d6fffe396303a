package lmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dspex-go/dspex/lm"
)

// AnthropicRequest is a request to Anthropic's Messages API
// (POST .../v1/messages) as the Server decoded it.
type AnthropicRequest struct {
	// System holds the system prompt's text blocks.
	System []AnthropicBlock
	// Messages holds the conversation's turns.
	Messages []AnthropicMessage
	// MaxTokens is max_tokens (required by the API).
	MaxTokens int
	// StopSequences is stop_sequences.
	StopSequences []string
	// Temperature is the sampling temperature, or nil when not sent.
	Temperature *float64
}

// CacheBreakpoints returns the number of blocks marked with cache_control,
// system blocks included.
func (r *AnthropicRequest) CacheBreakpoints() int {
	n := 0
	for _, b := range r.System {
		if b.CacheControl {
			n++
		}
	}
	for _, m := range r.Messages {
		for _, b := range m.Content {
			if b.CacheControl {
				n++
			}
		}
	}
	return n
}

// AnthropicMessage is one turn of an AnthropicRequest.
type AnthropicMessage struct {
	// Role is "user" or "assistant".
	Role string
	// Content holds the turn's blocks (a string content is one text block).
	Content []AnthropicBlock
}

// AnthropicBlock is one content block of an AnthropicRequest.
type AnthropicBlock struct {
	// Type is the block type ("text", "image", "tool_use", ...).
	Type string
	// Text is a text block's text.
	Text string
	// CacheControl reports that the block carries a cache_control mark.
	CacheControl bool
	// Raw is the block as sent.
	Raw json.RawMessage
}

type wireBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	CacheControl json.RawMessage `json:"cache_control"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
}

// blocks decodes a content that is a string or an array of blocks.
func blocks(raw json.RawMessage) ([]AnthropicBlock, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []AnthropicBlock{{Type: "text", Text: one, Raw: raw}}, nil
	}
	var many []json.RawMessage
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("content must be a string or an array of blocks")
	}
	out := make([]AnthropicBlock, len(many))
	for i, r := range many {
		var b wireBlock
		if err := json.Unmarshal(r, &b); err != nil {
			return nil, fmt.Errorf("content block %d: %w", i, err)
		}
		if b.Type == "" {
			return nil, fmt.Errorf("content block %d has no type", i)
		}
		out[i] = AnthropicBlock{Type: b.Type, Text: b.Text, Raw: r,
			CacheControl: len(b.CacheControl) > 0 && string(b.CacheControl) != "null"}
	}
	return out, nil
}

// chatView is a turn as chat messages: its text with its tool_use blocks
// as tool calls, then each tool_result block as a RoleTool message.
func chatView(role string, bs []AnthropicBlock) []lm.Message {
	msg := lm.Message{Role: lm.Role(role), Content: text(bs)}
	var results []lm.Message
	for _, b := range bs {
		var w wireBlock
		_ = json.Unmarshal(b.Raw, &w) // decoded once already by blocks
		switch b.Type {
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, lm.ToolCall{ID: w.ID, Name: w.Name, Arguments: string(w.Input)})
		case "tool_result":
			res := lm.Message{Role: lm.RoleTool, ToolCallID: w.ToolUseID}
			if c, err := blocks(w.Content); err == nil {
				res.Content = text(c)
			}
			results = append(results, res)
		}
	}
	if msg.Content == "" && len(msg.ToolCalls) == 0 && len(results) > 0 {
		return results
	}
	return append([]lm.Message{msg}, results...)
}

// text joins the text blocks.
func text(bs []AnthropicBlock) string {
	s := ""
	for _, b := range bs {
		if b.Type == "text" {
			s += b.Text
		}
	}
	return s
}

// decodeMessages decodes and checks a Messages API request body. The
// ChatRequest view lists the system blocks as system messages first.
func decodeMessages(body []byte) (*AnthropicRequest, *ChatRequest, error) {
	var raw struct {
		Model    string          `json:"model"`
		System   json.RawMessage `json:"system"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		MaxTokens     *int     `json:"max_tokens"`
		StopSequences []string `json:"stop_sequences"`
		Temperature   *float64 `json:"temperature"`
		Tools         []struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		ToolChoice json.RawMessage `json:"tool_choice"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, fmt.Errorf("invalid messages request: %w", err)
	}
	switch {
	case raw.Model == "":
		return nil, nil, errors.New("model: field required")
	case raw.MaxTokens == nil:
		return nil, nil, errors.New("max_tokens: field required")
	case *raw.MaxTokens < 1:
		return nil, nil, errors.New("max_tokens: must be at least 1")
	case len(raw.Messages) == 0:
		return nil, nil, errors.New("messages: at least one message is required")
	case raw.Temperature != nil && (*raw.Temperature < 0 || *raw.Temperature > 1):
		return nil, nil, errors.New("temperature: must be between 0 and 1")
	}
	req := &AnthropicRequest{MaxTokens: *raw.MaxTokens, StopSequences: raw.StopSequences, Temperature: raw.Temperature}
	chat := &ChatRequest{Model: raw.Model, Temperature: raw.Temperature, MaxTokens: raw.MaxTokens, Stop: raw.StopSequences, ToolChoice: raw.ToolChoice}
	for i, t := range raw.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 {
			return nil, nil, fmt.Errorf("tools.%d: name and input_schema are required", i)
		}
		chat.Tools = append(chat.Tools, lm.ToolDef{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	if len(raw.System) > 0 && string(raw.System) != "null" {
		sys, err := blocks(raw.System)
		if err != nil {
			return nil, nil, fmt.Errorf("system: %w", err)
		}
		req.System = sys
		for _, b := range sys {
			chat.Messages = append(chat.Messages, lm.Message{Role: lm.RoleSystem, Content: b.Text})
		}
	}
	for i, m := range raw.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return nil, nil, fmt.Errorf("messages.%d.role: must be user or assistant, not %q", i, m.Role)
		}
		bs, err := blocks(m.Content)
		if err != nil {
			return nil, nil, fmt.Errorf("messages.%d.content: %w", i, err)
		}
		req.Messages = append(req.Messages, AnthropicMessage{Role: m.Role, Content: bs})
		chat.Messages = append(chat.Messages, chatView(m.Role, bs)...)
	}
	return req, chat, nil
}

type anthropicBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

type anthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []anthropicBlock `json:"content"`
	StopReason   string           `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        anthropicUsage   `json:"usage"`
}

// messagesResponse answers a Messages API call: one text block, the first
// of Script.Replies or the echo of the last user message.
func messagesResponse(req *ChatRequest, sc Script, seq int) anthropicMessage {
	resp := anthropicMessage{ID: sc.ID, Type: "message", Role: "assistant", Model: sc.Model, Content: []anthropicBlock{}}
	if resp.ID == "" {
		resp.ID = fmt.Sprintf("msg_%d", seq)
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	reply := ""
	if len(sc.Replies) > 0 {
		reply = sc.Replies[0]
	} else {
		for _, m := range req.Messages {
			if m.Role == lm.RoleUser {
				reply = m.Content
			}
		}
	}
	if !sc.NoChoices {
		resp.Content = append(resp.Content, anthropicBlock{Type: "text", Text: reply})
	}
	resp.StopReason = "end_turn"
	for _, c := range sc.ToolCalls {
		resp.Content = append(resp.Content, anthropicBlock{Type: "tool_use", ID: c.ID, Name: c.Name, Input: json.RawMessage(c.Arguments)})
		resp.StopReason = "tool_use"
	}
	if len(sc.FinishReasons) > 0 {
		switch r := sc.FinishReasons[0]; r {
		case "", "stop":
		case "length":
			resp.StopReason = "max_tokens"
		default:
			resp.StopReason = r
		}
	}
	if sc.Usage != nil {
		u := *sc.Usage
		resp.Usage = anthropicUsage{
			InputTokens:              u.PromptTokens - u.CacheReadTokens - u.CacheWriteTokens,
			OutputTokens:             u.CompletionTokens,
			CacheCreationInputTokens: u.CacheWriteTokens,
			CacheReadInputTokens:     u.CacheReadTokens,
		}
	} else {
		prompt := 0
		for _, m := range req.Messages {
			prompt += words(m.Content)
		}
		resp.Usage = anthropicUsage{InputTokens: prompt, OutputTokens: words(reply)}
	}
	return resp
}

// writeAnthropicError writes an error in the Anthropic API's shape.
func writeAnthropicError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	typ := "invalid_request_error"
	switch {
	case status == http.StatusUnauthorized:
		typ = "authentication_error"
	case status == http.StatusNotFound:
		typ = "not_found_error"
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case status == 529:
		typ = "overloaded_error"
	case status >= 500:
		typ = "api_error"
	}
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}
