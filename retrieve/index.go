package retrieve

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/dspex-go/dspex/lm"
)

// Index is the embedded vector index: a corpus, the unit-length embedding of
// every passage, and, for large corpora, an HNSW graph over them. It is
// DSPy's dspy.retrievers.Embeddings (dspy/retrievers/embeddings.py at
// stanfordnlp/dspy b7c03cf0848e4adf63b540dbee822bd4c186b5fc): the corpus is
// embedded once, a query is embedded through the same embedder and the
// passages with the highest cosine similarity are returned. Where DSPy
// trains a FAISS IVF-PQ index above its brute-force threshold and reranks
// its candidates exactly, Index walks an HNSW graph (written here, see
// graph) and reranks the graph's candidates exactly.
//
// Build embeds the corpus through an lm.Embedder: on a dspex runtime that is
// rt.Embedder(id), so the embeddings go through the provider's client
// actor, cache, rate limits and retries. Save and Load (or Open) persist the
// index so it is built once.
//
// An Index is immutable once built and safe for concurrent use.
type Index struct {
	cfg      config
	embedder lm.Embedder
	identity string
	corpus   []Passage
	vecs     [][]float32
	dim      int
	graph    *graph
}

var _ Retriever = (*Index)(nil)

// Build embeds corpus with embedder and returns its index. Passages need
// unique non-empty ids and non-empty texts (else a *CorpusError). The graph
// is added when the corpus has at least the approximate threshold's size
// (see WithApproxThreshold, WithApproximate).
func Build(ctx context.Context, embedder lm.Embedder, corpus []Passage, opts ...Option) (*Index, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if embedder == nil {
		return nil, fmt.Errorf("retrieve: Build: nil embedder")
	}
	if err := checkCorpus(corpus); err != nil {
		return nil, err
	}
	ix := &Index{cfg: cfg, embedder: embedder, identity: identityOf(embedder, cfg.model), corpus: clonePassages(corpus)}
	ix.vecs = make([][]float32, 0, len(corpus))
	for start := 0; start < len(corpus); start += cfg.batch {
		end := min(start+cfg.batch, len(corpus))
		texts := make([]string, end-start)
		for i, p := range corpus[start:end] {
			texts[i] = p.Text
		}
		vs, err := ix.embed(ctx, "build", texts)
		if err != nil {
			return nil, err
		}
		ix.vecs = append(ix.vecs, vs...)
	}
	if ix.dim, err = commonDim(ix.vecs); err != nil {
		return nil, &EmbedError{Op: "build", Err: err}
	}
	if cfg.approximate(len(corpus)) {
		ix.buildGraph()
	}
	return ix, nil
}

// identityOf names the embedding space of an index: the embedder (its
// String, when it has one) and the model.
func identityOf(e lm.Embedder, model string) string {
	name := fmt.Sprintf("%T", e)
	if s, ok := e.(fmt.Stringer); ok {
		name = s.String()
	}
	return name + "|model=" + model
}

func clonePassages(ps []Passage) []Passage {
	out := make([]Passage, len(ps))
	for i, p := range ps {
		out[i] = Passage{ID: p.ID, Text: p.Text}
	}
	return out
}

// embed embeds texts and returns their unit-length vectors.
func (ix *Index) embed(ctx context.Context, op string, texts []string) ([][]float32, error) {
	resp, err := ix.embedder.Embed(ctx, lm.EmbedRequest{Model: ix.cfg.model, Inputs: texts})
	if err != nil {
		return nil, &EmbedError{Op: op, Err: err}
	}
	if len(resp.Vectors) != len(texts) {
		return nil, &EmbedError{Op: op, Err: fmt.Errorf("%d vectors for %d texts", len(resp.Vectors), len(texts))}
	}
	out := make([][]float32, len(texts))
	for i, v := range resp.Vectors {
		if out[i], err = unit(v); err != nil {
			return nil, &EmbedError{Op: op, Err: fmt.Errorf("vector %d: %w", i, err)}
		}
	}
	return out, nil
}

