package simlm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The field names of a ReAct step, as dspex's programs.ReAct (and DSPy's
// ReAct) declare them.
const (
	agentThought  = "next_thought"
	agentToolName = "next_tool_name"
	agentToolArgs = "next_tool_args"
	agentFinish   = "finish"
	agentFailed   = "Failed to execute"
)

// toolLine matches one tool of a ReAct step's instructions:
// "(2) lookup, whose description is <desc>...</desc>. It takes arguments {...} in JSON format."
var toolLine = regexp.MustCompile(`^\((\d+)\) ([A-Za-z_][A-Za-z0-9_]*)(?:, whose description is <desc>(.*?)</desc>)?\. It takes arguments (\{.*\}) in JSON format\.$`)

// agentTool is a tool offered to the simulated agent.
type agentTool struct {
	name string
	args []agentArg // in the order the schema lists them
}

// agentArg is one argument of a tool, as its JSON schema describes it.
type agentArg struct {
	name  string
	typ   string // JSON schema type; "" for any value
	desc  string
	enum  []string
	items string // the type of an array's items
}

// isAgentStep reports whether p asks for a ReAct step.
func isAgentStep(p *prompt) bool {
	var name, args bool
	for _, f := range p.Outputs {
		name = name || f.Name == agentToolName
		args = args || f.Name == agentToolArgs
	}
	return name && args
}

// parseTools reads the tools listed in a ReAct step's instructions. A line
// whose argument schema does not parse is not a tool.
func parseTools(objective string) []agentTool {
	var tools []agentTool
	for line := range strings.SplitSeq(objective, "\n") {
		m := toolLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		args, err := parseArgs([]byte(m[4]))
		if err != nil {
			continue
		}
		tools = append(tools, agentTool{name: m[2], args: args})
	}
	return tools
}

// parseArgs reads a JSON object of argument schemas, keeping its order.
func parseArgs(raw []byte) ([]agentArg, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("the arguments are not a JSON object")
	}
	var args []agentArg
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var schema struct {
			Type  any    `json:"type"`
			Desc  string `json:"description"`
			Enum  []any  `json:"enum"`
			Items struct {
				Type any `json:"type"`
			} `json:"items"`
		}
		if err := dec.Decode(&schema); err != nil {
			return nil, err
		}
		a := agentArg{name: name, desc: schema.Desc}
		a.typ, _ = schema.Type.(string)
		a.items, _ = schema.Items.Type.(string)
		for _, e := range schema.Enum {
			if s, ok := e.(string); ok {
				a.enum = append(a.enum, s)
			}
		}
		args = append(args, a)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return args, nil
}

// agentStep writes the next step of a simulated ReAct agent whose tools
// and trajectory are text in the prompt (see agentDecide).
func (m *model) agentStep(p *prompt) string {
	var past []agentObs
	for i := 0; ; i++ {
		name, ok := p.Values["tool_name_"+strconv.Itoa(i)]
		if !ok {
			break
		}
		past = append(past, agentObs{tool: strings.TrimSpace(name), observation: p.Values["observation_"+strconv.Itoa(i)]})
	}
	thought, tool, args := agentDecide(agentQuestion(p), parseTools(p.Objective), past)
	argsJSON, _ := json.Marshal(args)
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch f.Name {
		case agentThought:
			values[i] = thought
		case agentToolName:
			values[i] = tool
		case agentToolArgs:
			values[i] = string(argsJSON)
		default:
			values[i] = filler(f.Type, answer{})
		}
	}
	return render(p, values)
}

// agentObs is a tool call the agent made and what the tool answered.
type agentObs struct {
	tool        string
	observation string
	failed      bool // the protocol marked the result an error (Anthropic's is_error)
}

// agentQuestion is what the agent works on: the "question" input, else
// the first input, else (a plain chat) the last user message.
func agentQuestion(p *prompt) string {
	question := p.Values["question"]
	if question == "" && len(p.Inputs) > 0 {
		question = p.Values[p.Inputs[0].Name]
	}
	if question == "" && !p.Structured {
		question = p.Text
	}
	return strings.TrimSpace(question)
}

// agentDecide is the simulated agent's policy, the same whether its tools
// come as text or through a tool-calling protocol. It is a fixed policy,
// not reasoning: while no tool has returned a usable observation, it calls
// the next tool it has not tried whose arguments it can fill from the
// question (see fillArgs); once a tool succeeded, or no untried tool fits,
// it calls finish with no arguments.
func agentDecide(question string, tools []agentTool, past []agentObs) (thought, tool string, args map[string]any) {
	tried := map[string]bool{}
	succeeded := ""
	for _, o := range past {
		tried[o.tool] = true
		obs := strings.TrimSpace(o.observation)
		if o.tool != agentFinish && obs != "" && !o.failed && !strings.HasPrefix(obs, agentFailed) && succeeded == "" {
			succeeded = o.tool
		}
	}
	tool, args = agentFinish, map[string]any{}
	if succeeded != "" {
		return fmt.Sprintf("The %s tool gave me what I need, so I can finish.", succeeded), tool, args
	}
	for _, t := range tools {
		if t.name == agentFinish || tried[t.name] {
			continue
		}
		filled, ok := fillArgs(t.args, question)
		if !ok {
			continue
		}
		return fmt.Sprintf("I should use the %s tool to answer: %s", t.name, strings.Join(strings.Fields(question), " ")), t.name, filled
	}
	return "No tool could help; I will answer from what I know.", tool, args
}

