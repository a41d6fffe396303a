package teleprompter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/programs"
)

// instructSearch is MIPROv2 and BEACON: one search over instructions and
// demo sets, with the surrogate as the only difference.
type instructSearch struct {
	metric    evaluate.Metric
	cfg       instructConfig
	surrogate Surrogate
}

// plan is what a search will do, decided before it starts.
type plan struct {
	auto          AutoBudget
	candidates    int // instruction and demo-set candidates per predictor
	demoSets      int // demo sets per predictor (1 for zero-shot only)
	trials        int
	minibatchSize int // 0: full evaluations
	fullEvery     int
	predictors    int
	trainSize     int
	valSize       int
}

// numTrials is DSPy's rule: max(2·v·log2(n), 1.5·n), rounded up.
func numTrials(vars, candidates int) int {
	a := 2 * float64(vars) * math.Log2(float64(max(candidates, 2)))
	b := 1.5 * float64(candidates)
	return int(math.Ceil(max(a, b)))
}

// split returns the training and validation sets: the given valset, or
// else the last 80% of the training set (at most 1000 examples), as DSPy
// does.
func (s *instructSearch) split(trainset []dataset.Example) (train, val []dataset.Example, err error) {
	if s.cfg.base.valset != nil {
		if len(trainset) == 0 {
			return nil, nil, fmt.Errorf("teleprompter: %s: empty training set", s.cfg.kind)
		}
		return trainset, s.cfg.base.valset, nil
	}
	if len(trainset) < 2 {
		return nil, nil, fmt.Errorf("teleprompter: %s: need at least 2 training examples without WithValset", s.cfg.kind)
	}
	n := min(1000, max(1, len(trainset)*8/10))
	cut := len(trainset) - n
	return trainset[:cut], trainset[cut:], nil
}

func (s *instructSearch) plan(nps []programs.NamedPredictor, train, val []dataset.Example) (plan, []dataset.Example) {
	c := &s.cfg
	p := plan{auto: c.auto, fullEvery: c.fullEvalSteps, predictors: len(nps), trainSize: len(train)}
	if p.auto == "" && c.base.numCandidates < 0 && c.numTrials == 0 {
		p.auto = AutoLight
	}
	p.candidates = c.base.numCandidates
	if p.auto != "" {
		n, valCap, _ := p.auto.budget()
		p.candidates = n
		if len(val) > valCap {
			val = dataset.Sample(val, valCap, c.base.uintSeed())
		}
	} else if p.candidates < 0 {
		p.candidates, _, _ = AutoLight.budget()
	}
	p.demoSets = p.candidates
	vars := 2 * len(nps)
	if c.base.maxBootstrapped == 0 && c.base.maxLabeled == 0 {
		p.demoSets, vars = 1, len(nps)
	}
	p.trials = c.numTrials
	if p.trials == 0 {
		p.trials = numTrials(vars, p.candidates)
	}
	if c.minibatch && len(val) > c.minibatchSize {
		p.minibatchSize = c.minibatchSize
	}
	p.valSize = len(val)
	return p, val
}

// Budget returns the plan's upper bounds on LM calls: bootstrapping the
// demo sets, proposing instructions, minibatch trials and full
// evaluations.
func (p plan) budget(maxRounds int) (bootstrap, propose, trials, full int) {
	if p.demoSets > 2 {
		bootstrap = (p.demoSets - 2) * p.trainSize * maxRounds * p.predictors
	}
	propose = 1 + (p.candidates-1)*p.predictors
	fulls := 2 // the baseline and the last
	if p.minibatchSize > 0 {
		trials = p.trials * p.minibatchSize * p.predictors
		fulls += p.trials / p.fullEvery
	} else {
		fulls += p.trials
	}
	full = fulls * p.valSize * p.predictors
	return bootstrap, propose, trials, full
}

func (p plan) print(w io.Writer, kind, surrogate string, maxRounds int) {
	auto := "custom"
	if p.auto != "" {
		auto = string(p.auto)
	}
	fmt.Fprintf(w, "%s (auto=%s, surrogate %s): %d predictor(s), %d instruction candidates and %d demo set(s) each, %d trials",
		kind, auto, surrogate, p.predictors, p.candidates, p.demoSets, p.trials)
	if p.minibatchSize > 0 {
		fmt.Fprintf(w, " on minibatches of %d of %d validation examples, a full evaluation every %d trials\n",
			p.minibatchSize, p.valSize, p.fullEvery)
	} else {
		fmt.Fprintf(w, " on all %d validation examples\n", p.valSize)
	}
	b, pr, t, f := p.budget(maxRounds)
	fmt.Fprintf(w, "Expected LM calls: at most %d to bootstrap demo sets, %d to propose instructions (prompt model), "+
		"%d for minibatch trials, %d for full evaluations; at most %d in all\n", b, pr, t, f, b+pr+t+f)
}

