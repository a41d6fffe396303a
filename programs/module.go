package programs

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dspex-go/dspex/signature"
)

// NamedPredictor is a predictor found inside a program, with the stable
// name optimizers and saved programs refer to it by: the snake_case field
// names along its path joined by dots ("retrieve.predict", "answer"), or
// "self" when the program is a single predictor.
type NamedPredictor struct {
	// Name is the predictor's path in the program.
	Name string
	// Predictor is the predictor itself.
	Predictor *Predictor
}

// Module is a program built from predictors that lists them and rebuilds
// itself with some of them replaced. The built-in modules (ChainOfThought,
// ReAct, BestOfN, Refine, MultiChainComparison, ProgramOfThought, CodeAct,
// RLM) implement it, so
// NamedPredictors and WithPredictors reach inside them without reflection;
// a user's struct does not need to, because NamedPredictors walks its
// exported fields.
//
// Implementations must not modify the receiver: ReplacePredictors returns a
// new value of the receiver's own type.
type Module interface {
	// NamedPredictors returns the module's predictors with their names
	// relative to the module, in a stable order.
	NamedPredictors() []NamedPredictor
	// ReplacePredictors returns a copy of the module in which each named
	// predictor is replaced by the given one. Names missing from replace
	// keep their predictor; an unknown name is an error, and so is a
	// replacement whose signature has other fields than the original.
	ReplacePredictors(replace map[string]*Predictor) (Module, error)
}

// moduleConfig collects the settings of the built-in modules.
type moduleConfig struct {
	maxIters    int
	failCount   int
	nativeTools bool // ReAct: WithNativeTools
	attempts    int
	predict     []Option
	code        codeConfig // ProgramOfThought, CodeAct, RLM
}

// moduleOption is an Option that configures a module rather than a
// predictor. Giving it to a predictor, or to a module it does not apply to,
// is an error.
type moduleOption struct {
	name    string
	modules []string
	apply   func(*moduleConfig) error
}

func (o moduleOption) applyPredict(*predictConfig) error {
	return fmt.Errorf("programs: %s configures %s, not a predictor", o.name, strings.Join(o.modules, " or "))
}

// WithMaxIters sets how many tool calls a ReAct agent may make before it
// must answer (default 5); for the code-writing modules, how many programs
// ProgramOfThought may write (default 3), how many snippets CodeAct may run
// (default 5) and how many REPL steps RLM may take (default 20).
func WithMaxIters(n int) Option {
	return moduleOption{name: "WithMaxIters", modules: []string{"ReAct", "ProgramOfThought", "CodeAct", "RLM"}, apply: func(c *moduleConfig) error {
		if n <= 0 {
			return fmt.Errorf("programs: max iters %d must be positive", n)
		}
		c.maxIters = n
		return nil
	}}
}

// WithFailCount sets how many attempts of BestOfN or Refine may fail with an
// error before the module gives up and returns that error (default: N, so
// only a run in which every attempt fails is an error).
func WithFailCount(n int) Option {
	return moduleOption{name: "WithFailCount", modules: []string{"BestOfN", "Refine"}, apply: func(c *moduleConfig) error {
		if n < 0 {
			return fmt.Errorf("programs: fail count %d must not be negative", n)
		}
		c.failCount = n
		return nil
	}}
}

// WithAttempts sets how many reasoning attempts a MultiChainComparison
// compares (DSPy's M, default 3).
func WithAttempts(m int) Option {
	return moduleOption{name: "WithAttempts", modules: []string{"MultiChainComparison"}, apply: func(c *moduleConfig) error {
		if m <= 0 {
			return fmt.Errorf("programs: attempts %d must be positive", m)
		}
		c.attempts = m
		return nil
	}}
}

// splitOptions applies the module options meant for module and returns the
// others, which configure the module's predictors.
func splitOptions(module string, cfg moduleConfig, opts []Option) (moduleConfig, error) {
	for _, o := range opts {
		mo, ok := o.(moduleOption)
		if !ok {
			cfg.predict = append(cfg.predict, o)
			continue
		}
		if !slices.Contains(mo.modules, module) {
			return cfg, fmt.Errorf("programs: %s configures %s, not %s", mo.name, strings.Join(mo.modules, " or "), module)
		}
		if err := mo.apply(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// subReplacements returns the entries of replace whose names start with
// prefix+".", with the prefix removed.
func subReplacements(replace map[string]*Predictor, prefix string) map[string]*Predictor {
	sub := make(map[string]*Predictor)
	for name, p := range replace {
		if rest, ok := strings.CutPrefix(name, prefix+"."); ok {
			sub[rest] = p
		}
	}
	return sub
}

// checkNames returns an error naming the entries of replace that are not
// among names.
func checkNames(module string, names []string, replace map[string]*Predictor) error {
	var unknown []string
	for name := range replace {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("programs: %s has no predictor named %s (it has %s)",
		module, quoteList(unknown), quoteList(names))
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// replaceOne returns replace[name] after checking its shape against old,
// or old when there is no replacement.
func replaceOne(name string, old *Predictor, replace map[string]*Predictor) (*Predictor, error) {
	q, ok := replace[name]
	if !ok {
		return old, nil
	}
	if q == nil {
		return nil, fmt.Errorf("programs: nil replacement for predictor %q", name)
	}
	if err := sameShape(old.Signature(), q.Signature()); err != nil {
		return nil, fmt.Errorf("predictor %q: %w", name, err)
	}
	return q, nil
}

// encodeValues turns a typed input into values; Values pass through as a
// copy.
func encodeValues[T any](in T) (Values, error) {
	if v, ok := any(in).(Values); ok {
		return maps.Clone(v), nil
	}
	return signature.Encode(in)
}

// decodeValues turns values into a typed output; for Values it returns a
// copy.
func decodeValues[T any](v Values) (T, error) {
	var zero T
	if _, ok := any(zero).(Values); ok {
		return any(maps.Clone(v)).(T), nil
	}
	return signature.Decode[T](v)
}
