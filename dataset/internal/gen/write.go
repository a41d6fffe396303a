package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Seed is the seed of the committed math problems.
const Seed = 20240917

// NumMath is the number of committed math problems.
const NumMath = 130

// Record is one line of qa.jsonl.
type Record struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Steps    int      `json:"steps,omitempty"`
	Work     []string `json:"work,omitempty"`
}

// Records returns every line of the dataset: the facts, then NumMath
// problems generated from Seed.
func Records() []Record {
	facts := Facts()
	probs := Math(Seed, NumMath)
	out := make([]Record, 0, len(facts)+len(probs))
	for i, f := range facts {
		out = append(out, Record{ID: fmt.Sprintf("fact-%03d", i+1), Kind: "fact", Question: f.Question, Answer: f.Answer})
	}
	for i, p := range probs {
		out = append(out, Record{
			ID: fmt.Sprintf("math-%03d", i+1), Kind: "math", Question: p.Question,
			Answer: fmt.Sprint(p.Answer), Steps: p.Steps(), Work: p.Work,
		})
	}
	return out
}

// Write writes Records to w as JSON lines.
func Write(w io.Writer) error { return writeRecords(w, Records()) }

func writeRecords[T any](w io.Writer, recs []T) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, rec := range recs {
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}
