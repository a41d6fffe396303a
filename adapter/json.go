package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unsafe"

	"github.com/dspex-go/dspex/lm"
	"github.com/dspex-go/dspex/schema"
	"github.com/dspex-go/dspex/signature"
)

// JSON is DSPy's JSON adapter: the prompt is the Chat adapter's with the
// reply structure shown as a JSON object, the request asks the provider for
// a JSON object (lm.FormatJSON), and the reply is parsed as the first JSON
// object it contains. See the package documentation for the exact wire
// format.
//
// The zero value is ready to use, with DSPy's JSONAdapter defaults (native
// function calling on, see WithNativeFunctionCalling); JSON is safe for
// concurrent use.
type JSON struct {
	opts options
}

// NewJSON returns a JSON adapter with the given options
// (WithNativeFunctionCalling).
func NewJSON(opts ...Option) JSON { return JSON{opts: newOptions(opts)} }

// maxCandidates bounds how many opening braces Parse tries before giving up,
// so that replies full of stray braces cost linear time.
const maxCandidates = 64

// Format builds the messages of one call, as Chat.Format does, with demo
// replies written as JSON objects. It sets ResponseFormat to lm.FormatJSON
// and Schema to the strict schema of the outputs (schema.Strict), which
// providers that support structured outputs send as response_format
// json_schema; without such support, or when an output is an open-ended
// dict, the request asks for a plain JSON object, and the reply is parsed
// from text either way.
func (j JSON) Format(sig signature.Signature, demos []Values, inputs Values) (lm.Request, error) {
	if sig.IsZero() {
		return lm.Request{}, errZeroSignature
	}
	if err := checkInputs(sig, inputs); err != nil {
		return lm.Request{}, err
	}
	return formatNative(j.opts.nativeOn(true), sig, inputs, func(sig signature.Signature) (lm.Request, error) {
		system, err := j.systemMessage(sig)
		if err != nil {
			return lm.Request{}, err
		}
		msgs, err := messages(sig, demos, inputs, system, j.reply, jsonRequirements(sig), j.opts.nativeOn(true))
		if err != nil {
			return lm.Request{}, err
		}
		return lm.Request{Messages: msgs, ResponseFormat: lm.FormatJSON, Schema: responseSchema(sig)}, nil
	})
}

// responseSchema is the strict schema of sig's outputs for providers that
// support structured outputs (see lm.OpenAIConfig.StructuredOutputs), or
// nil when an output is an open-ended dict, which a strict schema cannot
// describe: the provider is then asked for a plain JSON object, as DSPy's
// JSONAdapter does.
func responseSchema(sig signature.Signature) *lm.ResponseSchema {
	for _, f := range sig.Outputs() {
		// DSPy's JSONAdapter asks for a plain JSON object when the calls
		// are written as text: structured outputs did not serve them well.
		if f.Type.NonOptional().Kind == signature.ToolCallsKind {
			return nil
		}
	}
	s, err := schema.Strict(sig.Outputs())
	if err != nil {
		return nil
	}
	return &lm.ResponseSchema{Name: schema.OutputsName, Schema: schema.AppendPython(nil, s, false), Strict: true}
}

// responseFormatFallback returns req asking for the next weaker response
// format after the provider refused req's, as DSPy's JSONAdapter falls back
// from structured outputs to JSON mode (dspy/adapters/json_adapter.py
// __call__ at stanfordnlp/dspy 4ed377ee): a request carrying a Schema
// (response_format json_schema, strict) is sent again without it (a plain
// json_object), and a json_object request as plain text, whose reply Parse
// reads all the same. It reports false when err is not such a refusal (a
// 400 from the provider whose message names response_format) or req has
// nothing weaker to fall back to.
func responseFormatFallback(req lm.Request, err error) (lm.Request, bool) {
	if req.ResponseFormat != lm.FormatJSON || !refusesResponseFormat(err) {
		return req, false
	}
	if req.Schema != nil {
		req.Schema = nil
		return req, true
	}
	req.ResponseFormat = lm.FormatText
	return req, true
}

// refusesResponseFormat reports whether err is a provider's 400 naming
// response_format: the provider or model does not support the format asked.
func refusesResponseFormat(err error) bool {
	var pe *lm.ProviderError
	return errors.As(err, &pe) && pe.Status == http.StatusBadRequest && strings.Contains(pe.Error(), "response_format")
}

