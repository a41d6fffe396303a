package simlm

import (
	"fmt"
	"strings"
	"testing"
)

// mhPrompt builds a parsed multi-hop step.
func mhPrompt(inputs, outputs []string, values map[string]string, objective string, demos []demo) *prompt {
	p := &prompt{Structured: true, Values: values, Objective: objective, Demos: demos}
	for _, n := range inputs {
		p.Inputs = append(p.Inputs, fieldDecl{Name: n, Type: "str"})
	}
	for _, n := range outputs {
		p.Outputs = append(p.Outputs, fieldDecl{Name: n, Type: "str"})
	}
	return p
}

const (
	mhBook   = "The Pale Kingdom is a novel written by Boris Brandt and first published in 1931."
	mhPerson = "Boris Brandt was born in Marhaven, Valdoria, and worked as a teacher."
	mhStage  = "The Pale Kingdom was translated into 5 languages and adapted for the stage in Galwick, Veyenia."
)

// rate runs step over n question variants (the salt varies) and returns
// the fraction whose reply contains want.
func rate(t *testing.T, n int, step func(salt string) string, want string) float64 {
	t.Helper()
	hit := 0
	for i := range n {
		if strings.Contains(step(fmt.Sprintf("s%d", i)), want) {
			hit++
		}
	}
	return float64(hit) / float64(n)
}

func TestMultihopSteps(t *testing.T) {
	q := "Which country is the birthplace of the author of The Pale Kingdom?"
	hop := func(outputs []string, objective string, demos []demo) func(string) string {
		return func(salt string) string {
			r, ok := multihop(mhPrompt([]string{"question", "passages"}, outputs,
				map[string]string{"question": q, "passages": mhBook + "\n" + mhStage}, objective, demos), salt)
			if !ok {
				t.Fatal("not a multi-hop step")
			}
			return r
		}
	}
	bridge := demo{In: map[string]string{"question": "In which city was the author of The Quiet Mirror born?",
		"passages": "The Quiet Mirror is a play written by Ada Fenwick and first published in 1901."},
		Out: map[string]string{"search_query": "Ada Fenwick"}}
	zero := rate(t, 400, hop([]string{"search_query"}, "", nil), "Boris Brandt")
	reasoned := rate(t, 400, hop([]string{"reasoning", "search_query"}, "", nil), "[[ ## search_query ## ]]\nBoris Brandt")
	shown := rate(t, 400, hop([]string{"search_query"}, "", []demo{bridge, bridge}), "Boris Brandt")
	t.Logf("second hop names the author: zero-shot %.2f, reasoning %.2f, two bridge demos %.2f", zero, reasoned, shown)
	if !(zero < reasoned && zero < shown && zero > 0.3 && shown > 0.75) {
		t.Errorf("second-hop rates %.2f %.2f %.2f", zero, reasoned, shown)
	}
	if r := rate(t, 50, func(salt string) string {
		r, _ := multihop(mhPrompt([]string{"question", "passages"}, []string{"search_query"},
			map[string]string{"question": q, "passages": mhStage}, "", nil), salt)
		return r
	}, "Boris"); r != 0 {
		t.Errorf("named the author without the book's passage (%.2f)", r)
	}

	answer := func(passages, objective string, demos []demo) func(string) string {
		return func(salt string) string {
			r, _ := multihop(mhPrompt([]string{"question", "passages"}, []string{"reasoning", "answer"},
				map[string]string{"question": q, "passages": passages}, objective, demos), salt)
			return r
		}
	}
	both := mhBook + "\n" + mhPerson + "\n" + mhStage
	bare := "[[ ## answer ## ]]\nValdoria\n"
	right := rate(t, 400, answer(both, "", nil), "Valdoria")
	terse := rate(t, 400, answer(both, "", nil), bare)
	cued := rate(t, 400, answer(both, "Reply with just the name, no explanation.", nil), bare)
	short := demo{In: map[string]string{"question": "x", "passages": "y"}, Out: map[string]string{"answer": "Ostland"}}
	demoed := rate(t, 400, answer(both, "", []demo{short, short}), bare)
	missing := rate(t, 200, answer(mhBook+"\n"+mhStage, "", nil), "Valdoria")
	t.Logf("answer: right %.2f, bare zero-shot %.2f, with a format constraint %.2f, with short demos %.2f, without the author's passage %.2f",
		right, terse, cued, demoed, missing)
	if !(right > 0.8 && terse < 0.45 && cued > 0.75 && demoed > 0.75 && missing == 0) {
		t.Error("answer rates out of their documented ranges")
	}
	if _, ok := multihop(mhPrompt([]string{"question"}, []string{"answer"}, map[string]string{"question": "What is the capital of France?"}, "", nil), ""); ok {
		t.Error("a dataset QA prompt was taken for a multi-hop step")
	}
}
