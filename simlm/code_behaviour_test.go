package simlm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/simlm"
)

func TestContextWindow(t *testing.T) {
	long := qa("What is the capital of France? " + strings.Repeat("filler words here ", 3000))
	srv, c := start(t)
	r := post(t, context.Background(), c, srv.URL(), long.request())
	var body struct {
		Error struct{ Message, Type, Code, Param string }
	}
	if err := json.Unmarshal(r.raw, &body); err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusBadRequest || body.Error.Code != "context_length_exceeded" || body.Error.Type != "invalid_request_error" ||
		!strings.Contains(body.Error.Message, fmt.Sprintf("maximum context length is %d tokens", simlm.DefaultContextTokens)) {
		t.Fatalf("status %d, body %s", r.status, r.raw)
	}
	srv2, c2 := start(t, simlm.WithContextTokens(-1))
	if r := post(t, context.Background(), c2, srv2.URL(), long.request()); r.status != http.StatusOK {
		t.Fatalf("without a limit: status %d", r.status)
	}
}

// TestProgramsRun runs the programs the simulator writes for every long
// arithmetic problem in the sandbox: the regenerate step's program (an
// error shown) returns the right answer; first programs fail sometimes,
// with an error naming the line, and return the right answer otherwise.
func TestProgramsRun(t *testing.T) {
	srv, c := start(t)
	objective := "Write a program.\nEnd by calling `FINAL()` with a dict that maps `answer` to the computed value."
	failed := 0
	for _, it := range dataset.Arithmetic() {
		for _, retry := range []bool{false, true} {
			s := spec{inputs: []field{{"question", "str"}}, outputs: []field{{"reasoning", "str"}, {"generated_code", "str"}},
				objective: objective, values: map[string]string{"question": it.Question}}
			if retry {
				s.inputs = append(s.inputs, field{"previous_code", "str"}, field{"error", "str"})
				s.values["previous_code"], s.values["error"] = "x = y", "SyntaxError on line 1: undefined: y"
			}
			out := outputs(t, ask(t, c, srv.URL(), s), false)
			code := strings.TrimSuffix(strings.TrimPrefix(out["generated_code"], "```python\n"), "```")
			session, err := sandbox.Default().NewSession(sandbox.Env{Final: []string{"FINAL"}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := session.Run(context.Background(), code)
			if err != nil {
				if retry || !strings.Contains(err.Error(), "line") {
					t.Errorf("%s (retry %v): %v\n%s", it.ID, retry, err, code)
				}
				failed++
				continue
			}
			got := fmt.Sprint(res.Final.(map[string]any)["answer"])
			if got != it.Answer {
				t.Errorf("%s (retry %v): the program returned %s, want %s", it.ID, retry, got, it.Answer)
			}
		}
	}
	if n := len(dataset.Arithmetic()); failed == 0 || failed > n/2 {
		t.Errorf("%d of %d first programs failed; want some, not most", failed, n)
	}
}

// TestLongArithmeticIsHarder checks the documented decay: ChainOfThought
// solves the 2-3 step QA problems far more often than the 4-6 step ones.
func TestLongArithmeticIsHarder(t *testing.T) {
	srv, c := start(t)
	score := func(items []dataset.Item) float64 {
		ok := 0
		for _, it := range items {
			s := cot(it.Question)
			s.objective = "Answer concisely."
			if outputs(t, ask(t, c, srv.URL(), s), false)["answer"] == it.Answer {
				ok++
			}
		}
		return float64(ok) / float64(len(items))
	}
	var short []dataset.Item
	for _, it := range dataset.QA() {
		if it.Kind == dataset.KindMath && it.Steps >= 2 {
			short = append(short, it)
		}
	}
	s, l := score(short), score(dataset.Arithmetic())
	t.Logf("ChainOfThought exact match: 2-3 steps %.2f, 4-6 steps %.2f", s, l)
	if l > s-0.3 {
		t.Errorf("4-6 steps %.2f is not well below 2-3 steps %.2f", l, s)
	}
}
