package teleprompter

import (
	"errors"
	"fmt"

	"github.com/dspex-go/dspex/lm"
)

// reflectConfig holds GEPA's and SIMBA's settings. base holds the
// settings shared with the other optimizers: seed, evaluate options,
// valset, max errors, and SIMBA's candidates (numCandidates) and demos
// per predictor (maxBootstrapped).
type reflectConfig struct {
	kind         string
	base         config
	reflectionLM lm.LM
	minibatch    int
	budgets      []string
	auto         AutoBudget
	maxFullEvals int
	maxCalls     int
	merges       int
	maxSteps     int
}

// defaultReflectConfig returns the defaults of GEPA or SIMBA.
func defaultReflectConfig(kind string) reflectConfig {
	base := defaultConfig(kind)
	base.numCandidates = DefaultSIMBACandidates
	base.maxBootstrapped = DefaultSIMBADemos
	c := reflectConfig{kind: kind, base: base, minibatch: DefaultReflectionMinibatchSize,
		merges: DefaultMaxMergeInvocations, maxSteps: DefaultMaxSteps}
	if kind == NameSIMBA {
		c.minibatch = DefaultSIMBABatchSize
	}
	return c
}

// budget returns the metric calls GEPA may spend with a validation set of
// n examples: WithMaxMetricCalls as given; WithMaxFullEvals times n; for
// WithAuto, the seed's evaluation plus, per budgeted candidate, one full
// evaluation and five minibatch proposals (two minibatch runs each).
func (c *reflectConfig) budget(n int) int {
	switch {
	case c.maxCalls > 0:
		return c.maxCalls
	case c.maxFullEvals > 0:
		return c.maxFullEvals * n
	default:
		k, _, _ := c.auto.budget()
		return n + k*(n+5*2*c.minibatch)
	}
}

func (c *reflectConfig) settings() map[string]any {
	s := map[string]any{"seed": c.base.seed, "max_errors": c.base.maxErrors}
	switch c.kind {
	case NameGEPA:
		s["reflection_minibatch_size"] = c.minibatch
		s["max_merge_invocations"] = c.merges
		switch {
		case c.auto != "":
			s["auto"] = string(c.auto)
		case c.maxFullEvals > 0:
			s["max_full_evals"] = c.maxFullEvals
		default:
			s["max_metric_calls"] = c.maxCalls
		}
	case NameSIMBA:
		s["bsize"] = c.minibatch
		s["max_steps"] = c.maxSteps
		s["num_candidates"] = c.base.numCandidates
		s["max_demos"] = c.base.maxBootstrapped
	}
	return s
}

// reflectSet sets one of GEPA's or SIMBA's own settings.
type reflectSet func(*reflectConfig) error

func (f reflectSet) apply(c *reflectConfig) error {
	if f == nil {
		return errors.New("teleprompter: zero option")
	}
	return f(c)
}

// ReflectionOption is WithReflectionLM's option: GEPA, SIMBA.
type ReflectionOption struct{ set reflectSet }

func (o ReflectionOption) applyGEPA(c *reflectConfig) error  { return o.set.apply(c) }
func (o ReflectionOption) applySIMBA(c *reflectConfig) error { return o.set.apply(c) }

// gepaOnly is an option of GEPA only.
type gepaOnly reflectSet

func (o gepaOnly) applyGEPA(c *reflectConfig) error { return reflectSet(o).apply(c) }

// simbaOnly is an option of SIMBA only.
type simbaOnly reflectSet

func (o simbaOnly) applySIMBA(c *reflectConfig) error { return reflectSet(o).apply(c) }

// WithReflectionLM sets the LM that writes new instructions and rules; it
// may differ from the program's LM. Without it the LM in the compilation's
// context (lm.NewContext) is used. GEPA, SIMBA.
func WithReflectionLM(m lm.LM) ReflectionOption {
	return ReflectionOption{func(c *reflectConfig) error {
		if m == nil {
			return errors.New("teleprompter: WithReflectionLM(nil)")
		}
		c.reflectionLM = m
		return nil
	}}
}

// WithMaxFullEvals sets GEPA's budget to n evaluations of the whole
// validation set, counted in metric calls (n times its size, the seed's
// evaluation and minibatches included).
func WithMaxFullEvals(n int) GEPAOption {
	return gepaOnly(func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max full evals %d must be positive", n)
		}
		c.maxFullEvals = n
		c.budgets = append(c.budgets, "WithMaxFullEvals")
		return nil
	})
}

// WithMaxMetricCalls sets GEPA's budget to n metric calls (examples
// scored), the seed's evaluation included.
func WithMaxMetricCalls(n int) GEPAOption {
	return gepaOnly(func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max metric calls %d must be positive", n)
		}
		c.maxCalls = n
		c.budgets = append(c.budgets, "WithMaxMetricCalls")
		return nil
	})
}

// WithReflectionMinibatchSize sets how many training examples GEPA runs
// a candidate on before and after a reflection (default 3).
func WithReflectionMinibatchSize(n int) GEPAOption {
	return gepaOnly(func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: minibatch size %d must be positive", n)
		}
		c.minibatch = n
		return nil
	})
}

// WithMaxMergeInvocations caps the merges GEPA tries (default 5; 0 turns
// merging off).
func WithMaxMergeInvocations(n int) GEPAOption {
	return gepaOnly(func(c *reflectConfig) error {
		if n < 0 {
			return fmt.Errorf("teleprompter: max merge invocations %d must not be negative", n)
		}
		c.merges = n
		return nil
	})
}

// WithBatchSize sets how many training examples a SIMBA step samples
// (default 8).
func WithBatchSize(n int) SIMBAOption {
	return simbaOnly(func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: batch size %d must be positive", n)
		}
		c.minibatch = n
		return nil
	})
}

// WithMaxSteps sets how many steps SIMBA takes (default 8).
func WithMaxSteps(n int) SIMBAOption {
	return simbaOnly(func(c *reflectConfig) error {
		if n <= 0 {
			return fmt.Errorf("teleprompter: max steps %d must be positive", n)
		}
		c.maxSteps = n
		return nil
	})
}
