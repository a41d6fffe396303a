package simlm

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The fields of an instruction-proposal step (teleprompter's grounded
// proposer, used by MIPROv2, BEACON and COPRO) and of its dataset
// summary step.
const (
	proposeOutput   = "proposed_instruction"
	proposeBasic    = "basic_instruction"
	proposeTip      = "tip"
	proposeDemos    = "task_demos"
	proposeSummary  = "dataset_description"
	proposePrevious = "previous_instructions"
	proposeNone     = "None"
	summaryOutput   = "dataset_observations"
	summaryInput    = "examples"
)

// noticeBase is the chance that a prompt writer misses a pattern shown by
// one example; k examples are missed with chance noticeBase^k.
const noticeBase = 0.55

// shown is one example a prompt writer is shown: inputs, outputs (the
// generated or demonstrated ones), feedback and score when given.
type shown struct {
	In, Out  map[string]string
	Feedback string
}

var (
	exampleStart = regexp.MustCompile(`^#*\s*Example\s+\d+:?\s*$`)
	valueLine    = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*):\s?(.*)$`)
)

// parseShown reads the examples in text, as the optimizers format them:
// blocks opened by an "Example N" line, with "Inputs:" and "Outputs:" (or
// "Generated outputs:") sections of "name: value" lines, and "Feedback:"
// lines. Without sections, values go to In. Text without "Example" lines
// is one block.
func parseShown(text string) []shown {
	var out []shown
	var cur *shown
	section := 0 // 0 in, 1 out
	open := func() {
		out = append(out, shown{In: map[string]string{}, Out: map[string]string{}})
		cur = &out[len(out)-1]
		section = 0
	}
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case exampleStart.MatchString(t):
			open()
			continue
		case t == "":
			continue
		}
		if cur == nil {
			open()
		}
		switch strings.ToLower(t) {
		case "inputs:":
			section = 0
			continue
		case "outputs:", "generated outputs:":
			section = 1
			continue
		}
		m := valueLine.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		switch k := strings.ToLower(m[1]); k {
		case "feedback":
			cur.Feedback = strings.TrimSpace(cur.Feedback + " " + m[2])
		case "score":
		default:
			if section == 1 {
				cur.Out[m[1]] = m[2]
			} else {
				cur.In[m[1]] = m[2]
			}
		}
	}
	return out
}

// answerOf returns the answer value of outputs: the field answer, else
// the last field that is not reasoning.
func answerOf(out map[string]string) (string, bool) {
	if v, ok := out["answer"]; ok {
		return v, true
	}
	name := ""
	for k := range out {
		if !reasoningNames[k] && (name == "" || k > name) {
			name = k
		}
	}
	v, ok := out[name]
	return v, ok
}

// questionOf returns the question of inputs: the field question, else
// the longest value.
func questionOf(in map[string]string) string {
	if v, ok := in["question"]; ok {
		return v
	}
	best := ""
	for _, v := range in {
		if len(v) > len(best) {
			best = v
		}
	}
	return best
}

var numberRe = regexp.MustCompile(`-?\d+(?:\.\d+)?`)

// isNumber reports whether s is one number.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// multiStep reports whether question looks like a problem that needs
// several calculations: it holds at least two numbers.
func multiStep(question string) bool { return len(numberRe.FindAllString(question, -1)) >= 2 }

// observations are what a simulated prompt writer noticed in the examples
// it was shown.
type observations struct {
	// Short counts examples whose wanted answer has at most
	// shortDemoWords words; Long those with more; MaxWords is the longest
	// short one, Samples up to two of them.
	Short, Long, MaxWords int
	Samples               []string
	// FormMisses counts outputs that held the wanted answer among other
	// words.
	FormMisses int
	// Arithmetic counts multi-number problems with a numeric answer;
	// ArithmeticMisses those answered with the wrong number.
	Arithmetic, ArithmeticMisses int
}

// want records a wanted answer.
func (o *observations) want(v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	n := len(strings.Fields(v))
	if n > shortDemoWords {
		o.Long++
		return
	}
	o.Short++
	o.MaxWords = max(o.MaxWords, n)
	if len(o.Samples) < 2 && len(v) <= 30 {
		o.Samples = append(o.Samples, v)
	}
}

// noticed reports, by luck, whether a writer shown k instances of a
// pattern notices it.
func noticed(k int, parts ...string) bool {
	return k > 0 && luck(parts...) < 1-math.Pow(noticeBase, float64(k))
}

// formSentences and mathSentences are the simulated writer's own ways of
// putting what it noticed; %d is a word count, %s sample answers.
var (
	formSentences = []string{
		"Reply with the answer alone, at most %d words, with no sentence around it%s.",
		"Give only the answer itself, in %d words or fewer%s.",
		"Keep the reply to a bare answer of up to %d words%s; do not explain it.",
		"State the answer tersely (a %d-word maximum)%s, without restating the question.",
	}
	mathSentences = []string{
		"Work through each calculation in order, then state the final number.",
		"Compute every intermediate result one at a time before giving the final value.",
		"Lay out the operations one by one and check each before answering.",
		"Reason through the problem step by step, then give the result.",
	}
	neutralSentences = []string{
		"Read the inputs carefully.",
		"Use what you know about the subject of the question.",
		"Make sure the reply addresses the question that was asked.",
		"You are a knowledgeable and careful assistant.",
	}
)

// write composes an instruction: base, then one sentence for each pattern
// noticed that base does not already cover (its constraint grades; a
// pattern seen failing despite a constraint calls for a stronger one), or
// a neutral sentence when nothing was noticed and reword is set. variant
// picks the phrasing, never one base already holds; key seeds the
// noticing luck.
func (o observations) write(base string, variant uint64, reword bool, key ...string) string {
	c := readConstraint(base)
	pick := func(list []string, v uint64, args ...any) string {
		for i := range uint64(len(list)) {
			s := list[(v+i)%uint64(len(list))]
			if len(args) > 0 {
				s = fmt.Sprintf(s, args...)
			}
			if !strings.Contains(base, s) {
				return s
			}
		}
		return ""
	}
	var adds []string
	needForm := c.Brevity < 0.5 || o.FormMisses > 0 && c.Brevity < 1
	if needForm && o.Short > o.Long && noticed(o.Short+2*o.FormMisses, append(key, "form")...) {
		samples := ""
		if len(o.Samples) > 0 && variant%3 != 2 {
			samples = ", as in: " + strings.Join(o.Samples, "; ")
		}
		if s := pick(formSentences, variant, max(o.MaxWords, 1), samples); s != "" {
			adds = append(adds, s)
		}
	}
	needMath := c.Reason < 0.5 || o.ArithmeticMisses > 0 && c.Reason < 1
	if needMath && noticed(o.Arithmetic+2*o.ArithmeticMisses, append(key, "math")...) {
		if s := pick(mathSentences, variant/7); s != "" {
			adds = append(adds, s)
		}
	}
	if len(adds) == 0 && reword {
		if s := pick(neutralSentences, variant/3); s != "" {
			adds = append(adds, s)
		}
	}
	return strings.TrimSpace(base + " " + strings.Join(adds, " "))
}

var (
	summaryWords = regexp.MustCompile(`answers of (\d+) to (\d+) words`)
	summaryMath  = regexp.MustCompile(`(\d+) of them are arithmetic`)
)

// propose answers an instruction-proposal step, or reports that p is not
// one. The simulated writer reads what it is shown: the examples of the
// step (task_demos), the dataset summary, the best earlier instruction.
// It notices a pattern with a chance that grows with the examples showing
// it: short answers (then it asks for the bare answer, within the longest
// shown length, quoting samples) and arithmetic with several numbers
// (then it asks to work through the calculations). The tip and the
// sampling salt only vary the phrasing and the luck; the tip's text is
// never copied.
func (m *model) propose(p *prompt, salt string) (string, bool) {
	var ok bool
	for _, f := range p.Outputs {
		ok = ok || f.Name == proposeOutput
	}
	if !ok {
		return "", false
	}
	base := strings.TrimSpace(p.Values[proposeBasic])
	if base == proposeNone {
		base = ""
	}
	if prev := strings.TrimSpace(p.Values[proposePrevious]); prev != "" && prev != proposeNone {
		if first, _, _ := strings.Cut(prev, "\n"); strings.HasPrefix(first, "Instruction:") {
			base = strings.TrimSpace(strings.TrimPrefix(first, "Instruction:"))
		}
	}
	var o observations
	demos := p.Values[proposeDemos]
	if demos != proposeNone {
		for _, ex := range parseShown(demos) {
			v, _ := answerOf(ex.Out)
			o.want(v)
			if isNumber(v) && multiStep(questionOf(ex.In)) {
				o.Arithmetic++
			}
		}
	}
	summary := p.Values[proposeSummary]
	if mm := summaryWords.FindStringSubmatch(summary); mm != nil {
		if hi, _ := strconv.Atoi(mm[2]); hi <= shortDemoWords {
			o.Short += 2
			o.MaxWords = max(o.MaxWords, hi)
		} else {
			o.Long += 2
		}
	}
	if mm := summaryMath.FindStringSubmatch(summary); mm != nil && mm[1] != "0" {
		o.Arithmetic += 2
	}
	tip := p.Values[proposeTip]
	proposal := o.write(base, hashOf(tip, salt, "variant"), true, base, demos, summary, tip, salt)
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		if f.Name == proposeOutput {
			values[i] = proposal
		} else {
			values[i] = filler(f.Type, answer{})
		}
	}
	return render(p, values), true
}

// summarize answers a dataset-summary step, or reports that p is not one:
// it counts what the examples show (how many, the answers' length in
// words, how many are arithmetic with a numeric answer) and says so.
func (m *model) summarize(p *prompt) (string, bool) {
	var ok bool
	for _, f := range p.Outputs {
		ok = ok || f.Name == summaryOutput
	}
	if !ok {
		return "", false
	}
	exs := parseShown(p.Values[summaryInput])
	lo, hi, arith, n := 0, 0, 0, 0
	for _, ex := range exs {
		all := map[string]string{}
		for k, v := range ex.In {
			all[k] = v
		}
		for k, v := range ex.Out {
			all[k] = v
		}
		v, found := answerOf(all)
		if !found || strings.TrimSpace(v) == "" {
			continue
		}
		n++
		w := len(strings.Fields(v))
		if lo == 0 || w < lo {
			lo = w
		}
		hi = max(hi, w)
		delete(all, "answer")
		if isNumber(v) && multiStep(questionOf(all)) {
			arith++
		}
	}
	text := "The examples are empty."
	if n > 0 {
		text = fmt.Sprintf("The %d examples are questions with answers of %d to %d words; %d of them are arithmetic word problems whose answer is a number.", n, lo, hi, arith)
	}
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		if f.Name == summaryOutput {
			values[i] = text
		} else {
			values[i] = filler(f.Type, answer{})
		}
	}
	return render(p, values), true
}
