package teleprompter

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// The teleprompters' names, as reports and errors spell them.
const (
	NameLabeledFewShot                   = "LabeledFewShot"
	NameBootstrapFewShot                 = "BootstrapFewShot"
	NameBootstrapFewShotWithRandomSearch = "BootstrapFewShotWithRandomSearch"
	NameKNNFewShot                       = "KNNFewShot"
)

// Defaults, as in DSPy.
const (
	DefaultMaxBootstrappedDemos = 4
	DefaultMaxLabeledDemos      = 16
	DefaultMaxRounds            = 1
	DefaultNumCandidates        = 16
)

// Every optimizer takes its own option interface, so an option given to an
// optimizer it does not apply to fails to build. An option that applies to
// several optimizers (WithSeed applies to all of them) has a type that
// implements each of their interfaces; an option of one optimizer returns
// that optimizer's interface.

// LabeledFewShotOption configures NewLabeledFewShot.
type LabeledFewShotOption interface{ applyLabeled(*config) error }

// BootstrapFewShotOption configures NewBootstrapFewShot.
type BootstrapFewShotOption interface{ applyBootstrap(*config) error }

// RandomSearchOption configures NewBootstrapFewShotWithRandomSearch.
type RandomSearchOption interface{ applyRandomSearch(*config) error }

// KNNFewShotOption configures NewKNNFewShot.
type KNNFewShotOption interface{ applyKNN(*config) error }

// MIPROv2Option configures NewMIPROv2 and NewBEACON, which run the same
// search.
type MIPROv2Option interface{ applyMIPROv2(*instructConfig) error }

// COPROOption configures NewCOPRO.
type COPROOption interface{ applyCOPRO(*instructConfig) error }

// GEPAOption configures NewGEPA.
type GEPAOption interface{ applyGEPA(*reflectConfig) error }

// SIMBAOption configures NewSIMBA.
type SIMBAOption interface{ applySIMBA(*reflectConfig) error }

// baseSet sets one of the settings every optimizer keeps in its config.
type baseSet func(*config) error

// apply sets the setting; the zero value of an option type is an error.
func (f baseSet) apply(c *config) error {
	if f == nil {
		return errors.New("teleprompter: zero option")
	}
	return f(c)
}

// SeedOption is WithSeed's option; it applies to every optimizer.
type SeedOption struct{ set baseSet }

func (o SeedOption) applyLabeled(c *config) error         { return o.set.apply(c) }
func (o SeedOption) applyBootstrap(c *config) error       { return o.set.apply(c) }
func (o SeedOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o SeedOption) applyKNN(c *config) error             { return o.set.apply(c) }
func (o SeedOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }
func (o SeedOption) applyCOPRO(c *instructConfig) error   { return o.set.apply(&c.base) }
func (o SeedOption) applyGEPA(c *reflectConfig) error     { return o.set.apply(&c.base) }
func (o SeedOption) applySIMBA(c *reflectConfig) error    { return o.set.apply(&c.base) }

// EvalOption configures the evaluations an optimizer makes
// (WithMaxErrors, WithEvaluateOptions); it applies to every optimizer but
// LabeledFewShot, which evaluates nothing.
type EvalOption struct{ set baseSet }

func (o EvalOption) applyBootstrap(c *config) error       { return o.set.apply(c) }
func (o EvalOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o EvalOption) applyKNN(c *config) error             { return o.set.apply(c) }
func (o EvalOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }
func (o EvalOption) applyCOPRO(c *instructConfig) error   { return o.set.apply(&c.base) }
func (o EvalOption) applyGEPA(c *reflectConfig) error     { return o.set.apply(&c.base) }
func (o EvalOption) applySIMBA(c *reflectConfig) error    { return o.set.apply(&c.base) }

// ValsetOption is WithValset's option: BootstrapFewShotWithRandomSearch,
// MIPROv2, BEACON, COPRO, GEPA, SIMBA.
type ValsetOption struct{ set baseSet }

func (o ValsetOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o ValsetOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }
func (o ValsetOption) applyCOPRO(c *instructConfig) error   { return o.set.apply(&c.base) }
func (o ValsetOption) applyGEPA(c *reflectConfig) error     { return o.set.apply(&c.base) }
func (o ValsetOption) applySIMBA(c *reflectConfig) error    { return o.set.apply(&c.base) }

// CandidatesOption is WithNumCandidates's option:
// BootstrapFewShotWithRandomSearch, MIPROv2, BEACON, SIMBA.
type CandidatesOption struct{ set baseSet }

