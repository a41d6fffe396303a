package retrieve

import "fmt"

// DefaultApproxThreshold is the corpus size from which Build adds an
// approximate (HNSW) index, as DSPy's Embeddings retriever switches to FAISS
// at brute_force_threshold (20,000).
const DefaultApproxThreshold = 20_000

// HNSW parameters used unless WithHNSW changes them.
const (
	// DefaultHNSWM is the number of neighbours each graph node keeps.
	DefaultHNSWM = 16
	// DefaultHNSWEfSearch is the size of the candidate list of a graph
	// search; larger is slower and closer to exact.
	DefaultHNSWEfSearch = 96
)

// defaultBatch is the number of texts per Embed request while building.
const defaultBatch = 128

// Option configures Build, Load and Open.
type Option interface{ apply(*config) error }

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	model        string
	batch        int
	threshold    int
	approxSet    bool
	approx       bool
	m, efSearch  int
	seed         uint64
	candidatesOf int // graph candidates per requested passage, reranked exactly
}

func defaults() config {
	return config{batch: defaultBatch, threshold: DefaultApproxThreshold, m: DefaultHNSWM,
		efSearch: DefaultHNSWEfSearch, seed: 1, candidatesOf: 10}
}

func newConfig(opts []Option) (config, error) {
	c := defaults()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// approximate reports whether an index over n passages gets an HNSW graph.
func (c config) approximate(n int) bool {
	if c.approxSet {
		return c.approx
	}
	return c.threshold > 0 && n >= c.threshold
}

// WithModel names the embedding model sent in every Embed request (empty,
// the default, means the embedder's own default). It is part of a saved
// index's identity: an index saved with another model is stale.
func WithModel(model string) Option {
	return optionFunc(func(c *config) error { c.model = model; return nil })
}

// WithBatchSize sets how many passages go in one Embed request while
// building (default 128).
func WithBatchSize(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("retrieve: batch size %d must be positive", n)
		}
		c.batch = n
		return nil
	})
}

// WithApproxThreshold sets the corpus size from which Build adds an HNSW
// graph (default DefaultApproxThreshold); 0 means never. WithApproximate
// overrides it.
func WithApproxThreshold(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("retrieve: approx threshold %d must not be negative", n)
		}
		c.threshold = n
		return nil
	})
}

// WithApproximate forces (true) or forbids (false) the HNSW graph whatever
// the corpus size.
func WithApproximate(on bool) Option {
	return optionFunc(func(c *config) error { c.approxSet, c.approx = true, on; return nil })
}

// WithHNSW sets the graph's neighbours per node m (default DefaultHNSWM)
// and the candidate list size of a search efSearch (default
// DefaultHNSWEfSearch).
func WithHNSW(m, efSearch int) Option {
	return optionFunc(func(c *config) error {
		if m < 2 || efSearch < 1 {
			return fmt.Errorf("retrieve: HNSW m %d must be at least 2 and efSearch %d positive", m, efSearch)
		}
		c.m, c.efSearch = m, efSearch
		return nil
	})
}

// WithSeed seeds the random levels of the HNSW graph (default 1), so the
// same corpus and embeddings always build the same graph.
func WithSeed(seed uint64) Option {
	return optionFunc(func(c *config) error { c.seed = seed; return nil })
}
