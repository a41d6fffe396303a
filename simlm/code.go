package simlm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/dataset"
)

// The field names of the code-writing modules' prompts, as DSPy's
// ProgramOfThought, CodeAct and RLM declare them (dspy/predict/
// program_of_thought.py, code_act.py, rlm.py).
const (
	codeGenerated  = "generated_code" // ProgramOfThought and CodeAct
	codeFinished   = "finished"       // CodeAct
	codePrevError  = "error"          // ProgramOfThought's regenerate step
	codeOutput     = "code_output"    // ProgramOfThought's answer step
	codeTrajectory = "trajectory"     // CodeAct
	rlmCode        = "code"           // RLM's action step
	rlmHistory     = "repl_history"
	rlmVariables   = "variables_info"
)

// bugRate is the chance that the first program written for a problem has a
// bug (a misspelt variable in its last step), fixed when the error is
// shown.
const bugRate = 0.35

// longMathDecay multiplies the chance of solving a problem, without code,
// for every step beyond mathLongSteps: arithmetic with many operands is
// error-prone in the head.
const (
	mathLongSteps = 3
	longMathDecay = 0.6
)

func hasField(fs []fieldDecl, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// code answers the prompts of the code-writing modules; ok is false for
// any other prompt.
func (m *model) code(p *prompt, salt string) (string, bool) {
	switch {
	case hasField(p.Outputs, codeGenerated) && hasField(p.Outputs, codeFinished):
		return m.codeActStep(p), true
	case hasField(p.Outputs, codeGenerated):
		return m.programStep(p, salt), true
	case hasField(p.Outputs, rlmCode) && hasField(p.Inputs, rlmHistory) && hasField(p.Inputs, rlmVariables):
		return m.rlmStep(p), true
	case hasField(p.Inputs, codeOutput):
		return m.fromOutput(p, p.Values[codeOutput], salt), true
	case hasField(p.Inputs, codeTrajectory) && lastCodeOutput(p.Values) != "":
		return m.fromOutput(p, lastCodeOutput(p.Values), salt), true
	}
	return "", false
}

// question returns the prompt's question: the input named question, else
// the first input.
func (p *prompt) question() string {
	if q, ok := p.Values["question"]; ok {
		return strings.TrimSpace(q)
	}
	for _, f := range p.Inputs {
		if f.Name != codeTrajectory {
			return strings.TrimSpace(p.Values[f.Name])
		}
	}
	return ""
}

var (
	backquotedName = regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*)`")
	nounRE         = regexp.MustCompile(`(?i)how many ([a-z][a-z ]*?) (?:does|do|did|are|is|will)\b`)
	equationRE     = regexp.MustCompile(`^\s*(-?\d+)\s*([-+*/])\s*(-?\d+)\s*=\s*(-?\d+)\s*$`)
)

// finalNames reads the names a program must return from ProgramOfThought's
// instructions: the backquoted names after `FINAL()` on its line, else on
// a line "... mapping for `answer`." (DSPy's wording); "answer" when none.
func finalNames(objective string) []string {
	for _, marker := range []string{"FINAL()`", "mapping for"} {
		for line := range strings.SplitSeq(objective, "\n") {
			if _, tail, ok := strings.Cut(line, marker); ok {
				var names []string
				for _, m := range backquotedName.FindAllStringSubmatch(tail, -1) {
					names = append(names, m[1])
				}
				if len(names) > 0 {
					return names
				}
			}
		}
	}
	return []string{"answer"}
}

// program writes Starlark that works a math problem through its
// equations, in a variable named after what is counted; buggy misspells
// the variable in the last step. end is the last statement, given the
// variable.
func program(it dataset.Item, buggy bool, end func(v string) string) string {
	v := "total"
	if m := nounRE.FindStringSubmatch(it.Question); m != nil {
		v = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(m[1])), " ", "_")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", strings.Join(strings.Fields(it.Question), " "))
	for i, eq := range it.Work {
		m := equationRE.FindStringSubmatch(eq)
		if m == nil {
			continue
		}
		if i == 0 {
			fmt.Fprintf(&b, "%s = %s\n", v, m[1])
		}
		op := m[2]
		if op == "/" {
			op = "//"
		}
		src := v
		if buggy && i == len(it.Work)-1 && len(v) > 2 {
			src = v[:1] + v[2:3] + v[1:2] + v[3:] // swap two letters
			if src == v {
				src = v + "_"
			}
		}
		fmt.Fprintf(&b, "%s = %s %s %s\n", v, src, op, m[3])
	}
	b.WriteString(end(v))
	return b.String()
}

// guessProgram is what the model writes for a problem it does not know:
// it adds the numbers of the question.
func guessProgram(question string, end func(v string) string) string {
	nums := numberRE.FindAllString(question, -1)
	if len(nums) == 0 {
		nums = []string{"0"}
	}
	return fmt.Sprintf("numbers = [%s]\ntotal = 0\nfor n in numbers:\n    total += n\n%s", strings.Join(nums, ", "), end("total"))
}

