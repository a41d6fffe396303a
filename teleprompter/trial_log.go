package teleprompter

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/dspex-go/dspex/internal/table"
)

// TrialKind says on what a trial was scored.
type TrialKind string

// The kinds of trial.
const (
	// TrialMinibatch is scored on a random minibatch of the validation
	// set; its score guides the surrogate.
	TrialMinibatch TrialKind = "minibatch"
	// TrialFull is scored on the whole validation set; the returned
	// program is the one with the best full score.
	TrialFull TrialKind = "full"
)

// TrialStatus says how a trial ended.
type TrialStatus string

// The ways a trial can end.
const (
	// TrialOK means at least one example was scored.
	TrialOK TrialStatus = "ok"
	// TrialFailed means the evaluation failed entirely (every example
	// failed, or it stopped on WithMaxErrors); the search went on.
	TrialFailed TrialStatus = "failed"
)

// Choice is the candidate a trial chose for one predictor.
type Choice struct {
	// Predictor is the predictor's name.
	Predictor string `json:"predictor"`
	// Instruction indexes TrialLog.Instructions[Predictor]; 0 is the
	// student's own instruction.
	Instruction int `json:"instruction"`
	// DemoSet indexes TrialLog.DemoSets[Predictor]; -1 keeps the student's
	// own demos (COPRO).
	DemoSet int `json:"demo_set"`
}

// Trial is one evaluation made by a search.
type Trial struct {
	// Number counts the trials from 1; the baseline evaluation of the
	// student's own instructions is 0.
	Number int `json:"number"`
	// Kind says whether the trial was scored on a minibatch or on the
	// whole validation set.
	Kind TrialKind `json:"kind"`
	// Choices holds the candidate chosen for each predictor.
	Choices []Choice `json:"choices"`
	// Score is the mean metric score over the examples (the failure score
	// counts for failed examples); 0 for a failed trial.
	Score float64 `json:"score"`
	// Status says whether the trial was scored or failed entirely.
	Status TrialStatus `json:"status"`
	// Error is the cause of a failed trial.
	Error string `json:"error,omitempty"`
	// Examples counts the examples evaluated.
	Examples int `json:"examples"`
	// FailedExamples counts the examples whose run failed.
	FailedExamples int `json:"failed_examples,omitempty"`
	// LMCalls is the number of task-model calls made: one per predictor
	// per example run (an estimate for programs that skip or repeat
	// steps). 0 when the score was reused.
	LMCalls int `json:"lm_calls"`
	// Tokens counts the tokens of the trial's LM calls.
	Tokens int `json:"tokens"`
	// Reused reports that the same choices had been fully evaluated
	// before and the score was reused without any LM call.
	Reused bool `json:"reused,omitempty"`
	// Best marks a full evaluation that set a new best score.
	Best bool `json:"best,omitempty"`
}

// DemoSetInfo describes one demo-set candidate of a predictor.
type DemoSetInfo struct {
	// Label says where the set came from: "zero-shot", "labeled k=4",
	// "bootstrap seed=1 demos=3", "student".
	Label string `json:"label"`
	// Size is the number of demos.
	Size int `json:"size"`
}

// TrialLog records an instruction search: the candidates, every trial
// with its choices, scores and cost, and which program won. It prints as
// a table (String) and saves as JSON (WriteJSON, ReadTrialLog).
type TrialLog struct {
	// Optimizer names the optimizer ("MIPROv2", "BEACON", "COPRO").
	Optimizer string `json:"optimizer"`
	// Surrogate names the surrogate model ("tpe", "gp"; empty for COPRO).
	Surrogate string `json:"surrogate,omitempty"`
	// Seed is the search's seed.
	Seed int `json:"seed"`
	// Predictors lists the predictor names in the student's order.
	Predictors []string `json:"predictors"`
	// Instructions holds the instruction candidates of each predictor;
	// candidate 0 is the student's own.
	Instructions map[string][]string `json:"instructions"`
	// DemoSets describes the demo-set candidates of each predictor.
	DemoSets map[string][]DemoSetInfo `json:"demo_sets,omitempty"`
	// ProposerCalls counts the proposer (prompt-model) calls made.
	ProposerCalls int `json:"proposer_calls"`
	// ValsetSize is the number of validation examples.
	ValsetSize int `json:"valset_size"`
	// Trials holds every evaluation in the order made.
	Trials []Trial `json:"trials"`
	// Best indexes the full evaluation of the returned program in Trials.
	Best int `json:"best"`
	// BestScore is its score.
	BestScore float64 `json:"best_score"`
	// StoppedBy says why the search stopped before its last trial: the
	// budget it ran under (dspex.WithBudget) was spent. Empty when it ran
	// to the end.
	StoppedBy string `json:"stopped_by,omitempty"`
}

