package teleprompter

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/dspex-go/dspex/lm"
)

// The instruction optimizers' names, as reports and errors spell them.
const (
	NameMIPROv2 = "MIPROv2"
	NameBEACON  = "BEACON"
	NameCOPRO   = "COPRO"
)

// Defaults of the instruction optimizers, as in DSPy.
const (
	// DefaultMinibatchSize is the number of validation examples a
	// minibatch trial is scored on.
	DefaultMinibatchSize = 35
	// DefaultFullEvalSteps is how many trials pass between full
	// evaluations of the best candidate so far.
	DefaultFullEvalSteps = 5
	// DefaultTrialConcurrency is how many trials are evaluated at once.
	DefaultTrialConcurrency = 2
	// DefaultBreadth is how many instructions COPRO tries per predictor
	// and round.
	DefaultBreadth = 10
	// DefaultDepth is how many rounds of coordinate ascent COPRO makes.
	DefaultDepth = 3
	// DefaultInitTemperature is the temperature of COPRO's proposals.
	DefaultInitTemperature = 1.4
)

// AutoBudget is a preset search budget for MIPROv2, BEACON and GEPA
// (DSPy's auto="light" | "medium" | "heavy"); see WithAuto.
type AutoBudget string

// The budgets. For MIPROv2 and BEACON each sets the number of instruction
// and demo-set candidates per predictor and a cap on the validation set;
// the number of trials follows from the candidates and the number of
// predictors. For GEPA it sets the new candidates the metric calls are
// budgeted for (see WithAuto).
const (
	AutoLight  AutoBudget = "light"
	AutoMedium AutoBudget = "medium"
	AutoHeavy  AutoBudget = "heavy"
)

// budget returns the candidates and the validation-set cap of a budget.
func (a AutoBudget) budget() (candidates, valsetCap int, ok bool) {
	switch a {
	case AutoLight:
		return 6, 100, true
	case AutoMedium:
		return 12, 300, true
	case AutoHeavy:
		return 18, 1000, true
	}
	return 0, 0, false
}

// instructConfig holds the settings of MIPROv2, BEACON and COPRO. base
// holds the settings shared with the few-shot teleprompters.
type instructConfig struct {
	kind             string
	base             config
	auto             AutoBudget
	numTrials        int
	minibatch        bool
	minibatchSize    int
	fullEvalSteps    int
	trialConcurrency int
	promptModel      lm.LM
	proposer         Proposer
	budgetOut        io.Writer
	progress         progressMode
	progressOut      io.Writer
	surrogate        Surrogate
	breadth          int
	depth            int
	temperature      float64
	tips             []string
}

// progressMode says where the trial progress bar goes.
type progressMode uint8

const (
	progressAuto progressMode = iota // stderr, only on a terminal
	progressOn                       // the given writer
	progressOff
)

// instructSet sets one of the instruction optimizers' own settings.
type instructSet func(*instructConfig) error

func (f instructSet) apply(c *instructConfig) error {
	if f == nil {
		return errors.New("teleprompter: zero option")
	}
	return f(c)
}

// ProposerOption configures the proposal of instructions and the trials
// (WithTrialConcurrency, WithPromptModel, WithProposer, WithTips,
// WithBudgetReport, WithTrialProgress, WithoutTrialProgress): MIPROv2,
// BEACON, COPRO.
type ProposerOption struct{ set instructSet }

func (o ProposerOption) applyMIPROv2(c *instructConfig) error { return o.set.apply(c) }
func (o ProposerOption) applyCOPRO(c *instructConfig) error   { return o.set.apply(c) }

// miproOnly is an option of MIPROv2 and BEACON only.
type miproOnly instructSet

func (o miproOnly) applyMIPROv2(c *instructConfig) error { return instructSet(o).apply(c) }

// coproOnly is an option of COPRO only.
type coproOnly instructSet

func (o coproOnly) applyCOPRO(c *instructConfig) error { return instructSet(o).apply(c) }

