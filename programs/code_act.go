package programs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/signature"
)

// Field names CodeAct adds, as DSPy names them (dspy/predict/code_act.py,
// commit 00f9899d).
const (
	actCode     = "generated_code"
	actFinished = "finished"
)

// CodeTrajectory is the sequence of snippets a CodeAct agent ran.
type CodeTrajectory []CodeStep

// String formats the trajectory as the agent sees it in its prompt, one
// block per key in the Chat adapter's field syntax, with DSPy's keys:
// generated_code_i and code_output_i for a snippet that ran, observation_i
// for one that could not be parsed or failed.
func (t CodeTrajectory) String() string {
	var b strings.Builder
	block := func(key string, i int, value string) {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "[[ ## %s_%d ## ]]\n%s", key, i, value)
	}
	for i, s := range t {
		if s.Code != "" {
			block("generated_code", i, s.Code)
		}
		if s.Error != "" {
			block("observation", i, s.Error)
		} else {
			block("code_output", i, s.Output)
		}
	}
	return b.String()
}

// CodeAct is DSPy's CodeAct: an agent whose actions are code. In each step
// the LM writes a snippet that may call the registered tools as functions
// (arguments by position in schema order or by name, converted to the
// tool's argument struct; results converted back into values, structs as
// dicts); the snippet runs in a sandbox session that lasts the whole run,
// so variables carry over; its printed output, or its error, is added to
// the trajectory. The loop ends when the LM marks the step finished or
// after WithMaxIters steps (default 5); then a ChainOfThought step
// extracts the signature's outputs from the trajectory, as in ReAct.
//
// A tool's error or panic fails the snippet, and the failure (with the
// line) becomes the step's observation, so the agent can try something
// else; so do code that does not parse and code that breaks a sandbox
// limit. Errors of the LM itself are returned; a reply that does not parse
// ends the loop early, as in ReAct.
//
// It holds two predictors, named "codeact" and "extractor.predict", as in
// DSPy. A CodeAct is immutable and safe for concurrent use if its tools
// are.
type CodeAct[In, Out any] struct {
	sig       signature.Signature
	tools     []Tool
	maxIters  int
	interp    sandbox.Interpreter
	codeact   *Predictor
	extractor *ChainOfThought[Values, Values]
}

