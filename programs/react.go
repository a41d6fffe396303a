package programs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/signature"
)

// finishTool is the name of the tool a ReAct agent calls when it has what it
// needs to answer.
const finishTool = "finish"

// Names of the fields ReAct adds to the user's signature.
const (
	trajectoryField = "trajectory"
	thoughtField    = "next_thought"
	toolNameField   = "next_tool_name"
	toolArgsField   = "next_tool_args"
)

// Step is one iteration of a ReAct agent: what it thought, the tool it
// chose with its arguments, and what the tool answered.
type Step struct {
	// Thought is the agent's reasoning before the call.
	Thought string `json:"thought"`
	// Tool names the tool called ("finish" to stop).
	Tool string `json:"tool_name"`
	// Args are the arguments the agent gave.
	Args map[string]any `json:"tool_args"`
	// Observation is the tool's result, or "Failed to execute: ..." when the
	// arguments were invalid, the tool failed or it panicked.
	Observation string `json:"observation"`
	// ToolCallID is the provider's id of the call, with native tool
	// calling (WithNativeTools); empty in text mode.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Trajectory is the sequence of steps a ReAct agent took.
type Trajectory []Step

// String formats the trajectory as the agent sees it in its prompt: one
// block per key (thought_0, tool_name_0, tool_args_0, observation_0, ...),
// in the Chat adapter's field syntax, as DSPy does.
func (t Trajectory) String() string {
	var b strings.Builder
	block := func(key string, i int, value string) {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "[[ ## %s_%d ## ]]\n%s", key, i, value)
	}
	for i, s := range t {
		args := "{}"
		if len(s.Args) > 0 {
			if raw, err := json.Marshal(s.Args); err == nil {
				args = string(raw)
			}
		}
		block("thought", i, s.Thought)
		block("tool_name", i, s.Tool)
		block("tool_args", i, args)
		block("observation", i, s.Observation)
	}
	return b.String()
}

// ReAct is DSPy's ReAct agent: it interleaves thoughts with calls to Go
// tools, feeding each tool's observation back, until it calls the finish
// tool or reaches the iteration limit (WithMaxIters, default 5); then a
// final ChainOfThought step extracts the signature's outputs from the
// trajectory.
//
// Tool failures never end the run: arguments that do not validate, an error
// the tool returns, a panic in the tool and an unknown tool name all become
// the step's observation ("Failed to execute: ..."), so the agent can
// correct itself. A reply the adapter cannot parse ends the loop early and
// goes to extraction, as in DSPy. Errors from the LM itself are returned.
//
// It holds two predictors, named "react" (choosing the next step) and
// "extract.predict" (the final ChainOfThought), as in DSPy. A ReAct is
// immutable and safe for concurrent use if its tools are.
type ReAct[In, Out any] struct {
	sig      signature.Signature
	tools    []Tool
	maxIters int
	react    *Predictor
	extract  *ChainOfThought[Values, Values]
	native   *nativeTools // nil unless WithNativeTools
}

