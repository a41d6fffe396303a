package simlm

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/dataset"
)

// agentObjective lists tools as programs.ReAct's instructions do.
func agentObjective(tools ...string) string {
	var b strings.Builder
	b.WriteString("You are an agent.\nThe tools are:\n")
	for i, t := range tools {
		b.WriteString("(" + string(rune('1'+i)) + ") " + t + " in JSON format.\n")
	}
	return b.String()
}

func TestAgentStep(t *testing.T) {
	var (
		search   = `search, whose description is <desc>Searches.</desc>. It takes arguments {"query":{"type":"string","description":"what to look for"}}`
		divide   = `divide. It takes arguments {"a":{"type":"integer"},"b":{"type":"number","description":"the divisor"}}`
		capital  = `capital, whose description is <desc>Capital city.</desc>. It takes arguments {"country":{"type":"string"},"exact":{"type":"boolean"}}`
		unit     = `convert. It takes arguments {"unit":{"type":"string","enum":["km","mile"]},"x":{"type":"number"}}`
		tags     = `tag. It takes arguments {"labels":{"type":"array","items":{"type":"string"}},"anything":{}}`
		filter   = `filter. It takes arguments {"where":{"type":"object","properties":{}}}`
		finish   = `finish, whose description is <desc>Done.</desc>. It takes arguments {}`
		outputs  = []fieldDecl{{Name: "next_thought", Type: "str"}, {Name: "next_tool_name", Type: "str"}, {Name: "next_tool_args", Type: "dict[str, Any]"}}
		failedAt = func(tools ...string) map[string]string {
			v := map[string]string{}
			for i, name := range tools {
				v["tool_name_"+string(rune('0'+i))] = name
				v["observation_"+string(rune('0'+i))] = "Failed to execute: tool " + name + ": boom"
			}
			return v
		}
	)
	tests := []struct {
		name     string
		tools    []string
		question string
		history  map[string]string
		wantTool string
		wantArgs map[string]any
	}{
		{"first step calls the first tool with the question as a query",
			[]string{search, divide, finish}, "What is 12 over 4?", nil,
			"search", map[string]any{"query": "What is 12 over 4?"}},
		{"a failed tool moves to the next; numbers fill numeric arguments in order",
			[]string{search, divide, finish}, "What is 12 over 4.5?", failedAt("search"),
			"divide", map[string]any{"a": 12.0, "b": 4.5}},
		{"an integer argument needs a whole number",
			[]string{divide, search, finish}, "What is 2.5 over 4?", nil,
			"search", map[string]any{"query": "What is 2.5 over 4?"}},
		{"too few numbers: the tool does not fit",
			[]string{divide, search, finish}, "What is half of 9?", nil,
			"search", map[string]any{"query": "What is half of 9?"}},
		{"other string arguments get the key entity; booleans are true",
			[]string{capital, finish}, "What is the capital of New Zealand?", nil,
			"capital", map[string]any{"country": "New Zealand", "exact": true}},
		{"without an entity, the question",
			[]string{capital, finish}, "what is the capital here?", nil,
			"capital", map[string]any{"country": "what is the capital here?", "exact": true}},
		{"an enum takes the option the question names",
			[]string{unit, finish}, "How far is 3 mile in metres?", nil,
			"convert", map[string]any{"unit": "mile", "x": 3.0}},
		{"an enum the question does not name takes the first option",
			[]string{unit, finish}, "How far is 3 leagues?", nil,
			"convert", map[string]any{"unit": "km", "x": 3.0}},
		{"string arrays and untyped arguments",
			[]string{tags, finish}, "Who painted the Mona Lisa?", nil,
			"tag", map[string]any{"labels": []any{"Mona Lisa"}, "anything": "Who painted the Mona Lisa?"}},
		{"objects do not fit: finish",
			[]string{filter, finish}, "Who painted the Mona Lisa?", nil,
			"finish", map[string]any{}},
		{"a successful observation finishes",
			[]string{search, divide, finish}, "q",
			map[string]string{"tool_name_0": "search", "observation_0": "42"},
			"finish", map[string]any{}},
		{"an empty observation is not a result",
			[]string{search, capital, finish}, "What is the capital of Peru?",
			map[string]string{"tool_name_0": "search", "observation_0": ""},
			"capital", map[string]any{"country": "Peru", "exact": true}},
		{"every tool failed: finish",
			[]string{search, divide, finish}, "What is 12 over 4?", failedAt("search", "divide"),
			"finish", map[string]any{}},
	}
	m := newModel(nil, 0.85, 0)
	for _, tt := range tests {
		for _, jsonMode := range []bool{false, true} {
			name := tt.name
			if jsonMode {
				name += " (JSON)"
			}
			t.Run(name, func(t *testing.T) {
				values := map[string]string{"question": tt.question, "trajectory": ""}
				for k, v := range tt.history {
					values[k] = v
				}
				p := &prompt{Structured: true, WantJSON: jsonMode, Outputs: outputs, Objective: agentObjective(tt.tools...), Values: values,
					Inputs: []fieldDecl{{Name: "question", Type: "str"}, {Name: "trajectory", Type: "str"}}}
				if !isAgentStep(p) {
					t.Fatal("not recognised as an agent step")
				}
				reply := m.agentStep(p)
				var vals map[string]string
				if jsonMode {
					vals = parseJSONObject(reply)
				} else {
					vals, _ = parseMarkers(reply)
				}
				if got := vals["next_tool_name"]; got != tt.wantTool {
					t.Errorf("tool = %q, want %q", got, tt.wantTool)
				}
				var args map[string]any
				if err := json.Unmarshal([]byte(vals["next_tool_args"]), &args); err != nil {
					t.Fatalf("args %q: %v\n%s", vals["next_tool_args"], err, reply)
				}
				if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
					t.Errorf("args (-want +got):\n%s", diff)
				}
				if strings.TrimSpace(vals["next_thought"]) == "" {
					t.Error("empty thought")
				}
			})
		}
	}
}