// defaultInstructConfig returns the defaults of the instruction optimizer
// kind.
func defaultInstructConfig(kind string) instructConfig {
	base := defaultConfig(kind)
	base.maxLabeled = DefaultMaxBootstrappedDemos // MIPROv2's default: 4
	base.numCandidates = -1                       // unset
	return instructConfig{
		kind:             kind,
		base:             base,
		minibatch:        true,
		minibatchSize:    DefaultMinibatchSize,
		fullEvalSteps:    DefaultFullEvalSteps,
		trialConcurrency: DefaultTrialConcurrency,
		breadth:          DefaultBreadth,
		depth:            DefaultDepth,
		temperature:      DefaultInitTemperature,
	}
}

// check rejects settings that conflict.
func (c *instructConfig) check() error {
	if c.base.numCandidates == 0 {
		return fmt.Errorf("teleprompter: %s needs at least one candidate", c.kind)
	}
	if c.auto != "" && (c.base.numCandidates > 0 || c.numTrials > 0) {
		return fmt.Errorf("teleprompter: WithAuto conflicts with WithNumCandidates and WithNumTrials")
	}
	if c.proposer != nil && c.promptModel != nil {
		return errors.New("teleprompter: WithProposer conflicts with WithPromptModel (give the model to the proposer)")
	}
	return nil
}

// AutoOption is WithAuto's option: MIPROv2, BEACON, GEPA.
type AutoOption struct{ b AutoBudget }

func (o AutoOption) applyMIPROv2(c *instructConfig) error {
	if err := o.b.check(); err != nil {
		return err
	}
	c.auto = o.b
	return nil
}

func (o AutoOption) applyGEPA(c *reflectConfig) error {
	if err := o.b.check(); err != nil {
		return err
	}
	c.auto = o.b
	c.budgets = append(c.budgets, "WithAuto")
	return nil
}

func (a AutoBudget) check() error {
	if _, _, ok := a.budget(); !ok {
		return fmt.Errorf("teleprompter: unknown auto budget %q (want light, medium or heavy)", a)
	}
	return nil
}

// WithAuto sets the search budget: AutoLight, AutoMedium or AutoHeavy
// (DSPy's auto). For MIPROv2 and BEACON each gives 6, 12 or 18
// instruction and demo-set candidates per predictor and scores on at most
// 100, 300 or 1000 validation examples; the number of trials is
// max(2·v·log2(n), 1.5·n) for n candidates and v variables (two per
// predictor, one when the demo sets are only the zero-shot one). Without
// WithAuto, WithNumCandidates nor WithNumTrials the budget is light; it
// conflicts with WithNumCandidates and WithNumTrials. For GEPA it budgets
// metric calls for 6, 12 or 18 new candidates (see GEPA.Compile).
func WithAuto(b AutoBudget) AutoOption { return AutoOption{b} }

// WithNumTrials sets the number of trials (without WithAuto). MIPROv2,
// BEACON.
func WithNumTrials(n int) MIPROv2Option {
	return miproOnly(func(c *instructConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: num trials %d must be positive", n)
		}
		c.numTrials = n
		return nil
	})
}

// WithMinibatchSize sets how many validation examples, drawn at random for
// each trial, a trial is scored on (default 35). A validation set no
// larger than that is scored whole at every trial. MIPROv2, BEACON.
func WithMinibatchSize(n int) MIPROv2Option {
	return miproOnly(func(c *instructConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: minibatch size %d must be positive", n)
		}
		if !c.minibatch {
			return errors.New("teleprompter: WithMinibatchSize conflicts with WithoutMinibatch")
		}
		c.minibatchSize = n
		return nil
	})
}

// WithoutMinibatch scores every trial on the whole validation set.
// MIPROv2, BEACON.
func WithoutMinibatch() MIPROv2Option {
	return miproOnly(func(c *instructConfig) error {
		if c.minibatchSize != DefaultMinibatchSize {
			return errors.New("teleprompter: WithoutMinibatch conflicts with WithMinibatchSize")
		}
		c.minibatch = false
		return nil
	})
}

// WithFullEvalSteps sets how many trials pass between full evaluations of
// the candidate with the best mean minibatch score not yet fully
// evaluated (default 5). MIPROv2, BEACON.
func WithFullEvalSteps(n int) MIPROv2Option {
	return miproOnly(func(c *instructConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: full eval steps %d must be positive", n)
		}
		c.fullEvalSteps = n
		return nil
	})
}

