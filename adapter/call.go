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
func Call(ctx context.Context, model lm.LM, a Adapter, sig signature.Signature, demos []Values, inputs Values, base lm.Request) (res Result, err error) {
	err = CallInto(ctx, &res, model, a, &sig, demos, inputs, &base)
	return res, err
}

// CallInto is Call writing its result into *res instead of returning it,
// with the signature and the base request passed by pointer; neither is
// kept or changed, and base may point at res.Request (it is read before
// res is written), so a caller can build its settings in place. Whatever
// res held before is replaced, as Call's result would be; its outcome and
// errors are Call's.
//
// It exists for callers that run deep on their goroutine's stack (a
// program's Predict does): its caller's frame holds no copy of the
// Result, the signature or the request while the provider answers.
func CallInto(ctx context.Context, res *Result, model lm.LM, a Adapter, sig *signature.Signature, demos []Values, inputs Values, base *lm.Request) error {
	// This frame is on the caller's stack while the provider answers, so
	// it holds little besides the request it passes: formatting, parsing
	// and the error paths are helpers that return before or after the LM
	// call.
	if err := checkCall(model, sig, inputs); err != nil {
		*res = Result{}
		return err
	}
	if a == nil {
		a = Chat{}
	}
	if err := format(ctx, res, a, sig, demos, inputs, base); err != nil {
		return jsonFallback(ctx, res, model, a, sig, demos, inputs, base, err)
	}
	if err := lm.InPlaceOf(model).ChatInto(ctx, &res.Request, &res.Response); err != nil {
		res.Response = lm.Response{}
		if err := chatFailed(ctx, model, res, err); err != nil {
			return jsonFallback(ctx, res, model, a, sig, demos, inputs, base, err)
		}
	} else {
		res.Usage = res.Response.Usage
	}
	if len(res.Response.Choices) == 0 {
		return noChoices()
	}
	if err := parse(ctx, res, a, sig); err != nil {
		return jsonFallback(ctx, res, model, a, sig, demos, inputs, base, err)
	}
	return nil
}

// checkCall returns the error Call gives before any LM call, if any.
func checkCall(model lm.LM, sig *signature.Signature, inputs Values) error {
	if model == nil {
		return lm.ErrNoLM
	}
	if sig.IsZero() {
		return errZeroSignature
	}
	return checkInputs(*sig, inputs)
}

// jsonFallback handles the error err of a's call, whose outcome res
// holds: when a is the Chat adapter with its JSON fallback on and err is a
// parse error, it makes the JSON call into res (usage of both summed);
// else it returns err. Kept out of line: the caller's frame is on the
// stack while the provider answers, and this one's locals need not be.
//
//go:noinline
func jsonFallback(ctx context.Context, res *Result, model lm.LM, a Adapter, sig *signature.Signature, demos []Values, inputs Values,
	base *lm.Request, err error) error {
	var pe *ParseError
	fallback, ok := jsonFallbackOf(a)
	if !ok || !errors.As(err, &pe) {
		return err
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(telemetry.EventFallback, trace.WithAttributes(telemetry.AttrErrorType.String("parse")))
	}
	// base may be &res.Request, the Chat call's request: its settings are
	// the ones that call copied from base, and the JSON call reads them
	// before it writes res.
	first := res.Usage
	err2 := CallInto(ctx, res, model, fallback, sig, demos, inputs, base) // JSON has no fallback of its own
	res.Usage = first.Add(res.Usage)
	res.Fallback = true
	if err2 != nil {
		return fmt.Errorf("adapter: JSON fallback failed after the chat reply did not parse (%w): %w", err, err2)
	}
	return nil
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
func applyCallSettings(req *lm.Request, base *lm.Request) {
	req.Model = base.Model
	req.Temperature = base.Temperature
	req.MaxTokens = base.MaxTokens
	req.N = base.N
	req.Stop = slices.Clone(base.Stop)
	req.Seed = base.Seed
	req.RolloutID = base.RolloutID
	req.NoCache = base.NoCache
}

// format replaces res with the request a formats, with the settings of
// base, or with the zero Result when a fails; it records the step
// (startStep). The caller has checked the inputs (checkCall).
//
//go:noinline
func format(ctx context.Context, res *Result, a Adapter, sig *signature.Signature, demos []Values, inputs Values, base *lm.Request) error {
	name := adapterName(a)
	span := startStep(ctx, telemetry.StepFormat, name)
	var req lm.Request
	var err error
	if p, ok := a.(*Prepared); ok {
		req, err = p.format(*sig, demos, inputs, true) // CallInto checked the inputs
	} else {
		req, err = a.Format(*sig, demos, inputs)
	}
	endStep(ctx, span, telemetry.StepFormat, name, err)
	if err != nil {
		*res = Result{}
		return err
	}
	applyCallSettings(&req, base) // before res is written: base may be &res.Request
	*res = Result{Request: req}
	return nil
}

// startStep starts the span "<step> <adapter>" of one step of a call
// when the telemetry in ctx asks for step spans (telemetry.StepSpans);
// else it returns nil, and endStep records only a failure, as an event of
// the span in ctx.
func startStep(ctx context.Context, step, adapter string) trace.Span {
	if !telemetry.StepSpans(ctx) {
		return nil
	}
	_, span := telemetry.Start(ctx, step, adapter)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrAdapter.String(adapter))
	}
	return span
}

// endStep ends the step startStep started, failed with err when it is
// not nil.
func endStep(ctx context.Context, span trace.Span, step, adapter string, err error) {
	if span != nil {
		telemetry.End(span, err)
		return
	}
	if err != nil {
		telemetry.StepFailed(trace.SpanFromContext(ctx), step, err, telemetry.AttrAdapter.String(adapter))
	}
}

// chatFailed handles the LM error err of res.Request: a provider that
// refuses the response format asked for gets the next weaker one
// (structured outputs, then a JSON object, then text). It returns nil when
// a retry succeeds, else the last error wrapped.
//
//go:noinline
func chatFailed(ctx context.Context, model lm.LM, res *Result, err error) error {
	for next, ok := responseFormatFallback(res.Request, err); ok; next, ok = responseFormatFallback(res.Request, err) {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent(telemetry.EventFallback, trace.WithAttributes(telemetry.AttrErrorType.String("response_format")))
		}
		res.Request = next
		var resp lm.Response
		if resp, err = model.Chat(ctx, res.Request); err == nil {
			res.Response, res.Usage = resp, resp.Usage
		}
	}
	if err != nil {
		return fmt.Errorf("adapter: LM call: %w", err)
	}
	return nil
}

// noChoices is the error of a response without choices.
//
//go:noinline
func noChoices() error {
	return fmt.Errorf("adapter: %w", lm.ErrNoChoices)
}

// parse parses every choice of res.Response into res.Outputs, recording
// the step (startStep).
//
//go:noinline
func parse(ctx context.Context, res *Result, a Adapter, sig *signature.Signature) error {
	name := adapterName(a)
	span := startStep(ctx, telemetry.StepParse, name)
	outs, err := parseChoices(a, *sig, res.Response.Choices)
	endStep(ctx, span, telemetry.StepParse, name, err)
	if err != nil {
		return err
	}
	res.Outputs = outs
	return nil
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
