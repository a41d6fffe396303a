package dspex_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/dspex-go/dspex"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/evaluate"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/simlm"
	"github.com/dspex-go/dspex/teleprompter"
)

// TestOptimizersEstimateTheirCost checks the cost range MIPROv2 and COPRO
// print under their expected LM calls: priced at the runtime's price of the
// model, low below high, both growing with the calls; unknown when the
// model has no price.
func TestOptimizersEstimateTheirCost(t *testing.T) {
	ctx := context.Background()
	price := pricing.Price{Input: 2, Output: 8}
	rt, err := dspex.Start(ctx, dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	model, _, ok := rt.LM("").(pricing.Priced).Price()
	if ok {
		t.Fatalf("the simulator %s has a price", model)
	}
	cfg := config.Default()
	cfg.Prices = map[string]pricing.Price{simlm.DefaultModel: price}
	priced, err := dspex.Start(ctx, dspex.WithConfig(cfg), dspex.WithSimulator(), dspex.WithEnv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	defer priced.Close(ctx)

	train, dev := dataset.TrainDev(2, 16)
	trainset, valset := dataset.Examples(train), dataset.Examples(dev)[:10]
	metric := evaluate.ExactMatch("answer")
	line := regexp.MustCompile(`at most (\d+) in all\nEstimated cost: \$([0-9.]+) to \$([0-9.]+) for (\d+) calls at (\S+) prices`)
	for _, tt := range []struct {
		name string
		opt  func(w *bytes.Buffer) (interface {
			Optimize(context.Context, programs.Program, []dataset.Example) (*teleprompter.Compiled, *teleprompter.TrialLog, error)
		}, error)
	}{
		{"MIPROv2", func(w *bytes.Buffer) (interface {
			Optimize(context.Context, programs.Program, []dataset.Example) (*teleprompter.Compiled, *teleprompter.TrialLog, error)
		}, error) {
			return teleprompter.NewMIPROv2(metric, teleprompter.WithAuto(teleprompter.AutoLight), teleprompter.WithValset(valset),
				teleprompter.WithBudgetReport(w))
		}},
		{"COPRO", func(w *bytes.Buffer) (interface {
			Optimize(context.Context, programs.Program, []dataset.Example) (*teleprompter.Compiled, *teleprompter.TrialLog, error)
		}, error) {
			return teleprompter.NewCOPRO(metric, teleprompter.WithValset(valset), teleprompter.WithBudgetReport(w))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []*dspex.Runtime{priced, rt} {
				var report bytes.Buffer
				opt, err := tt.opt(&report)
				if err != nil {
					t.Fatal(err)
				}
				student := programs.MustChainOfThought[Problem, Solution](programs.WithLM(r.LM("")))
				// A spent budget stops the run once the plan is printed.
				_, _, _ = opt.Optimize(dspex.WithBudget(ctx, dspex.Budget{MaxCalls: 1}), student, trainset)
				m := line.FindStringSubmatch(report.String())
				if r == rt {
					if m != nil || !bytes.Contains(report.Bytes(), []byte("Estimated cost: unknown")) {
						t.Errorf("an unpriced model got an estimate:\n%s", report.String())
					}
					continue
				}
				if m == nil {
					t.Fatalf("no estimate:\n%s", report.String())
				}
				t.Log(report.String())
				expected, _ := strconv.Atoi(m[1])
				lo, _ := strconv.ParseFloat(m[2], 64)
				hi, _ := strconv.ParseFloat(m[3], 64)
				calls, _ := strconv.Atoi(m[4])
				// A call costs at least its prompt's system message and at
				// most a few thousand tokens at these prices.
				if calls != expected || m[5] != model || lo <= 0 || hi <= lo || hi > float64(calls)*(4000*price.Input+1000*price.Output)/1e6 {
					t.Errorf("estimate %v for %d expected calls:\n%s", m, expected, report.String())
				}
			}
		})
	}
}