// WithTrialConcurrency sets how many trials are evaluated at once (default
// 2), each in its own evaluator actors. The surrogate suggests a batch of
// points at a time, treating the pending ones as if they scored the worst
// score so far (a "constant liar"), so a search is reproducible for a
// given concurrency. MIPROv2, BEACON, COPRO (candidates of one round).
func WithTrialConcurrency(n int) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: trial concurrency %d must be positive", n)
		}
		c.trialConcurrency = n
		return nil
	}}
}

// WithPromptModel runs the default grounded proposer on m instead of each
// predictor's own LM (DSPy's prompt_model). It conflicts with
// WithProposer. MIPROv2, BEACON, COPRO.
func WithPromptModel(m lm.LM) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if m == nil {
			return errors.New("teleprompter: WithPromptModel(nil)")
		}
		c.promptModel = m
		return nil
	}}
}

// WithProposer replaces the default GroundedProposer. MIPROv2, BEACON,
// COPRO.
func WithProposer(p Proposer) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if p == nil {
			return errors.New("teleprompter: WithProposer(nil)")
		}
		c.proposer = p
		return nil
	}}
}

// WithTips replaces the tips given to the proposer, one drawn at random for
// each proposal (default DefaultTips()). MIPROv2, BEACON, COPRO.
func WithTips(tips ...string) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if len(tips) == 0 {
			return errors.New("teleprompter: WithTips needs at least one tip")
		}
		c.tips = slices.Clone(tips)
		return nil
	}}
}

// WithBudgetReport prints the search plan and the expected number of LM
// calls to w before the search starts, as DSPy does. MIPROv2, BEACON,
// COPRO.
func WithBudgetReport(w io.Writer) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if w == nil {
			return errors.New("teleprompter: WithBudgetReport(nil)")
		}
		c.budgetOut = w
		return nil
	}}
}

// WithTrialProgress draws the progress bar over trials on w. Without it
// the bar is drawn on standard error only when it is a terminal.
// MIPROv2, BEACON, COPRO.
func WithTrialProgress(w io.Writer) ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if w == nil {
			return errors.New("teleprompter: WithTrialProgress(nil)")
		}
		if c.progress == progressOff {
			return errors.New("teleprompter: WithTrialProgress conflicts with WithoutTrialProgress")
		}
		c.progress, c.progressOut = progressOn, w
		return nil
	}}
}

// WithoutTrialProgress never draws the progress bar over trials.
// MIPROv2, BEACON, COPRO.
func WithoutTrialProgress() ProposerOption {
	return ProposerOption{func(c *instructConfig) error {
		if c.progress == progressOn {
			return errors.New("teleprompter: WithoutTrialProgress conflicts with WithTrialProgress")
		}
		c.progress = progressOff
		return nil
	}}
}

// WithSurrogate replaces the search's surrogate model: by default TPE for
// MIPROv2 and GP for BEACON. MIPROv2, BEACON.
func WithSurrogate(s Surrogate) MIPROv2Option {
	return miproOnly(func(c *instructConfig) error {
		if s == nil {
			return errors.New("teleprompter: WithSurrogate(nil)")
		}
		c.surrogate = s
		return nil
	})
}

// WithBreadth sets how many instructions COPRO proposes per predictor and
// round, the current one included (default 10, at least 2). COPRO.
func WithBreadth(n int) COPROOption {
	return coproOnly(func(c *instructConfig) error {
		if n < 2 {
			return fmt.Errorf("teleprompter: breadth %d must be at least 2", n)
		}
		c.breadth = n
		return nil
	})
}

// WithDepth sets how many rounds of coordinate ascent COPRO makes
// (default 3). COPRO.
func WithDepth(n int) COPROOption {
	return coproOnly(func(c *instructConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: depth %d must be positive", n)
		}
		c.depth = n
		return nil
	})
}

// WithInitTemperature sets the sampling temperature of COPRO's proposals
// (default 1.4), in [0, 2]. COPRO.
func WithInitTemperature(t float64) COPROOption {
	return coproOnly(func(c *instructConfig) error {
		if math.IsNaN(t) || t < 0 || t > 2 {
			return fmt.Errorf("teleprompter: temperature %v out of range [0, 2]", t)
		}
		c.temperature = t
		return nil
	})
}
