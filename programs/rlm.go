package programs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/signature"
)

// Field and function names RLM uses, as DSPy names them. The predictors'
// fields are those of DSPy 3.1's dspy/predict/rlm.py (commit aa3a2cd6), so
// saved programs match that shape; DSPy's later "history" input (a
// dspy.History of earlier turns, commit 00d9fbd8) is not part of dspex's
// RLM.
const (
	rlmVariables   = "variables_info"
	rlmHistory     = "repl_history"
	rlmIteration   = "iteration"
	rlmCode        = "code"
	rlmSubmit      = "SUBMIT"
	rlmQuery       = "llm_query"
	rlmQueryBatch  = "llm_query_batched"
	rlmFinalReason = "final_reasoning"
	rlmPreviewLen  = 500
	rlmNoOutput    = "(no output - did you forget to print?)"
)

// RLMRun is what an RLM run did: the REPL steps it took, the sub-LM calls
// it made and whether the outputs were extracted after the last step
// instead of submitted by the code.
type RLMRun struct {
	// Steps are the snippets, in order, with their output or error.
	Steps []CodeStep
	// LLMCalls is the number of sub-LM prompts (llm_query and
	// llm_query_batched) the code sent.
	LLMCalls int
	// Extracted reports that the code never submitted and the extract
	// step produced the outputs.
	Extracted bool
}

// RLM is DSPy's RLM, the recursive language model: the inputs are not put
// in the prompt but given to a sandboxed REPL as variables, so an input
// far larger than the model's context can be worked on. The model sees
// each variable's type, length and beginning, and writes code, step by
// step, that explores the data (slicing, searching, counting), calls
// llm_query(prompt) or llm_query_batched(prompts) to have a sub-LM read a
// piece of it, and finally calls SUBMIT(name=value, ...) with the
// signature's outputs. Each step sees the previous steps' code and output
// (cut at WithMaxOutputChars, default 10,000). The state persists between
// steps. Sub-LM prompts are limited per run (WithMaxLLMCalls, default
// 50); beyond, llm_query fails and the code sees why. The sub-LM is
// WithSubLM, else the module's LM. After WithMaxIters steps (default 20)
// without a SUBMIT, an extract step fills the outputs from the history.
//
// It holds two predictors, "generate_action" and "extract", as in DSPy.
// The code, outputs and errors of every step are inputs of the later
// calls, so traces record them. An RLM is immutable and safe for
// concurrent use.
type RLM[In, Out any] struct {
	sig            signature.Signature
	maxIters       int
	maxLLMCalls    int
	maxOutputChars int
	interp         sandbox.Interpreter
	subLM          lm.LM
	tools          []Tool
	generateAction *Predictor
	extract        *Predictor
}

