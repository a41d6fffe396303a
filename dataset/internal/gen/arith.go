package gen

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// ArithSeed is the seed of the committed long arithmetic problems
// (arith.jsonl).
const ArithSeed = 20261205

// NumArith is the number of committed long arithmetic problems.
const NumArith = 40

// Arith returns n distinct word problems with many operands: problem i
// needs 4 + i%3 steps. They are built like Math's, from another stream, so
// they share no question with it. The same seed and n always give the same
// problems.
func Arith(seed uint64, n int) []Problem {
	r := rand.New(rand.NewPCG(seed, 0xa71f_10f6))
	seen := make(map[string]bool, n)
	for _, p := range Math(Seed, NumMath) {
		seen[p.Question] = true
	}
	out := make([]Problem, 0, n)
	for len(out) < n {
		p := problem(r, 4+len(out)%3)
		if seen[p.Question] {
			continue
		}
		seen[p.Question] = true
		out = append(out, p)
	}
	return out
}

// ArithRecords returns every line of arith.jsonl: NumArith problems
// generated from ArithSeed, with ids "arith-001"... and kind "math".
func ArithRecords() []Record {
	probs := Arith(ArithSeed, NumArith)
	out := make([]Record, len(probs))
	for i, p := range probs {
		out[i] = Record{ID: fmt.Sprintf("arith-%03d", i+1), Kind: "math", Question: p.Question,
			Answer: fmt.Sprint(p.Answer), Steps: p.Steps(), Work: p.Work}
	}
	return out
}

// WriteArith writes ArithRecords to w as JSON lines.
func WriteArith(w io.Writer) error { return writeRecords(w, ArithRecords()) }
