package simlm

import (
	"math"
	"strings"
	"unicode"

	"github.com/dspex-go/dspex/dataset"
)

// The simulator's model of prompt sensitivity: the properties of a prompt
// a real model responds to (features), read from the parsed prompt, and
// what they do to the model's chances (quality). doc.go documents both as
// a table. The properties are decided from the prompt alone, never from
// the wording of any optimizer: an instruction's format constraint is
// recognised by its grammar (a limit on the answer's length, a brevity
// qualifier on the answer, the answer asked for bare, elaboration
// forbidden), in many phrasings, through the cue table below.

// cue is a phrase pattern: a sequence of slots, each a set of alternative
// words, that must appear in order within one clause with at most
// cueGap other words between consecutive slots. "#" stands for any
// number written in digits.
type cue struct {
	slots  [][]string
	weight float64
}

// cueGap is how many words may separate two slots of a cue.
const cueGap = 2

// The words the cue table is built from.
var (
	answerNouns  = []string{"answer", "answers", "reply", "replies", "response", "responses", "output", "result"}
	numberWords  = []string{"#", "one", "two", "three", "four", "five", "six", "few"}
	limitWords   = []string{"most", "max", "maximum", "exceed", "under", "within", "fewer", "single", "only", "just"}
	lengthUnits  = []string{"word", "words", "token", "tokens"}
	briefWords   = []string{"brief", "briefly", "short", "concise", "concisely", "terse", "tersely", "succinct", "succinctly", "compact", "crisp", "minimal", "pithy", "laconic"}
	bareWords    = []string{"bare", "alone", "only", "just", "solely", "nothing", "exclusively", "itself"}
	bareTargets  = []string{"answer", "name", "number", "value", "entity", "figure", "word", "phrase", "result"}
	negators     = []string{"no", "without", "dont", "never", "avoid", "omit", "skip", "not"}
	elaborations = []string{"explanation", "explanations", "explain", "explaining", "elaborate", "elaboration", "commentary", "preamble", "sentence", "sentences", "justification", "filler", "prose", "restate", "restating"}
	expansive    = []string{"detailed", "thorough", "thoroughly", "comprehensive", "comprehensively", "paragraph", "paragraphs", "essay"}
	fullWords    = []string{"full", "complete", "whole"}
	sentenceWord = []string{"sentence", "sentences"}
	workVerbs    = []string{"work", "think", "reason", "walk", "go", "compute", "calculate", "lay", "show", "write", "spell"}
	workObjects  = []string{"through", "out", "working", "work", "steps", "calculation", "calculations", "computation", "arithmetic", "operation", "operations"}
	eachWords    = []string{"each", "every", "intermediate", "all"}
	stepNouns    = []string{"step", "steps", "calculation", "calculations", "operation", "operations", "computation", "result", "results"}
	beforeWords  = []string{"before", "then", "first"}
	finalWords   = []string{"final", "answer", "answering", "replying", "result", "number", "value"}
)

// brevityCues ask for a short answer: a length limit, a brevity
// qualifier on the answer, the answer alone, no elaboration.
var brevityCues = []cue{
	{[][]string{limitWords, numberWords, lengthUnits}, 0.7},
	{[][]string{numberWords, lengthUnits, {"or"}, {"fewer", "less"}}, 0.7},
	{[][]string{numberWords, lengthUnits, {"max", "maximum", "limit", "cap"}}, 0.7},
	{[][]string{{"single", "one"}, {"word", "phrase", "term", "name", "number", "value"}}, 0.6},
	{[][]string{{"be", "keep", "stay"}, briefWords}, 0.6},
	{[][]string{briefWords, answerNouns}, 0.6},
	{[][]string{answerNouns, briefWords}, 0.6},
	{[][]string{{"answer", "reply", "respond"}, briefWords}, 0.6},
	{[][]string{bareWords, {"the"}, bareTargets}, 0.6},
	{[][]string{bareTargets, bareWords}, 0.6},
	{[][]string{{"nothing"}, {"else"}}, 0.4},
	{[][]string{negators, elaborations}, 0.5},
}

// expansiveCues ask for a long answer; a negator before them in the same
// clause turns them off (that clause is then a brevity cue instead).
var expansiveCues = []cue{
	{[][]string{{"in"}, {"detail", "depth"}}, 0.7},
	{[][]string{{"at"}, {"length"}}, 0.7},
	{[][]string{expansive}, 0.6},
	{[][]string{{"explain", "elaborate", "justify", "discuss"}}, 0.5},
	{[][]string{fullWords, sentenceWord}, 0.6},
}

// reasonCues ask the model to work a problem through before answering.
var reasonCues = []cue{
	{[][]string{{"step"}, {"by"}, {"step"}}, 0.6},
	{[][]string{workVerbs, workObjects}, 0.5},
	{[][]string{eachWords, stepNouns}, 0.4},
	{[][]string{beforeWords, finalWords}, 0.2},
}

