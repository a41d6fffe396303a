package simlm

import (
	"fmt"
	"regexp"
	"strings"
)

// This file is the simulator's model of a multi-hop retrieval program
// (dataset.Multihop): a step that writes a search query from a question
// (and, on the second hop, from the passages found so far), and a step
// that answers the question from passages in the prompt. The simulator
// knows none of the corpus's facts: it reads them from the passages in the
// prompt, as a real model does. What makes a step succeed is a graded,
// noisy function of properties of the prompt (see the multi-hop table in
// doc.go); nothing depends on words of dspex's optimizers.

// Multi-hop question forms and passage sentences the simulator can read.
var (
	mhQuestionForms = []struct {
		re   *regexp.Regexp
		kind string // country, city or profession
	}{
		{regexp.MustCompile(`^Which country is the birthplace of the author of (.+)\?$`), "country"},
		{regexp.MustCompile(`^In which city was the author of (.+) born\?$`), "city"},
		{regexp.MustCompile(`^What was the profession of the author of (.+)\?$`), "profession"},
	}
	mhBookRE   = regexp.MustCompile(`(The [A-Z][a-z]+ [A-Z][a-z]+) is an? [a-z ]+ written by ([A-Z][a-z]+ [A-Z][a-z]+) and`)
	mhPersonRE = regexp.MustCompile(`([A-Z][a-z]+ [A-Z][a-z]+) was born in ([A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?), ([A-Z][a-z]+), and worked as an? ([a-z]+)\.`)
	mhPlaceRE  = regexp.MustCompile(`(?:in|to) ([A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?)(?:,| in) ([A-Z][a-z]+)`)
	// mhEntityCues: an instruction of a query step that talks about
	// entities or names (what a second-hop query must contain).
	mhEntityCues = regexp.MustCompile(`(?i)\b(name|names|named|entity|entities|person|people|author|who)\b`)
)

// Multi-hop model parameters (see the table in doc.go).
const (
	mhHopBase      = 0.45 // second-hop query finds the bridge, zero-shot
	mhHopReason    = 0.25 // + a reasoning field before the query
	mhHopDemo      = 0.20 // + per demo that shows a bridge query (at most two)
	mhHopEntity    = 0.15 // + an instruction about names or entities
	mhReadBase     = 0.60 // reading the answer off the two passages, zero-shot
	mhReadReason   = 0.30 // + a reasoning field before the answer
	mhReadDemos    = 0.08 // + at least two demos that answer from passages
	mhTerseZero    = 0.30 // zero-shot chance of a bare answer
	mhTerseCued    = 0.90 // chance of a bare answer when the instruction clearly asks for one
	mhMaxChance    = 0.97
	mhShortDemoMax = 4 // words of a demo answer that counts as short
)

// mhQuestion is a parsed multi-hop question.
type mhQuestion struct {
	text, title, kind string
}

func parseMHQuestion(q string) (mhQuestion, bool) {
	q = strings.TrimSpace(q)
	for _, f := range mhQuestionForms {
		if m := f.re.FindStringSubmatch(q); m != nil {
			return mhQuestion{text: q, title: m[1], kind: f.kind}, true
		}
	}
	return mhQuestion{}, false
}

// mhFacts is what a set of passages says about a question.
type mhFacts struct {
	author                          string // from the book's passage
	city, country, profession, fact string // from the author's birth passage
	decoys                          []string
}

// read extracts the facts about q from passages.
func (q mhQuestion) read(passages string) mhFacts {
	var f mhFacts
	for _, m := range mhBookRE.FindAllStringSubmatch(passages, -1) {
		if m[1] == q.title {
			f.author = m[2]
		}
	}
	for _, m := range mhPersonRE.FindAllStringSubmatch(passages, -1) {
		if f.author != "" && m[1] == f.author {
			f.city, f.country, f.profession = m[2], m[3], m[4]
			f.fact = m[0]
			continue
		}
		f.decoys = append(f.decoys, q.pick(m[2], m[3], m[4]))
	}
	if q.kind != "profession" {
		for _, m := range mhPlaceRE.FindAllStringSubmatch(passages, -1) {
			f.decoys = append(f.decoys, q.pick(m[1], m[2], ""))
		}
	}
	return f
}

