package evaluate

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/programs"
)

// TestBudgetFailures checks that the examples a budget does not let run
// fail as budget failures, are not run once the budget is spent, and do
// not count against WithMaxErrors.
func TestBudgetFailures(t *testing.T) {
	fake := lm.Func(func(_ context.Context, req lm.Request) (lm.Response, error) {
		return lm.Response{Choices: []lm.Choice{{Message: lm.Message{Content: req.Messages[0].Content}}},
			Usage: lm.Usage{PromptTokens: 4, CompletionTokens: 2, TotalTokens: 6}}, nil
	})
	model := history.Wrap(fake, "fake", nil)
	var forwards atomic.Int32
	prog := programs.ProgramFunc(func(ctx context.Context, in programs.Values) (programs.Prediction, error) {
		forwards.Add(1)
		q := in["question"].(string)
		resp, err := model.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "a" + strings.TrimPrefix(q, "q")}}})
		if err != nil {
			return programs.Prediction{}, err
		}
		return programs.Prediction{Values: programs.Values{"answer": resp.Choices[0].Message.Content}, Usage: resp.Usage}, nil
	})
	tests := []struct {
		name     string
		b        budget.Budget
		wantRun  int
		wantOver int
	}{
		{"no cap reached", budget.Budget{MaxCalls: 20}, 8, 0},
		{"calls", budget.Budget{MaxCalls: 3}, 3, 5},
		{"tokens", budget.Budget{MaxTokens: 12}, 2, 6},
		{"spent before the run", budget.Budget{MaxCalls: 1}, 0, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forwards.Store(0)
			ctx := budget.With(context.Background(), tt.b)
			if tt.name == "spent before the run" {
				if _, err := model.Chat(ctx, lm.Request{Messages: []lm.Message{{Role: lm.RoleUser, Content: "x"}}}); err != nil {
					t.Fatal(err)
				}
			}
			ev := mustNew(t, ExactMatch("answer"), WithConcurrency(1), WithMaxErrors(2))
			res, err := ev.Run(ctx, prog, qa(8))
			if err != nil {
				t.Fatalf("Run: %v (%s)", err, res.Summary())
			}
			if got := int(forwards.Load()); got != tt.wantRun {
				t.Errorf("the program ran %d times, want %d", got, tt.wantRun)
			}
			if res.Scored != tt.wantRun || res.OverBudget != tt.wantOver || res.Failed != tt.wantOver {
				t.Errorf("scored %d, failed %d, over budget %d; want %d, %d, %d", res.Scored, res.Failed, res.OverBudget, tt.wantRun, tt.wantOver, tt.wantOver)
			}
			for _, row := range res.Rows {
				if row.Status == Failed && (!row.OverBudget() || !errors.Is(row.Err, budget.ErrExceeded)) {
					t.Errorf("row %d: %v", row.Index, row.Err)
				}
			}
			if tt.wantOver > 0 && !strings.Contains(res.Summary(), "over budget") {
				t.Errorf("summary %q", res.Summary())
			}
		})
	}
}
