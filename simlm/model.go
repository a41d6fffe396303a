package simlm

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/dataset"
)

// The behaviour model's constants; doc.go documents them as a table.
const (
	// mathBase is the chance that a model not asked to reason solves a
	// multi-step problem.
	mathBase = 0.2
	// mathReasoningBonus is added when an output field named reasoning or
	// rationale comes before the answer field (ChainOfThought).
	mathReasoningBonus = 0.7
	// mathDemoBonus is added with at least two demos that are dataset math
	// problems answered correctly; mathReasonedDemoBonus instead when those
	// demos also show their reasoning.
	mathDemoBonus         = 0.2
	mathReasonedDemoBonus = 0.4
	// shortDemoWords is the longest demo answer, in words, that counts as
	// short.
	shortDemoWords = 4
)

var reasoningNames = map[string]bool{"reasoning": true, "rationale": true}

// verboseForms wrap an answer so that it is still contained in the reply
// but no longer equal to the gold answer after normalisation.
var verboseForms = []string{
	"The answer to this question is %s, as far as I know.",
	"Based on what I know, it is %s.",
	"I believe the answer is %s.",
	"That would be %s, if I am not mistaken.",
}

// guesses are what the model says to questions it has never seen.
var guesses = []string{
	"the old harbour", "a small village", "the red house", "blue",
	"the second option", "the tall tower", "a quiet garden", "the northern route",
	"an early winter", "the river bank", "a wooden bridge", "the last chapter",
}

// model holds the simulator's knowledge: the dataset and, for each fact it
// does not know, the wrong answer it gives instead.
type model struct {
	items     []dataset.Item
	byKey     map[string]int
	wrong     []string // per item: the plausible wrong answer of a fact
	knowledge float64
	terse     float64
}

func newModel(items []dataset.Item, knowledge, terse float64) *model {
	m := &model{
		items:     items,
		byKey:     make(map[string]int, len(items)),
		wrong:     make([]string, len(items)),
		knowledge: knowledge,
		terse:     terse,
	}
	words := make([][]string, len(items))
	for i, it := range items {
		key := dataset.Normalize(it.Question)
		if _, dup := m.byKey[key]; !dup {
			m.byKey[key] = i
		}
		words[i] = strings.Fields(key)
	}
	for i, it := range items {
		if it.Kind == dataset.KindMath {
			continue
		}
		m.wrong[i] = m.wrongFact(i, words)
	}
	return m
}

// wrongFact picks another fact's answer for item i, among the facts whose
// questions share the longest word prefix with it ("What is the capital
// of ..."), so the mistake is plausible.
func (m *model) wrongFact(i int, words [][]string) string {
	gold := dataset.Normalize(m.items[i].Answer)
	best, cands := 0, []int(nil)
	for j, it := range m.items {
		if j == i || it.Kind == dataset.KindMath || dataset.Normalize(it.Answer) == gold {
			continue
		}
		n := 0
		for n < len(words[i]) && n < len(words[j]) && words[i][n] == words[j][n] {
			n++
		}
		switch {
		case n > best:
			best, cands = n, []int{j}
		case n == best:
			cands = append(cands, j)
		}
	}
	if len(cands) == 0 {
		return guesses[hashOf(m.items[i].Question)%uint64(len(guesses))]
	}
	return m.items[cands[hashOf(m.items[i].Question, "wrong")%uint64(len(cands))]].Answer
}

// find looks question up: the whole text first, then runs of its sentences
// (a question may be embedded in a longer message).
func (m *model) find(text string) (dataset.Item, bool) {
	if i, ok := m.byKey[dataset.Normalize(text)]; ok {
		return m.items[i], true
	}
	var sentences []string
	start := 0
	for i, r := range text {
		if r == '.' || r == '?' || r == '!' || r == '\n' {
			sentences = append(sentences, text[start:i+1])
			start = i + 1
		}
	}
	sentences = append(sentences, text[start:])
	const maxSentences, maxRun = 200, 8
	if len(sentences) > maxSentences {
		sentences = sentences[len(sentences)-maxSentences:]
	}
	for i := range sentences {
		for j := i + 1; j <= len(sentences) && j-i <= maxRun; j++ {
			if k, ok := m.byKey[dataset.Normalize(strings.Join(sentences[i:j], ""))]; ok {
				return m.items[k], true
			}
		}
	}
	return dataset.Item{}, false
}

// answer is the model's decision for one question.
type answer struct {
	Question  string
	Item      dataset.Item
	Known     bool // the question is in the dataset
	Value     string
	Reasoning string
	Numeric   bool
}