// pick returns the value of the question's kind.
func (q mhQuestion) pick(city, country, profession string) string {
	switch q.kind {
	case "city":
		return city
	case "country":
		return country
	}
	return profession
}

// passagesField returns the name of p's passages input ("passages" or
// "context"), or "".
func passagesField(p *prompt) string {
	for _, f := range p.Inputs {
		if f.Name == "passages" || f.Name == "context" {
			return f.Name
		}
	}
	return ""
}

// outputIndex returns the index of p's output named one of names, or -1.
func outputIndex(p *prompt, names ...string) int {
	for i, f := range p.Outputs {
		for _, n := range names {
			if f.Name == n {
				return i
			}
		}
	}
	return -1
}

// multihop answers the steps of a multi-hop program: a prompt whose
// question input is a multi-hop question and whose outputs hold a search
// query (search_query or query), or an answer with a passages input.
func multihop(p *prompt, salt string) (string, bool) {
	if !p.Structured {
		return "", false
	}
	q, ok := parseMHQuestion(p.Values["question"])
	if !ok {
		return "", false
	}
	pf := passagesField(p)
	reason := outputIndex(p, "reasoning", "rationale")
	if qi := outputIndex(p, "search_query", "query"); qi >= 0 && outputIndex(p, "answer") < 0 {
		return mhQuery(p, q, pf, qi, reason, salt), true
	}
	if ai := outputIndex(p, "answer"); ai >= 0 && pf != "" {
		return mhAnswer(p, q, pf, ai, reason, salt), true
	}
	return "", false
}

// mhQuery writes a search query. Without passages (the first hop) it is the
// question, or the book's title when the demos show queries much shorter
// than their questions. With passages (the second hop) the model has to
// notice the bridge, the book's author: it names the author with a chance
// graded by the prompt, and otherwise asks the question again.
func mhQuery(p *prompt, q mhQuestion, pf string, qi, reason int, salt string) string {
	name := p.Outputs[qi].Name
	passages := ""
	if pf != "" {
		passages = p.Values[pf]
	}
	facts := q.read(passages)
	var query, why string
	switch {
	case pf == "" || strings.TrimSpace(passages) == "" || strings.TrimSpace(passages) == "[]":
		query, why = q.text, "I search for the question itself."
		if condensedDemos(p, name) {
			query, why = q.title+" author", "I search for the book and its author."
		}
	case facts.author == "":
		query, why = q.text, "The passages do not say who wrote "+q.title+", so I search again."
	default:
		chance := mhHopBase
		if reason >= 0 && reason < qi {
			chance += mhHopReason
		}
		chance += mhHopDemo * float64(min(2, bridgeDemos(p, name, pf)))
		if mhEntityCues.MatchString(p.Objective) {
			chance += mhHopEntity
		}
		if luck(q.text, salt, "mh-hop") < min(chance, mhMaxChance) {
			query = facts.author
			why = fmt.Sprintf("The passages say %s was written by %s, so I search for %s.", q.title, facts.author, facts.author)
		} else {
			query, why = q.text, "I search for the question again."
		}
	}
	values := make([]string, len(p.Outputs))
	for i := range values {
		switch i {
		case qi:
			values[i] = query
		case reason:
			values[i] = why
		default:
			values[i] = query
		}
	}
	return render(p, values)
}

// condensedDemos reports whether most demos of a query step have a query
// of at most half their question's words.
func condensedDemos(p *prompt, name string) bool {
	n, short := 0, 0
	for _, d := range p.Demos {
		qv, ok := d.Out[name]
		if !ok {
			continue
		}
		n++
		if 2*len(strings.Fields(qv)) <= len(strings.Fields(d.In["question"])) {
			short++
		}
	}
	return n > 0 && 2*short > n
}

