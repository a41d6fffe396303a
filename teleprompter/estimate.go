package teleprompter

import (
	"context"
	"fmt"
	"io"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/pricing"
	"github.com/dspex-go/dspex/programs"
)

// Token counts are estimated at four characters a token, the usual rule of
// thumb for English text with the common tokenizers.
const charsPerToken = 4

// reasoningTokens is the high estimate of a completion's extra tokens when
// the signature asks for a reasoning field (ChainOfThought).
const reasoningTokens = 256

// costRange is the estimated cost of an optimizer's LM calls.
type costRange struct {
	model              string
	price              pricing.Price
	calls              int
	promptLo, promptHi int // tokens a call
	complLo, complHi   int
}

// low and high return the bounds of the estimate.
func (c costRange) low() float64 {
	return c.price.Cost(lm.Usage{PromptTokens: c.calls * c.promptLo, CompletionTokens: c.calls * c.complLo}).Amount
}

func (c costRange) high() float64 {
	return c.price.Cost(lm.Usage{PromptTokens: c.calls * c.promptHi, CompletionTokens: c.calls * c.complHi}).Amount
}

// String is the line the optimizers print under their expected LM calls.
func (c costRange) String() string {
	return fmt.Sprintf("Estimated cost: %s to %s for %d calls at %s prices (read %s), every call priced as a task-model call "+
		"of ~%d-%d prompt and ~%d-%d completion tokens",
		pricing.FormatAmount(c.low(), c.price.Currency), pricing.FormatAmount(c.high(), c.price.Currency),
		c.calls, c.model, c.price.Read, c.promptLo, c.promptHi, c.complLo, c.complHi)
}

// estimateCost estimates what calls LM calls of the student cost, for the
// optimizers that print their expected calls before they start: each call
// is priced as one of the student's first predictor, whose prompt is
// formatted for the first training example with no demos (low) and with
// maxDemos training examples as demos (high), its completion being that
// example's outputs (low), plus a reasoning (high) when the signature has
// one. The model's price comes from the predictor's LM, else the one in
// ctx, when it is a pricing.Priced (the runtime's LMs); false when it is
// unknown.
func estimateCost(ctx context.Context, nps []programs.NamedPredictor, trainset []dataset.Example, maxDemos, calls int) (costRange, bool) {
	if len(nps) == 0 || len(trainset) == 0 || calls <= 0 {
		return costRange{}, false
	}
	p := nps[0].Predictor
	m := p.LM()
	if m == nil {
		m, _ = lm.FromContext(ctx)
	}
	priced, ok := m.(pricing.Priced)
	if !ok {
		return costRange{}, false
	}
	model, price, ok := priced.Price()
	if !ok {
		return costRange{}, false
	}
	sig, ex := p.Signature(), trainset[0]
	promptTokens := func(demos []programs.Values) (int, bool) {
		req, err := p.Adapter().Format(sig, demos, ex.Inputs())
		if err != nil {
			return 0, false
		}
		chars := 0
		for _, msg := range req.Messages {
			chars += len(msg.Content)
		}
		return tokens(chars), true
	}
	lo, ok := promptTokens(nil)
	if !ok {
		return costRange{}, false
	}
	var demos []programs.Values
	for i := 0; i < maxDemos && i < len(trainset); i++ {
		demos = append(demos, trainset[i].Values())
	}
	hi, ok := promptTokens(demos)
	if !ok {
		return costRange{}, false
	}
	outChars := 0
	for _, f := range sig.Outputs() {
		outChars += len("[[ ## ") + len(f.Name) + len(" ## ]]\n\n") + len(fmt.Sprint(ex.Values()[f.Name]))
	}
	complLo := tokens(outChars + len("[[ ## completed ## ]]"))
	complHi := complLo
	for _, f := range sig.Outputs() {
		if f.Name == "reasoning" {
			complHi += reasoningTokens
		}
	}
	return costRange{model: model, price: price, calls: calls, promptLo: lo, promptHi: max(lo, hi), complLo: complLo, complHi: complHi}, true
}

func tokens(chars int) int { return (chars + charsPerToken - 1) / charsPerToken }

// printCostEstimate prints the estimated cost of calls LM calls under the
// expected calls an optimizer prints (see estimateCost), or says that the
// cost is unknown.
func printCostEstimate(ctx context.Context, w io.Writer, nps []programs.NamedPredictor, trainset []dataset.Example, maxDemos, calls int) {
	if c, ok := estimateCost(ctx, nps, trainset, maxDemos, calls); ok {
		fmt.Fprintln(w, c)
		return
	}
	fmt.Fprintln(w, "Estimated cost: unknown (the task model has no known price)")
}
