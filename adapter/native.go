package adapter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
)

// This file holds the adapters' options and native function calling, as
// DSPy 3.3's Adapter._call_preprocess and _call_postprocess do it
// (dspy/adapters/base.py at stanfordnlp/dspy
// 4ed377ee9110e912d4f5e1be43b317b87455053c): when the adapter uses native
// function calling and the signature has a ToolCalls output, the Tool input
// and the ToolCalls output are taken out of the prompt, the tools go into
// the request (lm.Request.Tools), and the reply's tool calls fill the
// ToolCalls output.

// Option configures a Chat or JSON adapter (NewChat, NewJSON).
type Option func(*options)

// options are the settings of an adapter. The zero value is DSPy's
// defaults for the adapter.
type options struct {
	// native is the native function calling setting; nativeDefault means
	// DSPy's default: off for Chat, on for JSON.
	native nativeMode
	// noJSONFallback turns off Chat's fallback to the JSON adapter.
	noJSONFallback bool
}

type nativeMode uint8

const (
	nativeDefault nativeMode = iota
	nativeOn
	nativeOff
)

// WithNativeFunctionCalling sets whether the adapter uses the provider's
// native function calling (DSPy's use_native_function_calling). When on
// and the signature has a ToolCalls output, the adapter leaves the Tool
// input field (Tool or list[Tool]) and the ToolCalls output out of the
// messages, sends the tools as lm.Request.Tools, and fills the ToolCalls
// output from the reply's tool calls (lm.Message.ToolCalls); the other
// outputs are parsed from the reply's text when there is one and are nil
// otherwise. When off, tools are written into the prompt as text and the
// model writes the calls as JSON under the ToolCalls field.
//
// The default is DSPy's: off for Chat, on for JSON. The provider must
// support tools (the OpenAI and Anthropic clients do); DSPy also checks
// the model's support, which dspex leaves to the caller.
func WithNativeFunctionCalling(on bool) Option {
	return func(o *options) {
		if on {
			o.native = nativeOn
		} else {
			o.native = nativeOff
		}
	}
}