func (o CandidatesOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o CandidatesOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }
func (o CandidatesOption) applySIMBA(c *reflectConfig) error    { return o.set.apply(&c.base) }

// DemosOption is WithMaxBootstrappedDemos's option: BootstrapFewShot,
// BootstrapFewShotWithRandomSearch, KNNFewShot, MIPROv2, BEACON, SIMBA.
type DemosOption struct{ set baseSet }

func (o DemosOption) applyBootstrap(c *config) error       { return o.set.apply(c) }
func (o DemosOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o DemosOption) applyKNN(c *config) error             { return o.set.apply(c) }
func (o DemosOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }
func (o DemosOption) applySIMBA(c *reflectConfig) error    { return o.set.apply(&c.base) }

// TeacherOption configures how demos are bootstrapped from a teacher
// (WithMaxLabeledDemos, WithMaxRounds, WithMetricThreshold, WithTeacher):
// BootstrapFewShot, BootstrapFewShotWithRandomSearch, KNNFewShot, MIPROv2,
// BEACON.
type TeacherOption struct{ set baseSet }

func (o TeacherOption) applyBootstrap(c *config) error       { return o.set.apply(c) }
func (o TeacherOption) applyRandomSearch(c *config) error    { return o.set.apply(c) }
func (o TeacherOption) applyKNN(c *config) error             { return o.set.apply(c) }
func (o TeacherOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(&c.base) }

// randomSearchOnly is an option of BootstrapFewShotWithRandomSearch only.
type randomSearchOnly baseSet

func (o randomSearchOnly) applyRandomSearch(c *config) error { return baseSet(o).apply(c) }

// knnOnly is an option of KNNFewShot only.
type knnOnly baseSet

func (o knnOnly) applyKNN(c *config) error { return baseSet(o).apply(c) }

// config holds the few-shot teleprompters' settings, and the settings the
// other optimizers share with them; kind says which optimizer it is for.
type config struct {
	kind            string
	seed            int
	maxBootstrapped int
	maxLabeled      int
	maxRounds       int
	threshold       *float64
	teacher         programs.Program
	maxErrors       int
	eval            []evaluate.Option
	numCandidates   int
	valset          []dataset.Example
	stopAtScore     *float64
	metric          evaluate.Metric // KNNFewShot's optional bootstrap metric
	embedModel      string          // KNNFewShot's embedding model
}

// defaultConfig returns the few-shot defaults for kind.
func defaultConfig(kind string) config {
	return config{
		kind:            kind,
		maxBootstrapped: DefaultMaxBootstrappedDemos,
		maxLabeled:      DefaultMaxLabeledDemos,
		maxRounds:       DefaultMaxRounds,
		numCandidates:   DefaultNumCandidates,
	}
}

// newConfig returns the defaults of the few-shot teleprompter kind with
// opts applied.
func newConfig[O comparable](kind string, opts []O, apply func(O, *config) error) (config, error) {
	c := defaultConfig(kind)
	err := applyOptions(&c, opts, apply)
	return c, err
}

// applyOptions applies opts to c with apply, rejecting nil options (a nil
// interface value still compiles).
func applyOptions[O comparable, C any](c *C, opts []O, apply func(O, *C) error) error {
	var zero O
	for _, o := range opts {
		if o == zero {
			return errors.New("teleprompter: nil option")
		}
		if err := apply(o, c); err != nil {
			return err
		}
	}
	return nil
}

// uintSeed is a seed as the random sources take it.
func (c *config) uintSeed() uint64 { return uint64(c.seed) }

// WithSeed seeds every random choice (sampling labelled demos, shuffling
// candidates, minibatches); the same seed and the same deterministic LM
// give the same compiled program. The default is 0. Every optimizer. It is
// spelled and typed as programs.WithSeed.
func WithSeed(seed int) SeedOption {
	return SeedOption{func(c *config) error { c.seed = seed; return nil }}
}

// WithMaxBootstrappedDemos caps the demos made from the teacher's
// successful traces, per predictor (default 4). BootstrapFewShot,
// BootstrapFewShotWithRandomSearch (the upper bound of the candidates'
// counts), KNNFewShot, MIPROv2, BEACON, SIMBA.
func WithMaxBootstrappedDemos(n int) DemosOption {
	return DemosOption{func(c *config) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: max bootstrapped demos %d must not be negative", n)
		}
		c.maxBootstrapped = n
		return nil
	}}
}

