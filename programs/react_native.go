package programs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/schema"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// Native tool calling for ReAct. DSPy offers it as an adapter switch
// (use_native_function_calling, dspy/adapters/base.py, which sends each
// tool as Tool.format_as_litellm_function_call gives it and reads the
// reply's tool_calls into a ToolCalls output:
// dspy/adapters/types/tool.py at stanfordnlp/dspy 4a6b33e3); here it is a
// per-agent switch, WithNativeTools. The agent's step then asks for its
// thought only, the tools (finish among them, as DSPy's ReAct makes finish
// a tool: dspy/predict/react.py at 4ed377ee) go in the request's tools
// with the JSON schema of their Go argument structs, the calls come back
// typed, and the trajectory goes back as the protocol's own messages: the
// assistant's calls, then one tool result per call.

// WithNativeTools makes a ReAct agent use the provider's native tool
// calling (OpenAI tools, Anthropic tool_use) instead of describing its
// tools in the prompt, when the LM supports it (lm.SupportsTools: the
// runtime's LMs answer from config.Provider.NativeTools). With an LM that
// does not, the agent describes its tools in text as without the option.
//
// Tool failures are still observations: arguments that are not a JSON
// object or do not validate, an error the tool returns and a panic become
// the result sent back for that call. A reply that calls no tool ends the
// loop and goes to extraction, like a reply that does not parse in text
// mode. The step predictor's demos hold text-mode fields and are not sent
// in native mode; the extraction's are.
func WithNativeTools() Option {
	return moduleOption{name: "WithNativeTools", modules: []string{"ReAct"}, apply: func(c *moduleConfig) error {
		c.nativeTools = true
		return nil
	}}
}

// nativeTools is what a ReAct agent needs for native tool calling.
type nativeTools struct {
	sig  signature.Signature // the user's inputs to the next thought
	defs []lm.ToolDef        // the tools, finish last
}

// newNativeTools builds the step signature and the tool definitions.
func newNativeTools(sig signature.Signature, tools []Tool) (*nativeTools, error) {
	var b strings.Builder
	writeAgentIntro(&b, sig)
	b.WriteString("Work in steps: in each, write your next thought, then call the next tool; " +
		"you will see each tool's result. Call the " + finishTool + " tool once the outputs are known.")
	step, err := signature.New(sig.Name()+"ReAct", b.String(), sig.Inputs(),
		[]signature.Field{{Name: thoughtField, Type: signature.TypeString}})
	if err != nil {
		return nil, fmt.Errorf("programs: ReAct: %w", err)
	}
	n := &nativeTools{sig: step}
	for _, t := range tools {
		params, err := json.Marshal(schema.Inline(t.schema))
		if err != nil {
			return nil, fmt.Errorf("programs: ReAct: tool %s: %w", t.name, err)
		}
		n.defs = append(n.defs, lm.ToolDef{Name: t.name, Description: t.desc, Parameters: params})
	}
	n.defs = append(n.defs, lm.ToolDef{
		Name:        finishTool,
		Description: fmt.Sprintf("Marks the task as complete: call it once the outputs %s are known.", backquoted(sig.Outputs())),
		Parameters:  json.RawMessage(`{"type":"object","properties":{}}`),
	})
	return n, nil
}

// useNative reports whether this call of the agent uses native tools.
func (r *ReAct[In, Out]) useNative(ctx context.Context, opts []CallOption) bool {
	if r.native == nil {
		return false
	}
	_, model, err := r.react.settings(ctx, opts)
	return err == nil && lm.SupportsTools(model)
}

// runNative is the agent's loop with native tool calls.
func (r *ReAct[In, Out]) runNative(ctx context.Context, inputs Values, opts []CallOption, h reactHooks) (Prediction, Trajectory, error) {
	ctx, meter := history.WithMeter(ctx)
	var (
		traj   Trajectory
		turns  []lm.Message
		usage  lm.Usage
		cached = true
	)
loop:
	for range r.maxIters {
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		reply, pred, err := r.nativeStep(ctx, inputs, traj, turns, opts)
		if err != nil {
			return Prediction{}, traj, err
		}
		usage = usage.Add(pred.Usage)
		cached = cached && pred.Cached
		if len(reply.ToolCalls) == 0 {
			break // the agent did not say what to do next: extract from what it has
		}
		turns = append(turns, lm.Message{Role: lm.RoleAssistant, Content: reply.Content, ToolCalls: reply.ToolCalls})
		finished := false
		for _, call := range reply.ToolCalls {
			step := Step{Thought: text(pred.Values[thoughtField]), Tool: call.Name, ToolCallID: call.ID}
			args, argsOK := callArgs(call.Arguments)
			step.Args = args
			switch {
			case !argsOK:
				step.Observation = fmt.Sprintf("Failed to execute: the arguments of %s must be a JSON object", step.Tool)
			case step.Tool == finishTool:
				step.Observation = "Completed."
				finished = true
			default:
				if err := r.useTool(ctx, h, &step); err != nil {
					return Prediction{}, traj, err
				}
			}
			traj = append(traj, step)
			turns = append(turns, lm.Message{Role: lm.RoleTool, ToolCallID: call.ID, Content: step.Observation})
		}
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		if finished {
			break loop
		}
	}
	in := maps.Clone(inputs)
	in[trajectoryField] = traj.String()
	pred, err := r.extract.predict.run(ctx, in, opts, h.extract)
	if err != nil {
		return Prediction{}, traj, err
	}
	pred.Usage = pred.Usage.Add(usage)
	pred.Cached = pred.Cached && cached
	pred.Values = maps.Clone(pred.Values)
	pred.Values[trajectoryField] = traj
	pred.LMUsage = meter.ByModel()
	return pred, traj, nil
}

