package simlm

import (
	"regexp"
	"strings"
)

// The fields of a reflection step (teleprompter.GEPA's
// ReflectionSignature) and of a rule step (teleprompter.SIMBA's
// RuleSignature).
const (
	reflectCurrent  = "current_instruction"
	reflectOutput   = "improved_instruction"
	reflectExamples = "examples_with_feedback"
	ruleOutput      = "rule"
	ruleBetter      = "better_trajectory"
	ruleWorse       = "worse_trajectory"
	reflectFallback = "Follow the better run's approach."
)

var quoted = regexp.MustCompile(`"([^"]*)"|“([^”]*)”|«([^»]*)»`)

// wanted reads the wanted answer of an example from its feedback: the
// first string the feedback quotes other than the output got itself. It
// reports false when the feedback quotes none besides got (a correct
// answer, or feedback that names no answer).
func wanted(feedback, got string) (string, bool) {
	g := normalizeAnswer(got)
	for _, m := range quoted.FindAllStringSubmatch(feedback, -1) {
		c := m[1] + m[2] + m[3]
		if n := normalizeAnswer(c); n != "" && n != g {
			return strings.TrimSpace(c), true
		}
	}
	return "", false
}

// normalizeAnswer compares answers as the optimizers' exact match does.
func normalizeAnswer(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(s), ".\"'"))), " ")
}

// judge adds one example to o: its question, the output it got and the
// answer wanted instead (ok false when not known or got is right).
func (o *observations) judge(question, got, want string, ok bool) {
	if !ok || normalizeAnswer(got) == normalizeAnswer(want) {
		return
	}
	switch {
	case containsPhrase(got, want) && len(strings.Fields(got)) > len(strings.Fields(want)):
		o.want(want)
		o.FormMisses++
	case isNumber(want) && multiStep(question):
		o.Arithmetic++
		if !isNumber(got) || normalizeAnswer(got) != normalizeAnswer(want) {
			o.ArithmeticMisses++
		}
	}
}

// reflect answers a reflection step or a rule step, or reports that p is
// neither. The simulated reflection model reads the examples it is shown:
// for each, the output generated and the answer the feedback says was
// wanted (a rule step takes the better run's answer when the feedback
// names none). Outputs that hold the wanted answer among other words, and
// wrong numbers for problems with several numbers, are the patterns it can
// notice, more surely the more examples show them; it writes what it
// noticed into the instruction in its own words (observations.write), and
// keeps the current instruction.
func (m *model) reflect(p *prompt, salt string) (string, bool) {
	var instr, rule, worse bool
	for _, f := range p.Outputs {
		instr = instr || f.Name == reflectOutput
		rule = rule || f.Name == ruleOutput
	}
	for _, f := range p.Inputs {
		worse = worse || f.Name == ruleWorse
	}
	if !instr && !(rule && worse) {
		return "", false
	}
	current := strings.TrimSpace(p.Values[reflectCurrent])
	var o observations
	if rule && worse {
		b, w := parseShown(p.Values[ruleBetter]), parseShown(p.Values[ruleWorse])
		if len(b) > 0 && len(w) > 0 {
			got, _ := answerOf(w[0].Out)
			want, ok := wanted(w[0].Feedback, got)
			if !ok {
				want, ok = answerOf(b[0].Out)
			}
			o.judge(questionOf(w[0].In), got, want, ok)
		}
	} else {
		for _, ex := range parseShown(p.Values[reflectExamples]) {
			got, _ := answerOf(ex.Out)
			want, ok := wanted(ex.Feedback, got)
			o.judge(questionOf(ex.In), got, want, ok)
		}
	}
	variant := hashOf(current, salt, "variant")
	key := []string{current, p.Values[reflectExamples], p.Values[ruleWorse], salt}
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch {
		case f.Name == reflectOutput:
			values[i] = o.write(current, variant, true, key...)
		case f.Name == ruleOutput && rule && worse:
			values[i] = o.write("", variant, false, key...)
			if values[i] == "" {
				values[i] = reflectFallback
			}
		default:
			values[i] = filler(f.Type, answer{})
		}
	}
	return render(p, values), true
}
