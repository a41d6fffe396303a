package dspex

import (
	"context"
	"io"

	"github.com/dspex-go/dspex/budget"
	"github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/history"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
)

// ErrBudgetExceeded means an LM call was refused, before it was sent,
// because it would go over a budget attached with WithBudget. The error
// is a *budget.ExceededError naming the cap that was hit.
var ErrBudgetExceeded = budget.ErrExceeded

// Budget caps the LM calls made under a context: their cost (in the price
// table's currency), their number, and their tokens. A zero field is no
// cap.
type Budget = budget.Budget

// WithBudget returns a copy of ctx under which every LM call made through
// the runtime (or an LM wrapped with history.Wrap) counts against b, across
// goroutines and the evaluator's actors. A call that would go over it is
// refused before it is sent with an error matching ErrBudgetExceeded.
// Budgets nest: a call counts against every budget of its context.
func WithBudget(ctx context.Context, b Budget) context.Context {
	return budget.With(ctx, b)
}

// Spent returns what the calls under the innermost budget of ctx have
// spent so far, and false when ctx carries no budget.
func Spent(ctx context.Context) (budget.Spend, bool) { return budget.Spent(ctx) }

// newRecorder builds the runtime's history and price table from cfg.
func newRecorder(cfg config.Config, onCall func(context.Context, *history.Record)) (*history.Recorder, error) {
	prices, err := pricing.Default().With(cfg.Prices)
	if err != nil {
		return nil, err
	}
	var opts []history.Option
	if cfg.History.OmitMessages {
		opts = append(opts, history.OmitMessages())
	}
	return history.NewRecorder(history.New(cfg.History.Size, opts...), history.WithPrices(prices), history.WithObserver(onCall)), nil
}

// Chat implements lm.LM: one call through the client actors, recorded,
// priced and budgeted (see ChatInto).
func (m runtimeLM) Chat(ctx context.Context, req lm.Request) (lm.Response, error) {
	var resp lm.Response
	err := m.ChatInto(ctx, &req, &resp)
	return resp, err
}

// ChatInto is Chat by pointer (see lm.InPlace). The caller's stack holds
// this frame while the provider answers, so it holds little: the record
// is built by End, after the call.
func (m runtimeLM) ChatInto(ctx context.Context, req *lm.Request, resp *lm.Response) error {
	r := m.r
	provider, model, err := r.clients.Resolve(m.id)
	if err != nil {
		return m.unresolved(ctx, req, resp)
	}
	call, err := r.recorder.Begin(ctx)
	if err != nil {
		*resp = lm.Response{}
		return err
	}
	// The client sends a request that names no model to its own, model.
	err = r.clients.ChatInto(ctx, m.id, req, resp, 0)
	call.End(ctx, provider, model, req, resp, err)
	return err
}

// unresolved fails a call whose LM id does not resolve, the way the
// runtime reports a bad id (kept out of ChatInto's frame).
//
//go:noinline
func (m runtimeLM) unresolved(ctx context.Context, req *lm.Request, resp *lm.Response) error {
	return m.r.clients.ChatInto(ctx, m.id, req, resp, 0)
}

// Price returns the model the LM calls ("provider/model") and its price
// in the runtime's price table; false when the id does not resolve or the
// model has no price. It implements pricing.Priced, which optimizers use
// to estimate the cost of a run before they start.
func (m runtimeLM) Price() (string, pricing.Price, bool) {
	provider, model, err := m.r.clients.Resolve(m.id)
	if err != nil {
		return "", pricing.Price{}, false
	}
	p, ok := m.r.recorder.Prices().Lookup(provider, model)
	return provider + "/" + model, p, ok
}

// History returns the most recent LM calls made through the runtime,
// oldest first: at most config.History.Size of them (none when the size
// is 0). Records never hold API keys; with config.History.OmitMessages
// they hold no message text either.
func (r *Runtime) History() []history.Record { return r.recorder.History().Records() }

// InspectHistory prints the last n LM calls made through the runtime (all
// for n < 0) as DSPy's inspect_history does: each message under its role,
// the reply, then usage and cost. It colours the output when w is a
// terminal.
func (r *Runtime) InspectHistory(w io.Writer, n int) error {
	return r.recorder.History().Inspect(w, n)
}

// Prices returns the price table the runtime prices calls with: the
// defaults (pricing.Default) with the configuration's prices applied at
// Start.
func (r *Runtime) Prices() *pricing.Table { return r.recorder.Prices() }
