package test

import (
	"context"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/retrieve"
	"github.com/dspex-go/dspex/retrieve/multihop"
)

// TestMultihopIndexRecall measures the HNSW graph against exact search on
// the shipped corpus, embedded by the simulator through the runtime: for
// every question and every bridge entity (the two hops' natural queries),
// the fraction of the exact top-k that the graph's top-k also finds. It
// also checks that the exact index finds the gold passages for those
// queries, and that the graph index survives a save and reopen.
//
// It is a measurement, not a concurrency test, and building the graph under
// the race detector takes minutes: it is skipped under -race and -short.
func TestMultihopIndexRecall(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("a measurement: run without -race and -short")
	}
	e := mhSetup(t, true)
	ctx := context.Background()
	if !e.ix.Approximate() {
		t.Fatal("no graph")
	}
	items := dataset.Multihop()
	var queries []string
	for _, it := range items[:100] {
		queries = append(queries, it.Question, it.Bridge)
	}
	resp, err := e.rt.Embedder(mhEmbedID).Embed(ctx, lm.EmbedRequest{Inputs: queries})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{3, 10} {
		found, total, gold := 0, 0, 0
		for qi, v := range resp.Vectors {
			exact, err := e.ix.SearchExact(v, k)
			if err != nil {
				t.Fatal(err)
			}
			approx, err := e.ix.Search(v, k)
			if err != nil {
				t.Fatal(err)
			}
			// Ties at the k-th score make the exact top-k ambiguous: a
			// graph hit counts when it scores at least the exact k-th.
			kth := exact[len(exact)-1].Score
			for _, a := range approx {
				total++
				if a.Score >= kth-1e-6 {
					found++
				}
			}
			it := items[qi/2]
			for _, p := range exact {
				if p.ID == it.GoldIDs[qi%2] {
					gold++
				}
			}
		}
		recall := float64(found) / float64(total)
		t.Logf("k=%d: graph recall@%d against exact %.3f; exact search finds the hop's gold passage for %.3f of the queries",
			k, k, recall, float64(gold)/float64(len(queries)))
		if recall < 0.95 {
			t.Errorf("recall@%d %.3f", k, recall)
		}
		if k == 3 && float64(gold) < 0.85*float64(len(queries)) {
			t.Errorf("exact search finds the gold passage for only %d of %d queries", gold, len(queries))
		}
	}
	again, built, err := retrieve.Open(ctx, e.dir+"/multihop.idx", e.rt.Embedder(mhEmbedID), multihop.Corpus(), retrieve.WithApproximate(true))
	if err != nil || built || !again.Approximate() {
		t.Fatalf("reopen: built %v, approximate %v, %v", built, again != nil && again.Approximate(), err)
	}
	a, _ := again.Search(resp.Vectors[0], 3)
	b, _ := e.ix.Search(resp.Vectors[0], 3)
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("reopened graph answers %v, built %v", a, b)
		}
	}
}
