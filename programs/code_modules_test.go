package programs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/signature"
)

type codeQ struct {
	Question string `dspy:"question"`
}

type codeA struct {
	Answer int `dspy:"answer"`
}

func codeModules(t *testing.T, opts ...programs.Option) map[string]any {
	t.Helper()
	pot, err := programs.NewProgramOfThought[codeQ, codeA](opts...)
	if err != nil {
		t.Fatal(err)
	}
	act, err := programs.NewCodeAct[codeQ, codeA](nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rlm, err := programs.NewRLM[codeQ, codeA](opts...)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"ProgramOfThought": pot, "CodeAct": act, "RLM": rlm}
}

// TestCodeModulesNames checks the predictor names, which are DSPy's, and
// that each predictor's fields are DSPy's.
func TestCodeModulesNames(t *testing.T) {
	want := map[string]map[string]string{
		"ProgramOfThought": {
			"code_generate.predict":   "question -> reasoning, generated_code",
			"code_regenerate.predict": "question, previous_code, error -> reasoning, generated_code",
			"generate_answer.predict": "question, final_generated_code, code_output -> reasoning, answer",
		},
		"CodeAct": {
			"codeact":           "question, trajectory -> generated_code, finished",
			"extractor.predict": "question, trajectory -> reasoning, answer",
		},
		"RLM": {
			"generate_action": "variables_info, repl_history, iteration -> reasoning, code",
			"extract":         "variables_info, repl_history -> answer",
		},
	}
	for name, m := range codeModules(t) {
		nps, err := programs.NamedPredictors(m)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, np := range nps {
			got[np.Name] = shape(np.Predictor.Signature())
		}
		if len(got) != len(want[name]) {
			t.Errorf("%s: predictors %v, want %v", name, got, want[name])
		}
		for k, v := range want[name] {
			if got[k] != v {
				t.Errorf("%s: predictor %q is %q, want %q", name, k, got[k], v)
			}
		}
	}
}

func shape(sig signature.Signature) string {
	names := func(fs []signature.Field) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return strings.Join(out, ", ")
	}
	return names(sig.Inputs()) + " -> " + names(sig.Outputs())
}

// TestCodeModulesSaveLoad saves each module with new instructions and a
// demo in dspex's and DSPy's formats and loads them into a fresh module.
func TestCodeModulesSaveLoad(t *testing.T) {
	for name, m := range codeModules(t) {
		nps, err := programs.NamedPredictors(m)
		if err != nil {
			t.Fatal(err)
		}
		replace := map[string]*programs.Predictor{}
		for _, np := range nps {
			demo := programs.Values{}
			for _, f := range np.Predictor.Signature().Inputs() {
				demo[f.Name] = "in " + f.Name
			}
			replace[np.Name] = np.Predictor.WithInstructions("tuned " + np.Name).WithDemos([]programs.Values{demo})
		}
		tuned, err := programs.WithPredictors(m, replace)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"dspex", "dspy"} {
			var buf bytes.Buffer
			save, load := programs.Save, programs.Load[any]
			if format == "dspy" {
				save, load = programs.SaveDSPy, programs.LoadDSPy[any]
			}
			if err := save(&buf, tuned); err != nil {
				t.Fatalf("%s %s: save: %v", name, format, err)
			}
			if format == "dspy" {
				var top map[string]json.RawMessage
				if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
					t.Fatal(err)
				}
				for _, np := range nps {
					if _, ok := top[np.Name]; !ok {
						t.Errorf("%s: DSPy file has no key %q", name, np.Name)
					}
				}
			}
			loaded, err := load(bytes.NewReader(buf.Bytes()), m)
			if err != nil {
				t.Fatalf("%s %s: load: %v", name, format, err)
			}
			lnps, err := programs.NamedPredictors(loaded)
			if err != nil {
				t.Fatal(err)
			}
			for _, np := range lnps {
				if got := np.Predictor.Instructions(); got != "tuned "+np.Name {
					t.Errorf("%s %s: %s has instructions %q", name, format, np.Name, got)
				}
				if len(np.Predictor.Demos()) != 1 {
					t.Errorf("%s %s: %s has %d demos", name, format, np.Name, len(np.Predictor.Demos()))
				}
			}
		}
	}
}

