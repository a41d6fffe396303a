package programs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/dspex-go/dspex/adapter"
	"github.com/dspex-go/dspex/programs/sandbox"
	"github.com/dspex-go/dspex/signature"
)

// Field names ProgramOfThought adds, as DSPy names them
// (dspy/predict/program_of_thought.py, commit 01c4112b).
const (
	potCode       = "generated_code"
	potPrevCode   = "previous_code"
	potError      = "error"
	potFinalCode  = "final_generated_code"
	potCodeOutput = "code_output"
	potFinal      = "FINAL"
)

// ProgramOfThought is DSPy's ProgramOfThought: the LM writes a program that
// computes the outputs, the program runs in a sandbox (Starlark, see
// package sandbox), and on a failure the LM is shown its code and the error
// and writes another, up to WithMaxIters programs (default 3). A final
// step reads the program's result and fills the signature's outputs.
//
// The program returns its result by calling FINAL with a dict of the
// output fields ({"answer": ...}); a program that does not is still
// accepted if it printed something, which is then its result.
//
// It holds three ChainOfThought steps, as DSPy does: "code_generate",
// "code_regenerate" and "generate_answer", so its predictors are named
// "code_generate.predict", "code_regenerate.predict" and
// "generate_answer.predict". The code, its output and its errors are
// inputs of the later steps, so traces record them. A ProgramOfThought is
// immutable and safe for concurrent use: every run has its own sandbox
// session.
type ProgramOfThought[In, Out any] struct {
	sig            signature.Signature
	maxIters       int
	interp         sandbox.Interpreter
	codeGenerate   *ChainOfThought[Values, Values]
	codeRegenerate *ChainOfThought[Values, Values]
	generateAnswer *ChainOfThought[Values, Values]
}

// NewProgramOfThought returns a typed ProgramOfThought whose signature
// comes from In and Out. Options configure the three predictors, except
// WithMaxIters and WithInterpreter.
func NewProgramOfThought[In, Out any](opts ...Option) (*ProgramOfThought[In, Out], error) {
	sig, err := signature.Of[In, Out]()
	if err != nil {
		return nil, err
	}
	return newProgramOfThought[In, Out](sig, opts)
}

// NewProgramOfThoughtFrom returns a ProgramOfThought over sig that maps
// input Values to output Values.
func NewProgramOfThoughtFrom(sig signature.Signature, opts ...Option) (*ProgramOfThought[Values, Values], error) {
	return newProgramOfThought[Values, Values](sig, opts)
}

func newProgramOfThought[In, Out any](sig signature.Signature, opts []Option) (*ProgramOfThought[In, Out], error) {
	if sig.IsZero() {
		return nil, errors.New("programs: ProgramOfThought: zero signature")
	}
	cfg, err := splitOptions("ProgramOfThought", moduleConfig{maxIters: 3}, opts)
	if err != nil {
		return nil, err
	}
	outputs := backquoted(sig.Outputs())
	code := func() signature.Field {
		return signature.Field{Name: potCode, Prefix: "Code:", Type: signature.TypeString,
			Desc: "Starlark code (a deterministic dialect of Python) that computes the answer"}
	}
	var steps [3]*ChainOfThought[Values, Values]
	for i, mode := range []string{"generate", "regenerate", "answer"} {
		inputs := sig.Inputs()
		var outs []signature.Field
		var instr string
		switch mode {
		case "generate":
			outs = []signature.Field{code()}
			instr = fmt.Sprintf("You are given %s. Write an executable Starlark program (Starlark is a deterministic dialect of Python: "+
				"no imports, no files, no clock) that computes %s step by step.\n"+
				"When the program has computed the result, it must hand it over by calling the preloaded function `FINAL()` "+
				"with a dict that maps %s to the computed values, for example {\"field_a\": value_a, ...}.",
				backquoted(inputs), outputs, outputs)
		case "regenerate":
			inputs = append(inputs,
				signature.Field{Name: potPrevCode, Prefix: "Previous Code:", Type: signature.TypeString,
					Desc: "the previously written code, which failed"},
				signature.Field{Name: potError, Prefix: "Error:", Type: signature.TypeString,
					Desc: "the error the previous code failed with"})
			outs = []signature.Field{code()}
			instr = fmt.Sprintf("You are given %s: the previous program failed with the error shown. "+
				"Fix it and write the corrected `%s`; it must still end by calling `FINAL()` with a dict that maps %s to the computed values.",
				backquoted(inputs), potCode, outputs)
		case "answer":
			inputs = append(inputs,
				signature.Field{Name: potFinalCode, Prefix: "Code:", Type: signature.TypeString,
					Desc: "the program that computed the answer"},
				signature.Field{Name: potCodeOutput, Prefix: "Code Output:", Type: signature.TypeString,
					Desc: "what the program returned or printed"})
			outs = sig.Outputs()
			instr = fmt.Sprintf("Given %s, give the final %s as the program's output shows it.", backquoted(inputs), outputs)
		}
		if ui := sig.Instructions(); ui != "" && !strings.HasPrefix(ui, "Given the fields") {
			instr = ui + "\n\n" + instr
		}
		s, err := signature.New(sig.Name()+"_"+mode, instr, inputs, outs)
		if err != nil {
			return nil, fmt.Errorf("programs: ProgramOfThought: %w", err)
		}
		if steps[i], err = newChainOfThought[Values, Values](s, cfg.predict); err != nil {
			return nil, err
		}
	}
	return &ProgramOfThought[In, Out]{sig: sig, maxIters: cfg.maxIters, interp: cfg.code.interpreter(),
		codeGenerate: steps[0], codeRegenerate: steps[1], generateAnswer: steps[2]}, nil
}