// NewRLM returns a typed RLM whose signature comes from In and Out.
// Options configure both predictors, except the module options
// (WithMaxIters, WithMaxLLMCalls, WithMaxOutputChars, WithSubLM, WithTools,
// WithInterpreter).
func NewRLM[In, Out any](opts ...Option) (*RLM[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	return newRLM[In, Out](sig, opts)
}

// NewRLMFrom returns an RLM over sig that maps input Values to output
// Values.
func NewRLMFrom(sig signature.Signature, opts ...Option) (*RLM[Values, Values], error) {
	return newRLM[Values, Values](sig, opts)
}

func newRLM[In, Out any](sig signature.Signature, opts []Option) (*RLM[In, Out], error) {
	if sig.IsZero() {
		return nil, errors.New("programs: RLM: zero signature")
	}
	cfg, err := splitOptions("RLM", moduleConfig{maxIters: 20, code: codeConfig{maxLLMCalls: 50, maxOutputChars: 10_000}}, opts)
	if err != nil {
		return nil, err
	}
	for _, f := range sig.Inputs() {
		if f.Name == rlmQuery || f.Name == rlmQueryBatch || f.Name == rlmSubmit || f.Name == "print" {
			return nil, fmt.Errorf("programs: RLM: the input %q clashes with a REPL function", f.Name)
		}
	}
	for _, f := range sig.Outputs() {
		if f.Name == rlmFinalReason || f.Name == trajectoryField {
			return nil, fmt.Errorf("programs: RLM: the output %q clashes with RLM's own results", f.Name)
		}
	}
	reserved := []string{rlmQuery, rlmQueryBatch, rlmSubmit, "print"}
	for _, f := range sig.Inputs() {
		reserved = append(reserved, f.Name)
	}
	if err := checkTools("RLM", cfg.code.tools, reserved...); err != nil {
		return nil, err
	}
	var outNames []string
	for _, f := range sig.Outputs() {
		outNames = append(outNames, f.Name)
	}
	var b strings.Builder
	if ui := sig.Instructions(); ui != "" && !strings.HasPrefix(ui, "Given the fields") {
		b.WriteString(ui + "\n\n")
	}
	fmt.Fprintf(&b, "You have to produce these outputs from the inputs %s:\n", backquoted(sig.Inputs()))
	for _, f := range sig.Outputs() {
		fmt.Fprintf(&b, "- `%s` (%s)", f.Name, f.Type)
		if f.Desc != "" {
			fmt.Fprintf(&b, ": %s", f.Desc)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nYou work in a Starlark REPL (Starlark is a deterministic dialect of Python: no imports, no files, no clock). " +
		"Write code; it runs and you see what it printed; then write more. Variables persist from one step to the next.\n\n")
	b.WriteString("Available:\n")
	fmt.Fprintf(&b, "- Variables: %s (the input data; they may be far larger than what you can read at once)\n", backquoted(sig.Inputs()))
	fmt.Fprintf(&b, "- `%s(prompt)` - ask a sub-LM to read or interpret a piece of text; returns its reply\n", rlmQuery)
	fmt.Fprintf(&b, "- `%s(prompts)` - several prompts at once; returns the replies in order\n", rlmQueryBatch)
	b.WriteString("- `print()` - only printed output is shown to you\n")
	fmt.Fprintf(&b, "- `%s(%s)` - hand in the final outputs as keyword arguments, e.g. %s(%s=...); it ends the run\n\n",
		rlmSubmit, strings.Join(outNames, ", "), rlmSubmit, outNames[0])
	b.WriteString("Work in small steps:\n" +
		"1. Look at the data before processing it: its length, a sample, its structure.\n" +
		"2. Write a short snippet, read its output, then decide the next one.\n" +
		"3. Check results that look wrong (empty, zero, unexpected) before relying on them.\n" +
		"4. Use code to find where things are, and the sub-LM to understand what they mean.\n" +
		"5. Keep long or exact values in variables instead of retyping them.\n" +
		"6. Submit only after you have seen the output you rely on.\n\n")
	fmt.Fprintf(&b, "You may send at most %d prompts to the sub-LM.", cfg.code.maxLLMCalls)
	if len(cfg.code.tools) > 0 {
		b.WriteString("\n\nMore functions you can call, with keyword arguments:\n")
		toolList(&b, cfg.code.tools)
	}
	actionSig, err := signature.New(sig.Name()+"Action", b.String(), []signature.Field{
		{Name: rlmVariables, Type: signature.TypeString, Desc: "what the REPL's variables hold"},
		{Name: rlmHistory, Type: signature.TypeString, Desc: "the code run so far and its output"},
		{Name: rlmIteration, Type: signature.TypeString, Desc: "this step's number (from 1) out of the maximum"},
	}, []signature.Field{
		{Name: reasoningField.Name, Type: signature.TypeString, Desc: "think step by step: what do you know, what remains, what next"},
		{Name: rlmCode, Type: signature.TypeString, Desc: "Starlark code to run, in a ```python fenced block"},
	})
	if err != nil {
		return nil, fmt.Errorf("programs: RLM: %w", err)
	}
	extractInstr := "Based on the REPL history, give the final outputs now: review what the code found and computed, then answer."
	if ui := sig.Instructions(); ui != "" && !strings.HasPrefix(ui, "Given the fields") {
		extractInstr = "The REPL history was produced for this task:\n" + ui + "\n\n" + extractInstr
	}
	extractSig, err := signature.New(sig.Name()+"Extract", extractInstr, []signature.Field{
		{Name: rlmVariables, Type: signature.TypeString, Desc: "what the REPL's variables hold"},
		{Name: rlmHistory, Type: signature.TypeString, Desc: "the code run and its output"},
	}, sig.Outputs())
	if err != nil {
		return nil, fmt.Errorf("programs: RLM: %w", err)
	}
	action, err := NewPredictFrom(actionSig, cfg.predict...)
	if err != nil {
		return nil, err
	}
	extract, err := NewPredictFrom(extractSig, cfg.predict...)
	if err != nil {
		return nil, err
	}
	return &RLM[In, Out]{sig: sig, maxIters: cfg.maxIters, maxLLMCalls: cfg.code.maxLLMCalls, maxOutputChars: cfg.code.maxOutputChars,
		interp: cfg.code.interpreter(), subLM: cfg.code.subLM, tools: cfg.code.tools, generateAction: action, extract: extract}, nil
}

// Call runs the RLM on in and returns the typed outputs and what the run
// did.
func (r *RLM[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Out, RLMRun, error) {
	return callTraced[In, Out](ctx, r, in, opts, r.generateAction.call.model, "RLM", r.sig.Name(), r.generateAction.wrap, r.generateAction.wrap, r.run)
}

// Forward runs the RLM on map inputs. The prediction holds the outputs,
// "final_reasoning" and, under "trajectory", the []CodeStep; its usage sums
// the module's LM calls (not the sub-LM's).
func (r *RLM[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	pred, _, err := runTraced(ctx, r, r.generateAction.call.model, "RLM", r.sig.Name(), inputs, nil, r.run)
	return pred, err
}

// subLMCalls counts one run's sub-LM prompts against the budget.
type subLMCalls struct {
	mu    sync.Mutex
	n     int
	limit int
}

func (c *subLMCalls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *subLMCalls) take(n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n+n > c.limit {
		return fmt.Errorf("sub-LM call limit exceeded: %d + %d > %d; aggregate with code instead of more calls", c.n, n, c.limit)
	}
	c.n += n
	return nil
}

func (r *RLM[In, Out]) run(ctx context.Context, inputs Values, opts []CallOption) (Prediction, RLMRun, error) {
	globals := make(map[string]any, len(r.sig.Inputs()))
	for _, f := range r.sig.Inputs() {
		v, ok := inputs[f.Name]
		if !ok {
			return Prediction{}, RLMRun{}, r.generateAction.wrap(fmt.Errorf("missing input %q", f.Name))
		}
		globals[f.Name] = v
	}
	calls := &subLMCalls{limit: r.maxLLMCalls}
	session, err := r.interp.NewSession(sandbox.Env{Globals: globals, Final: []string{rlmSubmit},
		Funcs: append(r.queryFuncs(calls, opts), toolFuncs(r.tools)...)})
	if err != nil {
		return Prediction{}, RLMRun{}, fmt.Errorf("programs: RLM: %w", err)
	}
	info := r.variablesInfo(inputs)
	var (
		run    RLMRun
		usage  lm.Usage
		cached = true
	)
	for i := range r.maxIters {
		if err := ctx.Err(); err != nil {
			return Prediction{}, run, err
		}
		pred, err := r.generateAction.Call(ctx, Values{rlmVariables: info, rlmHistory: r.history(run.Steps),
			rlmIteration: fmt.Sprintf("%d/%d", i+1, r.maxIters)}, opts...)
		if err != nil {
			return Prediction{}, run, err
		}
		usage = usage.Add(pred.Usage)
		cached = cached && pred.Cached
		step := CodeStep{Reasoning: text(pred.Values[reasoningField.Name])}
		code, perr := stripFences(text(pred.Values[rlmCode]))
		step.Code = code
		if perr != nil {
			step.Code, step.Error = text(pred.Values[rlmCode]), "[Error] "+perr.Error()
			run.Steps = append(run.Steps, step)
			continue
		}
		res, err := session.Run(ctx, code)
		run.LLMCalls = calls.count()
		step.Output = res.Output
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return Prediction{}, run, ctxErr
			}
			step.Error = "[Error] " + err.Error()
			run.Steps = append(run.Steps, step)
			continue
		}
		if res.Finished {
			outs, msg := r.submitted(res.Final)
			if msg != "" {
				step.Error = msg
				run.Steps = append(run.Steps, step)
				continue
			}
			step.Output = strings.TrimSpace(res.Output + "\nSUBMIT: " + valueText(outs))
			run.Steps = append(run.Steps, step)
			vals := maps.Clone(outs)
			vals[rlmFinalReason] = step.Reasoning
			vals[trajectoryField] = run.Steps
			return Prediction{Values: vals, Completions: []Values{vals}, Usage: usage, Model: pred.Model, Cached: cached}, run, nil
		}
		run.Steps = append(run.Steps, step)
	}
	run.Extracted = true
	pred, err := r.extract.Call(ctx, Values{rlmVariables: info, rlmHistory: r.history(run.Steps)}, opts...)
	if err != nil {
		return Prediction{}, run, err
	}
	pred.Usage = pred.Usage.Add(usage)
	pred.Cached = pred.Cached && cached
	pred.Values = maps.Clone(pred.Values)
	pred.Values[rlmFinalReason] = "Extracted after the last step: the code never submitted."
	pred.Values[trajectoryField] = run.Steps
	return pred, run, nil
}

// submitted checks the value given to SUBMIT: every output present; a
// single output may be given positionally. String outputs get text.
func (r *RLM[In, Out]) submitted(final any) (Values, string) {
	outs := r.sig.Outputs()
	m, isMap := final.(map[string]any)
	if !isMap || (len(outs) == 1 && !hasKey(m, outs[0].Name)) {
		if len(outs) != 1 {
			return nil, fmt.Sprintf("[Error] SUBMIT needs keyword arguments for %s", backquoted(outs))
		}
		m = map[string]any{outs[0].Name: final}
	}
	vals := Values{}
	var missing []string
	for _, f := range outs {
		v, ok := m[f.Name]
		if !ok {
			missing = append(missing, f.Name)
			continue
		}
		if f.Type.Kind == signature.String {
			if _, isStr := v.(string); !isStr {
				v = valueText(v)
			}
		}
		vals[f.Name] = v
	}
	if len(missing) > 0 {
		names := make([]string, len(outs))
		for i, f := range outs {
			names[i] = f.Name + "=..."
		}
		return nil, fmt.Sprintf("[Error] missing outputs %s; call SUBMIT(%s)", strings.Join(missing, ", "), strings.Join(names, ", "))
	}
	return vals, ""
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// valueText renders v for the model: strings as they are, other values
// as compact JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// variablesInfo describes the inputs for the model: name, type, length and
// the first rlmPreviewLen characters.
func (r *RLM[In, Out]) variablesInfo(inputs Values) string {
	var b strings.Builder
	for _, f := range r.sig.Inputs() {
		v := inputs[f.Name]
		s, isStr := v.(string)
		if !isStr {
			s = valueText(v)
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "Variable: `%s` (access it in your code)\nType: %s\n", f.Name, f.Type)
		if f.Desc != "" {
			fmt.Fprintf(&b, "Description: %s\n", f.Desc)
		}
		fmt.Fprintf(&b, "Total length: %s characters\n", thousands(len(s)))
		preview := s
		if len(preview) > rlmPreviewLen {
			preview = strings.ToValidUTF8(preview[:rlmPreviewLen], "") + "..."
		}
		fmt.Fprintf(&b, "Preview:\n```\n%s\n```", preview)
	}
	return b.String()
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// history formats the steps so far for the model, each output cut at
// maxOutputChars.
func (r *RLM[In, Out]) history(steps []CodeStep) string {
	if len(steps) == 0 {
		return "You have not run any code yet."
	}
	var b strings.Builder
	for i, s := range steps {
		out := s.Output
		if s.Error != "" {
			out = strings.TrimRight(s.Output+"\n"+s.Error, "\n")
		}
		out = strings.TrimSpace(out)
		if out == "" {
			out = rlmNoOutput
		}
		if len(out) > r.maxOutputChars {
			out = strings.ToValidUTF8(out[:r.maxOutputChars], "") + fmt.Sprintf("\n... (%d more characters)", len(out)-r.maxOutputChars)
		}
		fmt.Fprintf(&b, "=== Step %d ===\nReasoning: %s\nCode:\n```python\n%s\n```\nOutput (%d chars):\n%s\n\n",
			i+1, s.Reasoning, strings.TrimRight(s.Code, "\n"), len(out), out)
	}
	return strings.TrimRight(b.String(), "\n")
}

// queryFuncs returns llm_query and llm_query_batched for one run.
func (r *RLM[In, Out]) queryFuncs(calls *subLMCalls, opts []CallOption) []sandbox.Func {
	query := func(ctx context.Context, prompt string) (string, error) {
		// The sub-LM is WithSubLM's, else the LM the module's predictors
		// would use for this call: the call's WithLM, the predictor's, the
		// context's.
		model := r.subLM
		if model == nil {
			var callCfg callConfig
			for _, o := range opts {
				if err := o.applyCall(&callCfg); err != nil {
					return "", err
				}
			}
			model = r.generateAction.call.merge(callCfg).model
		}
		if model == nil {
			var ok bool
			if model, ok = lm.FromContext(ctx); !ok {
				return "", lm.ErrNoLM
			}
		}
		resp, err := model.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: prompt}}})
		if err != nil {
			return "", err
		}
		if len(resp.Choices) == 0 {
			return "", errors.New("the sub-LM returned no choices")
		}
		return resp.Choices[0].Message.Content, nil
	}
	one := func(ctx context.Context, args []any, kwargs map[string]any) (any, error) {
		prompt, err := stringArg(args, kwargs, "prompt")
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(prompt) == "" {
			return nil, errors.New("the prompt is empty")
		}
		if err := calls.take(1); err != nil {
			return nil, err
		}
		return query(ctx, prompt)
	}
	batch := func(ctx context.Context, args []any, kwargs map[string]any) (any, error) {
		var raw any
		switch {
		case len(args) == 1 && len(kwargs) == 0:
			raw = args[0]
		case len(args) == 0 && len(kwargs) == 1 && hasKey(kwargs, "prompts"):
			raw = kwargs["prompts"]
		default:
			return nil, errors.New("takes one argument, a list of prompts")
		}
		list, ok := raw.([]any)
		if !ok {
			return nil, errors.New("prompts must be a list of strings")
		}
		prompts := make([]string, len(list))
		for i, p := range list {
			if prompts[i], ok = p.(string); !ok {
				return nil, fmt.Errorf("prompt %d is not a string", i)
			}
		}
		if err := calls.take(len(prompts)); err != nil {
			return nil, err
		}
		out := make([]any, len(prompts))
		var wg sync.WaitGroup
		for i, p := range prompts {
			wg.Go(func() {
				reply, err := query(ctx, p)
				if err != nil {
					reply = "[ERROR] " + err.Error()
				}
				out[i] = reply
			})
		}
		wg.Wait()
		return out, nil
	}
	return []sandbox.Func{{Name: rlmQuery, Call: one}, {Name: rlmQueryBatch, Call: batch}}
}