// optimize runs the whole search and returns the compiled program and the
// trial log.
func (s *instructSearch) optimize(ctx context.Context, student programs.Program, trainset []dataset.Example) (compiled *Compiled, log *TrialLog, err error) {
	c := &s.cfg
	student = unwrap(student)
	nps, err := predictorsOf(student)
	if err != nil {
		return nil, nil, err
	}
	train, val, err := s.split(trainset)
	if err != nil {
		return nil, nil, err
	}
	p, val := s.plan(nps, train, val)
	if c.budgetOut != nil {
		p.print(c.budgetOut, c.kind, s.surrogate.Name(), c.base.maxRounds)
		b, pr, t, f := p.budget(c.base.maxRounds)
		printCostEstimate(ctx, c.budgetOut, nps, train, c.base.maxBootstrapped+c.base.maxLabeled, b+pr+t+f)
	}
	evOpts := append(slices.Clone(c.base.eval), evaluate.WithDescription("trial"))
	if c.base.maxErrors > 0 {
		evOpts = append(evOpts, evaluate.WithMaxErrors(c.base.maxErrors))
	}
	ev, err := evaluate.New(s.metric, evOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("teleprompter: %w", err)
	}
	ctx, span := startCompile(ctx, c.kind, ev)
	defer func() { endCompile(span, compiled, err) }()

	rng := rand.New(rand.NewPCG(c.base.uintSeed(), 0x6d6970726f))
	log = &TrialLog{Optimizer: c.kind, Surrogate: s.surrogate.Name(), Seed: c.base.seed, ValsetSize: len(val),
		Instructions: make(map[string][]string), DemoSets: make(map[string][]DemoSetInfo), Best: -1}
	for _, np := range nps {
		log.Predictors = append(log.Predictors, np.Name)
	}

	demoSets, labels, err := s.demoSets(ctx, student, nps, train, p.demoSets)
	if err != nil {
		return nil, nil, err
	}
	for i, np := range nps {
		for j, d := range demoSets[i] {
			log.DemoSets[np.Name] = append(log.DemoSets[np.Name], DemoSetInfo{Label: labels[j], Size: len(d)})
		}
	}
	proposer := c.proposer
	if proposer == nil {
		proposer = NewGroundedProposer(c.promptModel)
	}
	var summary string
	if p.candidates > 1 {
		if summary, log.ProposerCalls, err = summarize(ctx, proposer, nps, train); err != nil {
			return nil, log, err
		}
	}
	instructions, calls, err := proposeAll(ctx, proposer, c.tips, rng, nps, summary, demoSets, p.candidates-1, 1.0, nil)
	log.ProposerCalls += calls
	if err != nil {
		return nil, log, err
	}
	for i, np := range nps {
		log.Instructions[np.Name] = instructions[i]
	}

	prob := &searchProblem{student: student, nps: nps, instructions: instructions, demoSets: demoSets}
	e := newEngine(prob, s.surrogate, ev, val, rng, log)
	e.trials, e.minibatch, e.fullEvery, e.concurrency = p.trials, p.minibatchSize, p.fullEvery, c.trialConcurrency
	e.bar = newTrialBar(c.progress, c.progressOut, c.kind)
	best, err := e.run(ctx)
	if err != nil {
		return nil, log, err
	}
	prog, err := prob.build(best)
	if err != nil {
		return nil, log, err
	}
	return NewCompiled(prog, s.report(p, log)), log, nil
}

// report summarises the search: settings, and every full evaluation as a
// candidate.
func (s *instructSearch) report(p plan, log *TrialLog) Report {
	c := &s.cfg
	settings := map[string]any{
		"num_candidates":            p.candidates,
		"num_trials":                p.trials,
		"minibatch_size":            p.minibatchSize,
		"minibatch_full_eval_steps": p.fullEvery,
		"max_bootstrapped_demos":    c.base.maxBootstrapped,
		"max_labeled_demos":         c.base.maxLabeled,
		"seed":                      c.base.seed,
		"surrogate":                 s.surrogate.Name(),
		"valset_size":               p.valSize,
		"trial_concurrency":         c.trialConcurrency,
	}
	if p.auto != "" {
		settings["auto"] = string(p.auto)
	}
	rep := Report{Teleprompter: c.kind, Settings: settings}
	for i, t := range log.Trials {
		if t.Kind != TrialFull || t.Reused {
			continue
		}
		if i == log.Best {
			rep.Best = len(rep.Candidates)
		}
		demos := make(map[string]int, len(t.Choices))
		for _, ch := range t.Choices {
			if ch.DemoSet >= 0 {
				demos[ch.Predictor] = log.DemoSets[ch.Predictor][ch.DemoSet].Size
			}
		}
		score := t.Score
		rep.Candidates = append(rep.Candidates, Candidate{Label: choiceLabel(t.Choices), Seed: t.Number,
			Score: score, Failed: t.FailedExamples, Demos: demos})
	}
	score := log.BestScore
	rep.Score = &score
	rep.StoppedBy = log.StoppedBy
	if log.Best >= 0 {
		rep.Demos = rep.Candidates[rep.Best].Demos
	}
	return rep
}