// programStep writes ProgramOfThought's code: a program that ends by
// calling FINAL with the output names. A first program (no error shown)
// has a bug with probability bugRate, by the question's luck.
func (m *model) programStep(p *prompt, salt string) string {
	question := p.question()
	retry := strings.TrimSpace(p.Values[codePrevError]) != "" && hasField(p.Inputs, codePrevError)
	names := finalNames(p.Objective)
	end := func(v string) string {
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%q: %s", n, v)
		}
		return "FINAL({" + strings.Join(parts, ", ") + "})\n"
	}
	var code, reasoning string
	if it, ok := m.find(question); ok && it.Kind == dataset.KindMath {
		buggy := !retry && luck(it.Question, salt, "bug") < bugRate
		code = program(it, buggy, end)
		reasoning = fmt.Sprintf("I translate each step of the problem into one line of code and return the result as %s.", strings.Join(names, ", "))
		if retry {
			reasoning = "The previous code failed: " + firstLine(p.Values[codePrevError]) + ". I fix the variable names and run the steps again."
		}
	} else {
		code = guessProgram(question, end)
		reasoning = "I do not recognise this problem, so I add up its numbers."
	}
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch f.Name {
		case codeGenerated:
			values[i] = "```python\n" + code + "```"
		default:
			values[i] = reasoning
		}
	}
	return render(p, values)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// fromOutput answers the outputs from what code printed or returned: the
// model copies a computed result rather than working it out. The answer
// is the JSON object's value under the answer field's name, else the
// output's last line.
func (m *model) fromOutput(p *prompt, out, salt string) string {
	out = strings.TrimSpace(out)
	ansName := "answer"
	for _, f := range p.Outputs {
		if !reasoningNames[f.Name] {
			ansName = f.Name
			break
		}
	}
	value := out
	var obj map[string]any
	if json.Unmarshal([]byte(out), &obj) == nil {
		if v, ok := obj[ansName]; ok {
			value = fmt.Sprint(v)
			if f, isNum := v.(float64); isNum && f == float64(int64(f)) {
				value = strconv.FormatInt(int64(f), 10)
			}
		}
	} else if lines := strings.Split(out, "\n"); len(lines) > 0 {
		value = strings.TrimSpace(lines[len(lines)-1])
	}
	question := p.question()
	_, numeric := strconv.ParseFloat(value, 64)
	a := answer{Question: question, Known: true, Value: value, Numeric: numeric == nil,
		Reasoning: fmt.Sprintf("The code computed %s, so that is the answer.", value)}
	g := quality(features{Constraint: readConstraint(p.Objective), Phrasing: p.Objective}, m.terse, m.knowledge)
	terse := luck(question, salt, "style") < g.Terse
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch {
		case reasoningNames[f.Name]:
			values[i] = a.Reasoning
		case f.Name == ansName:
			values[i] = renderAnswer(f.Type, a, terse, salt)
		default:
			values[i] = filler(f.Type, a)
		}
	}
	return render(p, values)
}

// lastCodeOutput returns the last code_output_N of a CodeAct trajectory
// (its keys read as values of the prompt), or "".
func lastCodeOutput(values map[string]string) string {
	out := ""
	for i := 0; i < 100; i++ {
		_, code := values["generated_code_"+strconv.Itoa(i)]
		o, hasOut := values["code_output_"+strconv.Itoa(i)]
		_, obs := values["observation_"+strconv.Itoa(i)]
		if !code && !hasOut && !obs {
			break
		}
		if hasOut && strings.TrimSpace(o) != "" {
			out = o
		}
	}
	return out
}

// codeActStep writes CodeAct's next snippet, a fixed policy: call each
// listed tool whose arguments fit the question (as ReAct's simulated agent
// fills them), printing its result, until one prints something; then
// finish. When no tool is left, compute the answer in code (a dataset
// math problem's program) and finish.
func (m *model) codeActStep(p *prompt) string {
	question := p.question()
	tried := map[string]bool{}
	usable := false
	for i := 0; i < 100; i++ {
		code, hasCode := p.Values["generated_code_"+strconv.Itoa(i)]
		out, hasOut := p.Values["code_output_"+strconv.Itoa(i)]
		_, hasObs := p.Values["observation_"+strconv.Itoa(i)]
		if !hasCode && !hasOut && !hasObs {
			break
		}
		for _, t := range parseTools(p.Objective) {
			if strings.Contains(code, t.name+"(") {
				tried[t.name] = true
			}
		}
		if hasOut && strings.TrimSpace(out) != "" {
			usable = true
		}
	}
	var code, reasoning string
	finished := false
	if usable {
		code, finished = "print(result)\n", true
		reasoning = "The last snippet printed what I need."
	} else {
		for _, t := range parseTools(p.Objective) {
			if tried[t.name] {
				continue
			}
			args, ok := fillArgs(t.args, question)
			if !ok {
				continue
			}
			var kw []string
			for _, a := range t.args {
				raw, _ := json.Marshal(args[a.name])
				kw = append(kw, fmt.Sprintf("%s=%s", a.name, pyLiteral(raw)))
			}
			code = fmt.Sprintf("result = %s(%s)\nprint(result)\n", t.name, strings.Join(kw, ", "))
			reasoning = "I call " + t.name + " to find what I need."
			break
		}
		if code == "" {
			finished = true
			reasoning = "No tool helped, so I compute the answer myself."
			end := func(v string) string { return fmt.Sprintf("result = %s\nprint(result)\n", v) }
			if it, ok := m.find(question); ok && it.Kind == dataset.KindMath {
				code = program(it, false, end)
			} else {
				code = guessProgram(question, end)
			}
		}
	}
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch f.Name {
		case codeGenerated:
			values[i] = "```python\n" + code + "```"
		case codeFinished:
			values[i] = map[bool]string{true: "True", false: "False"}[finished]
		default:
			values[i] = reasoning
		}
	}
	return render(p, values)
}

// pyLiteral turns a JSON value into Python source: JSON is Python, but for
// true, false and null.
func pyLiteral(raw []byte) string {
	switch s := string(raw); s {
	case "true":
		return "True"
	case "false":
		return "False"
	case "null":
		return "None"
	default:
		return s
	}
}
