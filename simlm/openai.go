package simlm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/schema"
)

// message is a chat message with its content flattened to text.
type message struct {
	Role string
	Text string
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []wireToolCall  `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

type wirePart struct {
	Type     string        `json:"type"`
	Text     string        `json:"text"`
	ImageURL *imageURLPart `json:"image_url"`
}

// text flattens the content, which is a string or an array of parts.
func (m wireMessage) text() (string, error) {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m.Content, &s); err == nil {
		return s, nil
	}
	var parts []wirePart
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return "", errors.New("content must be a string or an array of parts")
	}
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p.Type == "text" || p.Type == "":
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		case p.Type == "image_url" && p.ImageURL != nil:
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(imageText(p.ImageURL.URL)) // see media.go
		}
	}
	return b.String(), nil
}

type responseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *jsonSchemaFormat `json:"json_schema"`
}

// stopList accepts "stop" as a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one != "" {
			*s = stopList{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []wireMessage     `json:"messages"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	N                   *int              `json:"n"`
	MaxTokens           int               `json:"max_tokens"`
	MaxCompletionTokens int               `json:"max_completion_tokens"`
	Stop                stopList          `json:"stop"`
	Seed                *int64            `json:"seed"`
	ResponseFormat      *responseFormat   `json:"response_format"`
	Stream              bool              `json:"stream"`
	StreamOptions       *streamOptions    `json:"stream_options"`
	Metadata            map[string]string `json:"metadata"`
	Tools               []wireTool        `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
}

// maxN caps the number of choices of one request.
const maxN = 128

func (r *chatRequest) validate() error {
	if len(r.Messages) == 0 {
		return errors.New("messages must not be empty")
	}
	if r.N != nil && (*r.N < 1 || *r.N > maxN) {
		return fmt.Errorf("n must be between 1 and %d", maxN)
	}
	if r.Temperature != nil && (*r.Temperature < 0 || *r.Temperature > 2) {
		return errors.New("temperature must be between 0 and 2")
	}
	if r.MaxTokens < 0 || r.MaxCompletionTokens < 0 {
		return errors.New("max_tokens must not be negative")
	}
	if r.ResponseFormat != nil {
		switch r.ResponseFormat.Type {
		case "", "text", "json_object":
		case "json_schema":
			js := r.ResponseFormat.JSONSchema
			if js == nil || len(js.Schema) == 0 {
				return errors.New("response_format json_schema needs a json_schema with a schema")
			}
			if _, err := r.schema(); err != nil {
				return fmt.Errorf("response_format json_schema: %w", err)
			}
		default:
			return fmt.Errorf("unknown response_format type %q", r.ResponseFormat.Type)
		}
	}
	return nil
}

// schema returns the compiled-checked schema of a json_schema response
// format, or nil when the request has none.
func (r *chatRequest) schema() (schema.Object, error) {
	if r.ResponseFormat == nil || r.ResponseFormat.Type != "json_schema" || r.ResponseFormat.JSONSchema == nil {
		return nil, nil
	}
	var s schema.Object
	if err := json.Unmarshal(r.ResponseFormat.JSONSchema.Schema, &s); err != nil {
		return nil, err
	}
	if _, err := schema.Compile(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (r *chatRequest) n() int {
	if r.N == nil {
		return 1
	}
	return *r.N
}

func (r *chatRequest) maxTokens() int {
	switch {
	case r.MaxTokens > 0 && r.MaxCompletionTokens > 0:
		return min(r.MaxTokens, r.MaxCompletionTokens)
	case r.MaxTokens > 0:
		return r.MaxTokens
	default:
		return r.MaxCompletionTokens
	}
}

func (r *chatRequest) wantsJSON() bool {
	return r.ResponseFormat != nil && (r.ResponseFormat.Type == "json_object" || r.ResponseFormat.Type == "json_schema")
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      respMessage `json:"message"`
	FinishReason string      `json:"finish_reason"`
}

type respMessage struct {
	Role      string         `json:"role"`
	Content   string         `json:"content"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             usage        `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

// inputs returns the texts to embed: input is a string, an array of
// strings, an array of token ids or an array of such arrays. Token ids are
// embedded as the words "t<id>".
func (r *embeddingRequest) inputs() ([]string, error) {
	var one string
	if err := json.Unmarshal(r.Input, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(r.Input, &many); err == nil && len(many) > 0 {
		return many, nil
	}
	var ids []int
	if err := json.Unmarshal(r.Input, &ids); err == nil && len(ids) > 0 {
		return []string{tokenWords(ids)}, nil
	}
	var idss [][]int
	if err := json.Unmarshal(r.Input, &idss); err == nil && len(idss) > 0 {
		out := make([]string, len(idss))
		for i, ids := range idss {
			out[i] = tokenWords(ids)
		}
		return out, nil
	}
	return nil, errors.New("input must be a string, an array of strings or an array of token ids, and not empty")
}

func tokenWords(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "t%d ", id)
	}
	return b.String()
}

type embeddingData struct {
	Object    string `json:"object"`
	Embedding any    `json:"embedding"`
	Index     int    `json:"index"`
}

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  usage           `json:"usage"`
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

type errorBody struct {
	Error apiError `json:"error"`
}
