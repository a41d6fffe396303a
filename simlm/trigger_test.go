package simlm

import (
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// teleprompterSources returns the non-test Go sources of package
// teleprompter, by file name.
func teleprompterSources(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "teleprompter", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no teleprompter sources: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// prose returns the comments and string literals of a Go source: the
// text an optimizer writes or documents, without its identifiers.
func prose(t *testing.T, name, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	var s scanner.Scanner
	s.Init(fset.AddFile(name, -1, len(src)), []byte(src), nil, scanner.ScanComments)
	var out []string
	for {
		_, tok, lit := s.Scan()
		switch tok {
		case token.EOF:
			return out
		case token.COMMENT, token.STRING:
			out = append(out, lit)
		}
	}
}

// TestNoTriggerSharedWithTheOptimizers keeps the optimizers' words out of
// the simulator's triggers: no phrase of the cue table (triggerPhrases)
// appears in teleprompter's non-test sources, case-insensitively, in
// their normalised words (a number stands for "#"); and no comment or
// string literal of those sources, read as an instruction, has a format
// constraint the simulator would heed. So the optimizers can only score by writing prompts whose
// properties the simulator rewards, not by using its words.
func TestNoTriggerSharedWithTheOptimizers(t *testing.T) {
	phrases := triggerPhrases()
	if len(phrases) < 100 {
		t.Fatalf("only %d trigger phrases", len(phrases))
	}
	for name, src := range teleprompterSources(t) {
		var norm []string
		for _, c := range clauses(src) {
			norm = append(norm, " "+strings.Join(c, " ")+" ")
		}
		for _, ph := range phrases {
			for _, c := range norm {
				if strings.Contains(c, " "+ph+" ") {
					t.Errorf("%s: trigger phrase %q appears in %q", name, ph, strings.TrimSpace(c))
				}
			}
		}
		for _, text := range prose(t, name, src) {
			if c := readConstraint(text); c != (constraint{}) {
				t.Errorf("%s: the simulator reads a format constraint %+v in %q", name, c, text)
			}
		}
	}
}

// TestTriggerTableIsTheMatcher checks that the exported table is what the
// matcher reacts to: every phrase of it, alone in an instruction, moves a
// grade.
func TestTriggerTableIsTheMatcher(t *testing.T) {
	for _, ph := range triggerPhrases() {
		text := strings.ReplaceAll(ph, "#", "3")
		if c := readConstraint(text); c == (constraint{}) {
			t.Errorf("phrase %q is in the table but moves no grade", ph)
		}
	}
}

// TestReadConstraint grades instructions in phrasings the simulator was
// not written against: format constraints in many wordings, requests for
// elaboration, requests to reason, and neutral text.
func TestReadConstraint(t *testing.T) {
	tests := []struct {
		text          string
		short, long   bool
		reason        bool
		strongShort   bool
		strongReasons bool
	}{
		{text: "Answer concisely.", short: true},
		{text: "Respond with a single word.", short: true},
		{text: "Your reply must not exceed 3 words.", short: true},
		{text: "Give the name alone - nothing else.", short: true, strongShort: true},
		{text: "Return only the number, without any explanation.", short: true, strongShort: true},
		{text: "Use five words or fewer.", short: true},
		{text: "Keep your response brief; don't write full sentences.", short: true, strongShort: true},
		{text: "Explain your answer in detail, in full sentences.", long: true},
		{text: "Write a thorough paragraph about the topic.", long: true},
		{text: "Think step by step.", reason: true},
		{text: "Work out each calculation before you give the final number.", reason: true, strongReasons: true},
		{text: "Given the fields `question`, produce the fields `answer`."},
		{text: "You are a helpful assistant who knows geography."},
		{text: "Answer the question."},
	}
	for _, tt := range tests {
		c := readConstraint(tt.text)
		switch {
		case tt.short && c.Brevity <= 0, tt.long && c.Brevity >= 0, !tt.short && !tt.long && c.Brevity != 0:
			t.Errorf("%q: brevity %.2f, want short %v long %v", tt.text, c.Brevity, tt.short, tt.long)
		case tt.strongShort && c.Brevity < 0.9:
			t.Errorf("%q: brevity %.2f, want a strong constraint", tt.text, c.Brevity)
		case tt.reason != (c.Reason > 0), tt.strongReasons && c.Reason < 0.9:
			t.Errorf("%q: reason %.2f, want %v (strong %v)", tt.text, c.Reason, tt.reason, tt.strongReasons)
		}
	}
}

// TestQualityIsGraded checks that effects grow with the evidence and are
// not switches: more short demos, a stronger constraint, more relevant
// demos each raise the terse chance, which stays below 1.
func TestQualityIsGraded(t *testing.T) {
	terse := func(f features) float64 { return quality(f, 0.15, 0.85).Terse }
	zero := terse(features{})
	if zero < 0.14 || zero > 0.16 {
		t.Errorf("zero-shot terse %.3f, want the configured 0.15", zero)
	}
	prev := zero
	for n := 1; n <= 4; n++ {
		got := terse(features{ShortDemos: n, DemoWeight: 0.7 * float64(n)})
		if got <= prev {
			t.Errorf("%d short demos: terse %.3f, not above %.3f", n, got, prev)
		}
		prev = got
	}
	if prev >= 1 {
		t.Errorf("terse %.3f is certain", prev)
	}
	weak, strong := terse(features{Constraint: constraint{Brevity: 0.5}}), terse(features{Constraint: constraint{Brevity: 1}})
	if !(zero < weak && weak < strong && strong < 1) {
		t.Errorf("terse zero %.3f, weak constraint %.3f, strong %.3f: want increasing below 1", zero, weak, strong)
	}
	if long := terse(features{Constraint: constraint{Brevity: -1}}); long >= zero {
		t.Errorf("asked to elaborate: terse %.3f, not below zero-shot %.3f", long, zero)
	}
	rel := terse(features{ShortDemos: 2, DemoWeight: 2 * 1.3})
	unrel := terse(features{ShortDemos: 2, DemoWeight: 2 * 0.7})
	if rel <= unrel {
		t.Errorf("relevant demos %.3f, unrelated %.3f", rel, unrel)
	}
	g0, g1 := quality(features{}, 0.15, 0.85), quality(features{ReasoningFirst: true, Constraint: constraint{Reason: 1}}, 0.15, 0.85)
	if g1.Math <= g0.Math || g0.Math <= 0 {
		t.Errorf("math chance %.2f -> %.2f with reasoning", g0.Math, g1.Math)
	}
	if c := quality(features{Context: 2}, 0.15, 0.85); c.Recall <= 0.85 {
		t.Errorf("recall with the answer in a passage %.2f", c.Recall)
	}
	if c := quality(features{Context: 1}, 0.15, 0.85); c.Recall >= 0.85 {
		t.Errorf("recall with passages lacking the answer %.2f", c.Recall)
	}
}

// FuzzReadConstraint checks that any text grades within bounds and that
// grading does not depend on letter case.
func FuzzReadConstraint(f *testing.F) {
	for _, s := range []string{"Answer concisely.", "Use 3 words or fewer; don't explain.", "Explain in detail.",
		"Work out each calculation, then give the final number.", "", "'''", "step's n't 12-word maximum"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := readConstraint(s)
		if c.Brevity < -1 || c.Brevity > 1 || c.Reason < 0 || c.Reason > 1 {
			t.Fatalf("%q: grades out of range: %+v", s, c)
		}
		if u := readConstraint(strings.ToUpper(s)); u != c && strings.ToLower(strings.ToUpper(s)) == strings.ToLower(s) {
			t.Fatalf("%q: %+v, upper case %+v", s, c, u)
		}
	})
}

// FuzzParseShown checks that any text parses into blocks with maps, and
// that a well-formed block round-trips.
func FuzzParseShown(f *testing.F) {
	f.Add("Example 1\nInputs:\nquestion: q\nOutputs:\nanswer: a\n", "q", "a")
	f.Add("# Example 2\nInputs:\n  question: x\nGenerated outputs:\n  answer: y\nFeedback: \"z\"", "x", "y")
	f.Fuzz(func(t *testing.T, text, q, a string) {
		for _, ex := range parseShown(text) {
			if ex.In == nil || ex.Out == nil {
				t.Fatalf("%q: nil maps", text)
			}
		}
		q, a = strings.Join(strings.Fields(q), " "), strings.Join(strings.Fields(a), " ")
		got := parseShown("Example 1\nInputs:\nquestion: " + q + "\nOutputs:\nanswer: " + a + "\n")
		if len(got) != 1 || got[0].In["question"] != q || got[0].Out["answer"] != a {
			t.Fatalf("round trip of %q, %q: %+v", q, a, got)
		}
	})
}
