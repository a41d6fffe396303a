package programs

import (
	"sync"

	"github.com/dspex-go/dspex/adapter"
)

// promptCache holds what a Predictor computes once for its signature,
// demos and adapter rather than at every call. A Predictor is immutable:
// every method that derives one with another signature, other demos or
// another adapter gives the copy a new, empty promptCache (newPrompt), so
// a cache never outlives what it was computed from. It is safe for
// concurrent use.
type promptCache struct {
	sigOnce sync.Once
	sigText string // the signature's String, for the Predict span

	adapterOnce sync.Once
	adapter     adapter.Adapter // adapter.Prepare of the predictor's
}

// newPrompt returns an empty cache.
func newPrompt() *promptCache { return new(promptCache) }

// signatureText returns p's signature as its String method writes it.
func (p *Predictor) signatureText() string {
	c := p.prompt
	if c == nil { // a Predictor not built by NewPredictFrom or a With method
		return p.sig.String()
	}
	c.sigOnce.Do(func() { c.sigText = p.sig.String() })
	return c.sigText
}

// formatter returns the adapter p's calls format and parse with: p's
// adapter prepared for its signature and demos (adapter.Prepare), which
// renders what the inputs do not change once.
func (p *Predictor) formatter() adapter.Adapter {
	c := p.prompt
	if c == nil {
		return p.adapter
	}
	c.adapterOnce.Do(func() { c.adapter = adapter.Prepare(p.adapter, p.sig, p.demos) })
	return c.adapter
}
