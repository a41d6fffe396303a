// Package evaluate runs a program over a dev set and scores it with a
// metric, the way DSPy's Evaluate does, on the dspex actor runtime.
//
// # Use
//
//	ev, err := evaluate.New(evaluate.ExactMatch("answer"),
//		evaluate.WithConcurrency(32), evaluate.WithTimeout(30*time.Second))
//	res, err := ev.Run(ctx, prog, devset)
//	fmt.Println(res) // the summary and a table of the first rows
//
// A metric is a plain Go function of (example, prediction, trace) returning
// a float or a bool (true counts as 1). ExactMatch, F1 and Contains compare
// a prediction field with the example's label of the same name after
// NormalizeText (DSPy's and SQuAD's normalisation); a label may be a list
// of acceptable answers.
//
// # Results
//
// Result holds every example of the dev set exactly once, in order: its
// inputs, the prediction, the score, the error, the latency and the tokens.
// Result.Score is the mean over the examples that ran. Failures are not
// errors of the run: an example whose program returns an error (a provider
// error that outlasted the retries, a reply that does not parse), whose
// program or metric panics (*PanicError), whose metric returns NaN
// (*MetricError) or which exceeds the per-example timeout (ErrTimeout) is
// Failed, gets the failure score (WithFailureScore, default 0) and keeps its
// error. Run returns an error only when the run itself stopped early: ctx
// was cancelled, or WithMaxErrors examples failed (ErrTooManyErrors). Then
// the result is still complete in the sense that every example is there:
// those not finished are NotRun, and Result.Complete is false.
//
// # Actors
//
// Each Run spawns a supervisor actor; it spawns one short-lived evaluator
// actor per example, at most WithConcurrency at a time, with a strategy that
// stops an evaluator that fails. An evaluator runs its example on a
// goroutine it owns, so it stays responsive: it reports the example's row
// when the call returns, or a timeout when its receive timeout fires first
// (for a program that ignores its context). Panics are recovered on that
// goroutine and reported as the row's error, because a request handler
// that panics leaves its caller waiting. The public API shows none of this:
// no PIDs, props or messages.
//
// By default each Run starts a private actor system (with a discarding
// logger, see WithLogger) and shuts it down at its end. WithRuntime runs the
// actors in an existing system instead, such as the dspex runtime's: pass
// the *dspex.Runtime (any Runtime: a value whose Actors method returns a
// supervision.Handle).
//
// At the end of a run, program calls still running are cancelled and Run
// waits for them up to WithDrain; a program that ignores cancellation is
// abandoned and counted in Result.Abandoned.
//
// # Progress
//
// A progress bar with the running score is drawn on standard error when it
// is a terminal, and never otherwise; WithProgress draws it on any writer,
// WithoutProgress never.
//
// # Concurrency
//
// An Evaluator is immutable and safe for concurrent use; programs and
// metrics must be safe for concurrent use, as they run on many goroutines.
package evaluate
