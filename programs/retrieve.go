package programs

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/dspex-go/dspex/retrieve"
	"github.com/dspex-go/dspex/telemetry"
)

// DefaultRetrieveK is the number of passages a Retrieve returns unless told
// otherwise (DSPy's Retrieve(k=3)).
const DefaultRetrieveK = 3

// Span attributes of a Retrieve call.
const (
	attrRetrieveK     = attribute.Key("dspex.retrieve.k")
	attrRetrieveFound = attribute.Key("dspex.retrieve.passages")
)

// ErrNoQuery means a Retrieve was run without a query input.
var ErrNoQuery = errors.New("programs: Retrieve needs a non-empty string input \"query\"")

// Retrieve is DSPy's dspy.Retrieve (dspy/retrievers/retrieve.py at
// stanfordnlp/dspy 628cd76ef50bc25e33d8e9222861806e91f09a3d): a module that
// takes a search query and returns the k passages a retriever finds for
// it. Where DSPy reads the retriever from dspy.settings.rm, a Retrieve is
// given its retriever (retrieve.Index, retrieve.Qdrant, or any
// retrieve.Retriever).
//
// It holds no predictor, so optimizers walk past it (NamedPredictors
// returns none), and it is a Program: Forward maps the input "query" to the
// outputs "passages" (the texts, best first), "passage_ids" and "scores".
// Each call is a span "Retrieve retrieve" with the k asked and the number
// of passages found. A Retrieve is immutable and safe for concurrent use.
type Retrieve struct {
	r retrieve.Retriever
	k int
}

// NewRetrieve returns a Retrieve over r returning k passages per query; k
// <= 0 means DefaultRetrieveK.
func NewRetrieve(r retrieve.Retriever, k int) (*Retrieve, error) {
	if r == nil {
		return nil, fmt.Errorf("programs: Retrieve: nil retriever")
	}
	if k <= 0 {
		k = DefaultRetrieveK
	}
	return &Retrieve{r: r, k: k}, nil
}

// K returns the number of passages per query.
func (m *Retrieve) K() int { return m.k }

// WithK returns a copy of m that returns k passages per query.
func (m *Retrieve) WithK(k int) (*Retrieve, error) { return NewRetrieve(m.r, k) }

// Call returns the passages found for query, best first.
func (m *Retrieve) Call(ctx context.Context, query string) ([]retrieve.Passage, error) {
	ctx, span := telemetry.Start(withTelemetry(ctx, nil), "Retrieve", "retrieve")
	describeCall(span, "Retrieve", "retrieve", nil)
	if span.IsRecording() {
		span.SetAttributes(attrRetrieveK.Int(m.k))
	}
	ps, err := m.r.Retrieve(ctx, query, m.k)
	if err == nil && span.IsRecording() {
		span.SetAttributes(attrRetrieveFound.Int(len(ps)))
	}
	telemetry.End(span, err)
	if err != nil {
		return nil, fmt.Errorf("programs: Retrieve: %w", err)
	}
	return ps, nil
}

// Passages returns the texts of the passages found for query, best first.
func (m *Retrieve) Passages(ctx context.Context, query string) ([]string, error) {
	ps, err := m.Call(ctx, query)
	if err != nil {
		return nil, err
	}
	return Texts(ps), nil
}

// Texts returns the texts of ps, in order.
func Texts(ps []retrieve.Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Text
	}
	return out
}

// Forward runs the Retrieve on the input "query" (a non-empty string, else
// ErrNoQuery) and returns "passages", "passage_ids" and "scores". It makes
// Retrieve a Program.
func (m *Retrieve) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	q, _ := inputs["query"].(string)
	if q == "" {
		return Prediction{}, ErrNoQuery
	}
	ps, err := m.Call(ctx, q)
	if err != nil {
		return Prediction{}, err
	}
	ids := make([]string, len(ps))
	scores := make([]float64, len(ps))
	for i, p := range ps {
		ids[i], scores[i] = p.ID, p.Score
	}
	v := Values{"passages": Texts(ps), "passage_ids": ids, "scores": scores}
	return Prediction{Values: v, Completions: []Values{v}}, nil
}

// NamedPredictors returns none: a Retrieve has nothing to optimise.
func (m *Retrieve) NamedPredictors() []NamedPredictor { return nil }

// ReplacePredictors returns m; any name is unknown.
func (m *Retrieve) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	if err := checkNames("Retrieve", nil, replace); err != nil {
		return nil, err
	}
	return m, nil
}
