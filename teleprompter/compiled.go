package teleprompter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
)

// Teleprompter compiles a student program into an optimized copy (DSPy's
// optimizers). Compile never modifies the student.
type Teleprompter interface {
	Compile(ctx context.Context, student programs.Program, trainset []dataset.Example) (*Compiled, error)
}

// Compiled is a program returned by a teleprompter, with the report of how
// it was made. It runs as the optimized program does, and it is a
// programs.Module whose predictors have the student's names, so it can be
// evaluated, compiled again, walked and saved like the student.
//
// A Compiled is immutable and safe for concurrent use.
type Compiled struct {
	program programs.Program
	report  Report
}

// Report says which teleprompter made a compiled program, with which
// settings, and what it measured. It is saved with the program.
type Report struct {
	// Teleprompter names the optimizer, e.g. "BootstrapFewShot".
	Teleprompter string `json:"teleprompter"`
	// Settings holds the optimizer's settings by their DSPy names
	// (max_bootstrapped_demos, seed, ...).
	Settings map[string]any `json:"settings"`
	// Demos counts the demos given to each predictor, by name.
	Demos map[string]int `json:"demos"`
	// Bootstrapped counts the training examples whose traces passed the
	// metric and became demos (bootstrapping optimizers).
	Bootstrapped int `json:"bootstrapped,omitempty"`
	// Attempted counts the training examples the teacher ran on.
	Attempted int `json:"attempted,omitempty"`
	// Score is the dev-set score of the returned program, when the
	// optimizer measured it (random search); NaN is never stored.
	Score *float64 `json:"score,omitempty"`
	// Candidates lists every candidate scored by a search, in the order
	// tried, with the index of the chosen one in Best.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Best is the index in Candidates of the returned program.
	Best int `json:"best,omitempty"`
	// Trials is the trial log of a reflective search (GEPA, SIMBA), one
	// entry per step, in order. It is saved and loaded with its type.
	Trials []ReflectTrial `json:"trials,omitempty"`
	// StoppedBy says why the optimizer stopped before the end: the
	// budget it ran under (dspex.WithBudget) was spent. Empty when it ran
	// to the end.
	StoppedBy string `json:"stopped_by,omitempty"`
}

// Candidate is one program scored by a search.
type Candidate struct {
	// Label describes the candidate: "zero-shot", "labeled", "bootstrap
	// unshuffled", "bootstrap seed=3 demos=2".
	Label string `json:"label"`
	// Seed is the candidate's seed (DSPy's: -3 zero-shot, -2 labeled, -1
	// unshuffled bootstrap, then 0, 1, ...).
	Seed int `json:"seed"`
	// Score is its dev-set score.
	Score float64 `json:"score"`
	// Failed counts the dev examples whose run failed.
	Failed int `json:"failed,omitempty"`
	// Demos counts its demos per predictor.
	Demos map[string]int `json:"demos,omitempty"`
}

// NewCompiled wraps an optimized program with its report; teleprompters
// outside this package use it.
func NewCompiled(prog programs.Program, report Report) *Compiled {
	if c, ok := prog.(*Compiled); ok {
		prog = c.program
	}
	return &Compiled{program: prog, report: report}
}

// Forward runs the optimized program.
func (c *Compiled) Forward(ctx context.Context, inputs programs.Values) (programs.Prediction, error) {
	return c.program.Forward(ctx, inputs)
}

// Program returns the optimized program, of the student's own type.
func (c *Compiled) Program() programs.Program { return c.program }

// Report returns how the program was compiled.
func (c *Compiled) Report() Report { return c.report }

// NamedPredictors returns the optimized program's predictors, with the
// student's names.
func (c *Compiled) NamedPredictors() []programs.NamedPredictor {
	nps, err := programs.NamedPredictors(c.program)
	if err != nil {
		return nil
	}
	return nps
}

// ReplacePredictors returns a copy of c whose program has the named
// predictors replaced; the report is kept.
func (c *Compiled) ReplacePredictors(replace map[string]*programs.Predictor) (programs.Module, error) {
	p, err := programs.WithPredictors(c.program, replace)
	if err != nil {
		return nil, err
	}
	return &Compiled{program: p, report: c.report}, nil
}

// Save writes the compiled program in the programs.Save format, with the
// report under the extra key "compiled". programs.Load reads the result
// too (it ignores the report).
func (c *Compiled) Save(w io.Writer) error {
	var buf bytes.Buffer
	if err := programs.Save(&buf, c.program); err != nil {
		return err
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &state); err != nil {
		return fmt.Errorf("teleprompter: Save: %w", err)
	}
	rep, err := json.Marshal(c.report)
	if err != nil {
		return fmt.Errorf("teleprompter: Save: report: %w", err)
	}
	state["compiled"] = rep
	out, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return fmt.Errorf("teleprompter: Save: %w", err)
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// Load reads what Compiled.Save wrote into a copy of student (which must
// have the same predictors, see programs.Load) and returns it with its
// report. State written by programs.Save loads too, with an empty report.
func Load[P programs.Program](r io.Reader, student P) (*Compiled, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: Load: %w", err)
	}
	prog, err := programs.Load(bytes.NewReader(data), student)
	if err != nil {
		return nil, err
	}
	var state struct {
		Compiled *Report `json:"compiled"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("teleprompter: Load: %w", err)
	}
	var rep Report
	if state.Compiled != nil {
		rep = *state.Compiled
	}
	return NewCompiled(prog, rep), nil
}

// ErrNoPredictors means a student has no predictors to optimize: it is not
// built from programs.Predict, programs.Predictor, the built-in modules or
// structs of them (a programs.ProgramFunc cannot be walked).
var ErrNoPredictors = errors.New("teleprompter: the student has no predictors")

// predictorsOf returns the named predictors of prog, failing with
// ErrNoPredictors when it has none.
func predictorsOf(prog programs.Program) ([]programs.NamedPredictor, error) {
	if prog == nil {
		return nil, errors.New("teleprompter: nil student")
	}
	nps, err := programs.NamedPredictors(prog)
	if err != nil {
		return nil, fmt.Errorf("teleprompter: %w", err)
	}
	if len(nps) == 0 {
		return nil, fmt.Errorf("%w (%T)", ErrNoPredictors, prog)
	}
	return nps, nil
}

// withDemos returns a copy of prog whose predictors have the given demos
// (by name; predictors not in demos get none), and the count per name.
func withDemos(prog programs.Program, nps []programs.NamedPredictor, demos map[string][]programs.Values) (programs.Program, map[string]int, error) {
	replace := make(map[string]*programs.Predictor, len(nps))
	counts := make(map[string]int, len(nps))
	for _, np := range nps {
		d := demos[np.Name]
		replace[np.Name] = np.Predictor.WithDemos(d)
		counts[np.Name] = len(d)
	}
	p, err := programs.WithPredictors(prog, replace)
	if err != nil {
		return nil, nil, fmt.Errorf("teleprompter: %w", err)
	}
	return p, counts, nil
}

// unwrap returns the program inside a Compiled, or prog itself.
func unwrap(prog programs.Program) programs.Program {
	if c, ok := prog.(*Compiled); ok {
		return c.program
	}
	return prog
}
