package retrieve_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync/atomic"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/retrieve"
)

// wordEmbedder is a real, deterministic embedder: a hashed bag of
// lower-cased words in dim dimensions. It counts its calls.
type wordEmbedder struct {
	dim   int
	calls atomic.Int64
	fail  error
}

func (e *wordEmbedder) Embed(_ context.Context, req lm.EmbedRequest) (lm.EmbedResponse, error) {
	e.calls.Add(1)
	if e.fail != nil {
		return lm.EmbedResponse{}, e.fail
	}
	out := make([][]float32, len(req.Inputs))
	for i, text := range req.Inputs {
		v := make([]float32, e.dim)
		for _, w := range strings.Fields(strings.ToLower(text)) {
			w = strings.Trim(w, ".,?!")
			h := fnv.New64a()
			h.Write([]byte(w))
			x := h.Sum64()
			sign := float32(1)
			if x>>63 == 1 {
				sign = -1
			}
			v[x%uint64(e.dim)] += sign
		}
		var n float64
		for _, x := range v {
			n += float64(x * x)
		}
		if n == 0 {
			v[0] = 1
		}
		out[i] = v
	}
	return lm.EmbedResponse{Model: "words-" + req.Model, Vectors: out}, nil
}

func (e *wordEmbedder) String() string { return fmt.Sprintf("words(%d)", e.dim) }

// corpus returns n passages "p-i" about distinct made-up things.
func corpus(n int) []retrieve.Passage {
	out := make([]retrieve.Passage, n)
	for i := range out {
		out[i] = retrieve.Passage{ID: fmt.Sprintf("p-%d", i),
			Text: fmt.Sprintf("Item%d is a widget made in town%d from material%d.", i, i%37, i%11)}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

// lmReq embeds one text with the word embedder and returns its vector.
func lmReq(text string) []float32 { return vecOf(text) }

var vecEmb = &wordEmbedder{dim: 512}

func vecOf(text string) []float32 {
	r, _ := vecEmb.Embed(context.Background(), lm.EmbedRequest{Inputs: []string{text}})
	return r.Vectors[0]
}