// unit returns v scaled to length 1.
func unit(v []float32) ([]float32, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("empty vector")
	}
	var sum float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("non-finite component")
		}
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return nil, fmt.Errorf("zero vector")
	}
	n := float32(1 / math.Sqrt(sum))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * n
	}
	return out, nil
}

func commonDim(vs [][]float32) (int, error) {
	dim := len(vs[0])
	for i, v := range vs {
		if len(v) != dim {
			return 0, fmt.Errorf("vector %d has %d dimensions, vector 0 has %d", i, len(v), dim)
		}
	}
	return dim, nil
}

func (ix *Index) buildGraph() {
	ix.graph = buildHNSW(ix.vecs, ix.cfg.m, ix.cfg.efSearch, ix.cfg.seed)
}

// Len returns the number of passages.
func (ix *Index) Len() int { return len(ix.corpus) }

// Dim returns the number of dimensions of the embeddings.
func (ix *Index) Dim() int { return ix.dim }

// Approximate reports whether searches walk the HNSW graph.
func (ix *Index) Approximate() bool { return ix.graph != nil }

// Corpus returns a copy of the indexed passages, in corpus order.
func (ix *Index) Corpus() []Passage { return clonePassages(ix.corpus) }

// Retrieve embeds query and returns the k passages nearest to it, best
// first, with their cosine similarity as Score: through the HNSW graph when
// the index has one, else by exact search.
func (ix *Index) Retrieve(ctx context.Context, query string, k int) ([]Passage, error) {
	if k <= 0 {
		return nil, ErrBadK
	}
	vs, err := ix.embed(ctx, "query", []string{query})
	if err != nil {
		return nil, err
	}
	return ix.Search(vs[0], k)
}

// Search returns the k passages nearest to the embedding vec (of any
// length; it is normalised): through the HNSW graph when the index has one,
// else exactly.
func (ix *Index) Search(vec []float32, k int) ([]Passage, error) {
	if ix.graph == nil {
		return ix.SearchExact(vec, k)
	}
	q, err := ix.query(vec, k)
	if err != nil {
		return nil, err
	}
	// Ask the graph for more candidates than wanted and rerank them exactly,
	// as DSPy reranks its FAISS candidates.
	want := min(len(ix.vecs), max(k*ix.cfg.candidatesOf, ix.cfg.efSearch))
	nodes := ix.graph.search(q, want)
	hits := make([]hit, len(nodes))
	for i, n := range nodes {
		hits[i] = hit{i: int(n.id), score: dot(q, ix.vecs[n.id])}
	}
	return ix.best(hits, k), nil
}

// SearchExact returns the k passages with the highest cosine similarity to
// vec, by comparing it with every passage.
func (ix *Index) SearchExact(vec []float32, k int) ([]Passage, error) {
	q, err := ix.query(vec, k)
	if err != nil {
		return nil, err
	}
	hits := make([]hit, len(ix.vecs))
	for i, v := range ix.vecs {
		hits[i] = hit{i: i, score: dot(q, v)}
	}
	return ix.best(hits, k), nil
}

func (ix *Index) query(vec []float32, k int) ([]float32, error) {
	if k <= 0 {
		return nil, ErrBadK
	}
	if len(vec) != ix.dim {
		return nil, fmt.Errorf("retrieve: query vector has %d dimensions, the index %d", len(vec), ix.dim)
	}
	q, err := unit(vec)
	if err != nil {
		return nil, fmt.Errorf("retrieve: query vector: %w", err)
	}
	return q, nil
}

type hit struct {
	i     int
	score float32
}

// best returns the k best hits as passages, highest score first, ties by
// corpus order.
func (ix *Index) best(hits []hit, k int) []Passage {
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	hits = hits[:min(k, len(hits))]
	out := make([]Passage, len(hits))
	for j, h := range hits {
		p := ix.corpus[h.i]
		out[j] = Passage{ID: p.ID, Text: p.Text, Score: float64(h.score)}
	}
	return out
}

// dot is the dot product of a and b, which have the same length. Four
// running sums break the chain of dependent additions, which lets the CPU
// overlap them: about three times faster than one sum on 512 dimensions.
// The result can differ from a single running sum in the last bits; every
// score and graph distance goes through this one function, so rankings
// stay consistent with each other.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
