package programs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/retrieve"
)

func TestRetrieve(t *testing.T) {
	var gotK int
	r := retrieve.RetrieverFunc(func(_ context.Context, q string, k int) ([]retrieve.Passage, error) {
		gotK = k
		if q == "boom" {
			return nil, errors.New("index down")
		}
		out := make([]retrieve.Passage, k)
		for i := range out {
			out[i] = retrieve.Passage{ID: fmt.Sprintf("%s-%d", q, i), Text: fmt.Sprintf("passage %d about %s", i, q), Score: 1 - float64(i)/10}
		}
		return out, nil
	})
	m, err := programs.NewRetrieve(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.K() != programs.DefaultRetrieveK {
		t.Errorf("default k %d", m.K())
	}
	ctx := context.Background()
	pred, err := m.Forward(ctx, programs.Values{"query": "tea"})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := pred.Values["passages"].([]string)
	ids, _ := pred.Values["passage_ids"].([]string)
	scores, _ := pred.Values["scores"].([]float64)
	if gotK != 3 || len(ps) != 3 || ps[0] != "passage 0 about tea" || ids[2] != "tea-2" || scores[1] != 0.9 {
		t.Errorf("prediction %+v", pred.Values)
	}
	m5, _ := m.WithK(5)
	if texts, err := m5.Passages(ctx, "x"); err != nil || len(texts) != 5 || m.K() != 3 {
		t.Errorf("WithK(5): %d passages, %v; original k %d", len(texts), err, m.K())
	}
	for _, in := range []programs.Values{{}, {"query": ""}, {"query": 7}} {
		if _, err := m.Forward(ctx, in); !errors.Is(err, programs.ErrNoQuery) {
			t.Errorf("inputs %v: %v", in, err)
		}
	}
	if _, err := m.Call(ctx, "boom"); err == nil || err.Error() != "programs: Retrieve: index down" {
		t.Errorf("retriever error: %v", err)
	}
	if _, err := programs.NewRetrieve(nil, 3); err == nil {
		t.Error("nil retriever accepted")
	}

	// Inside a user's program the walker passes it by.
	type rag struct {
		Retrieve *programs.Retrieve
		Answer   *programs.Predict[struct {
			Question string
		}, struct{ Answer string }]
	}
	prog := rag{Retrieve: m, Answer: programs.MustPredict[struct{ Question string }, struct{ Answer string }]()}
	nps, err := programs.NamedPredictors(prog)
	if err != nil || len(nps) != 1 || nps[0].Name != "answer" {
		t.Errorf("named predictors %v, %v", nps, err)
	}
	if _, err := m.ReplacePredictors(map[string]*programs.Predictor{"x": nps[0].Predictor}); err == nil {
		t.Error("replacing a predictor of Retrieve succeeded")
	}
}
