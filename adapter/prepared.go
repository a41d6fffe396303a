package adapter

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// Prepared is an Adapter bound to one signature and one demo set, for a
// caller that formats many prompts with them (a Predictor does, at every
// call). With the Chat adapter, and a signature without a History input,
// the system message, the demos and the closing requirements are rendered
// once; each later Format renders only the final user message from the
// inputs. Its prompts are the adapter's own, byte for byte: the first
// Format is the adapter's, and the parts are kept only when rendering the
// final message alone gives that very message and the request holds
// nothing but messages; else Prepared formats every prompt with the
// adapter.
//
// Format with another signature or demo set than the prepared ones (as
// signature.Same and the same slice tell) is the adapter's Format. Parse
// is the adapter's. Call, the spans and the JSON fallback treat a Prepared
// as the adapter it wraps. It is safe for concurrent use; the demos must
// not change while it is used.
type Prepared struct {
	inner Adapter
	sig   signature.Signature
	demos []Values

	once     sync.Once
	template atomic.Pointer[chatTemplate] // nil: format with inner
	rejected atomic.Bool                  // the template did not match
}

// chatTemplate is the part of a Chat prompt the inputs do not change.
type chatTemplate struct {
	prefix       []lm.Message // system message and demos
	requirements string       // the final user message's last paragraph
}

// Prepare returns a prepared for sig and demos (see Prepared); an adapter
// that gains nothing from it (not Chat, or sig has a History input) is
// returned as it is.
func Prepare(a Adapter, sig signature.Signature, demos []Values) Adapter {
	if a == nil {
		a = Chat{}
	}
	if !isChat(a) || sig.IsZero() {
		return a
	}
	if _, ok := historyField(sig); ok {
		return a // the turns of the history come before the final message
	}
	return &Prepared{inner: a, sig: sig, demos: demos}
}

// Unwrap returns the adapter p wraps.
func (p *Prepared) Unwrap() Adapter { return p.inner }

// Format builds the request of one call, as the wrapped adapter does.
func (p *Prepared) Format(sig signature.Signature, demos []Values, inputs Values) (lm.Request, error) {
	return p.format(sig, demos, inputs, false)
}

// format is Format; checked tells that inputs hold every input of sig
// (checkInputs passed), as in a Call, which checks before it formats.
func (p *Prepared) format(sig signature.Signature, demos []Values, inputs Values, checked bool) (lm.Request, error) {
	if !p.sig.Same(sig) || !sameDemos(p.demos, demos) {
		return p.inner.Format(sig, demos, inputs)
	}
	t := p.template.Load()
	if t == nil {
		if p.rejected.Load() {
			return p.inner.Format(sig, demos, inputs)
		}
		// The first prompts are the adapter's: one of them gives the
		// template.
		req, err := p.inner.Format(sig, demos, inputs)
		if err == nil {
			p.once.Do(func() { p.learn(req, inputs) })
		}
		return req, err
	}
	if !checked {
		if err := checkInputs(sig, inputs); err != nil {
			return lm.Request{}, err
		}
	}
	final, err := userMessage(sig, inputs, "", t.requirements)
	if err != nil {
		return lm.Request{}, err
	}
	msgs := make([]lm.Message, len(t.prefix)+1)
	copy(msgs, t.prefix)
	msgs[len(t.prefix)] = final
	return lm.Request{Messages: msgs}, nil
}

// learn keeps the template of req, the adapter's prompt for inputs, when
// the template renders req again from inputs.
func (p *Prepared) learn(req lm.Request, inputs Values) {
	n := len(req.Messages)
	if n == 0 || !reflect.DeepEqual(req, lm.Request{Messages: req.Messages}) {
		p.rejected.Store(true)
		return
	}
	t := &chatTemplate{prefix: req.Messages[: n-1 : n-1], requirements: chatRequirements(p.sig)}
	final, err := userMessage(p.sig, inputs, "", t.requirements)
	if err != nil || !reflect.DeepEqual(final, req.Messages[n-1]) {
		p.rejected.Store(true)
		return
	}
	// req is the caller's: keep a copy of the messages.
	t.prefix = append([]lm.Message(nil), t.prefix...)
	p.template.Store(t)
}

// Parse extracts the output fields, as the wrapped adapter does.
func (p *Prepared) Parse(sig signature.Signature, completion string) (Values, error) {
	return p.inner.Parse(sig, completion)
}

// sameDemos reports whether a and b are the same slice.
func sameDemos(a, b []Values) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// unwrap returns the adapter a Prepared wraps, or a.
func unwrap(a Adapter) Adapter {
	if p, ok := a.(*Prepared); ok {
		return p.inner
	}
	return a
}
