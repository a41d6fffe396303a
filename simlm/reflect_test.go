package simlm_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/dataset"
)

// reflectItems returns n facts and n multi-step math problems of the
// shipped dataset.
func reflectItems(n int) (facts, maths []dataset.Item) {
	for _, it := range dataset.QA() {
		switch {
		case it.Kind == dataset.KindMath && it.Steps >= 3 && len(maths) < n:
			maths = append(maths, it)
		case it.Kind == dataset.KindFact && len(facts) < n:
			facts = append(facts, it)
		}
	}
	return facts, maths
}

// TestReflection checks the reflection and rule steps through the HTTP
// API: the improved instruction comes from the examples shown (outputs
// that hold the quoted wanted answer among other words; wrong numbers for
// problems with several numbers), in the simulator's own words, whatever
// words the feedback uses; feedback that quotes nothing teaches nothing.
func TestReflection(t *testing.T) {
	srv, c := start(t)
	const base = "Given the fields `question`, produce the fields `answer`."
	facts, maths := reflectItems(4)
	block := func(i int, q, got, feedback string) string {
		return fmt.Sprintf("# Example %d\nInputs:\n  question: %s\nGenerated outputs:\n  answer: %s\nFeedback: %s\n\n", i+1, q, got, feedback)
	}
	var verbose, wrongMath, right, unquoted strings.Builder
	for i, it := range facts {
		verbose.WriteString(block(i, it.Question, "I believe the answer is "+it.Answer+".", fmt.Sprintf("Expected %q.", it.Answer)))
		right.WriteString(block(i, it.Question, it.Answer, fmt.Sprintf("%q: fine.", it.Answer)))
		unquoted.WriteString(block(i, it.Question, "I believe the answer is "+it.Answer+".", "score 0.00"))
	}
	for i, it := range maths {
		wrongMath.WriteString(block(i, it.Question, "1", fmt.Sprintf("should be %q", it.Answer)))
	}
	improve := func(current, examples string, js bool) string {
		s := spec{
			inputs:  []field{{"current_instruction", "str"}, {"examples_with_feedback", "str"}},
			outputs: []field{{"improved_instruction", "str"}},
			values:  map[string]string{"current_instruction": current, "examples_with_feedback": examples},
			json:    js,
		}
		return replyValues(t, ask(t, c, srv.URL(), s), js)["improved_instruction"]
	}
	for _, js := range []bool{false, true} {
		got := improve(base, verbose.String(), js)
		if !strings.HasPrefix(got, base) || got == base {
			t.Errorf("verbose outputs: improved %q", got)
		}
		if !strings.Contains(got, facts[0].Answer) && !strings.Contains(got, "words") {
			t.Errorf("verbose outputs: %q names neither a length nor a sample", got)
		}
		got = improve(base, wrongMath.String(), js)
		if got == base || strings.Contains(got, "should be") {
			t.Errorf("wrong arithmetic: improved %q", got)
		}
		for _, ex := range []string{right.String(), unquoted.String()} {
			if got := improve(base, ex, js); !strings.HasPrefix(got, base) || len(got) > len(base)+80 || strings.ContainsAny(got[len(base):], "0123456789") {
				t.Errorf("nothing to learn: improved %q", got)
			}
		}
		// An instruction that already asks for the bare answer is kept.
		bare := base + " Reply with the bare answer only, nothing else."
		if got := improve(bare, verbose.String(), js); got != bare && !strings.HasPrefix(got, bare+" ") {
			t.Errorf("already bare: improved %q", got)
		}
	}
	rule := func(better, worse string) string {
		s := spec{
			inputs:  []field{{"current_instruction", "str"}, {"better_trajectory", "str"}, {"worse_trajectory", "str"}},
			outputs: []field{{"rule", "str"}},
			values:  map[string]string{"current_instruction": base, "better_trajectory": better, "worse_trajectory": worse},
		}
		return replyValues(t, ask(t, c, srv.URL(), s), false)["rule"]
	}
	traj := func(q, got string, score float64) string {
		return fmt.Sprintf("Inputs:\n  question: %s\nGenerated outputs:\n  answer: %s\nScore: %.2f\nFeedback: score %.2f\n", q, got, score, score)
	}
	// One pair shows the pattern once: it is noticed with chance
	// 1-0.55^3, about 0.83.
	noticed := 0
	for _, f := range facts {
		if got := rule(traj(f.Question, f.Answer, 1), traj(f.Question, "That would be "+f.Answer+", if I am not mistaken.", 0)); got != "Follow the better run's approach." && got != "" {
			noticed++
		}
		if got := rule(traj(f.Question, f.Answer, 1), traj(f.Question, "Rome", 0)); got != "Follow the better run's approach." {
			t.Errorf("rule from a wrong fact = %q", got)
		}
	}
	if noticed < 2 {
		t.Errorf("the wordy worse run was noticed in %d of %d rule steps", noticed, len(facts))
	}
}

// replyValues parses a Chat-format or JSON reply into its fields.
func replyValues(t *testing.T, reply string, js bool) map[string]string {
	t.Helper()
	if !js {
		vals, _ := parseChat(reply)
		return vals
	}
	var obj map[string]string
	start, end := strings.Index(reply, "{"), strings.LastIndex(reply, "}")
	if start < 0 || end < start {
		t.Fatalf("no JSON object in %q", reply)
	}
	if err := json.Unmarshal([]byte(reply[start:end+1]), &obj); err != nil {
		t.Fatalf("reply %q: %v", reply, err)
	}
	return obj
}
