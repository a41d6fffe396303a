package retrieve_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dspex-go/dspex/retrieve"
)

func TestIndexExactFindsThePassage(t *testing.T) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 8192}
	c := corpus(300)
	ix, err := retrieve.Build(ctx, emb, c, retrieve.WithBatchSize(64))
	if err != nil {
		t.Fatal(err)
	}
	if ix.Approximate() || ix.Len() != 300 || ix.Dim() != 8192 {
		t.Fatalf("approximate %v, len %d, dim %d", ix.Approximate(), ix.Len(), ix.Dim())
	}
	if got := emb.calls.Load(); got != 5 {
		t.Errorf("%d embed calls for 300 passages in batches of 64, want 5", got)
	}
	for _, tc := range []struct {
		query, want string
	}{
		{"item7 widget", "p-7"},
		{"widget item123", "p-123"},
		{"item299", "p-299"},
	} {
		ps, err := ix.Retrieve(ctx, tc.query, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 3 || ps[0].ID != tc.want {
			t.Errorf("%q: got %+v, want %s first", tc.query, ps, tc.want)
		}
		for i := 1; i < len(ps); i++ {
			if ps[i].Score > ps[i-1].Score {
				t.Errorf("%q: scores not in descending order: %+v", tc.query, ps)
			}
		}
	}
	if ps, _ := ix.Retrieve(ctx, "item1", 1000); len(ps) != 300 {
		t.Errorf("k larger than the corpus gave %d passages", len(ps))
	}
}

func TestIndexErrors(t *testing.T) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 16}
	for _, tc := range []struct {
		name   string
		corpus []retrieve.Passage
		check  func(error) bool
	}{
		{"empty", nil, func(err error) bool { return errors.Is(err, retrieve.ErrEmptyCorpus) }},
		{"empty id", []retrieve.Passage{{Text: "x"}}, isCorpusError},
		{"empty text", []retrieve.Passage{{ID: "a"}}, isCorpusError},
		{"duplicate", []retrieve.Passage{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, isCorpusError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := retrieve.Build(ctx, emb, tc.corpus)
			if !tc.check(err) {
				t.Errorf("error %v", err)
			}
		})
	}
	ix, err := retrieve.Build(ctx, emb, corpus(10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Retrieve(ctx, "x", 0); !errors.Is(err, retrieve.ErrBadK) {
		t.Errorf("k=0: %v", err)
	}
	if _, err := ix.Search(make([]float32, 3), 1); err == nil {
		t.Error("a query vector of the wrong length was accepted")
	}
	if _, err := ix.Search(make([]float32, 16), 1); err == nil {
		t.Error("a zero query vector was accepted")
	}
	boom := errors.New("boom")
	_, err = retrieve.Build(ctx, &wordEmbedder{dim: 8, fail: boom}, corpus(3))
	var ee *retrieve.EmbedError
	if !errors.As(err, &ee) || !errors.Is(err, boom) || ee.Op != "build" {
		t.Errorf("embedder failure: %v", err)
	}
}

func isCorpusError(err error) bool {
	var ce *retrieve.CorpusError
	return errors.As(err, &ce)
}

// TestIndexApproximateAgreesWithExact forces the HNSW graph on a corpus of
// templated passages and checks that a passage's own text finds it first
// through the graph, as exact search does. (Recall against exact search on
// the shipped corpus is TestMultihopIndexRecall in package test.)
func TestIndexApproximateAgreesWithExact(t *testing.T) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 512}
	c := corpus(600)
	ix, err := retrieve.Build(ctx, emb, c, retrieve.WithApproximate(true))
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Approximate() {
		t.Fatal("no graph")
	}
	self, n := 0, 0
	for i := 0; i < len(c); i += 3 {
		q := lmReq(c[i].Text)
		exact, err := ix.SearchExact(q, 1)
		if err != nil {
			t.Fatal(err)
		}
		approx, err := ix.Search(q, 1)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if exact[0].ID != c[i].ID {
			t.Fatalf("exact search for %q found %v", c[i].Text, exact)
		}
		if approx[0].ID == c[i].ID {
			self++
		}
	}
	t.Logf("the graph finds %d of %d passages from their own text", self, n)
	if float64(self) < 0.85*float64(n) {
		t.Errorf("the graph finds only %d of %d passages from their own text", self, n)
	}
}

