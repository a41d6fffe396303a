package dataset_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/dataset/internal/gen"
)

func TestCommittedExtrasAreGeneratorOutput(t *testing.T) {
	var arith bytes.Buffer
	if err := gen.WriteArith(&arith); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("arith.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, arith.Bytes()) {
		t.Error("arith.jsonl differs from the generator's output; run go generate ./dataset")
	}
	var archive bytes.Buffer
	if err := gen.WriteArchive(&archive); err != nil {
		t.Fatal(err)
	}
	if dataset.Archive() != archive.String() {
		t.Error("archive.txt.gz differs from the generator's output; run go generate ./dataset")
	}
}

func TestArithmetic(t *testing.T) {
	items := dataset.Arithmetic()
	if len(items) != gen.NumArith {
		t.Fatalf("%d problems, want %d", len(items), gen.NumArith)
	}
	for _, it := range items {
		if it.Kind != dataset.KindMath || it.Steps < 4 || it.Steps > 6 || len(it.Work) != it.Steps {
			t.Errorf("%s: kind %s, %d steps, %d equations", it.ID, it.Kind, it.Steps, len(it.Work))
		}
		if _, inQA := dataset.Lookup(it.Question); inQA {
			t.Errorf("%s is also in QA", it.ID)
		}
		// The equations chain: each starts from the previous result and the
		// last gives the answer.
		prev := ""
		for _, eq := range it.Work {
			var a, b, c int
			var op string
			if _, err := fmt.Sscanf(eq, "%d %s %d = %d", &a, &op, &b, &c); err != nil {
				t.Fatalf("%s: equation %q: %v", it.ID, eq, err)
			}
			if got, err := gen.Eval(a, op[0], b); err != nil || got != c {
				t.Errorf("%s: %q evaluates to %d (%v)", it.ID, eq, got, err)
			}
			if prev != "" && strconv.Itoa(a) != prev {
				t.Errorf("%s: %q does not continue from %s", it.ID, eq, prev)
			}
			prev = strconv.Itoa(c)
		}
		if prev != it.Answer {
			t.Errorf("%s: work ends in %s, answer %s", it.ID, prev, it.Answer)
		}
	}
}

func TestArchiveQuestions(t *testing.T) {
	doc := dataset.Archive()
	if len(doc) < 400_000 {
		t.Fatalf("the archive has %d bytes", len(doc))
	}
	qs := dataset.ArchiveQuestions()
	if len(qs) != gen.NumArchiveQuestions {
		t.Fatalf("%d questions", len(qs))
	}
	for _, q := range qs {
		office, place, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(q.Question, "Who is the "), "?"), " of ")
		if !ok || q.Kind != dataset.KindArchive {
			t.Fatalf("question %q", q.Question)
		}
		stmt := fmt.Sprintf("The %s of %s is ", office, place)
		if n := strings.Count(doc, stmt); n != 1 {
			t.Errorf("%q: %d lines state it", q.Question, n)
		}
		if !strings.Contains(doc, stmt+q.Answer+".") {
			t.Errorf("%q: the archive does not say %s", q.Question, q.Answer)
		}
		if strings.Count(doc, " of "+place+" is ") < 2 {
			t.Errorf("%q: the place has no other office to confuse it with", q.Question)
		}
	}
}