// bridgeDemos counts the demos of a second-hop query step whose query names
// something (a capitalised word) that is in their passages but not in
// their question: demos that show what the second hop searches for.
func bridgeDemos(p *prompt, name, pf string) int {
	n := 0
	for _, d := range p.Demos {
		qv, ps, question := d.Out[name], d.In[pf], d.In["question"]
		for _, w := range strings.Fields(qv) {
			w = strings.Trim(w, ".,;:'\"")
			if w != "" && w[0] >= 'A' && w[0] <= 'Z' && strings.Contains(ps, w) && !strings.Contains(question, w) {
				n++
				break
			}
		}
	}
	return n
}

// mhAnswer answers from the passages: right with a chance graded by the
// prompt when both passages of the chain are present, a decoy from the
// passages otherwise; as a bare value or as a sentence, by the demos'
// answers or the instruction's format constraint.
func mhAnswer(p *prompt, q mhQuestion, pf string, ai, reason int, salt string) string {
	facts := q.read(p.Values[pf])
	answered, answerDemos, short := 0, 0, 0
	for _, d := range p.Demos {
		a := strings.TrimSpace(d.Out[p.Outputs[ai].Name])
		if a == "" {
			continue
		}
		answered++
		if strings.TrimSpace(d.In[pf]) != "" {
			answerDemos++
		}
		if len(strings.Fields(a)) <= mhShortDemoMax {
			short++
		}
	}
	var value, why string
	switch {
	case facts.fact != "":
		chance := mhReadBase
		if reason >= 0 && reason < ai {
			chance += mhReadReason
		}
		if answerDemos >= 2 {
			chance += mhReadDemos
		}
		value = q.pick(facts.city, facts.country, facts.profession)
		why = fmt.Sprintf("%s was written by %s. %s", q.title, facts.author, facts.fact)
		if luck(q.text, salt, "mh-read") >= min(chance, mhMaxChance) {
			value = decoy(facts.decoys, value, q, salt)
			why = fmt.Sprintf("%s was written by %s, who is linked to %s.", q.title, facts.author, value)
		}
	case facts.author != "":
		value = decoy(facts.decoys, "", q, salt)
		why = fmt.Sprintf("%s was written by %s, but the passages do not say more about %s.", q.title, facts.author, facts.author)
	default:
		value = decoy(facts.decoys, "", q, salt)
		why = "The passages do not mention who wrote " + q.title + "."
	}
	var terse bool
	switch {
	case answered > 0:
		terse = 2*short > answered
	default:
		terse = luck(q.text, salt, "mh-style") < mhTerseChance(p.Objective)
	}
	answer := value
	if !terse {
		answer = fmt.Sprintf("Based on the passages, the answer is %s.", value)
	}
	values := make([]string, len(p.Outputs))
	for i := range values {
		switch i {
		case ai:
			values[i] = answer
		case reason:
			values[i] = why
		default:
			values[i] = value
		}
	}
	return render(p, values)
}

// decoy returns a plausible wrong value: one of the passages' other values
// of the question's kind, else "unknown".
func decoy(decoys []string, not string, q mhQuestion, salt string) string {
	var ok []string
	for _, d := range decoys {
		if d != "" && d != not {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return "unknown"
	}
	return ok[hashOf(q.text, salt, "mh-decoy")%uint64(len(ok))]
}

// reply writes the reply to a parsed chat prompt: the multi-hop model's
// when the prompt is a multi-hop step, else the general model's.
func (s *Server) reply(p *prompt, salt string) string {
	if r, ok := multihop(p, salt); ok {
		return r
	}
	return s.model.complete(p, salt)
}

// mhTerseChance is the chance of a bare answer under instruction: the
// instruction's format constraint is read as for every other task
// (readConstraint, quality.go); a clear constraint (grade 0.6, one plain
// cue) or more makes a bare answer mhTerseCued likely, a weaker one
// proportionally less, and a request to elaborate makes it rarer.
func mhTerseChance(instruction string) float64 {
	b := readConstraint(instruction).Brevity
	if b <= 0 {
		return mhTerseZero * (1 + b)
	}
	return mhTerseZero + (mhTerseCued-mhTerseZero)*min(1, b/0.6)
}