// TestCodeModulesOptions checks the module options are accepted where
// they apply and refused elsewhere.
func TestCodeModulesOptions(t *testing.T) {
	if _, err := programs.NewProgramOfThought[codeQ, codeA](programs.WithMaxLLMCalls(3)); err == nil {
		t.Error("WithMaxLLMCalls accepted by ProgramOfThought")
	}
	if _, err := programs.NewChainOfThought[codeQ, codeA](programs.WithInterpreter(sandbox.Default())); err == nil {
		t.Error("WithInterpreter accepted by ChainOfThought")
	}
	if _, err := programs.NewRLM[codeQ, codeA](programs.WithSubLM(nil)); err == nil {
		t.Error("WithSubLM(nil) accepted")
	}
	if _, err := programs.NewRLM[codeQ, codeA](programs.WithMaxLLMCalls(2), programs.WithMaxOutputChars(100),
		programs.WithMaxIters(3), programs.WithInterpreter(sandbox.Default())); err != nil {
		t.Error(err)
	}
	bad := programs.MustTool("print", "", func(context.Context, codeQ) (string, error) { return "", nil })
	if _, err := programs.NewCodeAct[codeQ, codeA]([]programs.Tool{bad}); err == nil {
		t.Error("a tool named print accepted")
	}
}

// TestProgramOfThoughtTrace runs ProgramOfThought against the simulator
// under a trace: a problem whose first program is buggy records the
// failed code and its error (code_regenerate's inputs) and the final
// output (generate_answer's inputs), for Bootstrap demos.
func TestProgramOfThoughtTrace(t *testing.T) {
	model, _ := startSimulator(t)
	pot, err := programs.NewProgramOfThought[codeQ, codeA](programs.WithLM(model))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range dataset.Arithmetic() {
		ctx, trace := programs.WithTrace(context.Background())
		_, steps, err := pot.Call(ctx, codeQ{Question: it.Question})
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) < 2 {
			continue
		}
		var names []string
		for _, e := range trace.Entries() {
			names = append(names, e.Predictor.Signature().Name())
			switch {
			case e.Inputs["error"] != nil:
				if e.Inputs["previous_code"] != steps[0].Code || e.Inputs["error"] != steps[0].Error {
					t.Errorf("the regenerate step's inputs %v do not hold the failed program", e.Inputs)
				}
			case e.Inputs["code_output"] != nil:
				if !strings.Contains(e.Inputs["code_output"].(string), it.Answer) {
					t.Errorf("code_output %v does not hold %s", e.Inputs["code_output"], it.Answer)
				}
			}
		}
		if len(names) != 3 || !slices.Contains(names, "codeQTocodeA_regenerate") {
			t.Errorf("trace %v, want generate, regenerate, answer", names)
		}
		return
	}
	t.Fatal("no first program failed")
}