// LMCalls returns the task-model calls of every trial.
func (l *TrialLog) LMCalls() int {
	n := 0
	for _, t := range l.Trials {
		n += t.LMCalls
	}
	return n
}

// Failed returns the trials that failed entirely.
func (l *TrialLog) Failed() []Trial {
	var out []Trial
	for _, t := range l.Trials {
		if t.Status == TrialFailed {
			out = append(out, t)
		}
	}
	return out
}

// WriteJSON writes the log as indented JSON.
func (l *TrialLog) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("teleprompter: trial log: %w", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// ReadTrialLog reads a log written by WriteJSON.
func ReadTrialLog(r io.Reader) (*TrialLog, error) {
	var l TrialLog
	if err := json.NewDecoder(r).Decode(&l); err != nil {
		return nil, fmt.Errorf("teleprompter: trial log: %w", err)
	}
	return &l, nil
}

// String returns a summary line and a table of every trial: number,
// kind, the choice of each predictor (i = instruction, d = demo set),
// score, status, examples, LM calls, tokens, and a star on each new best
// full score. It leaves out timings, so equal searches print equal tables.
func (l *TrialLog) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", l.Optimizer)
	if l.Surrogate != "" {
		fmt.Fprintf(&b, " (%s)", l.Surrogate)
	}
	fmt.Fprintf(&b, ": %d trials, %d failed, %d task-model calls, %d proposer calls; best %.2f%% (trial %d)\n",
		len(l.Trials), len(l.Failed()), l.LMCalls(), l.ProposerCalls, 100*l.BestScore, l.bestNumber())
	if l.StoppedBy != "" {
		fmt.Fprintf(&b, "stopped early: %s\n", l.StoppedBy)
	}
	head := []string{"#", "kind"}
	head = append(head, l.Predictors...)
	head = append(head, "score", "status", "examples", "calls", "tokens", "best")
	cells := [][]string{head}
	for _, t := range l.Trials {
		row := []string{fmt.Sprint(t.Number), string(t.Kind)}
		for _, name := range l.Predictors {
			row = append(row, choiceText(t.Choices, name))
		}
		score := fmt.Sprintf("%.2f", 100*t.Score)
		if t.Status == TrialFailed {
			score = "-"
		}
		calls := fmt.Sprint(t.LMCalls)
		if t.Reused {
			calls = "reused"
		}
		best := ""
		if t.Best {
			best = "*"
		}
		row = append(row, score, string(t.Status), fmt.Sprint(t.Examples), calls, fmt.Sprint(t.Tokens), best)
		cells = append(cells, row)
	}
	b.WriteString(table.String(cells))
	return b.String()
}

func (l *TrialLog) bestNumber() int {
	if l.Best >= 0 && l.Best < len(l.Trials) {
		return l.Trials[l.Best].Number
	}
	return -1
}

func choiceText(cs []Choice, name string) string {
	for _, c := range cs {
		if c.Predictor == name {
			if c.DemoSet < 0 {
				return fmt.Sprintf("i%d", c.Instruction)
			}
			return fmt.Sprintf("i%d d%d", c.Instruction, c.DemoSet)
		}
	}
	return ""
}
