package dataset

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/dataset/internal/gen"
)

//go:generate go run ./internal/gen/cmd/genqa -set arith -o arith.jsonl
//go:generate go run ./internal/gen/cmd/genqa -set archive -o archive.txt.gz

//go:embed arith.jsonl
var arithJSONL []byte

//go:embed archive.txt.gz
var archiveGz []byte

// KindArchive is the kind of the questions about the archive (see
// ArchiveQuestions).
const KindArchive = "archive"

var arith = sync.OnceValue(func() []Item {
	items, err := Parse(arithJSONL)
	if err != nil {
		panic(err) // generated and checked by the tests: a build defect
	}
	return items
})

// Arithmetic returns the shipped long arithmetic word problems: 40 problems
// of KindMath that need 4 to 6 steps each ("... has 26 cards. ... gives
// away 4. ... divides them equally into 2 bags ... How many cards ...?"),
// with their Work. Their questions are not in QA. They are the benchmark of
// the code-writing modules: many operands are where a model that computes
// in its head slips and a program does not.
func Arithmetic() []Item {
	items := arith()
	out := make([]Item, len(items))
	for i, it := range items {
		it.Work = slices.Clone(it.Work)
		out[i] = it
	}
	return out
}

var archive = sync.OnceValue(func() string {
	zr, err := gzip.NewReader(bytes.NewReader(archiveGz))
	if err != nil {
		panic(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	return string(b)
})

// Archive returns the shipped long document: a registry of the offices of
// 640 fictional places, one line per office holder ("Entry 00042. The
// ferry captain of Cape Dunmere is Ada Fenwick. The appointment was
// recorded in 1873."), about half a megabyte of text. It is far larger
// than a small model's context, and the questions of ArchiveQuestions are
// answered by exactly one of its lines.
func Archive() string { return archive() }

// ArchiveQuestions returns 12 questions about Archive, of KindArchive,
// such as "Who is the mayor of Port Alder?", with the office holder as the
// answer. The answers are in the archive only: no model knows them.
func ArchiveQuestions() []Item {
	recs := gen.ArchiveQuestions()
	out := make([]Item, len(recs))
	for i, r := range recs {
		out[i] = Item{ID: r.ID, Kind: r.Kind, Question: r.Question, Answer: r.Answer}
	}
	return out
}