// demoSets builds n demo sets per predictor, as the random search does:
// zero-shot, labelled only, bootstrapped on the training set as given,
// then bootstrapped on shuffled training sets with random demo counts.
func (s *instructSearch) demoSets(ctx context.Context, student programs.Program, nps []programs.NamedPredictor,
	train []dataset.Example, n int) ([][][]programs.Values, []string, error) {
	sets := make([][][]programs.Values, len(nps))
	if n <= 1 {
		for i := range sets {
			sets[i] = [][]programs.Values{nil}
		}
		return sets, []string{"zero-shot"}, nil
	}
	cfg := s.cfg.base
	cfg.kind = NameBootstrapFewShotWithRandomSearch
	rs := &BootstrapFewShotWithRandomSearch{metric: s.metric, cfg: cfg}
	var labels []string
	for seed := -3; seed < n-3; seed++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		prog, label, err := rs.candidate(ctx, student, nps, train, seed)
		if err != nil {
			return nil, nil, fmt.Errorf("teleprompter: demo set %d: %w", seed+3, err)
		}
		cnps, err := programs.NamedPredictors(prog)
		if err != nil {
			return nil, nil, fmt.Errorf("teleprompter: %w", err)
		}
		for i := range nps {
			sets[i] = append(sets[i], cnps[i].Predictor.Demos())
		}
		labels = append(labels, label)
	}
	return sets, labels, nil
}

// proposeAll proposes n instructions per predictor (each with a tip, the
// tips in a random order, every tip used once before any is used twice,
// and a demo set) and returns the candidates, each predictor's own
// instruction first and duplicates dropped, with the number of proposer
// calls made. previous[i], when given, holds predictor i's earlier
// attempts (COPRO). A proposal that fails is dropped; only the end of ctx
// is an error.
func proposeAll(ctx context.Context, proposer Proposer, tips []string, rng *rand.Rand, nps []programs.NamedPredictor,
	summary string, demoSets [][][]programs.Values, n int, temperature float64, previous [][]ScoredInstruction) ([][]string, int, error) {
	if len(tips) == 0 {
		tips = DefaultTips()
	}
	calls := 0
	desc := describeProgram(nps)
	type job struct {
		pred int
		req  ProposalRequest
	}
	var jobs []job
	for i, np := range nps {
		order := rng.Perm(len(tips)) // every tip once before any twice
		for j := range n {
			req := ProposalRequest{
				Name:               np.Name,
				Predictor:          np.Predictor,
				ProgramDescription: desc,
				DatasetSummary:     summary,
				Tip:                tips[order[j%len(order)]],
				Temperature:        temperature,
				Rollout:            j + 1,
			}
			if len(demoSets) > i && len(demoSets[i]) > 0 {
				req.Demos = demoSets[i][(j+1)%len(demoSets[i])]
			}
			if previous != nil {
				req.Previous = previous[i]
				req.Rollout += 1000 * len(previous[i])
			}
			jobs = append(jobs, job{pred: i, req: req})
		}
	}
	results := make([]string, len(jobs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for k, jb := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if s, err := proposer.ProposeInstruction(ctx, jb.req); err == nil {
				results[k] = s
			}
		})
	}
	wg.Wait()
	calls += len(jobs)
	if err := ctx.Err(); err != nil {
		return nil, calls, err
	}
	out := make([][]string, len(nps))
	for i, np := range nps {
		out[i] = []string{np.Predictor.Instructions()}
	}
	for k, jb := range jobs {
		if s := results[k]; s != "" && !slices.Contains(out[jb.pred], s) {
			out[jb.pred] = append(out[jb.pred], s)
		}
	}
	return out, calls, nil
}

// summarize returns the proposer's summary of the training set, if it
// makes one (DatasetSummarizer), and the number of calls made. A failed
// summary is left empty; only the end of ctx is an error.
func summarize(ctx context.Context, proposer Proposer, nps []programs.NamedPredictor, train []dataset.Example) (string, int, error) {
	ds, ok := proposer.(DatasetSummarizer)
	if !ok {
		return "", 0, nil
	}
	s, err := ds.SummarizeDataset(ctx, nps[0].Predictor, train)
	if cerr := ctx.Err(); cerr != nil {
		return "", 1, cerr
	}
	if err != nil {
		return "", 1, nil
	}
	return s, 1, nil
}

// errNoSurrogate guards the constructors.
var errNoSurrogate = errors.New("teleprompter: nil surrogate")
