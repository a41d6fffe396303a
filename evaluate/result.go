package evaluate

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/internal/table"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrTimeout marks an example that did not finish within the
	// per-example timeout (WithTimeout).
	ErrTimeout = errors.New("evaluate: example timed out")
	// ErrNotRun marks an example that was never finished because the run
	// stopped first (cancelled context or too many errors).
	ErrNotRun = errors.New("evaluate: example not run")
	// ErrTooManyErrors is returned by Run, with the partial result, when
	// the run stopped after WithMaxErrors failures.
	ErrTooManyErrors = errors.New("evaluate: too many errors")
	// ErrEvaluatorStopped marks an example whose evaluator actor stopped
	// without reporting (a fault in the evaluator itself, not the program).
	ErrEvaluatorStopped = errors.New("evaluate: evaluator stopped without a result")
)

// PanicError is a panic recovered from a program or a metric; it fails that
// example only.
type PanicError struct {
	// In says where the panic happened: "program" or "metric".
	In string
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack.
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("evaluate: %s panicked: %v", e.In, e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// MetricError is a metric that returned an unusable score (NaN).
type MetricError struct {
	// Score is what the metric returned.
	Score float64
}

// Error implements error.
func (e *MetricError) Error() string { return fmt.Sprintf("evaluate: metric returned %v", e.Score) }

// Status says how an example ended.
type Status uint8

// The ways an example can end. The zero Status is NotRun.
const (
	// NotRun means the run stopped before the example finished.
	NotRun Status = iota
	// Scored means the program and the metric ran; Row.Score is the
	// metric's score.
	Scored
	// Failed means the program or the metric failed (error, panic,
	// timeout); Row.Score is the failure score and Row.Err the cause.
	Failed
)

// String returns "not run", "scored" or "failed".
func (s Status) String() string {
	switch s {
	case Scored:
		return "scored"
	case Failed:
		return "failed"
	default:
		return "not run"
	}
}

// Row is the outcome of one example.
type Row struct {
	// Index is the example's position in the dev set.
	Index int
	// Example is the example itself (its Inputs are what the program got).
	Example dataset.Example
	// Prediction is the program's output (zero when it failed).
	Prediction programs.Prediction
	// Score is the metric's score, or the failure score.
	Score float64
	// Status says whether the example was scored, failed or not run.
	Status Status
	// Err is why the example failed or was not run; nil when scored.
	Err error
	// Latency is how long the program and the metric took.
	Latency time.Duration
	// Usage counts the tokens of the program's LM calls.
	Usage lm.Usage
	// Trace holds the predictor calls of the program, with WithTraces.
	Trace []programs.TraceEntry
}

// Inputs returns the inputs the program was called with.
func (r Row) Inputs() map[string]any { return r.Example.Inputs() }

// OverBudget reports whether the example failed because a budget of the
// run's context (dspex.WithBudget) refused its LM calls: it is a budget
// failure, not the program's.
func (r Row) OverBudget() bool { return r.Status == Failed && errors.Is(r.Err, budget.ErrExceeded) }

// Result is the outcome of an evaluation: every example of the dev set
// exactly once, in dev-set order, and the aggregate.
type Result struct {
	// Rows holds one row per example, Rows[i] for devset[i].
	Rows []Row
	// Score is the mean score of the examples that ran (scored and
	// failed), in [0, 1] for metrics in [0, 1]; 0 when none ran.
	Score float64
	// Scored, Failed and NotRun count the rows by status.
	Scored, Failed, NotRun int
	// Complete reports that every example ran (NotRun == 0).
	Complete bool
	// Elapsed is the wall-clock time of the run.
	Elapsed time.Duration
	// Usage sums the tokens of every example.
	Usage lm.Usage
	// Calls counts the LM calls of the run (failed examples' included)
	// made through the runtime or an LM wrapped with history.Wrap.
	Calls int
	// Cost is what those calls cost (see pricing.Cost: unknown prices
	// are counted apart, never as zero).
	Cost pricing.Cost
	// OverBudget counts the failed examples that a budget would not let
	// run (Row.OverBudget); they are among Failed.
	OverBudget int
	// Abandoned counts program calls still running when Run returned
	// (programs that ignored the cancellation of their context).
	Abandoned int
}

func (r *Result) aggregate() {
	r.Scored, r.Failed, r.NotRun, r.OverBudget = 0, 0, 0, 0
	r.Usage = lm.Usage{}
	sum, ran := 0.0, 0
	for _, row := range r.Rows {
		switch row.Status {
		case Scored:
			r.Scored++
		case Failed:
			r.Failed++
			if row.OverBudget() {
				r.OverBudget++
			}
		default:
			r.NotRun++
			continue
		}
		ran++
		sum += row.Score
		r.Usage = r.Usage.Add(row.Usage)
	}
	r.Score = 0
	if ran > 0 {
		r.Score = sum / float64(ran)
	}
	r.Complete = r.NotRun == 0
}

// Failures returns the rows that failed.
func (r Result) Failures() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Status == Failed {
			out = append(out, row)
		}
	}
	return out
}

// Summary returns the one-line aggregate, e.g.
// "score 63.33% over 30 examples (28 scored, 2 failed, 0 not run), 4120 tokens".
func (r Result) Summary() string {
	s := fmt.Sprintf("score %.2f%% over %d examples (%d scored, %d failed, %d not run), %d tokens",
		100*r.Score, len(r.Rows), r.Scored, r.Failed, r.NotRun, r.Usage.TotalTokens)
	if r.Calls > 0 {
		s += fmt.Sprintf(", %d LM calls, cost %s", r.Calls, r.Cost)
	}
	if r.OverBudget > 0 {
		s += fmt.Sprintf(", %d over budget", r.OverBudget)
	}
	if !r.Complete {
		s += " [incomplete]"
	}
	return s
}

// DefaultTableRows is how many rows String shows.
const DefaultTableRows = 20

// String returns the summary and a table of the first DefaultTableRows
// rows: index, id, status, score, the first input, the first output and
// the error. It leaves out timings, so equal runs print equal tables.
func (r Result) String() string { return r.Table(DefaultTableRows) }

// Table is String with up to maxRows rows (all of them when maxRows < 0).
func (r Result) Table(maxRows int) string {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	rows := r.Rows
	if maxRows >= 0 && len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	if len(rows) == 0 {
		return b.String()
	}
	cells := [][]string{{"#", "id", "status", "score", "input", "output", "error"}}
	for _, row := range rows {
		cells = append(cells, []string{
			fmt.Sprint(row.Index),
			row.Example.ID(),
			row.Status.String(),
			fmt.Sprintf("%.2f", row.Score),
			clip(firstValue(row.Example.Inputs(), row.Example.InputKeys()), 32),
			clip(firstOutput(row.Prediction), 24),
			clip(errText(row.Err), 60),
		})
	}
	b.WriteString(table.String(cells))
	if more := len(r.Rows) - len(rows); more > 0 {
		fmt.Fprintf(&b, "... %d more rows\n", more)
	}
	return b.String()
}

func firstValue(values map[string]any, keys []string) string {
	for _, k := range keys {
		if v, ok := values[k]; ok {
			return text(v)
		}
	}
	return ""
}

// firstOutput shows the prediction's "answer" field when it has one, else
// its alphabetically first field.
func firstOutput(p programs.Prediction) string {
	if v, ok := p.Values["answer"]; ok {
		return text(v)
	}
	first := ""
	for k := range p.Values {
		if first == "" || k < first {
			first = k
		}
	}
	if first == "" {
		return ""
	}
	return text(p.Values[first])
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