// triggerPhrases expands every cue into the phrases it matches without
// gaps, lower case, "#" standing for a number: the simulator's whole
// vocabulary of triggers, for the test that keeps the optimizers' texts
// out of it.
func triggerPhrases() []string {
	var out []string
	for _, table := range [][]cue{brevityCues, expansiveCues, reasonCues} {
		for _, c := range table {
			phrases := []string{""}
			for _, slot := range c.slots {
				var next []string
				for _, p := range phrases {
					for _, w := range slot {
						next = append(next, strings.TrimSpace(p+" "+w))
					}
				}
				phrases = next
			}
			out = append(out, phrases...)
		}
	}
	return out
}

// clauses splits text into clauses of normalised words: lower case,
// "n't" joined ("don't" is dont), other apostrophes splitting words,
// every number "#".
func clauses(text string) [][]string {
	var out [][]string
	var cur []string
	var word strings.Builder
	digits := false
	flushWord := func() {
		if word.Len() > 0 {
			w := word.String()
			if digits {
				w = "#"
			}
			cur = append(cur, w)
		}
		word.Reset()
		digits = false
	}
	flushClause := func() {
		flushWord()
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, r := range text {
		switch {
		case unicode.IsDigit(r):
			if word.Len() == 0 {
				digits = true
			}
			word.WriteRune(r)
		case unicode.IsLetter(r):
			digits = false
			word.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// "don't" is dont, "step's" is step and s.
			if !strings.HasSuffix(word.String(), "n") {
				flushWord()
			}
		case strings.ContainsRune(".;!?:\n", r):
			flushClause()
		default:
			flushWord()
		}
	}
	flushClause()
	return out
}

// match reports where c matches words: the index of its first slot, or -1.
func (c cue) match(words []string) int {
	for start := range words {
		if !contains(c.slots[0], words[start]) {
			continue
		}
		pos, ok := start, true
		for _, slot := range c.slots[1:] {
			found := -1
			for j := pos + 1; j < len(words) && j <= pos+1+cueGap; j++ {
				if contains(slot, words[j]) {
					found = j
					break
				}
			}
			if found < 0 {
				ok = false
				break
			}
			pos = found
		}
		if ok {
			return start
		}
	}
	return -1
}

func contains(set []string, w string) bool {
	for _, s := range set {
		if s == w {
			return true
		}
	}
	return false
}

// negated reports whether a negator comes before index i in the clause.
func negated(words []string, i int) bool {
	for _, w := range words[max(0, i-4):i] {
		if contains(negators, w) {
			return true
		}
	}
	return false
}

// constraint is what an instruction asks of the answer's form.
type constraint struct {
	// Brevity is in [-1, 1]: positive when the instruction limits the
	// answer to a short form, negative when it asks for elaboration.
	Brevity float64
	// Reason is in [0, 1]: how plainly the instruction asks to work the
	// problem through before answering.
	Reason float64
}

// readConstraint grades text's format constraints. Each cue counts once;
// the grades are sums capped at 1.
func readConstraint(text string) constraint {
	var short, long, reason float64
	seen := map[*cue]bool{}
	for _, words := range clauses(text) {
		for i := range brevityCues {
			if c := &brevityCues[i]; !seen[c] && c.match(words) >= 0 {
				seen[c] = true
				short += c.weight
			}
		}
		for i := range expansiveCues {
			if c := &expansiveCues[i]; !seen[c] {
				if at := c.match(words); at >= 0 && !negated(words, at) {
					seen[c] = true
					long += c.weight
				}
			}
		}
		for i := range reasonCues {
			if c := &reasonCues[i]; !seen[c] && c.match(words) >= 0 {
				seen[c] = true
				reason += c.weight
			}
		}
	}
	return constraint{Brevity: max(-1, min(1, min(short, 1)-min(long, 1))), Reason: min(reason, 1)}
}

// features are the properties of one prompt the model responds to.
type features struct {
	// Constraint is the instruction's format constraint.
	Constraint constraint
	// ReasoningFirst: an output field reasoning or rationale comes
	// before the answer field.
	ReasoningFirst bool
	// ShortDemos and LongDemos count the demos whose answer has at most
	// shortDemoWords words, and more; DemoWeight sums the demos'
	// weights (0.7 plus 0.6 times their relevance), signed: short demos
	// add, long ones subtract.
	ShortDemos, LongDemos int
	DemoWeight            float64
	// Relevance is the highest word overlap (Jaccard, content words)
	// between a demo's question and the question, in [0, 1].
	Relevance float64
	// GoodMathDemos counts demos that are dataset math problems answered
	// correctly; ReasonedDemos those of them that show their reasoning.
	GoodMathDemos, ReasonedDemos int
	// Context is 0 without an input besides the question, 1 when there
	// is one (passages, context) that does not contain the gold answer,
	// 2 when one contains it.
	Context int
	// Phrasing is the instruction's text: how strongly a model heeds a
	// constraint varies a little from one phrasing to another.
	Phrasing string
}

// grades are the model's chances under a prompt.
type grades struct {
	// Terse is the chance of answering with the bare answer.
	Terse float64
	// Math is the chance of solving a multi-step arithmetic problem.
	Math float64
	// Recall scales the model's knowledge of a fact: the fact is
	// answered right iff hash(question) < Recall. With a passage that
	// holds the answer it is near 1.
	Recall float64
}

// Weights of the model, in logits for style and probabilities for the
// rest. doc.go documents them.
const (
	brevityLogit      = 7.0  // times Constraint.Brevity
	demoLogit         = 1.6  // per demo weight, up to demoCap demos
	demoCap           = 4.0  // demos beyond this teach nothing more
	phrasingNoise     = 0.6  // logit spread between phrasings of one constraint
	reasonAskBonus    = 0.3  // times Constraint.Reason, on math
	contextRecall     = 0.97 // recall with a passage holding the answer
	distractorPenalty = 0.9  // recall factor with passages lacking it
)

// quality maps a prompt's features to the model's chances; base is the
// model's configuration (zero-shot terse rate and knowledge).
func quality(f features, terseRate, knowledge float64) grades {
	logit := math.Log(terseRate/(1-terseRate)) + brevityLogit*f.Constraint.Brevity
	if f.Constraint.Brevity != 0 {
		logit += (luck(f.Phrasing, "phrasing") - 0.5) * phrasingNoise
	}
	n := float64(f.ShortDemos + f.LongDemos)
	if n > 0 {
		logit += demoLogit * f.DemoWeight * min(n, demoCap) / n
	}
	g := grades{Terse: 1 / (1 + math.Exp(-logit)), Recall: knowledge}
	if math.IsNaN(g.Terse) {
		g.Terse = terseRate
	}

	p := mathBase
	if f.ReasoningFirst {
		p += mathReasoningBonus
	}
	switch {
	case f.ReasonedDemos >= 2:
		p += mathReasonedDemoBonus
	case f.GoodMathDemos >= 2:
		p += mathDemoBonus
	case f.GoodMathDemos == 1:
		p += mathDemoBonus / 2
	}
	p += reasonAskBonus * f.Constraint.Reason
	g.Math = min(p, 1)

	switch f.Context {
	case 2:
		g.Recall = contextRecall
	case 1:
		g.Recall = knowledge * distractorPenalty
	}
	return g
}

// overlap is the Jaccard similarity of a and b's content words (those
// not in the embedder's stopWords).
func overlap(a, b string) float64 {
	set := func(s string) map[string]bool {
		out := map[string]bool{}
		for _, w := range strings.Fields(dataset.Normalize(s)) {
			if !stopWords[w] {
				out[w] = true
			}
		}
		return out
	}
	sa, sb := set(a), set(b)
	if len(sa) == 0 || len(sb) == 0 {
		return 0
	}
	inter := 0
	for w := range sa {
		if sb[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(sa)+len(sb)-inter)
}

// containsPhrase reports whether text holds want as a run of whole words,
// after normalisation.
func containsPhrase(text, want string) bool {
	w := dataset.Normalize(want)
	return w != "" && strings.Contains(" "+dataset.Normalize(text)+" ", " "+w+" ")
}

// extract reads the features of a structured prompt whose question (the
// value of input qName) is it (known reports whether it is in the
// dataset), with answer field ansName.
func (m *model) extract(p *prompt, qName, ansName string, it dataset.Item, known bool) features {
	question := p.Values[qName]
	f := features{Constraint: readConstraint(p.Objective), Phrasing: p.Objective}
	for _, d := range p.Demos {
		v := strings.TrimSpace(d.Out[ansName])
		if v == "" {
			continue
		}
		rel := overlap(d.In[qName], question)
		f.Relevance = max(f.Relevance, rel)
		w := 0.7 + 0.6*rel
		if len(strings.Fields(v)) <= shortDemoWords {
			f.ShortDemos++
			f.DemoWeight += w
		} else {
			f.LongDemos++
			f.DemoWeight -= w
		}
		if dit, ok := m.find(d.In[qName]); ok && dit.Kind == dataset.KindMath && hasToken(v, dit.Answer) {
			f.GoodMathDemos++
			for name := range reasoningNames {
				if strings.TrimSpace(d.Out[name]) != "" {
					f.ReasonedDemos++
					break
				}
			}
		}
	}
	for _, in := range p.Inputs {
		if in.Name == qName {
			continue
		}
		v := strings.TrimSpace(p.Values[in.Name])
		if v == "" {
			continue
		}
		f.Context = max(f.Context, 1)
		if known && it.Kind != dataset.KindMath && containsPhrase(v, it.Answer) {
			f.Context = 2
		}
	}
	return f
}
