package main

import (
	"strings"
	"testing"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestParseBudget(t *testing.T) {
	for _, tc := range []struct {
		text    string
		want    budget.Budget
		errPart string // "" means no error
	}{
		{"", budget.Budget{}, ""},
		{"calls=3", budget.Budget{MaxCalls: 3}, ""},
		{" calls = 3 , tokens=1000,cost=0.5", budget.Budget{MaxCalls: 3, MaxTokens: 1000, MaxCost: 0.5}, ""},
		{"cost=2", budget.Budget{MaxCost: 2}, ""},
		{"calls", budget.Budget{}, "want cap=value"},
		{"calls=", budget.Budget{}, "want cap=value"},
		{"calls=0", budget.Budget{}, "positive integer"},
		{"calls=-1", budget.Budget{}, "positive integer"},
		{"tokens=1.5", budget.Budget{}, "positive integer"},
		{"cost=NaN", budget.Budget{}, "positive number"},
		{"cost=+Inf", budget.Budget{}, "positive number"},
		{"cost=0", budget.Budget{}, "positive number"},
		{"calls=1,calls=2", budget.Budget{}, "given twice"},
		{"dollars=5", budget.Budget{}, "unknown cap"},
		{"calls=1,", budget.Budget{}, "want cap=value"},
	} {
		got, err := parseBudget(tc.text)
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%q: error %v, want one saying %q", tc.text, err, tc.errPart)
		case got != tc.want:
			t.Errorf("%q: %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

// FuzzParseBudget checks that any text gives a budget of positive caps or
// an error, never a panic.
func FuzzParseBudget(f *testing.F) {
	for _, seed := range []string{"", "calls=3,tokens=10,cost=0.25", "cost=1e309", "calls=1,calls=1", "=,=", "tokens=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		b, err := parseBudget(text)
		if err != nil {
			if b != (budget.Budget{}) {
				t.Fatalf("an error with a budget %+v", b)
			}
			return
		}
		if b.MaxCalls < 0 || b.MaxTokens < 0 || b.MaxCost < 0 || b.MaxCost != b.MaxCost {
			t.Fatalf("budget %+v", b)
		}
	})
}