// decide answers question given the prompt's grades; salt carries the
// sampling luck (empty at temperature 0).
func (m *model) decide(question string, g grades, salt string) answer {
	it, ok := m.find(question)
	a := answer{Question: question, Item: it, Known: ok}
	switch {
	case !ok && imagesIn(question) != "":
		a.Value = imagesIn(question)
		a.Reasoning = "The image shows " + a.Value + "."
	case !ok && looksNumeric(question):
		n := hashOf(question, salt, "guess")%90 + 10
		a.Value, a.Numeric = strconv.FormatUint(n, 10), true
		a.Reasoning = "I do not recognise this problem, so I estimate the result as " + a.Value + "."
	case !ok:
		a.Value = guesses[hashOf(question, "guess")%uint64(len(guesses))]
		a.Reasoning = "I do not recognise this question, so my best guess is " + a.Value + "."
	case it.Kind == dataset.KindMath:
		a.Numeric = true
		a.Value, a.Reasoning = m.solve(it, g, salt)
	default:
		i := m.byKey[dataset.Normalize(it.Question)]
		a.Value = it.Answer
		if luck(it.Question, "knows") >= g.Recall {
			a.Value = m.wrong[i]
		}
		a.Reasoning = fmt.Sprintf("The question asks: %s I recall that the answer is %s.", strings.TrimSpace(it.Question), a.Value)
	}
	return a
}

// solve works a math problem: right for one step; for more, right with
// probability g.Math, otherwise it stops after the first step.
func (m *model) solve(it dataset.Item, g grades, salt string) (value, reasoning string) {
	results := make([]string, len(it.Work))
	for i, eq := range it.Work {
		if j := strings.LastIndex(eq, "="); j >= 0 {
			results[i] = strings.TrimSpace(eq[j+1:])
		}
	}
	chance := g.Math
	for range it.Steps - mathLongSteps {
		chance *= longMathDecay // many operands: more room to slip
	}
	if it.Steps <= 1 || luck(it.Question, salt, "math") < chance {
		return it.Answer, "We work it out step by step. " + strings.Join(it.Work, ". ") + ". So the answer is " + it.Answer + "."
	}
	wrong := ""
	for _, r := range results {
		if r != it.Answer {
			wrong = r
			break
		}
	}
	if wrong == "" {
		n, _ := strconv.Atoi(it.Answer)
		wrong = strconv.Itoa(n + 1)
	}
	first := it.Work[0]
	if j := strings.LastIndex(first, "="); j >= 0 {
		first = first[:j+1] + " " + wrong
	}
	return wrong, "We compute " + first + ". So the answer is " + wrong + "."
}

func looksNumeric(q string) bool {
	lq := strings.ToLower(q)
	return strings.ContainsAny(q, "0123456789") && (strings.Contains(lq, "how many") || strings.Contains(lq, "how much"))
}

// containsAny reports whether text holds one of words, case-insensitively.
func containsAny(text string, words []string) bool {
	lt := strings.ToLower(text)
	for _, w := range words {
		if strings.Contains(lt, w) {
			return true
		}
	}
	return false
}

// verbose wraps v in one of verboseForms, chosen by the question and salt.
func verbose(v, question, salt string) string {
	return fmt.Sprintf(verboseForms[hashOf(question, salt, "form")%uint64(len(verboseForms))], v)
}

// complete writes the reply to a parsed prompt.
func (m *model) complete(p *prompt, salt string) string {
	if !p.Structured {
		return m.chat(p, salt)
	}
	if reply, ok := m.code(p, salt); ok {
		return reply
	}
	if isAgentStep(p) {
		return m.agentStep(p)
	}
	if isAdviceStep(p) {
		return m.adviceStep(p)
	}
	if reply, ok := m.reflect(p, salt); ok {
		return reply
	}
	if reply, ok := m.propose(p, salt); ok {
		return reply
	}
	if reply, ok := m.summarize(p); ok {
		return reply
	}
	ansIdx, reasonIdx := -1, -1
	for i, f := range p.Outputs {
		switch {
		case reasoningNames[f.Name] && reasonIdx < 0:
			reasonIdx = i
		case f.Name == "answer":
			ansIdx = i
		}
	}
	if ansIdx < 0 {
		for i, f := range p.Outputs {
			if !reasoningNames[f.Name] {
				ansIdx = i
				break
			}
		}
	}
	ansName := ""
	if ansIdx >= 0 {
		ansName = p.Outputs[ansIdx].Name
	}
	qName := "question"
	if _, ok := p.Values[qName]; !ok && len(p.Inputs) > 0 {
		qName = p.Inputs[0].Name
	}
	question := p.Values[qName]
	if imagesIn(question) == "" {
		// A question the simulator does not know, about an image in
		// another input: it answers from what it sees (media.go).
		if _, known := m.find(question); !known {
			for _, f := range p.Inputs {
				if d := imagesIn(p.Values[f.Name]); d != "" {
					question = p.Values[f.Name]
					break
				}
			}
		}
	}

	it, known := m.find(question)
	f := m.extract(p, qName, ansName, it, known)
	f.ReasoningFirst = reasonIdx >= 0 && (ansIdx < 0 || reasonIdx < ansIdx)
	g := quality(f, m.terse, m.knowledge)
	a := m.decide(question, g, salt)
	terse := luck(question, salt, "style") < g.Terse

	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch i {
		case reasonIdx:
			values[i] = a.Reasoning
		case ansIdx:
			values[i] = renderAnswer(f.Type, a, terse, salt)
		default:
			values[i] = filler(f.Type, a)
		}
		if s, ok := p.Schemas[f.Name]; ok {
			var raw bool
			values[i], raw = conform(s, values[i], a.Value)
			if raw {
				if p.raw == nil {
					p.raw = map[string]bool{}
				}
				p.raw[f.Name] = true
			}
		}
	}
	return render(p, values)
}