func TestKeyEntity(t *testing.T) {
	tests := []struct{ question, want string }{
		{"What is the capital of Japan?", "Japan"},
		{"What is the capital of New Zealand?", "New Zealand"},
		{"Who painted the Mona Lisa?", "Mona Lisa"},
		{"Who wrote Romeo and Juliet?", "Romeo and Juliet"},
		{"In which year did World War II end?", "World War II"},
		{`Which band sang "Hey Jude", the Beatles?`, "Beatles"},
		{`Who sang "Hey Jude"?`, "Hey Jude"},
		{"Is Paris, France large?", "France"},
		{"Tom has 3 apples. He buys 4 more. How many does he have?", ""},
		{"What do I know about the Bay of", "Bay"},
		{"how many legs does a spider have?", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := keyEntity(tt.question); got != tt.want {
			t.Errorf("keyEntity(%q) = %q, want %q", tt.question, got, tt.want)
		}
	}
}

func TestParseTools(t *testing.T) {
	objective := "Answer well.\n\n" + agentObjective(
		`lookup, whose description is <desc>Looks (things) up. It is fast.</desc>. It takes arguments {"b":{"type":"string"},"a":{"type":"integer"}}`,
		`broken. It takes arguments {"a": oops}`,
		`finish. It takes arguments {}`) + "(9) not a tool line"
	got := parseTools(objective)
	want := []agentTool{
		{name: "lookup", args: []agentArg{{name: "b", typ: "string"}, {name: "a", typ: "integer"}}},
		{name: "finish"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(agentTool{}, agentArg{})); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
}

func FuzzAgentStep(f *testing.F) {
	f.Add(`(1) t. It takes arguments {"q":{"type":"string"},"n":{"type":"number"}} in JSON format.`, "What is 3 plus 4 in Rome?", "t", "Failed to execute: x")
	f.Add(`(1) t. It takes arguments {"q":{"enum":[1,"a"],"items":{"type":["x"]}}} in JSON format.`, `"«Q»" ¿`, "", "")
	m := newModel(nil, 0.85, 0)
	f.Fuzz(func(t *testing.T, objective, question, tool, obs string) {
		p := &prompt{Structured: true, Objective: objective,
			Outputs: []fieldDecl{{Name: "next_thought", Type: "str"}, {Name: "next_tool_name", Type: "str"}, {Name: "next_tool_args", Type: "dict[str, Any]"}},
			Values:  map[string]string{"question": question, "tool_name_0": tool, "observation_0": obs}}
		vals, _ := parseMarkers(m.agentStep(p))
		var args map[string]any
		if vals["next_tool_name"] == "" {
			t.Fatalf("no tool chosen: %v", vals)
		}
		if err := json.Unmarshal([]byte(vals["next_tool_args"]), &args); err != nil {
			t.Fatalf("args %q are not a JSON object: %v", vals["next_tool_args"], err)
		}
	})
}

func TestAdviceStep(t *testing.T) {
	var math, fact dataset.Item
	for _, it := range dataset.QA() {
		switch {
		case it.Kind == dataset.KindMath && math.ID == "":
			math = it
		case it.Kind == dataset.KindFact && fact.ID == "":
			fact = it
		}
	}
	m := newModel(dataset.QA(), 0.85, 0)
	tests := []struct {
		name     string
		inputs   map[string]any
		outputs  map[string]any
		want     string
		modules  string
		wantMods []string
	}{
		{"math gets step by step", map[string]any{"question": math.Question}, map[string]any{"answer": "7"},
			adviceReason, "[1] «self»\n[2] «extract.predict»", []string{"self", "extract.predict"}},
		{"verbose math gets both", map[string]any{"question": math.Question}, map[string]any{"answer": "I believe the answer is 7 indeed."},
			adviceReason + " " + adviceConcise, `["self"]`, []string{"self"}},
		{"a verbose answer gets conciseness", map[string]any{"question": fact.Question},
			map[string]any{"answer": "I believe the answer is " + fact.Answer + " indeed."},
			adviceConcise, "self\nmodule.predict", []string{"self", "module.predict"}},
		{"a short answer is not to blame", map[string]any{"question": fact.Question}, map[string]any{"answer": fact.Answer},
			adviceNone, `["self"]`, []string{"self"}},
		{"a typed answer is never verbose", map[string]any{"question": fact.Question},
			map[string]any{"answer": 7, "reasoning": "a long sentence that is not the answer at all"},
			adviceNone, `["self"]`, []string{"self"}},
		{"other field names: the first string field", map[string]any{"query": fact.Question},
			map[string]any{"reply": "I believe the answer is " + fact.Answer + " indeed.", "score": 1},
			adviceConcise, `["self"]`, []string{"self"}},
	}
	for _, tt := range tests {
		for _, jsonMode := range []bool{false, true} {
			name := tt.name
			if jsonMode {
				name += " (JSON)"
			}
			t.Run(name, func(t *testing.T) {
				in, _ := json.Marshal(tt.inputs)
				out, _ := json.Marshal(tt.outputs)
				p := &prompt{Structured: true, WantJSON: jsonMode,
					Inputs:  []fieldDecl{{Name: "program_inputs", Type: "str"}, {Name: "program_outputs", Type: "str"}, {Name: "module_names", Type: "list[str]"}},
					Outputs: []fieldDecl{{Name: "discussion", Type: "str"}, {Name: "advice", Type: "dict[str, str]"}},
					Values:  map[string]string{"program_inputs": string(in), "program_outputs": string(out), "module_names": tt.modules}}
				if !isAdviceStep(p) {
					t.Fatal("not recognised as a feedback step")
				}
				reply := m.adviceStep(p)
				var vals map[string]string
				if jsonMode {
					vals = parseJSONObject(reply)
				} else {
					vals, _ = parseMarkers(reply)
				}
				var advice map[string]string
				if err := json.Unmarshal([]byte(vals["advice"]), &advice); err != nil {
					t.Fatalf("advice %q: %v", vals["advice"], err)
				}
				want := map[string]string{}
				for _, mod := range tt.wantMods {
					want[mod] = tt.want
				}
				if diff := cmp.Diff(want, advice); diff != "" {
					t.Errorf("advice (-want +got):\n%s", diff)
				}
				if strings.TrimSpace(vals["discussion"]) == "" {
					t.Error("empty discussion")
				}
			})
		}
	}
}

func TestProposeStep(t *testing.T) {
	m := newModel(dataset.QA(), 0.85, 0)
	outputs := []fieldDecl{{Name: "proposed_instruction", Type: "str"}}
	propose := func(basic, tip, demos, summary, salt string) string {
		t.Helper()
		p := &prompt{Structured: true, Outputs: outputs, Values: map[string]string{
			"basic_instruction": basic, "tip": tip, "task_demos": demos, "dataset_description": summary}}
		reply, ok := m.propose(p, salt)
		if !ok {
			t.Fatal("not recognised as a proposal step")
		}
		vals, _ := parseMarkers(reply)
		return vals["proposed_instruction"]
	}
	const basic = "Answer the question."
	shortDemos := ""
	for i, it := range dataset.QA()[:5] {
		shortDemos += fmt.Sprintf("Example %d\nInputs:\nquestion: %s\nOutputs:\nanswer: %s\n\n", i+1, it.Question, it.Answer)
	}
	mathDemos := ""
	n := 0
	for _, it := range dataset.QA() {
		if it.Kind == dataset.KindMath && it.Steps >= 2 && n < 4 {
			n++
			mathDemos += fmt.Sprintf("Example %d\nInputs:\nquestion: %s\nOutputs:\nanswer: %s\n\n", n, it.Question, it.Answer)
		}
	}
	tips := []string{"None", "Keep it plain.", "Be creative.", "Use a persona."}
	formSeen, mathSeen := 0, 0
	for i, tip := range tips {
		for r := range 5 {
			salt := fmt.Sprint(r)
			got := propose(basic, tip, shortDemos, "None", salt)
			if !strings.HasPrefix(got, basic) {
				t.Errorf("proposal %q does not keep the basic instruction", got)
			}
			if tip != "None" && strings.Contains(got, tip) {
				t.Errorf("tip %q copied into %q", tip, got)
			}
			if readConstraint(got).Brevity > 0 {
				formSeen++
			}
			if readConstraint(propose(basic, tips[i], mathDemos, "None", salt)).Reason > 0 {
				mathSeen++
			}
		}
	}
	// Five short demos are noticed with chance 1-0.55^5, about 0.95.
	if formSeen < 14 {
		t.Errorf("the short answers of the demos were noticed in %d of 20 proposals", formSeen)
	}
	if mathSeen < 14 {
		t.Errorf("the arithmetic of the demos was noticed in %d of 20 proposals", mathSeen)
	}
	for _, tip := range tips {
		got := propose(basic, tip, "None", "None", "")
		if c := readConstraint(got); c != (constraint{}) {
			t.Errorf("with nothing shown, proposal %q has constraint %+v", got, c)
		}
	}
	summary := "The 20 examples are questions with answers of 1 to 3 words; 6 of them are arithmetic word problems whose answer is a number."
	got := propose(basic, "None", "None", summary, "")
	if c := readConstraint(got); c.Brevity <= 0 || c.Reason <= 0 {
		t.Errorf("from the summary alone, proposal %q has constraint %+v", got, c)
	}
	if _, ok := m.propose(&prompt{Structured: true, Outputs: []fieldDecl{{Name: "answer", Type: "str"}}}, ""); ok {
		t.Error("an ordinary step was taken for a proposal step")
	}
}

func TestSummaryStep(t *testing.T) {
	m := newModel(dataset.QA(), 0.85, 0)
	var b strings.Builder
	n, arith := 0, 0
	for _, it := range dataset.QA()[:40] {
		n++
		if it.Kind == dataset.KindMath && multiStep(it.Question) {
			arith++
		}
		fmt.Fprintf(&b, "Example %d:\nanswer: %s\nquestion: %s\n", n, it.Answer, it.Question)
	}
	p := &prompt{Structured: true, Outputs: []fieldDecl{{Name: "dataset_observations", Type: "str"}},
		Values: map[string]string{"examples": b.String()}}
	reply, ok := m.summarize(p)
	if !ok {
		t.Fatal("not recognised as a summary step")
	}
	vals, _ := parseMarkers(reply)
	want := fmt.Sprintf("The %d examples are questions with answers of ", n)
	if got := vals["dataset_observations"]; !strings.HasPrefix(got, want) || !strings.Contains(got, fmt.Sprintf("; %d of them", arith)) {
		t.Errorf("summary %q, want %q... with %d arithmetic", got, want, arith)
	}
}
