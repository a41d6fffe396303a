package simlm

import (
	"encoding/json"
	"strings"

	"github.com/dspex-go/dspex/schema"
)

// fieldDecl is a field as the system message declares it.
type fieldDecl struct {
	Name string
	Type string // the DSPy spelling: "str", "int", "list[str]", ...
}

// demo is one user/assistant example pair.
type demo struct {
	In  map[string]string
	Out map[string]string
}

// prompt is what the simulator reads from a chat request.
type prompt struct {
	// Structured reports a DSPy Chat or JSON adapter prompt; otherwise the
	// request is plain chat and Text holds the last user message.
	Structured bool
	Inputs     []fieldDecl
	Outputs    []fieldDecl
	Objective  string
	Demos      []demo
	Values     map[string]string
	WantJSON   bool
	System     string
	Text       string
	// Schemas maps output fields to the JSON schema their value must
	// follow: from the prompt's type notes, or from a structured-outputs
	// request.
	Schemas map[string]schema.Object
	// raw marks the output values that are JSON text (set by complete for
	// values built from a schema), which a JSON reply writes unquoted.
	raw map[string]bool
}

const (
	inputsHeader    = "Your input fields are:"
	outputsHeader   = "Your output fields are:"
	structureHeader = "All interactions will be structured"
	objectiveHeader = "your objective is:"
	jsonOutputsLine = "Outputs will be a JSON object"
	respondChat     = "Respond with the corresponding output fields"
	respondJSON     = "Respond with a JSON object"
	completedMarker = "completed"
)

// parsePrompt reads a conversation in the DSPy Chat or JSON adapter wire
// format, or falls back to plain chat. It never fails: whatever cannot be
// understood is left empty.
func parsePrompt(msgs []message, jsonFormat bool) *prompt {
	p := &prompt{WantJSON: jsonFormat, Values: map[string]string{}}
	var system []string
	var rest []message
	for _, m := range msgs {
		if (m.Role == "system" || m.Role == "developer") && len(rest) == 0 {
			system = append(system, m.Text)
			continue
		}
		rest = append(rest, m)
	}
	p.System = strings.Join(system, "\n\n")
	last := -1
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i].Role == "user" {
			last = i
			break
		}
	}
	if last >= 0 {
		p.Text = rest[last].Text
	}
	p.Inputs, p.Outputs, p.Objective = parseSystem(p.System)
	p.Schemas = noteSchemas(p.System)
	if strings.Contains(p.System, jsonOutputsLine) || strings.Contains(p.Text, respondJSON) {
		p.WantJSON = true
	}
	values, order := parseMarkers(stripInstructionTail(p.Text))
	p.Structured = len(p.Outputs) > 0 || len(order) > 0
	if !p.Structured {
		return p
	}
	p.Values = values
	if len(p.Inputs) == 0 {
		for _, name := range order {
			p.Inputs = append(p.Inputs, fieldDecl{Name: name, Type: "str"})
		}
	}
	if len(p.Outputs) == 0 {
		p.Outputs = outputsFromInstruction(p.Text)
	}
	if len(p.Outputs) == 0 {
		p.Outputs = []fieldDecl{{Name: "answer", Type: "str"}}
	}
	if last > 0 {
		p.Demos = parseDemos(rest[:last])
	}
	return p
}

// stripInstructionTail cuts the final "Respond with ..." paragraph off the
// last user message, so that it does not end up in the last input's value.
func stripInstructionTail(s string) string {
	for _, marker := range []string{respondChat, respondJSON} {
		if i := strings.LastIndex(s, marker); i >= 0 && (i == 0 || s[i-1] == '\n') {
			s = s[:i]
		}
	}
	return s
}

// outputsFromInstruction reads the output names from the last user
// message's closing instruction when the system message did not declare
// them: "... starting with the field `[[ ## answer ## ]]` ..." or "... in
// the following order of fields: `reasoning`, then `answer`.".
func outputsFromInstruction(text string) []fieldDecl {
	i := strings.LastIndex(text, respondChat)
	if i < 0 {
		i = strings.LastIndex(text, respondJSON)
	}
	if i < 0 {
		return nil
	}
	var out []fieldDecl
	seen := map[string]bool{}
	tail := text[i:]
	for {
		a := strings.IndexByte(tail, '`')
		if a < 0 {
			break
		}
		b := strings.IndexByte(tail[a+1:], '`')
		if b < 0 {
			break
		}
		name := strings.TrimSpace(tail[a+1 : a+1+b])
		tail = tail[a+b+2:]
		name = strings.TrimSuffix(strings.TrimPrefix(name, "[[ ## "), " ## ]]")
		if isIdent(name) && name != completedMarker && !seen[name] {
			seen[name] = true
			out = append(out, fieldDecl{Name: name, Type: "str"})
		}
	}
	return out
}