func TestIndexSaveLoad(t *testing.T) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 64}
	c := corpus(500)
	for _, approx := range []bool{false, true} {
		ix, err := retrieve.Build(ctx, emb, c, retrieve.WithApproximate(approx))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ix.Save(&buf); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		back, err := retrieve.Load(bytes.NewReader(data), emb, c, retrieve.WithApproximate(approx))
		if err != nil {
			t.Fatalf("approximate %v: %v", approx, err)
		}
		for _, q := range []string{"item3 widget", "town5 material2", "item499"} {
			a, _ := ix.Retrieve(ctx, q, 4)
			b, _ := back.Retrieve(ctx, q, 4)
			if len(a) != len(b) {
				t.Fatalf("%q: %v vs %v", q, a, b)
			}
			for i := range a {
				if a[i].ID != b[i].ID || !near(a[i].Score, b[i].Score) {
					t.Errorf("approximate %v, %q: saved %v, loaded %v", approx, q, a, b)
				}
			}
		}

		stale := []struct {
			name string
			load func() error
		}{
			{"other corpus", func() error {
				c2 := corpus(500)
				c2[10].Text += " changed"
				_, err := retrieve.Load(bytes.NewReader(data), emb, c2, retrieve.WithApproximate(approx))
				return err
			}},
			{"other model", func() error {
				_, err := retrieve.Load(bytes.NewReader(data), emb, c, retrieve.WithApproximate(approx), retrieve.WithModel("other"))
				return err
			}},
			{"other graph setting", func() error {
				_, err := retrieve.Load(bytes.NewReader(data), emb, c, retrieve.WithApproximate(!approx))
				return err
			}},
		}
		for _, s := range stale {
			if err := s.load(); !errors.Is(err, retrieve.ErrStaleIndex) {
				t.Errorf("approximate %v, %s: %v, want ErrStaleIndex", approx, s.name, err)
			}
		}
		for _, off := range []int{0, 9, 40, len(data) / 2, len(data) - 1} {
			bad := bytes.Clone(data)
			bad[off] ^= 0x55
			var fe *retrieve.FormatError
			if _, err := retrieve.Load(bytes.NewReader(bad), emb, c, retrieve.WithApproximate(approx)); !errors.As(err, &fe) {
				t.Errorf("byte %d damaged: %v, want *FormatError", off, err)
			}
		}
		var fe *retrieve.FormatError
		if _, err := retrieve.Load(bytes.NewReader(data[:len(data)-7]), emb, c, retrieve.WithApproximate(approx)); !errors.As(err, &fe) {
			t.Errorf("truncated: %v", err)
		}
	}
}

func TestOpenBuildsOnceAndRebuildsStale(t *testing.T) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 32}
	path := filepath.Join(t.TempDir(), "c.idx")
	c := corpus(100)
	_, built, err := retrieve.Open(ctx, path, emb, c)
	if err != nil || !built {
		t.Fatalf("first open: built %v, %v", built, err)
	}
	calls := emb.calls.Load()
	ix, built, err := retrieve.Open(ctx, path, emb, c)
	if err != nil || built || ix.Len() != 100 {
		t.Fatalf("second open: built %v, %v", built, err)
	}
	if emb.calls.Load() != calls {
		t.Error("opening a current index embedded the corpus again")
	}
	c = append(c, retrieve.Passage{ID: "new", Text: "a new passage"})
	ix, built, err = retrieve.Open(ctx, path, emb, c)
	if err != nil || !built || ix.Len() != 101 {
		t.Fatalf("open after the corpus changed: built %v, %v", built, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, built, err = retrieve.Open(ctx, path, emb, c); err != nil || !built {
		t.Fatalf("open over a damaged file: built %v, %v", built, err)
	}
}

// FuzzLoad checks that Load never panics and fails with a typed error on
// any input.
func FuzzLoad(f *testing.F) {
	ctx := context.Background()
	emb := &wordEmbedder{dim: 8}
	c := corpus(20)
	for _, approx := range []bool{false, true} {
		ix, err := retrieve.Build(ctx, emb, c, retrieve.WithApproximate(approx))
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ix.Save(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte("DSPXVIX\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := retrieve.Load(bytes.NewReader(data), emb, c)
		if err != nil {
			var fe *retrieve.FormatError
			if !errors.As(err, &fe) && !errors.Is(err, retrieve.ErrStaleIndex) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := ix.Retrieve(ctx, "item1", 3); err != nil {
			t.Fatal(err)
		}
	})
}
