// Package programs holds dspex's modules: Predict and the programs built on it.
//
// # Predict
//
// Predict is the basic LM step. The typed form, Predict[In, Out], reads its
// signature from the field tags of two structs (see signature.Of), so the
// compiler checks every field a caller touches:
//
//	type QA struct {
//		Question string `dspy:"question"`
//	}
//	type Answer struct {
//		Answer string `dspy:"answer" desc:"often between 1 and 5 words"`
//	}
//	qa := programs.MustPredict[QA, Answer](programs.WithLM(model))
//	out, err := qa.Call(ctx, QA{Question: "What is the capital of France?"})
//
// The dynamic form, Predictor, runs a signature parsed from a string over
// Values maps. It is also the type-erased view of every typed predictor: its
// signature, instructions and demos are what optimizers read and replace.
// Predictors are immutable; the With methods return copies.
//
// The LM comes from the call's WithLM option, else the predictor's, else the
// context (lm.NewContext). Per-call options (WithTemperature, WithN,
// WithRollout, WithoutCache...) given at construction become defaults.
//
// # Modules
//
//   - ChainOfThought prepends a reasoning output; the typed form returns
//     Reasoned[Out], the user's Out plus the reasoning.
//   - ReAct runs a tool-using agent loop over typed Go tools (NewTool), whose
//     JSON schema comes from the argument struct; bad arguments, tool errors
//     and panics become observations, never crashes.
//   - BestOfN and Refine make several attempts at fresh rollouts and keep the
//     best by a reward function; Refine feeds advice from a failed attempt
//     into the next.
//   - ProgramOfThought, CodeAct and RLM let the LM write code that runs in a
//     sandbox (package sandbox: Starlark, a deterministic Python dialect in
//     pure Go, with step, time and memory limits and no I/O):
//     ProgramOfThought computes the outputs with a program, rewritten when
//     it fails; CodeAct is an agent whose actions are snippets calling the
//     Go tools; RLM keeps inputs larger than the context in a REPL that the
//     LM explores with code and sub-LM calls (llm_query).
//   - MultiChainComparison compares several reasoning attempts into one
//     answer; Parallel and Batch run a program over a batch with bounded
//     concurrency, keeping per-item errors.
//
// # Composition
//
// A user's program is a Go struct holding predictors and modules, with plain
// Go control flow in its Forward method. NamedPredictors finds every
// predictor inside, with stable dotted names ("retrieve.predict", "answer");
// WithPredictors returns a copy with some of them replaced, leaving the
// original untouched. This is how optimizers return compiled programs.
//
// # Save and load
//
// Save and Load write and read a program's learned state (per predictor:
// instructions, field prefixes and descriptions, demos) as JSON, and fail
// with a *ShapeError when the program does not have the same shape.
// SaveDSPy and LoadDSPy read and write the format of DSPy's
// program.save("x.json") (DSPy 2.6 and 3.x; older files are refused with
// ErrLegacyDSPyState, as DSPy 3.x refuses them), so a program optimised in
// Python can be served from Go and back: what dspex does not use, and each
// demo as DSPy wrote it, is written back unchanged. LMs, adapters and
// credentials are never saved.
//
// # Traces
//
// Under a context from WithTrace, every predictor call is recorded; the
// few-shot optimizers turn successful traces into demos.
package programs
