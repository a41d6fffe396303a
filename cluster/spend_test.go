package cluster

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/signature"
)

// TestRemoteSpendCharged checks the accounting seam of a remote call: the
// node reports what its LM calls spent (failed runs included), and the
// coordinator's charge makes it count against the caller's budget.
func TestRemoteSpendCharged(t *testing.T) {
	sig := signature.MustParse("question -> answer")
	reg := &Registry{}
	if err := reg.Register("qa", func() (programs.Program, error) { return programs.NewPredictFrom(sig) }); err != nil {
		t.Fatal(err)
	}
	plain, err := programs.NewPredictFrom(sig)
	if err != nil {
		t.Fatal(err)
	}
	var state bytes.Buffer
	if err := programs.Save(&state, plain); err != nil {
		t.Fatal(err)
	}
	inputs, err := encodeValues(programs.Values{"question": "q"})
	if err != nil {
		t.Fatal(err)
	}
	prices, err := pricing.NewTable("USD", "2026-12-05", map[string]pricing.Price{"fixed": {Input: 2, Output: 10}})
	if err != nil {
		t.Fatal(err)
	}
	withUsage := func(reply string) lm.LM {
		return lm.Func(func(context.Context, lm.Request) (lm.Response, error) {
			return lm.Response{Model: "fixed", Choices: []lm.Choice{{Message: lm.Message{Role: lm.RoleAssistant, Content: reply}}},
				Usage: lm.Usage{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100}}, nil
		})
	}
	for _, tc := range []struct {
		name  string
		reply string
		fails bool
		calls int // the adapter retries a reply that does not parse once
	}{
		{"answered", "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]", false, 1},
		{"reply does not parse", "no fields here", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model := history.Wrap(withUsage(tc.reply), "fake", nil, history.WithPrices(prices))
			n := &Node{cfg: NodeConfig{Registry: reg, LM: model}}
			res := n.run(context.Background(), &pb.Evaluate{CallId: 1, Kind: "qa", State: state.Bytes(), Inputs: inputs}, "node:1")
			if (res.Error != "") != tc.fails {
				t.Fatalf("error %q", res.Error)
			}
			got := spendFrom(res.Spend)
			// Each call: 1000 * $2 + 100 * $10 per million tokens.
			c := float64(tc.calls)
			if got.Calls != tc.calls || got.Usage.TotalTokens != 1100*tc.calls || math.Abs(got.Cost.Amount-0.003*c) > 1e-12 || got.Cost.Currency != "USD" {
				t.Fatalf("spend %+v", got)
			}
			ctx, meter := history.WithMeter(budget.With(context.Background(), budget.Budget{MaxCost: 0.005 * c}))
			chargeRemote(ctx, res)
			if err := budget.Exceeded(ctx); err != nil {
				t.Fatalf("one remote call refused the next: %v", err)
			}
			if u := meter.ByModel()["cluster/node:1"]; u.Calls != tc.calls || u.Usage.TotalTokens != 1100*tc.calls || math.Abs(u.Cost.Amount-0.003*c) > 1e-12 {
				t.Fatalf("meter after one remote call: %+v", meter.ByModel())
			}
			chargeRemote(ctx, res)
			if spent, _ := budget.Spent(ctx); spent.Calls != 2*tc.calls || !errors.Is(budget.Exceeded(ctx), budget.ErrExceeded) {
				t.Fatalf("after two remote calls: %+v, %v", spent, budget.Exceeded(ctx))
			}
		})
	}
	if s := spendFrom(nil); s.Calls != 0 || s.Cost.Calls != 0 {
		t.Errorf("a node that reports no spend: %+v", s)
	}
}