// parseSystem reads the field lists and the objective of a DSPy system
// message.
func parseSystem(sys string) (inputs, outputs []fieldDecl, objective string) {
	section := 0 // 1: inputs, 2: outputs
	lines := strings.Split(sys, "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, inputsHeader):
			section = 1
			continue
		case strings.HasPrefix(t, outputsHeader):
			section = 2
			continue
		case strings.HasPrefix(t, structureHeader):
			section = 0
		}
		if j := strings.Index(line, objectiveHeader); j >= 0 {
			objective = dedent(line[j+len(objectiveHeader):] + "\n" + strings.Join(lines[i+1:], "\n"))
			break
		}
		if section == 0 {
			continue
		}
		if f, ok := parseFieldLine(t); ok {
			if section == 1 {
				inputs = append(inputs, f)
			} else {
				outputs = append(outputs, f)
			}
		}
	}
	return inputs, outputs, objective
}

// parseFieldLine reads "1. `question` (str): The question" and similar.
func parseFieldLine(t string) (fieldDecl, bool) {
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 || !strings.HasPrefix(t[i:], ". `") {
		return fieldDecl{}, false
	}
	t = t[i+3:]
	end := strings.IndexByte(t, '`')
	if end <= 0 || !isIdent(t[:end]) {
		return fieldDecl{}, false
	}
	f := fieldDecl{Name: t[:end], Type: "str"}
	t = strings.TrimSpace(t[end+1:])
	if strings.HasPrefix(t, "(") {
		depth := 0
		for j, r := range t {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				f.Type = strings.TrimSpace(t[1:j])
				break
			}
		}
	}
	return f, true
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// headerName returns the field name of a "[[ ## name ## ]]" line.
func headerName(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[[ ## ") || !strings.HasSuffix(t, " ## ]]") || len(t) < len("[[ ##  ## ]]")+1 {
		return "", false
	}
	name := strings.TrimSpace(t[len("[[ ## ") : len(t)-len(" ## ]]")])
	return name, isIdent(name)
}

// parseMarkers splits text on "[[ ## name ## ]]" header lines. Text before
// the first header is ignored; "completed" ends the values.
func parseMarkers(text string) (map[string]string, []string) {
	values := map[string]string{}
	var order []string
	var cur string
	var buf []string
	flush := func() {
		if cur != "" {
			if _, dup := values[cur]; !dup {
				order = append(order, cur)
			}
			values[cur] = strings.TrimSpace(strings.Join(buf, "\n"))
		}
		buf = buf[:0]
	}
	for line := range strings.SplitSeq(text, "\n") {
		if name, ok := headerName(line); ok {
			flush()
			if name == completedMarker {
				cur = ""
				continue
			}
			cur = name
			continue
		}
		if cur != "" {
			buf = append(buf, line)
		}
	}
	flush()
	return values, order
}

// parseDemos reads user/assistant pairs.
func parseDemos(msgs []message) []demo {
	var out []demo
	for i := 0; i+1 < len(msgs); i++ {
		if msgs[i].Role != "user" || msgs[i+1].Role != "assistant" {
			continue
		}
		in, _ := parseMarkers(msgs[i].Text)
		outv, order := parseMarkers(msgs[i+1].Text)
		if len(order) == 0 {
			outv = parseJSONObject(msgs[i+1].Text)
		}
		out = append(out, demo{In: in, Out: outv})
		i++
	}
	return out
}

// parseJSONObject reads the first JSON object in s, with its values as text:
// strings verbatim, anything else as its JSON encoding.
func parseJSONObject(s string) map[string]string {
	out := map[string]string{}
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return out
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s[i:]))
	if err := dec.Decode(&obj); err != nil {
		return out
	}
	for k, raw := range obj {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			out[k] = str
		} else {
			out[k] = string(raw)
		}
	}
	return out
}