// WithoutJSONFallback stops Call and StreamCall from retrying with the JSON
// adapter when a Chat reply does not parse (DSPy's
// use_json_adapter_fallback=False). It has no effect on the JSON adapter.
func WithoutJSONFallback() Option {
	return func(o *options) { o.noJSONFallback = true }
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// nativeOn reports whether native function calling is on, given the
// adapter's default.
func (o options) nativeOn(def bool) bool {
	switch o.native {
	case nativeOn:
		return true
	case nativeOff:
		return false
	}
	return def
}

// ErrNoToolsInput means a signature has a ToolCalls output but no Tool
// input to take the tools from, while native function calling is on.
var ErrNoToolsInput = errors.New("adapter: a ToolCalls output needs a Tool or list[Tool] input for native function calling")

// nativePlan is what native function calling changes for one signature.
type nativePlan struct {
	// sig is the signature the messages are formatted with and the reply
	// text is parsed with: without the Tool input and the ToolCalls output.
	sig signature.Signature
	// toolsField and callsField name the fields taken out.
	toolsField, callsField string
}

// planNative returns the plan for sig when native is on and sig has a
// ToolCalls output, or false when the signature is formatted as it is.
func planNative(native bool, sig signature.Signature) (nativePlan, bool, error) {
	if !native {
		return nativePlan{}, false, nil
	}
	var p nativePlan
	for _, f := range sig.Outputs() {
		if f.Type.NonOptional().Kind == signature.ToolCallsKind {
			p.callsField = f.Name
			break
		}
	}
	if p.callsField == "" {
		return nativePlan{}, false, nil
	}
	for _, f := range sig.Inputs() {
		if isToolField(f) {
			p.toolsField = f.Name
			break
		}
	}
	if p.toolsField == "" {
		return nativePlan{}, false, fmt.Errorf("%w (output %q)", ErrNoToolsInput, p.callsField)
	}
	p.sig = sig.WithoutFields(p.callsField, p.toolsField)
	return p, true, nil
}

// toolDefs returns the request tools of a Tool or list[Tool] value, as
// DSPy's format_as_litellm_function_call describes each.
func toolDefs(v any) ([]lm.ToolDef, error) {
	items, ok := sliceItems(v)
	if !ok {
		items = []any{v}
	}
	defs := make([]lm.ToolDef, len(items))
	for i, it := range items {
		t, err := signature.AsTool(it)
		if err != nil {
			return nil, fmt.Errorf("%w: element %d: %w", ErrInvalidValue, i, err)
		}
		defs[i] = lm.ToolDef{Name: t.Name, Description: t.Desc, Parameters: t.Parameters()}
	}
	return defs, nil
}

// formatNative formats one call with native function calling when it
// applies: format renders the messages of a signature; the request gets
// the tools of the Tool input.
func formatNative(native bool, sig signature.Signature, inputs Values,
	format func(signature.Signature) (lm.Request, error)) (lm.Request, error) {
	p, ok, err := planNative(native, sig)
	if err != nil {
		return lm.Request{}, err
	}
	if !ok {
		return format(sig)
	}
	req, err := format(p.sig)
	if err != nil {
		return lm.Request{}, err
	}
	if req.Tools, err = toolDefs(inputs[p.toolsField]); err != nil {
		return lm.Request{}, fmt.Errorf("adapter: input field %q: %w", p.toolsField, err)
	}
	return req, nil
}

// nativeOf reports whether a (or the adapter a Prepared wraps) uses
// native function calling.
func nativeOf(a Adapter) bool {
	switch x := unwrap(a).(type) {
	case Chat:
		return x.opts.nativeOn(false)
	case *Chat:
		return x != nil && x.opts.nativeOn(false)
	case JSON:
		return x.opts.nativeOn(true)
	case *JSON:
		return x == nil || x.opts.nativeOn(true)
	}
	return false
}

// parseMessage parses one choice's message: with native function calling
// and a ToolCalls output as DSPy's _call_postprocess does, else a.Parse of
// its text.
func parseMessage(a Adapter, sig signature.Signature, msg lm.Message) (Values, error) {
	p, ok, err := planNative(nativeOf(a), sig)
	if err != nil {
		return nil, err
	}
	if !ok {
		return a.Parse(sig, msg.Content)
	}
	text := msg.Content
	var out Values
	switch {
	case strings.TrimSpace(text) != "" && len(msg.ToolCalls) == 0:
		out = Values{}
		if len(p.sig.Outputs()) > 0 {
			if out, err = a.Parse(p.sig, text); err != nil {
				return nil, err
			}
		}
	case len(msg.ToolCalls) > 0:
		// Provider tool calls are authoritative: text that does not parse
		// is dropped.
		out = Values{}
		if strings.TrimSpace(text) != "" && len(p.sig.Outputs()) > 0 {
			if v, err := a.Parse(p.sig, text); err == nil {
				out = v
			}
		}
	default:
		return nil, &ParseError{Adapter: adapterName(a), Raw: text, Err: ErrEmptyCompletion}
	}
	for _, f := range sig.Outputs() {
		if _, ok := out[f.Name]; !ok {
			out[f.Name] = nil
		}
	}
	if len(msg.ToolCalls) > 0 {
		calls := signature.ToolCalls{Calls: make([]signature.ToolCall, len(msg.ToolCalls))}
		for i, tc := range msg.ToolCalls {
			c, err := toolCallOf(map[string]any{"id": tc.ID, "name": tc.Name, "arguments": tc.Arguments})
			if err != nil {
				return nil, fieldError(adapterName(a), p.callsField, text, tc.Arguments, within(index(i), err))
			}
			calls.Calls[i] = c
		}
		out[p.callsField] = calls
	}
	return out, nil
}