// Call runs the module on in and returns the typed outputs and the
// programs it ran. When every program failed, the error is a *CodeError
// (errors.Is(err, ErrCodeFailed)) holding them.
func (p *ProgramOfThought[In, Out]) Call(ctx context.Context, in In, opts ...CallOption) (Out, []CodeStep, error) {
	return callTraced[In, Out](ctx, p, in, opts, p.codeGenerate.predict.call.model, "ProgramOfThought", p.sig.Name(), p.codeGenerate.predict.wrap, p.generateAnswer.predict.wrap, p.run)
}

// Forward runs the module on map inputs. The prediction holds the answer
// step's outputs (its reasoning included) and, under "trajectory", the
// []CodeStep; its usage sums every LM call.
func (p *ProgramOfThought[In, Out]) Forward(ctx context.Context, inputs Values) (Prediction, error) {
	pred, _, err := runTraced(ctx, p, p.codeGenerate.predict.call.model, "ProgramOfThought", p.sig.Name(), inputs, nil, p.run)
	return pred, err
}

func (p *ProgramOfThought[In, Out]) run(ctx context.Context, inputs Values, opts []CallOption) (Prediction, []CodeStep, error) {
	in := make(Values, len(p.sig.Inputs()))
	for _, f := range p.sig.Inputs() {
		if v, ok := inputs[f.Name]; ok {
			in[f.Name] = v
		}
	}
	var (
		steps  []CodeStep
		total  Prediction
		cached = true
	)
	step := p.codeGenerate
	for hop := 0; ; hop++ {
		pred, err := step.predict.Call(ctx, in, opts...)
		if err != nil {
			return Prediction{}, steps, err
		}
		total.Usage = total.Usage.Add(pred.Usage)
		cached = cached && pred.Cached
		s := CodeStep{Reasoning: text(pred.Values[reasoningField.Name])}
		code, perr := stripFences(text(pred.Values[potCode]))
		s.Code = code
		if perr != nil {
			s.Code, s.Error = text(pred.Values[potCode]), "Error: "+perr.Error()
		} else {
			s.Output, s.Error = p.execute(ctx, code)
		}
		steps = append(steps, s)
		if err := ctx.Err(); err != nil {
			return Prediction{}, steps, err
		}
		if s.Error == "" {
			break
		}
		if hop+1 >= p.maxIters {
			return Prediction{}, steps, &CodeError{Module: "ProgramOfThought", Steps: steps}
		}
		in = maps.Clone(in)
		in[potPrevCode], in[potError] = s.Code, s.Error
		step = p.codeRegenerate
	}
	last := steps[len(steps)-1]
	final := maps.Clone(in)
	delete(final, potPrevCode)
	delete(final, potError)
	final[potFinalCode], final[potCodeOutput] = last.Code, last.Output
	pred, err := p.generateAnswer.predict.Call(ctx, final, opts...)
	if err != nil {
		return Prediction{}, steps, err
	}
	pred.Usage = pred.Usage.Add(total.Usage)
	pred.Cached = pred.Cached && cached
	pred.Values = maps.Clone(pred.Values)
	pred.Values[trajectoryField] = steps
	return pred, steps, nil
}

// execute runs code in a fresh session and returns its result as text: the
// value given to FINAL as JSON, else what it printed; or the error.
func (p *ProgramOfThought[In, Out]) execute(ctx context.Context, code string) (output, errText string) {
	s, err := p.interp.NewSession(sandbox.Env{Final: []string{potFinal}})
	if err != nil {
		return "", "Error: " + err.Error()
	}
	res, err := s.Run(ctx, code)
	if err != nil {
		return res.Output, err.Error()
	}
	if res.Finished {
		b, err := json.Marshal(res.Final)
		if err != nil {
			return "", "Error: the value given to FINAL cannot be encoded: " + err.Error()
		}
		return string(b), ""
	}
	if strings.TrimSpace(res.Output) == "" {
		return "", "Error: the program neither called FINAL() nor printed anything"
	}
	return res.Output, ""
}

// Signature returns the user's signature.
func (p *ProgramOfThought[In, Out]) Signature() signature.Signature { return p.sig }

var potNames = []string{"code_generate.predict", "code_regenerate.predict", "generate_answer.predict"}

// NamedPredictors returns "code_generate.predict",
// "code_regenerate.predict" and "generate_answer.predict".
func (p *ProgramOfThought[In, Out]) NamedPredictors() []NamedPredictor {
	return []NamedPredictor{
		{Name: potNames[0], Predictor: p.codeGenerate.predict},
		{Name: potNames[1], Predictor: p.codeRegenerate.predict},
		{Name: potNames[2], Predictor: p.generateAnswer.predict},
	}
}

// ReplacePredictors returns a copy with the named predictors replaced.
func (p *ProgramOfThought[In, Out]) ReplacePredictors(replace map[string]*Predictor) (Module, error) {
	return p.WithPredictors(replace)
}

// WithPredictors is ReplacePredictors returning the concrete type.
func (p *ProgramOfThought[In, Out]) WithPredictors(replace map[string]*Predictor) (*ProgramOfThought[In, Out], error) {
	if err := checkNames("ProgramOfThought", potNames, replace); err != nil {
		return nil, err
	}
	c := *p
	for _, s := range []struct {
		prefix string
		step   **ChainOfThought[Values, Values]
	}{{"code_generate", &c.codeGenerate}, {"code_regenerate", &c.codeRegenerate}, {"generate_answer", &c.generateAnswer}} {
		n, err := (*s.step).WithPredictors(subReplacements(replace, s.prefix))
		if err != nil {
			return nil, err
		}
		*s.step = n
	}
	return &c, nil
}

// isParseError reports whether err is a reply the adapter could not parse.
func isParseError(err error) bool {
	var pe *adapter.ParseError
	return errors.As(err, &pe)
}
