package adapter

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.opentelemetry.io/otel/trace"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/signature"
	"github.com/dspex-go/dspex/telemetry"
)

// Result is the outcome of Call.
type Result struct {
	// Outputs holds the parsed output values of each choice, in the order of
	// Response.Choices.
	Outputs []Values
	// Request is the request sent to the LM (the JSON one after a fallback).
	Request lm.Request
	// Response is the LM's response (the JSON one after a fallback).
	Response lm.Response
	// Usage sums the tokens of every LM call made, fallback included.
	Usage lm.Usage
	// Fallback reports that the Chat reply did not parse and the outputs
	// come from a second call made with the JSON adapter.
	Fallback bool
}

// Call runs one LM step: it checks that inputs hold every input field of sig,
// formats the prompt with a, copies the sampling fields of base (Model,
// Temperature, MaxTokens, N, Stop, Seed, RolloutID, NoCache) into the
// request, calls model and parses every choice of the response.
//
// When a is the Chat adapter (a nil a means Chat) and a choice does not
// parse, Call sends the request once more formatted by the JSON adapter
// (with the Chat adapter's native function calling setting), as DSPy does,
// and returns that result with Fallback set and the usage of both calls
// summed; WithoutJSONFallback turns this off.
//
// With native function calling (WithNativeFunctionCalling) and a ToolCalls
// output, a choice's tool calls (lm.Message.ToolCalls) fill that output, as
// signature.ToolCalls; outputs the reply does not hold are nil.
//
// Errors: a *MissingInputError before any LM call; the LM's error wrapped
// with %w (errors.As finds a *lm.ProviderError); lm.ErrNoChoices for an
// empty response; a *ParseError when the reply does not parse. When the
// fallback fails too, the error wraps both attempts' errors, the Chat one
// first: errors.As finds the Chat *ParseError, which names the field that
// was wrong, and errors.Is still matches the JSON attempt's failure (a
// provider error, ErrNoJSONObject...). On a parse error the Result still
// holds the request, response and usage.
//
// Telemetry: the format and parse spans, and the fallback event, are
// recorded under the providers ctx carries (the caller's span, or
// telemetry.NewContext); a program's call puts its LM's there.
func Call(ctx context.Context, model lm.LM, a Adapter, sig signature.Signature, demos []Values, inputs Values, base lm.Request) (Result, error) {
	if model == nil {
		return Result{}, lm.ErrNoLM
	}
	if sig.IsZero() {
		return Result{}, errZeroSignature
	}
	if a == nil {
		a = Chat{}
	}
	if err := checkInputs(sig, inputs); err != nil {
		return Result{}, err
	}
	res, err := attempt(ctx, model, a, sig, demos, inputs, base)
	var pe *ParseError
	fallback, ok := jsonFallbackOf(a)
	if err == nil || !ok || !errors.As(err, &pe) {
		return res, err
	}
	chatErr := err
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(telemetry.EventFallback, trace.WithAttributes(telemetry.AttrErrorType.String("parse")))
	}
	res2, err := attempt(ctx, model, fallback, sig, demos, inputs, base)
	res2.Usage = res.Usage.Add(res2.Usage)
	res2.Fallback = true
	if err != nil {
		return res2, fmt.Errorf("adapter: JSON fallback failed after the chat reply did not parse (%w): %w", chatErr, err)
	}
	return res2, nil
}

// jsonFallbackOf returns the JSON adapter to retry with when a is the Chat
// adapter (or a Chat prepared for one predictor) and has its JSON fallback
// on.
func jsonFallbackOf(a Adapter) (JSON, bool) {
	switch c := unwrap(a).(type) {
	case Chat:
		return c.jsonFallback()
	case *Chat:
		if c != nil {
			return c.jsonFallback()
		}
		return Chat{}.jsonFallback()
	}
	return JSON{}, false
}

// isChat reports whether a is the Chat adapter, prepared or not.
func isChat(a Adapter) bool {
	switch unwrap(a).(type) {
	case Chat, *Chat:
		return true
	}
	return false
}

// applyCallSettings copies the caller's settings from base onto req, a
// request the adapter formatted.
func applyCallSettings(req *lm.Request, base lm.Request) {
	req.Model = base.Model
	req.Temperature = base.Temperature
	req.MaxTokens = base.MaxTokens
	req.N = base.N
	req.Stop = slices.Clone(base.Stop)
	req.Seed = base.Seed
	req.RolloutID = base.RolloutID
	req.NoCache = base.NoCache
}

// attempt makes one formatted call and parses its choices. Its format and
// parse spans take their providers from ctx (telemetry.Start).
func attempt(ctx context.Context, model lm.LM, a Adapter, sig signature.Signature, demos []Values, inputs Values, base lm.Request) (Result, error) {
	name := adapterName(a)
	_, span := telemetry.Start(ctx, "format", name)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrAdapter.String(name))
	}
	req, err := a.Format(sig, demos, inputs)
	telemetry.End(span, err)
	if err != nil {
		return Result{}, err
	}
	applyCallSettings(&req, base)
	res := Result{Request: req}
	resp, err := model.Chat(ctx, req)
	// A provider that refuses the response format asked for gets the next
	// weaker one (structured outputs, then a JSON object, then text).
	for next, ok := responseFormatFallback(req, err); ok; next, ok = responseFormatFallback(req, err) {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent(telemetry.EventFallback, trace.WithAttributes(telemetry.AttrErrorType.String("response_format")))
		}
		req = next
		res.Request = req
		resp, err = model.Chat(ctx, req)
	}
	if err != nil {
		return res, fmt.Errorf("adapter: LM call: %w", err)
	}
	res.Response, res.Usage = resp, resp.Usage
	if len(resp.Choices) == 0 {
		return res, fmt.Errorf("adapter: %w", lm.ErrNoChoices)
	}
	_, span = telemetry.Start(ctx, "parse", name)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrAdapter.String(name))
	}
	outs, err := parseChoices(a, sig, resp.Choices)
	telemetry.End(span, err)
	if err != nil {
		return res, err
	}
	res.Outputs = outs
	return res, nil
}

// parseChoices parses every choice.
func parseChoices(a Adapter, sig signature.Signature, choices []lm.Choice) ([]Values, error) {
	outs := make([]Values, len(choices))
	for i, c := range choices {
		v, err := parseMessage(a, sig, c.Message)
		if err != nil {
			if len(choices) > 1 {
				err = fmt.Errorf("choice %d: %w", i, err)
			}
			return nil, err
		}
		outs[i] = v
	}
	return outs, nil
}

// adapterName names an adapter on spans: "chat", "json", or its Go type
// as %T prints it (reflect's name, which costs no allocation).
func adapterName(a Adapter) string {
	a = unwrap(a)
	switch a.(type) {
	case Chat, *Chat:
		return "chat"
	case JSON, *JSON:
		return "json"
	}
	return reflect.TypeOf(a).String()
}