// TestRLMBudget checks that code asking the sub-LM more often than the
// budget allows sees the error and can go on.
func TestRLMBudget(t *testing.T) {
	var subCalls atomic.Int32
	sub := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		subCalls.Add(1) // llm_query_batched asks concurrently
		return fakeResponse("sub reply"), nil
	})
	step := 0
	main := &recordingLM{f: func(req lm.Request) (string, error) {
		step++
		switch step {
		case 1:
			return chatReply("reasoning", "ask three", "code", "```python\nr = llm_query_batched(['a', 'b', 'c'])\nprint(r)\n```"), nil
		case 2:
			return chatReply("reasoning", "one more", "code", "```python\nprint(llm_query('d'))\n```"), nil
		default:
			return chatReply("reasoning", "done", "code", "```python\nSUBMIT(answer=len(r))\n```"), nil
		}
	}}
	rlm, err := programs.NewRLM[codeQ, codeA](programs.WithLM(main), programs.WithSubLM(sub), programs.WithMaxLLMCalls(3))
	if err != nil {
		t.Fatal(err)
	}
	out, run, err := rlm.Call(context.Background(), codeQ{Question: "q?"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answer != 3 || run.LLMCalls != 3 || subCalls.Load() != 3 {
		t.Errorf("answer %d, %d calls counted, %d made", out.Answer, run.LLMCalls, subCalls.Load())
	}
	if len(run.Steps) != 3 || !strings.Contains(run.Steps[1].Error, "sub-LM call limit exceeded: 3 + 1 > 3") {
		t.Errorf("steps %+v", run.Steps)
	}
	if !strings.Contains(run.Steps[0].Output, `["sub reply", "sub reply", "sub reply"]`) {
		t.Errorf("batched output %q", run.Steps[0].Output)
	}
	// The second prompt shows the first step's code and output.
	reqs := main.requests()
	if !strings.Contains(lastUserMsg(reqs[1]), "llm_query_batched") || !strings.Contains(lastUserMsg(reqs[1]), "sub reply") {
		t.Errorf("the second step's prompt lacks the history:\n%s", lastUserMsg(reqs[1]))
	}
}

// TestRLMExtractsAfterMaxIters checks the fallback: code that never
// submits leads to the extract step.
func TestRLMExtractsAfterMaxIters(t *testing.T) {
	main := &recordingLM{f: func(req lm.Request) (string, error) {
		if strings.Contains(systemMsg(req), "give the final outputs now") {
			return chatReply("answer", "7"), nil
		}
		return chatReply("reasoning", "look", "code", "print('looking')"), nil
	}}
	rlm, err := programs.NewRLM[codeQ, codeA](programs.WithLM(main), programs.WithMaxIters(2))
	if err != nil {
		t.Fatal(err)
	}
	out, run, err := rlm.Call(context.Background(), codeQ{Question: "q?"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answer != 7 || !run.Extracted || len(run.Steps) != 2 {
		t.Errorf("answer %d, extracted %v, %d steps", out.Answer, run.Extracted, len(run.Steps))
	}
}

// TestCodeActToolValues checks that tool arguments arrive as the tool's
// struct (by position or keyword) and results come back as values.
func TestCodeActToolValues(t *testing.T) {
	type args struct {
		City string   `json:"city"`
		Days int      `json:"days"`
		Tags []string `json:"tags,omitempty"`
	}
	type forecast struct {
		City  string    `json:"city"`
		Temps []float64 `json:"temps"`
	}
	var got args
	tool := programs.MustTool("forecast", "Forecast.", func(_ context.Context, a args) (forecast, error) {
		got = a
		return forecast{City: a.City, Temps: []float64{1.5, 2.5}}, nil
	})
	step := 0
	main := &recordingLM{f: func(req lm.Request) (string, error) {
		step++
		if step == 1 {
			return chatReply("generated_code", "```python\nf = forecast('Oslo', days=2, tags=['x'])\nprint(f['city'], f['temps'][1] * 2)\n```", "finished", "True"), nil
		}
		return chatReply("reasoning", "read it", "answer", "5"), nil
	}}
	act, err := programs.NewCodeAct[codeQ, codeA]([]programs.Tool{tool}, programs.WithLM(main))
	if err != nil {
		t.Fatal(err)
	}
	out, traj, err := act.Call(context.Background(), codeQ{Question: "q"})
	if err != nil {
		t.Fatal(err)
	}
	if got.City != "Oslo" || got.Days != 2 || len(got.Tags) != 1 {
		t.Errorf("tool got %+v", got)
	}
	if len(traj) != 1 || traj[0].Output != "Oslo 5.0\n" || out.Answer != 5 {
		t.Errorf("trajectory %+v, answer %d", traj, out.Answer)
	}
	if !strings.Contains(traj.String(), "[[ ## code_output_0 ## ]]\nOslo 5.0") {
		t.Errorf("trajectory text %q", traj.String())
	}
}

// TestRLMTools checks that an RLM's code can call the tools given with
// WithTools, which the instructions list.
func TestRLMTools(t *testing.T) {
	type wordArgs struct {
		Word string `json:"word"`
	}
	upper := programs.MustTool("shout", "Upper-cases a word.", func(_ context.Context, a wordArgs) (string, error) {
		return strings.ToUpper(a.Word), nil
	})
	main := &recordingLM{f: func(req lm.Request) (string, error) {
		if !strings.Contains(systemMsg(req), "(1) shout, whose description is <desc>Upper-cases a word.</desc>") {
			return "", errors.New("the tool is not listed")
		}
		return chatReply("reasoning", "use the tool", "code", "```python\nSUBMIT(answer=len(shout(word=question)))\n```"), nil
	}}
	rlm, err := programs.NewRLM[codeQ, codeA](programs.WithLM(main), programs.WithTools(upper))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := rlm.Call(context.Background(), codeQ{Question: "abcd"})
	if err != nil || out.Answer != 4 {
		t.Fatalf("answer %d, err %v", out.Answer, err)
	}
	clash := programs.MustTool("question", "", func(context.Context, wordArgs) (string, error) { return "", nil })
	if _, err := programs.NewRLM[codeQ, codeA](programs.WithTools(clash)); err == nil {
		t.Error("a tool named like an input was accepted")
	}
}