// NewCodeAct returns a typed agent whose signature comes from In and Out,
// with the given tools. Options configure both predictors, except
// WithMaxIters and WithInterpreter.
func NewCodeAct[In, Out any](tools []Tool, opts ...Option) (*CodeAct[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	return newCodeAct[In, Out](sig, tools, opts)
}

// NewCodeActFrom returns an agent over sig that maps input Values to
// output Values (with the extraction's reasoning and the "trajectory").
func NewCodeActFrom(sig signature.Signature, tools []Tool, opts ...Option) (*CodeAct[Values, Values], error) {
	return newCodeAct[Values, Values](sig, tools, opts)
}

func newCodeAct[In, Out any](sig signature.Signature, tools []Tool, opts []Option) (*CodeAct[In, Out], error) {
	if sig.IsZero() {
		return nil, errors.New("programs: CodeAct: zero signature")
	}
	cfg, err := splitOptions("CodeAct", moduleConfig{maxIters: 5}, opts)
	if err != nil {
		return nil, err
	}
	if err := checkTools("CodeAct", tools, "print"); err != nil {
		return nil, err
	}
	var b strings.Builder
	if instr := sig.Instructions(); instr != "" {
		b.WriteString(instr)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "You are an agent that works by writing code. In each episode you receive %s.\n", backquoted(sig.Inputs()))
	fmt.Fprintf(&b, "Your goal is to write Starlark code (a deterministic dialect of Python) that gathers what is needed to produce %s.\n",
		backquoted(sig.Outputs()))
	b.WriteString("In each step, write one snippet that either solves the task or makes progress towards it; variables you define stay " +
		"available to later snippets. Print everything you want to see: only printed output reaches the trajectory. " +
		"Put the code in a fenced code block.\n")
	fmt.Fprintf(&b, "When everything needed for %s is available, set `%s` to True along with the final snippet.\n",
		backquoted(sig.Outputs()), actFinished)
	b.WriteString("There are no imports; besides Starlark's builtins you can call these functions, with keyword arguments:\n")
	toolList(&b, tools)
	inputs := append(sig.Inputs(), signature.Field{Name: trajectoryField, Type: signature.TypeString})
	actSig, err := signature.New(sig.Name()+"CodeAct", strings.TrimRight(b.String(), "\n"), inputs, []signature.Field{
		{Name: actCode, Type: signature.TypeString, Desc: "Starlark code that, when run, prints what is needed to answer"},
		{Name: actFinished, Type: signature.TypeBool, Desc: "whether the task is done once this code has run"},
	})
	if err != nil {
		return nil, fmt.Errorf("programs: CodeAct: %w", err)
	}
	codeact, err := NewPredictFrom(actSig, cfg.predict...)
	if err != nil {
		return nil, err
	}
	extractSig, err := signature.New(sig.Name(), sig.Instructions(), inputs, sig.Outputs())
	if err != nil {
		return nil, fmt.Errorf("programs: CodeAct: %w", err)
	}
	extractor, err := newChainOfThought[Values, Values](extractSig, cfg.predict)
	if err != nil {
		return nil, err
	}
	return &CodeAct[In, Out]{sig: sig, tools: tools, maxIters: cfg.maxIters, interp: cfg.code.interpreter(),
		codeact: codeact, extractor: extractor}, nil
}

// Call runs the agent on in and returns the extracted output and the
// trajectory.
func (c *CodeAct[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Out, CodeTrajectory, error) {
	return callTraced[In, Out](ctx, c, in, opts, c.codeact.call.model, "CodeAct", c.sig.Name(), c.codeact.wrap, c.extractor.predict.wrap, c.run)
}

// Forward runs the agent on map inputs. The prediction holds the
// extraction's outputs (its reasoning included) and, under "trajectory",
// the CodeTrajectory; its usage sums every step.
func (c *CodeAct[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	pred, _, err := runTraced(ctx, c, c.codeact.call.model, "CodeAct", c.sig.Name(), inputs, nil, c.run)
	return pred, err
}

func (c *CodeAct[In, Out]) run(ctx context.Context, inputs Values, opts []CallOption) (Prediction, CodeTrajectory, error) {
	session, err := c.interp.NewSession(sandbox.Env{Funcs: toolFuncs(c.tools)})
	if err != nil {
		return Prediction{}, nil, fmt.Errorf("programs: CodeAct: %w", err)
	}
	var (
		traj   CodeTrajectory
		usage  Prediction
		cached = true
	)
	for range c.maxIters {
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		in := maps.Clone(inputs)
		in[trajectoryField] = traj.String()
		pred, err := c.codeact.Call(ctx, in, opts...)
		if err != nil {
			if isParseError(err) {
				break // the agent could not say what to do next: extract from what it has
			}
			return Prediction{}, traj, err
		}
		usage.Usage = usage.Usage.Add(pred.Usage)
		cached = cached && pred.Cached
		raw := text(pred.Values[actCode])
		code, perr := stripFences(raw)
		switch {
		case perr != nil:
			traj = append(traj, CodeStep{Error: "Failed to parse the generated code: " + perr.Error()})
		default:
			step := CodeStep{Code: code}
			res, err := session.Run(ctx, code)
			step.Output = res.Output
			if err != nil {
				step.Error = "Failed to execute the generated code: " + err.Error()
				if res.Output != "" {
					step.Error += "\nOutput before the failure:\n" + res.Output
				}
			}
			traj = append(traj, step)
		}
		if err := ctx.Err(); err != nil {
			return Prediction{}, traj, err
		}
		if finished(pred.Values[actFinished]) {
			break
		}
	}
	in := maps.Clone(inputs)
	in[trajectoryField] = traj.String()
	pred, err := c.extractor.predict.Call(ctx, in, opts...)
	if err != nil {
		return Prediction{}, traj, err
	}
	pred.Usage = pred.Usage.Add(usage.Usage)
	pred.Cached = pred.Cached && cached
	pred.Values = maps.Clone(pred.Values)
	pred.Values[trajectoryField] = traj
	return pred, traj, nil
}

// finished reads the finished flag: a bool, or text such as "True".
func finished(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return err == nil && b
	}
	return false
}

// Signature returns the user's signature.
func (c *CodeAct[In, Out]) Signature() signature.Signature { return c.sig }

// Tools returns the agent's tools.
func (c *CodeAct[In, Out]) Tools() []Tool { return append([]Tool(nil), c.tools...) }

var codeActNames = []string{"codeact", "extractor.predict"}

// NamedPredictors returns "codeact" and "extractor.predict".
func (c *CodeAct[In, Out]) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{{Name: codeActNames[0], Predictor: c.codeact}, {Name: codeActNames[1], Predictor: c.extractor.predict}}
}

// ReplacePredictors returns a copy with the named predictors replaced.
func (c *CodeAct[In, Out]) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	return c.WithPredictors(replace)
}

// WithPredictors is ReplacePredictors returning the concrete type.
func (c *CodeAct[In, Out]) WithPredictors(replace map[string]*Predictor) (*CodeAct[In, Out], error) {
	if err := checkNames("CodeAct", codeActNames, replace); err != nil {
		return nil, err
	}
	act, err := replaceOne("codeact", c.codeact, replace)
	if err != nil {
		return nil, err
	}
	ext, err := c.extractor.WithPredictors(subReplacements(replace, "extractor"))
	if err != nil {
		return nil, err
	}
	n := *c
	n.codeact, n.extractor = act, ext
	return &n, nil
}