// nativeStep asks for the next step: the prompt the step predictor's
// adapter formats for the user's inputs, the trajectory so far as tool
// traffic, and the tools. It returns the reply and the thought the reply's
// text holds (the whole text when it does not parse: a thought is free
// text). It is recorded in the trace as a step of the text-mode "react"
// predictor, so that optimizers can make demos of it.
func (r *ReAct[In, Out]) nativeStep(ctx context.Context, inputs Values, traj Trajectory, turns []lm.Message, opts []CallOption) (lm.Message, Prediction, error) {
	p := r.react
	call, model, err := p.settings(ctx, opts)
	if err != nil {
		return lm.Message{}, Prediction{}, err
	}
	sig := r.native.sig
	for _, f := range sig.Inputs() {
		if v, ok := inputs[f.Name]; !ok || v == nil {
			return lm.Message{}, Prediction{}, p.wrap(&adapter.MissingInputError{Field: f.Name})
		}
	}
	ctx = history.WithPredictor(ctx, p.displayName())
	ctx, meter := history.WithMeter(ctx)
	ctx, span := telemetry.Start(withTelemetry(ctx, model), "Predict", p.displayName())
	describeCall(span, "Predict", p.displayName(), &sig)
	reply, pred, err := r.nativeCall(ctx, model, call, sig, inputs, turns)
	telemetry.End(span, err)
	if err != nil {
		return lm.Message{}, Prediction{}, p.wrap(err)
	}
	pred.LMUsage = meter.ByModel()
	if t := traceFrom(ctx); t != nil {
		in := maps.Clone(inputs)
		in[trajectoryField] = traj.String()
		out := Values{thoughtField: pred.Values[thoughtField], toolNameField: "", toolArgsField: map[string]any{}}
		if len(reply.ToolCalls) > 0 {
			c := reply.ToolCalls[0]
			out[toolNameField] = c.Name
			if args, ok := callArgs(c.Arguments); ok && args != nil {
				out[toolArgsField] = args
			}
		}
		t.record(TraceEntry{Predictor: p, Inputs: in, Outputs: out})
	}
	return reply, pred, nil
}

// nativeCall formats, sends and reads one native step.
func (r *ReAct[In, Out]) nativeCall(ctx context.Context, model lm.LM, call callConfig, sig signature.Signature, inputs Values, turns []lm.Message) (lm.Message, Prediction, error) {
	a := r.react.adapter
	req, err := a.Format(sig, nil, inputs)
	if err != nil {
		return lm.Message{}, Prediction{}, err
	}
	base := call.request()
	req.Model, req.Temperature, req.MaxTokens, req.Stop, req.Seed = base.Model, base.Temperature, base.MaxTokens, base.Stop, base.Seed
	req.RolloutID, req.NoCache = base.RolloutID, base.NoCache
	req.Messages = append(req.Messages, turns...)
	req.Tools, req.ToolChoice = r.native.defs, lm.ToolChoiceRequired
	resp, err := model.Chat(ctx, req)
	if err != nil {
		return lm.Message{}, Prediction{}, fmt.Errorf("adapter: LM call: %w", err)
	}
	if len(resp.Choices) == 0 {
		return lm.Message{}, Prediction{}, fmt.Errorf("adapter: %w", lm.ErrNoChoices)
	}
	reply := resp.Choices[0].Message
	thought := strings.TrimSpace(reply.Content)
	if v, err := a.Parse(sig, reply.Content); err == nil {
		thought = text(v[thoughtField])
	}
	return reply, Prediction{
		Values: Values{thoughtField: thought},
		Usage:  resp.Usage,
		Model:  resp.Model,
		Cached: resp.Cached,
	}, nil
}

// callArgs decodes a call's arguments: a JSON object, or nothing (no
// arguments). It reports false for anything else.
func callArgs(raw string) (map[string]any, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, true
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, false
	}
	args, ok := v.(map[string]any)
	return args, ok
}
