// Package teleprompter holds the optimizers (DSPy's teleprompters) that
// compile a student program into a better one by choosing its
// demonstrations.
//
// # Optimizers
//
//   - LabeledFewShot gives every predictor k labelled training examples,
//     sampled with a seed. No LM call.
//   - BootstrapFewShot runs a teacher (by default the student with labelled
//     demos) on the training examples in evaluator actors, records the
//     trace of every predictor call (programs.WithTrace), and turns the
//     traces of the runs the metric passes into demos, per predictor by
//     name; labelled examples fill up to max_labeled_demos. Later rounds
//     retry failures at a fresh rollout and temperature 1.0.
//   - BootstrapFewShotWithRandomSearch scores zero-shot, labelled-only and
//     several bootstrapped candidates (shuffled training sets, random demo
//     counts) on a validation set and returns the best, with every score.
//   - KNNFewShot embeds the training inputs (lm.Embedder) and, for each
//     call, gives the predictors the k training examples nearest to the
//     input as demos (their bootstrapped traces, with WithBootstrap).
//
// # Instruction optimizers
//
// MIPROv2 and BEACON search jointly, for every predictor, over candidate
// instructions (proposed by a grounded proposer, itself a dspex program that
// summarises the data, describes the program and is given a random tip;
// the original instruction is always candidate 0) and candidate demo sets
// (zero-shot, labelled-only and several BootstrapFewShot runs). One search
// engine scores each trial on a minibatch of the validation set through
// Evaluate, with periodic full evaluations of the best; they differ only in
// the surrogate that picks the next trial: a categorical TPE (MIPROv2) or a
// Gaussian process with expected improvement over a one-hot encoding
// (BEACON). WithAuto sets the budget and WithBudgetReport prints the
// expected LM calls first. COPRO does coordinate ascent over instructions.
// Optimize returns the TrialLog, a table (String) and JSON (WriteJSON).
//
// # Reflective optimizers
//
//   - GEPA keeps a pool of candidate programs with a per-example Pareto
//     frontier of validation scores. Each iteration samples a candidate by
//     how many examples it is best on, picks a predictor round robin, runs
//     it on a small training minibatch with traces, and asks a reflection
//     LM (WithReflectionLM; ReflectionSignature) to read the inputs,
//     outputs and feedback and propose a better instruction. A candidate
//     that improves the minibatch is scored on the validation set and joins
//     the pool; candidates that improved different predictors are merged.
//     The budget is exactly one of WithAuto, WithMaxFullEvals and
//     WithMaxMetricCalls. Metrics give textual feedback (FeedbackMetric,
//     ExactMatchFeedback, FeedbackOf).
//   - SIMBA samples minibatches, runs each example through several
//     candidates chosen by softmax over their scores at varied
//     temperatures, ranks examples by the spread of their scores, and for
//     the most variable ones either adds a successful trajectory as a demo
//     or asks an LM to compare a good and a bad run and append a rule to the
//     instruction (RuleSignature). The best candidate by full evaluation is
//     returned.
//   - Ensemble (not an optimizer) combines several programs with a reducer,
//     majority vote by default, optionally sampling WithSize of them per
//     call.
//
// Every optimizer returns a new *Compiled and never modifies the student.
// A Compiled runs like the student, has the student's predictor names
// (it is a programs.Module), records in its Report which optimizer made it
// with which settings and scores, and saves in the programs.Save format
// with the report under "compiled" (Compiled.Save, Load).
//
// # Options
//
// Each optimizer takes its own option interface (LabeledFewShotOption,
// BootstrapFewShotOption, RandomSearchOption, KNNFewShotOption,
// MIPROv2Option for MIPROv2 and BEACON, COPROOption, GEPAOption,
// SIMBAOption), so an option given to an optimizer it does not apply to
// fails to build. An option that applies to several returns a type that
// implements each of their interfaces: WithSeed (SeedOption) applies to
// all of them, WithAuto (AutoOption) to MIPROv2, BEACON and GEPA,
// WithReflectionLM (ReflectionOption) to GEPA and SIMBA, and so on; an
// option of one optimizer returns that optimizer's interface. A bad value
// (a negative count, conflicting budgets) fails in New....
//
// # Determinism
//
// Given a deterministic LM (the embedded simulator, a cache, temperature 0)
// and the same seed, compiling twice gives the same program: the training
// examples are processed in order, demos are chosen by training-set index
// rather than by completion order, and every random choice is seeded.
//
// # Students
//
// A student must expose its predictors to programs.NamedPredictors: a
// programs.Predict, a built-in module, or a struct of them. A
// programs.ProgramFunc cannot be optimized (ErrNoPredictors).
package teleprompter
