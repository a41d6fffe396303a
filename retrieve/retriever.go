package retrieve

import (
	"context"
	"errors"
	"fmt"
)

// Passage is one entry of a corpus: a stable id and its text. In search
// results Score holds the similarity to the query (cosine, higher is closer).
type Passage struct {
	// ID identifies the passage in its corpus.
	ID string `json:"id"`
	// Text is the passage itself.
	Text string `json:"text"`
	// Score is the similarity to the query in a search result; zero in a
	// corpus.
	Score float64 `json:"score,omitempty"`
}

// Retriever finds the passages nearest to a query. It is what the Retrieve
// module of package programs calls (DSPy's retrieval model, dspy.settings.rm).
//
// Retrieve returns at most k passages, best first; fewer when the corpus is
// smaller. k must be positive. Implementations must be safe for concurrent
// use.
type Retriever interface {
	Retrieve(ctx context.Context, query string, k int) ([]Passage, error)
}

// RetrieverFunc adapts a function to the Retriever interface.
type RetrieverFunc func(ctx context.Context, query string, k int) ([]Passage, error)

// Retrieve calls f.
func (f RetrieverFunc) Retrieve(ctx context.Context, query string, k int) ([]Passage, error) {
	return f(ctx, query, k)
}

// ErrBadK means a search asked for zero or fewer passages.
var ErrBadK = errors.New("retrieve: k must be positive")

// ErrEmptyCorpus means an index was asked to be built over no passages.
var ErrEmptyCorpus = errors.New("retrieve: empty corpus")

// ErrStaleIndex means a saved index does not belong to the corpus, the
// embedding model or the format it is loaded for; Open rebuilds it.
var ErrStaleIndex = errors.New("retrieve: saved index is stale")

// CorpusError is a defect in a corpus given to Build: an empty or duplicate
// id, or an empty text.
type CorpusError struct {
	// Index is the position of the bad passage in the corpus.
	Index int
	// ID is its id.
	ID string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *CorpusError) Error() string {
	return fmt.Sprintf("retrieve: corpus passage %d (id %q): %s", e.Index, e.ID, e.Reason)
}

// EmbedError is a failure of the embedder while building an index or
// embedding a query.
type EmbedError struct {
	// Op is "build" or "query".
	Op string
	// Err is the embedder's error.
	Err error
}

// Error implements error.
func (e *EmbedError) Error() string { return fmt.Sprintf("retrieve: embedding (%s): %v", e.Op, e.Err) }

// Unwrap returns the embedder's error.
func (e *EmbedError) Unwrap() error { return e.Err }

func checkCorpus(corpus []Passage) error {
	if len(corpus) == 0 {
		return ErrEmptyCorpus
	}
	seen := make(map[string]int, len(corpus))
	for i, p := range corpus {
		switch {
		case p.ID == "":
			return &CorpusError{Index: i, ID: p.ID, Reason: "empty id"}
		case p.Text == "":
			return &CorpusError{Index: i, ID: p.ID, Reason: "empty text"}
		}
		if j, dup := seen[p.ID]; dup {
			return &CorpusError{Index: i, ID: p.ID, Reason: fmt.Sprintf("duplicate of passage %d", j)}
		}
		seen[p.ID] = i
	}
	return nil
}
