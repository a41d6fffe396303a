package dataset_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/dataset/internal/gen"
)

// TestMultihopFilesAreGenerated checks that the committed files are what
// the generator writes, so they can be regenerated with go generate.
func TestMultihopFilesAreGenerated(t *testing.T) {
	for _, tc := range []struct {
		file  string
		write func(io.Writer) error
	}{
		{"multihop_corpus.jsonl.gz", gen.WriteMultihopCorpus},
		{"multihop.jsonl", gen.WriteMultihopQuestions},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(tc.file, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if raw, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			var want bytes.Buffer
			if err := tc.write(&want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, want.Bytes()) {
				t.Errorf("%s differs from the generator's output; run go generate ./dataset", tc.file)
			}
		})
	}
}

// TestMultihopIsConsistent checks every question against the corpus: both
// gold passages exist, the first names the book and the bridge, the second
// is about the bridge and holds the answer, and the ids are unique.
func TestMultihopIsConsistent(t *testing.T) {
	corpus := dataset.MultihopCorpus()
	if n := len(corpus); n < 2000 || n > 5000 {
		t.Fatalf("%d passages", n)
	}
	byID := map[string]dataset.Passage{}
	for _, p := range corpus {
		if _, dup := byID[p.ID]; dup || p.ID == "" || p.Text == "" {
			t.Fatalf("bad or duplicate passage %+v", p)
		}
		byID[p.ID] = p
	}
	items := dataset.Multihop()
	if len(items) != gen.NumMultihopQuestions {
		t.Fatalf("%d questions", len(items))
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.ID] || seen[it.Question] {
			t.Errorf("duplicate %s", it.ID)
		}
		seen[it.ID], seen[it.Question] = true, true
		if len(it.GoldIDs) != 2 {
			t.Fatalf("%s: gold ids %v", it.ID, it.GoldIDs)
		}
		book, person := byID[it.GoldIDs[0]], byID[it.GoldIDs[1]]
		title := strings.TrimSuffix(it.Question[strings.Index(it.Question, "author of ")+len("author of "):], "?")
		title = strings.TrimSuffix(title, " born")
		if !strings.HasPrefix(book.Text, title+" ") || !strings.Contains(book.Text, it.Bridge) {
			t.Errorf("%s: first gold passage %q does not name %q and %q", it.ID, book.Text, title, it.Bridge)
		}
		if !strings.HasPrefix(person.Text, it.Bridge+" was born") || !strings.Contains(person.Text, it.Answer) {
			t.Errorf("%s: second gold passage %q is not about %q with answer %q", it.ID, person.Text, it.Bridge, it.Answer)
		}
		if strings.Contains(it.Question, it.Bridge) || strings.Contains(it.Question, it.Answer) {
			t.Errorf("%s: the question gives away the bridge or answer", it.ID)
		}
	}
	ex := items[0].Example()
	if ex.Text("question") != items[0].Question || ex.Text("answer") != items[0].Answer || ex.ID() != items[0].ID {
		t.Errorf("example %v", ex)
	}
	tr, va, te, err := dataset.MultihopSplits(1, 50, 50, 100)
	if err != nil || len(tr) != 50 || len(va) != 50 || len(te) != 100 {
		t.Fatalf("splits %d %d %d %v", len(tr), len(va), len(te), err)
	}
	if _, _, _, err := dataset.MultihopSplits(1, 200, 100, 1); err == nil {
		t.Error("splits larger than the set did not fail")
	}
}
