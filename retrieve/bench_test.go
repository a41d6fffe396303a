package retrieve_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/retrieve"
	"github.com/dspex-go/dspex/simlm"
)

// tableEmbedder answers from precomputed vectors, so that benchmarks time
// the index and not the embedding model.
type tableEmbedder map[string][]float32

func (e tableEmbedder) Embed(_ context.Context, req lm.EmbedRequest) (lm.EmbedResponse, error) {
	out := make([][]float32, len(req.Inputs))
	for i, t := range req.Inputs {
		v, ok := e[t]
		if !ok {
			return lm.EmbedResponse{}, fmt.Errorf("no vector for %q", t)
		}
		out[i] = v
	}
	return lm.EmbedResponse{Vectors: out}, nil
}

type shippedSet struct {
	corpus  []retrieve.Passage
	queries []string
	table   tableEmbedder
}

var shipped = sync.OnceValues(func() (shippedSet, error) {
	srv, err := simlm.Start()
	if err != nil {
		return shippedSet{}, err
	}
	defer srv.Close()
	emb, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: simlm.DefaultModel, EmbeddingModel: "simlm-embed-512", APIKey: "bench"})
	if err != nil {
		return shippedSet{}, err
	}
	var corpus []retrieve.Passage
	var texts []string
	for _, p := range dataset.MultihopCorpus() {
		corpus = append(corpus, retrieve.Passage{ID: p.ID, Text: p.Text})
		texts = append(texts, p.Text)
	}
	var queries []string
	for _, it := range dataset.Multihop() {
		queries = append(queries, it.Question, it.Bridge)
	}
	table := tableEmbedder{}
	all := append(append([]string(nil), texts...), queries...)
	for start := 0; start < len(all); start += 256 {
		batch := all[start:min(start+256, len(all))]
		resp, err := emb.Embed(context.Background(), lm.EmbedRequest{Inputs: batch})
		if err != nil {
			return shippedSet{}, err
		}
		for i, t := range batch {
			table[t] = resp.Vectors[i]
		}
	}
	return shippedSet{corpus, queries, table}, nil
})

// BenchmarkIndex times building the index of the shipped multi-hop corpus
// (3,040 passages, simulator embeddings of 512 dimensions, precomputed)
// exactly and with the HNSW graph, and a top-3 query of each. Run:
//
//	go test -run '^$' -bench BenchmarkIndex -benchtime 3x ./retrieve/     # build
//	go test -run '^$' -bench 'BenchmarkIndex/query' ./retrieve/           # query
func BenchmarkIndex(b *testing.B) {
	set, err := shipped()
	if err != nil {
		b.Fatal(err)
	}
	corpus, queries, table := set.corpus, set.queries, set.table
	ctx := context.Background()
	for _, approx := range []bool{false, true} {
		name := map[bool]string{false: "exact", true: "hnsw"}[approx]
		b.Run("build/"+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := retrieve.Build(ctx, table, corpus, retrieve.WithApproximate(approx)); err != nil {
					b.Fatal(err)
				}
			}
		})
		ix, err := retrieve.Build(ctx, table, corpus, retrieve.WithApproximate(approx))
		if err != nil {
			b.Fatal(err)
		}
		vecs := make([][]float32, len(queries))
		for i, q := range queries {
			vecs[i] = table[q]
		}
		b.Run("query/"+name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := ix.Search(vecs[i%len(vecs)], 3); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
