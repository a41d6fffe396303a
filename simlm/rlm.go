package simlm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// rlmVariable is one variable an RLM prompt describes.
type rlmVariable struct {
	name    string
	length  int
	preview string
}

var (
	variableLine = regexp.MustCompile("(?m)^Variable: `([A-Za-z_][A-Za-z0-9_]*)`")
	lengthLine   = regexp.MustCompile(`(?m)^Total length: ([\d,]+)`)
	submitCall   = regexp.MustCompile("`SUBMIT\\(([^)]*)\\)`")
)

// parseVariables reads the variables_info input: blocks that start
// "Variable: `name`", with a "Total length: N characters" line and the
// value's beginning between ``` fences after "Preview:".
func parseVariables(info string) []rlmVariable {
	locs := variableLine.FindAllStringSubmatchIndex(info, -1)
	var out []rlmVariable
	for i, loc := range locs {
		end := len(info)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		block := info[loc[0]:end]
		v := rlmVariable{name: info[loc[2]:loc[3]]}
		if m := lengthLine.FindStringSubmatch(block); m != nil {
			v.length, _ = strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		}
		if _, rest, ok := strings.Cut(block, "Preview:"); ok {
			if _, body, ok := strings.Cut(rest, "```\n"); ok {
				body, _, _ = strings.Cut(body, "\n```")
				v.preview = body
			}
		}
		out = append(out, v)
	}
	return out
}

// rlmStep writes an RLM action, a fixed policy over the REPL history:
//
//  1. look at the data: print the long variable's length and beginning;
//  2. find the lines that mention the question's key entity (see
//     keyEntity) with a list comprehension, and print how many;
//  3. ask the sub-LM, with llm_query, to answer the question from those
//     lines (at most 40), and print the reply;
//  4. SUBMIT the reply under the output names the instructions list.
//
// The query is the variable named query or question, else the first
// whose whole value ends with "?"; the data is the longest variable.
func (m *model) rlmStep(p *prompt) string {
	vars := parseVariables(p.Values[rlmVariables])
	var query, data rlmVariable
	for _, v := range vars {
		if v.length > data.length {
			data = v
		}
	}
	for _, v := range vars {
		if v.name == "query" || v.name == "question" {
			query = v
			break
		}
		if query.name == "" && v.name != data.name && strings.HasSuffix(strings.TrimSpace(v.preview), "?") {
			query = v
		}
	}
	names := []string{"answer"}
	if mm := submitCall.FindStringSubmatch(p.Objective); mm != nil {
		names = nil
		for n := range strings.SplitSeq(mm[1], ",") {
			if n = strings.TrimSpace(n); isIdent(n) {
				names = append(names, n)
			}
		}
	}
	history := p.Values[rlmHistory]
	entity := keyEntity(query.preview)
	var reasoning, code string
	switch {
	case data.name == "" || query.name == "":
		reasoning = "I cannot tell which variable holds the question; I submit what I have."
		code = submitAll(names, `"unknown"`)
	case !strings.Contains(history, "print(len("+data.name+"))"):
		reasoning = fmt.Sprintf("%s is long (%d characters). I look at its beginning to learn its structure.", data.name, data.length)
		code = fmt.Sprintf("print(len(%s))\nprint(%s[:400])\n", data.name, data.name)
	case !strings.Contains(history, "hits = ["):
		needle := entity
		if needle == "" {
			needle = strings.TrimSuffix(strings.TrimSpace(query.preview), "?")
		}
		reasoning = fmt.Sprintf("The data is one record per line. I keep the lines that mention %s.", needle)
		code = fmt.Sprintf("hits = [line for line in %s.split(\"\\n\") if %s in line]\nprint(len(hits))\nfor h in hits[:10]:\n    print(h)\n",
			data.name, strconv.Quote(needle))
	case !strings.Contains(history, "llm_query("):
		reasoning = "String matching found where the subject appears; a sub-LM can tell which line answers the question."
		code = fmt.Sprintf("answer = llm_query(\"Answer the question using only the passage. Reply with the answer only.\\nQuestion: \" + %s + \"\\nPassage:\\n\" + \"\\n\".join(hits[:40]))\nprint(answer)\n",
			query.name)
	default:
		reasoning = "The sub-LM answered from the matching lines; I submit its answer."
		code = submitAll(names, "answer.strip()")
	}
	values := make([]string, len(p.Outputs))
	for i, f := range p.Outputs {
		switch f.Name {
		case rlmCode:
			values[i] = "```python\n" + code + "```"
		default:
			values[i] = reasoning
		}
	}
	return render(p, values)
}

func submitAll(names []string, value string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + value
	}
	return "SUBMIT(" + strings.Join(parts, ", ") + ")\n"
}

// officeQuestion matches "Who is the mayor of Port Alder?" and "What is
// the capital of France?".
var officeQuestion = regexp.MustCompile(`(?i)^(?:who|what) (?:is|was) the (.+?) of (.+?)\?$`)

// readPassage answers a plain chat message that holds a "Question: ..."
// line and a passage: when the question asks "Who/What is the X of Y?" and
// a sentence of the message states "The X of Y is Z.", the reply is Z (an
// extractive reading any model manages). ok is false otherwise.
func readPassage(text string) (string, bool) {
	var q string
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Question:"); ok {
			q = strings.TrimSpace(rest)
			break
		}
	}
	m := officeQuestion.FindStringSubmatch(q)
	if m == nil {
		return "", false
	}
	stmt := fmt.Sprintf("the %s of %s is ", strings.ToLower(m[1]), strings.ToLower(m[2]))
	lower := strings.ToLower(text)
	for from := 0; ; {
		i := strings.Index(lower[from:], stmt)
		if i < 0 {
			return "", false
		}
		start := from + i + len(stmt)
		if from+i == 0 || !isLetter(lower[from+i-1]) {
			end := strings.IndexAny(text[start:], ".\n")
			if end < 0 {
				end = len(text) - start
			}
			if v := strings.TrimSpace(text[start : start+end]); v != "" {
				return v, true
			}
		}
		from = start
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