// chat answers a plain chat message.
func (m *model) chat(p *prompt, salt string) string {
	text := strings.TrimSpace(p.Text)
	all := p.System + "\n" + text
	c := readConstraint(all)
	g := quality(features{Constraint: c, ReasoningFirst: c.Reason >= 0.5, Phrasing: all}, m.terse, m.knowledge)
	if v, ok := readPassage(text); ok {
		if p.WantJSON {
			b, _ := json.Marshal(map[string]string{"answer": v})
			return string(b)
		}
		return v
	}
	a := m.decide(text, g, salt)
	var reply string
	switch {
	case !a.Known && text == "":
		reply = "Hello! I am simlm, the dspex model simulator. Ask me a question."
	case luck(text, salt, "style") < g.Terse:
		reply = a.Value
	default:
		reply = verbose(a.Value, text, salt)
	}
	if c.Reason >= 0.5 && a.Known {
		reply = a.Reasoning + "\n\n" + reply
	}
	if p.WantJSON {
		b, _ := json.Marshal(map[string]string{"answer": reply})
		return string(b)
	}
	return reply
}

// hasToken reports whether the normalised text contains want as a whole
// word.
func hasToken(text, want string) bool {
	w := dataset.Normalize(want)
	for _, t := range strings.Fields(dataset.Normalize(text)) {
		if t == w {
			return true
		}
	}
	return dataset.Normalize(text) == w
}

// kindOf maps a DSPy type spelling to its shape.
func kindOf(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case t == "int", t == "float", t == "bool":
		return t
	case strings.HasPrefix(t, "list"), strings.HasPrefix(t, "tuple"):
		return "list"
	case strings.HasPrefix(t, "dict"), t == "json", t == "object", t == "any":
		return "dict"
	case strings.HasPrefix(t, "literal["):
		return "literal"
	}
	return "str"
}

// renderAnswer writes the answer value for the answer field's type.
func renderAnswer(typ string, a answer, terse bool, salt string) string {
	switch kindOf(typ) {
	case "int":
		if n, err := strconv.ParseFloat(a.Value, 64); err == nil {
			return strconv.Itoa(int(n))
		}
		return strconv.FormatUint(hashOf(a.Question, "int")%100, 10)
	case "float":
		if _, err := strconv.ParseFloat(a.Value, 64); err == nil {
			return a.Value
		}
		return fmt.Sprintf("%d.5", hashOf(a.Question, "float")%100)
	case "bool":
		switch strings.ToLower(a.Value) {
		case "false", "no":
			return "False"
		}
		return "True"
	case "list":
		if a.Numeric && strings.Contains(strings.ToLower(typ), "int") {
			return "[" + a.Value + "]"
		}
		b, _ := json.Marshal([]string{a.Value})
		return string(b)
	case "dict":
		b, _ := json.Marshal(map[string]string{"answer": a.Value})
		return string(b)
	case "literal":
		return firstLiteral(typ)
	}
	if terse {
		return a.Value
	}
	return verbose(a.Value, a.Question, salt)
}

// filler writes a value for an output field the simulator has no special
// knowledge of, typed by the field's declared type.
func filler(typ string, a answer) string {
	switch kindOf(typ) {
	case "int":
		return strconv.FormatUint(hashOf(a.Question, "filler")%10+1, 10)
	case "float":
		return "0.9"
	case "bool":
		return "True"
	case "list":
		if strings.Contains(strings.ToLower(typ), "int") {
			return "[1]"
		}
		b, _ := json.Marshal([]string{a.Value})
		return string(b)
	case "dict":
		b, _ := json.Marshal(map[string]string{"value": a.Value})
		return string(b)
	case "literal":
		return firstLiteral(typ)
	}
	return a.Reasoning
}

// firstLiteral returns the first option of "Literal['a', 'b']".
func firstLiteral(typ string) string {
	inner := typ[strings.IndexByte(typ, '[')+1:]
	inner = strings.TrimSuffix(strings.TrimSpace(inner), "]")
	first, _, _ := strings.Cut(inner, ",")
	return strings.Trim(strings.TrimSpace(first), `'"`)
}

// renderJSON writes the outputs as one JSON object, fields in order and
// values typed: numbers, booleans and JSON values raw, the rest as strings.
func renderJSON(outputs []fieldDecl, values []string, raw map[string]bool) string {
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range outputs {
		key, _ := json.Marshal(f.Name)
		var val []byte
		if raw[f.Name] {
			val = []byte(values[i])
		}
		switch kindOf(f.Type) {
		case "int", "float", "list", "dict":
			if val == nil && json.Valid([]byte(values[i])) {
				val = []byte(values[i])
			}
		case "bool":
			if val == nil {
				val = []byte(strings.ToLower(values[i]))
			}
		}
		if val == nil {
			val, _ = json.Marshal(values[i])
		}
		fmt.Fprintf(&b, "  %s: %s", key, val)
		if i < len(outputs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}")
	return b.String()
}
