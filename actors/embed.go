package actors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dspex-go/dspex/lm"
)

// Embedding requests travel the chat path of the client actors, so that
// they share its cache, rate limits (tokens), circuit breaker, retries and
// telemetry. Inside that path an embedding response is carried as an
// lm.Response whose single choice holds the vectors as JSON, with
// FinishReason embeddingFinish; Embed unpacks it, and telemetry sees it
// without that choice.

// ErrNoEmbedder means the provider of an embedding request cannot embed
// (it is not an lm.Embedder, like Anthropic's Messages API).
var ErrNoEmbedder = errors.New("actors: provider does not support embeddings")

// embeddingFinish marks the choice that carries the vectors.
const embeddingFinish = "embedding"

// embedKey carries an embedding request from Embed to Chat.
type embedKey struct{}

// Embed sends req to the client actor serving the LM id, like Chat: the
// same cache (keyed by provider, model and inputs), rate limits (tokens
// estimated from the inputs), circuit breaker, retries and telemetry apply.
// req.Model empty means the model the id names.
func (c *Clients) Embed(ctx context.Context, id string, req lm.EmbedRequest, defaultTimeout time.Duration) (lm.EmbedResponse, error) {
	if len(req.Inputs) == 0 {
		return lm.EmbedResponse{Model: req.Model, Vectors: [][]float32{}}, nil
	}
	// The chat request stands for the embedding request before the rate
	// limiter (its size) and telemetry.
	view := lm.Request{Model: req.Model, Messages: make([]lm.Message, len(req.Inputs))}
	for i, in := range req.Inputs {
		view.Messages[i] = lm.Message{Role: lm.RoleUser, Content: in}
	}
	embed := req
	resp, err := c.Chat(context.WithValue(ctx, embedKey{}, &embed), id, view, defaultTimeout)
	if err != nil {
		return lm.EmbedResponse{}, err
	}
	vectors, err := unpackVectors(resp)
	if err != nil {
		return lm.EmbedResponse{}, err
	}
	if len(vectors) != len(req.Inputs) {
		return lm.EmbedResponse{}, fmt.Errorf("actors: %d embeddings for %d inputs", len(vectors), len(req.Inputs))
	}
	return lm.EmbedResponse{Model: resp.Model, Vectors: vectors, Usage: resp.Usage}, nil
}

// embedUnsupported fails an embedding request at once when the provider
// cannot embed: it must not count against the breaker or be retried.
func embedUnsupported(msg *chatRequest, provider lm.LM, name, model string) error {
	if msg.embed == nil || provider == nil {
		return nil
	}
	if _, ok := provider.(lm.Embedder); ok {
		return nil
	}
	return &lm.ProviderError{Provider: name, Model: model, Err: ErrNoEmbedder}
}

// embed calls the provider's Embed and packs the result for the chat path.
func embed(ctx context.Context, provider lm.LM, name, model string, inputs []string) (lm.Response, error) {
	e, ok := provider.(lm.Embedder)
	if !ok {
		return lm.Response{}, &lm.ProviderError{Provider: name, Model: model, Err: ErrNoEmbedder}
	}
	resp, err := e.Embed(ctx, lm.EmbedRequest{Model: model, Inputs: inputs})
	if err != nil {
		return lm.Response{}, err
	}
	if len(resp.Vectors) != len(inputs) {
		return lm.Response{}, &lm.ProviderError{Provider: name, Model: model,
			Err: fmt.Errorf("actors: provider returned %d embeddings for %d inputs", len(resp.Vectors), len(inputs))}
	}
	packed, err := json.Marshal(resp.Vectors)
	if err != nil {
		return lm.Response{}, &lm.ProviderError{Provider: name, Model: model, Err: fmt.Errorf("actors: encoding embeddings: %w", err)}
	}
	return lm.Response{
		Model:   resp.Model,
		Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: string(packed)}, FinishReason: embeddingFinish}},
		Usage:   resp.Usage,
	}, nil
}

// unpackVectors returns the vectors that embed packed into resp.
func unpackVectors(resp lm.Response) ([][]float32, error) {
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != embeddingFinish {
		return nil, errors.New("actors: reply to an embedding request holds no embeddings")
	}
	var vectors [][]float32
	if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &vectors); err != nil {
		return nil, fmt.Errorf("actors: decoding embeddings: %w", err)
	}
	return vectors, nil
}

// telemetryView is the response telemetry records: for an embedding
// request, without the choice that carries the vectors.
func telemetryView(msg *chatRequest, resp lm.Response) lm.Response {
	if msg.embed != nil {
		resp.Choices = nil
	}
	return resp
}

// embedCacheKey returns the cache key of an embedding request: the hex
// SHA-256 of its provider, model and inputs, in a key space of its own.
func embedCacheKey(provider, model string, inputs []string) (string, bool) {
	b, err := json.Marshal(struct {
		Kind     string   `json:"k"`
		Provider string   `json:"p"`
		Model    string   `json:"m"`
		Inputs   []string `json:"in"`
	}{"embeddings", provider, model, inputs})
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), true
}
