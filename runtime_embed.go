package dspex

import (
	"context"

	"github.com/dspex-go/dspex/lm"
)

// Embedder returns the embedder id names, like LM: "provider/model" (the
// model being an embedding model, e.g. "openai/text-embedding-3-small"),
// or "provider" for the provider's default model. Each Embed goes to the
// client actor of that provider and model, through the same cache (a
// repeated request is served from it), rate limits (its inputs count as
// tokens), circuit breaker, retries and telemetry as chat requests. The
// provider must be an lm.Embedder (OpenAI-compatible ones are; Anthropic's
// is not): otherwise Embed fails with an error wrapping
// actors.ErrNoEmbedder. Use it wherever an lm.Embedder goes, such as
// KNNFewShot.
func (r *Runtime) Embedder(id string) lm.Embedder {
	return runtimeEmbedder{r: r, id: id}
}

type runtimeEmbedder struct {
	r  *Runtime
	id string
}

// Embed implements lm.Embedder.
func (e runtimeEmbedder) Embed(ctx context.Context, req lm.EmbedRequest) (lm.EmbedResponse, error) {
	return e.r.clients.Embed(ctx, e.id, req, 0)
}

// String names the embedder.
func (e runtimeEmbedder) String() string { return "dspex.Runtime.Embedder(" + e.id + ")" }