// WithMaxLabeledDemos caps the demos per predictor in total: labelled
// training examples fill up what bootstrapping left (default 16). The
// teacher also gets this many labelled demos when it has none.
func WithMaxLabeledDemos(n int) TeacherOption {
	return TeacherOption{func(c *config) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: max labeled demos %d must not be negative", n)
		}
		c.maxLabeled = n
		return nil
	}}
}

// WithMaxRounds sets how many times each training example is tried (default
// 1). Rounds after the first sample a fresh rollout at temperature 1.0, so a
// cached miss is not returned again.
func WithMaxRounds(n int) TeacherOption {
	return TeacherOption{func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max rounds %d must be positive", n)
		}
		c.maxRounds = n
		return nil
	}}
}

// WithMetricThreshold makes a trace a demo only when the metric scores at
// least t; without it any non-zero score passes (DSPy's metric_threshold).
func WithMetricThreshold(t float64) TeacherOption {
	return TeacherOption{func(c *config) error {
		if math.IsNaN(t) {
			return errors.New("teleprompter: metric threshold is NaN")
		}
		c.threshold = &t
		return nil
	}}
}

// WithTeacher sets the program whose traces become demos; the default is
// the student itself. It must have the student's predictor names.
func WithTeacher(p programs.Program) TeacherOption {
	return TeacherOption{func(c *config) error {
		if p == nil {
			return errors.New("teleprompter: WithTeacher(nil)")
		}
		c.teacher = p
		return nil
	}}
}

// WithMaxErrors stops a teacher run (and a candidate's evaluation) once n
// examples have failed, failing the compilation; zero (the default) never
// stops.
func WithMaxErrors(n int) EvalOption {
	return EvalOption{func(c *config) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: max errors %d must not be negative", n)
		}
		c.maxErrors = n
		return nil
	}}
}

// WithEvaluateOptions configures the evaluator runs an optimizer makes
// (teacher runs and candidate scoring): concurrency, per-example timeout,
// runtime, LM, progress.
func WithEvaluateOptions(opts ...evaluate.Option) EvalOption {
	return EvalOption{func(c *config) error {
		c.eval = append(c.eval, opts...)
		return nil
	}}
}

// WithNumCandidates sets how many candidates a search makes: for a random
// search the bootstrapped candidates tried besides the zero-shot,
// labelled-only and unshuffled ones (default 16); for MIPROv2 and BEACON
// the instruction and demo-set candidates per predictor; for SIMBA the
// trajectories per example (default 4).
func WithNumCandidates(n int) CandidatesOption {
	return CandidatesOption{func(c *config) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: num candidates %d must not be negative", n)
		}
		c.numCandidates = n
		return nil
	}}
}

// WithValset sets the examples candidates are scored on; the default is the
// training set (for MIPROv2 and BEACON, its last 80%).
func WithValset(examples []dataset.Example) ValsetOption {
	return ValsetOption{func(c *config) error {
		if len(examples) == 0 {
			return errors.New("teleprompter: empty valset")
		}
		c.valset = slices.Clone(examples)
		return nil
	}}
}

// WithStopAtScore ends a random search as soon as a candidate scores at
// least s.
func WithStopAtScore(s float64) RandomSearchOption {
	return randomSearchOnly(func(c *config) error {
		c.stopAtScore = &s
		return nil
	})
}

// WithBootstrap makes KNNFewShot bootstrap its training set with metric at
// compile time (as BootstrapFewShot does): a neighbour whose trace passed
// the metric is given as that trace's demo, the others as labelled demos.
func WithBootstrap[S evaluate.Score](metric func(ex dataset.Example, pred programs.Prediction, trace *programs.Trace) S) KNNFewShotOption {
	return knnOnly(func(c *config) error {
		if metric == nil {
			return errors.New("teleprompter: WithBootstrap(nil)")
		}
		c.metric = evaluate.MetricOf(metric)
		return nil
	})
}

// WithEmbeddingModel names the model KNNFewShot asks its embedder for; the
// default is the embedder's own default.
func WithEmbeddingModel(name string) KNNFewShotOption {
	return knnOnly(func(c *config) error { c.embedModel = name; return nil })
}

// passes reports whether a metric score makes a trace a demo.
func (c *config) passes(score float64) bool {
	if c.threshold != nil {
		return score >= *c.threshold
	}
	return score != 0
}
