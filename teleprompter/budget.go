package teleprompter

import (
	"context"
	"errors"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/evaluate"
)

// Every optimizer stops cleanly when a budget of its context
// (dspex.WithBudget) is spent: it returns the best program found so far
// (the student when nothing could be measured), with Report.StoppedBy (and
// TrialLog.StoppedBy) saying which cap stopped it. A trial, candidate or
// step cut short by the budget is not compared with complete ones.

// budgetReason returns why err is a budget refusal ("" when it is not):
// the refusing cap, as budget.ExceededError reports it.
func budgetReason(err error) string {
	var ee *budget.ExceededError
	switch {
	case errors.As(err, &ee):
		return ee.Error()
	case errors.Is(err, budget.ErrExceeded):
		return budget.ErrExceeded.Error()
	}
	return ""
}

// budgetSpent returns why the optimizer must stop ("" to go on): a budget
// of ctx has no room for another call.
func budgetSpent(ctx context.Context) string { return budgetReason(budget.Exceeded(ctx)) }

// budgetRefusal returns the first refusal by a budget among the rows of
// res, or nil.
func budgetRefusal(res evaluate.Result) error {
	for _, row := range res.Rows {
		if row.OverBudget() {
			return row.Err
		}
	}
	return nil
}

// stopByBudget reports whether the search must stop because a budget of
// ctx is spent (refused, when not nil, is a refusal already seen); it
// records why in the trial log.
func (e *engine) stopByBudget(ctx context.Context, refused error) bool {
	if e.log.StoppedBy != "" {
		return true
	}
	why := budgetReason(refused)
	if why == "" {
		why = budgetSpent(ctx)
	}
	e.log.StoppedBy = why
	return why != ""
}
