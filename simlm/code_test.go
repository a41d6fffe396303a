package simlm

import (
	"strings"
	"testing"
)

func TestReadPassage(t *testing.T) {
	passage := "Question: Who is the mayor of Fenvale?\nPassage:\nEntry 1. The mayor of Glen Fenvale is Ada Quist. x.\n" +
		"Entry 2. The mayor of Fenvale is Bram Novak. The appointment was noted in 1803.\n"
	tests := []struct {
		text, want string
		ok         bool
	}{
		{passage, "Bram Novak", true},
		{strings.Replace(passage, "Who is the mayor", "Who is the ferry captain", 1), "", false},
		{"What is the capital of France?", "", false},
		{"Question: What is the capital of France?\nThe capital of France is Paris.", "Paris", true},
	}
	for _, tt := range tests {
		got, ok := readPassage(tt.text)
		if got != tt.want || ok != tt.ok {
			t.Errorf("readPassage(%q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFinalNames(t *testing.T) {
	for _, tt := range []struct {
		objective string
		want      string
	}{
		{"Write code.\nEnd by calling `FINAL()` with a dict that maps `answer`, `unit` to values.", "answer,unit"},
		{"Call the preloaded function `FINAL()`.\nA dict ... evaluates to the correct value mapping for `total`.", "total"},
		{"nothing here", "answer"},
	} {
		if got := strings.Join(finalNames(tt.objective), ","); got != tt.want {
			t.Errorf("finalNames(%q) = %s, want %s", tt.objective, got, tt.want)
		}
	}
}

// FuzzCodePrompts feeds arbitrary text to the parsers of the code modules'
// prompts: no panics.
func FuzzCodePrompts(f *testing.F) {
	f.Add("Variable: `context` (access it in your code)\nType: str\nTotal length: 1,234 characters\nPreview:\n```\nabc\n```")
	f.Add("Question: Who is the mayor of X?\nThe mayor of X is Y.")
	f.Add("`FINAL()` maps `a`\nmapping for `b`")
	f.Add("Variable: `q`\nPreview:```\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseVariables(s)
		_, _ = readPassage(s)
		if len(finalNames(s)) == 0 {
			t.Fatal("no final names")
		}
		m := &model{}
		p := &prompt{Structured: true, Objective: s, Values: map[string]string{"variables_info": s, "repl_history": s, "question": s},
			Inputs:  []fieldDecl{{Name: "variables_info"}, {Name: "repl_history"}, {Name: "iteration"}},
			Outputs: []fieldDecl{{Name: "reasoning"}, {Name: "code"}}}
		_ = m.rlmStep(p)
	})
}
