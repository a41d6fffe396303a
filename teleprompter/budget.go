package teleprompter

import (
	"context"
	"errors"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/evaluate"
)

// budgetRefusal returns the first refusal by a budget among the rows of
// res, or nil.
func budgetRefusal(res evaluate.Result) error {
	for _, row := range res.Rows {
		if row.Err != nil && errors.Is(row.Err, budget.ErrExceeded) {
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
	if refused == nil {
		refused = budget.Exceeded(ctx)
	}
	if refused == nil {
		return false
	}
	var ee *budget.ExceededError
	if errors.As(refused, &ee) {
		e.log.StoppedBy = ee.Error()
	} else {
		e.log.StoppedBy = budget.ErrExceeded.Error()
	}
	return true
}