// stringArg reads the one string argument of a function, by position or
// by name.
func stringArg(args []any, kwargs map[string]any, name string) (string, error) {
	var v any
	switch {
	case len(args) == 1 && len(kwargs) == 0:
		v = args[0]
	case len(args) == 0 && len(kwargs) == 1 && hasKey(kwargs, name):
		v = kwargs[name]
	default:
		return "", fmt.Errorf("takes one argument, %s", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return s, nil
}

// Signature returns the user's signature.
func (r *RLM[In, Out]) Signature() signature.Signature { return r.sig }

var rlmNames = []string{"generate_action", "extract"}

// NamedPredictors returns "generate_action" and "extract".
func (r *RLM[In, Out]) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{{Name: rlmNames[0], Predictor: r.generateAction}, {Name: rlmNames[1], Predictor: r.extract}}
}

// ReplacePredictors returns a copy with the named predictors replaced.
func (r *RLM[In, Out]) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	return r.WithPredictors(replace)
}

// WithPredictors is ReplacePredictors returning the concrete type.
func (r *RLM[In, Out]) WithPredictors(replace map[string]*Predictor) (*RLM[In, Out], error) {
	if err := checkNames("RLM", rlmNames, replace); err != nil {
		return nil, err
	}
	action, err := replaceOne(rlmNames[0], r.generateAction, replace)
	if err != nil {
		return nil, err
	}
	extract, err := replaceOne(rlmNames[1], r.extract, replace)
	if err != nil {
		return nil, err
	}
	c := *r
	c.generateAction, c.extract = action, extract
	return &c, nil
}