// queryWords, in an argument's name or description, mark an argument that
// takes the whole question rather than its key entity.
var queryWords = []string{"query", "question", "text", "prompt", "input", "search", "sentence"}

// fillArgs fills a tool's arguments from the question, or reports that the
// tool does not fit it:
//
//   - a string with an enum: the first option the question mentions, else
//     the first option;
//   - a string whose name or description mentions a query, question, text,
//     prompt, input, search or sentence: the question; any other string:
//     the question's key entity (see keyEntity), else the question;
//   - an integer or a number: the next number of the question, in order (an
//     integer argument needs a whole number); none left: no fit;
//   - a boolean: true; a value of any type: the question;
//   - an array of strings: the string argument's value as its only item;
//     any other array or an object: no fit.
func fillArgs(args []agentArg, question string) (map[string]any, bool) {
	numbers := numberRE.FindAllString(question, -1)
	out := make(map[string]any, len(args))
	for _, a := range args {
		switch a.typ {
		case "string":
			out[a.name] = stringArg(a, question)
		case "integer", "number":
			if len(numbers) == 0 {
				return nil, false
			}
			v, err := strconv.ParseFloat(numbers[0], 64)
			if err != nil || (a.typ == "integer" && v != float64(int64(v))) {
				return nil, false
			}
			numbers = numbers[1:]
			out[a.name] = v
		case "boolean":
			out[a.name] = true
		case "":
			out[a.name] = question
		case "array":
			if a.items != "string" {
				return nil, false
			}
			out[a.name] = []string{stringArg(a, question)}
		default:
			return nil, false
		}
	}
	return out, true
}

// stringArg is the value of a string argument for question.
func stringArg(a agentArg, question string) string {
	if len(a.enum) > 0 {
		lq := strings.ToLower(question)
		for _, e := range a.enum {
			if e != "" && strings.Contains(lq, strings.ToLower(e)) {
				return e
			}
		}
		return a.enum[0]
	}
	if containsAny(a.name+" "+a.desc, queryWords) {
		return question
	}
	if e := keyEntity(question); e != "" {
		return e
	}
	return question
}

// connectors may join the capitalised words of a name ("Bay of Bengal").
var connectors = map[string]bool{"of": true, "and": true, "the": true, "de": true, "la": true, "von": true, "van": true, "du": true}

// keyEntity returns the question's key entity: the last run of capitalised
// words that does not open a sentence, where "of", "and", "the" and a few
// such words may join two capitalised words ("the capital of New Zealand"
// gives "New Zealand"; "Who painted the Mona Lisa?" gives "Mona Lisa").
// Punctuation ends a run. It returns "" when the question names nothing.
func keyEntity(question string) string {
	var last, cur []string
	end := func() {
		for len(cur) > 0 && connectors[strings.ToLower(cur[len(cur)-1])] {
			cur = cur[:len(cur)-1] // a run never ends in a connector
		}
		if len(cur) > 0 {
			last = cur
		}
		cur = nil
	}
	sentenceStart := true
	for _, tok := range strings.Fields(question) {
		word := strings.TrimLeftFunc(tok, isQuote)
		word = strings.TrimRightFunc(word, func(r rune) bool { return unicode.IsPunct(r) || isQuote(r) })
		first, _ := utf8.DecodeRuneInString(word)
		switch {
		case word == "" || sentenceStart || word == "I":
			end()
		case unicode.IsUpper(first):
			cur = append(cur, word)
		case len(cur) > 0 && connectors[strings.ToLower(word)]:
			cur = append(cur, word)
		default:
			end()
		}
		tail := strings.TrimRightFunc(tok, isQuote)
		sentenceStart = strings.HasSuffix(tail, ".") || strings.HasSuffix(tail, "?") || strings.HasSuffix(tail, "!")
		if r, _ := utf8.DecodeLastRuneInString(tail); tail != tok || unicode.IsPunct(r) {
			end()
		}
	}
	end()
	return strings.Join(last, " ")
}

// isQuote reports whether r is a quotation mark or a bracket.
func isQuote(r rune) bool { return strings.ContainsRune("\"'“”‘’«»()[]", r) }

// render writes the values of p's output fields in the format p asked for:
// a JSON object, or [[ ## field ## ]] markers ending with completed.
func render(p *prompt, values []string) string {
	if p.WantJSON {
		return renderJSON(p.Outputs, values, p.raw)
	}
	var b strings.Builder
	for i, f := range p.Outputs {
		fmt.Fprintf(&b, "[[ ## %s ## ]]\n%s\n\n", f.Name, values[i])
	}
	b.WriteString("[[ ## completed ## ]]")
	return b.String()
}

var numberRE = regexp.MustCompile(`-?\d+(?:\.\d+)?`)
