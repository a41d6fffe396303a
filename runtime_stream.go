package dspex

import (
	"context"
	"iter"

	"github.com/dspex-go/dspex/lm"
)

var _ lm.Streamer = runtimeLM{}

// Stream implements lm.Streamer: the chunks come from the client actor of
// the LM's provider and model, through its cache, rate limits, circuit
// breaker and retries (before the first chunk only); see Runtime.LM. A
// provider that cannot stream answers in one chunk. Breaking out of the
// loop or cancelling ctx stops the provider request.
func (m runtimeLM) Stream(ctx context.Context, req lm.Request) iter.Seq2[lm.Chunk, error] {
	return m.r.clients.Stream(ctx, m.id, req, 0)
}