func (JSON) systemMessage(sig signature.Signature) (string, error) {
	outs := sig.Outputs()
	vals := make([]any, len(outs))
	for i, f := range outs {
		vals[i] = placeholder(f, true)
	}
	obj, err := indentedObject(outs, vals)
	if err != nil {
		return "", err
	}
	parts := []string{
		structureIntro,
		"Inputs will have the following structure:",
		fieldBlocks(sig.Inputs(), func(f signature.Field) string { return placeholder(f, false) }),
		"Outputs will be a JSON object with the following fields.",
		obj,
	}
	return systemMessage(sig, strings.TrimSpace(strings.Join(parts, "\n\n"))), nil
}

// jsonRequirements is the last paragraph of the final user message.
func jsonRequirements(sig signature.Signature) string {
	outs := sig.Outputs()
	names := make([]string, len(outs))
	for i, f := range outs {
		names[i] = "`" + f.Name + "`" + typeInfo(f)
	}
	return "Respond with a JSON object in the following order of fields: " + strings.Join(names, ", then ") + "."
}

// indentedObject writes a JSON object with the given keys in order, indented
// by two spaces like Python's json.dumps(indent=2).
func indentedObject(fs []signature.Field, vals []any) (string, error) {
	if len(fs) == 0 {
		return "{}", nil
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, f := range fs {
		compact, err := appendJSON(nil, vals[i], 0)
		if err != nil {
			return "", fmt.Errorf("adapter: output field %q: %w", f.Name, err)
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  ")
		b.Write(appendJSONString(nil, f.Name))
		b.WriteString(": ")
		if err := json.Indent(&b, compact, "  ", "  "); err != nil {
			return "", fmt.Errorf("adapter: output field %q: %w", f.Name, err)
		}
	}
	b.WriteString("\n}")
	return b.String(), nil
}

// FormatOutputs renders output values as an assistant reply in the JSON
// format: an indented JSON object holding the output fields present in
// outputs, in signature order. Fields absent from outputs, or nil, are left
// out.
func (j JSON) FormatOutputs(sig signature.Signature, outputs Values) (string, error) {
	kept := make(Values, len(outputs))
	for _, f := range sig.Outputs() {
		if v, ok := present(outputs, f.Name); ok {
			kept[f.Name] = v
		}
	}
	return j.reply(sig, kept, nil)
}

// reply renders a demo's outputs as DSPy's JSONAdapter does: an indented
// object with every output field, a field absent from outputs holding
// *missing (left out when missing is nil), a nil value as null.
func (JSON) reply(sig signature.Signature, outputs Values, missing *string) (string, error) {
	var (
		fs   []signature.Field
		vals []any
	)
	for _, f := range sig.Outputs() {
		v, ok := outputs[f.Name]
		if !ok {
			if missing == nil {
				continue
			}
			v = *missing
		}
		fs, vals = append(fs, f), append(vals, v)
	}
	return indentedObject(fs, vals)
}

// Parse extracts the output fields of sig from the first JSON object in a
// reply (text and Markdown fences around it are ignored) and coerces each to
// its type. Values may be JSON numbers, bools, arrays and objects, or strings
// holding them ("42" for an int field). Keys match the declared names
// exactly, or up to case when that is unambiguous; other keys are ignored.
//
// Errors are *ParseError: ErrEmptyCompletion, ErrNoJSONObject,
// ErrMissingField, or a value that cannot be coerced
// (errors.Is(err, ErrInvalidValue)).
func (JSON) Parse(sig signature.Signature, completion string) (Values, error) {
	if sig.IsZero() {
		return nil, errZeroSignature
	}
	if strings.TrimSpace(completion) == "" {
		return nil, &ParseError{Adapter: "json", Raw: completion, Err: ErrEmptyCompletion}
	}
	found, ok := findJSON(completion, '{', nil)
	if !ok {
		// A Python dict ({'answer': 'Paris', 'sure': True}), which DSPy
		// reads through json_repair.
		if py, changed := pythonToJSON(completion); changed {
			found, ok = findJSON(py, '{', nil)
		}
	}
	if !ok {
		return nil, &ParseError{Adapter: "json", Raw: completion, Err: ErrNoJSONObject}
	}
	obj := found.(map[string]any)
	out := make(Values, len(sig.Outputs()))
	for _, f := range sig.Outputs() {
		raw, ok := lookup(sig, f.Name, func(match nameMatch) (any, bool) {
			// Take the keys in a fixed order so that the choice between
			// keys equal up to case does not depend on map iteration.
			var best string
			found := false
			for k := range obj {
				if match.ok(k) && (!found || k < best) {
					best, found = k, true
				}
			}
			return obj[best], found
		})
		if !ok {
			if f.Type.Optional {
				out[f.Name] = nil
				continue
			}
			return nil, &ParseError{Adapter: "json", Field: f.Name, Raw: completion, Err: ErrMissingField}
		}
		v, err := coerceField(f.Type, raw)
		if err != nil {
			return nil, fieldError("json", f.Name, completion, jsonText(raw), err)
		}
		out[f.Name] = v
	}
	return out, nil
}

// coerceField converts the decoded value of a top-level field to t. Unlike
// nested values, a str field also takes an array or object, as its JSON
// text.
func coerceField(t signature.Type, v any) (any, error) {
	if t.Kind == signature.String && !t.Optional {
		switch v.(type) {
		case []any, map[string]any:
			b, err := appendJSON(nil, v, 0)
			if err != nil {
				return nil, err
			}
			return string(pythonSpacing(b)), nil
		}
	}
	return coerceJSON(t, v)
}

// jsonText returns a decoded value as text for error reports: strings as
// they are, anything else as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := appendJSON(nil, v, 0)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// findJSON returns the first JSON value in s that starts with open ('{' or
// '[') and decodes: it tries each opening bracket in turn, cuts the text at
// the matching closing bracket (skipping brackets inside strings), and
// decodes that, forgiving trailing commas.
//
// A candidate for which skip returns true is passed over; skip may be nil.
//
// The work is linear in len(s): a candidate is decoded only once it is
// known to be valid JSON (checked without copying it), a candidate with no
// trailing comma is never rewritten, and the bytes scanned over all
// candidates are capped by scanBudget, so that a reply of nested brackets
// (every bracket a candidate inside the previous one) costs a few passes
// over the text, not one per bracket.
func findJSON(s string, open byte, skip func(candidate string) bool) (any, bool) {
	budget := scanBudget(len(s))
	for i, tries := 0, 0; i < len(s) && tries < maxCandidates && budget > 0; i++ {
		j := strings.IndexByte(s[i:], open)
		if j < 0 {
			break
		}
		i += j
		tries++
		end, scanned := balancedEnd(s, i)
		budget -= scanned
		if end < 0 {
			continue
		}
		cand := s[i:end]
		if skip != nil && skip(cand) {
			continue
		}
		budget -= len(cand)
		if validJSON(cand) {
			if v, err := decodeJSON(cand); err == nil {
				return v, true
			}
			continue
		}
		if !hasTrailingComma(cand) || budget < 2*len(cand) {
			continue
		}
		budget -= 2 * len(cand)
		if fixed := dropTrailingCommas(cand); validJSON(fixed) {
			if v, err := decodeJSON(fixed); err == nil {
				return v, true
			}
		}
	}
	return nil, false
}

// scanBudget is how many bytes findJSON may scan over all candidates of a
// text of n bytes: a few passes over it.
func scanBudget(n int) int { return 8*n + 64<<10 }

// validJSON reports whether s is one valid JSON value, without copying it
// (json.Valid only reads its argument and keeps no reference to it).
func validJSON(s string) bool {
	if s == "" {
		return false
	}
	return json.Valid(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// balancedEnd returns the index just past the bracket that closes the one
// at s[start], or -1; and how many bytes it scanned. Brackets inside JSON
// strings do not count.
func balancedEnd(s string, start int) (end, scanned int) {
	depth := 0
	inString, escaped := false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1, i + 1 - start
			}
		}
	}
	return -1, len(s) - start
}

// hasTrailingComma reports whether s has a comma that directly precedes a
// closing bracket, outside strings: what dropTrailingCommas removes.
func hasTrailingComma(s string) bool { return trailingCommas(s, nil) }

// dropTrailingCommas removes commas that directly precede a closing bracket
// (outside strings), a common slip in LM-written JSON.
func dropTrailingCommas(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	trailingCommas(s, &b)
	return b.String()
}

// trailingCommas walks s outside its strings for commas that directly
// precede a closing bracket. Without b it stops at the first and reports
// it; with b it writes s to b without them and reports whether there were
// any.
func trailingCommas(s string, b *strings.Builder) bool {
	found := false
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		drop := false
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ',':
			k := i + 1
			for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') {
				k++
			}
			drop = k < len(s) && (s[k] == '}' || s[k] == ']')
		}
		if drop {
			found = true
			if b == nil {
				return true
			}
			continue
		}
		if b != nil {
			b.WriteByte(c)
		}
	}
	return found
}