// NewReAct returns a typed agent whose signature comes from In and Out,
// with the given tools. Options configure both predictors, except
// WithMaxIters.
func NewReAct[In, Out any](tools []Tool, opts ...Option) (*ReAct[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	return newReAct[In, Out](sig, tools, opts)
}

// NewReActFrom returns an agent over sig that maps input Values to output
// Values (with the extraction's reasoning and the "trajectory").
func NewReActFrom(sig signature.Signature, tools []Tool, opts ...Option) (*ReAct[Values, Values], error) {
	return newReAct[Values, Values](sig, tools, opts)
}

func newReAct[In, Out any](sig signature.Signature, tools []Tool, opts []Option) (*ReAct[In, Out], error) {
	if sig.IsZero() {
		return nil, fmt.Errorf("programs: ReAct: zero signature")
	}
	cfg, err := splitOptions("ReAct", moduleConfig{maxIters: 5}, opts)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{finishTool: true}
	for _, t := range tools {
		if t.call == nil {
			return nil, fmt.Errorf("programs: ReAct: zero Tool (use NewTool)")
		}
		if seen[t.name] {
			return nil, fmt.Errorf("programs: ReAct: two tools are named %q", t.name)
		}
		seen[t.name] = true
	}
	reactSig, err := reactSignature(sig, tools)
	if err != nil {
		return nil, err
	}
	react, err := NewPredictFrom(reactSig, cfg.predict...)
	if err != nil {
		return nil, err
	}
	extractSig, err := signature.New(sig.Name(), sig.Instructions(),
		append(sig.Inputs(), signature.Field{Name: trajectoryField, Type: signature.TypeString}), sig.Outputs())
	if err != nil {
		return nil, fmt.Errorf("programs: ReAct: %w", err)
	}
	extract, err := newChainOfThought[Values, Values](extractSig, cfg.predict)
	if err != nil {
		return nil, err
	}
	r := &ReAct[In, Out]{sig: sig, tools: tools, maxIters: cfg.maxIters, react: react, extract: extract}
	if cfg.nativeTools {
		if r.native, err = newNativeTools(sig, tools); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// writeAgentIntro writes the opening of a step predictor's instructions,
// in text and native mode alike: the user's instructions, then who the
// agent is and what it is given and must produce.
func writeAgentIntro(b *strings.Builder, sig signature.Signature) {
	if instr := sig.Instructions(); instr != "" {
		b.WriteString(instr)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(b, "You are an agent. You are given %s and must finish with %s.\n",
		backquoted(sig.Inputs()), backquoted(sig.Outputs()))
}

// reactSignature builds the signature of the step predictor: the user's
// inputs and the trajectory so far, to the next thought, tool and
// arguments. The instructions list the tools with their argument schemas.
func reactSignature(sig signature.Signature, tools []Tool) (signature.Signature, error) {
	var b strings.Builder
	writeAgentIntro(&b, sig)
	b.WriteString("Work in steps: in each, write your next thought, then pick the next tool and its arguments; " +
		"you will see the tool's observation in the trajectory.\n")
	b.WriteString("The tools are:\n")
	finish, err := newTool(finishTool,
		fmt.Sprintf("Marks the task as complete: call it once the outputs %s are known.", backquoted(sig.Outputs())),
		signature.StructOf("finish"), nil)
	if err != nil {
		return signature.Signature{}, fmt.Errorf("programs: ReAct: %w", err)
	}
	all := append(append([]Tool(nil), tools...), finish)
	for i, t := range all {
		fmt.Fprintf(&b, "(%d) %s", i+1, t.name)
		if t.desc != "" {
			fmt.Fprintf(&b, ", whose description is <desc>%s</desc>", strings.ReplaceAll(t.desc, "\n", "  "))
		}
		fmt.Fprintf(&b, ". It takes arguments %s in JSON format.\n", t.arguments())
	}
	inputs := append(sig.Inputs(), signature.Field{Name: trajectoryField, Type: signature.TypeString})
	outputs := []signature.Field{
		{Name: thoughtField, Type: signature.TypeString},
		{Name: toolNameField, Type: toolNames(all)},
		{Name: toolArgsField, Type: signature.MapOf(signature.TypeObject)},
	}
	s, err := signature.New(sig.Name()+"ReAct", strings.TrimRight(b.String(), "\n"), inputs, outputs)
	if err != nil {
		return signature.Signature{}, fmt.Errorf("programs: ReAct: %w", err)
	}
	return s, nil
}

// toolNames is the type of the tool-name output: Literal[...] of the tool
// names, finish last, as DSPy's ReAct declares it
// (dspy/predict/react.py at stanfordnlp/dspy 4ed377ee), so that the prompt
// lists the choices and a name that is not a tool fails to parse.
func toolNames(tools []Tool) signature.Type {
	names := make([]any, len(tools))
	for i, t := range tools {
		names[i] = t.name
	}
	return signature.LiteralOf(names...)
}

func backquoted(fs []signature.Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = "`" + f.Name + "`"
	}
	return strings.Join(names, ", ")
}

// Call runs the agent on in and returns the extracted output and the
// trajectory.
func (r *ReAct[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Out, Trajectory, error) {
	return callTraced[In, Out](ctx, r, in, opts, r.react.call.model, "ReAct", r.sig.Name(), r.react.wrap, r.extract.predict.wrap, r.run)
}

// Forward runs the agent on map inputs. The prediction holds the
// extraction's outputs (its reasoning included) and, under "trajectory",
// the Trajectory; its usage sums every step.
func (r *ReAct[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	pred, _, err := runTraced(ctx, r, r.react.call.model, "ReAct", r.sig.Name(), inputs, nil, r.run)
	return pred, err
}

func (r *ReAct[In, Out]) run(ctx context.Context, inputs Values, opts []CallOption) (Prediction, Trajectory, error) {
	return r.runStreamed(ctx, inputs, opts, reactHooks{})
}

// runStreamed is run with its events sent to the hooks that are set.
func (r *ReAct[In, Out]) runStreamed(ctx context.Context, inputs Values, opts []CallOption, h reactHooks) (Prediction, Trajectory, error) {
	if r.useNative(ctx, opts) {
		return r.runNative(ctx, inputs, opts, h)
	}
	ctx, meter := history.WithMeter(ctx)
	var (
		traj   Trajectory
		usage  Prediction
		cached = true
	)
	for range r.maxIters {
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		in := maps.Clone(inputs)
		in[trajectoryField] = traj.String()
		pred, err := r.react.run(ctx, in, opts, h.react)
		if err != nil {
			var pe *adapter.ParseError
			if errors.As(err, &pe) {
				break // the agent could not say what to do next: extract from what it has
			}
			return Prediction{}, traj, err
		}
		usage.Usage = usage.Usage.Add(pred.Usage)
		cached = cached && pred.Cached
		step := Step{
			Thought: text(pred.Values[thoughtField]),
			Tool:    strings.Trim(strings.TrimSpace(text(pred.Values[toolNameField])), "`'\""),
		}
		args, argsOK := pred.Values[toolArgsField].(map[string]any)
		step.Args = args
		switch {
		case step.Tool == finishTool:
			step.Observation = "Completed."
		case !argsOK && pred.Values[toolArgsField] != nil:
			step.Observation = fmt.Sprintf("Failed to execute: the arguments of %s must be a JSON object", step.Tool)
		default:
			if err := r.useTool(ctx, h, &step); err != nil {
				return Prediction{}, traj, err
			}
		}
		traj = append(traj, step)
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		if step.Tool == finishTool {
			break
		}
	}
	in := maps.Clone(inputs)
	in[trajectoryField] = traj.String()
	pred, err := r.extract.predict.run(ctx, in, opts, h.extract)
	if err != nil {
		return Prediction{}, traj, err
	}
	pred.Usage = pred.Usage.Add(usage.Usage)
	pred.Cached = pred.Cached && cached
	pred.Values = maps.Clone(pred.Values)
	pred.Values[trajectoryField] = traj
	pred.LMUsage = meter.ByModel()
	return pred, traj, nil
}

// callTool runs the named tool and returns the observation.
// useTool calls step's tool with its arguments and records the observation,
// telling h's status listener before and after; it fails with
// adapter.ErrStreamStopped when the listener stops the stream.
func (r *ReAct[In, Out]) useTool(ctx context.Context, h reactHooks, step *Step) error {
	if h.status != nil && !h.status(ToolStatus{Tool: step.Tool, Args: step.Args}) {
		return adapter.ErrStreamStopped
	}
	step.Observation = r.callTool(ctx, step.Tool, step.Args)
	if h.status != nil && !h.status(ToolStatus{Tool: step.Tool, Args: step.Args, Returned: true, Observation: step.Observation}) {
		return adapter.ErrStreamStopped
	}
	return nil
}

func (r *ReAct[In, Out]) callTool(ctx context.Context, name string, args map[string]any) string {
	for _, t := range r.tools {
		if t.name == name {
			obs, err := t.Call(ctx, args)
			if err != nil {
				return "Failed to execute: " + err.Error()
			}
			return obs
		}
	}
	names := []string{finishTool}
	for _, t := range r.tools {
		names = append(names, t.name)
	}
	return fmt.Sprintf("Failed to execute: there is no tool named %q (the tools are %s)", name, strings.Join(names, ", "))
}

// text returns v as a string: strings as is, others formatted.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// Signature returns the user's signature.
func (r *ReAct[In, Out]) Signature() signature.Signature { return r.sig }

// Tools returns the agent's tools, without the built-in finish tool.
func (r *ReAct[In, Out]) Tools() []Tool { return append([]Tool(nil), r.tools...) }

// NamedPredictors returns "react" and "extract.predict".
func (r *ReAct[In, Out]) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{{Name: "react", Predictor: r.react}, {Name: "extract.predict", Predictor: r.extract.predict}}
}

// ReplacePredictors returns a copy with the named predictors replaced.
func (r *ReAct[In, Out]) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	return r.WithPredictors(replace)
}

// WithPredictors is ReplacePredictors returning the concrete type.
func (r *ReAct[In, Out]) WithPredictors(replace map[string]*Predictor) (*ReAct[In, Out], error) {
	if err := checkNames("ReAct", []string{"react", "extract.predict"}, replace); err != nil {
		return nil, err
	}
	react, err := replaceOne("react", r.react, replace)
	if err != nil {
		return nil, err
	}
	extract, err := r.extract.WithPredictors(subReplacements(replace, "extract"))
	if err != nil {
		return nil, err
	}
	c := *r
	c.react, c.extract = react, extract
	return &c, nil
}
